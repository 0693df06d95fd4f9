//! One invocation: a fresh store and instance for one HTTP request, run on
//! the adapter's runtime. Bodies stream through bounded pipes in both
//! directions; C++ is told about progress through callbacks and drives the
//! bodies with non-blocking calls. Limits: CPU time (metered guest code, call
//! hook + epoch callback), memory (store limiter, pool maximum), wall-clock duration,
//! response header size, subrequests (outbound.rs), log volume (logs.rs).
use crate::bytes::fn0_bytes_t;
use crate::component::{fn0_component_t, Instance, InstancePool, Pooled, Pre};
use crate::engine::fn0_engine_t;
use crate::error::fn0_engine_error_t;
use crate::ffi::guard;
use crate::host::Host;
use crate::limits::{CpuLimitExceeded, CpuMeter, MemoryLimiter, Metered};
use crate::logs::{LogSink, LogState, SinkSlot};
use crate::outbound::{AllowList, Cidr, NodeListener, Outbound};
use crate::pipe::{Notify, Pipe, PipeBody, ReadStatus, WriteStatus};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::ffi::c_void;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::Proxy;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

const PIPE_CAPACITY: usize = 256 * 1024;
/// Guests that lately used less CPU than this per request run on the
/// calling thread (see run_inline_first); costlier ones (a JS engine) go to
/// the adapter's workers at once, leaving the I/O thread to the network.
const INLINE_MAX_CPU_NS: u64 = 100_000;

// ---- C types -----------------------------------------------------------------

/// Borrowed UTF-8 or byte string: `len` bytes at `data` (may be NULL if 0).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct fn0_str_t {
    pub data: *const u8,
    pub len: usize,
}

