//! Components: validate and compile uploaded bytes into a native artifact,
//! load an artifact back from disk (memory-mapped, no recompilation) and
//! pre-link it once so each request only instantiates.
use crate::bytes::fn0_bytes_t;
use crate::engine::{fn0_engine_t, Flavor};
use crate::error::fn0_engine_error_t;
use crate::ffi::guard;
use crate::host::Host;
use crate::inspect;
use std::ffi::c_char;
use wasmtime::component::Component;
use std::sync::{Arc, Mutex};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// The handler a component exports, pre-linked: `wasi:http/incoming-handler`
/// (WASI 0.2) or `wasi:http/handler` (WASI 0.3, async; invoke_p3.rs).
#[derive(Clone)]
pub(crate) enum Pre {
    P2(ProxyPre<Host>),
    P3(ServicePre<Host>),
}

impl Pre {
    /// The engine the component was compiled for (engine.rs has two).
    pub(crate) fn engine(&self) -> &wasmtime::Engine {
        self.instance_pre().engine()
    }

    fn instance_pre(&self) -> &wasmtime::component::InstancePre<Host> {
        match self {
            Pre::P2(p) => p.instance_pre(),
            Pre::P3(p) => p.instance_pre(),
        }
    }
}

/// A compiled, pre-linked component: immutable and safe to share across
/// threads (`const fn0_component_t*`).
#[allow(non_camel_case_types)]
pub struct fn0_component_t {
    pub(crate) pre: Pre,
    /// Runs on the engine with concurrency support.
    concurrent: bool,
    image_bytes: usize,
    /// Idle instances kept for functions that opted into instance reuse.
    pub(crate) pool: Arc<InstancePool>,
    /// CPU time per request lately (every poll, host work included): cheap
    /// guests run inline.
    pub(crate) cost: Arc<CostAverage>,
}

/// A moving average of the guest CPU time of recent requests (1/8 weight
/// for each new one). Races between threads only blur it a little.
#[derive(Default)]
pub(crate) struct CostAverage(std::sync::atomic::AtomicU64);

