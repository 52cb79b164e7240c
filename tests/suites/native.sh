#!/usr/bin/env bash
# native.sh BUILD [ASAN_BUILD [TSAN_BUILD]] - the native tier (-O tier=native):
#   1. the core spec tests (BUILD/spec, converted by scripts/test.sh) with
#      BUILD/wex in both bounds modes, and with ASAN_BUILD/wex; and unit-test
#      programs with WEX_TIER=native;
#   2. every benchmark program at its "tiny" size: output and exit status
#      equal the native program's (both bounds modes);
#   3. the compiled-module cache: a second run loads native code from the
#      cache entry; an entry whose native code is damaged (every byte of a
#      stretch flipped, or its checksum) still runs correctly; code made for
#      other CPU features (WEX_NATIVE_CPU) is refused;
#   4. a missing compiler is a clear error, not a crash;
#   5. backtraces through native frames; an out-of-bounds load before a
#      call whose callee traps traps first (guard pages);
#   6. the automatic tier: the spec tests and unit programs with functions
#      switched to native code on their first entry, the benchmark programs,
#      a hot function compiled during a run and loaded from the cache by the
#      next, no compiler, and a compiler that never finishes;
#   7. the automatic tier's compiler service (wex-llvmc --serve) driven
#      directly (tests/native/serve_check.py).
# One line per check, then "N passed, N failed". Without wex-llvmc (no LLVM
# 19) everything is skipped, and under CI that is a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
build="${1:-build}"
asan="${2:-}"
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

if [ ! -x "$build/wex-llvmc" ]; then
    echo "native tier: $build/wex-llvmc not built (LLVM 19 missing): skipped"
    if [ "${CI:-}" = true ]; then
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "0 passed, 0 failed"
    exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/wex-native.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. spec tests