impl fn0_str_t {
    pub(crate) unsafe fn bytes<'a>(&self) -> &'a [u8] {
        if self.len == 0 { &[] } else { std::slice::from_raw_parts(self.data, self.len) }
    }
    unsafe fn string(&self, what: &str) -> wasmtime::Result<String> {
        Ok(std::str::from_utf8(self.bytes())
            .map_err(|_| wasmtime::format_err!("{what} is not UTF-8"))?
            .to_string())
    }
    pub(crate) fn of(b: &[u8]) -> Self {
        Self { data: b.as_ptr(), len: b.len() }
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fn0_header_t {
    pub name: fn0_str_t,
    pub value: fn0_str_t,
}

#[repr(C)]
pub struct fn0_request_head_t {
    pub method: fn0_str_t,
    /// "http" or "https".
    pub scheme: fn0_str_t,
    /// host[:port] the client addressed.
    pub authority: fn0_str_t,
    pub path_with_query: fn0_str_t,
    pub headers: *const fn0_header_t,
    pub header_count: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fn0_limits_t {
    pub cpu_time_ns: u64,
    pub duration_ns: u64,
    pub max_memory_bytes: u64,
    pub max_response_header_bytes: u64,
    pub max_log_bytes: u64,
    pub max_subrequests: u32,
    /// Instance reuse: how many requests one instance may serve in turn
    /// (0 or 1 = a fresh instance per request, the default).
    pub reuse_instance_requests: u32,
    /// WASI 0.3 components that reuse instances: how many requests one
    /// instance serves at once (0 or 1 = one at a time; shared.rs).
    pub instance_concurrency: u32,
}

#[repr(C)]
pub struct fn0_invoke_options_t {
    pub limits: fn0_limits_t,
    /// Environment variables (and secrets) the guest sees.
    pub env: *const fn0_header_t,
    pub env_count: usize,
    /// Address ranges (CIDR, optionally with one port: "10.0.0.0/8",
    /// "127.0.0.1/32:8080", "[::1]:8080") the guest may reach even though
    /// they are loopback, private or link-local (outbound.rs).
    pub allow: *const fn0_str_t,
    pub allow_count: usize,
    /// 1: the request has no body; the guest runs on the calling thread
    /// until it first waits (see run_inline_first).
    pub no_request_body: u32,
    /// The function's name (UTF-8), for the hints in the lines written to
    /// its log (a refused outbound request: how to allow it).
    pub function: fn0_str_t,
    /// Passed to the key-value handler with this request's calls (kv/);
    /// NULL: no store.
    pub kv_session: *mut std::ffi::c_void,
}

pub const FN0_OUTCOME_OK: u32 = 0;
pub const FN0_OUTCOME_CPU_LIMIT: u32 = 1;
pub const FN0_OUTCOME_MEMORY_LIMIT: u32 = 2;
pub const FN0_OUTCOME_DURATION_LIMIT: u32 = 3;
pub const FN0_OUTCOME_TRAP: u32 = 4;
pub const FN0_OUTCOME_INVALID_RESPONSE: u32 = 5;
pub const FN0_OUTCOME_GUEST_ERROR: u32 = 6;
pub const FN0_OUTCOME_OVERLOADED: u32 = 7;

#[repr(C)]
pub struct fn0_outcome_t {
    pub kind: u32,
    /// 1 if the response head was delivered before the outcome was known.
    pub response_started: u32,
    pub cpu_ns: u64,
    pub wall_ns: u64,
    /// Time to create the store and instantiate the component.
    pub instantiate_ns: u64,
    /// Why, for anything but OK: a short cause, never a backtrace.
    pub message: fn0_str_t,
    /// The guest's wasm frames when it trapped or was interrupted, innermost
    /// first, one per line (failure.rs); empty otherwise. For the
    /// function's log, not for the caller.
    pub backtrace: fn0_str_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct fn0_invoke_callbacks_t {
    pub ctx: *mut c_void,
    pub on_response: Option<unsafe extern "C" fn(*mut c_void, u16, *const fn0_header_t, usize)>,
    pub on_response_body_readable: Option<unsafe extern "C" fn(*mut c_void)>,
    pub on_request_body_writable: Option<unsafe extern "C" fn(*mut c_void)>,
    pub on_log: Option<unsafe extern "C" fn(*mut c_void, u32, fn0_str_t)>,
    pub on_done: Option<unsafe extern "C" fn(*mut c_void, *const fn0_outcome_t)>,
}

// SAFETY: the C++ side promises its callbacks may be called from any thread
// and that `ctx` stays valid until fn0_request_delete returns.
unsafe impl Send for fn0_invoke_callbacks_t {}

// ---- the callback gate ------------------------------------------------------

/// Calls into C++ go through here; `close` (from fn0_request_delete) makes
/// every later call a no-op, so no callback runs after delete returns.
pub(crate) struct Gate {
    cbs: Mutex<Option<fn0_invoke_callbacks_t>>,
}

impl Gate {
    fn with(&self, f: impl FnOnce(&fn0_invoke_callbacks_t)) {
        let guard = self.cbs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cbs) = guard.as_ref() {
            f(cbs);
        }
    }
    fn close(&self) {
        *self.cbs.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
    pub(crate) fn log(&self, stream: u32, line: &[u8]) {
        self.with(|c| {
            if let Some(f) = c.on_log {
                unsafe { f(c.ctx, stream, fn0_str_t::of(line)) }
            }
        })
    }
    pub(crate) fn response(&self, status: u16, headers: &[fn0_header_t]) {
        self.with(|c| {
            if let Some(f) = c.on_response {
                unsafe { f(c.ctx, status, headers.as_ptr(), headers.len()) }
            }
        })
    }
    fn done(&self, outcome: &fn0_outcome_t) {
        self.with(|c| {
            if let Some(f) = c.on_done {
                unsafe { f(c.ctx, outcome) }
            }
        })
    }
    fn notifier(self: &Arc<Self>, pick: fn(&fn0_invoke_callbacks_t) -> Option<unsafe extern "C" fn(*mut c_void)>) -> Notify {
        let gate = self.clone();
        Arc::new(move || {
            gate.with(|c| {
                if let Some(f) = pick(c) {
                    unsafe { f(c.ctx) }
                }
            })
        })
    }
}

/// A running invocation, owned by C++.
#[allow(non_camel_case_types)]
pub struct fn0_request_t {
    gate: Arc<Gate>,
    request_body: Arc<Pipe>,
    response_body: Arc<Pipe>,
    /// None when the invocation finished on the caller's thread.
    task: Option<tokio::task::AbortHandle>,
}

// ---- the invocation ---------------------------------------------------------

pub(crate) struct Plan {
    pub(crate) kv: crate::kv::KvLink,
    pub(crate) limits: fn0_limits_t,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) allow: Arc<AllowList>,
    pub(crate) node: Arc<NodeListener>,
}

/// One request as a runner takes it (`run` here, `invoke_p3::run`,
/// `shared::run`): where it goes, what it may do, and where its answer and
/// progress go.
pub(crate) struct Call {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) pool: Arc<InstancePool>,
    pub(crate) request: http::Request<PipeBody>,
    pub(crate) plan: Plan,
    pub(crate) gate: Arc<Gate>,
    pub(crate) response_body: Arc<Pipe>,
    pub(crate) started: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) timing: Arc<Timing>,
    pub(crate) deadline: tokio::time::Instant,
}

pub(crate) struct Finished {
    pub(crate) kind: u32,
    pub(crate) message: String,
    pub(crate) backtrace: String,
}

/// Wall time of store creation + instantiation, reported in the outcome.
#[derive(Default)]
pub(crate) struct Timing {
    pub(crate) instantiate_ns: std::sync::atomic::AtomicU64,
}

impl Finished {
    pub(crate) fn ok() -> Self {
        Finished::new(FN0_OUTCOME_OK, "")
    }
    pub(crate) fn new(kind: u32, message: impl Into<String>) -> Self {
        Finished { kind, message: message.into(), backtrace: String::new() }
    }
}

/// What a guest failure was, with its cause and (for the log) its frames.
/// The message never holds the backtrace: it reaches the caller.
pub(crate) fn classify_guest_error(e: &wasmtime::Error, meter: &CpuMeter, limits: &fn0_limits_t, memory_hit: bool) -> Finished {
    // The pooling allocator had no free slot (instances, memories, tables,
    // stacks) for a new instance: the node is full, not the guest broken.
    if let Some(full) = e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        return Finished::new(FN0_OUTCOME_OVERLOADED, format!("no free instance slot on this node: {full}"));
    }
    let mut f = if meter.exceeded.load(std::sync::atomic::Ordering::Relaxed)
        || e.downcast_ref::<CpuLimitExceeded>().is_some()
    {
        Finished::new(FN0_OUTCOME_CPU_LIMIT, CpuLimitExceeded { limit_ns: limits.cpu_time_ns }.to_string())
    } else if memory_hit {
        let limit = crate::failure::bytes(limits.max_memory_bytes);
        Finished::new(
            FN0_OUTCOME_MEMORY_LIMIT,
            format!("memory limit of {limit} reached, then: {}", crate::failure::cause(e)),
        )
    } else {
        Finished::new(FN0_OUTCOME_TRAP, crate::failure::cause(e))
    };
    f.backtrace = crate::failure::backtrace(e);
    f
}

