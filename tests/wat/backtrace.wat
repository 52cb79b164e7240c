;; Traps at known depths, for backtrace tests (tests/unit/test_backtrace.c,
;; tests/suites/backtrace.sh). Compiled with --debug-names so that the
;; functions keep their names in the name section; one function has none.
(module
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $level2 7)
  ;; func 0: divides by its argument
  (func $div_helper (param i32) (result i32)
    i32.const 100
    local.get 0
    i32.div_s)
  ;; func 1
  (func $level2 (param i32) (result i32)
    local.get 0
    call $div_helper
    i32.const 1
    i32.add)
  ;; func 2
  (func $level1 (param i32) (result i32)
    local.get 0
    call $level2)
  ;; func 3: div(100, x) three calls deep: main -> level1 -> level2 -> div_helper
  (func $main (export "main") (param i32) (result i32)
    local.get 0
    call $level1)
  ;; func 4: recursion without end: call stack exhausted
  (func $recurse (export "recurse") (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add
    call $recurse)
  ;; func 5: a load beyond the memory, two calls deep
  (func $load (param i32) (result i32)
    local.get 0
    i32.load offset=16)
  ;; func 6
  (func $oob (export "oob") (param i32) (result i32)
    local.get 0
    call $load)
  ;; func 7: no name; reached through call_indirect, and traps
  (func (param i32) (result i32)
    unreachable)
  ;; func 8
  (func $indirect (export "indirect") (param i32) (result i32)
    local.get 0
    i32.const 1
    call_indirect (param i32) (result i32))
)