shopt -s nullglob
jsons=("$build"/spec/*/*.json)
shopt -u nullglob
if [ ${#jsons[@]} -eq 0 ]; then
    echo "spec tests not converted ($build/spec): spec part skipped"
else
    spec_run() { # LABEL WEX ARGS...
        local label="$1" wex="$2"
        shift 2
        "$wex" wast -O tier=native "$@" "${jsons[@]}" >"$work/spec.log" 2>&1
        local rc=$? last
        last="$(tail -n 1 "$work/spec.log")"
        # (a program given test names prints no summary line)
    if [ "$rc" -eq 0 ] && { [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed ]] ||
        { [ $# -gt 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; }; }; then
            pass "spec, native tier, $label: $last"
        else
            grep -v '^PASS ' "$work/spec.log" | head -n 40
            fail "spec, native tier, $label: exit $rc: $last"
        fi
    }
    spec_run "guard pages" "$build/wex"
    spec_run "explicit bounds" "$build/wex" --bounds-checks=explicit
    spec_run "deterministic" "$build/wex" -O deterministic=y
    if [ -n "$asan" ] && [ -x "$asan/wex" ] && [ -x "$asan/wex-llvmc" ]; then
        spec_run "$asan" "$asan/wex"
    fi
fi

# 1b. unit-test programs whose tests are about what code computes, not how
#     the interpreter does it (WEX_TIER=native makes every engine native);
#     left out: call depths (the native tier bounds the native stack, not a
#     call count), backtraces (a guard-page fault's frame is its function's;
#     section 5 compares native backtraces with the interpreter's), the
#     interpreter's lazily checked cache code, and
#     test_fusion (its 1 MB generated module takes LLVM minutes)
for prog in test_threads test_instantiate test_wasi test_task test_br_table test_dispatch_loop test_deterministic test_epoch test_limits \
    test_frame_fuse "test_runtime fib_guard fib_explicit kernels_guard kernels_explicit traps_guard traps_explicit malformed_inputs fault_handler_claims_only_guest_faults"; do
    set -- $prog
    exe="$build/$1"
    shift
    [ -x "$exe" ] || continue
    out="$(WEX_TIER=native "$exe" "$@" 2>&1)"
    rc=$?
    last="$(printf '%s\n' "$out" | tail -n 1)"
    # (a program given test names prints no summary line)
    if [ "$rc" -eq 0 ] && { [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed ]] ||
        { [ $# -gt 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; }; }; then
        pass "$(basename "$exe"), native tier: $last"
    else
        printf '%s\n' "$out" | grep -v '^ok ' | head -n 20
        fail "$(basename "$exe"), native tier: exit $rc: $last"
    fi
done

# 2. benchmark programs, tiny sizes
bdir="$build/bench"
if ls "$bdir"/*.native >/dev/null 2>&1; then
    while read -r name _ _ tiny; do
        case "$name" in '' | '#'*) continue ;; esac
        "$bdir/$name.native" "$tiny" >"$work/want" 2>/dev/null
        want_rc=$?
        for mode in guard explicit; do
            "$build/wex" run --no-cache -O tier=native --bounds-checks=$mode "$bdir/$name.wasm" \
                "$tiny" >"$work/got" 2>"$work/err"
            rc=$?
            if [ "$rc" -eq "$want_rc" ] && cmp -s "$work/want" "$work/got"; then
                pass "$name $tiny, native tier, $mode"
            else
                fail "$name $tiny, native tier, $mode: exit $rc (native $want_rc): $(head -c 300 "$work/err")"
            fi
        done
    done <bench/suite/sizes
fi

# 3. the cache
wasm="$bdir/sha256.wasm"
if [ -f "$wasm" ]; then
    cache="$work/cache"
    "$bdir/sha256.native" 4 >"$work/want"
    run_cached() { "$build/wex" run --cache-dir "$cache" -O tier=native "$wasm" 4 >"$work/got" 2>"$work/err"; }
    run_cached
    entry="$(find "$cache" -name '*.cwasm' | head -n 1)"
    if [ -n "$entry" ] && cmp -s "$work/want" "$work/got"; then
        pass "cache: the first run compiles and saves an entry"
    else
        fail "cache: no entry after the first run ($(head -c 300 "$work/err"))"
    fi
    # A second run loads the native code: the compiler must not run.
    WEX_LLVMC=/nonexistent/wex-llvmc "$build/wex" run --cache-dir "$cache" -O tier=native "$wasm" 4 \
        >"$work/got" 2>"$work/err"
    if cmp -s "$work/want" "$work/got"; then
        pass "cache: a second run needs no compiler"
    else
        fail "cache: the second run compiled again or failed: $(head -c 300 "$work/err")"
    fi
    # Code made for other CPU features is refused, not run: the cache entry
    # is not found (its engine id covers the features) and a compiled file
    # is rejected by name ($WEX_NATIVE_CPU pretends the CPU is another).
    if WEX_NATIVE_CPU=other WEX_LLVMC=/nonexistent/wex-llvmc "$build/wex" run --cache-dir "$cache" \
        -O tier=native "$wasm" 4 >"$work/got" 2>"$work/err"; then
        fail "cache: an entry made for other CPU features was used"
    elif grep -q "native compilation failed" "$work/err"; then
        pass "cache: an entry made for other CPU features is not used"
    else
        fail "cache: other CPU features: $(head -c 300 "$work/err")"
    fi
    "$build/wex" compile -O tier=native "$wasm" -o "$work/cpu.cwasm" 2>"$work/err"
    if WEX_NATIVE_CPU=other "$build/wex" run -O tier=native --allow-precompiled "$work/cpu.cwasm" 4 \
        >"$work/got" 2>"$work/err"; then
        fail "compile: a file made for other CPU features ran"
    elif grep -q "another engine" "$work/err" &&
        "$build/wex" run -O tier=native --allow-precompiled "$work/cpu.cwasm" 4 >"$work/got" 2>&1 &&
        cmp -s "$work/want" "$work/got"; then
        pass "compile: a file made for other CPU features is refused (and runs where it was made)"
    else
        fail "compile: other CPU features: $(head -c 300 "$work/err")"
    fi
    # Damage the native section (header: sec[6] = {off, len, sum} at byte 224).
    if [ -n "$entry" ]; then
        for how in middle start sum; do
            cp "$entry" "$work/saved.cwasm"
            python3 - "$entry" "$how" <<'EOF'
import struct, sys
path, how = sys.argv[1], sys.argv[2]
with open(path, "r+b") as f:
    f.seek(224)
    off, length, _ = struct.unpack("<QQQ", f.read(24))
    if how == "sum":
        f.seek(240)
        f.write(b"\xff" * 8)
    else:
        at = off + (length // 2 if how == "middle" else 0)
        f.seek(at)
        chunk = bytearray(f.read(64))
        f.seek(at)
        f.write(bytes(b ^ 0xA5 for b in chunk))
EOF
            run_cached
            if cmp -s "$work/want" "$work/got"; then
                pass "cache: native code damaged ($how) still runs correctly"
            else
                fail "cache: native code damaged ($how): $(head -c 300 "$work/err")"
            fi
            cp "$work/saved.cwasm" "$entry"
        done
    fi
fi

# 4. no compiler
if [ -f "$wasm" ]; then
    WEX_LLVMC=/nonexistent/wex-llvmc "$build/wex" run --no-cache -O tier=native "$wasm" 4 \
        >"$work/got" 2>"$work/err"
    rc=$?
    if [ "$rc" -ne 0 ] && grep -q "native compilation failed" "$work/err"; then
        pass "a missing compiler is a clear error"
    else
        fail "a missing compiler: exit $rc: $(head -c 300 "$work/err")"
    fi
fi

# 5. backtraces: native frames at the instructions, as the interpreter
#    gives them (the same lines), inlined calls included, for traps from
#    code, through call_indirect and at the stack limit; a guard-page fault
#    by function
bt="$build/wat/backtrace.wasm"
if [ -f "$bt" ]; then
    bt_check() { # LABEL ARGS -- PATTERNS...
        local label="$1"
        shift
        local args=()
        while [ "$1" != "--" ]; do args+=("$1"); shift; done
        shift
        "$build/wex" run --no-cache -O tier=native "${args[@]}" >/dev/null 2>"$work/bt"
        local rc=$? ok=1
        for pat in "$@"; do grep -q -E -- "$pat" "$work/bt" || ok=0; done
        if [ "$rc" -eq 1 ] && [ "$ok" -eq 1 ]; then
            pass "backtrace, native tier: $label"
        else
            fail "backtrace, native tier: $label: exit $rc: $(head -c 500 "$work/bt" | tr '\n' '|')"
        fi
    }
    bt_same() { # LABEL LINES ARGS...: the first LINES frames equal the interpreter's
        local label="$1" lines="$2"
        shift 2
        "$build/wex" run --no-cache -O tier="${BT_TIER:-native}" "$@" >/dev/null 2>"$work/bt"
        local rc=$?
        "$build/wex" run --no-cache -O tier=interp "$@" >/dev/null 2>"$work/bt.i"
        grep -E '^ +[0-9]+: +0x' "$work/bt" | head -n "$lines" >"$work/bt.f"
        grep -E '^ +[0-9]+: +0x' "$work/bt.i" | head -n "$lines" >"$work/bt.if"
        if [ "$rc" -eq 1 ] && [ -s "$work/bt.f" ] && cmp -s "$work/bt.f" "$work/bt.if" &&
            [ "$(tail -n 1 "$work/bt")" = "$(tail -n 1 "$work/bt.i")" ]; then
            pass "backtrace, native tier: $label ($(wc -l <"$work/bt.f") frames as interpreted)"
        else
            fail "backtrace, native tier: $label: exit $rc: $(tr '\n' '|' <"$work/bt") | interpreter: $(tr '\n' '|' <"$work/bt.i")"
        fi
    }
    bt_same "trap three calls deep, all inlined" 10 --invoke main "$bt" 0
    bt_same "unbounded recursion" 5 --invoke recurse "$bt" 0
    bt_check "unbounded recursion, frames not kept" --invoke recurse "$bt" 0 -- \
        'more frames|omitted|\.\.\.' 'call stack exhausted$'
    bt_check "guard-page fault" --bounds-checks=guard --invoke oob "$bt" 70000 -- \
        '0: +0x[0-9a-f]+ - backtrace\.wasm!oob \(function start\)' 'out of bounds memory access$'
    bt_same "explicit bounds check" 10 --bounds-checks=explicit --invoke oob "$bt" 70000
    bt_same "through call_indirect" 10 --invoke indirect "$bt" 0
    # mixed tiers: every other function native (the automatic tier, eager):
    # each crossing adds its side's frames, in order
    BT_TIER=auto WEX_TIER_EAGER=some bt_same "mixed tiers, three calls deep" 10 \
        --invoke main "$bt" 0
    BT_TIER=auto WEX_TIER_EAGER=some bt_same "mixed tiers, call_indirect" 10 \
        --invoke indirect "$bt" 0
fi

# 5b. guard pages: an out-of-bounds load whose value is used only after a
#     call whose callee traps still traps first (tests/wat/guard_sink.wat),
#     and one at 2^32 + 4 beside others (tests/wat/guard_slp.wat)
gs="$build/wat/guard_sink.wasm"
if [ -f "$gs" ]; then
    for how in "-O tier=native" "-O tier=auto"; do
        # shellcheck disable=SC2086
        WEX_TIER_EAGER=all "$build/wex" run --no-cache $how --bounds-checks=guard --invoke main \
            "$gs" 70000 >/dev/null 2>"$work/err"
        if grep -q "wasm trap: out of bounds memory access" "$work/err"; then
            pass "guard pages, $how: a load before a trapping call traps first"
        else
            fail "guard pages, $how: a load before a trapping call: $(tail -n 1 "$work/err")"
        fi
    done
fi
# ... and a load at 2^32 + 4 beside loads at 2..5, all unused, still faults
# (tests/wat/guard_slp.wat: LLVM 19's SLP vectoriser merged them)
gp="$build/wat/guard_slp.wasm"
if [ -f "$gp" ]; then
    "$build/wex" run --no-cache -O tier=native --bounds-checks=guard --invoke hash "$gp" \
        >/dev/null 2>"$work/err"
    if grep -q "wasm trap: out of bounds memory access" "$work/err"; then
        pass "guard pages: a load at 2^32 + 4 beside loads at 2..5 traps"
    else
        fail "guard pages: a load at 2^32 + 4 beside loads at 2..5: $(tail -n 1 "$work/err")"
    fi
fi

# 6. the automatic tier (-O tier=auto)
#    WEX_TIER_EAGER=all|some compiles every (every other) function on the
#    first entry into any and makes that entry wait for the code, so that
#    the switch happens at once and, with "some", interpreted and native
#    functions call each other throughout.
if [ ${#jsons[@]} -gt 0 ]; then
    auto_spec() { # LABEL EAGER WEX ARGS...
        local label="$1" eager="$2" wex="$3"
        shift 3
        WEX_TIER_EAGER=$eager "$wex" wast -O tier=auto "$@" "${jsons[@]}" >"$work/spec.log" 2>&1
        local rc=$? last
        last="$(tail -n 1 "$work/spec.log")"
        if [ "$rc" -eq 0 ] && [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed ]]; then
            pass "spec, automatic tier, $label: $last"
        else
            grep -v '^PASS ' "$work/spec.log" | head -n 40
            fail "spec, automatic tier, $label: exit $rc: $last"
        fi
    }
    auto_spec "every function at once, guard pages" all "$build/wex"
    auto_spec "every other function, explicit bounds" some "$build/wex" --bounds-checks=explicit
    if [ -n "$asan" ] && [ -x "$asan/wex" ] && [ -x "$asan/wex-llvmc" ]; then
        auto_spec "every other function, $asan" some "$asan/wex"
    fi
fi
for prog in test_threads test_instantiate test_wasi test_task test_br_table test_dispatch_loop \
    test_frame_fuse "test_runtime fib_guard fib_explicit kernels_guard kernels_explicit traps_guard traps_explicit malformed_inputs fault_handler_claims_only_guest_faults"; do
    set -- $prog
    exe="$build/$1"
    shift
    [ -x "$exe" ] || continue
    out="$(WEX_TIER=auto WEX_TIER_EAGER=some "$exe" "$@" 2>&1)"
    rc=$?
    last="$(printf '%s\n' "$out" | tail -n 1)"
    if [ "$rc" -eq 0 ] && { [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed ]] ||
        { [ $# -gt 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL'; }; }; then
        pass "$(basename "$exe"), automatic tier (every other function): $last"
    else
        printf '%s\n' "$out" | grep -v '^ok ' | head -n 20
        fail "$(basename "$exe"), automatic tier: exit $rc: $last"
    fi
done
if ls "$bdir"/*.native >/dev/null 2>&1; then
    while read -r name _ _ tiny; do
        case "$name" in '' | '#'*) continue ;; esac
        "$bdir/$name.native" "$tiny" >"$work/want" 2>/dev/null
        want_rc=$?
        WEX_TIER_EAGER=some "$build/wex" run --no-cache -O tier=auto "$bdir/$name.wasm" \
            "$tiny" >"$work/got" 2>"$work/err"
        rc=$?
        if [ "$rc" -eq "$want_rc" ] && cmp -s "$work/want" "$work/got"; then
            pass "$name $tiny, automatic tier (every other function)"
        else
            fail "$name $tiny, automatic tier: exit $rc (native $want_rc): $(head -c 300 "$work/err")"
        fi
    done <bench/suite/sizes
fi
fib="$bdir/fib.wasm"
if [ -f "$fib" ]; then
    "$bdir/fib.native" 40 >"$work/want"
    cache="$work/auto-cache"
    # Without eagerness: fib's recursion makes it hot within the run.
    WEX_TIER_TRACE=1 "$build/wex" run --cache-dir "$cache" -O tier=auto "$fib" 40 \
        >"$work/got" 2>"$work/err"
    if cmp -s "$work/want" "$work/got" && grep -q "^wex: tier-up: [0-9]* functions\?.* in [0-9.]* ms" "$work/err" &&
        ! grep -q "failed" "$work/err"; then
        pass "automatic tier: a hot function is compiled during the run"
        cp "$work/err" "$cache.first"
    else
        fail "automatic tier: no tier-up or wrong output: $(head -c 300 "$work/err")"
    fi
    # The entry now holds fib's code: the next run does not ask for it
    # again (the loop timer may still ask for start-up functions, which
    # fails here: no compiler at hand).
    WEX_LLVMC=/nonexistent/wex-llvmc WEX_TIER_TRACE=1 "$build/wex" run --cache-dir "$cache" \
        -O tier=auto "$fib" 40 >"$work/got" 2>"$work/err"
    if cmp -s "$work/want" "$work/got" && grep -q "tier-up.*[( ]fib[ )]" "$cache.first" &&
        ! grep -q "tier-up.*[( ]fib[ )]" "$work/err"; then
        pass "automatic tier: the next run starts with the cached native code"
    else
        fail "automatic tier: the second run: $(head -c 300 "$work/err")"
    fi
    # The native tier completes such an entry (the rest of the functions)
    # and writes it again; a third run needs no compiler.
    "$build/wex" run --cache-dir "$cache" -O tier=native "$fib" 40 >"$work/got" 2>"$work/err" &&
        WEX_LLVMC=/nonexistent/wex-llvmc "$build/wex" run --cache-dir "$cache" -O tier=native \
            "$fib" 40 >"$work/got2" 2>>"$work/err"
    if cmp -s "$work/want" "$work/got" && cmp -s "$work/want" "$work/got2"; then
        pass "native tier: an entry the automatic tier made is completed and saved"
    else
        fail "native tier after the automatic tier: $(head -c 300 "$work/err")"
    fi
    # A loop in a function entered once (vm's main loop): the running loop
    # moves to native code (on-stack replacement).
    if [ -f "$bdir/vm.wasm" ]; then
        "$bdir/vm.native" 300000 >"$work/want-vm"
        WEX_TIER_TRACE=1 "$build/wex" run --no-cache -O tier=auto "$bdir/vm.wasm" 300000 \
            >"$work/got" 2>"$work/err"
        if cmp -s "$work/want-vm" "$work/got" && grep -q "entering a loop of #[0-9]* at offset" "$work/err"; then
            pass "automatic tier: a running loop moves to native code"
        else
            fail "automatic tier: no loop entered natively, or wrong output: $(head -c 300 "$work/err")"
        fi
    fi
    # No compiler: the automatic tier interprets, correctly and quietly.
    WEX_LLVMC=/nonexistent/wex-llvmc "$build/wex" run --no-cache -O tier=auto "$fib" 40 \
        >"$work/got" 2>"$work/err"
    if cmp -s "$work/want" "$work/got" && [ ! -s "$work/err" ]; then
        pass "automatic tier without a compiler interprets"
    else
        fail "automatic tier without a compiler: $(head -c 300 "$work/err")"
    fi
    # A compiler that never finishes: the program still ends when it is
    # done (the compilation is cancelled, its process killed).
    printf '#!/bin/sh\nsleep 30\n' >"$work/slow-llvmc"
    chmod +x "$work/slow-llvmc"
    "$bdir/fib.native" 32 >"$work/want32"
    start=$(date +%s)
    WEX_LLVMC="$work/slow-llvmc" "$build/wex" run --no-cache -O tier=auto "$fib" 32 \
        >"$work/got" 2>"$work/err"
    rc=$?
    took=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ] && cmp -s "$work/want32" "$work/got" && [ "$took" -lt 10 ]; then
        pass "automatic tier: a compilation still running at exit does not hold the program ($took s)"
    else
        fail "automatic tier with a stuck compiler: exit $rc after $took s: $(head -c 300 "$work/err")"
    fi
fi

# 6b. the default tier (no -O tier=, no $WEX_TIER) is the automatic one:
#     the spec tests, and a program whose loop moves to native code
if [ ${#jsons[@]} -gt 0 ]; then
    env -u WEX_TIER "$build/wex" wast "${jsons[@]}" >"$work/spec.log" 2>&1
    rc=$?
    last="$(tail -n 1 "$work/spec.log")"
    if [ "$rc" -eq 0 ] && [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed ]]; then
        pass "spec, the default tier: $last"
    else
        grep -v '^PASS ' "$work/spec.log" | head -n 40
        fail "spec, the default tier: exit $rc: $last"
    fi
fi
if [ -f "$build/bench/vm.wasm" ]; then
    "$build/bench/vm.native" 300000 >"$work/want-vm"
    env -u WEX_TIER WEX_TIER_TRACE=1 "$build/wex" run --no-cache "$build/bench/vm.wasm" 300000 \
        >"$work/got" 2>"$work/err"
    if cmp -s "$work/want-vm" "$work/got" && grep -q "tier-up: .* in .* ms" "$work/err"; then
        pass "the default tier is the automatic one"
    else
        fail "the default tier: no tier-up, or wrong output: $(head -c 300 "$work/err")"
    fi
    # and without a compiler it is the interpreter (no counters, no messages)
    env -u WEX_TIER WEX_LLVMC=/nonexistent/wex-llvmc WEX_TIER_TRACE=1 "$build/wex" run --no-cache \
        "$build/bench/vm.wasm" 300000 >"$work/got" 2>"$work/err"
    if cmp -s "$work/want-vm" "$work/got" && [ ! -s "$work/err" ]; then
        pass "the default tier without a compiler interprets"
    else
        fail "the default tier without a compiler: $(head -c 300 "$work/err")"
    fi
fi

# 7. the automatic tier's compiler service (wex-llvmc --serve), driven
#    directly: requests on one process, a bad request, the idle exit
if [ -f "$build/bench/fib.wasm" ]; then
    while IFS= read -r line; do
        case "$line" in
        PASS*) pass "${line#PASS }" ;;
        FAIL*) fail "${line#FAIL }" ;;
        esac
    done < <(python3 tests/native/serve_check.py "$build/wex-llvmc" "$build/bench/fib.wasm" 2>&1)
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
