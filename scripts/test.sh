#!/usr/bin/env bash
# Builds tfo and runs every test: unit tests, real TCP Fast Open in private
# network namespaces, the examples, and the CMake consumer projects.
#
#   scripts/test.sh              the default run (a few minutes on 2 cores)
#   scripts/test.sh --sanitize   the same under AddressSanitizer + UBSan
#   CI=true scripts/test.sh      both of the above
#
# The namespace tests never touch the host's settings. As root (and in CI)
# they must run: TFO_REQUIRE_NETNS=1 turns a would-be skip into a failure.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
tfo_setup

sanitize=0
[ "${1:-}" = "--sanitize" ] && sanitize=1
if [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = "true" ]; then
    export TFO_REQUIRE_NETNS=1
fi

run_suite() {
    local dir=$1
    shift
    tfo_configure "$dir" "$@"
    cmake --build "$dir" -j2
    (cd "$dir" && ctest --output-on-failure --timeout 300 -j2)
}

consumer_projects() {
    local prefix
    prefix=$(mktemp -d)
    trap 'rm -rf "$prefix"' RETURN
    echo "== find_package(tfo) after cmake --install"
    cmake --install "$tfo_root/build" --prefix "$prefix/install" >/dev/null
    cmake -S "$tfo_root/test/cmake_install" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix/install" >/dev/null
    cmake --build "$prefix/consumer" -j2 >/dev/null
    "$prefix/consumer/consumer"
    echo "== add_subdirectory(tfo)"
    cmake -S "$tfo_root/test/cmake_subdir" -B "$prefix/subdir" >/dev/null
    cmake --build "$prefix/subdir" -j2 >/dev/null
    "$prefix/subdir/consumer"
}

if [ "$sanitize" -eq 1 ]; then
    run_suite "$tfo_root/build-sanitize" -DTFO_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
    exit 0
fi

run_suite "$tfo_root/build"
consumer_projects
if [ "${CI:-}" = "true" ]; then
    echo "== the whole suite again under ASan + UBSan"
    run_suite "$tfo_root/build-sanitize" -DTFO_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
fi
