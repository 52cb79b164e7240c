;; Backtraces across host calls (tests/unit/test_backtrace.c): the host
;; function "reenter" calls the export "inner" of the same instance, which
;; traps; "fail" returns an error of its own; "quit" exits.
(module
  (import "host" "reenter" (func $reenter (param i32) (result i32))) ;; func 0
  (import "host" "fail" (func $fail (param i32) (result i32)))       ;; func 1
  (import "host" "quit" (func $quit (param i32) (result i32)))       ;; func 2
  (func $boom (param i32) (result i32)                               ;; func 3
    unreachable)
  (func $inner (export "inner") (param i32) (result i32)             ;; func 4
    local.get 0
    call $boom)
  (func $mid (param i32) (result i32)                                ;; func 5
    local.get 0
    call $reenter)
  (func $outer (export "outer") (param i32) (result i32)             ;; func 6
    local.get 0
    call $mid)
  (func $failing (export "failing") (param i32) (result i32)         ;; func 7
    local.get 0
    call $fail)
  (func $quitting (export "quitting") (param i32) (result i32)       ;; func 8
    local.get 0
    call $quit)
)
