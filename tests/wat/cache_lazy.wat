;; cache_lazy.wat - a module for the cache's lazy checks (test_cache.c):
;; functions with loops and br_table (branch offsets in their code), a
;; call_indirect (engine type ids), one function no test calls, an active
;; data segment (in the memory image) and a passive one (read from the
;; artifact's data at memory.init).
(module
  (type $ii (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $sq $neg)
  (data (i32.const 64) "lazy-image")
  (data $p "from-bytes")
  (func $sq (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $neg (type $ii) (i32.sub (i32.const 0) (local.get 0)))
  ;; 1 + 2 + ... + n, by a loop
  (func $sum (export "sum") (param $n i32) (result i32) (local $acc i32)
    (block $out
      (loop $top
        (br_if $out (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
    (local.get $acc))
  ;; 0 -> 10, 1 -> 20, else 30
  (func (export "pick") (param i32) (result i32)
    (block $c
      (block $b
        (block $a (br_table $a $b $c (local.get 0)))
        (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  (func (export "apply") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $ii) (local.get $x) (local.get $i)))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "init_passive") (result i32)
    (memory.init $p (i32.const 200) (i32.const 0) (i32.const 10))
    (i32.load8_u (i32.const 205)))
  (func (export "never") (param i32) (result i32)
    (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 1)))
  (func (export "twice_sum") (param i32) (result i32)
    (i32.add (call $sum (local.get 0)) (call $sum (local.get 0))))
)
