;; call_fuse.wat - shapes of compile.c's call and return fusions: an i32 add
;; into a call's argument slot just before a direct call (ADDI_CALL_L, and
;; ADDI_CALL_LZ when the callee has locals to zero), an add into another
;; slot before a call (not fused), and `return x + y` (I32_ADD_RET) on the
;; function's end, on `return`, and on a br_if's taken side. Also argument
;; moves (MOVE, MOVE2, MOVE3) and an i32.load (which may trap) just before a
;; call, into callees with and without locals to zero.
(module
  (memory 1)
  (data (i32.const 16) "\07\00\00\00\f9\ff\ff\ff")
  ;; fib as clang emits it: the argument n - 1 is an add right before the call;
  ;; $acc is read before it is written on one path, so calls zero it (LZ)
  (func $fib (export "fib") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (br_if $done (i32.lt_u (local.get $n) (i32.const 2)))
      (loop $l
        (local.set $acc
          (i32.add (call $fib (i32.add (local.get $n) (i32.const -1))) (local.get $acc)))
        (local.set $n (i32.add (local.get $n) (i32.const -2)))
        (br_if $l (i32.gt_u (local.get $n) (i32.const 1)))))
    (i32.add (local.get $n) (local.get $acc)))
  ;; no locals: plain ADDI_CALL_L; the add feeds the second argument
  (func $sub2 (param $a i32) (param $b i32) (result i32)
    (i32.sub (local.get $a) (local.get $b)))
  (func (export "second") (param $x i32) (param $k i32) (result i32)
    (call $sub2 (local.get $k) (i32.add (local.get $x) (i32.const 0x7fffffff))))
  (func (export "first") (param $x i32) (param $k i32) (result i32)
    (call $sub2 (i32.add (local.get $x) (i32.const -5)) (local.get $k)))
  ;; the add writes a local, then a call with no arguments reads it back
  (global $g (mut i32) (i32.const 0))
  (func $get (result i32) (global.get $g))
  (func (export "local_then_call") (param $x i32) (result i32)
    (local $t i32)
    (local.set $t (i32.add (local.get $x) (i32.const 3)))
    (global.set $g (i32.const 100))
    (i32.add (call $get) (local.get $t)))
  ;; count down by recursion through the fused call: depth n
  (func $down (export "down") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $down (i32.add (local.get $n) (i32.const -1))) (i32.const 1)))))
  ;; never ends: call stack exhausted at the fused call
  (func $runaway (export "runaway") (param $n i32) (result i32)
    (call $runaway (i32.add (local.get $n) (i32.const 1))))
  ;; return x + y: at the end, by `return`, and on a br_if's taken side
  (func (export "ret_end") (param $x i32) (param $y i32) (result i32)
    (i32.add (local.get $x) (local.get $y)))
  (func (export "ret_return") (param $x i32) (param $y i32) (result i32)
    (if (i32.lt_s (local.get $x) (i32.const 0))
      (then (return (i32.add (local.get $x) (local.get $y)))))
    (i32.sub (local.get $x) (local.get $y)))
  (func (export "ret_br_if") (param $x i32) (param $y i32) (result i32)
    (local $s i32)
    (local.set $s (i32.add (local.get $x) (local.get $y)))
    (drop (br_if 0 (local.get $s) (local.get $x)))
    (i32.mul (local.get $s) (i32.const 3)))
  ;; $z is read before it is written: calls to sub2z zero it (the LZ forms)
  (func $sub2z (param $a i32) (param $b i32) (result i32)
    (local $z i32)
    (i32.add (i32.sub (local.get $a) (local.get $b)) (local.get $z)))
  (func $sub3 (param $a i32) (param $b i32) (param $c i32) (result i32)
    (i32.sub (i32.sub (local.get $a) (local.get $b)) (local.get $c)))
  (func $sub3z (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $z i32)
    (i32.add (call $sub3 (local.get $a) (local.get $b) (local.get $c)) (local.get $z)))
  ;; one, two and three argument moves, swapped so that none is in place
  (func (export "move1") (param $a i32) (param $b i32) (result i32)
    (i32.add (call $get_plus (local.get $b)) (call $get_plusz (local.get $a))))
  (func $get_plus (param $x i32) (result i32) (i32.add (local.get $x) (i32.const 1000)))
  (func $get_plusz (param $x i32) (result i32)
    (local $z i32)
    (i32.add (i32.add (local.get $x) (i32.const 2000)) (local.get $z)))
  (func (export "move2") (param $a i32) (param $b i32) (result i32)
    (i32.add (i32.mul (call $sub2 (local.get $b) (local.get $a)) (i32.const 100))
             (call $sub2z (local.get $b) (local.get $a))))
  (func (export "move3") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (i32.add (i32.mul (call $sub3 (local.get $c) (local.get $b) (local.get $a)) (i32.const 100))
             (call $sub3z (local.get $c) (local.get $a) (local.get $b))))
  ;; the argument loaded from p + 4 right before the call
  (func (export "load_arg") (param $p i32) (param $k i32) (result i32)
    (i32.add (i32.mul (call $get_plus (i32.load offset=4 (local.get $p))) (local.get $k))
             (call $get_plusz (i32.load offset=4 (local.get $p)))))  ;; nine locals read before written (three chunks to zero: the LZ forms that
  ;; loop), dirtied after use so that a later frame over the same slots would
  ;; see them if a call did not zero them; reached by ADDI_ and MOVE2_CALL_LZ
  (func $down9 (export "down9") (param $n i32) (result i32)
    (local $z1 i32) (local $z2 i32) (local $z3 i32) (local $z4 i32) (local $z5 i32) (local $z6 i32) (local $z7 i32) (local $z8 i32) (local $z9 i32) (local $r i32) (local $t i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (local.set $r (call $down9 (i32.add (local.get $n) (i32.const -1))))
    (local.set $t (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (local.get $z1) (local.get $z2)) (local.get $z3)) (local.get $z4)) (local.get $z5)) (local.get $z6)) (local.get $z7)) (local.get $z8)) (local.get $z9)))
    (local.set $z1 (local.get $n)) (local.set $z2 (local.get $n)) (local.set $z3 (local.get $n)) (local.set $z4 (local.get $n)) (local.set $z5 (local.get $n)) (local.set $z6 (local.get $n)) (local.set $z7 (local.get $n)) (local.set $z8 (local.get $n)) (local.set $z9 (local.get $n))
    (i32.add (i32.add (local.get $r) (i32.const 1)) (local.get $t)))
  (func $sub2z9 (param $a i32) (param $b i32) (result i32)
    (local $z1 i32) (local $z2 i32) (local $z3 i32) (local $z4 i32) (local $z5 i32) (local $z6 i32) (local $z7 i32) (local $z8 i32) (local $z9 i32)
    (local.set $a (i32.add (local.get $a) (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (local.get $z1) (local.get $z2)) (local.get $z3)) (local.get $z4)) (local.get $z5)) (local.get $z6)) (local.get $z7)) (local.get $z8)) (local.get $z9))))
    (local.set $z1 (local.get $a)) (local.set $z2 (local.get $a)) (local.set $z3 (local.get $a)) (local.set $z4 (local.get $a)) (local.set $z5 (local.get $a)) (local.set $z6 (local.get $a)) (local.set $z7 (local.get $a)) (local.set $z8 (local.get $a)) (local.set $z9 (local.get $a))
    (i32.sub (local.get $a) (local.get $b)))
  (func (export "move2_z9") (param $a i32) (param $b i32) (result i32)
    (drop (call $down9 (i32.const 30)))
    (call $sub2z9 (local.get $b) (local.get $a)))
)
