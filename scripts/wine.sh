#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Runs a Windows program under Wine, headless and quiet: the emulator through
# which ctest runs the tests of a mingw-w64 build (cmake/toolchains/mingw-w64.cmake).
#
#   scripts/wine.sh program.exe [arguments...]
#   scripts/wine.sh --stop          ends the prefix's wineserver
#
# WINEPREFIX, when set, is the Wine prefix to use (scripts/test.sh makes a
# fresh one in a temporary directory); otherwise a prefix of our own under
# /tmp, never ~/.wine. The first run in a new prefix takes half a minute or
# more while Wine sets it up.
set -euo pipefail
export WINEPREFIX=${WINEPREFIX:-/tmp/tfo-wine-$(id -u)}
export WINEDEBUG=-all                     # no fixme/err chatter in the test logs
export WINEDLLOVERRIDES="mscoree,mshtml=" # no attempt to install Mono or Gecko
unset DISPLAY WAYLAND_DISPLAY             # no window, ever

# Debian's wine64 package installs its programs outside PATH.
find_wine() {
    command -v "$1" 2>/dev/null || echo "/usr/lib/wine/$1"
}

if [ "${1:-}" = "--stop" ]; then
    # Kill, then wait until the server is gone and has written the prefix.
    "$(find_wine wineserver)" --kill 2>/dev/null || true
    exec "$(find_wine wineserver)" --wait
fi
exec "$(find_wine wine64)" "$@"
