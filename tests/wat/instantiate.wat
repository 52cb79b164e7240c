;; Instantiation strategies (tests/unit/test_instantiate.c): data in two
;; pages with an overlap, a passive segment, a mutable global, a table with
;; active elements, and functions to read, write and grow.
(module
  (memory (export "memory") 2 10)
  (global $g (export "g") (mut i32) (i32.const 7))
  (table $t (export "t") 4 funcref)
  (elem (i32.const 0) $get $grow)
  (data (i32.const 0) "hello")
  (data (i32.const 70000) "world")
  (data (i32.const 3) "LO")
  (data $p "PASSIVE")
  (func $get (export "get") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func $grow (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "setg") (param i32) (global.set $g (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "init") (param i32) (memory.init $p (local.get 0) (i32.const 0) (i32.const 7)))
  (func (export "tgrow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "tset") (param i32) (table.set $t (local.get 0) (ref.func $get)))
  (func (export "tnull") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
)