/// The store a request runs in: a pooled instance of this component, or a
/// fresh store to instantiate into.
pub(crate) fn acquire(
    engine: &wasmtime::Engine,
    pool: &InstancePool,
    plan: &Plan,
    env_key: u64,
) -> (Store<Host>, Option<Instance>, u32) {
    if plan.limits.reuse_instance_requests > 1 {
        if let Some(p) = pool.take(env_key) {
            return (p.store, Some(p.instance), p.served);
        }
    }
    (new_store(engine, plan), None, 0)
}

/// Whether an instance that has served `served` requests (this one
/// included) goes back to the pool: only for functions that opted in.
pub(crate) fn keep_for_reuse(limits: &fn0_limits_t, served: u32) -> bool {
    limits.reuse_instance_requests > 1 && served < limits.reuse_instance_requests
}

/// A fresh store for one instance: WASI context, limits, CPU meter hooks.
pub(crate) fn new_store(engine: &wasmtime::Engine, plan: &Plan) -> Store<Host> {
    let (stdout, stderr) = (Arc::new(SinkSlot::default()), Arc::new(SinkSlot::default()));
    let mut wasi = WasiCtxBuilder::new();
    wasi.envs(&plan.env).stdout(LogSink(stdout.clone())).stderr(LogSink(stderr.clone()));
    // The fields limit counts in-memory size, larger than the wire size the
    // response-header limit is about; keep it out of the way so an oversized
    // response is reported as such (response::check) instead of the guest
    // silently losing a header.
    let mut http = WasiHttpCtx::new();
    http.set_field_size_limit((plan.limits.max_response_header_bytes as usize).saturating_mul(4).max(256 * 1024));
    let host = Host {
        wasi: wasi.build(),
        table: Default::default(),
        http,
        outbound: Outbound::default(),
        kv: Default::default(),
        limiter: MemoryLimiter::new(0),
        meter: Default::default(),
        cpu_limit_ns: 0,
        cpu_base_ns: 0,
        stdout,
        stderr,
    };
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.limiter);
    if crate::limits::guest_only_metering() {
        store.call_hook(|ctx, hook| {
            ctx.data().meter.on_call_hook(hook);
            Ok(())
        });
    }
    store.epoch_deadline_callback(|ctx| {
        let host = ctx.data();
        if host.meter.used_ns().saturating_sub(host.cpu_base_ns) > host.cpu_limit_ns {
            host.meter.exceeded.store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(CpuLimitExceeded { limit_ns: host.cpu_limit_ns }.into());
        }
        Ok(UpdateDeadline::Yield(1))
    });
    store
}

