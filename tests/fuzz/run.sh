#!/usr/bin/env bash
# run.sh [--minutes N | --seconds S] [--build DIR] [HARNESS...] - build the
# libFuzzer harnesses (tests/fuzz/fuzz_*.c) if needed and run each for its
# share of the time.
#
#   --minutes N   total time, split evenly over the harnesses run
#   --seconds S   time per harness (default 40: the CI run, ~3 minutes)
#   --build DIR   the fuzz build (default build-fuzz): CC=clang cmake
#                 -DWEX_FUZZ=ON, made here when DIR has no harnesses yet
#   HARNESS       fuzz_module, fuzz_run, fuzz_artifact, fuzz_wasi (default: all)
#
# Seeds: fuzz_module and fuzz_run start from every binary module of the
# spec suite (../shared/testsuite, converted by tests/spec/convert.sh into
# DIR/spec; without the suite they start from nothing, and say so).
# What libFuzzer finds is kept in DIR/corpus/NAME and reused by later runs.
# Each harness's log is DIR/logs/NAME.log. A crash, sanitizer report, leak or
# hang (-timeout=10) leaves the input as DIR/crashes/NAME-crash-* (or
# leak-*, timeout-*, oom-*), is named here, and makes the exit status 1.
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev); without
# them it prints "skipped" and exits 0. Last line: "N passed, N failed"
# (harnesses).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=build-fuzz per=40 minutes=""
harnesses=()
while [ $# -gt 0 ]; do
    case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seconds) per="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    fuzz_*) harnesses+=("$1"); shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#harnesses[@]} -eq 0 ] && harnesses=(fuzz_module fuzz_run fuzz_artifact fuzz_wasi)
if [ -n "$minutes" ]; then
    per=$(( minutes * 60 / ${#harnesses[@]} ))
    [ "$per" -lt 1 ] && per=1
fi
cd "$root" || exit 1
mkdir -p "$build"
build="$(cd "$build" && pwd)"

# clang with libFuzzer?
probe="$build/libfuzzer-probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){return 0;}' >"$probe"
if ! command -v clang >/dev/null 2>&1 ||
    ! clang -fsanitize=fuzzer "$probe" -o "$build/libfuzzer-probe" >/dev/null 2>&1; then
    echo "fuzz: clang with libFuzzer not found (apt-get install clang libclang-rt-14-dev): skipped"
    echo "0 passed, 0 failed"
    exit 0
fi

missing=0
for h in "${harnesses[@]}"; do [ -x "$build/$h" ] || missing=1; done
if [ "$missing" -eq 1 ] || [ -n "${FUZZ_REBUILD:-}" ]; then
    echo "== fuzz build in $build"
    if ! CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEX_FUZZ=ON \
        >"$build/configure.log" 2>&1; then
        cat "$build/configure.log"
        echo "0 passed, 1 failed"
        exit 1
    fi
    if ! nice -n 10 cmake --build "$build" -j "${JOBS:-2}" >"$build/build.log" 2>&1; then
        tail -n 40 "$build/build.log"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

# Seed corpus from the spec suite: every binary module (text modules are
# .wat). Kept between runs.
seeds="$build/seeds/modules"
if [ ! -f "$build/seeds/done" ]; then
    mkdir -p "$seeds"
    if out="$(bash tests/spec/convert.sh "$build/spec" 2>&1)"; then
        if [ -f "$build/spec/SKIPPED" ]; then
            echo "fuzz: $(cat "$build/spec/SKIPPED"): harnesses start with no seeds"
        else
            # distinct contents only, at most 64 KiB, named by their hash:
            # libFuzzer runs every seed before fuzzing, so fewer is faster
            find "$build/spec" -name '*.wasm' -size -65k -print0 |
                xargs -0 md5sum | sort -u -k1,1 |
                while read -r sum file; do cp "$file" "$seeds/$sum.wasm"; done
            touch "$build/seeds/done"
        fi
    else
        printf '%s\n' "$out" | tail -n 5
        echo "fuzz: spec conversion failed: harnesses start with no seeds"
    fi
fi
echo "fuzz: $(find "$seeds" -type f | wc -l) seed modules from the spec suite"

mkdir -p "$build/crashes" "$build/logs"
passed=0 failed=0 total=0
for h in "${harnesses[@]}"; do
    corpus="$build/corpus/$h"
    mkdir -p "$corpus"
    args=(-max_total_time="$per" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1
          -artifact_prefix="$build/crashes/$h-")
    dirs=("$corpus")
    case "$h" in
    fuzz_module|fuzz_run) dirs+=("$seeds"); args+=(-max_len=65536) ;;
    fuzz_wasi) args+=(-dict="$root/tests/fuzz/wasi.dict" -max_len=4096) ;;
    fuzz_artifact) args+=(-max_len=512) ;;
    esac
    log="$build/logs/$h.log"
    echo "== $h for ${per}s"
    nice -n 10 "$build/$h" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
    status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    execs="${execs:-0}"
    total=$((total + execs))
    if [ "$status" -eq 0 ]; then
        echo "PASS $h: $execs executions, corpus $(find "$corpus" -type f | wc -l) inputs"
        grep -h '^fuzz_run: .* compiled' "$log" | tail -n 1
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        input="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        echo "FAIL $h: exit $status after $execs executions; input: ${input:-none written}; log: $log"
        grep -m 12 -E 'ERROR|runtime error|SUMMARY|fuzz_[a-z]*:|ALARM|deadly|leak' "$log" | sed 's/^/    /'
    fi
done
echo "fuzz: $total executions in all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
