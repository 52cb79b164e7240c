#!/usr/bin/env bash
# scaling.sh - instantiations per second with 1 and 2 threads, alternated,
# several rounds, with the CPU time each run got (perf stat task-clock, or
# /usr/bin/time) and the load average, so that a run that did not have its
# second core can be told apart. Prints every run, then the medians.
#
#   bash bench/instantiate/scaling.sh [BUILD_DIR] [ROUNDS] [STRATEGY] [EXTRA BENCH OPTIONS...]
#
# Defaults: build, 5 rounds, pooling-cow; modules (a)-(d) from
# BUILD_DIR/bench-instantiate.
set -u
build=${1:-build}
rounds=${2:-5}
strategy=${3:-pooling-cow}
shift $(($# < 3 ? $# : 3))
bench="$build/wex-bench-instantiate"
dir="$build/bench-instantiate"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# What a second thread can add here at all (--cpu-check: two busy threads
# against one); on a machine whose two vCPUs share a core, or whose host is
# busy, two threads do much less than twice the work of one.
have_perf=0
perf stat -e task-clock true >/dev/null 2>&1 && have_perf=1
for r in $(seq 1 "$rounds"); do
    echo "round=$r $("$bench" --cpu-check) load=$(cut -d' ' -f1 /proc/loadavg)"
    for m in empty mem64k data16m tables; do
        [ -f "$dir/$m.wasm" ] || continue
        for t in 1 2; do
            load=$(cut -d' ' -f1 /proc/loadavg)
            if [ $have_perf = 1 ]; then
                out=$(perf stat -x, -e task-clock "$bench" --strategy "$strategy" --threads $t \
                    --iterations 3000 "$@" "$dir/$m.wasm" 2>"$tmp/err")
                cpu=$(grep task-clock "$tmp/err" | cut -d, -f1)
            else
                out=$(/usr/bin/time -f '%e %U %S' "$bench" --strategy "$strategy" --threads $t \
                    --iterations 3000 "$@" "$dir/$m.wasm" 2>"$tmp/err")
                cpu=$(tail -1 "$tmp/err" | awk '{print ($2 + $3) * 1000}')
            fi
            ips=$(sed -n 's/.*inst_per_s=\([0-9]*\).*/\1/p' <<<"$out")
            med=$(sed -n 's/.*median_ns=\([0-9]*\).*/\1/p' <<<"$out")
            # CPU time per instance (binaries from session 4 on): compares 1
            # and 2 threads whether or not the second core was there.
            cpi=$(sed -n 's/.*cpu_ns_per_instance=\([0-9]*\).*/\1/p' <<<"$out")
            echo "round=$r module=$m threads=$t inst_per_s=$ips median_ns=$med cpu_ms=${cpu%.*} cpu_ns_per_instance=${cpi:--} load=$load"
            echo "$m $t $ips ${cpi:-0}" >>"$tmp/all"
        done
    done
done
echo "# medians over $rounds rounds ($strategy $*)"
for m in empty mem64k data16m tables; do
    for t in 1 2; do
        v=$(awk -v m=$m -v t=$t '$1 == m && $2 == t {print $3}' "$tmp/all" 2>/dev/null | sort -n)
        [ -n "$v" ] || continue
        n=$(wc -l <<<"$v")
        c=$(awk -v m=$m -v t=$t '$1 == m && $2 == t {print $4}' "$tmp/all" | sort -n)
        echo "$m threads=$t median_inst_per_s=$(sed -n "$(((n + 1) / 2))p" <<<"$v") median_cpu_ns_per_instance=$(sed -n "$(((n + 1) / 2))p" <<<"$c")"
    done
done
