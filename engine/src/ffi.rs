//! Helpers shared by the exported functions: panic containment.
use crate::error::fn0_engine_error_t;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into an error value so it never unwinds into C++.
pub(crate) fn guard(f: impl FnOnce() -> wasmtime::Result<()>) -> *mut fn0_engine_error_t {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => fn0_engine_error_t::boxed(format!("{e:#}")),
        Err(panic) => panic_error(panic),
    }
}

/// `guard` for functions whose errors carry a kind (see store.rs).
pub(crate) fn guard_kind(f: impl FnOnce() -> Result<(), (u32, String)>) -> *mut fn0_engine_error_t {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err((kind, message))) => fn0_engine_error_t::boxed_kind(kind, message),
        Err(panic) => panic_error(panic),
    }
}

fn panic_error(panic: Box<dyn std::any::Any + Send>) -> *mut fn0_engine_error_t {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    fn0_engine_error_t::boxed(format!("internal error (panic in engine): {what}"))
}
