;; wasi_block.wat - a wasi-threads program for `wex run` (tests/suites/
;; threads.sh): while its threads block in WASI calls, the main thread's
;; WASI calls must go on. `blocked` starts three threads: one in fd_read on
;; stdin (a pipe that nobody writes to), one in poll_oneoff on an hour-long
;; clock, one calling sched_yield for ever. Once they have started (and a
;; 200 ms poll_oneoff of its own), the main thread writes "written", closes
;; fd 0 under the reading thread, writes "closed", checks that fd 0 is gone
;; (fd_read gives EBADF) and returns; threads still running end the process.
;;
;; Memory: 0 threads started, 32 the reader's iovec (64, 16), 40 its nread,
;; 64.. its buffer, 256 the hour-long clock subscription, 320 its event,
;; 360 its nevents, 400 the main thread's 200 ms subscription, 460 its
;; event, 500 its nevents, 512.. the messages (a passive segment, so that
;; the threads' instances do not rewrite it), 600 and 608 their iovecs,
;; 620 nwritten.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "memory" (memory 1 1 shared))
  (data $msgs "written\nclosed\n")

  ;; A relative CLOCK_MONOTONIC subscription at $at, timeout $ns.
  (func $clock_sub (param $at i32) (param $ns i64)
    (i64.store (local.get $at) (i64.const 7))                              ;; userdata
    (i32.store8 (i32.add (local.get $at) (i32.const 8)) (i32.const 0))     ;; tag: clock
    (i32.store (i32.add (local.get $at) (i32.const 16)) (i32.const 1))     ;; monotonic
    (i64.store (i32.add (local.get $at) (i32.const 24)) (local.get $ns))   ;; timeout
    (i64.store (i32.add (local.get $at) (i32.const 32)) (i64.const 0))     ;; precision
    (i32.store16 (i32.add (local.get $at) (i32.const 40)) (i32.const 0)))  ;; relative

  ;; arg 1: fd_read on stdin; 2: the hour-long poll; 3: sched_yield for ever.
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const -1)))
    (if (i32.eq (local.get $arg) (i32.const 1))
      (then (drop (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))))
    (if (i32.eq (local.get $arg) (i32.const 2))
      (then (drop (call $poll (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 360)))))
    (if (i32.eq (local.get $arg) (i32.const 3))
      (then (loop $spin (drop (call $yield)) (br $spin)))))

  (func (export "blocked")
    (local $s i32)
    (memory.init $msgs (i32.const 512) (i32.const 0) (i32.const 15))
    (i32.store (i32.const 600) (i32.const 512))
    (i32.store (i32.const 604) (i32.const 8))
    (i32.store (i32.const 608) (i32.const 520))
    (i32.store (i32.const 612) (i32.const 7))
    (i32.store (i32.const 32) (i32.const 64))
    (i32.store (i32.const 36) (i32.const 16))
    (call $clock_sub (i32.const 256) (i64.const 3600000000000))
    (call $clock_sub (i32.const 400) (i64.const 200000000))
    (if (i32.lt_s (call $spawn (i32.const 1)) (i32.const 0)) (then (call $exit (i32.const 10))))
    (if (i32.lt_s (call $spawn (i32.const 2)) (i32.const 0)) (then (call $exit (i32.const 10))))
    (if (i32.lt_s (call $spawn (i32.const 3)) (i32.const 0)) (then (call $exit (i32.const 10))))
    (block $all
      (loop $wait
        (local.set $s (i32.atomic.load (i32.const 0)))
        (br_if $all (i32.ge_u (local.get $s) (i32.const 3)))
        (drop (memory.atomic.wait32 (i32.const 0) (local.get $s) (i64.const -1)))
        (br $wait)))
    ;; Let the threads get into their calls.
    (if (call $poll (i32.const 400) (i32.const 460) (i32.const 1) (i32.const 500))
      (then (call $exit (i32.const 11))))
    (if (call $fd_write (i32.const 1) (i32.const 600) (i32.const 1) (i32.const 620))
      (then (call $exit (i32.const 12))))
    (if (call $fd_close (i32.const 0)) (then (call $exit (i32.const 13))))
    (if (call $fd_write (i32.const 1) (i32.const 608) (i32.const 1) (i32.const 620))
      (then (call $exit (i32.const 14))))
    ;; fd 0 is gone from the table even though a thread still reads it.
    (if (i32.ne (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40))
                (i32.const 8))
      (then (call $exit (i32.const 15)))))
)
