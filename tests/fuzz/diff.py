#!/usr/bin/env python3
"""diff.py - differential execution: wex against node (V8) on modules made
by binaryen's translate-to-fuzz.

  tests/fuzz/diff.py [--count N] [--seed S] [--build DIR] [--out DIR] [--batch B] [--native]
                     [--det]

Module i (seed S+i) is `wasm-opt -ttf` of 1-16 KiB of bytes from Python's
random.Random(S+i), with the features wex and node share (MVP, sign
extension, mutable globals, non-trapping float-to-int, bulk memory,
multi-value; reference types are left out: binaryen 108 makes funcref
element segments for externref tables, which V8 rightly rejects) and
--denan (NaN payloads may differ by engine). Each module runs three times:
DIR/diff_driver --bounds=guard, --bounds=explicit, and node with diff.js;
with --native also the native tier (--tier=native) in both bounds modes,
and the automatic tier with every other function switched to native code
on its first entry and every loop entered natively at its first iteration
(--tier=auto, WEX_TIER_EAGER=some: interpreted and native code calling
each other, on-stack replacement, recursive inlining).
Native code with guard pages is compared up to its first out-of-bounds
trap ("trap memory") only: LLVM treats loads as unable to fault, so it may
drop or reorder a store beside a load that faults (docs/architecture.md,
"Native code and guard pages"), and the memory seen after such a trap is
not the interpreter's. Explicit bounds checks keep the exact order.

--det compares deterministic engines with each other instead (node is not
run): modules made without --denan, so that NaNs with payloads flow
everywhere, run by the interpreter, by native code and by the automatic
tier with every other function native, all with -O deterministic=y; every
value, NaN bits included, and every trap must be the same.
The transcripts (diff_driver.c describes the format: every log call,
result and trap class) must be identical. A divergence prints the seed,
the command that regenerates the module and the first differing lines,
keeps the module and transcripts in OUT/diverged/, and makes the exit
status 1. The last line is "N passed, N failed" (modules).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

FEATURES = ["--mvp-features", "--enable-sign-ext", "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int", "--enable-bulk-memory",
            "--enable-multivalue"]
HERE = os.path.dirname(os.path.abspath(__file__))


def make_module(seed, workdir, denan=True):
    """Write module `seed` to workdir; return its path, or None if wasm-opt failed."""
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1024, 16384)))
    raw = os.path.join(workdir, "r%d.bin" % seed)
    out = os.path.join(workdir, "m%d.wasm" % seed)
    with open(raw, "wb") as f:
        f.write(data)
    r = subprocess.run(["wasm-opt", raw, "-ttf"] + (["--denan"] if denan else []) + FEATURES + ["-o", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.unlink(raw)
    return out if r.returncode == 0 else None


def transcripts(cmd, paths):
    """Run cmd on paths (a leading NAME=VALUE sets the environment); split
    its output into {path: [lines]}."""
    env = dict(os.environ)
    while cmd and "=" in cmd[0] and not cmd[0].startswith("/"):
        k, v = cmd[0].split("=", 1)
        env[k] = v
        cmd = cmd[1:]
    r = subprocess.run(cmd + paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace", env=env)
    res, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("module "):
            cur = line[7:]
            res[cur] = []
        elif cur is not None:
            res[cur].append(line)
    if r.returncode != 0:
        # a crash: the module it was on has an incomplete transcript
        if cur is not None:
            res[cur].append("CRASHED (exit %d): %s" % (r.returncode, r.stderr.strip()[-300:]))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None, help="where divergent modules are kept")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--native", action="store_true",
                    help="also the native tier (needs DIR/wex-llvmc)")
    ap.add_argument("--det", action="store_true",
                    help="deterministic engines against each other (needs DIR/wex-llvmc)")
    a = ap.parse_args()

    driver = os.path.join(a.build, "diff_driver")
    for tool in ("wasm-opt",) if a.det else ("wasm-opt", "node"):
        if not shutil.which(tool):
            print("diff: %s not found: skipped (scripts/deps.sh installs binaryen and nodejs)" % tool)
            print("0 passed, 0 failed")
            return 0
    if not os.access(driver, os.X_OK):
        print("diff: %s not built" % driver)
        print("0 passed, 1 failed")
        return 1
    modes = {"guard": [driver, "--bounds=guard", "--tier=interp"],
             "explicit": [driver, "--bounds=explicit", "--tier=interp"]}
    if a.native:
        if not os.access(os.path.join(a.build, "wex-llvmc"), os.X_OK):
            print("diff: --native needs %s/wex-llvmc" % a.build)
            print("0 passed, 1 failed")
            return 1
        modes["native-guard"] = [driver, "--bounds=guard", "--tier=native"]
        modes["native-explicit"] = [driver, "--bounds=explicit", "--tier=native"]
        modes["auto-some"] = ["WEX_TIER_EAGER=some", driver, "--bounds=guard", "--tier=auto"]
    ref = "node"
    if a.det:
        if not os.access(os.path.join(a.build, "wex-llvmc"), os.X_OK):
            print("diff: --det needs %s/wex-llvmc" % a.build)
            print("0 passed, 1 failed")
            return 1
        modes = {"det-native": [driver, "--tier=native", "--deterministic"],
                 "det-auto-some": ["WEX_TIER_EAGER=some", driver, "--tier=auto", "--deterministic"]}
        ref = "det-interp"
    # modes compared up to their first out-of-bounds trap (see the docstring)
    upto_oob = {"native-guard", "auto-some"}

    def same(name, t):
        x, y = t[name], t[ref]
        if name in upto_oob and "trap memory" in y:
            n = y.index("trap memory") + 1
            x, y = x[:n], y[:n]
        return x == y

    out = a.out or os.path.join(a.build, "diff")
    os.makedirs(out, exist_ok=True)
    node = ["node", "--experimental-wasm-type-reflection", os.path.join(HERE, "diff.js")]
    if a.det:
        node = [driver, "--tier=interp", "--deterministic"]
    passed = failed = skipped = calls = 0
    with tempfile.TemporaryDirectory(prefix="wex-diff-") as work:
        for start in range(a.seed, a.seed + a.count, a.batch):
            seeds = list(range(start, min(start + a.batch, a.seed + a.count)))
            with ThreadPoolExecutor(a.jobs) as pool:
                made = list(pool.map(lambda s: (s, make_module(s, work, not a.det)), seeds))
            paths = [p for _, p in made if p]
            skipped += sum(1 for _, p in made if not p)
            runs = {}
            with ThreadPoolExecutor(len(modes) + 1) as pool:
                futs = {name: pool.submit(transcripts, cmd, paths)
                        for name, cmd in list(modes.items()) + [(ref, node)]}
                runs = {name: f.result() for name, f in futs.items()}
            for seed, p in made:
                if not p:
                    continue
                t = {name: runs[name].get(p, ["MISSING (the runner stopped before it)"])
                     for name in runs}
                if all(same(name, t) for name in modes):
                    passed += 1
                    calls += sum(1 for l in t[ref] if l.startswith("call "))
                    os.unlink(p)
                    continue
                failed += 1
                keep = os.path.join(out, "diverged")
                os.makedirs(keep, exist_ok=True)
                shutil.copy(p, keep)
                print("DIVERGED seed %d: regenerate with: python3 -c 'import random; r=random.Random(%d); "
                      "open(\"r.bin\",\"wb\").write(bytes(r.getrandbits(8) for _ in range(r.randint(1024,16384))))'"
                      " && wasm-opt r.bin -ttf --denan %s -o m%d.wasm" % (seed, seed, " ".join(FEATURES), seed))
                for name in modes:
                    with open(os.path.join(keep, "m%d.%s.txt" % (seed, name)), "w") as f:
                        f.write("\n".join(t[name]) + "\n")
                    if not same(name, t):
                        for i, (x, y) in enumerate(zip(t[name] + ["<end>"], t[ref] + ["<end>"])):
                            if x != y:
                                print("  line %d: wex %s: %s | %s: %s" % (i, name, x, ref, y))
                                break
                with open(os.path.join(keep, "m%d.%s.txt" % (seed, ref)), "w") as f:
                    f.write("\n".join(t[ref]) + "\n")
            print("diff: seeds %d..%d: %d passed, %d failed so far" % (
                seeds[0], seeds[-1], passed, failed), flush=True)
    print("diff: %d modules agree (%d export calls) in wex %s and %s; "
          "%d diverged; %d seeds wasm-opt could not use" % (passed, calls, ", ".join(modes), ref,
                                                            failed, skipped))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
