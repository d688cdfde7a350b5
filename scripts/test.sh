#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Builds tfo and runs every test: unit tests, real TCP Fast Open in private
# network namespaces (including the load and fault tests), the examples, and
# the CMake consumer projects.
#
#   scripts/test.sh              the default run (about 4.5 minutes on 2 cores
#                                from a fresh clone; about 70 s after an edit
#                                to one test file, ccache having seen the rest)
#   scripts/test.sh --sanitize   the whole suite under AddressSanitizer + UBSan
#   scripts/test.sh --tsan       the multi-threaded tests under ThreadSanitizer
#   scripts/test.sh --windows    a mingw-w64 build, its tests run under Wine
#   CI=true scripts/test.sh      all of the above, plus the benchmarks built, the
#                                namespace and example tests as an unprivileged
#                                user, a build and test against the newest
#                                Boost.Asio (third_party/) on its io_uring
#                                backend, and the parser fuzzers (about 24
#                                minutes from a fresh clone)
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

# A build in the background while tests run in the foreground (the consumer
# projects beside the default tests; in CI, each configuration beside the
# tests of the one before): the tests mostly wait on timers and the network,
# and the build, at the lowest priority (nice 19), takes only the processor
# time they leave. One background job at a time.
background_name=""
background_pid=""
background_log=""
background_start=0
in_background() {
    background_name=$1
    shift
    background_log=$(mktemp)
    background_start=$SECONDS
    (
        renice -n 19 -p "$BASHPID" >/dev/null
        "$@"
    ) > "$background_log" 2>&1 &
    background_pid=$!
}
# Waits for the background job, shows its output, and counts its time (from
# its start, so that it overlaps the foreground phases it ran beside).
await_background() {
    local status=0
    wait "$background_pid" || status=$?
    cat "$background_log"
    rm -f "$background_log"
    background_pid=""
    if [ "$status" -ne 0 ]; then
        tfo_phase="$background_name (in the background)"
        exit "$status"
    fi
    tfo_phases+=("$(printf '%-40s %5d s' "$background_name (in the background)" $((SECONDS - background_start)))")
}
kill_tree() {
    local child
    kill -STOP "$1" 2>/dev/null || true
    for child in $(pgrep -P "$1"); do
        kill_tree "$child"
    done
    kill -KILL "$1" 2>/dev/null || true
}
on_exit() {
    # A failure in the foreground ends a background build too.
    if [ -n "$background_pid" ]; then
        kill_tree "$background_pid"
        rm -f "$background_log"
    fi
    print_phases
}
trap on_exit EXIT

# Each configuration in two halves, its build and its tests, so that CI can
# build the next while the tests of one run.
asan_build() {
    echo "== the whole suite under ASan + UBSan: build"
    tfo_configure "$tfo_root/build-sanitize" -DTFO_SANITIZE=address,undefined
    cmake --build "$tfo_root/build-sanitize" -j2
}
asan_tests() {
    echo "== the whole suite under ASan + UBSan"
    (cd "$tfo_root/build-sanitize" && ctest --output-on-failure --timeout 900 -j2)
}

