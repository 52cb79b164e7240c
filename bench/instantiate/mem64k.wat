;; (b) one page of memory, no data
(module (memory (export "memory") 1))
