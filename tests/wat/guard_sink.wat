;; guard_sink.wat - with guard pages, an out-of-bounds load traps even when
;; its value is used only after a call whose callee traps first: native code
;; must not move the load past the call (regression: seed 200626 of
;; tests/fuzz/diff.py --native, where the load was sunk onto the return path
;; and "unreachable" was reported instead).
(module
  (memory 1)
  (func $boom (unreachable))
  (func (export "main") (param $at i32) (result i32)
    (local $v i32)
    (local.set $v (i32.load (local.get $at)))
    (call $boom)
    (local.get $v)))
