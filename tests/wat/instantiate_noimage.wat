;; A memory image cannot be built: a data segment's offset is an (imported)
;; global.
(module
  (import "env" "off" (global $off i32))
  (memory (export "memory") 1)
  (data (global.get $off) "abc"))
