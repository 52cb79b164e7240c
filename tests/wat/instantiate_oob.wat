;; No image (a segment is out of bounds); instantiation must trap after the
;; first segment is written, as the spec says.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "first")
  (data (i32.const 65534) "too long"))
