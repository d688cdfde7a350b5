#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Smoke test of the examples: runs one scenario in a private network namespace
# and checks the kernel's evidence of TCP Fast Open, not only the replies.
#
#   run_in_netns.sh <scenario>
#
# A scenario is one of the scenario_* functions at the end; test/examples/CMakeLists.txt
# holds the list and registers each as a test. The programs come from the
# environment, set there: ECHO_SERVER CORO_CLIENT DEFERRED_CONNECT_CLIENT
# THREADED_SERVER HTTP_SERVER HTTP_CLIENT TLS_SERVER TLS_CLIENT HTTPS_CLIENT
# MULTIPATH_SERVER MULTIPATH_CLIENT, and
# TFO_DOCTOR, whose --json output gives the namespace's counters. Exit status: 0 passed, 1 failed, 77 skipped
# because no network namespace could be made (with TFO_REQUIRE_NETNS=1 that
# is a failure).
#
# Everything, including net.ipv4.tcp_fastopen, happens inside the namespace:
# the host's settings are never touched and traffic never leaves loopback.
set -euo pipefail

scenario=${1:?usage: run_in_netns.sh <scenario>}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    [[ ${TFO_REQUIRE_NETNS:-0} == 1 ]] && fail "$* (TFO_REQUIRE_NETNS=1)"
    echo "SKIP: $*"
    exit 77
}

# Enter a fresh network namespace by running this script again inside one.
if [[ -z ${TFO_EXAMPLE_HOST_NETNS:-} ]]; then
    TFO_EXAMPLE_HOST_NETNS=$(readlink /proc/self/ns/net)
    export TFO_EXAMPLE_HOST_NETNS
    if [[ $(id -u) -eq 0 ]] && unshare --net true 2>/dev/null; then
        exec unshare --net -- "$BASH" "$0" "$@"
    elif unshare --user --map-root-user --net true 2>/dev/null; then
        exec unshare --user --map-root-user --net -- "$BASH" "$0" "$@"
    fi
    skip "cannot create a network namespace (needs root, or unprivileged user namespaces)"
fi
# Guards the sysctl writes below: they must never reach the host's namespace.
[[ $(readlink /proc/self/ns/net) != "$TFO_EXAMPLE_HOST_NETNS" ]] || fail "still in the host's network namespace"

ip link set lo up || skip "cannot bring up lo in the namespace"
workdir=$(mktemp -d)
server_pid=

cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM # so that cleanup runs on a timeout too

# net.ipv4.tcp_fastopen of this namespace: 1 client, 2 server, 3 both.
set_fastopen() {
    echo "$1" >/proc/sys/net/ipv4/tcp_fastopen 2>/dev/null || skip "cannot set net.ipv4.tcp_fastopen in the namespace"
    echo "== net.ipv4.tcp_fastopen=$1"
}

# The namespace's Fast Open and Multipath TCP counters, as tfo-doctor reads
# them with the library (tfo::kernel_counters, tfo::kernel_multipath_counters):
# one JSON object, keyed by member name (active, active_fail, passive,
# passive_fail, cookie_reqd, ..., capable_syn_tx, capable_syn_rx, ...).
counters() {
    local json
    json=$("$TFO_DOCTOR" --json --no-self-test || true)
    jq -ce '(.counters | objects) + (.mptcp_counters // {})' <<<"$json" || fail "tfo-doctor gave no counters: $json"
}

before='{}'
snapshot() {
    before=$(counters)
}

# require_counter <name> <test operator> <value>: checks how much a counter
# moved since the last snapshot.
require_counter() {
    local delta
    delta=$(jq -n --argjson a "$(counters)" --argjson b "$before" --arg name "$1" '$a[$name] - $b[$name]')
    test "$delta" "$2" "$3" || fail "$1 went up by $delta, expected $2 $3"
    echo "ok: $1 +$delta ($2 $3)"
}

# require_lines <file> <pattern> <count>: exactly <count> lines match.
require_lines() {
    local n
    n=$(grep -c -- "$2" "$1" || true)
    [[ $n -eq $3 ]] || fail "$(basename "$1"): $n lines match '$2', expected $3"
    echo "ok: $(basename "$1"): $n x '$2'"
}