/// This request's meter and log streams (flushed when it ends).
pub(crate) struct RequestState {
    pub(crate) meter: Arc<CpuMeter>,
    pub(crate) stdout: Arc<Mutex<LogState>>,
    pub(crate) stderr: Arc<Mutex<LogState>>,
}

impl RequestState {
    pub(crate) fn new(gate: &Arc<Gate>, limits: &fn0_limits_t) -> Self {
        let meter = Arc::new(if crate::limits::guest_only_metering() { CpuMeter::guest_only() } else { CpuMeter::default() });
        let log_budget = Arc::new(std::sync::atomic::AtomicUsize::new(limits.max_log_bytes as usize));
        let stdout = LogState::new(gate.clone(), 1, log_budget.clone());
        let stderr = LogState::new(gate.clone(), 2, log_budget);
        RequestState { meter, stdout, stderr }
    }

    /// Points `store` (fresh or reused) at this request: its meter, limits,
    /// key-value session, outbound policy and log streams.
    pub(crate) fn arm(&self, store: &mut Store<Host>, plan: Plan, gate: &Arc<Gate>) {
        let limits = plan.limits;
        let host = store.data_mut();
        host.meter = self.meter.clone();
        host.cpu_limit_ns = limits.cpu_time_ns;
        host.kv = plan.kv;
        host.outbound = Outbound::new(limits.max_subrequests, plan.allow, plan.node, gate.clone());
        // The memory a reused instance already holds still counts.
        host.limiter.max_memory_bytes = limits.max_memory_bytes as usize;
        host.limiter.hit = false;
        host.stdout.set(Some(self.stdout.clone()));
        host.stderr.set(Some(self.stderr.clone()));
        store.set_epoch_deadline(1);
    }

    pub(crate) fn finish_logs(&self) {
        self.stdout.lock().unwrap_or_else(|p| p.into_inner()).flush();
        self.stderr.lock().unwrap_or_else(|p| p.into_inner()).flush();
    }

    pub(crate) fn cpu(&self) -> Cpu {
        meter_ns(&self.meter)
    }
}

/// Checks the response head and hands it to C++ (`on_response`).
pub(crate) fn deliver_head(parts: &http::response::Parts, limits: &fn0_limits_t, gate: &Gate, started: &std::sync::atomic::AtomicBool) -> Result<(), String> {
    crate::response::check(parts.status, &parts.headers, limits.max_response_header_bytes)?;
    let headers: Vec<fn0_header_t> = parts
        .headers
        .iter()
        .filter(|(k, _)| !crate::response::dropped(k.as_str()))
        .map(|(k, v)| fn0_header_t { name: fn0_str_t::of(k.as_str().as_bytes()), value: fn0_str_t::of(v.as_bytes()) })
        .collect();
    started.store(true, std::sync::atomic::Ordering::Relaxed);
    gate.response(parts.status.as_u16(), &headers);
    Ok(())
}

/// Moves the guest's response body into the pipe C++ reads, as fast as the
/// client takes it. Ok when the body ended or the client went away.
pub(crate) async fn forward_body<B>(mut body: B, pipe: Arc<Pipe>) -> Result<(), String>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    loop {
        if !std::future::poll_fn(|cx| pipe.poll_writable(cx)).await {
            return Ok(()); // the client went away
        }
        match body.frame().await {
            None => return Ok(()),
            Some(Err(e)) => return Err(format!("{e:?}")),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        pipe.push(data);
                    }
                }
            }
        }
    }
}

pub(crate) fn env_key(env: &[(String, String)]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env.hash(&mut h);
    h.finish()
}

