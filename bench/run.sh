#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Builds and runs the tfo benchmarks, prints one summary table, and writes
#   bench/results/summary.csv    the table (benchmark,setting,variant,value,p99,unit,ratio,ratio_to,target,met,note)
#   bench/results/machine.txt    what it ran on
#   bench/results/*_raw.csv      every sample (not committed)
#   doc/images/latency.png       latency against RTT
#   doc/images/middlebox.png     latency per connection behind a middlebox
#   doc/images/destinations.png  time and system calls per connection against
#                                the number of distinct destinations
#
# Needs root (network namespaces, TUN). Installs what is missing with apt-get.
# Nothing leaves the machine: latency runs in two private namespaces joined by
# tools/link (tfo-link), rate, cost and destinations on the loopback of a private namespace.
#
# Environment:
#   TFO_BENCH_BUILD_DIR  build directory (default: build-bench in the repository)
#   TFO_BENCH_JOBS       parallel build jobs (default 2)
#   TFO_BENCH_QUICK=1    a short smoke run (few samples, numbers not meaningful)
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build=${TFO_BENCH_BUILD_DIR:-$repo/build-bench}
jobs=${TFO_BENCH_JOBS:-2}
results=$here/results
image=$repo/doc/images/latency.png
middlebox_image=$repo/doc/images/middlebox.png
destinations_image=$repo/doc/images/destinations.png

if [[ ${TFO_BENCH_QUICK:-0} == 1 ]]; then
    latency_reps=(10 10 5)   # at RTT 10, 20, 50 ms
    nginx_reps=(5 5 3)
    rate_args=(--slice 0.2 --rounds 2)
    cost_iterations=200
    destinations_args=(--quick)
else
    latency_reps=(200 200 100)
    nginx_reps=(50 50 30)
    rate_args=(--slice 0.5 --rounds 14)
    cost_iterations=1000
    destinations_args=(--destinations 100,1000,10000,100000 --passes 3)
fi
rtts=(10 20 50)

say() { printf '\n== %s\n' "$*" >&2; }

if [[ $(id -u) != 0 ]]; then
    echo "run.sh: needs root (network namespaces and TUN devices)" >&2
    exit 1
fi