# start_server <port> <program> <args...>: starts it in the background and
# waits, at most 10 s, until it listens.
start_server() {
    local port=$1 i
    shift
    timeout 30 "$@" >"$workdir/server.log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 200; i++)); do
        if [[ -n $(ss -Hltn "sport = :$port") ]]; then return 0; fi
        kill -0 "$server_pid" 2>/dev/null || { cat "$workdir/server.log"; fail "the server exited before listening"; }
        sleep 0.05
    done
    fail "the server did not listen on port $port within 10 s"
}

# Waits for a server started with --max-connections to exit by itself.
finish_server() {
    local status=0
    wait "$server_pid" || status=$?
    server_pid=
    sed 's/^/server: /' "$workdir/server.log"
    [[ $status -eq 0 ]] || fail "the server exited with status $status"
}

# run_client <program> <args...>: must succeed within 20 s.
run_client() {
    local status=0
    timeout 20 "$@" >"$workdir/client.log" 2>&1 || status=$?
    sed 's/^/client: /' "$workdir/client.log"
    [[ $status -eq 0 ]] || fail "the client exited with status $status"
}

make_certificate() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$workdir/key.pem" -out "$workdir/cert.pem" 2>"$workdir/openssl.log" ||
        { cat "$workdir/openssl.log"; fail "openssl could not make a test certificate"; }
}

# The first connection asks for a cookie; the next <n> - 1 carry data in the SYN.
require_cookie_then_fast_open() {
    local n=$1
    require_counter cookie_reqd -ge 1
    require_counter active -ge $((n - 1))
    require_counter passive -ge $((n - 1))
    require_counter active_fail -eq 0
    require_counter passive_fail -eq 0
}

# Fast Open did not happen, and nothing failed trying.
require_no_fast_open() {
    require_counter active -eq 0
    require_counter passive -eq 0
    require_counter active_fail -eq 0
    require_counter passive_fail -eq 0
}

port=7000

scenario_echo_tfo() {
    set_fastopen 3
    snapshot
    start_server $port "$ECHO_SERVER" $port --max-connections 3
    run_client "$CORO_CLIENT" 127.0.0.1 $port "hello tfo" --count 3
    finish_server
    require_cookie_then_fast_open 3
    require_lines "$workdir/client.log" 'reply "hello tfo"' 3
    require_lines "$workdir/client.log" '^connection 1 .*request in SYN: no (cookie unavailable)' 1
    require_lines "$workdir/client.log" 'request in SYN: yes' 2
    require_lines "$workdir/server.log" 'data in SYN: yes' 2
}

scenario_echo_fallback() {
    # A listener without the option: the client asks for a cookie and never gets one.
    set_fastopen 3
    snapshot
    start_server $port "$ECHO_SERVER" $port --max-connections 2 --no-fast-open
    run_client "$CORO_CLIENT" 127.0.0.1 $port "hello tfo" --count 2
    finish_server
    require_no_fast_open
    require_lines "$workdir/client.log" 'reply "hello tfo", request in SYN: no' 2
    require_lines "$workdir/server.log" 'data in SYN: no' 2

    # The option, on a kernel whose server side is off (Linux's default, 1).
    set_fastopen 1
    snapshot
    start_server $port "$ECHO_SERVER" $port --max-connections 2
    run_client "$CORO_CLIENT" 127.0.0.1 $port "hello tfo" --count 2
    finish_server
    require_no_fast_open
    require_lines "$workdir/client.log" 'reply "hello tfo", request in SYN: no' 2
}

scenario_echo_deferred_connect() {
    # The option's example: the first write carries the message in the SYN.
    set_fastopen 3
    snapshot
    start_server $port "$ECHO_SERVER" $port --max-connections 3
    run_client "$DEFERRED_CONNECT_CLIENT" 127.0.0.1 $port "hello tfo" --count 3
    finish_server
    require_cookie_then_fast_open 3
    require_lines "$workdir/client.log" 'reply "hello tfo"' 3
    require_lines "$workdir/client.log" 'request in SYN: yes' 2
    require_lines "$workdir/server.log" 'data in SYN: yes' 2
}