async fn run(call: Call, component: wasmtime_wasi_http::p2::bindings::ProxyPre<Host>) -> (Finished, Cpu) {
    let Call { engine, pool, request, plan, gate, response_body, started, timing, .. } = call;
    let setup = Instant::now();
    let limits = plan.limits;
    let state = RequestState::new(&gate, &limits);
    let meter = state.meter.clone();
    let key = env_key(&plan.env);

    let (mut store, proxy, served) = acquire(&engine, &pool, &plan, key);
    state.arm(&mut store, plan, &gate);

    let (tx, mut rx) = tokio::sync::oneshot::channel();
    let prepared = (|| -> wasmtime::Result<_> {
        let req = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(tx)?;
        Ok((req, out))
    })();
    let (req, out) = match prepared {
        Ok(v) => v,
        Err(e) => return (Finished::new(FN0_OUTCOME_INVALID_RESPONSE, format!("bad request for guest: {e:#}")), (0, 0)),
    };

    // The guest owns the store while it runs and hands it back at the end:
    // dropped (with every resource it still held) unless it is pooled.
    let guest = async move {
        let result = async {
            let proxy = match proxy {
                Some(Instance::P2(p)) => p,
                _ => component.instantiate_async(&mut store).await?,
            };
            timing.instantiate_ns.store(setup.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
            proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await.map(|()| proxy)
        }
        .await;
        let memory_hit = store.data().limiter.hit;
        GuestDone { result, memory_hit, store }
    };
    let mut guest = Box::pin(Metered { inner: Box::pin(guest), meter: meter.clone() });

    // Phase 1: the response head, or the guest finishing without one.
    let mut guest_done = None;
    let head = tokio::select! {
        biased;
        r = &mut rx => r.ok(),
        g = &mut guest => { guest_done = Some(g); rx.try_recv().ok() }
    };
    let finish_logs = || state.finish_logs();

    let response = match head {
        Some(Ok(resp)) => resp,
        Some(Err(code)) => {
            drop(match guest_done { Some(g) => g, None => guest.await });
            finish_logs();
            return (Finished::new(FN0_OUTCOME_GUEST_ERROR, format!("the guest answered with an error: {code:?}")), meter_ns(&meter));
        }
        None => {
            let g = match guest_done { Some(g) => g, None => guest.await };
            finish_logs();
            let f = match g.result {
                Err(e) => classify_guest_error(&e, &meter, &limits, g.memory_hit),
                Ok(_) => Finished::new(FN0_OUTCOME_INVALID_RESPONSE, "the guest returned without setting a response"),
            };
            return (f, meter_ns(&meter));
        }
    };

    let (parts, body) = response.into_parts();
    if let Err(why) = deliver_head(&parts, &limits, &gate, &started) {
        finish_logs();
        return (Finished::new(FN0_OUTCOME_INVALID_RESPONSE, why), meter_ns(&meter));
    }

    // Phase 2: stream the body while the guest runs; a guest failure ends it.
    let mut forward = Box::pin(forward_body(body, response_body.clone()));
    let mut forwarded = None;
    let g = match guest_done {
        Some(g) => g,
        None => tokio::select! {
            g = &mut guest => g,
            f = &mut forward => { forwarded = Some(f); guest.await }
        },
    };
    let GuestDone { result, memory_hit, store } = g;
    let outcome = match result {
        Err(e) => {
            let f = classify_guest_error(&e, &meter, &limits, memory_hit);
            response_body.fail(f.message.clone());
            drop(store);
            f
        }
        Ok(proxy) => {
            // A reused instance keeps its resources: only after the body is
            // fully forwarded is it safe to pool. A fresh one is dropped now,
            // which also ends a body the guest left unfinished.
            let keep = keep_for_reuse(&limits, served + 1);
            let store = if keep { Some(store) } else { drop(store); None };
            let f = match forwarded { Some(f) => f, None => forward.await };
            match f {
                Ok(()) => {
                    response_body.finish();
                    if let Some(mut store) = store {
                        store.data_mut().stdout.set(None);
                        store.data_mut().stderr.set(None);
                        pool.put(Pooled { store, instance: Instance::P2(proxy), served: served + 1, env_key: key });
                    }
                    Finished::ok()
                }
                Err(why) => {
                    response_body.fail(why.clone());
                    Finished::new(FN0_OUTCOME_INVALID_RESPONSE, format!("response body failed: {why}"))
                }
            }
        }
    };
    finish_logs();
    (outcome, meter_ns(&meter))
}

struct GuestDone {
    result: wasmtime::Result<Proxy>,
    memory_hit: bool,
    store: Store<Host>,
}

/// (guest CPU time: what the limit and the access log count; CPU time of
/// every poll, host work included: what decides whether the next request
/// runs inline, INLINE_MAX_CPU_NS), nanoseconds.
pub(crate) type Cpu = (u64, u64);

fn meter_ns(meter: &CpuMeter) -> Cpu {
    (meter.used_ns(), meter.polled_ns())
}

unsafe fn build_request(head: &fn0_request_head_t, body: PipeBody) -> wasmtime::Result<http::Request<PipeBody>> {
    let method = http::Method::from_bytes(head.method.bytes())?;
    let scheme = head.scheme.string("scheme")?;
    let authority = head.authority.string("authority")?;
    // wasi:http requires an authority; a request without Host gets a neutral one.
    let authority = if authority.is_empty() { "localhost".to_string() } else { authority };
    let pq = head.path_with_query.string("path")?;
    let pq = if pq.is_empty() { "/".to_string() } else { pq };
    let uri = http::Uri::builder()
        .scheme(if scheme.is_empty() { "http" } else { scheme.as_str() })
        .authority(authority.as_str());
    let mut builder = http::Request::builder().method(method).uri(uri.path_and_query(pq).build()?);
    let headers = if head.header_count == 0 { &[][..] } else { std::slice::from_raw_parts(head.headers, head.header_count) };
    for h in headers {
        builder = builder.header(
            http::HeaderName::from_bytes(h.name.bytes())?,
            http::HeaderValue::from_bytes(h.value.bytes())?,
        );
    }
    Ok(builder.body(body)?)
}

unsafe fn build_plan(o: &fn0_invoke_options_t, engine: &fn0_engine_t) -> wasmtime::Result<Plan> {
    let node_max_memory = engine.max_memory_bytes;
    let mut limits = o.limits;
    let default = |v: u64, d: u64| if v == 0 { d } else { v };
    limits.cpu_time_ns = default(limits.cpu_time_ns, 10_000_000);
    limits.duration_ns = default(limits.duration_ns, 15_000_000_000);
    limits.max_memory_bytes = default(limits.max_memory_bytes, node_max_memory).min(node_max_memory);
    limits.max_response_header_bytes = default(limits.max_response_header_bytes, 128 * 1024);
    limits.max_log_bytes = default(limits.max_log_bytes, 64 * 1024);
    let env = if o.env_count == 0 { &[][..] } else { std::slice::from_raw_parts(o.env, o.env_count) };
    let env = env
        .iter()
        .map(|h| Ok((h.name.string("env name")?, h.value.string("env value")?)))
        .collect::<wasmtime::Result<Vec<_>>>()?;
    let allow = if o.allow_count == 0 { &[][..] } else { std::slice::from_raw_parts(o.allow, o.allow_count) };
    let entries = allow.iter().map(|s| s.string("allow-list entry")).collect::<wasmtime::Result<Vec<_>>>()?;
    let ranges = entries
        .iter()
        .map(|s| Cidr::parse(s).map_err(|e| wasmtime::format_err!("{e}")))
        .collect::<wasmtime::Result<Vec<_>>>()?;
    let function = o.function.string("function name")?;
    let node = engine.listener.read().unwrap_or_else(|p| p.into_inner()).clone();
    let kv = crate::kv::KvLink { handler: engine.kv_handler(), session: o.kv_session };
    Ok(Plan { kv, limits, env, allow: Arc::new(AllowList { ranges, entries, function }), node })
}

/// Starts running `component` on the request described by `head`. Runs the
/// guest on the calling thread until it first has to wait (often to the
/// end), then on adapter threads. Progress arrives through `callbacks`,
/// possibly already during this call (so they must not block on anything
/// the caller holds):
/// `on_response` at most once, then `on_response_body_readable` whenever
/// `fn0_response_body_read` said PENDING and data or the end is there, and
/// `on_done` exactly once, last (the guest has finished; the response body
/// may still hold data to read). `on_log` may come at any time before
/// `on_done`. Pointers passed to callbacks are valid only during the call.
/// The caller owns `*out` and must free it with `fn0_request_delete`.
#[no_mangle]
pub unsafe extern "C" fn fn0_invoke_start(
    engine: *const fn0_engine_t,
    component: *const fn0_component_t,
    head: *const fn0_request_head_t,
    options: *const fn0_invoke_options_t,
    callbacks: *const fn0_invoke_callbacks_t,
    out: *mut *mut fn0_request_t,
) -> *mut fn0_engine_error_t {
    guard(|| {
        let engine = &*engine;
        let plan = build_plan(&*options, engine)?;
        let gate = Arc::new(Gate { cbs: Mutex::new(Some(*callbacks)) });
        let request_body =
            Pipe::to_guest(PIPE_CAPACITY, gate.notifier(|c| c.on_request_body_writable), engine.runtime.handle().clone());
        let no_body = (*options).no_request_body != 0;
        if no_body {
            request_body.finish();
        }
        let cost = (*component).cost.clone();
        let inline = no_body && cost.get() < INLINE_MAX_CPU_NS;
        let response_body = Pipe::new(PIPE_CAPACITY, Some(gate.notifier(|c| c.on_response_body_readable)), None);
        let request = build_request(&*head, PipeBody(request_body.clone()))?;
        let duration = Duration::from_nanos(plan.limits.duration_ns);
        let (wasm_engine, pool) = ((*component).pre.engine().clone(), (*component).pool.clone());
        let (g, rb) = (gate.clone(), response_body.clone());
        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start + duration);
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let timing = Arc::new(Timing::default());
        let call = Call {
            engine: wasm_engine,
            pool,
            request,
            plan,
            gate: g.clone(),
            response_body: rb.clone(),
            started: started.clone(),
            timing: timing.clone(),
            deadline,
        };
        let work: std::pin::Pin<Box<dyn Future<Output = (Finished, Cpu)> + Send>> = match &(*component).pre {
            Pre::P2(pre) => Box::pin(run(call, pre.clone())),
            Pre::P3(pre) if crate::shared::applies(&call.plan.limits) => Box::pin(crate::shared::run(call, pre.clone())),
            Pre::P3(pre) => Box::pin(crate::invoke_p3::run(call, pre.clone())),
        };
        // A panic inside the adapter must still end the request with an
        // outcome, or C++ would wait for on_done forever.
        let work = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(work));
        // None: the duration limit passed first.
        let report = move |result: Option<std::thread::Result<(Finished, Cpu)>>| {
            let (finished, (cpu_ns, polled_ns)) = match result {
                Some(Ok(r)) => r,
                None => {
                    let why = format!("duration limit of {} exceeded", crate::failure::duration(duration));
                    rb.fail(why.clone());
                    (Finished::new(FN0_OUTCOME_DURATION_LIMIT, why), (0, 0))
                }
                Some(Err(_)) => {
                    rb.fail("internal error".into());
                    (Finished::new(FN0_OUTCOME_TRAP, "internal error: the engine panicked serving this request"), (0, 0))
                }
            };
            cost.record(polled_ns);
            let outcome = fn0_outcome_t {
                kind: finished.kind,
                response_started: started.load(std::sync::atomic::Ordering::Relaxed) as u32,
                cpu_ns,
                wall_ns: start.elapsed().as_nanos() as u64,
                instantiate_ns: timing.instantiate_ns.load(std::sync::atomic::Ordering::Relaxed),
                message: fn0_str_t::of(finished.message.as_bytes()),
                backtrace: fn0_str_t::of(finished.backtrace.as_bytes()),
            };
            g.done(&outcome);
        };
        let task = run_inline_first(&engine.runtime, work, deadline, report, inline);
        *out = Box::into_raw(Box::new(fn0_request_t { gate, request_body, response_body, task }));
        Ok(())
    })
}

