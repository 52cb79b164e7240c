;; No image: 4 MiB of initial memory whose data is a few bytes at each end.
(module
  (memory (export "memory") 64)
  (data (i32.const 0) "start")
  (data (i32.const 4194000) "end"))
