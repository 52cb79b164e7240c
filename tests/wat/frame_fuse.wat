;; frame_fuse.wat - shapes of compile.c's frame_fuse_*: a C-style prologue
;; (global.get sp; i32.const; i32.sub; local.tee; global.set), the same with
;; the global.get retargeted to a local first (must not fuse), and branches
;; that carry one value (MOVE_JMP), taken and not taken, forward and to a
;; loop.
(module
  (global $sp (mut i32) (i32.const 1000))
  (global $other (mut i32) (i32.const 50))
  (func (export "sp") (result i32) (global.get $sp))
  (func (export "other") (result i32) (global.get $other))
  ;; frame of n bytes: returns the new sp plus its own recursion's sum
  (func $frame (export "frame") (param $n i32) (param $depth i32) (result i32)
    (local $fp i32) (local $r i32)
    (global.get $sp) (local.get $n) (i32.sub) (local.tee $fp) (global.set $sp)
    (if (local.get $depth)
      (then (local.set $r (call $frame (local.get $n) (i32.sub (local.get $depth) (i32.const 1))))))
    (global.set $sp (i32.add (local.get $fp) (local.get $n)))
    (i32.add (local.get $fp) (local.get $r)))
  ;; the prologue with a constant, as clang emits it
  (func (export "frame16") (result i32)
    (local $fp i32)
    (global.get $sp) (i32.const 16) (i32.sub) (local.tee $fp) (global.set $sp)
    (global.set $sp (i32.add (local.get $fp) (i32.const 16)))
    (local.get $fp))
  ;; global.get retargeted into a local by local.set, then the prologue's
  ;; tail reads that local: $a must be written
  (func (export "retarget") (result i32)
    (local $a i32) (local $fp i32)
    (global.get $sp) (local.set $a)
    (local.get $a) (i32.const 16) (i32.sub) (local.tee $fp) (global.set $sp)
    (global.set $sp (local.get $a))
    (i32.add (i32.mul (local.get $a) (i32.const 1000)) (local.get $fp)))
  ;; another global: the set must go to the one it names
  (func (export "cross") (result i32)
    (local $fp i32)
    (global.get $sp) (i32.const 8) (i32.sub) (local.tee $fp) (global.set $other)
    (local.get $fp))
  ;; block results through br / br_if with one moved value
  (func (export "pick") (param $c i32) (param $x i32) (param $y i32) (result i32)
    (block $out (result i32)
      (if (local.get $c) (then (br $out (local.get $x))))
      (local.get $y)))
  (func (export "sumto") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $done
      (loop $top
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $s))
  (func (export "nested") (param $a i32) (param $b i32) (result i32)
    (block $o (result i32)
      (block $i (result i32)
        (br_if $i (local.get $a) (local.get $b))
        (br $o (local.get $a)))
      (i32.const 7)
      (i32.add)))
)