scenario_threaded_tfo() {
    # Six connections spread over four listeners: a cookie from one listener
    # must be accepted by the others.
    set_fastopen 3
    snapshot
    start_server $port "$THREADED_SERVER" $port --threads 4 --max-connections 6
    run_client "$CORO_CLIENT" 127.0.0.1 $port "hello tfo" --count 6
    finish_server
    require_cookie_then_fast_open 6
    require_lines "$workdir/client.log" 'reply "hello tfo"' 6
    require_lines "$workdir/client.log" 'request in SYN: yes' 5
    require_lines "$workdir/server.log" 'data in SYN: yes' 5
    echo "listeners used: $(grep -o '^listener [0-9]*' "$workdir/server.log" | sort -u | tr '\n' ' ')"
}

scenario_http_tfo() {
    set_fastopen 3
    snapshot
    start_server $port "$HTTP_SERVER" $port --max-connections 3
    run_client "$HTTP_CLIENT" 127.0.0.1 $port / --count 3
    finish_server
    require_cookie_then_fast_open 3
    require_lines "$workdir/client.log" '200 OK, body "hello from tfo http_server"' 3
    require_lines "$workdir/client.log" 'request in SYN: yes' 2
    require_lines "$workdir/server.log" 'GET / .*request in SYN: yes' 2
}

scenario_http_fallback() {
    set_fastopen 3
    snapshot
    start_server $port "$HTTP_SERVER" $port --max-connections 2 --no-fast-open
    run_client "$HTTP_CLIENT" 127.0.0.1 $port / --count 2
    finish_server
    require_no_fast_open
    require_lines "$workdir/client.log" '200 OK, body "hello from tfo http_server", request in SYN: no' 2

    # A kernel whose client side is off: an ordinary connect, no cookie asked for.
    set_fastopen 2
    snapshot
    start_server $port "$HTTP_SERVER" $port --max-connections 2
    run_client "$HTTP_CLIENT" 127.0.0.1 $port / --count 2
    finish_server
    require_no_fast_open
    require_counter cookie_reqd -eq 0
    require_lines "$workdir/client.log" '200 OK, body "hello from tfo http_server", request in SYN: no' 2
}

scenario_http_plain_client() {
    # An ordinary client, bash's /dev/tcp, against the fast-open server.
    set_fastopen 3
    snapshot
    start_server $port "$HTTP_SERVER" $port --max-connections 1
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
        timeout 20 cat <&3
    ) >"$workdir/client.log" || fail "the plain client failed"
    sed 's/^/client: /' "$workdir/client.log"
    finish_server
    require_no_fast_open
    require_lines "$workdir/client.log" '^HTTP/1.1 200 OK' 1
    require_lines "$workdir/client.log" '^hello from tfo http_server$' 1
    require_lines "$workdir/server.log" 'request in SYN: no' 1
}

scenario_tls_tfo() {
    make_certificate
    set_fastopen 3
    snapshot
    start_server $port "$TLS_SERVER" $port "$workdir/cert.pem" "$workdir/key.pem" --max-connections 3
    run_client "$TLS_CLIENT" localhost $port "$workdir/cert.pem" "hello tfo" --count 3
    finish_server
    require_cookie_then_fast_open 3
    require_lines "$workdir/client.log" 'TLSv1.3, reply "echo: hello tfo"' 3
    require_lines "$workdir/client.log" 'ClientHello in SYN: yes' 2
    require_lines "$workdir/server.log" 'ClientHello in SYN: yes' 2
}

