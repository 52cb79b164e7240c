#!/usr/bin/env bash
# cache_procs.sh BUILD ASAN_BUILD TSAN_BUILD - the compiled-module cache
# through the `wex` command, with several processes at once: concurrent
# runs on one cache directory (entries deleted under them, as eviction
# would), a damaged entry, a FIFO or a directory in an entry's place, stats
# and clean, compile and --allow-precompiled.
# Every directory is a fresh temporary one. Last line: "N passed, N failed".
set -uo pipefail
builds=("${1:-build}" "${2:-build-asan}")
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for b in "${builds[@]}"; do
    wex="$b/wex"
    prog="$b/wasi-c/args_env.wasm"
    if [ ! -x "$wex" ] || [ ! -f "$prog" ]; then
        bad "$b: cache suite" "missing $wex or $prog"
        continue
    fi
    want="$("$wex" run --no-cache "$prog" x y 2>&1)"
    dir="$tmp/$(basename "$b")"

    # 1. many processes, one directory; some delete the entry as they go
    pids=()
    for p in 1 2 3 4 5 6; do
        (
            for i in 1 2 3 4 5 6 7 8; do
                got="$("$wex" run --cache-dir "$dir" "$prog" x y 2>&1)" || exit 1
                [ "$got" = "$want" ] || exit 1
                if [ $(((i + p) % 3)) -eq 0 ]; then rm -f "$dir"/*/*.cwasm; fi
            done
        ) &
        pids+=($!)
    done
    all=0
    for pid in "${pids[@]}"; do wait "$pid" || all=1; done
    [ $all -eq 0 ] && ok "$b: 6 processes x 8 runs on one directory" || bad "$b: concurrent runs"
    left="$(find "$dir" -name '.tmp-*' | wc -l)"
    [ "$left" -eq 0 ] && ok "$b: no temporary files left" || bad "$b: $left temporary files left"

    # 2. a warm run maps the entry; stats sees it
    "$wex" run --cache-dir "$dir" "$prog" x y >/dev/null 2>&1
    n="$("$wex" cache stats --cache-dir "$dir" | sed -n 's/^entries: //p')"
    [ "$n" = "1" ] && ok "$b: cache stats counts one entry" || bad "$b: cache stats" "entries '$n'"

    # 3. a damaged entry is replaced and the run is still right
    f="$(ls "$dir"/*/*.cwasm | head -1)"
    size="$(stat -c %s "$f")"
    truncate -s $((size / 3)) "$f"
    got="$("$wex" run --cache-dir "$dir" "$prog" x y 2>&1)"
    [ "$got" = "$want" ] && ok "$b: truncated entry: correct run" || bad "$b: truncated entry run"
    [ "$(stat -c %s "$f")" = "$size" ] && ok "$b: truncated entry rewritten" \
        || bad "$b: truncated entry not rewritten"

    # 3b. a FIFO or a directory in the entry's place is a miss: the run is
    # right, and does not hang opening the FIFO (bounded by timeout)
    for kind in fifo directory; do
        rm -rf "$f"
        if [ "$kind" = fifo ]; then mkfifo "$f"; else mkdir "$f"; fi
        got="$(timeout 20 "$wex" run --cache-dir "$dir" "$prog" x y 2>&1)"
        st=$?
        [ "$st" -eq 0 ] && [ "$got" = "$want" ] && ok "$b: a $kind as the entry: correct run" \
            || bad "$b: a $kind as the entry" "status $st, output '$got'"
    done
    rm -rf "$f"

    # 4. clean
    "$wex" cache clean --cache-dir "$dir" >/dev/null
    n="$("$wex" cache stats --cache-dir "$dir" | sed -n 's/^entries: //p')"
    [ "$n" = "0" ] && ok "$b: cache clean" || bad "$b: cache clean" "entries '$n'"

    # 5. --no-cache writes nothing
    "$wex" run --no-cache --cache-dir "$dir/none" "$prog" x y >/dev/null 2>&1
    [ ! -e "$dir/none" ] && ok "$b: --no-cache writes nothing" || bad "$b: --no-cache wrote"

    # 6. compile, and the opt-in for artifacts
    "$wex" compile "$prog" -o "$tmp/p.cwasm" && ok "$b: compile" || bad "$b: compile"
    if "$wex" run "$tmp/p.cwasm" x y >/dev/null 2>&1; then
        bad "$b: an artifact ran without --allow-precompiled"
    else
        ok "$b: artifacts need --allow-precompiled"
    fi
    got="$("$wex" run --allow-precompiled "$tmp/p.cwasm" x y 2>&1)"
    [ "$got" = "$want" ] && ok "$b: --allow-precompiled run" || bad "$b: --allow-precompiled run"
    printf 'WEXCWASM garbage' >"$tmp/bad.cwasm"
    if "$wex" run --allow-precompiled "$tmp/bad.cwasm" 2>"$tmp/err"; then
        bad "$b: a damaged artifact ran"
    elif grep -q "failed to load" "$tmp/err"; then
        ok "$b: a damaged artifact is a clear error"
    else
        bad "$b: damaged artifact message" "$(cat "$tmp/err")"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
