#!/usr/bin/env python3
"""serve_check.py WEX_LLVMC MODULE.wasm - the automatic tier's
compiler service (wex-llvmc --serve), driven as the runtime drives it: the
module, then requests "FUNCS;OSR", each message a 64-bit little-endian
length and its bytes; each reply a length, a status byte ('0' object,
'1' message) and the payload. Checks:
  1. two requests on one process each answer with an ELF object;
  2. a bad function list answers with a message, and the process goes on;
  3. it exits by itself (status 0) once idle for longer than --serve's time;
  4. a module that does not validate is refused with a message.
Prints one line per check, "PASS ..." or "FAIL ...", and exits 1 on a failure."""
import struct
import subprocess
import sys
import time

llvmc, wasm = sys.argv[1:3]
failed = 0


def check(ok, what):
    global failed
    print(("PASS " if ok else "FAIL ") + what)
    failed += not ok


def send(p, data):
    p.stdin.write(struct.pack("<Q", len(data)) + data)
    p.stdin.flush()


def reply(p):
    h = p.stdout.read(8)
    if len(h) < 8:
        return None, b""
    (n,) = struct.unpack("<Q", h)
    body = p.stdout.read(n)
    return body[:1], body[1:]


def start(idle_ms):
    return subprocess.Popen([llvmc, "-O2", "--serve=%d" % idle_ms],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


mod = open(wasm, "rb").read()
p = start(400)
send(p, mod)
st, _ = reply(p)
check(st == b"0", "service: the module is accepted")
send(p, b"0;")
st1, obj1 = reply(p)
send(p, b"1;0")
st2, obj2 = reply(p)
check(st1 == b"0" and obj1[:4] == b"\x7fELF" and st2 == b"0" and obj2[:4] == b"\x7fELF",
      "service: two requests, two objects from one process")
send(p, b"99999;")
st3, msg = reply(p)
check(st3 == b"1" and b"list" in msg, "service: a bad request is answered with a message (%r)"
      % msg[:60])
send(p, b"0;")
st4, obj4 = reply(p)
check(st4 == b"0" and obj4[:4] == b"\x7fELF", "service: it goes on after a bad request")
t0 = time.time()
try:
    rc = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
check(rc == 0 and time.time() - t0 < 5, "service: it exits when idle (status %r)" % rc)

p = start(400)
send(p, b"\0asm\x01\0\0\0\x01\x04\x01\x60\x00")  # a type section cut short
st, msg = reply(p)
p.stdin.close()
p.wait(timeout=10)
check(st == b"1" and len(msg) > 0, "service: an invalid module is refused (%r)" % msg[:60])
sys.exit(1 if failed else 0)
