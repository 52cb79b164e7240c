#!/usr/bin/env bash
# fuzz.sh BUILD ASAN_BUILD TSAN_BUILD - the short fuzz and differential runs
# of CI:
#   1. tests/fuzz/run.sh: the four libFuzzer harnesses, $WEX_CI_FUZZ_SECONDS
#      (default 10) each, in build-fuzz/ (built here if needed: clang,
#      ASan+UBSan, a few minutes); skipped, with a line saying so, without
#      clang's libFuzzer;
#   2. tests/fuzz/diff.py: $WEX_CI_DIFF_MODULES (default 1000, about 20 s) modules from
#      binaryen's translate-to-fuzz, run by BUILD/diff_driver in both bounds
#      modes and by node; skipped without wasm-opt or node;
#   3. the same with the native tier too (diff.py --native), for
#      $WEX_CI_DIFF_NATIVE_MODULES (default 200) other seeds, when
#      BUILD/wex-llvmc is built (each module is compiled by LLVM: ~0.1 s);
#   4. deterministic engines against each other (diff.py --det: NaNs kept
#      in the modules, every bit compared across tiers), for
#      $WEX_CI_DIFF_DET_MODULES (default 200) more seeds, with wex-llvmc.
# Each run counts as its own passes and failures (harnesses, modules).
# Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
build="${1:-build}"
passed=0 failed=0

# Add a run's "N passed, N failed" to the totals; no such line is a failure.
tally() {
    local status="$1" last="$2"
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        [ "${BASH_REMATCH[2]}" -eq 0 ] && [ "$status" -ne 0 ] && failed=$((failed + 1))
    else
        failed=$((failed + 1))
    fi
}

start=$SECONDS
echo "== fuzz: tests/fuzz/run.sh --seconds ${WEX_CI_FUZZ_SECONDS:-10}"
out="$(bash tests/fuzz/run.sh --seconds "${WEX_CI_FUZZ_SECONDS:-10}" --build build-fuzz 2>&1)"
status=$?
printf '%s\n' "$out"
tally "$status" "$(printf '%s\n' "$out" | tail -n 1)"
echo "fuzz: $((SECONDS - start))s"

start=$SECONDS
echo "== differential: tests/fuzz/diff.py --count ${WEX_CI_DIFF_MODULES:-1000}"
out="$(python3 tests/fuzz/diff.py --count "${WEX_CI_DIFF_MODULES:-1000}" --build "$build" 2>&1)"
status=$?
printf '%s\n' "$out" | grep -v '^diff: seeds '
tally "$status" "$(printf '%s\n' "$out" | tail -n 1)"
echo "differential: $((SECONDS - start))s"

if [ -x "$build/wex-llvmc" ]; then
    start=$SECONDS
    n="${WEX_CI_DIFF_NATIVE_MODULES:-200}"
    echo "== differential with the native tier: tests/fuzz/diff.py --native --count $n --seed 500000"
    out="$(python3 tests/fuzz/diff.py --native --count "$n" --seed 500000 --build "$build" 2>&1)"
    status=$?
    printf '%s\n' "$out" | grep -v '^diff: seeds '
    tally "$status" "$(printf '%s\n' "$out" | tail -n 1)"
    echo "differential, native tier: $((SECONDS - start))s"
    start=$SECONDS
    n="${WEX_CI_DIFF_DET_MODULES:-200}"
    echo "== differential, deterministic: tests/fuzz/diff.py --det --count $n --seed 600000"
    out="$(python3 tests/fuzz/diff.py --det --count "$n" --seed 600000 --build "$build" 2>&1)"
    status=$?
    printf '%s
' "$out" | grep -v '^diff: seeds '
    tally "$status" "$(printf '%s
' "$out" | tail -n 1)"
    echo "differential, deterministic: $((SECONDS - start))s"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