impl CostAverage {
    pub(crate) fn record(&self, ns: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let old = self.0.load(Relaxed);
        self.0.store(if old == 0 { ns.max(1) } else { old - old / 8 + ns / 8 }, Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The instantiated handler of a pooled instance (a component's pool holds
/// one kind only).
pub(crate) enum Instance {
    P2(Proxy),
    P3(wasmtime_wasi_http::p3::bindings::Service),
}

/// An instance that served a request successfully and may serve another.
pub(crate) struct Pooled {
    pub(crate) store: wasmtime::Store<Host>,
    pub(crate) instance: Instance,
    pub(crate) served: u32,
    /// Hash of the environment the instance was created with; reused only
    /// for requests with the same one.
    pub(crate) env_key: u64,
}

/// Bounded set of idle instances of one component, and its instances that
/// serve several requests at once (shared.rs).
#[derive(Default)]
pub(crate) struct InstancePool {
    idle: Mutex<Vec<Pooled>>,
    pub(crate) workers: crate::shared::Workers,
}

const MAX_IDLE_PER_COMPONENT: usize = 16;

impl InstancePool {
    pub(crate) fn take(&self, env_key: u64) -> Option<Pooled> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let i = idle.iter().rposition(|p| p.env_key == env_key)?;
        Some(idle.swap_remove(i))
    }
    pub(crate) fn put(&self, p: Pooled) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_PER_COMPONENT {
            idle.push(p);
        }
    }
}

const ADAPT_HINT: &str = "it is a core WebAssembly module, not a component; fn0 runs \
components that export wasi:http/incoming-handler. Turn a module built for WASI preview1 \
into one with: wasm-tools component new module.wasm --adapt \
wasi_snapshot_preview1=wasi_snapshot_preview1.reactor.wasm -o component.wasm";

/// Rejects what is not a component before the compiler sees it, with a
/// message that says what it is and what to do.
fn check_shape(bytes: &[u8]) -> wasmtime::Result<()> {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        wasmtime::bail!("not a WebAssembly binary (it does not start with the \\0asm magic bytes)");
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        wasmtime::bail!("{ADAPT_HINT}");
    }
    if !wasmparser::Parser::is_component(bytes) {
        wasmtime::bail!("unknown WebAssembly binary version or layer; expected a component");
    }
    Ok(())
}

fn prelink(flavor: &Flavor, component: &Component) -> wasmtime::Result<Pre> {
    let instance_pre = flavor.linker.instantiate_pre(component).map_err(|e| {
        wasmtime::format_err!("the component imports something fn0 does not provide: {e:#}")
    })?;
    if let Ok(p2) = ProxyPre::new(instance_pre.clone()) {
        return Ok(Pre::P2(p2));
    }
    ServicePre::new(instance_pre).map(Pre::P3).map_err(|e| {
        let exports: Vec<String> = component
            .component_type()
            .exports(&flavor.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        wasmtime::format_err!(
            "the component does not export wasi:http/incoming-handler@0.2.x or \
             wasi:http/handler@0.3.x (it exports: {}): {e:#}",
            if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
        )
    })
}

fn image_size(component: &Component) -> usize {
    let r = component.image_range();
    (r.end as usize).saturating_sub(r.start as usize)
}

/// The checks that need no compiler: that `wasm` is a component, and that
/// it stays under fn0's caps (size, code, and the instances, memories and
/// tables one instance of it takes). Milliseconds even for a large upload.
#[no_mangle]
pub unsafe extern "C" fn fn0_component_check(wasm: *const u8, len: usize) -> *mut fn0_engine_error_t {
    let bytes = if len == 0 { &[][..] } else { std::slice::from_raw_parts(wasm, len) };
    guard(|| {
        check_shape(bytes)?;
        inspect::check_limits(bytes).map(|_| ())
    })
}

/// Validates and compiles `wasm` (a component) for this engine, checking that
/// it exports the HTTP handler and that every import can be satisfied. On
/// success fills `artifact` with the native artifact (free it with
/// `fn0_bytes_delete`), to be written to disk and loaded with
/// `fn0_component_load`. `baseline` 1: compiled by the baseline compiler
/// (Winch: several times faster to compile, slower to run; WASI 0.2 only),
/// loaded with `baseline` 1 too.
#[no_mangle]
pub unsafe extern "C" fn fn0_component_compile(
    engine: *const fn0_engine_t,
    wasm: *const u8,
    len: usize,
    baseline: std::ffi::c_int,
    artifact: *mut fn0_bytes_t,
) -> *mut fn0_engine_error_t {
    let bytes = if len == 0 { &[][..] } else { std::slice::from_raw_parts(wasm, len) };
    guard(|| {
        let engine = &*engine;
        check_shape(bytes)?;
        let concurrent = inspect::check_limits(bytes)?.concurrent;
        let flavor = match (baseline != 0, concurrent) {
            (false, _) => engine.flavor(concurrent)?,
            (true, false) => engine.baseline()?,
            (true, true) => wasmtime::bail!("the baseline compiler is for WASI 0.2 components only"),
        };
        let component = Component::new(&flavor.engine, bytes)
            .map_err(|e| wasmtime::format_err!("invalid component: {e:#}"))?;
        prelink(flavor, &component)?;
        *artifact = fn0_bytes_t::from_vec(component.serialize()?);
        if let Some(cache) = &engine.compile_cache {
            cache.flush();
        }
        Ok(())
    })
}

/// An artifact comes from one of the two engines (engine.rs); which one is
/// not in the file name, so the one for WASI 0.2 is tried first, as most
/// components are for it. wasmtime checks the engine settings the artifact
/// was compiled with before using anything in it.
/// # Safety
/// The file must be an artifact fn0 wrote (`fn0_component_load`).
unsafe fn deserialize<'e>(engine: &'e fn0_engine_t, path: &str) -> wasmtime::Result<(&'e Flavor, Component)> {
    let plain = engine.flavor(false)?;
    let first = match Component::deserialize_file(&plain.engine, path) {
        Ok(c) => return Ok((plain, c)),
        Err(e) => e,
    };
    let concurrent = engine.flavor(true)?;
    match Component::deserialize_file(&concurrent.engine, path) {
        Ok(c) => Ok((concurrent, c)),
        Err(_) => Err(wasmtime::format_err!("cannot load artifact {path}: {first:#}")),
    }
}

/// Loads an artifact written from `fn0_component_compile` (memory-mapped;
/// nothing is recompiled) and pre-links it. `path` is UTF-8, not
/// NUL-terminated. The file must come from fn0 itself: artifacts are native
/// code and are trusted. An artifact from another engine fingerprint fails
/// with an error. `baseline`: as given to `fn0_component_compile`.
#[no_mangle]
pub unsafe extern "C" fn fn0_component_load(
    engine: *const fn0_engine_t,
    path: *const c_char,
    path_len: usize,
    baseline: std::ffi::c_int,
    out: *mut *mut fn0_component_t,
) -> *mut fn0_engine_error_t {
    let path = std::slice::from_raw_parts(path.cast::<u8>(), path_len);
    guard(|| {
        let engine = &*engine;
        let path = std::str::from_utf8(path)?;
        let (flavor, component) = if baseline != 0 {
            let flavor = engine.baseline()?;
            let component = Component::deserialize_file(&flavor.engine, path)
                .map_err(|e| wasmtime::format_err!("cannot load artifact {path}: {e:#}"))?;
            (flavor, component)
        } else {
            deserialize(engine, path)?
        };
        let pre = prelink(flavor, &component)?;
        let image_bytes = image_size(&component);
        let concurrent = !wasmtime::Engine::same(&flavor.engine, &engine.plain.engine);
        *out = Box::into_raw(Box::new(fn0_component_t { pre, concurrent, image_bytes, pool: Default::default(), cost: Default::default() }));
        Ok(())
    })
}

/// Linux's MADV_POPULATE_READ (5.14; not in the libc crate yet).
const MADV_POPULATE_READ: libc::c_int = 22;

/// Read-faults every page of `range` (a mapping of an artifact file): reads
/// what the page cache lacks from disk and maps every page, in one call.
/// Kernels before 5.14: readahead, then one read per page.
fn populate(range: std::ops::Range<*const u8>) -> wasmtime::Result<()> {
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    let start = (range.start as usize) & !(page - 1);
    let len = (range.end as usize).saturating_sub(start);
    if len == 0 {
        return Ok(());
    }
    // SAFETY: the range is the component's own mapping, alive while it is;
    // madvise does not change its contents.
    if unsafe { libc::madvise(start as *mut libc::c_void, len, MADV_POPULATE_READ) } == 0 {
        return Ok(());
    }
    unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_WILLNEED) };
    for p in (start..start + len).step_by(page) {
        // SAFETY: every page of the mapping is readable.
        unsafe { std::ptr::read_volatile(p as *const u8) };
    }
    Ok(())
}