scenario_tls_fallback() {
    make_certificate
    set_fastopen 3
    snapshot
    start_server $port "$TLS_SERVER" $port "$workdir/cert.pem" "$workdir/key.pem" --max-connections 2 --no-fast-open
    run_client "$TLS_CLIENT" localhost $port "$workdir/cert.pem" "hello tfo" --count 2
    finish_server
    require_no_fast_open
    require_lines "$workdir/client.log" 'reply "echo: hello tfo", ClientHello in SYN: no' 2

    # A kernel whose client side is off: the stream connects the ordinary way.
    set_fastopen 2
    snapshot
    start_server $port "$TLS_SERVER" $port "$workdir/cert.pem" "$workdir/key.pem" --max-connections 2
    run_client "$TLS_CLIENT" localhost $port "$workdir/cert.pem" "hello tfo" --count 2
    finish_server
    require_no_fast_open
    require_counter cookie_reqd -eq 0
    require_lines "$workdir/client.log" 'reply "echo: hello tfo", ClientHello in SYN: no' 2
}

scenario_tls_plain_client() {
    # An ordinary TLS client, openssl s_client, against the fast-open server.
    make_certificate
    set_fastopen 3
    snapshot
    start_server $port "$TLS_SERVER" $port "$workdir/cert.pem" "$workdir/key.pem" --max-connections 1
    run_client openssl s_client -connect "127.0.0.1:$port" -servername localhost -verify_hostname localhost \
        -CAfile "$workdir/cert.pem" -verify_return_error -tls1_3 -quiet <<<"hello tfo"
    finish_server
    require_no_fast_open
    require_lines "$workdir/client.log" '^echo: hello tfo$' 1
    require_lines "$workdir/server.log" 'ClientHello in SYN: no, got "hello tfo"' 1
}

scenario_tls_early_data() {
    # Our server's early data, from a client no one here wrote: openssl
    # s_client resuming a saved session. A GET that came early is answered
    # before the handshake completes; a line that is not safe to repeat is
    # answered 425 and read again after the handshake.
    make_certificate
    set_fastopen 3
    start_server $port "$TLS_SERVER" $port "$workdir/cert.pem" "$workdir/key.pem" --max-connections 3
    s_client() {
        local name=$1 status=0
        shift
        timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$workdir/cert.pem" \
            -verify_return_error -tls1_3 -ign_eof "$@" >"$workdir/$name.log" 2>&1 || status=$?
        grep -E '^(Early data|echo|425|Verification|Reused|New)' "$workdir/$name.log" | sed "s/^/$name: /" || true
        [[ $status -eq 0 ]] || fail "s_client ($name) exited with status $status"
    }
    printf 'GET /first\n' >"$workdir/first.txt"
    printf 'GET /early\n' >"$workdir/early.txt"
    printf 'POST /order\n' >"$workdir/unsafe.txt"
    # Each ticket is used once (OpenSSL's anti-replay): every run saves a new one.
    s_client first -sess_out "$workdir/one.pem" <"$workdir/first.txt"
    s_client early -sess_in "$workdir/one.pem" -sess_out "$workdir/two.pem" -early_data "$workdir/early.txt" </dev/null
    s_client unsafe -sess_in "$workdir/two.pem" -early_data "$workdir/unsafe.txt" <"$workdir/unsafe.txt"
    finish_server
    require_lines "$workdir/early.log" '^Early data was accepted' 1
    require_lines "$workdir/early.log" '^echo: GET /early$' 1
    require_lines "$workdir/unsafe.log" '^Early data was accepted' 1
    require_lines "$workdir/unsafe.log" '^425 too early$' 1
    require_lines "$workdir/unsafe.log" '^echo: POST /order$' 1
    require_lines "$workdir/server.log" 'got "GET /first", early data: no early data' 1
    require_lines "$workdir/server.log" 'got "GET /early", early data: answered early' 1
    require_lines "$workdir/server.log" 'got "POST /order", early data: refused early (425)' 1
}