/// Polls the invocation on the calling thread (the connection's I/O
/// thread; poll_while_ready) and hands it to the runtime's workers only if
/// it has to wait.
/// Only for requests without a body (a guest that reads one would wait for
/// the body the caller sends after this returns: a second wake-up) and for
/// guests that lately used little CPU (INLINE_MAX_CPU_NS).
/// A guest that answers without waiting (most requests: instantiate, run,
/// respond) then costs no thread hand-off, no task and no timer; the epoch
/// callback makes a busy guest yield within a tick, so the caller is held
/// at most that long before the rest moves to a worker, under the duration
/// limit's timer.
fn run_inline_first<F: Future + Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    work: F,
    deadline: tokio::time::Instant,
    report: impl FnOnce(Option<F::Output>) + Send + 'static,
    inline: bool,
) -> Option<tokio::task::AbortHandle> {
    let _context = runtime.enter();
    let mut work = Box::pin(work);
    let first = if inline { poll_while_ready(work.as_mut()) } else { std::task::Poll::Pending };
    match first {
        std::task::Poll::Ready(r) => {
            report(Some(r));
            None
        }
        // Whatever the first poll registered, the worker polls again at once.
        std::task::Poll::Pending => Some(
            runtime
                .spawn(async move { report(tokio::time::timeout_at(deadline, work).await.ok()) })
                .abort_handle(),
        ),
    }
}

