;; No image: memory 0 is imported.
(module
  (import "env" "memory" (memory 1))
  (data (i32.const 0) "abc"))
