;; guard_slp.wat - with guard pages, a load at effective address 2^32 + 4
;; (i32.const -1, offset 5) must trap even beside loads at 2..5 whose values,
;; like its own, go unused: LLVM 19's SLP vectoriser took it for the load at
;; 4 (pointer differences kept in an int) and merged them, so nothing
;; faulted (tests/fuzz/diff.py --native, seeds 700662 and 700988). The
;; native tier runs guard-page code without the SLP vectoriser.
(module
  (memory 1)
  (func (export "hash") (result i32)
    (local i32)
    (local.set 0 (i32.const 5381))
    (local.set 0 (i32.xor (local.get 0) (i32.load8_u offset=12 (i32.const 0))))
    (local.set 0 (i32.xor (local.get 0) (i32.load8_u (i32.const 0))))
    (local.set 0 (i32.xor (i32.add (i32.shl (local.get 0) (i32.const 5)) (local.get 0))
                          (i32.load8_u offset=5 (i32.const 0))))
    (local.set 0 (i32.add (i32.xor (i32.add (i32.shl (local.get 0) (i32.const 5)) (local.get 0))
                                   (i32.load8_u offset=5 (i32.const -1)))
                          (local.get 0)))
    (local.set 0 (i32.xor (local.get 0) (i32.load8_u offset=2 (i32.const 0))))
    (local.set 0 (i32.xor (i32.add (i32.shl (local.get 0) (i32.const 5)) (local.get 0))
                          (i32.load8_u offset=3 (i32.const 0))))
    (local.set 0 (i32.xor (i32.add (i32.shl (local.get 0) (i32.const 5)) (local.get 0))
                          (i32.load8_u offset=4 (i32.const 0))))
    (i32.const 7)))
