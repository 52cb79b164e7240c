#!/usr/bin/env bash
# threads.sh BUILD ASAN_BUILD TSAN_BUILD - wasi-threads under `wex run`, with
# each build's wex: tests/wat/wasi_threads.wat (built into BUILD/wat/) sums
# numbers on 1 to 16 threads joined with wait/notify, prints from threads,
# and ends the program from a thread (proc_exit, trap) and from the main
# thread while a thread still runs; tests/wat/wasi_block.wat writes while
# its threads block in WASI calls. Last line: "N passed, N failed".
set -uo pipefail
passed=0 failed=0

# check NAME WANT_STATUS WANT_STDOUT WANT_STDERR_SUBSTRING CMD...
check() {
    local name="$1" want_status="$2" want_out="$3" want_err="$4"
    shift 4
    local out err status
    err="$(mktemp)"
    out="$(timeout 60 "$@" 2>"$err")"
    status=$?
    if [ "$status" -eq "$want_status" ] && [ "$out" = "$want_out" ] &&
        { [ -z "$want_err" ] || grep -qF -- "$want_err" "$err"; }; then
        passed=$((passed + 1))
        echo "PASS $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: status $status (want $want_status), stdout '$out' (want '$want_out')"
        sed 's/^/    /' "$err" | head -20
    fi
    rm -f "$err"
}

# TSan sleeps a second at exit by default; nothing here needs it.
export TSAN_OPTIONS="atexit_sleep_ms=0 ${TSAN_OPTIONS:-}"

export WEX_TIER_EAGER=some
hello=$'hello from a thread\nhello from a thread\nhello from a thread'
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fifo="$tmp/stdin"
mkfifo "$fifo"
for dir in "$@"; do
    wex="$dir/wex" wasm="$dir/wat/wasi_threads.wasm"
    if [ ! -x "$wex" ] || [ ! -f "$wasm" ]; then
        echo "FAIL $dir: no $wex or $wasm"
        failed=$((failed + 1))
        continue
    fi
    modes=(--bounds-checks=explicit)
    [ "$dir" = "$1" ] && modes+=(--bounds-checks=guard)
    # the native tier (guard pages in the release build), where it is built
    [ "$dir" = "$1" ] && [ -x "$dir/wex-llvmc" ] && modes+=(-Otier=native)
    # the automatic tier, every other function compiled on the first entry
    # into any (WEX_TIER_EAGER below): threads enter functions while they are
    # compiled and switched, and interpreted and native code call each other
    [ -x "$dir/wex-llvmc" ] && modes+=(-Otier=auto)
    for mode in "${modes[@]}"; do
        check "$dir $mode _start" 0 "$hello" "" "$wex" run "$mode" "$wasm"
        for t in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
            for round in 1 2; do
                check "$dir $mode sum $t threads #$round" 0 "199990000" "" \
                    "$wex" run "$mode" --invoke sum "$wasm" "$t" 20000
            done
        done
        check "$dir $mode proc_exit in a thread" 7 "" "" \
            "$wex" run "$mode" --invoke exit_in_thread "$wasm"
        check "$dir $mode trap in a thread" 1 "" "wasm trap: unreachable" \
            "$wex" run "$mode" --invoke trap_in_thread "$wasm"
        check "$dir $mode main exits while a thread runs" 3 "" "" \
            "$wex" run "$mode" --invoke exit_while_running "$wasm"
        # A thread spinning for ever while the main thread waits for it is
        # stopped by -W timeout (the thread inherits the main store's
        # deadline); the trap in the thread ends the program.
        check "$dir $mode -W timeout stops a spinning thread" 1 "" "wasm trap: interrupt" \
            timeout 20 "$wex" run "$mode" -W timeout=200ms --invoke spin_in_thread "$wasm"
        # Threads blocked in fd_read on stdin (a FIFO that wex itself holds
        # open for writing, so no EOF ever comes), in an hour-long
        # poll_oneoff and in sched_yield must not hold up the main thread's
        # fd_write and fd_close: done in well under a second, or hung.
        check "$dir $mode WASI calls while threads block in WASI calls" 0 \
            $'written\nclosed' "" \
            timeout 20 "$wex" run "$mode" --invoke blocked "$dir/wat/wasi_block.wasm" 0<>"$fifo"
    done
done
echo "$passed passed, $failed failed"
