;; epoch.wat - programs for tests/unit/test_epoch.c (epoch interruption).
(module
  (global $n (mut i32) (i32.const 0))
  ;; for ever: a loop with no way out
  (func $spin (export "spin") (result i32)
    (loop $l (global.set $n (i32.add (global.get $n) (i32.const 1))) (br $l))
    (i32.const 0))
  ;; a finite loop: k iterations
  (func (export "count") (param $k i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))
  ;; no loop at all: only its entry is checked
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  ;; a loop whose body calls: entries and loop heads both
  (func $leaf (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "spin_calls") (result i32)
    (local $x i32)
    (loop $l (local.set $x (call $leaf (local.get $x))) (br $l))
    (local.get $x))
  ;; a loop with nothing but its check, called (and inlined by the native
  ;; tier) twice: the interrupt's backtrace names the first call, in every
  ;; tier (the native one named outer's start when code generation moved
  ;; part of a call's inline chain away from it)
  (func $bare (param i32) (result i32)
    (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br $l))
    (local.get 0))
  (func (export "outer") (result i32)
    (drop (call $bare (i32.const 0)))
    (call $bare (i32.const 1))))
