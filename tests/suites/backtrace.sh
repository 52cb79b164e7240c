#!/usr/bin/env bash
# backtrace.sh BUILD... - `wex run` prints a WebAssembly backtrace on a trap
# and exits 1, for --invoke and for a WASI program's _start: the frames in
# order with their names (or `<wasm function N>`), the message last, and for
# unbounded recursion only the innermost frames plus a count of the rest;
# and failed instantiations: a segment out of bounds, a trapping start function.
# Run for each build directory given that has a wex. Last line: "N passed, N failed".
set -uo pipefail
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# expect NAME WANT_RC FILE PATTERN... : the command's stderr must contain the
# patterns (extended regexps) on lines in this order.
check() {
    local name="$1" rc="$2" err="$3"
    shift 3
    local got="$(cat "$err")" line=0 n
    for pat in "$@"; do
        n="$(printf '%s\n' "$got" | tail -n +$((line + 1)) | grep -n -E -m1 -- "$pat" | cut -d: -f1)"
        if [ -z "$n" ]; then
            fail "$name" "no line matching '$pat' after line $line: $(head -c 600 "$err" | tr '\n' '|')"
            return
        fi
        line=$((line + n))
    done
    if [ "$rc" -ne 1 ]; then fail "$name" "exit status $rc, want 1"; return; fi
    pass "$name"
}

for b in "$@"; do
    wex="$b/wex"
    [ -x "$wex" ] || continue
    wasm="$b/wat/backtrace.wasm"
    err="$(mktemp)"
    "$wex" run --invoke main "$wasm" 0 2>"$err" >/dev/null
    check "$b: div by zero 3 calls deep" $? "$err" \
        '^ *1: error while executing at wasm backtrace:$' \
        '^ +0: +0x[0-9a-f]+ - backtrace\.wasm!div_helper$' \
        '^ +1: +0x[0-9a-f]+ - backtrace\.wasm!level2$' \
        '^ +2: +0x[0-9a-f]+ - backtrace\.wasm!level1$' \
        '^ +3: +0x[0-9a-f]+ - backtrace\.wasm!main$' \
        '^ *2: wasm trap: integer divide by zero$'
    for mode in guard explicit; do
        "$wex" run --bounds-checks=$mode --invoke recurse "$wasm" 0 2>"$err" >/dev/null
        rc=$?
        frames=$(grep -c -E '^ +[0-9]+: +0x[0-9a-f]+ - backtrace\.wasm!recurse$' "$err")
        if [ "$frames" != 64 ]; then
            fail "$b: recursion ($mode)" "$frames frame lines, want 64"
        else
            check "$b: recursion capped ($mode)" $rc "$err" \
                '^ +63: .*!recurse$' '^ +\.\.\. 99937 more frames not recorded' \
                'wasm trap: call stack exhausted$'
        fi
        "$wex" run --bounds-checks=$mode --invoke oob "$wasm" 70000 2>"$err" >/dev/null
        check "$b: out of bounds ($mode)" $? "$err" '^ +0: .*!load' '^ +1: .*!oob$' \
            'wasm trap: out of bounds memory access$'
    done
    "$wex" run --invoke indirect "$wasm" 0 2>"$err" >/dev/null
    check "$b: unnamed function" $? "$err" '^ +0: +0x[0-9a-f]+ - backtrace\.wasm!<wasm function 7>$' \
        '^ +1: .*!indirect$' 'wasm trap: unreachable$'
    if [ -f "$b/wasi-c/trap.wasi.wasm" ]; then
        out="$("$wex" run "$b/wasi-c/trap.wasi.wasm" 2>"$err")"
        rc=$?
        if [ "$out" != "before the trap" ]; then
            fail "$b: WASI _start" "stdout '$out'"
        else
            check "$b: WASI _start" $rc "$err" '0: failed to invoke `_start`' \
                '^ +0: .*trap\.wasi\.wasm!innermost$' '^ +1: .*!middle$' '^ +2: .*!outer$' \
                '^ +[0-9]+: .*!main$' '^ +[0-9]+: .*!_start$' 'wasm trap: unreachable$'
        fi
    fi
    # From a precompiled artifact (the module cache's format), the same
    # frames and offsets: the side table travels in the artifact.
    cw="$(mktemp -u).cwasm"
    if "$wex" compile "$wasm" -o "$cw" 2>"$err"; then
        "$wex" run --no-cache --invoke main "$wasm" 0 2>"$err.a" >/dev/null
        "$wex" run --allow-precompiled --invoke main "$cw" 0 2>"$err" >/dev/null
        check "$b: precompiled artifact" $? "$err" '^ +0: +0x60 - .*!div_helper$' \
            '^ +3: +0x77 - .*!main$' 'wasm trap: integer divide by zero$'
        if [ "$(grep -E ' +0x' "$err.a" | sed 's/ - [^ ]*!/ - M!/')" != \
            "$(grep -E ' +0x' "$err" | sed 's/ - [^ ]*!/ - M!/')" ]; then
            fail "$b: precompiled artifact" "backtrace differs from the .wasm's"
        fi
        rm -f "$err.a"
    else
        fail "$b: precompiled artifact" "wex compile failed: $(cat "$err")"
    fi
    rm -f "$cw"
    # Instantiation: a data segment out of bounds in a module without a
    # start function says so, and names no start function; a trap in a
    # start function is reported as one, with its frames.
    if [ -f "$b/wat/instantiate_oob.wasm" ]; then
        "$wex" run "$b/wat/instantiate_oob.wasm" 2>"$err" >/dev/null
        rc=$?
        if grep -q "start function" "$err"; then
            fail "$b: data segment out of bounds" "mentions a start function: $(tr '\n' '|' <"$err")"
        else
            check "$b: data segment out of bounds" $rc "$err" \
                'out of bounds memory access while initialising data segment 1$'
        fi
    fi
    "$wex" run "$b/wat/backtrace_start.wasm" 2>"$err" >/dev/null
    check "$b: trap in the start function" $? "$err" '0: failed to invoke `start function`' \
        '^ +0: .*!boom$' '^ +1: .*!init$' 'wasm trap: unreachable$'
    rm -f "$err"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
