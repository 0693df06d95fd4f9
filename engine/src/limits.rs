//! Per-request limits enforced inside the store: guest CPU time (thread CPU
//! time while the guest's own code runs, so waiting on I/O or sleeping, and
//! host work on its behalf, do not count) and memory growth.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// CPU time of the calling thread, nanoseconds.
pub(crate) fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into `ts`; CLOCK_THREAD_CPUTIME_ID always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Accumulates the CPU time the guest's own code runs: per poll of the
/// guest's future, the poll's time outside host code — host functions
/// working on the guest's behalf (copying body bytes into and out of its
/// memory, converting headers), instantiation, the epoch callback — capped
/// by the poll's thread CPU time. The store's call hook
/// (`on_call_hook`) marks every transition; host intervals are timed with
/// the monotonic clock (vDSO, ~20 ns) rather than the thread CPU clock (a
/// system call, ~0.3 µs: a guest streaming 100 MB in 64 KiB chunks makes
/// ~6,000 transitions, and the clock's own cost was most of what it was
/// charged). Subtracting host intervals from the poll's CPU time instead
/// would forgive guest time whenever the thread was preempted in host code
/// (hello-c was charged 0 on a loaded machine); this way a guest preempted
/// in its own code may be charged a little more than it used, never more
/// than the whole poll's CPU time (the old metering). Only the polling thread touches the meter (the epoch
/// callback and the hook run there), hence relaxed atomics.
#[derive(Default)]
pub(crate) struct CpuMeter {
    /// Guest CPU time of finished polls.
    done_ns: AtomicU64,
    /// CPU time of finished polls, host work included.
    polled_ns: AtomicU64,
    /// Thread CPU clock when the current poll began; 0 when not polling.
    poll_start_ns: AtomicU64,
    /// Monotonic clock when the current poll began.
    poll_start_mono_ns: AtomicU64,
    /// Host time of the current poll's finished host intervals.
    poll_host_ns: AtomicU64,
    /// Monotonic clock when the current host interval began; 0 when none.
    host_since_ns: AtomicU64,
    /// The store is in guest code (its last transition went into wasm),
    /// possibly suspended between polls (an epoch yield).
    in_guest: AtomicBool,
    /// When false, every polled nanosecond counts (the call hook is off).
    pub(crate) guest_only: AtomicBool,
    /// Set when the guest was stopped for exceeding its budget.
    pub(crate) exceeded: AtomicBool,
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into `ts`; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64).max(1)
}

impl CpuMeter {
    /// A meter that counts only the time inside guest code.
    pub(crate) fn guest_only() -> Self {
        let m = CpuMeter::default();
        m.guest_only.store(true, Ordering::Relaxed);
        m
    }

    /// Host time of the current poll so far.
    fn poll_host_ns(&self) -> u64 {
        let since = self.host_since_ns.load(Ordering::Relaxed);
        let open = if since == 0 { 0 } else { monotonic_ns().saturating_sub(since) };
        self.poll_host_ns.load(Ordering::Relaxed) + open
    }

    /// CPU time used so far, including the poll in progress. Only
    /// meaningful on the thread that is polling (the epoch callback runs there).
    pub(crate) fn used_ns(&self) -> u64 {
        let start = self.poll_start_ns.load(Ordering::Relaxed);
        let running = if start == 0 { 0 } else { self.poll_guest_ns(thread_cpu_ns().saturating_sub(start)) };
        self.done_ns.load(Ordering::Relaxed) + running
    }

    /// The guest's share of a poll that used `cpu` so far: its time outside
    /// host code (monotonic), but never more than the poll's CPU time. At
    /// least what the guest used (neither figure is below it), at most the
    /// poll's CPU time (what was charged before).
    fn poll_guest_ns(&self, cpu: u64) -> u64 {
        let wall = monotonic_ns().saturating_sub(self.poll_start_mono_ns.load(Ordering::Relaxed));
        cpu.min(wall.saturating_sub(self.poll_host_ns()))
    }

    /// CPU time of the finished polls, host work included.
    pub(crate) fn polled_ns(&self) -> u64 {
        self.polled_ns.load(Ordering::Relaxed)
    }

