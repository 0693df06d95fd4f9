//! The data of one request's store: WASI and wasi:http state, the resource
//! table, limits, and the outbound-request policy.
use crate::limits::{CpuMeter, MemoryLimiter};
use crate::logs::SinkSlot;
use crate::outbound::Outbound;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub(crate) struct Host {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) http: WasiHttpCtx,
    pub(crate) outbound: Outbound,
    /// Where this request's key-value calls go (kv/).
    pub(crate) kv: crate::kv::KvLink,
    pub(crate) limiter: MemoryLimiter,
    /// Per request: the CPU meter of the request being served and its budget
    /// (read by the epoch callback), and where guest output goes.
    pub(crate) meter: Arc<CpuMeter>,
    pub(crate) cpu_limit_ns: u64,
    /// What the meter read when the budget began: 0, or for an instance
    /// serving several requests at once (shared.rs), the reading when its
    /// oldest request in flight was accepted.
    pub(crate) cpu_base_ns: u64,
    pub(crate) stdout: Arc<SinkSlot>,
    pub(crate) stderr: Arc<SinkSlot>,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outbound }
    }
}
