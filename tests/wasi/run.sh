#!/usr/bin/env bash
# run.sh WEX_BINARY - run the WASI preview1 test suite (72 programs) with wex.
#
# The suite lives at ${WEX_TESTSUITE:-../shared/testsuite}/wasi-p1, relative
# to the repository root. It is copied to a scratch folder first (the tests
# write files), then each test runs as the suite's README says: cwd = the
# test's folder, its `root` preopened as guest `/`, argv = name + args, env =
# exactly `env`, exit code and stdout/stderr prefixes compared, `*.cleanup`
# files removed before and after, 5 s per test. One line per test, then
# "N passed, N failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ $# -lt 1 ]; then
    echo "usage: $0 WEX_BINARY" >&2
    exit 2
fi
wex="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
suite="${WEX_TESTSUITE:-../shared/testsuite}"
case "$suite" in /*) ;; *) suite="$repo/$suite" ;; esac
if [ ! -d "$suite/wasi-p1" ]; then
    echo "WASI suite not found at $suite/wasi-p1: skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/wex-wasi.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$suite/wasi-p1" "$work/" && chmod -R u+w "$work"
exec python3 "$here/run.py" "$wex" "$work/wasi-p1"
