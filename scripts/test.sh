#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Builds tfo and runs every test: unit tests, real TCP Fast Open in private
# network namespaces (including the load and fault tests), the examples, and
# the CMake consumer projects.
#
#   scripts/test.sh              the default run (about 10 minutes on 2 cores
#                                from a fresh clone; about 90 s after an edit
#                                to one test file, ccache having seen the rest)
#   scripts/test.sh --sanitize   the whole suite under AddressSanitizer + UBSan
#   scripts/test.sh --tsan       the multi-threaded tests under ThreadSanitizer
#   scripts/test.sh --windows    a mingw-w64 build, its tests run under Wine
#   CI=true scripts/test.sh      all of the above, plus the benchmarks built, the
#                                namespace and example tests as an unprivileged
#                                user, a build and test against the newest
#                                Boost.Asio (third_party/), the namespace tests
#                                on Asio's io_uring backend, and the parser fuzzers
#
# The namespace tests never touch the host's settings. As root (and in CI)
# they must run: TFO_REQUIRE_NETNS=1 turns a would-be skip into a failure.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
tfo_setup

mode=${1:-default}
if [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = "true" ]; then
    export TFO_REQUIRE_NETNS=1
fi

# How long each phase took, printed at the end (also after a failure), so
# that a slower build or suite shows.
tfo_phases=()
tfo_phase=""
phase() {
    # The command runs as any other line here: under set -e a failure ends
    # the script, and the EXIT trap reports the phase it ended in.
    tfo_phase=$1
    local start=$SECONDS
    shift
    "$@"
    tfo_phases+=("$(printf '%-40s %5d s' "$tfo_phase" $((SECONDS - start)))")
    tfo_phase=""
}
print_phases() {
    [ -n "$tfo_phase" ] && tfo_phases+=("$(printf '%-40s FAILED' "$tfo_phase")")
    [ ${#tfo_phases[@]} -eq 0 ] && return
    echo "== time per phase"
    printf '   %s\n' "${tfo_phases[@]}"
    printf '   %-40s %5d s\n' "total" "$SECONDS"
}
trap print_phases EXIT

run_suite() {
    local name=$1 dir=$2
    shift 2
    phase "$name: configure" tfo_configure "$dir" "$@"
    phase "$name: build" cmake --build "$dir" -j2
    phase "$name: test" bash -c 'cd "$1" && ctest --output-on-failure --timeout 900 -j2' _ "$dir"
}

sanitized_suite() {
    echo "== the whole suite under ASan + UBSan"
    run_suite "ASan + UBSan" "$tfo_root/build-sanitize" -DTFO_SANITIZE=address,undefined
}

thread_sanitized_tests() {
    echo "== the multi-threaded tests under TSan"
    local dir="$tfo_root/build-tsan"
    phase "TSan: configure" tfo_configure "$dir" -DTFO_SANITIZE=thread -DTFO_BUILD_EXAMPLES=OFF -DTFO_BUILD_TOOLS=OFF
    phase "TSan: build" cmake --build "$dir" -j2 --target tfo_connect_tests tfo_stream_tests tfo_unit_tests
    phase "TSan: test" bash -c 'cd "$1" && ctest --output-on-failure --timeout 900 -R "^(netns_threads|netns_connect_cancellation|netns_connect_tokens|netns_connect_hedge|netns_fast_open_stream|netns_stream_.*|unit_path_memory)$"' _ "$dir"
}

consumer_projects() {
    local prefix
    prefix=$(mktemp -d)
    trap 'rm -rf "$prefix"; trap - RETURN' RETURN
    echo "== find_package(tfo) after cmake --install"
    cmake --install "$tfo_root/build" --prefix "$prefix/install" >/dev/null
    test -x "$prefix/install/bin/tfo-doctor"
    # Clean build trees, compiled through ccache when it is there (a second
    # run finds the library's objects in the cache).
    local launcher=()
    if command -v ccache >/dev/null; then
        launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
        export CCACHE_BASEDIR=$tfo_root CCACHE_NOHASHDIR=1
    fi
    cmake -S "$tfo_root/test/cmake_install" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix/install" \
        "${launcher[@]}" >/dev/null
    cmake --build "$prefix/consumer" -j2 >/dev/null
    "$prefix/consumer/consumer"
    echo "== add_subdirectory(tfo)"
    cmake -S "$tfo_root/test/cmake_subdir" -B "$prefix/subdir" "${launcher[@]}" >/dev/null
    cmake --build "$prefix/subdir" -j2 >/dev/null
    "$prefix/subdir/consumer"
    echo "== pkg-config: g++ \$(pkg-config --cflags --libs tfo)"
    local pc_path
    pc_path=$(dirname "$(find "$prefix/install" -name tfo.pc -print -quit)")
    PKG_CONFIG_PATH=$pc_path pkg-config --exists --print-errors tfo tfo-key-schedule tfo-ssl
    # shellcheck disable=SC2046
    g++ -std=c++20 -o "$prefix/pkgconfig_consumer" "$tfo_root/test/pkgconfig_consumer.cpp" \
        $(PKG_CONFIG_PATH=$pc_path pkg-config --cflags --libs tfo)
    "$prefix/pkgconfig_consumer"
    echo "== the benchmarks configured on their own, as bench/run.sh does"
    cmake -S "$tfo_root/bench" -B "$prefix/bench" >/dev/null
}

wait_for_consumers() {
    local status=0
    wait "$1" || status=$?
    cat "$2"
    rm -f "$2"
    return $status
}

# The benchmarks are built (not run) so that they keep compiling: in CI, in
# the default run's tree, whose library they reuse.
benchmarks_built() {
    echo "== the benchmarks, built"
    tfo_configure "$tfo_root/build" -DTFO_BUILD_BENCH=ON
    cmake --build "$tfo_root/build" -j2
}

# The namespace and example tests once more as an unprivileged user, in user
# namespaces of its own, so that they keep passing for users who are not root.
unprivileged_tests() {
    echo "== the namespace and example tests as an unprivileged user (nobody)"
    local as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env)
    if ! "${as_nobody[@]}" unshare --user --map-root-user --net true; then
        echo "unprivileged user namespaces are not available here" >&2
        return 1
    fi
    # ctest writes its logs in the build tree: let nobody write there for
    # this run, then give the logs back.
    local dir="$tfo_root/build" status=0
    mkdir -p "$dir/Testing/Temporary"
    chmod -R a+rwX "$dir/Testing"
    "${as_nobody[@]}" env TFO_REQUIRE_NETNS=1 PATH="$PATH" \
        ctest --test-dir "$dir" --output-on-failure --timeout 300 -L 'netns|example' -LE stress -j2 || status=$?
    chown -R "$(id -u):$(id -g)" "$dir/Testing"
    chmod -R go-w "$dir/Testing"
    return $status
}

# The library, the tests and the examples against the newest Boost.Asio
# (vendored, see third_party/README.md) ahead of Debian's Boost headers.
newest_asio() {
    echo "== Boost.Asio 1.38 (Boost 1.90) instead of Debian's 1.26"
    local dir="$tfo_root/build-asio-1.38"
    mkdir -p "$dir/asio"
    tar -xzf "$tfo_root/third_party/boost-asio-1.38.0-include.tar.gz" -C "$dir/asio"
    # Only the unit and namespace tests run here: no examples to build.
    tfo_configure "$dir" -DCMAKE_CXX_FLAGS="-isystem $dir/asio/include" -DTFO_BUILD_EXAMPLES=OFF
    cmake --build "$dir" -j2
    (cd "$dir" && ctest --output-on-failure --timeout 900 -L 'unit|netns' -LE stress -j2)
}

# Asio's io_uring backend as the default, in place of epoll: the library
# and the connect, hedge, cancellation and stream namespace tests.
io_uring_backend() {
    echo "== Asio's io_uring backend as the default"
    tfo_install liburing-dev
    local dir="$tfo_root/build-io-uring"
    tfo_configure "$dir" "-DCMAKE_CXX_FLAGS=-DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_HAS_IO_URING_AS_DEFAULT" \
        -DCMAKE_CXX_STANDARD_LIBRARIES=-luring -DTFO_BUILD_EXAMPLES=OFF -DTFO_BUILD_TOOLS=OFF
    cmake --build "$dir" -j2 --target tfo_connect_tests tfo_stream_tests
    (cd "$dir" && ctest --output-on-failure --timeout 900 -j2 \
        -R '^netns_(connect_.*|cancellation_matrix|fast_open_stream|stream_layers)$')
}

# Windows, where tfo has no Fast Open: the library, the examples and the tests
# that make sense there, built with mingw-w64 and run under Wine in a prefix of
# their own, so that they prove the ordinary connect and the "not available
# here" answers (test/loopback/fallback.cpp).
windows_suite() {
    echo "== Windows (mingw-w64, tests under Wine)"
    tfo_setup_windows
    local dir="$tfo_root/build-windows"
    # Optimised: an unoptimised object of Asio's templates outgrows what a
    # COFF string table can name ("string table overflow").
    tfo_configure "$dir" -DCMAKE_TOOLCHAIN_FILE="$tfo_root/cmake/toolchains/mingw-w64.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build "$dir" -j2
    (
        WINEPREFIX=$(mktemp -d)
        export WINEPREFIX
        trap '"$tfo_root/scripts/wine.sh" --stop || true; rm -rf "$WINEPREFIX" "$WINEPREFIX.log"' EXIT
        # The prefix is set up once, bounded, and then shared by the tests.
        # (Its complaint about the 32-bit rundll32, which Debian's wine64 lacks, is noise.)
        timeout 300 "$tfo_root/scripts/wine.sh" wineboot --init > "$WINEPREFIX.log" 2>&1 ||
            { cat "$WINEPREFIX.log"; exit 1; }
        cd "$dir"
        ctest --output-on-failure --timeout 120 -j2
    )
}

case "$mode" in
--sanitize) sanitized_suite ;;
--windows) phase "Windows (mingw-w64, Wine)" windows_suite ;;
--tsan) thread_sanitized_tests ;;
default)
    phase "default: configure" tfo_configure "$tfo_root/build"
    phase "default: build" cmake --build "$tfo_root/build" -j2
    # The consumer projects build while the tests run: most tests wait on
    # timers and the network, not the processor.
    consumer_log=$(mktemp)
    consumer_projects > "$consumer_log" 2>&1 &
    consumer_pid=$!
    phase "default: test" bash -c 'cd "$1" && ctest --output-on-failure --timeout 900 -j2' _ "$tfo_root/build"
    phase "consumers (install, subdir, pkg-config)" wait_for_consumers "$consumer_pid" "$consumer_log"
    if [ "${CI:-}" = "true" ]; then
        phase "API reference check" "$tfo_root/scripts/reference.sh" --check
        phase "benchmarks built" benchmarks_built
        phase "as an unprivileged user" unprivileged_tests
        phase "newest Boost.Asio" newest_asio
        phase "io_uring backend" io_uring_backend
        phase "fuzzers" "$tfo_root/scripts/fuzz.sh" 20
        sanitized_suite
        thread_sanitized_tests
        phase "Windows (mingw-w64, Wine)" windows_suite
    fi
    ;;
*)
    echo "usage: scripts/test.sh [--sanitize | --tsan | --windows]" >&2
    exit 2
    ;;
esac
