//! The process-wide engine: wasmtime's engines and the linkers components
//! are pre-linked against, the tokio runtime guests run on, and the epoch
//! ticker that lets running guests be interrupted. One per process.
//!
//! Two wasmtime engines, one per kind of component (inspect.rs tells them
//! apart from the bytes). WASI 0.2 components run on one without
//! `concurrency_support`: with it every store tracks host tasks, which
//! cost a 0.2 hello ~15% of its throughput (docs/performance.md). WASI 0.3
//! components (the async component model) run on a second engine that has
//! it, made when the first of them is compiled or loaded, with its own
//! instance pool.
use crate::compile_cache::DiskCache;
use crate::error::fn0_engine_error_t;
use crate::ffi::guard;
use crate::host::Host;
use crate::inspect;
use crate::outbound::NodeListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};

/// How often the epoch advances: the granularity of CPU-time and duration
/// checks inside running guest code.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Settings for `fn0_engine_new`. Plain data; zero means "use the default".
#[repr(C)]
#[derive(Clone, Copy)]
pub struct fn0_engine_config_t {
    /// Maximum linear memory of one instance, bytes (default 128 MiB). The
    /// node maximum: a function may be given less, never more.
    pub max_memory_bytes: u64,
    /// Instances the pooling allocator reserves slots for (default 1000).
    pub pooled_instances: u32,
    /// 0 = pooling allocator with copy-on-write images, 1 = on-demand.
    pub on_demand_allocator: u32,
    /// Threads of the runtime guests run on (default: number of CPUs).
    pub worker_threads: u32,
    /// 1 = an engine that only compiles (the compile worker process): no
    /// guest threads, no epoch ticker, a pool of one instance. Its artifacts
    /// load in a full engine with the same memory maximum.
    pub compile_only: u32,
    /// Directory of the incremental compilation cache (compile_cache.rs),
    /// UTF-8, `compile_cache_dir_len` bytes; none (0) = no cache. Shared by
    /// every compile worker of a node.
    pub compile_cache_dir: *const std::ffi::c_char,
    pub compile_cache_dir_len: usize,
    /// The cache's budget on disk, bytes (default 1 GiB).
    pub compile_cache_bytes: u64,
}

impl Default for fn0_engine_config_t {
    fn default() -> Self {
        fn0_engine_config_t {
            max_memory_bytes: 0,
            pooled_instances: 0,
            on_demand_allocator: 0,
            worker_threads: 0,
            compile_only: 0,
            compile_cache_dir: std::ptr::null(),
            compile_cache_dir_len: 0,
            compile_cache_bytes: 0,
        }
    }
}

/// One wasmtime engine and the linker its components are pre-linked against.
pub(crate) struct Flavor {
    pub(crate) engine: Engine,
    pub(crate) linker: Arc<Linker<Host>>,
}

/// What both engines are built from.
#[derive(Clone)]
struct Settings {
    instances: u32,
    pooling: bool,
    max_memory: u64,
    cache: Option<Arc<DiskCache>>,
}

