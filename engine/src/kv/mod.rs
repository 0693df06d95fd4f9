//! wasi:keyvalue (store, atomics, batch) for guests, in the two versions
//! components are built for: 0.2.0-draft (wasmtime's; `draft.rs`) and
//! 0.2.0-draft2 (Spin's, with compare-and-swap; `draft2.rs`). Both are thin
//! shims over the calls here. Each call is copied into a `fn0_kv_call_t`
//! and handed to the node's handler
//! (src/kv/guest_api.cc), which checks it and answers through
//! `fn0_kv_complete`, at once or later from its store thread. Meanwhile the
//! guest's future waits on a channel: it is not polled, so no CPU time is
//! metered. Access and limits are the node's; this module only marshals.
use crate::host::Host;
use crate::invoke::fn0_str_t;
use std::ffi::c_void;
use wasmtime::component::{Linker, Resource};

/// What draft and draft2 share word for word, over each version's own
/// generated `store` and `batch` modules: the error conversion, `open`, the
/// bucket's calls (its `list-keys`, which differs, is passed in) and the
/// batch calls.
macro_rules! shared_shims {
    ($store:ident, $batch:ident, $($list_keys:tt)*) => {
        impl From<$crate::kv::KvError> for $store::Error {
            fn from(e: $crate::kv::KvError) -> Self {
                match e {
                    $crate::kv::KvError::NoSuchStore => $store::Error::NoSuchStore,
                    $crate::kv::KvError::AccessDenied => $store::Error::AccessDenied,
                    $crate::kv::KvError::Other(m) => $store::Error::Other(m),
                }
            }
        }

        impl $store::Host for Host {
            async fn open(&mut self, identifier: String) -> Result<Resource<Bucket>, $store::Error> {
                Ok(self.kv_open(identifier).await?)
            }
        }

        impl $store::HostBucket for Host {
            async fn get(&mut self, b: Resource<Bucket>, key: String) -> Result<Option<Vec<u8>>, $store::Error> {
                Ok(self.kv_get(&b, &key).await?)
            }

            async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> Result<(), $store::Error> {
                Ok(self.kv_set(&b, &key, &value).await?)
            }

            async fn delete(&mut self, b: Resource<Bucket>, key: String) -> Result<(), $store::Error> {
                Ok(self.kv_delete(&b, &key).await?)
            }

            async fn exists(&mut self, b: Resource<Bucket>, key: String) -> Result<bool, $store::Error> {
                Ok(self.kv_exists(&b, &key).await?)
            }

            $($list_keys)*

            async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
                self.kv_drop(b)
            }
        }

        impl $batch::Host for Host {
            async fn get_many(
                &mut self,
                b: Resource<Bucket>,
                keys: Vec<String>,
            ) -> Result<Vec<Option<(String, Vec<u8>)>>, $store::Error> {
                Ok(self.kv_get_many(&b, keys).await?)
            }

            async fn set_many(
                &mut self,
                b: Resource<Bucket>,
                key_values: Vec<(String, Vec<u8>)>,
            ) -> Result<(), $store::Error> {
                Ok(self.kv_set_many(&b, &key_values).await?)
            }

            async fn delete_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> Result<(), $store::Error> {
                Ok(self.kv_delete_many(&b, &keys).await?)
            }
        }
    };
}

mod draft;
mod draft2;

pub const FN0_KV_OPEN: u32 = 0;
pub const FN0_KV_GET: u32 = 1;
pub const FN0_KV_SET: u32 = 2;
pub const FN0_KV_DELETE: u32 = 3;
pub const FN0_KV_EXISTS: u32 = 4;
pub const FN0_KV_LIST_KEYS: u32 = 5;
pub const FN0_KV_INCREMENT: u32 = 6;
pub const FN0_KV_GET_MANY: u32 = 7;
pub const FN0_KV_SET_MANY: u32 = 8;
pub const FN0_KV_DELETE_MANY: u32 = 9;
pub const FN0_KV_SWAP: u32 = 10;
pub const FN0_KV_INCREMENT_SIGNED: u32 = 11;

