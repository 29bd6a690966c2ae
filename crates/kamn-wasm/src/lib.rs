//! The KAMN DID derivation as a wasm32 module that any WebAssembly host can call.
//!
//! The edge smoke probes load this module in Deno and in Cloudflare's workerd and check that it
//! derives exactly what the native `tau` binary derives. The interface is deliberately tiny and
//! needs no imports and no bindings generator, so nothing but the derivation itself is tested:
//!
//! 1. `kamn_alloc(len)` returns a buffer; the host writes a JSON `kamn_sdk::InitRequest` into it;
//! 2. `kamn_did_init(ptr, len)` returns `(out_ptr << 32) | out_len` of a JSON answer,
//!    `{"report": …}` or `{"error": "…"}`;
//! 3. the host releases both buffers with `kamn_free(ptr, len)`.

/// The JSON answer for a JSON request.
pub fn did_init_json(input: &[u8]) -> Vec<u8> {
    let answer = serde_json::from_slice::<kamn_sdk::InitRequest>(input)
        .map_err(|e| format!("bad request: {e}"))
        .and_then(|request| kamn_sdk::init(&request).map_err(|e| e.to_string()));
    let value = match answer {
        Ok(report) => serde_json::json!({ "report": report }),
        Err(error) => serde_json::json!({ "error": error }),
    };
    serde_json::to_vec(&value).expect("answer serializes")
}

/// Allocates `len` bytes for the host to fill.
#[unsafe(no_mangle)]
pub extern "C" fn kamn_alloc(len: u32) -> *mut u8 {
    let buffer = vec![0u8; len as usize].into_boxed_slice();
    Box::into_raw(buffer).cast()
}

/// Releases a buffer from [`kamn_alloc`] or [`kamn_did_init`].
///
/// # Safety
/// `ptr` and `len` must come from one of those calls, and the buffer must not be used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kamn_free(ptr: *mut u8, len: u32) {
    if !ptr.is_null() {
        let slice = std::ptr::slice_from_raw_parts_mut(ptr, len as usize);
        drop(unsafe { Box::from_raw(slice) });
    }
}

/// Derives the bootstrap report of the JSON request at `ptr..ptr+len`.
///
/// # Safety
/// `ptr` must point to `len` readable bytes (a buffer from [`kamn_alloc`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kamn_did_init(ptr: *const u8, len: u32) -> u64 {
    let input = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    let output = did_init_json(input).into_boxed_slice();
    let out_len = output.len() as u64;
    let out_ptr = Box::into_raw(output).cast::<u8>() as usize as u64;
    (out_ptr << 32) | out_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_a_report_or_an_error() {
        let ok: serde_json::Value =
            serde_json::from_slice(&did_init_json(br#"{"entropy":"e"}"#)).unwrap();
        assert!(ok["report"]["identity"]["did"]
            .as_str()
            .unwrap()
            .starts_with("did:key:z6Mk"));
        let bad: serde_json::Value =
            serde_json::from_slice(&did_init_json(br#"{"entropy":"e","subject":"a/b"}"#)).unwrap();
        assert!(
            bad["error"].as_str().unwrap().contains("naming rule"),
            "{bad}"
        );
        let broken: serde_json::Value = serde_json::from_slice(&did_init_json(b"{")).unwrap();
        assert!(broken["error"].as_str().unwrap().starts_with("bad request"));
    }
}