#[allow(non_camel_case_types)]
pub struct fn0_engine_t {
    /// WASI 0.2 components.
    pub(crate) plain: Flavor,
    /// Components that use the async component model (WASI 0.3), made on
    /// first use (`flavor(true)`); the epoch ticker advances it too.
    concurrent: Arc<OnceLock<Flavor>>,
    /// WASI 0.2 components compiled by the baseline compiler (Winch): a big
    /// deploy answers from it while the optimizing compile runs (the C++
    /// component cache swaps the artifacts). Made on first use, no pooling
    /// allocator (its instances are few and short-lived), advanced by the
    /// epoch ticker like the others.
    baseline: Arc<OnceLock<Flavor>>,
    making_flavor: std::sync::Mutex<()>,
    settings: Settings,
    /// `fn0_engine_fingerprint`: both engines' compatibility hashes.
    fingerprint: u64,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) max_memory_bytes: u64,
    /// Where the node listens: guests do not reach it (outbound.rs). Set
    /// once the listener is bound, hence behind a lock.
    pub(crate) listener: std::sync::RwLock<Arc<NodeListener>>,
    /// The node's key-value handler (kv/), set once before requests run.
    kv_handler: std::sync::OnceLock<crate::kv::fn0_kv_handler_t>,
    /// The incremental compilation cache, when configured.
    pub(crate) compile_cache: Option<Arc<DiskCache>>,
    ticker: Option<std::thread::JoinHandle<()>>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for fn0_engine_t {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

fn build_engine(s: &Settings, concurrent: bool, pooling: bool) -> wasmtime::Result<Engine> {
    build_engine_with(s, concurrent, pooling, Strategy::Cranelift)
}

fn build_engine_with(s: &Settings, concurrent: bool, pooling: bool, strategy: Strategy) -> wasmtime::Result<Engine> {
    let instances = s.instances;
    let mut config = Config::new();
    config.strategy(strategy);
    config.wasm_component_model(true).epoch_interruption(true).memory_init_cow(true);
    // WASI 0.3 components (invoke_p3.rs): the async ABI, streams, futures,
    // and the per-store task tracking they need. Off for the other engine.
    config.concurrency_support(concurrent).wasm_component_model_async(concurrent);
    // Backtraces name frames from the component's name section, which the
    // artifact keeps whatever this says (failure.rs). Parsing DWARF for file
    // and line would cost memory per artifact, and leaving it to the
    // WASMTIME_BACKTRACE_DETAILS variable (the default) would let one node's
    // environment change the artifact fingerprint the cluster shares.
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
    // Reuse Cranelift's output for functions compiled before, by any
    // component (compile_cache.rs). Not part of the artifact fingerprint:
    // the code is the same either way.
    if let (Some(cache), Strategy::Cranelift) = (&s.cache, strategy) {
        config.enable_incremental_compilation(cache.clone())?;
    }
    // Under Winch, the trampolines (one per function a table or an export
    // lets escape: ~10,000 in a JavaScript component) are still compiled by
    // Cranelift, and were half the baseline compile's CPU. They are a few
    // moves and a call: Cranelift's optimizer buys nothing there. hello-js:
    // 1.45 -> 1.20 s (docs/performance.md).
    if strategy == Strategy::Winch {
        config.cranelift_opt_level(wasmtime::OptLevel::None);
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        // One component may not take more than a few slots of each kind (the
        // same caps inspect.rs checks before compiling; wasmtime checks them
        // again, exactly, whenever a component is compiled or loaded).
        pool.max_core_instances_per_component(inspect::MAX_CORE_INSTANCES as u32)
            .max_memories_per_component(inspect::MAX_MEMORIES as u32)
            .max_tables_per_component(inspect::MAX_TABLES as u32);
        // Core instances are only counted (no reserved memory): room for
        // every instance at the cap. Memories and tables reserve address
        // space: as many per instance as the caps allow, no more.
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(inspect::MAX_CORE_INSTANCES as u32))
            .total_memories(instances.saturating_mul(inspect::MAX_MEMORIES as u32))
            .total_tables(instances.saturating_mul(inspect::MAX_TABLES as u32))
            .total_stacks(instances)
            .max_memory_size(usize::try_from(s.max_memory)?)
            // Reset small memories and tables with memset instead of madvise,
            // and batch the remaining decommits: every madvise on a
            // multi-threaded process is a TLB shootdown on every core, which
            // profiling showed as the largest single cost of a small request.
            .linear_memory_keep_resident(256 << 10)
            .table_keep_resident(16 << 10)
            .decommit_batch_size(16)
            // Find the pages an instance dirtied with the PAGEMAP_SCAN ioctl
            // (Linux 6.7+; skipped where the kernel lacks it) and reset
            // only those, instead of a memset of the first 256 KiB and an
            // madvise of the rest: a fresh instance of a guest with a big
            // stack or heap (Rust, JavaScript) costs far less. A/B on one
            // build: hello-js 1,495 -> 2,609 req/s, the 0.3 Rust hello
            // 4,524 -> 10,140, hello-c unchanged (docs/performance.md).
            .pagemap_scan(wasmtime::Enabled::Auto)
            // Keep a slot warm for every memory the pool holds (twice the
            // instances), so with many functions a request still finds a
            // slot that last ran its module: its copy-on-write image is
            // already mapped. Re-mapping an image is an mmap, i.e. a TLB
            // shootdown on every core (1000 functions: 0.45x -> ~0.68x of
            // one function's throughput, docs/performance.md).
            .max_unused_warm_slots(instances.saturating_mul(2));
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config)
}

