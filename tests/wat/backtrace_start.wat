;; backtrace_start.wat - a start function that traps two calls deep
;; (tests/suites/backtrace.sh): `wex run` reports it as the start function's
;; failure, with its backtrace.
(module
  (func $boom unreachable)
  (func $init call $boom)
  (start $init)
  (func (export "_start")))
