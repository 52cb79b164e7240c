;; atomic_unshared.wat - atomics on a memory that is not shared: allowed,
;; but memory.atomic.wait traps ("expected shared memory") and notify wakes
;; no one.
(module
  (memory 1)
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "add") (param i32 i32) (result i32)
    (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "fence") (atomic.fence))
)
