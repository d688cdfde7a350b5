#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Self-test for tfo-link: delay accuracy (ping, TCP connect, TCP Fast Open),
# loss, exit-status/timeout/signal handling, and that nothing is left behind.
#
# usage: selftest.sh [path/to/tfo-link]     (builds it with CMake if omitted)
# Needs root (network namespaces).  Installs iputils-ping if missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tol_ms=${TFO_LINK_TOLERANCE_MS:-0.5}
marker="tfo_link_selftest_$$"      # tags every child command so leftovers are findable
fails=0
passes=0

pass() { passes=$((passes + 1)); echo "PASS: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
# within A B TOL: |A-B| <= TOL
within() { python3 -c 'import sys; a,b,t=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=t else 1)' "$@"; }

if [ "$(id -u)" != 0 ]; then
    echo "selftest.sh: needs root (network namespaces, TUN)" >&2
    exit 1
fi

if [ $# -ge 1 ]; then
    link=$1
else
    build=${TFO_LINK_BUILD_DIR:-/tmp/tfo_link_selftest_build}
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTFO_BUILD_TESTS=OFF -DTFO_BUILD_EXAMPLES=OFF \
        -DTFO_BUILD_TOOLS=ON >/dev/null
    cmake --build "$build" -j2 --target tfo-link >/dev/null
    link=$build/tools/link/tfo-link
fi
[ -x "$link" ] || { echo "selftest.sh: no executable at $link" >&2; exit 1; }

if ! command -v ping >/dev/null 2>&1; then
    echo "selftest.sh: installing iputils-ping" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q iputils-ping >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q iputils-ping >/dev/null; }
fi

host_tfo_before=$(cat /proc/sys/net/ipv4/tcp_fastopen)

# ---- 1. ICMP round trip: ping's average must match the configured RTT
for rtt in 10 20 50; do
    out=$("$link" --rtt-ms "$rtt" --timeout-s 30 --server "exec sleep 60.$$ # $marker" \
        --client "ping -q -c 20 -i 0.05 -W 2 10.200.0.2") || { fail "ping rtt=$rtt: tfo-link failed"; continue; }
    stats=$(echo "$out" | sed -n 's|^rtt min/avg/max/mdev = \([^ ]*\) ms$|\1|p')
    avg=$(echo "$stats" | cut -d/ -f2)
    if [ -n "$avg" ] && within "$avg" "$rtt" "$tol_ms"; then
        pass "ping rtt=$rtt ms: min/avg/max/mdev = $stats ms"
    else
        fail "ping rtt=$rtt ms: got '${stats:-no output}' (tolerance $tol_ms ms)"
    fi
done

# ---- 2. TCP: connect() takes 1 RTT; request/response takes 2 RTT without
#         Fast Open and 1 RTT with a Fast Open cookie.
server_py='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 64)
s.bind(("0.0.0.0", 9000))
s.listen(64)
while True:
    c, _ = s.accept()
    if c.recv(16):
        c.sendall(b"y")
    c.close()
'
client_py='
import os, socket, statistics, time
addr = (os.environ["TFO_LINK_SERVER_ADDR"], 9000)
def conn():
    s = socket.socket(); t = time.perf_counter(); s.connect(addr)
    dt = time.perf_counter() - t; s.close(); return dt
def rr(fastopen):
    s = socket.socket(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = time.perf_counter()
    if fastopen:
        s.sendto(b"x", socket.MSG_FASTOPEN, addr)
    else:
        s.connect(addr); s.sendall(b"x")
    assert s.recv(1) == b"y"
    dt = time.perf_counter() - t; s.close(); return dt
ms = lambda xs: 1000 * statistics.median(xs)
c = ms([conn() for _ in range(10)])
p = ms([rr(False) for _ in range(5)])
first = 1000 * rr(True)                  # no cookie yet: falls back to a full handshake
tfo = ms([rr(True) for _ in range(5)])   # cookie cached: data rides on the SYN
print(f"connect={c:.3f} plain={p:.3f} tfo_first={first:.3f} tfo={tfo:.3f}")
'
rtt=20
if out=$("$link" --rtt-ms $rtt --timeout-s 30 --ready-port 9000 --ready-timeout-s 10 \
        --server "python3 -c '$server_py' $marker" --client "python3 -c '$client_py' $marker"); then
    connect='' plain='' tfo_first='' tfo=''
    eval "$(echo "$out" | tr ' ' '\n' | grep -E '^[a-z_]+=[0-9.]+$')"
    # Request/response timings also include the Python server waking up and
    # answering (0.1-0.5 ms on an idle VM), so they get 0.5 ms extra, and the
    # link error adds up per round trip.
    r2=$((2 * rtt))
    tol1=$(python3 -c "print($tol_ms + 0.5)")
    tol2=$(python3 -c "print(2 * $tol_ms + 0.5)")
    if within "$connect" $rtt "$tol_ms"; then pass "TCP connect at rtt=$rtt: median $connect ms"
    else fail "TCP connect at rtt=$rtt: median $connect ms"; fi
    if within "$plain" $r2 "$tol2"; then pass "TCP request/response without TFO: median $plain ms (2 RTT)"
    else fail "TCP request/response without TFO: median $plain ms, expected ~$r2"; fi
    if within "$tfo_first" $r2 "$tol2"; then pass "TFO first request (no cookie): $tfo_first ms (2 RTT)"
    else fail "TFO first request (no cookie): $tfo_first ms, expected ~$r2"; fi
    if within "$tfo" $rtt "$tol1"; then pass "TFO request/response with cookie: median $tfo ms (1 RTT)"
    else fail "TFO request/response with cookie: median $tfo ms, expected ~$rtt"; fi
    saved=$(python3 -c "print(f'{$plain - $tfo:.3f}')")
    if within "$saved" $rtt "$tol1"; then pass "TFO saves one round trip: $saved ms"
    else fail "TFO saved $saved ms, expected ~$rtt"; fi
else
    fail "TCP test: tfo-link failed: $out"
fi

# ---- 3. loss: 20% per direction loses ~36% of echo round trips
out=$("$link" --rtt-ms 5 --loss 0.2 --seed 7 --timeout-s 30 --server "exec sleep 60.$$ # $marker" \
    --client "ping -q -c 300 -i 0.01 -W 1 10.200.0.2" || true)
lossp=$(echo "$out" | sed -n 's|.* \([0-9.]*\)% packet loss.*|\1|p')
if [ -n "$lossp" ] && within "$lossp" 36 10; then pass "loss 0.2 per direction: ping lost $lossp% (expected ~36%)"
else fail "loss 0.2 per direction: ping lost '${lossp:-?}'% (expected ~36%)"; fi

# ---- 4. exit status, timeout, readiness failure, signals
rc=0; "$link" --rtt-ms 1 --server "exec sleep 60.$$ # $marker" --client 'exit 7' || rc=$?
[ $rc = 7 ] && pass "client exit status is propagated" || fail "client exit status: got $rc, want 7"

t0=$(date +%s%N); rc=0
"$link" --rtt-ms 1 --timeout-s 1 --server "exec sleep 60.$$ # $marker" \
    --client "exec sleep 61.$$ # $marker" 2>/dev/null || rc=$?
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $rc = 124 ] && [ $elapsed -lt 3000 ]; then
    pass "--timeout-s 1 kills both and exits 124 (after $elapsed ms)"
else fail "--timeout-s: rc=$rc after $elapsed ms"; fi

rc=0; err=$("$link" --rtt-ms 1 --ready-port 9 --ready-timeout-s 0.3 --server "exec sleep 60.$$ # $marker" \
    --client 'echo must-not-run' 2>&1) || rc=$?
if [ $rc != 0 ] && ! echo "$err" | grep -q must-not-run && echo "$err" | grep -q 'did not listen'; then
    pass "server that never listens fails clearly"
else fail "ready-port failure: rc=$rc out=$err"; fi

"$link" --rtt-ms 1 --server "exec sleep 60.$$ # $marker" --client "exec sleep 61.$$ # $marker" 2>/dev/null &
lpid=$!
sleep 0.3
kill -TERM $lpid
rc=0; wait $lpid || rc=$?
[ $rc = 143 ] && pass "SIGTERM to tfo-link stops the run (exit 143)" || fail "SIGTERM: rc=$rc"

# A server that daemonizes a grandchild: the PID namespace must reap it too.
rc=0; "$link" --rtt-ms 1 --server "setsid sleep 62.$$ & exec sleep 60.$$ # $marker" --client 'sleep 0.2' || rc=$?
[ $rc = 0 ] && pass "run with a daemonizing server" || fail "daemonizing server run: rc=$rc"

# ---- 5. nothing left behind, host untouched
sleep 0.2
left=$(pgrep -f "$marker|6[0-2]\\.$$" || true)
[ -z "$left" ] && pass "no processes left behind" || { fail "leftover processes: $left"; ps -fp $left || true; }
[ "$(cat /proc/sys/net/ipv4/tcp_fastopen)" = "$host_tfo_before" ] && [ ! -e /sys/class/net/tfo0 ] &&
    pass "host namespace untouched (tcp_fastopen=$host_tfo_before, no tfo0)" ||
    fail "host namespace was modified"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
