#!/usr/bin/env python3
# paired.py - two wex binaries and native, interleaved per run (native, OLD,
# NEW), so that this machine's drift of speed over minutes hits all three
# alike: median CPU time of N runs per program at the default size, the
# ratios to native, and NEW / OLD.
#   python3 bench/paired.py OLD/wex build/wex 5      (from the repository root)
import subprocess, resource, statistics, sys, math
base, new, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
sizes = {l.split()[0]: l.split()[1] for l in open("bench/suite/sizes") if l.strip() and not l.startswith("#")}
def run(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
rows = []
for p, s in sizes.items():
    b, w, n = [], [], []
    for i in range(N):
        n.append(run([f"build/bench/{p}.native", s]))
        b.append(run([base, "run", f"build/bench/{p}.wasm", s]))
        w.append(run([new, "run", f"build/bench/{p}.wasm", s]))
    mb, mw, mn = statistics.median(b), statistics.median(w), statistics.median(n)
    rows.append((p, mn, mb, mw))
    print(f"| {p} | {mn:.3f} | {mb:.3f} | {mw:.3f} | {mb/mn:.2f}x | {mw/mn:.2f}x | {mw/mb:.3f} |", flush=True)
g = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
print(f"| **geometric mean** | | | | **{g([r[2]/r[1] for r in rows]):.2f}x** | **{g([r[3]/r[1] for r in rows]):.2f}x** | **{g([r[3]/r[2] for r in rows]):.3f}** |")
