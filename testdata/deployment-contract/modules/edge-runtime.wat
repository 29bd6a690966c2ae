;; The runbook's edge runtime module (edge-runtime.wasm is this file through the `wat` crate; a
;; test keeps the two identical). A core module whose host imports are WASI preview2 interfaces
;; only, as the wasm_wasi and channel_automation_wasi profiles require.
(module
  (import "wasi:cli/environment@0.2.6" "get-arguments" (func $get_arguments (param i32)))
  (import "wasi:clocks/monotonic-clock@0.2.6" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "handle") (param $request i32) (result i32)
    local.get $request
    i32.const 1
    i32.add)
)