scenario_https_nginx() {
    # Beast over asio::ssl over the fast-open stream (example/https_client),
    # against nginx: from the second connection on, the GET goes as early
    # data with the ClientHello, in the SYN, and nginx accepts it.
    command -v nginx >/dev/null || fail "no nginx (scripts/setup.sh installs nginx-light)"
    make_certificate
    set_fastopen 3
    mkdir -p "$workdir/nginx"
    sed -e "s|@DIR@|$workdir/nginx|g" -e "s|@LISTEN@|127.0.0.1:$port|" \
        -e "s|@CERT@|$workdir/cert.pem|" -e "s|@KEY@|$workdir/key.pem|" \
        "$(dirname "$0")/../support/nginx_early_data.conf" >"$workdir/nginx.conf"
    snapshot
    start_server $port nginx -e "$workdir/nginx/error.log" -p "$workdir/nginx" -c "$workdir/nginx.conf"
    run_client "$HTTPS_CLIENT" 127.0.0.1 $port "$workdir/cert.pem" /hello --count 3
    require_cookie_then_fast_open 3
    require_lines "$workdir/client.log" '^connection 1: HTTP 200, early data not attempted (no ticket), in SYN: no' 1
    require_lines "$workdir/client.log" '^connection [23]: HTTP 200, early data accepted, .*, in SYN: yes' 2
    # nginx's own flag ($ssl_early_data: 1 while the handshake is not complete)
    # depends on whether it handles the GET before the client's Finished
    # arrives, microseconds later on loopback: printed, not asserted here.
    # test/netns/ssl_peers.cpp (a late Finished) and bench/nginx_https (a
    # real round trip) assert it.
    require_lines "$workdir/client.log" '^early=1\{0,1\} uri=/hello$' 3
}

scenario_multipath_tfo() {
    # Multipath TCP at both ends, and from the second connection on the
    # request in the SYN of an MPTCP connection.
    set_fastopen 3
    snapshot
    start_server $port "$MULTIPATH_SERVER" $port --max-connections 3
    run_client "$MULTIPATH_CLIENT" 127.0.0.1 $port "hello mptcp" --count 3
    finish_server
    require_cookie_then_fast_open 3
    require_counter capable_syn_tx -eq 3
    require_counter capable_syn_rx -eq 3
    require_counter capable_fallback_syn_ack -eq 0
    require_lines "$workdir/server.log" 'with TCP Fast Open, on Multipath TCP$' 1
    require_lines "$workdir/client.log" 'reply "hello mptcp", Multipath TCP: yes, 1 subflow(s)' 3
    require_lines "$workdir/client.log" '^connection [23] .*request in SYN: yes' 2
    require_lines "$workdir/server.log" 'Multipath TCP: yes, 1 subflow(s), data in SYN: yes' 2
}

scenario_multipath_fallback() {
    set_fastopen 3
    # A TCP server: the kernel falls back, the client says so, and Fast Open
    # works as ever.
    snapshot
    start_server $port "$ECHO_SERVER" $port --max-connections 2
    run_client "$MULTIPATH_CLIENT" 127.0.0.1 $port "hello mptcp" --count 2
    finish_server
    require_counter capable_syn_tx -eq 2
    require_counter capable_fallback_syn_ack -eq 2
    require_cookie_then_fast_open 2
    require_lines "$workdir/client.log" 'Multipath TCP: no (the server speaks TCP only)' 2

    # A TCP client at the Multipath TCP server.
    snapshot
    start_server $port "$MULTIPATH_SERVER" $port --max-connections 2
    run_client "$CORO_CLIENT" 127.0.0.1 $port "hello mptcp" --count 2
    finish_server
    require_counter capable_syn_rx -eq 0
    require_counter active -eq 2
    require_lines "$workdir/server.log" 'Multipath TCP: no (a TCP client), data in SYN: yes' 2

    # Multipath TCP switched off in the namespace: both ends say why and use TCP.
    echo 0 >/proc/sys/net/mptcp/enabled || fail "cannot set net.mptcp.enabled in the namespace"
    snapshot
    start_server $port "$MULTIPATH_SERVER" $port --max-connections 2
    run_client "$MULTIPATH_CLIENT" 127.0.0.1 $port "hello mptcp" --count 2
    finish_server
    require_counter capable_syn_tx -eq 0
    require_counter active -eq 2
    require_lines "$workdir/server.log" 'on TCP: Multipath TCP is switched off in this network namespace' 1
    require_lines "$workdir/client.log" 'Multipath TCP: no (Multipath TCP is switched off in this network namespace' 2
}

[[ $(type -t "scenario_$scenario") == function ]] || fail "unknown scenario: $scenario"
"scenario_$scenario"
echo "PASS: $scenario"
