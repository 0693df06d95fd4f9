;; A component importing an interface fn0 does not provide.
(component
  (import "fn0:missing/nothing" (instance
    (export "call" (func))
  ))
)
