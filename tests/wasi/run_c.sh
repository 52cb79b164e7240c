#!/usr/bin/env bash
# run_c.sh BUILD_DIR - run the WASI C test programs built in BUILD_DIR/wasi-c.
#   NAME.wasm vs NAME.native: same arguments, same environment given to the
#     guest with --env, a scratch directory preopened; stdout, exit status and
#     the files left in the scratch directory must match (each line gives
#     both wall times). The host's environment (HOME, ...) must not reach
#     the guest.
#   deflz (compressor) streams cross-decoded between the two builds;
#   minilang (interpreter) on a program file.
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
    rm -rf "$work/n" "$work/w" && mkdir -p "$work/n/scratch" "$work/w/scratch"
    t0=$(date +%s%N)
    (cd "$work/n" && env -i WEX_T1=hello WEX_T2= "$native" "${args[@]}" >"$work/native.out" 2>&1)
    nrc=$?
    t1=$(date +%s%N)
    (cd "$work/w" && HOME=/nonexistent "$wex" run --dir scratch --env WEX_T1=hello --env WEX_T2= \
        "$wasm" "${args[@]}" >"$work/wasm.out" 2>&1)
    wrc=$?
    t2=$(date +%s%N)
    times="native $(((t1 - t0) / 1000000)) ms, wex $(((t2 - t1) / 1000000)) ms"
    if [ "$nrc" != "$wrc" ]; then
        fail "$name" "exit $wrc under wex, $nrc native"
    elif ! cmp -s "$work/native.out" "$work/wasm.out"; then
        fail "$name" "output differs: $(diff "$work/native.out" "$work/wasm.out" | head -n 6 | tr '\n' '|')"
    elif ! diff -r "$work/n/scratch" "$work/w/scratch" >/dev/null 2>&1; then
        # the files each left in its scratch directory must be the same too
        fail "$name" "files differ: $(diff -rq "$work/n/scratch" "$work/w/scratch" 2>&1 | head -n 3 | tr '\n' '|')"
    else
        pass "$name ($times)"
    fi
done

# The compressor's file modes, across builds: a stream written by the wasm
# build is read by the native one and the other way round, and both write
# the same bytes. The input is the interpreter's source, a real text file.
if [ -f "$dir/deflz.wasm" ] && [ -x "$dir/deflz.native" ]; then
    x="$work/x" && rm -rf "$x" && mkdir -p "$x"
    src="$(dirname "${BASH_SOURCE[0]}")/c/minilang.c"
    cp "$src" "$x/input.txt"
    (cd "$x" && "$dir/deflz.native" c input.txt n.dlz >/dev/null &&
        "$wex" run --dir . "$dir/deflz.wasm" c input.txt w.dlz >/dev/null &&
        "$wex" run --dir . "$dir/deflz.wasm" d n.dlz n_by_w.txt >/dev/null &&
        "$dir/deflz.native" d w.dlz w_by_n.txt >/dev/null)
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "deflz c/d across builds" "exit $rc"
    elif ! cmp -s "$x/n.dlz" "$x/w.dlz"; then
        fail "deflz c/d across builds" "compressed streams differ"
    elif ! cmp -s "$x/input.txt" "$x/n_by_w.txt" || ! cmp -s "$x/input.txt" "$x/w_by_n.txt"; then
        fail "deflz c/d across builds" "a round trip changed the file"
    else
        pass "deflz c/d across builds ($(wc -c <"$x/input.txt") -> $(wc -c <"$x/n.dlz") bytes)"
    fi
fi

# The interpreter on a program file given on the command line (in a preopen).
if [ -f "$dir/minilang.wasm" ] && [ -x "$dir/minilang.native" ]; then
    x="$work/m" && rm -rf "$x" && mkdir -p "$x"
    cat >"$x/prog.ml" <<'PROG'
// queens: count the solutions of the 6 queens problem
fn ok(cols, r, c) { for (let i = 0; i < r; i = i + 1) { let d = cols[i] - c;
  if (d == 0 || d == r - i || d == i - r) { return 0; } } return 1; }
fn place(cols, r, n) { if (r == n) { return 1; } let count = 0;
  for (let c = 0; c < n; c = c + 1) { if (ok(cols, r, c)) { cols[r] = c; count = count + place(cols, r + 1, n); } }
  return count; }
for (let n = 1; n <= 6; n = n + 1) { print(n, "queens:", place(array(n, 0), 0, n)); }
print(undefined_name);
PROG
    (cd "$x" && "$dir/minilang.native" -f prog.ml >n.out 2>&1)
    nrc=$?
    (cd "$x" && "$wex" run --dir . "$dir/minilang.wasm" -f prog.ml >w.out 2>&1)
    wrc=$?
    if [ $nrc -ne 1 ] || [ $wrc -ne 1 ]; then
        fail "minilang -f FILE" "exit $wrc under wex, $nrc native, want 1 (the last line fails)"
    elif ! cmp -s "$x/n.out" "$x/w.out" || ! grep -q '^6 queens: 4$' "$x/w.out"; then
        fail "minilang -f FILE" "output: $(head -c 300 "$x/w.out" | tr '\n' '|')"
    else
        pass "minilang -f FILE"
    fi
fi

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
