;; dispatch_loop.wat - small bytecode machines whose loop head is a br_table
;; (see test_dispatch_loop.c): the translator copies such a head to each
;; branch back to the loop, with its offsets rebased, including entries
;; whose blocks have not ended yet. Three key forms: loaded through
;; base + (pc << 2) (BR_TABLE_MR), through a pointer (BR_TABLE_MP), and from
;; a local after an add (I32_ADD_IMM + BR_TABLE_I).
;;
;; Bytecode (i32 words): 0 k: acc += k; 1: acc *= 3; 2: acc ^= pc;
;; 3 t: if --cnt > 0 goto t else skip; 4: halt (result acc); other: -1.
(module
  (memory (export "mem") 1)
  ;; program A at 0: 0 5, 1, 2, 3 0, 0 7, 2, 4
  (data (i32.const 0) "\00\00\00\00\05\00\00\00\01\00\00\00\02\00\00\00\03\00\00\00\00\00\00\00\00\00\00\00\07\00\00\00\02\00\00\00\04\00\00\00")
  ;; program B at 256: 1, 0 9, 3 0, 2, 9 (bad op)
  ;; the last word of memory: op 1
  (data (i32.const 65532) "\01\00\00\00")
  (data (i32.const 256) "\01\00\00\00\00\00\00\00\09\00\00\00\03\00\00\00\00\00\00\00\02\00\00\00\09\00\00\00")

  (func (export "run_r") (param $code i32) (param $cnt i32) (result i32)
    (local $pc i32) (local $acc i32)
    (block $bad
      (loop $top
        (block $halt
          (block $c3
            (block $c2
              (block $c1
                (block $c0
                  (br_table $c0 $c1 $c2 $c3 $halt $bad
                    (i32.load (i32.add (local.get $code)
                                       (i32.shl (local.get $pc) (i32.const 2))))))
                (local.set $acc (i32.add (local.get $acc)
                  (i32.load offset=4 (i32.add (local.get $code)
                                              (i32.shl (local.get $pc) (i32.const 2))))))
                (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
                (br $top))
              (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
              (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
              (br $top))
            (local.set $acc (i32.xor (local.get $acc) (local.get $pc)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
            (br $top))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (if (i32.gt_s (local.get $cnt) (i32.const 0))
            (then
              (local.set $pc (i32.load offset=4 (i32.add (local.get $code)
                                                         (i32.shl (local.get $pc) (i32.const 2)))))
              (br $top)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
          (br $top))
        (return (local.get $acc))))
    (i32.const -1))

  (func (export "run_p") (param $code i32) (param $cnt i32) (result i32)
    (local $p i32) (local $acc i32)
    (local.set $p (local.get $code))
    (block $bad
      (loop $top
        (block $halt
          (block $c3
            (block $c2
              (block $c1
                (block $c0
                  (br_table $c0 $c1 $c2 $c3 $halt $bad (i32.load (local.get $p))))
                (local.set $acc (i32.add (local.get $acc) (i32.load offset=4 (local.get $p))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (br $top))
              (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
              (local.set $p (i32.add (local.get $p) (i32.const 4)))
              (br $top))
            (local.set $acc (i32.xor (local.get $acc)
                                     (i32.shr_u (i32.sub (local.get $p) (local.get $code))
                                                (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $top))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (if (i32.gt_s (local.get $cnt) (i32.const 0))
            (then
              (local.set $p (i32.add (local.get $code)
                                     (i32.shl (i32.load offset=4 (local.get $p)) (i32.const 2))))
              (br $top)))
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (br $top))
        (return (local.get $acc))))
    (i32.const -1))

  ;; The key is op + 7, kept in a local: every case loads the next op.
  (func (export "run_i") (param $code i32) (param $cnt i32) (result i32)
    (local $pc i32) (local $acc i32) (local $op i32)
    (local.set $op (i32.add (i32.load (local.get $code)) (i32.const 7)))
    (block $bad
      (loop $top
        (block $halt
          (block $c3
            (block $c2
              (block $c1
                (block $c0
                  (br_table $c0 $c1 $c2 $c3 $halt $bad
                    (i32.add (local.get $op) (i32.const -7))))
                (local.set $acc (i32.add (local.get $acc)
                  (i32.load offset=4 (i32.add (local.get $code)
                                              (i32.shl (local.get $pc) (i32.const 2))))))
                (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
                (local.set $op (i32.add (i32.load (i32.add (local.get $code)
                                   (i32.shl (local.get $pc) (i32.const 2)))) (i32.const 7)))
                (br $top))
              (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
              (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
              (local.set $op (i32.add (i32.load (i32.add (local.get $code)
                                 (i32.shl (local.get $pc) (i32.const 2)))) (i32.const 7)))
              (br $top))
            (local.set $acc (i32.xor (local.get $acc) (local.get $pc)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
            (local.set $op (i32.add (i32.load (i32.add (local.get $code)
                               (i32.shl (local.get $pc) (i32.const 2)))) (i32.const 7)))
            (br $top))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (if (i32.gt_s (local.get $cnt) (i32.const 0))
            (then
              (local.set $pc (i32.load offset=4 (i32.add (local.get $code)
                                                         (i32.shl (local.get $pc) (i32.const 2)))))
              (local.set $op (i32.add (i32.load (i32.add (local.get $code)
                                 (i32.shl (local.get $pc) (i32.const 2)))) (i32.const 7)))
              (br $top)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
          (local.set $op (i32.add (i32.load (i32.add (local.get $code)
                             (i32.shl (local.get $pc) (i32.const 2)))) (i32.const 7)))
          (br $top))
        (return (local.get $acc))))
    (i32.const -1)))
