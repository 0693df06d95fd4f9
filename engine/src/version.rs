//! Versions of the adapter and of the wasmtime it links.
use std::ffi::c_char;

static ADAPTER_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
static WASMTIME_VERSION: &str = concat!(env!("FN0_WASMTIME_VERSION"), "\0");

/// The wasmtime version linked into this binary, as a static NUL-terminated
/// string (never freed).
#[no_mangle]
pub extern "C" fn fn0_engine_wasmtime_version() -> *const c_char {
    WASMTIME_VERSION.as_ptr().cast()
}

/// The adapter crate's own version, static NUL-terminated string.
#[no_mangle]
pub extern "C" fn fn0_engine_adapter_version() -> *const c_char {
    ADAPTER_VERSION.as_ptr().cast()
}
