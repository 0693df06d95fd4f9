//! wasi:keyvalue@0.2.0-draft (wit/keyvalue/): what `wasmtime serve -S
//! keyvalue` offers. Each function maps onto the calls in mod.rs.
use super::Bucket;
use crate::host::Host;
use wasmtime::component::{HasSelf, Linker, Resource};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/keyvalue",
        world: "wasi:keyvalue/imports",
        imports: { default: async },
        with: { "wasi:keyvalue/store.bucket": crate::kv::Bucket },
    });
}
use bindings::wasi::keyvalue::{atomics, batch, store};

type R<T> = Result<T, store::Error>;

// The calls both versions share (mod.rs), with this version's list-keys.
shared_shims!(
    store,
    batch,
    async fn list_keys(&mut self, b: Resource<Bucket>, cursor: Option<u64>) -> R<store::KeyResponse> {
        let (keys, cursor) = self.kv_list_keys(&b, cursor).await?;
        Ok(store::KeyResponse { keys, cursor })
    }
);

impl atomics::Host for Host {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: u64) -> R<u64> {
        Ok(self.kv_increment(&b, &key, delta, false).await?)
    }
}

pub(super) fn add_to_linker(l: &mut Linker<Host>) -> wasmtime::Result<()> {
    store::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)?;
    atomics::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)?;
    batch::add_to_linker::<Host, HasSelf<Host>>(l, |h| h)
}
