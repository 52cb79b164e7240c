;; wasi_threads.wat - a wasi-threads program for `wex run` (tests/suites/
;; threads.sh): it imports `wasi` `thread-spawn` and a shared `env` `memory`;
;; each spawned thread runs wasi_thread_start(tid, arg) in an instance of its
;; own. Threads add numbers with atomics; the main thread joins them with
;; memory.atomic.wait32.
;;
;; Memory: 0 total (i64), 8 threads done (i32), 16 thread count, 20 n,
;; 24 mode, 64.. a message (from a passive segment, so that the threads'
;; instances do not rewrite it), 128 its iovec, 256.. nwritten per thread.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data $msg "hello from a thread\n")

  ;; mode 0: add k = arg, arg + threads, ... below n; 1: proc_exit(7);
  ;; 2: trap; 3: block for ever; 4: print the message; 5: spin for ever.
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $k i32) (local $mode i32)
    (local.set $mode (i32.atomic.load (i32.const 24)))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (call $exit (i32.const 7))))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then (drop (memory.atomic.wait32 (i32.const 32) (i32.const 0) (i64.const -1)))))
    (if (i32.eq (local.get $mode) (i32.const 5)) (then (loop $l (br $l))))
    (if (i32.eq (local.get $mode) (i32.const 4))
      (then (drop (call $fd_write (i32.const 1) (i32.const 128) (i32.const 1)
                        (i32.add (i32.const 256) (i32.shl (local.get $arg) (i32.const 2)))))))
    (if (i32.eqz (local.get $mode))
      (then
        (local.set $k (local.get $arg))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $k) (i32.atomic.load (i32.const 20))))
            (drop (i64.atomic.rmw.add (i32.const 0) (i64.extend_i32_u (local.get $k))))
            (local.set $k (i32.add (local.get $k) (i32.atomic.load (i32.const 16))))
            (br $next)))))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 8) (i32.const -1))))

  ;; Start `threads` threads in `mode`, wait for all, return the total (-1
  ;; if a spawn failed).
  (func $run (param $threads i32) (param $n i32) (param $mode i32) (result i64)
    (local $i i32) (local $d i32)
    (i64.atomic.store (i32.const 0) (i64.const 0))
    (i32.atomic.store (i32.const 8) (i32.const 0))
    (i32.atomic.store (i32.const 16) (local.get $threads))
    (i32.atomic.store (i32.const 20) (local.get $n))
    (i32.atomic.store (i32.const 24) (local.get $mode))
    (block $spawned
      (loop $next
        (br_if $spawned (i32.ge_u (local.get $i) (local.get $threads)))
        (if (i32.lt_s (call $spawn (local.get $i)) (i32.const 0)) (then (return (i64.const -1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (block $all
      (loop $wait
        (local.set $d (i32.atomic.load (i32.const 8)))
        (br_if $all (i32.ge_u (local.get $d) (local.get $threads)))
        (drop (memory.atomic.wait32 (i32.const 8) (local.get $d) (i64.const -1)))
        (br $wait)))
    (i64.atomic.load (i32.const 0)))

  (func (export "sum") (param $threads i32) (param $n i32) (result i64)
    (call $run (local.get $threads) (local.get $n) (i32.const 0)))
  (func (export "exit_in_thread") (result i64)
    (call $run (i32.const 1) (i32.const 0) (i32.const 1)))
  (func (export "trap_in_thread") (result i64)
    (call $run (i32.const 1) (i32.const 0) (i32.const 2)))
;; A thread that never ends while the main thread waits for it: only
  ;; stopping the thread (wex run -W timeout) ends the program.
  (func (export "spin_in_thread") (result i64)
    (call $run (i32.const 1) (i32.const 0) (i32.const 5)))
  ;; The main thread exits while a thread still blocks.
  (func (export "exit_while_running")
    (i32.atomic.store (i32.const 24) (i32.const 3))
    (drop (call $spawn (i32.const 0)))
    (call $exit (i32.const 3)))

  ;; Sum 0..9999 with 4 threads (exit 1 if wrong), then 3 threads print.
  (func (export "_start")
    (if (i64.ne (call $run (i32.const 4) (i32.const 10000) (i32.const 0)) (i64.const 49995000))
      (then (call $exit (i32.const 1))))
    (memory.init $msg (i32.const 64) (i32.const 0) (i32.const 20))
    (i32.store (i32.const 128) (i32.const 64))
    (i32.store (i32.const 132) (i32.const 20))
    (drop (call $run (i32.const 3) (i32.const 0) (i32.const 4))))
)
