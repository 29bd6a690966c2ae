;; The channel automation module of the contract fixtures (channel-automation.wasm is this file
;; through the `wat` crate; a test keeps the two identical).
(module
  (import "wasi:clocks/wall-clock@0.2.6" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "dispatch") (param $event i32) (result i32)
    local.get $event))