/// Set when a waker is woken: tells a Pending poll that did not really wait.
struct Woken(std::sync::atomic::AtomicBool);

impl std::task::Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Polls `work` on this thread, again as long as it returned Pending having
/// been woken meanwhile (a yield: wasmtime's event loop for WASI 0.3
/// components does this between turns), while the polls took less than
/// INLINE_MAX_CPU_NS in all (a busy guest's epoch yield must not hold the
/// I/O thread). A future that really waits (nothing woke it) is left to the
/// runtime.
fn poll_while_ready<F: Future + ?Sized>(mut work: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    let started = Instant::now();
    let woken = Arc::new(Woken(std::sync::atomic::AtomicBool::new(false)));
    let waker = std::task::Waker::from(woken.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        woken.0.store(false, std::sync::atomic::Ordering::Relaxed);
        if let std::task::Poll::Ready(r) = work.as_mut().poll(&mut cx) {
            return std::task::Poll::Ready(r);
        }
        if !woken.0.load(std::sync::atomic::Ordering::Relaxed)
            || started.elapsed() > Duration::from_nanos(INLINE_MAX_CPU_NS)
        {
            return std::task::Poll::Pending;
        }
    }
}

pub const FN0_BODY_ACCEPTED: u32 = 0;
pub const FN0_BODY_FULL: u32 = 1;
pub const FN0_BODY_CLOSED: u32 = 2;

