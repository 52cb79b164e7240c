#!/usr/bin/env bash
# instantiate_bench.sh BUILD ASAN_BUILD TSAN_BUILD - a smoke run of
# wex-bench-instantiate (issue 4): a few iterations of every strategy on each
# benchmark module, with 1 and 2 threads, in the Release build and (2 threads)
# the TSan build. Asserts the output format and that each strategy ran; never
# timings. Also checks `wex inspect` and `wex run -v` report the image.
# Last line: "N passed, N failed".
# (grep -q reads a here-string, never a pipe: under pipefail, grep -q exiting
# at its first match could fail the writer with SIGPIPE, and the test with it.)
set -uo pipefail
build="${1:-build}" tsan="${3:-build-tsan}"
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

line_re='^(pooling-cow|recreate-cow|pooling|recreate) median_ns=[0-9]+ p99_ns=[0-9]+ inst_per_s=[0-9]+ threads=[0-9]+ iterations=[0-9]+ cpu_ns_per_instance=[0-9]+$'

# check NAME OUTPUT THREADS: four well-formed lines, one per strategy.
check() {
    local name="$1" out="$2" threads="$3" s
    local n
    n=$(printf '%s\n' "$out" | grep -Ec "$line_re")
    if [ "$n" -ne 4 ] || [ "$(printf '%s\n' "$out" | grep -c .)" -ne 4 ]; then
        bad "$name: expected 4 result lines, got:"
        printf '%s\n' "$out" | sed 's/^/    /'
        return
    fi
    for s in pooling-cow recreate-cow pooling recreate; do
        if ! grep -Eq "^$s .* threads=$threads " <<<"$out"; then
            bad "$name: no line for $s with threads=$threads"
            return
        fi
    done
    ok "$name"
}

dir="$build/bench-instantiate"
for m in empty mem64k data16m tables; do
    f="$dir/$m.wasm"
    if [ ! -f "$f" ]; then
        if [ "$m" = tables ]; then echo "SKIP $m (clang cannot target wasm32-wasi)"; continue; fi
        bad "$f missing"
        continue
    fi
    for t in 1 2; do
        out="$("$build/wex-bench-instantiate" --strategy all --threads $t --iterations 5 --min-seconds 0 "$f" 2>&1)"
        status=$?
        [ $status -eq 0 ] || { bad "$m threads=$t: exit $status"; printf '%s\n' "$out"; continue; }
        check "$m threads=$t" "$out" "$t"
    done
done
if [ -x "$tsan/wex-bench-instantiate" ]; then
    for m in mem64k data16m; do
        f="$tsan/bench-instantiate/$m.wasm"
        out="$("$tsan/wex-bench-instantiate" --threads 2 --iterations 3 --min-seconds 0 "$f" 2>&1)"
        status=$?
        if [ $status -ne 0 ] || grep -q "ThreadSanitizer" <<<"$out"; then
            bad "tsan $m threads=2 (exit $status)"
            printf '%s\n' "$out" | head -40
        else
            check "tsan $m threads=2" "$out" 2
        fi
    done
fi
out="$("$build/wex-bench-instantiate" --strategy pooling-cow --iterations 3 --min-seconds 0 "$dir/mem64k.wasm" 2>&1)"
if [ "$(printf '%s\n' "$out" | grep -Ec "$line_re")" -eq 1 ]; then ok "--strategy NAME"; else bad "--strategy NAME: $out"; fi
# Per-thread slot caches off (session 4), with 2 threads: the shared path.
out="$("$build/wex-bench-instantiate" --strategy pooling-cow --thread-cache 0 --threads 2 --iterations 3 --min-seconds 0 "$dir/mem64k.wasm" 2>&1)"
if [ "$(printf '%s\n' "$out" | grep -Ec "$line_re")" -eq 1 ]; then ok "--thread-cache 0"; else bad "--thread-cache 0: $out"; fi
"$build/wex-bench-instantiate" --strategy nope "$dir/empty.wasm" >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown strategy is a usage error" || bad "unknown strategy is a usage error"

out="$("$build/wex" inspect "$dir/data16m.wasm" 2>&1)"
if grep -q '^image: 16777216 bytes$' <<<"$out"; then ok "inspect image"; else bad "inspect image: $out"; fi
out="$("$build/wex" inspect "$build/wat/instantiate_noimage.wasm" 2>&1)"
if grep -q '^image: none (.*global.get' <<<"$out"; then ok "inspect no image"; else bad "inspect no image: $out"; fi
# An artifact of `wex compile` is inspected from its metadata (nothing runs);
# a truncated one is a clear error.
tmpc=$(mktemp -d)
if "$build/wex" compile "$dir/data16m.wasm" -o "$tmpc/d.cwasm" >/dev/null 2>&1; then
    out="$("$build/wex" inspect "$tmpc/d.cwasm" 2>&1)"
    if grep -q '^format: precompiled artifact' <<<"$out" && grep -q '^image: 16777216 bytes$' <<<"$out"; then
        ok "inspect artifact"
    else
        bad "inspect artifact: $out"
    fi
    head -c 100 "$tmpc/d.cwasm" >"$tmpc/t.cwasm"
    out="$("$build/wex" inspect "$tmpc/t.cwasm" 2>&1)"
    st=$?
    if [ $st -eq 1 ] && grep -q 'truncated' <<<"$out"; then ok "inspect truncated artifact"; else bad "inspect truncated artifact ($st): $out"; fi
else
    bad "wex compile for inspect"
fi
rm -rf "$tmpc"
out="$("$build/wex" run -v -O instantiation=recreate-cow --invoke get "$build/wat/instantiate.wasm" 4 2>&1)"
if grep -q 'instantiation: recreate-cow;.*image of 131072 bytes, mapped copy-on-write' <<<"$out" &&
    grep -qx '79' <<<"$out"; then
    ok "run -v -O instantiation=recreate-cow"
else
    bad "run -v: $out"
fi
for s in pooling-cow recreate-cow pooling recreate; do
    out="$("$build/wex" run -O instantiation=$s --invoke get "$build/wat/instantiate.wasm" 70000 2>&1)"
    [ "$out" = "119" ] && ok "run -O instantiation=$s" || bad "run -O instantiation=$s: $out"
done
"$build/wex" run -O instantiation=fast "$build/wat/instantiate.wasm" >/dev/null 2>&1
[ $? -eq 2 ] && ok "bad -O value is a usage error" || bad "bad -O value is a usage error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