pub const FN0_KV_STATUS_OK: u32 = 0;
pub const FN0_KV_STATUS_NO_SUCH_STORE: u32 = 1;
pub const FN0_KV_STATUS_ACCESS_DENIED: u32 = 2;
pub const FN0_KV_STATUS_OTHER: u32 = 3;

/// A bucket the guest opened: the identifier, sent with each call (the node
/// resolves it again, so nothing here needs trusting).
pub struct Bucket {
    identifier: String,
}

/// A draft2 compare-and-swap handle: one key's value as it was read.
pub struct Cas {
    bucket: String,
    key: String,
    current: Option<Vec<u8>>,
}

/// A failed call, as both versions' `store::error` say it.
pub(crate) enum KvError {
    NoSuchStore,
    AccessDenied,
    Other(String),
}

type KvResult<T> = Result<T, KvError>;

fn table_error(e: impl std::fmt::Display) -> KvError {
    KvError::Other(format!("kv-error: {e}"))
}

#[repr(C)]
#[allow(non_camel_case_types)]
pub struct fn0_kv_call_t {
    pub op: u32,
    pub bucket: fn0_str_t,
    pub keys: *const fn0_str_t,
    pub key_count: usize,
    pub values: *const fn0_str_t,
    pub value_count: usize,
    pub number: u64,
    pub has_number: u32,
}

#[repr(C)]
#[allow(non_camel_case_types)]
pub struct fn0_kv_result_t {
    pub status: u32,
    pub error: fn0_str_t,
    pub items: *const fn0_str_t,
    pub present: *const u8,
    pub item_count: usize,
    pub number: u64,
    pub has_number: u32,
}

/// A call's completion, owned by the node until it answers.
#[allow(non_camel_case_types)]
pub struct fn0_kv_done_t {
    tx: tokio::sync::oneshot::Sender<Reply>,
}

#[allow(non_camel_case_types)]
pub type fn0_kv_handler_t = unsafe extern "C" fn(*mut c_void, *const fn0_kv_call_t, *mut fn0_kv_done_t);

struct Reply {
    status: u32,
    error: String,
    items: Vec<Option<Vec<u8>>>,
    number: Option<u64>,
}

impl Reply {
    fn failed(status: u32, error: &str) -> Self {
        Reply { status, error: error.into(), items: Vec::new(), number: None }
    }
    fn check(self) -> KvResult<Self> {
        match self.status {
            FN0_KV_STATUS_OK => Ok(self),
            FN0_KV_STATUS_NO_SUCH_STORE => Err(KvError::NoSuchStore),
            FN0_KV_STATUS_ACCESS_DENIED => Err(KvError::AccessDenied),
            _ => Err(KvError::Other(self.error)),
        }
    }
    fn number(&self) -> KvResult<u64> {
        self.number.ok_or_else(|| KvError::Other("kv-error: no value returned".into()))
    }
}

/// Answers a call: copies the result and wakes the guest. Frees `done`.
#[no_mangle]
pub unsafe extern "C" fn fn0_kv_complete(done: *mut fn0_kv_done_t, result: *const fn0_kv_result_t) {
    if done.is_null() {
        return;
    }
    let done = Box::from_raw(done);
    let r = &*result;
    let items = if r.item_count == 0 || r.items.is_null() {
        Vec::new()
    } else {
        let items = std::slice::from_raw_parts(r.items, r.item_count);
        (0..r.item_count)
            .map(|i| {
                let there = r.present.is_null() || *r.present.add(i) != 0;
                there.then(|| items[i].bytes().to_vec())
            })
            .collect()
    };
    let reply = Reply {
        status: r.status,
        error: String::from_utf8_lossy(r.error.bytes()).into_owned(),
        items,
        number: (r.has_number != 0).then_some(r.number),
    };
    let _ = done.tx.send(reply); // the request may be gone: nobody waits then
}

