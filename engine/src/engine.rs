//! The process-wide wasmtime engine: one per process, shared by all threads.
use crate::error::fn0_engine_error_t;
use crate::ffi::guard;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Settings for `fn0_engine_new`. Plain data; zero means "use the default".
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct fn0_engine_config_t {
    /// Maximum linear memory of one instance, bytes (default 128 MiB).
    pub max_memory_bytes: u64,
    /// Instances the pooling allocator reserves slots for (default 1000).
    pub pooled_instances: u32,
    /// 0 = pooling allocator with copy-on-write images, 1 = on-demand.
    pub on_demand_allocator: u32,
}

#[allow(non_camel_case_types)]
pub struct fn0_engine_t {
    pub(crate) engine: Engine,
}

fn build(cfg: &fn0_engine_config_t) -> wasmtime::Result<Engine> {
    let max_memory = if cfg.max_memory_bytes == 0 { 128 << 20 } else { cfg.max_memory_bytes };
    let instances = if cfg.pooled_instances == 0 { 1000 } else { cfg.pooled_instances };
    let mut config = Config::new();
    config.wasm_component_model(true).epoch_interruption(true).memory_init_cow(true);
    if cfg.on_demand_allocator == 0 {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(4))
            .total_memories(instances.saturating_mul(2))
            .total_tables(instances.saturating_mul(4))
            .max_memory_size(usize::try_from(max_memory)?);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config)
}

/// Creates an engine. On success `*out` owns it (free with
/// `fn0_engine_delete`) and NULL is returned; on failure an error is returned
/// and `*out` is untouched. `config` may be NULL for defaults.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_new(
    config: *const fn0_engine_config_t,
    out: *mut *mut fn0_engine_t,
) -> *mut fn0_engine_error_t {
    let cfg = if config.is_null() { fn0_engine_config_t::default() } else { *config };
    guard(|| {
        let engine = build(&cfg)?;
        *out = Box::into_raw(Box::new(fn0_engine_t { engine }));
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn fn0_engine_delete(engine: *mut fn0_engine_t) {
    if !engine.is_null() {
        drop(Box::from_raw(engine));
    }
}

/// A fingerprint of everything that makes a compiled artifact loadable by this
/// engine (wasmtime version, target, compilation settings). Part of the key of
/// the on-disk artifact cache: an artifact from another fingerprint is never
/// loaded.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_fingerprint(engine: *const fn0_engine_t) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (*engine).engine.precompile_compatibility_hash().hash(&mut h);
    h.finish()
}
