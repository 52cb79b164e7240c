#!/usr/bin/env bash
# runner_check.sh WEX WORKDIR [SPECDIR] - check that the spec runner
# (`wex wast`) really fails what it should, so that a green spec run means
# something:
#   selftest/pass.wast  every command passes (one text module is skipped);
#   selftest/fail.wast  every command after the first module fails, each
#                       stating a wrong expectation of a different kind;
#   planted             a copy of SPECDIR/i32 (converted suite) with one
#                       expected value changed fails exactly one more
#                       command than the original, and exits non-zero.
# Prints one line per check and ends with "N passed, N failed".
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 WEX WORKDIR [SPECDIR]" >&2
    exit 2
fi
wex="$(realpath "$1")"
work="$2"
spec="${3:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$work"
passed=0 failed=0

ok() { echo "runner-check: $1: ok"; passed=$((passed + 1)); }
bad() { echo "runner-check: $1: FAIL ($2)"; failed=$((failed + 1)); }

# The "N passed, N failed, N skipped" totals of a wex wast run: sets
# r_passed r_failed r_skipped r_status.
run_wast() {
    local out
    out="$("$wex" wast "$@" 2>&1)"
    r_status=$?
    local last
    last="$(printf '%s\n' "$out" | tail -n 1)"
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        r_passed=${BASH_REMATCH[1]} r_failed=${BASH_REMATCH[2]} r_skipped=${BASH_REMATCH[3]}
    else
        r_passed=-1 r_failed=-1 r_skipped=-1
        printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /'
    fi
}

for t in pass fail; do
    mkdir -p "$work/selftest/$t"
    if ! wast2json "$here/selftest/$t.wast" -o "$work/selftest/$t/$t.json"; then
        bad "selftest-$t" "wast2json failed"
        continue
    fi
    run_wast "$work/selftest/$t/$t.json"
    ncmd=$(grep -c '^  {"type": ' "$work/selftest/$t/$t.json")
    if [ "$t" = pass ]; then
        if [ "$r_status" -eq 0 ] && [ "$r_failed" -eq 0 ] && [ "$r_skipped" -eq 1 ] &&
            [ "$r_passed" -eq $((ncmd - 1)) ]; then
            ok selftest-pass
        else
            bad selftest-pass "exit $r_status, $r_passed passed, $r_failed failed, $r_skipped skipped of $ncmd; rerun: $wex wast -v $work/selftest/$t/$t.json"
        fi
    else
        if [ "$r_status" -ne 0 ] && [ "$r_passed" -eq 1 ] && [ "$r_failed" -eq $((ncmd - 1)) ]; then
            ok selftest-fail
        else
            bad selftest-fail "exit $r_status, $r_passed passed, $r_failed failed of $ncmd (want 1 passed, $((ncmd - 1)) failed); rerun: $wex wast $work/selftest/$t/$t.json"
        fi
    fi
done

if [ -n "$spec" ] && [ -f "$spec/i32/i32.json" ]; then
    rm -rf "$work/planted"
    cp -r "$spec/i32" "$work/planted"
    json="$work/planted/i32.json"
    run_wast "$json"
    base_failed=$r_failed
    # Change the first expected i32 value by one.
    line=$(grep -n -m1 '"expected": \[{"type": "i32", "value": "[0-9]*"}\]' "$json" | cut -d: -f1)
    if [ -z "$line" ]; then
        bad planted "no i32 expectation found in i32.json"
    else
        val=$(sed -n "${line}p" "$json" | sed 's/.*"expected": \[{"type": "i32", "value": "\([0-9]*\)"}\].*/\1/')
        new=$(((val + 1) % 4294967296))
        sed -i "${line}s/\"expected\": \[{\"type\": \"i32\", \"value\": \"$val\"}\]/\"expected\": [{\"type\": \"i32\", \"value\": \"$new\"}]/" "$json"
        run_wast "$json"
        if [ "$r_status" -ne 0 ] && [ "$base_failed" -ge 0 ] && [ "$r_failed" -eq $((base_failed + 1)) ]; then
            ok planted
        else
            bad planted "exit $r_status, $r_failed failed, original $base_failed failed"
        fi
    fi
else
    echo "runner-check: planted: skipped (no converted spec suite)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