# --- what the run needs -----------------------------------------------------
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
[[ -f /usr/include/boost/asio.hpp ]] || missing+=(libboost-dev)
[[ -f /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
command -v openssl >/dev/null || missing+=(openssl)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v strace >/dev/null || missing+=(strace)
command -v valgrind >/dev/null || missing+=(valgrind)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v nft >/dev/null || missing+=(nftables)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- build --------------------------------------------------------------------
say "building in $build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null

mkdir -p "$results" "$(dirname "$image")"
rm -f "$results"/*_raw.csv "$results"/cost_strace.txt
summary=$results/summary.csv
echo "benchmark,setting,variant,value,p99,unit,ratio,ratio_to,target,met,note" >"$summary"

machine="$(nproc)-vCPU VM, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
{
    echo "machine: $machine"
    echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "compiler: $(g++ --version | head -1)"
    echo "boost: $(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp)"
    echo "openssl: $(openssl version)"
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results/machine.txt"

# --- 1. latency over the emulated link ---------------------------------------
# A throwaway certificate, made now and removed at exit: no key is shipped.
certs=$(mktemp -d)
trap 'rm -rf "$certs"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=tfo-bench -addext subjectAltName=DNS:tfo-bench \
    -keyout "$certs/key.pem" -out "$certs/cert.pem" 2>/dev/null

echo "rtt_ms,variant,rep,latency_ms,syn_data_acked" >"$results/latency_raw.csv"
for i in "${!rtts[@]}"; do
    rtt=${rtts[$i]}
    say "latency at RTT $rtt ms, ${latency_reps[$i]} reps of 11 variants"
    "$build/tools/link/tfo-link" --rtt-ms "$rtt" --ready-port 8080 --timeout-s 300 \
        --server "'$build/latency' --mode server --port 8080 --tls-port 8443 --cert '$certs/cert.pem' --key '$certs/key.pem'" \
        --client "'$build/latency' --mode client --port 8080 --tls-port 8443 --ca '$certs/cert.pem' --reps ${latency_reps[$i]} --raw '$results/latency_raw.csv'" \
        >>"$summary"
done

# --- 1b. middleboxes over the emulated link (issue 9) ---------------------------
say "middleboxes at RTT 20 ms: 3 scenarios x 3 variants x 20 connections"
echo "scenario,variant,connection,latency_ms,syn_data_acked" >"$results/middlebox_raw.csv"
"$build/tools/link/tfo-link" --rtt-ms 20 --ready-port 8090 --timeout-s 600 \
    --server "'$build/middlebox' --mode server --port 8090" \
    --client "'$build/middlebox' --mode client --port 8090 --rtt-ms 20 --raw '$results/middlebox_raw.csv'" \
    >>"$summary"

# --- 1c. HTTPS against nginx itself over the emulated link (issue 11) -----------
# nginx in the server's namespace, with Fast Open and early data; its answer
# says whether it processed the GET as early data ($ssl_early_data).
mkdir -p "$certs/nginx"
sed -e "s|@DIR@|$certs/nginx|g" -e "s|@LISTEN@|8443|" -e "s|@CERT@|$certs/cert.pem|" -e "s|@KEY@|$certs/key.pem|" \
    "$repo/test/support/nginx_early_data.conf" >"$certs/nginx.conf"
echo "variant,rep,latency_ms,syn_data_acked,early_accepted,nginx_early" >"$results/nginx_https_raw.csv"
for i in "${!rtts[@]}"; do
    rtt=${rtts[$i]}
    say "HTTPS against nginx at RTT $rtt ms, ${nginx_reps[$i]} reps of 5 variants"
    "$build/tools/link/tfo-link" --rtt-ms "$rtt" --ready-port 8443 --timeout-s 300 \
        --server "nginx -e '$certs/nginx/error.log' -p '$certs/nginx' -c '$certs/nginx.conf'" \
        --client "'$build/nginx_https' --port 8443 --ca '$certs/cert.pem' --rtt-ms $rtt --reps ${nginx_reps[$i]} --raw '$results/nginx_https_raw.csv'" \
        >>"$summary"
done

# --- 2. connection rate on loopback -------------------------------------------
say "connection rate: ${rate_args[3]} rounds of 5 variants x ${rate_args[1]} s, windows 1 and 8"
echo "window,round,variant,completed,seconds,conn_per_s,client_cpu_us_per_conn,syn_data_acked_fraction,errors" \
    >"$results/rate_raw.csv"
"$build/rate" "${rate_args[@]}" --windows 1,8 --raw "$results/rate_raw.csv" >>"$summary"

# --- 3. cost per operation ------------------------------------------------------
say "cost per operation: heap allocations, system calls under strace, instructions under callgrind"
"$build/cost" --iterations "$cost_iterations" >>"$summary"
strace -f -qq -o "$results/cost_strace.txt" "$build/cost" --markers --iterations 200
"$build/cost" --parse-strace "$results/cost_strace.txt" >>"$summary"
"$build/cost" --instructions --iterations 200 >>"$summary"

# --- 4. many destinations (issue 20) ----------------------------------------------
say "distinct destinations: ${destinations_args[*]}; time, then system calls under strace, per variant"
"$build/destinations" "${destinations_args[@]}" --raw "$results/destinations_raw.csv" >>"$summary"
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/machine.txt"

# --- the table -------------------------------------------------------------------
say "results ($machine)"
awk -F, 'NR == 1 { print "| " $1 " | " $2 " | " $3 " | median | p99 | unit | ratio | to | target | met | note |";
                   print "|---|---|---|---:|---:|---|---:|---|---|---|---|"; next }
         { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' \
    "$summary"
echo "(cost rows: 'median' is the exact mean per operation)"

# --- the plot ----------------------------------------------------------------------
plot_data=$results/latency_plot.dat
awk -F, '$1 == "latency" { sub(/^rtt_/, "", $2); sub(/ms$/, "", $2); v[$2 "," $3] = $4; r[$2] = 1 }
         END { print "# rtt asio tfo_async tfo_option tls_asio tls_tfo_async tls_tfo_option tls_resume tls_early tls_early_tfo";
               n = split("asio tfo_async tfo_option tls_asio tls_tfo_async tls_tfo_option tls_resume tls_early tls_early_tfo", names, " ");
               for (rtt in r) { line = rtt; for (i = 1; i <= n; ++i) line = line " " v[rtt "," names[i]]; print line } }' \
    "$summary" | sort -n >"$plot_data"
gnuplot -e "data='$plot_data'; output='$image'; machine='$machine'" "$here/latency.gp"

middlebox_data=$results/middlebox_plot.dat
awk -F, '$1 == "drop_syn_data" { v[$3 "," $2] = $4; n[$3] = 1 }
         END { print "# connection kernel memory hedge";
               for (c in n) print c, v[c ",kernel"], v[c ",memory"], v[c ",hedge"] }' \
    "$results/middlebox_raw.csv" | sort -n >"$middlebox_data"
gnuplot -e "data='$middlebox_data'; output='$middlebox_image'; machine='$machine'" "$here/middlebox.gp"
destinations_data=$results/destinations_plot.dat
awk -F, '$1 == "destinations" { split($2, a, "_"); n = substr(a[1], 2); key = a[2] "_" a[3];
                                 if (a[3] == "syscalls" && a[2] != "pass1") key = "last_syscalls";
                                 v[n "," key "," $3] = $4; sizes[n] = 1 }
         function get(k) { return (k in v) ? v[k] : "NaN" }
         END { print "# n, then for tfo tfo-nomemory asio: steady_us pass1_us last_syscalls pass1_syscalls";
               split("tfo tfo-nomemory asio", names, " ");
               for (n in sizes) { line = n;
                   for (i = 1; i <= 3; ++i)
                       line = line " " get(n ",steady_time," names[i]) " " get(n ",pass1_time," names[i]) \
                              " " get(n ",last_syscalls," names[i]) " " get(n ",pass1_syscalls," names[i]);
                   print line } }' \
    "$summary" | sort -n >"$destinations_data"
gnuplot -e "data='$destinations_data'; output='$destinations_image'; machine='$machine'" "$here/destinations.gp"
say "wrote $summary, $results/machine.txt, $image, $middlebox_image and $destinations_image"
