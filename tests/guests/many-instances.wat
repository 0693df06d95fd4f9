;; 300 core instances, each with its own linear memory (a nested component
;; with ten, instantiated thirty times). One instance of this would take 300
;; memory slots of the node's pooling allocator: fn0 must refuse it at
;; deploy, naming the count and the cap.
(component
  (component $ten
    (core module $m (memory 1))
    (core instance (instantiate $m)) (core instance (instantiate $m)) (core instance (instantiate $m))
    (core instance (instantiate $m)) (core instance (instantiate $m)) (core instance (instantiate $m))
    (core instance (instantiate $m)) (core instance (instantiate $m)) (core instance (instantiate $m))
    (core instance (instantiate $m)))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
  (instance (instantiate $ten)) (instance (instantiate $ten)) (instance (instantiate $ten))
)
