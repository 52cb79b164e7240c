;; limits.wat - a module for tests/unit/test_limits.c (store resource
;; limits): one memory of 1 page and one table of 2 elements that its
;; exports grow.
(module
  (memory 1)
  (table 2 funcref)
  (func (export "grow_mem") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow_table") (param i32) (result i32)
    (table.grow 0 (ref.null func) (local.get 0)))
  (func (export "mem_pages") (result i32) (memory.size)))