    fn poll_begins(&self) {
        self.poll_host_ns.store(0, Ordering::Relaxed);
        let in_host = self.guest_only.load(Ordering::Relaxed) && !self.in_guest.load(Ordering::Relaxed);
        let now = monotonic_ns();
        self.poll_start_mono_ns.store(now, Ordering::Relaxed);
        self.host_since_ns.store(if in_host { now } else { 0 }, Ordering::Relaxed);
        self.poll_start_ns.store(thread_cpu_ns().max(1), Ordering::Relaxed);
    }

    fn poll_ends(&self) {
        let start = self.poll_start_ns.swap(0, Ordering::Relaxed);
        let polled = thread_cpu_ns().saturating_sub(start);
        self.polled_ns.fetch_add(polled, Ordering::Relaxed);
        self.done_ns.fetch_add(self.poll_guest_ns(polled), Ordering::Relaxed);
        self.host_since_ns.store(0, Ordering::Relaxed);
        self.poll_host_ns.store(0, Ordering::Relaxed);
    }

    /// The store's call hook: a transition between host and guest code.
    pub(crate) fn on_call_hook(&self, hook: wasmtime::CallHook) {
        if !self.guest_only.load(Ordering::Relaxed) {
            return;
        }
        let into_guest = matches!(hook, wasmtime::CallHook::CallingWasm | wasmtime::CallHook::ReturningFromHost);
        let since = self.host_since_ns.load(Ordering::Relaxed);
        if into_guest {
            if since != 0 {
                self.poll_host_ns.fetch_add(monotonic_ns().saturating_sub(since), Ordering::Relaxed);
                self.host_since_ns.store(0, Ordering::Relaxed);
            }
        } else if since == 0 {
            self.host_since_ns.store(monotonic_ns(), Ordering::Relaxed);
        }
        self.in_guest.store(into_guest, Ordering::Relaxed);
    }
}

/// Wraps a future so that the CPU time of its polls is metered (all of it,
/// or only the guest's code: see `CpuMeter`).
pub(crate) struct Metered<F> {
    pub(crate) inner: Pin<Box<F>>,
    pub(crate) meter: Arc<CpuMeter>,
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Each poll may run on another thread: nothing spans polls.
        self.meter.poll_begins();
        let out = self.inner.as_mut().poll(cx);
        self.meter.poll_ends();
        out
    }
}

/// Whether CPU meters count only guest code (the default) or every polled
/// nanosecond, host work included (`FN0_CPU_METER=polls`, what fn0 did
/// before; kept to measure what the call hook costs: bench/cpu_metering.py).
/// Read once per process.
pub(crate) fn guest_only_metering() -> bool {
    static GUEST_ONLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *GUEST_ONLY.get_or_init(|| std::env::var("FN0_CPU_METER").map_or(true, |v| v != "polls"))
}

/// The error a guest is stopped with when its CPU budget is spent.
#[derive(Debug)]
pub(crate) struct CpuLimitExceeded {
    pub(crate) limit_ns: u64,
}

impl std::fmt::Display for CpuLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limit = crate::failure::duration(std::time::Duration::from_nanos(self.limit_ns));
        write!(f, "CPU time limit of {limit} exceeded")
    }
}
impl std::error::Error for CpuLimitExceeded {}

/// Caps the linear memory of one store — all its memories together, since a
/// component can hold several (each core instance may define its own) — and
/// table growth, remembering whether a growth was refused so a later trap can
/// be reported as `memory-limit`.
pub(crate) struct MemoryLimiter {
    pub(crate) max_memory_bytes: usize,
    pub(crate) hit: bool,
    /// Bytes of every memory of the store, as approved so far. Kept when a
    /// pooled instance serves its next request: its memories stay.
    pub(crate) total_bytes: usize,
    /// The growth approved last, taken back if the memory then fails to grow.
    last_growth: usize,
}

impl MemoryLimiter {
    pub(crate) fn new(max_memory_bytes: usize) -> Self {
        MemoryLimiter { max_memory_bytes, hit: false, total_bytes: 0, last_growth: 0 }
    }
}

const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl wasmtime::ResourceLimiter for MemoryLimiter {
    // Also called with current = 0 when a memory is created (its minimum).
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.total_bytes.saturating_add(growth);
        let over_own_max = maximum.is_some_and(|m| desired > m);
        if total > self.max_memory_bytes || over_own_max {
            self.hit = true;
            return Ok(false);
        }
        self.total_bytes = total;
        self.last_growth = growth;
        Ok(true)
    }
    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.total_bytes -= std::mem::take(&mut self.last_growth).min(self.total_bytes);
        Ok(())
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
