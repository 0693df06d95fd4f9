//! WASI 0.3 instances that serve several requests at once: a function with
//! instance reuse (`reuse_instance_requests` > 1) and `instance_concurrency`
//! > 1. Each such instance is a worker task that owns the store and runs its
//! event loop (`run_concurrent`) for as long as the instance lives; requests
//! reach it through a channel, each runs as its own call of the guest's
//! `handle` (invoke_p3::exchange), and each gets its outcome back through a
//! oneshot. A guest that waits (on a timer, an outbound request, a body)
//! lets the others run meanwhile.
//!
//! Limits inside one shared store cannot be told apart per request (wasmtime
//! does not say which guest task is running), so:
//! - memory is the instance's (as for every instance);
//! - CPU: the guest time the instance used since its oldest request in flight
//!   was accepted counts against that request's budget; past it the store is
//!   stopped and every request in flight ends with `cpu-limit`;
//! - duration is per request: one that runs out answers 504, and the
//!   instance takes no new requests and is dropped once the others end;
//! - subrequests: each accepted request adds its allowance to the instance's;
//! - logs and key-value calls go to the newest request in flight.
//!
//! A trap ends every request in flight on that instance; requests already
//! queued for it go to a fresh instance.
use crate::host::Host;
use crate::invoke::{
    classify_guest_error, env_key, fn0_limits_t, new_store, Call, Cpu, Finished, Gate, Plan, RequestState,
    FN0_OUTCOME_DURATION_LIMIT, FN0_OUTCOME_TRAP,
};
use crate::limits::{CpuMeter, Metered};
use crate::outbound::Outbound;
use crate::pipe::Pipe;
use futures::stream::{FuturesUnordered, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use wasmtime::component::Accessor;
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// How long an instance with nothing to do is kept.
const IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// One request handed to a worker, and where its outcome goes.
struct Job {
    call: Call,
    reply: oneshot::Sender<(Finished, Cpu)>,
}

/// A worker as the pool sees it: where its requests go, and its counts.
/// The worker task holds only the counts, so its channel ends once the
/// pool and the requests being handed over let go of the sender.
struct Worker {
    jobs: mpsc::UnboundedSender<Job>,
    state: Arc<WorkerState>,
}

struct WorkerState {
    env_key: u64,
    /// Requests sent to it and not yet answered.
    in_flight: AtomicU32,
    /// Requests sent to it in all.
    accepted: AtomicU32,
    /// False once it must take no more (a request ran out of time, or its
    /// instance trapped).
    open: AtomicBool,
}

/// A component's workers (component.rs `InstancePool`).
#[derive(Default)]
pub(crate) struct Workers(Mutex<Vec<Arc<Worker>>>);

impl Workers {
    /// A worker with room for one more request, that request counted; or a
    /// new worker, with the receiving end of its channel to start it with.
    fn pick(&self, key: u64, at_once: u32, in_all: u32) -> (Arc<Worker>, Option<mpsc::UnboundedReceiver<Job>>) {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // A worker leaves the list when it may take no more: once the last
        // sender is gone its channel ends, and so does it.
        list.retain(|w| w.state.open.load(Relaxed) && w.state.accepted.load(Relaxed) < in_all);
        if let Some(i) = list.iter().position(|w| w.state.env_key == key && w.state.in_flight.load(Relaxed) < at_once) {
            let w = list[i].clone();
            w.state.in_flight.fetch_add(1, Relaxed);
            if w.state.accepted.fetch_add(1, Relaxed) + 1 >= in_all {
                list.swap_remove(i);
            }
            return (w, None);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let state = WorkerState {
            env_key: key,
            in_flight: AtomicU32::new(1),
            accepted: AtomicU32::new(1),
            open: AtomicBool::new(true),
        };
        let w = Arc::new(Worker { jobs: tx, state: Arc::new(state) });
        if in_all > 1 {
            list.push(w.clone());
        }
        (w, Some(rx))
    }
}

/// Whether requests of a function with these limits share instances.
pub(crate) fn applies(limits: &fn0_limits_t) -> bool {
    limits.instance_concurrency > 1 && limits.reuse_instance_requests > 1
}

/// What a worker takes from its first request and keeps for the instance's
/// life: the environment, the CPU and memory budgets, the response-header
/// limit and the allow-list. Requests that differ in any of these (the
/// function's settings changed) go to another worker.
fn worker_key(plan: &Plan) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env_key(&plan.env).hash(&mut h);
    let l = &plan.limits;
    (l.cpu_time_ns, l.max_memory_bytes, l.max_response_header_bytes).hash(&mut h);
    plan.allow.entries.hash(&mut h);
    h.finish()
}

/// One request on a shared instance: hands it to a worker (starting one if
/// none has room) and waits for its outcome.
pub(crate) async fn run(call: Call, component: ServicePre<Host>) -> (Finished, Cpu) {
    let limits = call.plan.limits;
    let key = worker_key(&call.plan);
    let (engine, pool) = (call.engine.clone(), call.pool.clone());
    let (reply, outcome) = oneshot::channel();
    let mut job = Job { call, reply };
    // A worker may end between being picked and being sent to (its
    // instance trapped): then another is picked.
    for _ in 0..4 {
        let (worker, fresh) = pool.workers.pick(key, limits.instance_concurrency, limits.reuse_instance_requests);
        if let Some(jobs) = fresh {
            tokio::spawn(serve(engine.clone(), component.clone(), worker.state.clone(), jobs));
        }
        match worker.jobs.send(job) {
            Ok(()) => {
                drop(worker);
                return outcome.await.unwrap_or_else(|_| {
                    (Finished::new(FN0_OUTCOME_TRAP, "internal error: the shared instance ended without an answer"), (0, 0))
                });
            }
            Err(mpsc::error::SendError(j)) => {
                worker.state.open.store(false, Relaxed);
                worker.state.in_flight.fetch_sub(1, Relaxed);
                job = j;
            }
        }
    }
    let why = "internal error: no shared instance took the request";
    job.call.response_body.fail(why.into());
    (Finished::new(FN0_OUTCOME_TRAP, why), (0, 0))
}

/// A request being served, as its worker keeps it.
struct Entry {
    id: u64,
    /// The meter when it was accepted.
    start_ns: u64,
    logs: RequestState,
    kv: crate::kv::KvLink,
    gate: Arc<Gate>,
    limits: fn0_limits_t,
    response_body: Arc<Pipe>,
    reply: oneshot::Sender<(Finished, Cpu)>,
}

/// The requests an instance is serving, oldest first.
#[derive(Default)]
struct Book {
    entries: Vec<Entry>,
    next_id: u64,
    /// When the last request to end was accepted: the CPU budget's base
    /// while none is in flight (work the guest does after answering counts
    /// against the last request).
    last_start_ns: u64,
}

impl Book {
    /// Points the store at the newest request in flight (logs, key-value
    /// calls, refusal lines of subrequests) and the CPU budget at the oldest.
    fn point(&self, host: &mut Host) {
        match self.entries.last() {
            Some(e) => {
                host.stdout.set(Some(e.logs.stdout.clone()));
                host.stderr.set(Some(e.logs.stderr.clone()));
                host.kv = e.kv;
                host.outbound.set_log(e.gate.clone());
            }
            None => {
                host.stdout.set(None);
                host.stderr.set(None);
                host.kv = Default::default();
            }
        }
        host.cpu_base_ns = self.entries.first().map_or(self.last_start_ns, |e| e.start_ns);
    }

    /// Ends a request: its logs, its worker count, its answer.
    fn end(&mut self, id: u64, finished: Finished, meter: &CpuMeter, worker: &WorkerState) {
        let Some(i) = self.entries.iter().position(|e| e.id == id) else { return };
        let e = self.entries.remove(i);
        self.last_start_ns = e.start_ns;
        e.logs.finish_logs();
        if finished.kind != crate::invoke::FN0_OUTCOME_OK {
            // A no-op if the body already ended.
            e.response_body.fail(finished.message.clone());
        }
        let used = meter.used_ns().saturating_sub(e.start_ns);
        worker.in_flight.fetch_sub(1, Relaxed);
        let _ = e.reply.send((finished, (used, used)));
    }
}

/// A worker: instances, one after another (a new one only after a trap, for
/// the requests already queued), until its channel ends.
async fn serve(engine: wasmtime::Engine, component: ServicePre<Host>, worker: Arc<WorkerState>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut next = jobs.recv().await;
    while let Some(first) = next {
        instance(&engine, &component, &worker, &mut jobs, first).await;
        next = jobs.recv().await;
    }
}

/// One instance: serves `first`, then whatever arrives, until the channel
/// ends (and nothing is left running) or the store traps.
async fn instance(
    engine: &wasmtime::Engine,
    component: &ServicePre<Host>,
    worker: &WorkerState,
    jobs: &mut mpsc::UnboundedReceiver<Job>,
    first: Job,
) {
    let setup = Instant::now();
    let limits = first.call.plan.limits;
    let mut store = new_store(engine, &first.call.plan);
    let meter = Arc::new(if crate::limits::guest_only_metering() { CpuMeter::guest_only() } else { CpuMeter::default() });
    {
        let host = store.data_mut();
        host.meter = meter.clone();
        host.cpu_limit_ns = limits.cpu_time_ns;
        host.limiter.max_memory_bytes = limits.max_memory_bytes as usize;
        let plan = &first.call.plan;
        host.outbound = Outbound::new(0, plan.allow.clone(), plan.node.clone(), first.call.gate.clone());
    }
    store.set_epoch_deadline(1);
    let book = Mutex::new(Book::default());
    let lock = || book.lock().unwrap_or_else(|p| p.into_inner());
    let first_timing = first.call.timing.clone();
    let mut first = Some(first);

    let guest = async {
        let service = component.instantiate_async(&mut store).await?;
        first_timing.instantiate_ns.store(setup.elapsed().as_nanos() as u64, Relaxed);
        let service = &service;
        store
            .run_concurrent(async |accessor: &Accessor<Host>| -> wasmtime::Result<()> {
                let mut running = FuturesUnordered::new();
                let mut next = first.take();
                let mut open = true;
                loop {
                    if let Some(job) = next.take() {
                        let Job { call: Call { request, plan, gate, response_body, started, deadline, .. }, reply } = job;
                        let limits = plan.limits;
                        let logs = RequestState::new(&gate, &limits);
                        let id = accessor.with(|mut s| {
                            let mut b = lock();
                            let id = b.next_id;
                            b.next_id += 1;
                            b.entries.push(Entry {
                                id,
                                start_ns: meter.used_ns(),
                                logs,
                                kv: plan.kv,
                                gate: gate.clone(),
                                limits,
                                response_body: response_body.clone(),
                                reply,
                            });
                            let host = s.data_mut();
                            host.outbound.max_subrequests = host.outbound.max_subrequests.saturating_add(limits.max_subrequests);
                            b.point(host);
                            id
                        });
                        running.push(async move {
                            let exchange =
                                crate::invoke_p3::exchange(accessor, service, request, &limits, &gate, &started, response_body);
                            (id, tokio::time::timeout_at(deadline, exchange).await)
                        });
                    }
                    if !open && running.is_empty() {
                        return Ok(());
                    }
                    tokio::select! {
                        job = jobs.recv(), if open => match job {
                            Some(job) => next = Some(job),
                            None => open = false,
                        },
                        // Idle: new requests go elsewhere (a send now
                        // fails and the request picks another worker);
                        // those already queued are still served.
                        () = tokio::time::sleep(IDLE), if open && running.is_empty() => jobs.close(),
                        Some((id, result)) = running.next(), if !running.is_empty() => {
                            let finished = match result {
                                Ok(Ok(f)) => f,
                                // A trap: the instance is done for, and so is
                                // every request in flight (below).
                                Ok(Err(e)) => return Err(e),
                                Err(_) => {
                                    // It stays stuck in the guest: no new
                                    // requests; the instance goes once the
                                    // others end.
                                    worker.open.store(false, Relaxed);
                                    let limit = std::time::Duration::from_nanos(limits.duration_ns);
                                    let why = format!("duration limit of {} exceeded", crate::failure::duration(limit));
                                    Finished::new(FN0_OUTCOME_DURATION_LIMIT, why)
                                }
                            };
                            accessor.with(|mut s| {
                                let mut b = lock();
                                b.end(id, finished, &meter, worker);
                                b.point(s.data_mut());
                            });
                        }
                    }
                }
            })
            .await?
    };
    let result = Metered { inner: Box::pin(guest), meter: meter.clone() }.await;
    if let Err(e) = result {
        // Every request still in flight gets the reason the store stopped;
        // a first one that never got to run, why it could not.
        worker.open.store(false, Relaxed);
        let memory_hit = store.data().limiter.hit;
        if let Some(job) = first {
            let finished = classify_guest_error(&e, &meter, &job.call.plan.limits, memory_hit);
            job.call.response_body.fail(finished.message.clone());
            worker.in_flight.fetch_sub(1, Relaxed);
            let _ = job.reply.send((finished, (0, 0)));
        }
        let mut b = lock();
        while let Some((id, limits)) = b.entries.first().map(|e| (e.id, e.limits)) {
            let finished = classify_guest_error(&e, &meter, &limits, memory_hit);
            b.end(id, finished, &meter, worker);
        }
    }
}
