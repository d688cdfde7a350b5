#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Shows TCP Fast Open working: builds the demo and runs a server and a client
# in a private network namespace (the host's settings are not touched).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
tfo_setup
tfo_configure "$tfo_root/build"
cmake --build "$tfo_root/build" -j2 --target demo >/dev/null
exec "$tfo_root/build/example/demo/demo" "$@"
