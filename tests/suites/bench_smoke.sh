#!/usr/bin/env bash
# bench_smoke.sh BUILD [ASAN_BUILD [TSAN_BUILD]] - correctness, never timing:
# every benchmark program (bench/suite) runs once at its "tiny" size
# (bench/suite/sizes) under BUILD/wex (guard pages), BUILD/wex with explicit
# bounds checks, and ASAN_BUILD/wex if built; stdout and exit status must
# equal the native program's. One line per check, then "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
build="${1:-build}"
asan="${2:-}"
bdir="$build/bench"
passed=0 failed=0
if [ ! -d "$bdir" ] || ! ls "$bdir"/*.native >/dev/null 2>&1; then
    echo "benchmark programs not built (no clang for wasm32-wasi): skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/wex-bench-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# check LABEL WANT_FILE WANT_RC CMD... : run CMD, compare with the native run.
check() {
    local label="$1" want="$2" want_rc="$3"
    shift 3
    "$@" >"$work/got" 2>"$work/err"
    local rc=$?
    if [ "$rc" -eq "$want_rc" ] && cmp -s "$want" "$work/got"; then
        echo "PASS $label"
        passed=$((passed + 1))
    else
        echo "FAIL $label: exit $rc (native $want_rc); output: $(head -c 200 "$work/got") $(head -c 300 "$work/err")"
        failed=$((failed + 1))
    fi
}

while read -r name _ _ tiny; do
    case "$name" in '' | '#'*) continue ;; esac
    "$bdir/$name.native" "$tiny" >"$work/want" 2>/dev/null
    rc=$?
    check "$name $tiny (guard pages)" "$work/want" "$rc" "$build/wex" run "$bdir/$name.wasm" "$tiny"
    check "$name $tiny (explicit bounds)" "$work/want" "$rc" \
        "$build/wex" run --bounds-checks=explicit "$bdir/$name.wasm" "$tiny"
    if [ -n "$asan" ] && [ -x "$asan/wex" ]; then
        check "$name $tiny ($asan)" "$work/want" "$rc" "$asan/wex" run "$bdir/$name.wasm" "$tiny"
    fi
done <bench/suite/sizes
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
