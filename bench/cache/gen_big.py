#!/usr/bin/env python3
"""gen_big.py - write the C sources of a large WebAssembly program for the
cache benchmark: many functions with branchy integer code (reached through
one function-pointer table, so the linker keeps them all) and large constant
tables (data segments). Deterministic: the same arguments give the same files.

    gen_big.py OUTDIR NFILES FUNCS_PER_FILE DATA_WORDS_PER_FILE
"""
import os
import random
import sys


def func(rng, fid, nfiles, words):
    lines = [f"uint32_t f{fid}(uint32_t x, uint32_t y) {{",
             f"    uint32_t a = x ^ {rng.randrange(1 << 32)}u, b = y + {rng.randrange(1000)}u;"]
    for _ in range(rng.randrange(10, 18)):
        k = rng.randrange(7)
        c = rng.randrange(1, 1 << 31)
        t = rng.randrange(nfiles)
        if k == 0:
            lines.append(f"    a = a * {c | 1}u + (b >> {rng.randrange(1, 31)});")
        elif k == 1:
            lines.append(f"    if (a > b) a -= b ^ {c}u; else b += a * {rng.randrange(3, 99)}u;")
        elif k == 2:
            lines.append(f"    b ^= tbl{t}[(a + {c}u) % {words}u];")
        elif k == 3:
            lines.append(f"    for (uint32_t i = 0; i < (x & 7u); i++) {{ a = (a << 3) ^ (b + i); b += {c}u; }}")
        elif k == 4:
            lines.append(f"    switch (a % 5u) {{ case 0: a += {c}u; break; case 1: b -= a; break; "
                         f"case 2: a ^= b >> 7; break; case 3: b = b * 3u + {c % 1000}u; break; default: a = ~a; }}")
        elif k == 5:
            lines.append(f"    a = (a >> {rng.randrange(1, 31)}) | (a << {rng.randrange(1, 31)}); b -= {c}u;")
        else:
            lines.append(f"    b = (b * {c | 1}u) ^ (a + tbl{t}[b % {words}u]);")
    lines.append("    return a ^ b;")
    lines.append("}")
    return "\n".join(lines)


def main():
    out, nfiles, per, words = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261122)
    with open(os.path.join(out, "big.h"), "w") as h:
        h.write("#include <stdint.h>\n")
        for t in range(nfiles):
            h.write(f"extern const uint32_t tbl{t}[{words}];\n")
        for fid in range(nfiles * per):
            h.write(f"uint32_t f{fid}(uint32_t, uint32_t);\n")
    for t in range(nfiles):
        with open(os.path.join(out, f"big{t}.c"), "w") as f:
            f.write('#include "big.h"\n')
            f.write(f"const uint32_t tbl{t}[{words}] = {{")
            f.write(",".join(str(rng.randrange(1 << 32)) + "u" for _ in range(words)))
            f.write("};\n")
            for fid in range(t * per, (t + 1) * per):
                f.write(func(rng, fid, nfiles, words) + "\n")
    with open(os.path.join(out, "main.c"), "w") as f:
        f.write('#include "big.h"\n#include <stdio.h>\n#include <stdlib.h>\n')
        f.write("typedef uint32_t (*fn)(uint32_t, uint32_t);\n")
        f.write("static const fn all[] = {" + ",".join(f"f{i}" for i in range(nfiles * per)) + "};\n")
        f.write("int main(int argc, char **argv) {\n"
                "    uint32_t n = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000, acc = 0;\n"
                "    for (uint32_t i = 0; i < n; i++)\n"
                f"        acc += all[(i * 2654435761u) % {nfiles * per}u](i, acc);\n"
                "    printf(\"%u\\n\", acc);\n"
                "    return 0;\n}\n")


main()
