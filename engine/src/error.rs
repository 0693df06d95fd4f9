//! Error values returned across the boundary.
use std::ffi::c_char;

/// An error message owned by the engine; freed with `fn0_engine_error_delete`.
#[allow(non_camel_case_types)]
pub struct fn0_engine_error_t {
    message: String,
    kind: u32, // a module's own classification (store.rs); 0 = none
}

impl fn0_engine_error_t {
    pub(crate) fn boxed(message: String) -> *mut Self {
        Self::boxed_kind(0, message)
    }
    pub(crate) fn boxed_kind(kind: u32, message: String) -> *mut Self {
        Box::into_raw(Box::new(Self { message, kind }))
    }
    pub(crate) fn kind(&self) -> u32 {
        self.kind
    }
}

/// Borrows the UTF-8 message (not NUL-terminated) of `err`; valid until the
/// error is deleted.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_error_message(
    err: *const fn0_engine_error_t,
    data: *mut *const c_char,
    len: *mut usize,
) {
    let msg = &(*err).message;
    *data = msg.as_ptr().cast();
    *len = msg.len();
}

#[no_mangle]
pub unsafe extern "C" fn fn0_engine_error_delete(err: *mut fn0_engine_error_t) {
    if !err.is_null() {
        drop(Box::from_raw(err));
    }
}