/// Does now, outside any request, the one-time work wasmtime and the kernel
/// would otherwise do during the first request after `c` was loaded (and
/// charge to its CPU budget): builds the copy-on-write memory images
/// (wasmtime makes them lazily, in the first instantiation) and brings the
/// whole memory-mapped artifact into memory, so that neither the first
/// instantiation nor the guest's first run of its code takes page faults.
/// With a cold page cache a 36 MB JavaScript artifact otherwise cost the
/// first request ~8 ms of its 10 ms (docs/performance.md). Costs the
/// artifact's size in page cache (clean, reclaimable, and what the
/// component cache already counts: fn0_component_image_size). Blocks while
/// the file is read: call it off the I/O threads.
#[no_mangle]
pub unsafe extern "C" fn fn0_component_prefault(c: *const fn0_component_t) -> *mut fn0_engine_error_t {
    guard(|| {
        let component = (*c).pre.instance_pre().component();
        component.initialize_copy_on_write_image()?;
        populate(component.image_range())
    })
}

/// 1 if `c` runs on the engine with concurrency support (engine.rs).
#[no_mangle]
pub unsafe extern "C" fn fn0_component_concurrent(c: *const fn0_component_t) -> std::ffi::c_int {
    (*c).concurrent as std::ffi::c_int
}

/// Bytes of native code and data the loaded component maps: what the C++
/// cache counts against its memory budget.
#[no_mangle]
pub unsafe extern "C" fn fn0_component_image_size(c: *const fn0_component_t) -> usize {
    (*c).image_bytes
}

#[no_mangle]
pub unsafe extern "C" fn fn0_component_delete(c: *mut fn0_component_t) {
    if !c.is_null() {
        drop(Box::from_raw(c));
    }
}
