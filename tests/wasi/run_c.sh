#!/usr/bin/env bash
# run_c.sh BUILD_DIR - run the WASI C test programs built in BUILD_DIR/wasi-c.
#   NAME.wasm vs NAME.native: same arguments, same environment given to the
#     guest with --env, a scratch directory preopened; stdout and exit status
#     must match. The host's environment (HOME, ...) must not reach the guest.
#   escape.wasi.wasm: the sandbox escape suite, with openat2 and again with the
#     fallback walk (WEX_WASI_NO_OPENAT2=1); afterwards nothing outside the
#     preopens may have been created or changed.
# One line per check, then "N passed, N failed".
set -uo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build="$(cd "$1" && pwd)"
wex="$build/wex"
dir="$build/wasi-c"
passed=0 failed=0
if [ ! -d "$dir" ]; then
    echo "WASI C tests not built (no clang for wasm32-wasi): skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/wex-wasi-c.XXXXXX")"
trap 'rm -rf "$work"' EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

args=(scratch one "two words")
for native in "$dir"/*.native; do
    [ -e "$native" ] || continue
    name="$(basename "$native" .native)"
    wasm="$dir/$name.wasm"
    rm -rf "$work/t" && mkdir -p "$work/t/scratch"
    (cd "$work/t" && env -i WEX_T1=hello WEX_T2= "$native" "${args[@]}" >"$work/native.out" 2>&1)
    nrc=$?
    rm -rf "$work/t" && mkdir -p "$work/t/scratch"
    (cd "$work/t" && HOME=/nonexistent "$wex" run --dir scratch --env WEX_T1=hello --env WEX_T2= \
        "$wasm" "${args[@]}" >"$work/wasm.out" 2>&1)
    wrc=$?
    if [ "$nrc" != "$wrc" ]; then
        fail "$name" "exit $wrc under wex, $nrc native"
    elif ! cmp -s "$work/native.out" "$work/wasm.out"; then
        fail "$name" "output differs: $(diff "$work/native.out" "$work/wasm.out" | head -n 6 | tr '\n' '|')"
    else
        pass "$name"
    fi
done

# The escape suite, with and without openat2.
for mode in openat2 walk; do
    t="$work/esc-$mode"
    mkdir -p "$t/sandbox/sub" "$t/other"
    echo inside >"$t/sandbox/inside.txt"
    echo secret >"$t/secret.txt"
    if [ "$mode" = walk ]; then export WEX_WASI_NO_OPENAT2=1; else unset WEX_WASI_NO_OPENAT2; fi
    out="$(cd "$t" && "$wex" run --dir sandbox --dir other "$dir/escape.wasi.wasm" 2>&1)"
    rc=$?
    unset WEX_WASI_NO_OPENAT2
    leaked=""
    for f in newdir moved.txt linked.txt escape hard stolen.txt x; do
        [ -e "$t/$f" ] || [ -L "$t/$f" ] && leaked="$leaked $f"
    done
    [ "$(cat "$t/secret.txt")" = secret ] || leaked="$leaked secret.txt(changed)"
    if [ "$rc" -ne 0 ]; then
        fail "escape ($mode)" "exit $rc: $(printf '%s\n' "$out" | grep -v '^ok ' | head -n 5 | tr '\n' '|')"
    elif [ -n "$leaked" ]; then
        fail "escape ($mode)" "created or changed outside the sandbox:$leaked"
    else
        pass "escape ($mode): $(printf '%s\n' "$out" | grep -c '^ok ') checks"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
