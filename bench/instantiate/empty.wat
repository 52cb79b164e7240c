;; (a) the empty module
(module)