/// The node's handler and this request's session (set per request).
#[derive(Clone, Copy)]
pub(crate) struct KvLink {
    pub(crate) handler: Option<fn0_kv_handler_t>,
    pub(crate) session: *mut c_void,
}

impl Default for KvLink {
    fn default() -> Self {
        KvLink { handler: None, session: std::ptr::null_mut() }
    }
}

// The session is the node's, valid while the request lives and usable from
// any thread (src/kv/guest_api.h).
unsafe impl Send for KvLink {}
unsafe impl Sync for KvLink {}

impl KvLink {
    async fn call(&self, op: u32, bucket: &str, keys: &[&str], values: &[&[u8]], number: Option<u64>) -> Reply {
        let Some(handler) = self.handler.filter(|_| !self.session.is_null()) else {
            return Reply::failed(FN0_KV_STATUS_NO_SUCH_STORE, "");
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let keys: Vec<fn0_str_t> = keys.iter().map(|k| fn0_str_t::of(k.as_bytes())).collect();
            let values: Vec<fn0_str_t> = values.iter().map(|v| fn0_str_t::of(v)).collect();
            let call = fn0_kv_call_t {
                op,
                bucket: fn0_str_t::of(bucket.as_bytes()),
                keys: keys.as_ptr(),
                key_count: keys.len(),
                values: values.as_ptr(),
                value_count: values.len(),
                number: number.unwrap_or(0),
                has_number: number.is_some() as u32,
            };
            let done = Box::into_raw(Box::new(fn0_kv_done_t { tx }));
            unsafe { handler(self.session, &call, done) };
        }
        rx.await
            .unwrap_or_else(|_| Reply::failed(FN0_KV_STATUS_OTHER, "kv-unavailable: the key-value store did not answer"))
    }
}

/// The calls both versions make, on the bucket handles in the guest's table.
impl Host {
    fn bucket_id(&self, b: &Resource<Bucket>) -> KvResult<String> {
        self.table.get(b).map(|b| b.identifier.clone()).map_err(table_error)
    }

    async fn kv_open(&mut self, identifier: String) -> KvResult<Resource<Bucket>> {
        self.kv.call(FN0_KV_OPEN, &identifier, &[], &[], None).await.check()?;
        self.table.push(Bucket { identifier }).map_err(table_error)
    }

