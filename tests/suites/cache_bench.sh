#!/usr/bin/env bash
# cache_bench.sh BUILD ... - smoke run of wex-bench-cache on a small module:
# checks that it runs and prints every row (never its timings: speed goals
# live in bench/RESULTS.md). Last line: "N passed, N failed".
set -uo pipefail
b="${1:-build}"
passed=0 failed=0
bench="$b/wex-bench-cache"
prog="$b/wasi-c/args_env.wasm"
if [ ! -x "$bench" ] || [ ! -f "$prog" ]; then
    echo "FAIL missing $bench or $prog"
    echo "0 passed, 1 failed"
    exit 1
fi
out="$("$bench" --runs 2 "$prog" 2>&1)"
status=$?
[ $status -eq 0 ] && { echo "PASS wex-bench-cache runs"; passed=$((passed + 1)); } \
    || { echo "FAIL wex-bench-cache exit $status"; failed=$((failed + 1)); }
for row in "cold compile" "module hash" "artifact write" "warm load: filesystem layer " \
    "warm load: filesystem layer, full check" "warm load: shared layer" \
    "warm load: thread-local layer" "wex_module_new, new engine" \
    "wex_module_new, same engine"; do
    if grep -q "^$row.* [0-9.]* [mu]s" <<<"$out"; then
        echo "PASS row '$row'"
        passed=$((passed + 1))
    else
        echo "FAIL row '$row' missing"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
