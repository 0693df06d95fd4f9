;; A valid component that exports nothing: fn0 must reject it at deploy time
;; because it has no wasi:http/incoming-handler.
(component)
