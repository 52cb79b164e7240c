;; Loop-heavy kernels over linear memory, each with a checkable result.
(module
  (memory (export "memory") 16)
  ;; Sieve of Eratosthenes over bytes [0, n): returns the number of primes < n.
  (func (export "sieve") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
    (local.set $i (i32.const 2))
    (block $out
      (loop $outer
        (br_if $out (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $d (loop $inner
              (br_if $d (i32.ge_u (local.get $j) (local.get $n)))
              (i32.store8 (local.get $j) (i32.const 0))
              (local.set $j (i32.add (local.get $j) (local.get $i)))
              (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.set $i (i32.const 2))
    (block $e (loop $cnt
      (br_if $e (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $cnt)))
    (local.get $count))
  ;; n x n matrix multiply in f64: A[i][k] = i + k, B[k][j] = k - j; returns sum of C.
  (func (export "matmul") (param $n i32) (result f64)
    (local $i i32) (local $j i32) (local $k i32) (local $acc f64) (local $sum f64)
    (local $a i32) (local $b i32)
    (local.set $a (i32.const 0))
    (local.set $b (i32.mul (i32.mul (local.get $n) (local.get $n)) (i32.const 8)))
    ;; fill
    (local.set $i (i32.const 0))
    (loop $fi
      (local.set $k (i32.const 0))
      (loop $fk
        (f64.store (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3)))
          (f64.convert_i32_s (i32.add (local.get $i) (local.get $k))))
        (f64.store (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3)))
          (f64.convert_i32_s (i32.sub (local.get $i) (local.get $k))))
        (br_if $fk (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $n))))
      (br_if $fi (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    ;; multiply and sum
    (local.set $i (i32.const 0))
    (loop $li
      (local.set $j (i32.const 0))
      (loop $lj
        (local.set $acc (f64.const 0))
        (local.set $k (i32.const 0))
        (loop $lk
          (local.set $acc (f64.add (local.get $acc)
            (f64.mul
              (f64.load (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3))))
              (f64.load (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j)) (i32.const 3)))))))
          (br_if $lk (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $n))))
        (local.set $sum (f64.add (local.get $sum) (local.get $acc)))
        (br_if $lj (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
      (br_if $li (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $sum))
  ;; FNV-1a over [0, n) after filling it with a pattern; multi-value swap on the way.
  (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
  (func (export "fnv") (param $n i32) (result i32)
    (local $i i32) (local $h i32) (local $x i32) (local $y i32)
    (local.set $h (i32.const 0x811c9dc5))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (local.get $i) (i32.and (i32.mul (local.get $i) (i32.const 31)) (i32.const 255)))
      (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $i))) (i32.const 16777619)))
      (call $swap (local.get $i) (local.get $h))
      (local.set $x) (local.set $y)
      (local.set $h (i32.add (local.get $x) (i32.sub (local.get $y) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $h)))
