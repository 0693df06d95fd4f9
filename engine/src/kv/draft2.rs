//! wasi:keyvalue@0.2.0-draft2 (wit/keyvalue-draft2/): Spin's version, with
//! string cursors, a signed increment and compare-and-swap. Each function
//! maps onto the calls in mod.rs, like draft.rs.
use super::{Bucket, Cas};
use crate::host::Host;
use wasmtime::component::{HasSelf, Linker, Resource};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/keyvalue-draft2",
        world: "wasi:keyvalue/imports",
        imports: { default: async },
        with: {
            "wasi:keyvalue/store.bucket": crate::kv::Bucket,
            "wasi:keyvalue/atomics.cas": crate::kv::Cas,
        },
    });
}
use bindings::wasi::keyvalue::{atomics, batch, store};

type R<T> = Result<T, store::Error>;

// The calls both versions share (mod.rs), with this version's list-keys.
shared_shims!(
    store,
    batch,
    /// The cursor is the same page position as draft's, in decimal.
    async fn list_keys(&mut self, b: Resource<Bucket>, cursor: Option<String>) -> R<store::KeyResponse> {
        let cursor = match cursor {
            None => None,
            Some(c) => Some(c.parse::<u64>().map_err(|_| {
                store::Error::Other(format!("kv-invalid-cursor: {:?} is not a cursor list-keys returned", c))
            })?),
        };
        let (keys, next) = self.kv_list_keys(&b, cursor).await?;
        Ok(store::KeyResponse { keys, cursor: next.map(|n| n.to_string()) })
    }
);

impl atomics::HostCas for Host {
    async fn new(&mut self, b: Resource<Bucket>, key: String) -> R<Resource<Cas>> {
        Ok(self.kv_cas_new(&b, key).await?)
    }

    async fn current(&mut self, cas: Resource<Cas>) -> R<Option<Vec<u8>>> {
        Ok(self.kv_cas_current(&cas)?)
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.kv_cas_drop(cas)
    }
}

impl atomics::Host for Host {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: i64) -> R<i64> {
        Ok(self.kv_increment(&b, &key, delta as u64, true).await? as i64)
    }

    async fn swap(&mut self, cas: Resource<Cas>, value: Vec<u8>) -> Result<(), atomics::CasError> {
        match self.kv_swap(cas, &value).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(next)) => Err(atomics::CasError::CasFailed(next)),
            Err(e) => Err(atomics::CasError::StoreError(e.into())),
        }
    }
}

pub(super) fn add_to_linker(l: &mut Linker<Host>) -> wasmtime::Result<()> {
    store::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)?;
    atomics::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)?;
    batch::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
}
