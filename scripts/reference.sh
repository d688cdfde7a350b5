#!/usr/bin/env bash
#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# The API reference, doc/api.md, is generated from the documentation in the
# public headers, the one copy of the contract.
#
#   scripts/reference.sh          writes doc/api.md
#   scripts/reference.sh --check  fails when doc/api.md no longer matches the
#                                 headers, or a public name is undocumented (CI)
set -euo pipefail
source "$(dirname "$0")/setup.sh"
tfo_setup

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$tfo_root"
{ cat doc/Doxyfile; echo "OUTPUT_DIRECTORY = $work"; echo "XML_OUTPUT = $work/xml"; } > "$work/Doxyfile"
doxygen "$work/Doxyfile" 2> "$work/warnings"
if grep "is not documented" "$work/warnings"; then
    echo "reference: the public names above have no documentation in their header" >&2
    exit 1
fi
python3 scripts/api_reference.py "$work/xml" include > "$work/api.md"

if [ "${1:-}" = "--check" ]; then
    if ! diff -u doc/api.md "$work/api.md"; then
        echo "reference: doc/api.md no longer matches the headers; run scripts/reference.sh and commit it" >&2
        exit 1
    fi
    echo "reference: doc/api.md matches the headers"
else
    cp "$work/api.md" doc/api.md
    echo "wrote doc/api.md"
fi
