#!/usr/bin/env bash
# convert.sh OUTDIR - convert the core spec tests (.wast) to wast2json's
# .json + .wasm form, one folder per test: OUTDIR/NAME/NAME.json.
#
# The suite is read from $WEX_TESTSUITE, else ../shared/testsuite from the
# repository root. SIMD tests (simd_*) are left out: wex does not do SIMD
# yet. The 7 files in core-wabt-compat/ replace their core/ namesakes, whose
# newer syntax Debian's wast2json rejects. The threads proposal's files go
# to OUTDIR/threads-NAME/ (converted with --enable-threads), wex's own
# tests/wast/NAME.wast to OUTDIR/wex-NAME/. Up-to-date
# conversions are kept.
#
# If the suite is absent this prints "spec suite not found at ...: skipped",
# writes OUTDIR/SKIPPED and exits 0. Exits 1 if any conversion failed.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$1"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out/SKIPPED"

suite="${WEX_TESTSUITE:-$root/../shared/testsuite}"
if [ ! -d "$suite/core" ]; then
    echo "spec suite not found at $suite: skipped"
    echo "spec suite not found at $suite" >"$out/SKIPPED"
    exit 0
fi
suite="$(cd "$suite" && pwd)"

if ! command -v wast2json >/dev/null 2>&1; then
    echo "convert: wast2json not found (apt-get install wabt, or run scripts/deps.sh)" >&2
    exit 1
fi

converted=0 kept=0 failed=0
# convert NAME SRC [WAST2JSON FLAGS...]: SRC into OUTDIR/NAME/NAME.json,
# unless that is newer than SRC; counts it; a threads-* file then loses
# its superseded assertions (drop_superseded, below).
convert() {
    local name="$1" src="$2"
    shift 2
    local dir="$out/$name" json="$out/$name/$name.json"
    if [ -f "$json" ] && [ "$json" -nt "$src" ]; then
        kept=$((kept + 1))
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if (cd "$dir" && wast2json "$@" "$src" -o "$name.json" 2>"$dir/wast2json.err") &&
        { [[ "$name" != threads-* ]] || drop_superseded "$json"; }; then
        converted=$((converted + 1))
    else
        echo "convert: wast2json failed on $src:" >&2
        sed 's/^/    /' "$dir/wast2json.err" | head -20 >&2
        rm -f "$json"
        failed=$((failed + 1))
    fi
}

# The threads proposal's repository predates reference types, which
# WebAssembly 2.0 (and wex) include: its imports.wast still asserts that a
# module with two tables is invalid ("multiple tables"), which core 2.0's
# imports.wast contradicts. Those commands, and only those, are dropped.
drop_superseded() {
    python3 - "$1" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    doc = json.load(f)
keep = [c for c in doc["commands"]
        if not (c["type"] == "assert_invalid" and c.get("text") == "multiple tables")]
if len(keep) != len(doc["commands"]):
    print(f"convert: {path}: dropped {len(doc['commands']) - len(keep)} 'multiple tables' "
          "assertion(s) superseded by WebAssembly 2.0")
doc["commands"] = keep
with open(path, "w") as f:
    json.dump(doc, f, indent=1)
PY
}

for wast in "$suite"/core/*.wast; do
    name="$(basename "$wast" .wast)"
    case "$name" in simd_*) continue ;; esac
    src="$wast"
    [ -f "$suite/core-wabt-compat/$name.wast" ] && src="$suite/core-wabt-compat/$name.wast"
    convert "$name" "$src"
done

# The threads proposal (shared memories, atomics, wait/notify): its own
# folders, threads-NAME/, so that OUTDIR/*/*.json takes them in too.
for wast in "$suite"/proposals/threads/*.wast; do
    [ -f "$wast" ] || continue
    convert "threads-$(basename "$wast" .wast)" "$wast" --enable-threads
done

# wex's own tests in the same form (tests/wast/NAME.wast -> wex-NAME/), so
# that every run of the spec tests (each tier, bounds mode, build) runs them.
for wast in "$root"/tests/wast/*.wast; do
    [ -f "$wast" ] || continue
    convert "wex-$(basename "$wast" .wast)" "$wast"
done
echo "convert: $converted converted, $kept up to date, $failed failed (into $out)"
[ "$failed" -eq 0 ]
