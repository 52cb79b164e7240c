;; threads_sum.wat - a shared-memory guest for test_threads.c: several
;; instances (one per thread, each in its own store) import the same shared
;; memory; `work` adds numbers into one total with atomic read-modify-writes,
;; `join` waits with memory.atomic.wait32 until every worker has notified.
;;
;; Memory layout: 0 total (i64), 8 workers done (i32), 12 arrived at the
;; barrier (i32).
(module
  (import "env" "memory" (memory 1 4 shared))

  ;; Add k for k = tid, tid + nthreads, ... below n, one atomic add each,
  ;; then count this worker done and wake the joiner.
  (func (export "work") (param $tid i32) (param $nthreads i32) (param $n i32)
    (local $k i32)
    (local.set $k (local.get $tid))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (drop (i64.atomic.rmw.add (i32.const 0) (i64.extend_i32_u (local.get $k))))
        (local.set $k (i32.add (local.get $k) (local.get $nthreads)))
        (br $next)))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 8) (i32.const -1))))

  ;; Wait until `nthreads` workers are done; return the total.
  (func (export "join") (param $nthreads i32) (result i64)
    (local $d i32)
    (block $all
      (loop $wait
        (local.set $d (i32.atomic.load (i32.const 8)))
        (br_if $all (i32.ge_u (local.get $d) (local.get $nthreads)))
        (drop (memory.atomic.wait32 (i32.const 8) (local.get $d) (i64.const -1)))
        (br $wait)))
    (i64.atomic.load (i32.const 0)))

  (func (export "reset")
    (i64.atomic.store (i32.const 0) (i64.const 0))
    (i32.atomic.store (i32.const 8) (i32.const 0))
    (i32.atomic.store (i32.const 12) (i32.const 0)))

  ;; A barrier: arrive, then block until all `n` threads have arrived. Only
  ;; completes if all n run at once: the saturation test.
  (func (export "barrier") (param $n i32)
    (local $a i32)
    (drop (i32.atomic.rmw.add (i32.const 12) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 12) (i32.const -1)))
    (block $all
      (loop $wait
        (local.set $a (i32.atomic.load (i32.const 12)))
        (br_if $all (i32.ge_u (local.get $a) (local.get $n)))
        (drop (memory.atomic.wait32 (i32.const 12) (local.get $a) (i64.const -1)))
        (br $wait)))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 8) (i32.const -1))))

  ;; For single-thread checks of wait/notify results and traps.
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))

  ;; Spin until another thread sets the flag at 64 (after growing the
  ;; memory), then read the first byte of the second page: a plain load,
  ;; in the same call, past the size the loop saw when it started.
  (func (export "load_after_flag") (result i32)
    (loop $spin
      (br_if $spin (i32.eqz (i32.atomic.load (i32.const 64)))))
    (i32.load8_u (i32.const 65536)))
)
