#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Fuzzes the two /proc parsers with libFuzzer (clang, with ASan and UBSan)
# for a bounded time each: scripts/fuzz.sh [seconds per target, default 30].
# Seeds come from this machine's own /proc files.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
tfo_packages+=(clang libclang-rt-14-dev)
tfo_setup

seconds=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for target in parse_netstat parse_sysctl; do
    clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -I "$tfo_root/include" "$tfo_root/test/fuzz/$target.cpp" \
        "$tfo_root/src/system.cpp" "$tfo_root/src/platform/linux/system.cpp" \
        "$tfo_root/src/platform/linux/multipath.cpp" "$tfo_root/src/error.cpp" -o "$work/$target"
    mkdir -p "$work/corpus-$target"
    cp /proc/net/netstat "$work/corpus-$target/netstat" 2>/dev/null || true
    cp /proc/sys/net/ipv4/tcp_fastopen "$work/corpus-$target/sysctl" 2>/dev/null || true
    echo "== fuzzing $target for ${seconds}s"
    status=0
    "$work/$target" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus-$target" \
        >"$work/$target.log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|ERROR|SUMMARY" "$work/$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$work/$target.log"
        echo "fuzz: $target found a failure (exit $status)" >&2
        exit 1
    fi
done
echo "fuzz: both parsers ran ${seconds}s each without a finding"
