//! fn0's adapter over wasmtime. One concept per module, each mirrored by one
//! section of `include/fn0_engine.h`. Every exported function catches panics
//! so none crosses the FFI boundary; errors are returned as
//! `fn0_engine_error_t*` (NULL = success), freed by the caller.

mod bytes;
mod compile_cache;
mod component;
mod engine;
mod error;
mod failure;
mod ffi;
mod host;
mod inspect;
mod invoke;
mod invoke_p3;
mod kv;
mod limits;
mod logs;
mod outbound;
mod pipe;
mod response;
mod shared;
mod store;
mod version;

pub use crate::bytes::*;
pub use component::*;
pub use engine::*;
pub use error::*;
pub use invoke::*;
pub use kv::*;
pub use store::*;
pub use version::*;