fn build_linker(engine: &Engine, concurrent: bool) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    // Everything the WASI preview1 adapter imports (cli, filesystem, sockets,
    // ...) plus wasi:http. Filesystem has no preopens and sockets deny every
    // address unless the invocation allows them (host.rs).
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    if concurrent {
        // The same for WASI 0.3 (@0.3.0 names; a 0.3 component built with
        // the preview1 adapter imports some of each).
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    }
    crate::kv::add_to_linker(&mut linker)?;
    Ok(linker)
}

fn build_flavor(s: &Settings, concurrent: bool) -> wasmtime::Result<Flavor> {
    let engine = build_engine(s, concurrent, s.pooling)?;
    let linker = Arc::new(build_linker(&engine, concurrent)?);
    Ok(Flavor { engine, linker })
}

/// The artifact fingerprint of a node: both engines' compatibility hashes
/// (wasmtime version, target, compilation settings).
fn fingerprint(plain: &Engine, concurrent: &Engine) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    plain.precompile_compatibility_hash().hash(&mut h);
    concurrent.precompile_compatibility_hash().hash(&mut h);
    h.finish()
}

fn build(cfg: &fn0_engine_config_t) -> wasmtime::Result<fn0_engine_t> {
    let max_memory = if cfg.max_memory_bytes == 0 { 128 << 20 } else { cfg.max_memory_bytes };
    let compile_cache = if cfg.compile_cache_dir.is_null() || cfg.compile_cache_dir_len == 0 {
        None
    } else {
        // SAFETY: the caller passes `compile_cache_dir_len` readable bytes.
        let dir = unsafe { std::slice::from_raw_parts(cfg.compile_cache_dir.cast::<u8>(), cfg.compile_cache_dir_len) };
        let dir = std::path::PathBuf::from(std::str::from_utf8(dir)?);
        let bytes = if cfg.compile_cache_bytes == 0 { 1 << 30 } else { cfg.compile_cache_bytes };
        Some(Arc::new(DiskCache::new(dir, bytes)?))
    };
    let settings = Settings {
        instances: match (cfg.compile_only, cfg.pooled_instances) {
            (1, _) => 1,
            (_, 0) => 1000,
            (_, n) => n,
        },
        pooling: cfg.on_demand_allocator == 0,
        max_memory,
        cache: compile_cache.clone(),
    };
    let plain = build_flavor(&settings, false)?;
    // The concurrent engine's hash without reserving its pool, which the
    // hash does not cover (checked again when the engine is made).
    let fingerprint = fingerprint(&plain.engine, &build_engine(&settings, true, false)?);
    let concurrent: Arc<OnceLock<Flavor>> = Default::default();
    let baseline: Arc<OnceLock<Flavor>> = Default::default();
    let stop_ticker = Arc::new(AtomicBool::new(false));
    let (runtime, ticker) = if cfg.compile_only != 0 {
        (tokio::runtime::Builder::new_current_thread().build()?, None)
    } else {
        let mut rt = tokio::runtime::Builder::new_multi_thread();
        if cfg.worker_threads != 0 {
            rt.worker_threads(cfg.worker_threads as usize);
        }
        let runtime = rt.enable_all().thread_name("fn0-guest").build()?;
        let (engine, stop) = (plain.engine.clone(), stop_ticker.clone());
        let (concurrent, baseline) = (concurrent.clone(), baseline.clone());
        let ticker = std::thread::Builder::new().name("fn0-epoch".into()).spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
                for other in [&concurrent, &baseline] {
                    if let Some(f) = other.get() {
                        f.engine.increment_epoch();
                    }
                }
            }
        })?;
        (runtime, Some(ticker))
    };
    Ok(fn0_engine_t {
        plain,
        concurrent,
        baseline,
        making_flavor: Default::default(),
        settings,
        fingerprint,
        runtime,
        max_memory_bytes: max_memory,
        listener: Default::default(),
        kv_handler: Default::default(),
        compile_cache,
        ticker,
        stop_ticker,
    })
}

