;; br_table whose targets include an enclosing loop, i.e. a backward branch
;; (regression: the interpreter once added the offset as unsigned, jumping
;; 4 Gi words forward). tests/unit/test_br_table.c
(module
  ;; sum of 1..n, looping through br_table: index 0 continues the loop,
  ;; index 1 (and anything larger) leaves it
  (func (export "sum") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $again
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_table $again $done (i32.eqz (local.get $n)))))
    (local.get $acc)))
