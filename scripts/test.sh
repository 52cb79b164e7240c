#!/usr/bin/env bash
# test.sh - build and test everything, as CI does:
#   1. dependencies (scripts/deps.sh)
#   2. Release build in build/, ASan+UBSan build in build-asan/, TSan build
#      in build-tsan/ (its unit tests run too)
#   3. every unit-test program (test_*) of both builds
#   4. the core spec tests (tests/spec/convert.sh), run by both builds' wex
#   5. the runner self-check (tests/spec/runner_check.sh)
#   6. the WASI preview1 suite (tests/wasi/run.sh), run by both builds' wex,
#      and the WASI C programs and escape suite (tests/wasi/run_c.sh)
#   7. every tests/suites/*.sh (benchmark smoke runs, multi-process tests)
# The last line is "N passed, N failed" over all of it (unit tests + spec
# commands + runner checks); the exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

JOBS="${JOBS:-2}"
# The default tier is auto, which compiles hot code in the background at
# moments that depend on the machine's load: call-depth limits and
# backtrace offsets would then vary from run to run. The suites here check
# what the interpreter and the library do, so they run with the
# interpreter; the tiers' own checks (tests/suites/native.sh, threads.sh)
# choose theirs with -O tier=, and native.sh also runs the default as it
# ships.
export WEX_TIER=interp
total_passed=0 total_failed=0 spec_skipped=0
failures=()

bash scripts/deps.sh || { echo "test: dependencies missing" >&2; exit 1; }

# Configure and build one tree; any build failure ends the run.
build() {
    local dir="$1"
    shift
    echo "== build $dir"
    if ! cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1; then
        cat "$dir/configure.log"
        echo "test: configuring $dir failed" >&2
        exit 1
    fi
    if ! cmake --build "$dir" -j "$JOBS"; then
        echo "test: building $dir failed" >&2
        exit 1
    fi
}
mkdir -p build build-asan build-tsan
build build -DCMAKE_BUILD_TYPE=Release
build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEX_SANITIZE=ON
build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEX_TSAN=ON

# Add a program's "N passed, N failed[, N skipped]" last line to the totals.
# A program that exits non-zero without reporting a failure counts one.
tally() {
    local name="$1" status="$2" last="$3"
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
        local p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
        total_passed=$((total_passed + p))
        total_failed=$((total_failed + f))
        spec_skipped=$((spec_skipped + s))
        if [ "$f" -eq 0 ] && [ "$status" -ne 0 ]; then
            total_failed=$((total_failed + 1))
            f=1
        fi
        [ "$f" -gt 0 ] && failures+=("$name ($f failed)")
    else
        total_failed=$((total_failed + 1))
        failures+=("$name (exit $status, no summary line)")
    fi
}

# 3. unit tests (the TSan build matters for the threaded ones)
for dir in build build-asan build-tsan; do
    for t in "$dir"/test_*; do
        if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
        echo "== unit $t"
        out="$("$t" 2>&1)"
        status=$?
        printf '%s\n' "$out" | grep -v '^ok ' || true
        tally "$t" "$status" "$(printf '%s\n' "$out" | tail -n 1)"
    done
done

# 4. spec tests
echo "== convert spec tests"
spec=build/spec
if ! bash tests/spec/convert.sh "$spec"; then
    total_failed=$((total_failed + 1))
    failures+=("spec conversion")
fi
if [ -f "$spec/SKIPPED" ]; then
    echo "spec tests: SKIPPED ($(cat "$spec/SKIPPED"))"
else
    shopt -s nullglob
    jsons=("$spec"/*/*.json)
    shopt -u nullglob
    for dir in build build-asan; do
        echo "== spec tests with $dir/wex (${#jsons[@]} files; log in $dir/spec.log)"
        "$dir/wex" wast "${jsons[@]}" >"$dir/spec.log" 2>&1
        status=$?
        grep -v '^PASS ' "$dir/spec.log" | head -n 200
        tally "$dir/wex wast" "$status" "$(tail -n 1 "$dir/spec.log")"
    done
    # deterministic engines: canonical NaNs pass nan:canonical and
    # nan:arithmetic alike, so everything passes as before
    echo "== spec tests with build/wex -O deterministic=y (log in build/spec-det.log)"
    build/wex wast -O deterministic=y "${jsons[@]}" >build/spec-det.log 2>&1
    status=$?
    grep -v '^PASS ' build/spec-det.log | head -n 200
    tally "build/wex wast -O deterministic=y" "$status" "$(tail -n 1 build/spec-det.log)"
fi

# 5. the runner must fail what it should
echo "== runner self-check"
out="$(bash tests/spec/runner_check.sh build/wex build/runner-check "$spec" 2>&1)"
status=$?
printf '%s\n' "$out"
tally "runner_check" "$status" "$(printf '%s\n' "$out" | tail -n 1)"

# 6. WASI preview1 suite (skipped, with a line saying so, if it is absent)
for dir in build build-asan; do
    echo "== WASI preview1 suite with $dir/wex (log in $dir/wasi.log)"
    bash tests/wasi/run.sh "$dir/wex" >"$dir/wasi.log" 2>&1
    status=$?
    grep -v '^PASS ' "$dir/wasi.log" | head -n 100
    tally "$dir/wex wasi" "$status" "$(tail -n 1 "$dir/wasi.log")"
    echo "== WASI C programs and escape suite with $dir/wex"
    out="$(bash tests/wasi/run_c.sh "$dir" 2>&1)"
    status=$?
    printf '%s\n' "$out" | grep -v '^PASS ' || true
    tally "$dir wasi-c" "$status" "$(printf '%s\n' "$out" | tail -n 1)"
done

# 7. further suites: each tests/suites/*.sh is run as
#    bash SCRIPT BUILD ASAN_BUILD TSAN_BUILD
#    and ends with its own "N passed, N failed" line.
for suite in tests/suites/*.sh; do
    [ -f "$suite" ] || continue
    echo "== suite $suite"
    out="$(bash "$suite" build build-asan build-tsan 2>&1)"
    status=$?
    printf '%s\n' "$out" | grep -v '^PASS ' || true
    tally "$suite" "$status" "$(printf '%s\n' "$out" | tail -n 1)"
done

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
[ "$spec_skipped" -gt 0 ] && echo "skipped (SIMD, text modules): $spec_skipped"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
