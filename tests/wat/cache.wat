;; cache.wat - a module with a bit of everything an artifact must carry:
;; a memory with active and passive data, globals, a table with an element
;; segment, call_indirect of two types (its code holds engine type ids that
;; a loaded artifact may need relocated), and exports of every kind.
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func (result i32)))
  (memory (export "memory") 2)
  (global $g (mut i32) (i32.const 7))
  (global $k i64 (i64.const 1234567890123))
  (global (export "answer") i32 (i32.const 42))
  (table (export "table") 4 funcref)
  (elem (i32.const 0) $double $square $inc $seven)
  (data (i32.const 16) "hello, cache")
  (data $p "passive-bytes")
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $inc (type $ii) (i32.add (local.get 0) (global.get $g)))
  (func $seven (type $v) (i32.const 7))
  ;; table[i](x)
  (func (export "dispatch") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $ii) (local.get $x) (local.get $i)))
  ;; table[i]() with the () -> i32 type
  (func (export "dispatch0") (param $i i32) (result i32)
    (call_indirect (type $v) (local.get $i)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "init_passive") (result i32)
    (memory.init $p (i32.const 100) (i32.const 0) (i32.const 13))
    (i32.load8_u (i32.const 112)))
  (func (export "k") (result i64) (global.get $k))
  (func (export "bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (global.get $g))
)