impl fn0_engine_t {
    /// The engine for components of this kind (inspect::needs_concurrency),
    /// the concurrent one made on first use.
    pub(crate) fn flavor(&self, concurrent: bool) -> wasmtime::Result<&Flavor> {
        if !concurrent {
            return Ok(&self.plain);
        }
        if let Some(f) = self.concurrent.get() {
            return Ok(f);
        }
        let _making = self.making_flavor.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = self.concurrent.get() {
            return Ok(f);
        }
        let f = build_flavor(&self.settings, true)
            .map_err(|e| wasmtime::format_err!("cannot make the engine for WASI 0.3 components: {e:#}"))?;
        if fingerprint(&self.plain.engine, &f.engine) != self.fingerprint {
            wasmtime::bail!("internal error: the WASI 0.3 engine does not match the artifact fingerprint");
        }
        Ok(self.concurrent.get_or_init(|| f))
    }

    /// The baseline compiler's engine (WASI 0.2 only), made on first use.
    pub(crate) fn baseline(&self) -> wasmtime::Result<&Flavor> {
        if let Some(f) = self.baseline.get() {
            return Ok(f);
        }
        let _making = self.making_flavor.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = self.baseline.get() {
            return Ok(f);
        }
        let engine = build_engine_with(&self.settings, false, false, Strategy::Winch)
            .map_err(|e| wasmtime::format_err!("cannot make the baseline compiler's engine: {e:#}"))?;
        let linker = Arc::new(build_linker(&engine, false)?);
        Ok(self.baseline.get_or_init(|| Flavor { engine, linker }))
    }

    pub(crate) fn kv_handler(&self) -> Option<crate::kv::fn0_kv_handler_t> {
        self.kv_handler.get().copied()
    }
}

/// Sets the handler of guests' key-value calls (kv/); the first call wins.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_set_kv_handler(engine: *const fn0_engine_t, handler: crate::kv::fn0_kv_handler_t) {
    if let Some(e) = engine.as_ref() {
        let _ = e.kv_handler.set(handler);
    }
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
        *out = Box::into_raw(Box::new(engine));
        Ok(())
    })
}

/// Frees the engine. Every component and invocation made from it must have
/// been deleted first.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_delete(engine: *mut fn0_engine_t) {
    if !engine.is_null() {
        drop(Box::from_raw(engine));
    }
}

/// Tells the engine where the node listens (`host` is an address or a name,
/// UTF-8, `host_len` bytes): a guest's outbound request to it is refused
/// unless an allow-list entry names exactly that port.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_set_listener(
    engine: *const fn0_engine_t,
    host: *const u8,
    host_len: usize,
    port: u16,
) -> *mut fn0_engine_error_t {
    let host = if host_len == 0 { &[][..] } else { std::slice::from_raw_parts(host, host_len) };
    guard(|| {
        let host = std::str::from_utf8(host)?;
        let listener = Arc::new(NodeListener::new(host, port));
        *(*engine).listener.write().unwrap_or_else(|p| p.into_inner()) = listener;
        Ok(())
    })
}

/// A fingerprint of everything that makes a compiled artifact loadable by this
/// engine (wasmtime version, target, compilation settings). Part of the key of
/// the on-disk artifact cache: an artifact from another fingerprint is never
/// loaded.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_fingerprint(engine: *const fn0_engine_t) -> u64 {
    (*engine).fingerprint
}

/// Functions this engine took from the incremental compilation cache
/// (`hits`) and compiled because they were not there (`misses`), so far.
/// Both 0 without a cache.
#[no_mangle]
pub unsafe extern "C" fn fn0_engine_compile_cache_counts(engine: *const fn0_engine_t, hits: *mut u64, misses: *mut u64) {
    let (h, m) = (*engine).compile_cache.as_ref().map(|c| c.counts()).unwrap_or((0, 0));
    *hits = h;
    *misses = m;
}
