//! Helpers shared by the exported functions: panic containment.
use crate::error::fn0_engine_error_t;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into an error value so it never unwinds into C++.
pub(crate) fn guard(f: impl FnOnce() -> wasmtime::Result<()>) -> *mut fn0_engine_error_t {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => fn0_engine_error_t::boxed(format!("{e:#}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            fn0_engine_error_t::boxed(format!("internal error (panic in engine): {what}"))
        }
    }
}
