;; wasi_unknown.wat - for test_wasi: imports a function preview1 lacks.
(module
  (import "wasi_snapshot_preview1" "no_such_function" (func (param i32) (result i32)))
  (memory (export "memory") 1))
