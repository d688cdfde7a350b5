#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Sourced by the other scripts: installs what tfo needs to build and test,
# when it is missing, on Debian or Ubuntu. Run as root to install; otherwise
# it lists the packages to install.

tfo_packages=(g++ cmake make ccache doxygen python3 libboost1.81-dev libboost-test1.81-dev libssl-dev openssl nftables iproute2 util-linux jq pkg-config nginx-light)
# ccache: a second build compiles only what changed (CMakeLists.txt uses it when installed).
# nginx-light is a peer in the TLS early-data tests (test/netns/ssl_peers.cpp).
# The fuzzers (scripts/fuzz.sh) add clang and libclang-rt-14-dev.
# The Windows build (scripts/test.sh --windows, and CI) adds a mingw-w64
# compiler and Wine to run its tests; tfo_setup_windows installs them.
tfo_windows_packages=(g++-mingw-w64-x86-64-posix wine64)

tfo_missing_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    echo "${missing[@]}"
}

tfo_setup() {
    tfo_install "${tfo_packages[@]}"
}

tfo_setup_windows() {
    # No recommends: wine64 would pull in fonts, sound and desktop integration.
    local tfo_apt_options=--no-install-recommends
    tfo_install "${tfo_windows_packages[@]}"
}

# Installs the packages given that are missing (as root), or lists them.
tfo_install() {
    local missing
    missing=$(tfo_missing_packages "$@")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "tfo needs these packages: $missing" >&2
        echo "Install them with: sudo apt-get install -y $missing" >&2
        return 1
    fi
    echo "Installing: $missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${tfo_apt_options:-} $missing >/dev/null
}

# Configures a build in $1, the remaining arguments passed to CMake.
tfo_configure() {
    local dir=$1
    shift
    # The test builds keep assertions on and line tables only, unoptimised
    # (-g1 -O0): 41 % of the compile time of -O2 -g on the largest test
    # file, with file and line in every sanitizer report and backtrace.
    # bench/run.sh builds with -O2.
    cmake -S "$tfo_root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DTFO_WERROR=ON "-DCMAKE_CXX_FLAGS_DEBUG=-g1" \
        "$@" >/dev/null
}

tfo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
