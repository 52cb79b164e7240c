;; Instantiation strategies (tests/unit/test_instantiate.c): a memory with no
;; data, so no image: a pooled slot's memory is zeroed in place or given back.
(module
  (memory (export "memory") 1 4)
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