/// Offers request body bytes to the guest (copied). FULL: nothing was taken;
/// wait for `on_request_body_writable`, then offer them again. CLOSED: the
/// guest will read no more (it finished or dropped the body).
#[no_mangle]
pub unsafe extern "C" fn fn0_request_body_write(req: *mut fn0_request_t, data: *const u8, len: usize) -> u32 {
    let bytes = if len == 0 { &[][..] } else { std::slice::from_raw_parts(data, len) };
    match (*req).request_body.try_write(Bytes::copy_from_slice(bytes)) {
        WriteStatus::Accepted => FN0_BODY_ACCEPTED,
        WriteStatus::Full => FN0_BODY_FULL,
        WriteStatus::Closed => FN0_BODY_CLOSED,
    }
}

/// Ends the request body: `aborted` = 0 for a complete body, 1 when the
/// client went away mid-body (the guest's reads then fail).
#[no_mangle]
pub unsafe extern "C" fn fn0_request_body_finish(req: *mut fn0_request_t, aborted: u32) {
    if aborted != 0 {
        (*req).request_body.fail("the client closed the connection mid-body".into());
    } else {
        (*req).request_body.finish();
    }
}

pub const FN0_BODY_DATA: u32 = 0;
pub const FN0_BODY_PENDING: u32 = 1;
pub const FN0_BODY_END: u32 = 2;
pub const FN0_BODY_FAILED: u32 = 3;

/// Takes the next chunk of the response body. DATA: `*chunk` holds it (free
/// with fn0_bytes_delete). PENDING: wait for `on_response_body_readable`.
/// END: the body is complete. FAILED: the body broke off (the outcome says
/// why); the client must not see it as complete.
#[no_mangle]
pub unsafe extern "C" fn fn0_response_body_read(req: *mut fn0_request_t, chunk: *mut fn0_bytes_t) -> u32 {
    *chunk = fn0_bytes_t::empty();
    match (*req).response_body.try_read() {
        ReadStatus::Data(b) => {
            *chunk = fn0_bytes_t::from_vec(Vec::from(b));
            FN0_BODY_DATA
        }
        ReadStatus::Pending => FN0_BODY_PENDING,
        ReadStatus::End => FN0_BODY_END,
        ReadStatus::Failed => FN0_BODY_FAILED,
    }
}

/// Frees the invocation. If the guest still runs it is cancelled. No
/// callback runs after this returns (one in progress on another thread is
/// waited for), so the callbacks' `ctx` may be freed afterwards. Must not be
/// called from inside a callback.
#[no_mangle]
pub unsafe extern "C" fn fn0_request_delete(req: *mut fn0_request_t) {
    if req.is_null() {
        return;
    }
    let req = Box::from_raw(req);
    req.gate.close();
    if let Some(task) = &req.task {
        task.abort();
    }
    req.response_body.close_reader();
    req.request_body.fail("cancelled".into());
}
