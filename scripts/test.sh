#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Builds tfo and runs every test: unit tests, real TCP Fast Open in private
# network namespaces (including the load and fault tests), the examples, and
# the CMake consumer projects.
#
#   scripts/test.sh              the default run (a few minutes on 2 cores)
#   scripts/test.sh --sanitize   the whole suite under AddressSanitizer + UBSan
#   scripts/test.sh --tsan       the multi-threaded tests under ThreadSanitizer
#   scripts/test.sh --windows    a mingw-w64 build, its tests run under Wine
#   CI=true scripts/test.sh      all of the above, plus the namespace and example
#                                tests as an unprivileged user, a build and test
#                                against the newest Boost.Asio (third_party/), and
#                                the parser fuzzers
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

run_suite() {
    local dir=$1
    shift
    tfo_configure "$dir" "$@"
    cmake --build "$dir" -j2
    (cd "$dir" && ctest --output-on-failure --timeout 900 -j2)
}

sanitized_suite() {
    echo "== the whole suite under ASan + UBSan"
    run_suite "$tfo_root/build-sanitize" -DTFO_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
}

thread_sanitized_tests() {
    echo "== the multi-threaded tests under TSan"
    local dir="$tfo_root/build-tsan"
    tfo_configure "$dir" -DTFO_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug -DTFO_BUILD_EXAMPLES=OFF -DTFO_BUILD_TOOLS=OFF
    cmake --build "$dir" -j2 --target netns_threads netns_connect_cancellation netns_connect_tokens netns_connect_hedge netns_fast_open_stream unit_path_memory
    (cd "$dir" && ctest --output-on-failure --timeout 900 -R '^(netns_threads|netns_connect_cancellation|netns_connect_tokens|netns_connect_hedge|netns_fast_open_stream|unit_path_memory)$')
}

consumer_projects() {
    local prefix
    prefix=$(mktemp -d)
    trap 'rm -rf "$prefix"' RETURN
    echo "== find_package(tfo) after cmake --install"
    cmake --install "$tfo_root/build" --prefix "$prefix/install" >/dev/null
    test -x "$prefix/install/bin/tfo-doctor"
    cmake -S "$tfo_root/test/cmake_install" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix/install" >/dev/null
    cmake --build "$prefix/consumer" -j2 >/dev/null
    "$prefix/consumer/consumer"
    echo "== add_subdirectory(tfo)"
    cmake -S "$tfo_root/test/cmake_subdir" -B "$prefix/subdir" >/dev/null
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
    tfo_configure "$dir" -DCMAKE_CXX_FLAGS="-isystem $dir/asio/include"
    cmake --build "$dir" -j2
    (cd "$dir" && ctest --output-on-failure --timeout 900 -L 'unit|netns' -LE stress -j2)
}

# Windows, where tfo has no Fast Open: the library, the examples and the tests
# that make sense there, built with mingw-w64 and run under Wine in a prefix of
# their own, so that they prove the ordinary connect and the "not available
# here" answers (test/loopback/fallback.cpp).
windows_suite() {
    echo "== Windows (mingw-w64, tests under Wine)"
    tfo_setup_windows
    local start=$SECONDS
    local dir="$tfo_root/build-windows"
    tfo_configure "$dir" -DCMAKE_TOOLCHAIN_FILE="$tfo_root/cmake/toolchains/mingw-w64.cmake"
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
    echo "Windows build and tests: $((SECONDS - start)) s"
}

case "$mode" in
--sanitize) sanitized_suite ;;
--windows) windows_suite ;;
--tsan) thread_sanitized_tests ;;
default)
    # The benchmarks are built (not run) so that they keep compiling.
    run_suite "$tfo_root/build" -DTFO_BUILD_BENCH=ON
    consumer_projects
    if [ "${CI:-}" = "true" ]; then
        "$tfo_root/scripts/reference.sh" --check
        unprivileged_tests
        newest_asio
        "$tfo_root/scripts/fuzz.sh" 20
        sanitized_suite
        thread_sanitized_tests
        windows_suite
    fi
    ;;
*)
    echo "usage: scripts/test.sh [--sanitize | --tsan | --windows]" >&2
    exit 2
    ;;
esac