    fn kv_drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }

    async fn kv_get(&mut self, b: &Resource<Bucket>, key: &str) -> KvResult<Option<Vec<u8>>> {
        let id = self.bucket_id(b)?;
        self.get_in(&id, key).await
    }

    async fn get_in(&mut self, bucket: &str, key: &str) -> KvResult<Option<Vec<u8>>> {
        let r = self.kv.call(FN0_KV_GET, bucket, &[key], &[], None).await.check()?;
        Ok(r.items.into_iter().next().flatten())
    }

    async fn kv_set(&mut self, b: &Resource<Bucket>, key: &str, value: &[u8]) -> KvResult<()> {
        let id = self.bucket_id(b)?;
        self.kv.call(FN0_KV_SET, &id, &[key], &[value], None).await.check().map(drop)
    }

    async fn kv_delete(&mut self, b: &Resource<Bucket>, key: &str) -> KvResult<()> {
        let id = self.bucket_id(b)?;
        self.kv.call(FN0_KV_DELETE, &id, &[key], &[], None).await.check().map(drop)
    }

    async fn kv_exists(&mut self, b: &Resource<Bucket>, key: &str) -> KvResult<bool> {
        let id = self.bucket_id(b)?;
        let r = self.kv.call(FN0_KV_EXISTS, &id, &[key], &[], None).await.check()?;
        Ok(r.number == Some(1))
    }

    /// One page of keys and the cursor of the next, if any.
    async fn kv_list_keys(&mut self, b: &Resource<Bucket>, cursor: Option<u64>) -> KvResult<(Vec<String>, Option<u64>)> {
        let id = self.bucket_id(b)?;
        let r = self.kv.call(FN0_KV_LIST_KEYS, &id, &[], &[], cursor).await.check()?;
        let keys = r.items.into_iter().flatten().map(|k| String::from_utf8_lossy(&k).into_owned()).collect();
        Ok((keys, r.number))
    }

    /// `signed`: the delta and the sum are an i64's bits (draft2).
    async fn kv_increment(&mut self, b: &Resource<Bucket>, key: &str, delta: u64, signed: bool) -> KvResult<u64> {
        let id = self.bucket_id(b)?;
        let op = if signed { FN0_KV_INCREMENT_SIGNED } else { FN0_KV_INCREMENT };
        self.kv.call(op, &id, &[key], &[], Some(delta)).await.check()?.number()
    }

    async fn kv_get_many(&mut self, b: &Resource<Bucket>, keys: Vec<String>) -> KvResult<Vec<Option<(String, Vec<u8>)>>> {
        let id = self.bucket_id(b)?;
        let refs: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        let r = self.kv.call(FN0_KV_GET_MANY, &id, &refs, &[], None).await.check()?;
        Ok(keys.into_iter().zip(r.items).map(|(k, v)| v.map(|v| (k, v))).collect())
    }

    async fn kv_set_many(&mut self, b: &Resource<Bucket>, key_values: &[(String, Vec<u8>)]) -> KvResult<()> {
        let id = self.bucket_id(b)?;
        let keys: Vec<&str> = key_values.iter().map(|(k, _)| k.as_str()).collect();
        let values: Vec<&[u8]> = key_values.iter().map(|(_, v)| v.as_slice()).collect();
        self.kv.call(FN0_KV_SET_MANY, &id, &keys, &values, None).await.check().map(drop)
    }

    async fn kv_delete_many(&mut self, b: &Resource<Bucket>, keys: &[String]) -> KvResult<()> {
        let id = self.bucket_id(b)?;
        let refs: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        self.kv.call(FN0_KV_DELETE_MANY, &id, &refs, &[], None).await.check().map(drop)
    }

    /// A compare-and-swap handle for `key`, holding its value now.
    async fn kv_cas_new(&mut self, b: &Resource<Bucket>, key: String) -> KvResult<Resource<Cas>> {
        let bucket = self.bucket_id(b)?;
        let current = self.get_in(&bucket, &key).await?;
        self.table.push(Cas { bucket, key, current }).map_err(table_error)
    }

    fn kv_cas_current(&self, cas: &Resource<Cas>) -> KvResult<Option<Vec<u8>>> {
        self.table.get(cas).map(|c| c.current.clone()).map_err(table_error)
    }

    fn kv_cas_drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }

    /// Writes `value` if the key still holds what `cas` read. Ok(Err(new
    /// handle)) when it did not: the new handle holds the value now stored.
    async fn kv_swap(&mut self, cas: Resource<Cas>, value: &[u8]) -> KvResult<Result<(), Resource<Cas>>> {
        let c = self.table.delete(cas).map_err(table_error)?;
        // has_number says the key is expected to hold values[1] (fn0_engine.h).
        let (values, expected): (Vec<&[u8]>, Option<u64>) = match &c.current {
            Some(old) => (vec![value, old.as_slice()], Some(1)),
            None => (vec![value], None),
        };
        let r = self.kv.call(FN0_KV_SWAP, &c.bucket, &[&c.key], &values, expected).await.check()?;
        if r.number == Some(1) {
            return Ok(Ok(()));
        }
        let current = r.items.into_iter().next().flatten();
        let next = self.table.push(Cas { bucket: c.bucket, key: c.key, current }).map_err(table_error)?;
        Ok(Err(next))
    }
}

/// Adds both versions' interfaces to the linker every component is linked with.
pub(crate) fn add_to_linker(l: &mut Linker<Host>) -> wasmtime::Result<()> {
    draft::add_to_linker(l)?;
    draft2::add_to_linker(l)
}
