//! Per-request limits enforced inside the store: guest CPU time (thread CPU
//! time while the guest is being polled, so waiting on I/O or sleeping does
//! not count) and memory growth.
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

/// Accumulates the CPU time spent polling the guest's future.
#[derive(Default)]
pub(crate) struct CpuMeter {
    /// CPU time of finished polls.
    done_ns: AtomicU64,
    /// Thread CPU clock when the current poll began; 0 when not polling.
    poll_start_ns: AtomicU64,
    /// Set when the guest was stopped for exceeding its budget.
    pub(crate) exceeded: AtomicBool,
}

impl CpuMeter {
    /// CPU time used so far, including the poll in progress. Only meaningful
    /// on the thread that is polling (the epoch callback runs there).
    pub(crate) fn used_ns(&self) -> u64 {
        let start = self.poll_start_ns.load(Ordering::Relaxed);
        let running = if start == 0 { 0 } else { thread_cpu_ns().saturating_sub(start) };
        self.done_ns.load(Ordering::Relaxed) + running
    }
}

/// Wraps a future so that the CPU time of each of its polls is metered.
pub(crate) struct Metered<F> {
    pub(crate) inner: Pin<Box<F>>,
    pub(crate) meter: Arc<CpuMeter>,
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let start = thread_cpu_ns().max(1);
        self.meter.poll_start_ns.store(start, Ordering::Relaxed);
        let out = self.inner.as_mut().poll(cx);
        let spent = thread_cpu_ns().saturating_sub(start);
        self.meter.poll_start_ns.store(0, Ordering::Relaxed);
        self.meter.done_ns.fetch_add(spent, Ordering::Relaxed);
        out
    }
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