tsan_build() {
    echo "== the multi-threaded tests under TSan: build"
    local dir="$tfo_root/build-tsan"
    tfo_configure "$dir" -DTFO_SANITIZE=thread -DTFO_BUILD_EXAMPLES=OFF -DTFO_BUILD_TOOLS=OFF
    cmake --build "$dir" -j2 --target tfo_connect_tests tfo_stream_tests tfo_unit_tests
}
tsan_tests() {
    echo "== the multi-threaded tests under TSan"
    (cd "$tfo_root/build-tsan" && ctest --output-on-failure --timeout 900 -R \
        '^(netns_threads|netns_connect_cancellation|netns_connect_tokens|netns_connect_hedge|netns_fast_open_stream|netns_stream_.*|unit_path_memory)$')
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

# The library and its unit and namespace tests against the newest Boost.Asio
# (vendored, see third_party/README.md) ahead of Debian's Boost headers, with
# Asio's io_uring backend as the default in place of epoll: one build proves
# both. (Debian's Asio 1.26 stays on epoll, in the default, ASan and TSan
# builds: its io_uring backend closes a live socket's descriptor after some
# 900 connections on one io_context, which plain Asio shows without tfo and
# Asio 1.38 does not; see doc/design.md.)
newest_asio_build() {
    echo "== Boost.Asio 1.38 (Boost 1.90) instead of Debian's 1.26, on its io_uring backend: build"
    tfo_install liburing-dev
    local dir="$tfo_root/build-asio-1.38"
    mkdir -p "$dir/asio"
    tar -xzf "$tfo_root/third_party/boost-asio-1.38.0-include.tar.gz" -C "$dir/asio"
    # Only the unit and namespace tests run here: no examples to build.
    tfo_configure "$dir" \
        "-DCMAKE_CXX_FLAGS=-isystem $dir/asio/include -DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_HAS_IO_URING_AS_DEFAULT" \
        -DCMAKE_CXX_STANDARD_LIBRARIES=-luring -DTFO_BUILD_EXAMPLES=OFF
    cmake --build "$dir" -j2
}
newest_asio_tests() {
    echo "== Boost.Asio 1.38 on io_uring: the unit and namespace tests"
    (cd "$tfo_root/build-asio-1.38" && ctest --output-on-failure --timeout 900 -L 'unit|netns' -LE stress -j2)
}

# Windows, where tfo has no Fast Open: the library, the examples and the tests
# that make sense there, built with mingw-w64 and run under Wine in a prefix of
# their own, so that they prove the ordinary connect and the "not available
# here" answers (test/loopback/fallback.cpp).
windows_build() {
    echo "== Windows (mingw-w64): build"
    tfo_setup_windows
    local dir="$tfo_root/build-windows"
    # Optimised: an unoptimised object of Asio's templates outgrows what a
    # COFF string table can name ("string table overflow").
    tfo_configure "$dir" -DCMAKE_TOOLCHAIN_FILE="$tfo_root/cmake/toolchains/mingw-w64.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build "$dir" -j2
}
windows_tests() {
    echo "== Windows: the tests under Wine"
    local dir="$tfo_root/build-windows"
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
--sanitize)
    phase "ASan + UBSan: build" asan_build
    phase "ASan + UBSan: test" asan_tests
    ;;
--tsan)
    phase "TSan: build" tsan_build
    phase "TSan: test" tsan_tests
    ;;
--windows)
    phase "Windows: build" windows_build
    phase "Windows: test (Wine)" windows_tests
    ;;
default)
    phase "default: configure" tfo_configure "$tfo_root/build"
    phase "default: build" cmake --build "$tfo_root/build" -j2
    # The consumer projects build while the tests run.
    in_background "consumers (install, subdir, pkg-config)" consumer_projects
    phase "default: test" bash -c 'cd "$1" && ctest --output-on-failure --timeout 900 -j2' _ "$tfo_root/build"
    await_background
    if [ "${CI:-}" = "true" ]; then
        phase "API reference check" "$tfo_root/scripts/reference.sh" --check
        phase "benchmarks built" benchmarks_built
        # Each build beside the tests before it (see in_background).
        in_background "newest Boost.Asio, io_uring: build" newest_asio_build
        phase "as an unprivileged user" unprivileged_tests
        await_background
        in_background "ASan + UBSan: build" asan_build
        phase "newest Boost.Asio, io_uring: test" newest_asio_tests
        phase "fuzzers" "$tfo_root/scripts/fuzz.sh" 20
        await_background
        in_background "TSan: build" tsan_build
        phase "ASan + UBSan: test" asan_tests
        await_background
        in_background "Windows: build" windows_build
        phase "TSan: test" tsan_tests
        await_background
        phase "Windows: test (Wine)" windows_tests
    fi
    ;;
*)
    echo "usage: scripts/test.sh [--sanitize | --tsan | --windows]" >&2
    exit 2
    ;;
esac
