#!/usr/bin/env python3
"""run.py WEX SUITE_DIR - drive the WASI preview1 tests; see run.sh."""
import glob
import json
import os
import subprocess
import sys

TIMEOUT = 5


def cleanup(root):
    for p in glob.glob(os.path.join(root, "**", "*.cleanup"), recursive=True):
        if os.path.isdir(p) and not os.path.islink(p):
            subprocess.run(["rm", "-rf", p])
        else:
            try:
                os.unlink(p)
            except OSError:
                pass


def host_env():
    """wex's own environment: empty (the guest gets only --env), except the
    switch that makes wex test its fallback path walk."""
    keep = ("WEX_WASI_NO_OPENAT2",)
    return {k: os.environ[k] for k in keep if k in os.environ}


def run_one(wex, folder, wasm):
    name = os.path.basename(wasm)
    base = wasm[: -len(".wasm")]
    spec = {}
    if os.path.exists(base + ".json"):
        with open(base + ".json") as f:
            spec = json.load(f)
    cmd = [wex, "run"]
    root = spec.get("root")
    if root is not None:
        cmd += ["--dir", root + "::/"]
        cleanup(os.path.join(folder, root))
    env = spec.get("env", {})
    for k, v in env.items():
        cmd += ["--env", "%s=%s" % (k, v)]
    cmd += [name] + [str(a) for a in spec.get("args", [])]
    try:
        p = subprocess.run(cmd, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT, env=host_env())
        code, out, err = p.returncode, p.stdout, p.stderr
        why = []
        want = spec.get("exit_code", 0)
        if code != want:
            why.append("exit %d, expected %d" % (code, want))
        for key, got in (("stdout", out), ("stderr", err)):
            exp = spec.get(key)
            if exp is not None:
                exp_b = exp.encode()
                if got[: len(exp_b)] != exp_b:
                    why.append("%s %r, expected %r" % (key, got[: len(exp_b) + 20], exp))
        if why and err:
            why.append("stderr: " + err.decode(errors="replace").strip()[-300:])
    except subprocess.TimeoutExpired:
        why = ["timed out after %d s" % TIMEOUT]
    if root is not None:
        cleanup(os.path.join(folder, root))
    return why


def main():
    wex, suite = sys.argv[1], sys.argv[2]
    passed = failed = 0
    for lang in ("assemblyscript", "c", "rust"):
        folder = os.path.join(suite, lang)
        for wasm in sorted(glob.glob(os.path.join(folder, "*.wasm"))):
            why = run_one(wex, folder, wasm)
            label = "%s/%s" % (lang, os.path.basename(wasm)[: -len(".wasm")])
            if why:
                failed += 1
                print("FAIL %s: %s" % (label, "; ".join(why)))
            else:
                passed += 1
                print("PASS %s" % label)
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
