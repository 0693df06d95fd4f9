//! Byte buffers handed from the adapter to C++.

/// Bytes owned by the adapter; C++ reads `data[0..len]` and frees them with
/// `fn0_bytes_delete`. An empty value has `data == NULL`.
#[repr(C)]
pub struct fn0_bytes_t {
    pub data: *mut u8,
    pub len: usize,
    cap: usize,
}

impl fn0_bytes_t {
    pub(crate) fn empty() -> Self {
        Self { data: std::ptr::null_mut(), len: 0, cap: 0 }
    }
    pub(crate) fn from_vec(v: Vec<u8>) -> Self {
        let mut v = std::mem::ManuallyDrop::new(v);
        Self { data: v.as_mut_ptr(), len: v.len(), cap: v.capacity() }
    }
}

/// Frees the bytes in `b` (not `b` itself) and leaves it empty.
#[no_mangle]
pub unsafe extern "C" fn fn0_bytes_delete(b: *mut fn0_bytes_t) {
    if b.is_null() || (*b).data.is_null() {
        return;
    }
    drop(Vec::from_raw_parts((*b).data, (*b).len, (*b).cap));
    *b = fn0_bytes_t::empty();
}
