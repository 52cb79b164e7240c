#!/usr/bin/env bash
# memcheck.sh BUILD - every unit-test program of BUILD (the Release build)
# under valgrind's memcheck: an invalid read or write, a use of an
# uninitialised value or a bad free in any test is a failure (each test runs
# in its own child process, which exits with valgrind's error status).
# The interpreter (WEX_TIER=interp) with explicit bounds checks
# (WEX_BOUNDS=explicit): with guard pages, out-of-bounds accesses fault on
# purpose, which memcheck reports as invalid.
#
# Left out, by name (WEX_TEST_SKIP), as memcheck cannot run them:
#   - tests that fault on purpose: a guest access into a guard page
#     (*_guard, guard_pages) or a host fault the handler must pass on;
#   - tests whose engines reserve more address space for their instance
#     pools than valgrind gives a process (it then fails "cannot reserve
#     memory" or finds the pool smaller);
#   - tests of process_madvise, which valgrind 3.19 does not know
#     (pidfd_open, syscall 434);
#   - a timer-order test whose deadlines valgrind's serialised threads miss,
#     and the path-walk races against a swapping process, which need the
#     guest to run at speed (and valgrind 3.19 lacks openat2, syscall 437).
# Prints one line per program, then "N passed, N failed" over the tests run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
build="${1:-build}"
if ! command -v valgrind >/dev/null; then
    echo "memcheck: valgrind not found (scripts/deps.sh installs it): skipped"
    if [ "${CI:-}" = true ]; then
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "0 passed, 0 failed"
    exit 0
fi
declare -A skip=(
    [test_backtrace]="memory_oob_guard"
    [test_call_fuse]="guard_pages"
    [test_dispatch_loop]="guard_pages"
    [test_fusion]="fused_guard"
    [test_runtime]="traps_guard fault_handler_claims_only_guest_faults"
    [test_instantiate]="strategies_same_results_guard isolation_guard batch_flush_on_full_queue batch_fallback_no_process_madvise"
    [test_task]="timers_fire_in_due_order_not_before_due"
    [test_threads]="saturated_pool_still_makes_progress"
    [test_wasi_path]="path_race_openat2 path_race_walk"
    [test_cache]="fault_truncated_file fault_empty_file fault_flipped_metadata_byte fault_flipped_code_byte_full_verify fault_wrong_engine_id fault_wrong_format_version fault_wrong_module_hash threads_share_engine_and_directory"
)
export WEX_TIER=interp WEX_BOUNDS=explicit
passed=0 failed=0 skipped=0
log="$(mktemp "${TMPDIR:-/tmp}/wex-memcheck.XXXXXX")"
trap 'rm -f "$log"' EXIT
for t in "$build"/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name="$(basename "$t")"
    WEX_TEST_SKIP="${skip[$name]:-}" timeout 900 valgrind -q --error-exitcode=99 \
        --suppressions=/dev/null "$t" >"$log" 2>&1
    rc=$?
    last="$(tail -n 1 "$log")"
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
        passed=$((passed + p))
        skipped=$((skipped + s))
        if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
            failed=$((failed + (f > 0 ? f : 1)))
            grep -v '^ok \|^skip ' "$log" | head -n 60
            echo "FAIL memcheck $name: exit $rc: $last"
        else
            echo "PASS memcheck $name: $last"
        fi
    else
        failed=$((failed + 1))
        tail -n 40 "$log"
        echo "FAIL memcheck $name: exit $rc, no summary line"
    fi
done
echo "memcheck: $skipped tests left out (see the list above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
