//! A bounded byte pipe between C++ and a guest, used for both body
//! directions. One side is async Rust (a task, woken by a `Waker`), the other
//! is C++ (non-blocking calls, told by a callback when to try again). The
//! capacity bounds memory: a slow reader stops the writer instead of growing
//! a buffer, which is what makes a 100 MB body stream in constant space.
use bytes::Bytes;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

pub(crate) type Notify = Arc<dyn Fn() + Send + Sync>;

/// The most one coalesced read hands the guest.
const COALESCE_MAX: usize = 64 * 1024;
/// A guest gets request body data once this much is buffered, the body has
/// ended, the client paused for WAKE_IDLE, or the oldest byte waited
/// MAX_HOLD (held_back).
const WAKE_BYTES: usize = 16 * 1024;
const WAKE_IDLE: Duration = Duration::from_millis(1);
const MAX_HOLD: Duration = Duration::from_millis(20);

#[derive(Default)]
struct State {
    chunks: VecDeque<Bytes>,
    bytes: usize,
    finished: bool,
    failed: Option<String>,
    reader_gone: bool,
    reader_waker: Option<Waker>,
    writer_waker: Option<Waker>,
    reader_wants_callback: bool,
    writer_wants_callback: bool,
    /// A deferred wake-up of the async reader is on its way (see try_write).
    wake_pending: bool,
    /// The held-back data may be taken now (see held_back).
    batch_ready: bool,
    /// When the writer last wrote, and when the data now held back began.
    last_write: Option<Instant>,
    batch_start: Option<Instant>,
}

pub(crate) struct Pipe {
    state: Mutex<State>,
    capacity: usize,
    /// Called (outside the lock) when a C++ reader may read again.
    on_readable: Option<Notify>,
    /// Called (outside the lock) when a C++ writer may write again.
    on_writable: Option<Notify>,
    /// Set for a pipe read by a guest: small writes wake it after
    /// WAKE_DELAY on this runtime instead of at once (see try_write).
    defer_wakes: Option<tokio::runtime::Handle>,
}

pub(crate) enum WriteStatus {
    Accepted,
    Full,
    Closed,
}

pub(crate) enum ReadStatus {
    Data(Bytes),
    Pending,
    End,
    Failed,
}

impl Pipe {
    pub(crate) fn new(capacity: usize, on_readable: Option<Notify>, on_writable: Option<Notify>) -> Arc<Pipe> {
        Arc::new(Pipe { state: Mutex::new(State::default()), capacity, on_readable, on_writable, defer_wakes: None })
    }

    /// A pipe C++ writes and a guest reads, whose small writes wake the
    /// guest in batches (try_write).
    pub(crate) fn to_guest(capacity: usize, on_writable: Notify, runtime: tokio::runtime::Handle) -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::new(State::default()),
            capacity,
            on_readable: None,
            on_writable: Some(on_writable),
            defer_wakes: Some(runtime),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the other side: its task, and its C++ callback if it asked for
    /// one. Call after releasing the lock.
    fn wake(waker: Option<Waker>, callback: bool, notify: &Option<Notify>) {
        if let Some(w) = waker {
            w.wake();
        }
        if callback {
            if let Some(cb) = notify {
                cb();
            }
        }
    }

    fn wake_reader(&self, waker: Option<Waker>, callback: bool) {
        Self::wake(waker, callback, &self.on_readable);
    }

    fn wake_writer(&self, waker: Option<Waker>, callback: bool) {
        Self::wake(waker, callback, &self.on_writable);
    }

    fn push_locked(st: &mut State, data: Bytes) -> (Option<Waker>, bool) {
        st.bytes += data.len();
        st.chunks.push_back(data);
        (st.reader_waker.take(), std::mem::take(&mut st.reader_wants_callback))
    }

    /// Non-blocking write (C++ writer). `Full` means: keep the data, wait for
    /// the writable callback, try again.
    pub(crate) fn try_write(self: &Arc<Self>, data: Bytes) -> WriteStatus {
        let mut st = self.lock();
        if st.reader_gone || st.finished || st.failed.is_some() {
            return WriteStatus::Closed;
        }
        if st.bytes >= self.capacity {
            st.writer_wants_callback = true;
            return WriteStatus::Full;
        }
        st.bytes += data.len();
        st.chunks.push_back(data);
        if self.defer_wakes.is_some() {
            let now = Instant::now();
            st.last_write = Some(now);
            st.batch_start.get_or_insert(now);
        }
        if self.held_back(&mut st) {
            return WriteStatus::Accepted;
        }
        let (w, cb) = (st.reader_waker.take(), std::mem::take(&mut st.reader_wants_callback));
        drop(st);
        self.wake_reader(w, cb);
        WriteStatus::Accepted
    }

    /// For a pipe read by a guest: whether the buffered data is held back
    /// for now (a timer releases it). A client sending its body in 1-byte
    /// chunks must not make the guest wake, read and be charged CPU once per
    /// byte: the guest gets data when there is WAKE_BYTES of it, when the
    /// body has ended, when the client paused for WAKE_IDLE, or MAX_HOLD
    /// after the oldest byte came, and then everything in one piece
    /// (pop_locked). A body that trickles in waits at most that long.
    fn held_back(self: &Arc<Self>, st: &mut State) -> bool {
        let Some(runtime) = &self.defer_wakes else { return false };
        if st.bytes >= WAKE_BYTES || st.finished || st.failed.is_some() || st.batch_ready {
            return false;
        }
        if !std::mem::replace(&mut st.wake_pending, true) {
            runtime.spawn(self.clone().release_later());
        }
        true
    }

    /// When held-back data is due: the client paused, or it waited long enough.
    fn due(st: &State) -> Instant {
        let now = Instant::now();
        let idle = st.last_write.map_or(now, |t| t + WAKE_IDLE);
        let oldest = st.batch_start.map_or(now, |t| t + MAX_HOLD);
        idle.min(oldest)
    }

    async fn release_later(self: Arc<Self>) {
        loop {
            let due = Self::due(&self.lock());
            tokio::time::sleep_until(tokio::time::Instant::from_std(due)).await;
            let waker = {
                let mut st = self.lock();
                if Instant::now() < Self::due(&st) && st.bytes < WAKE_BYTES && !st.finished {
                    continue; // the client wrote again meanwhile
                }
                st.wake_pending = false;
                st.batch_ready = true;
                st.reader_waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
            return;
        }
    }

    /// Async writer: ready when there is room (true) or the reader is gone (false).
    pub(crate) fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut st = self.lock();
        if st.reader_gone {
            return Poll::Ready(false);
        }
        if st.bytes < self.capacity {
            return Poll::Ready(true);
        }
        st.writer_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Async writer: push after `poll_writable` said there is room.
    pub(crate) fn push(&self, data: Bytes) {
        let mut st = self.lock();
        if st.reader_gone {
            return;
        }
        let (w, cb) = Self::push_locked(&mut st, data);
        drop(st);
        self.wake_reader(w, cb);
    }

    /// The writer is done; the reader sees End after the buffered data.
    pub(crate) fn finish(&self) {
        let mut st = self.lock();
        st.finished = true;
        let (w, cb) = (st.reader_waker.take(), std::mem::take(&mut st.reader_wants_callback));
        drop(st);
        self.wake_reader(w, cb);
    }

    /// The writer failed; the reader sees the error after the buffered data.
    pub(crate) fn fail(&self, why: String) {
        let mut st = self.lock();
        if st.finished || st.failed.is_some() {
            return;
        }
        st.failed = Some(why);
        let (w, cb) = (st.reader_waker.take(), std::mem::take(&mut st.reader_wants_callback));
        drop(st);
        self.wake_reader(w, cb);
    }

    /// Takes the next chunk; with `coalesce`, every chunk buffered behind it
    /// too, as one (up to COALESCE_MAX bytes). A client that sends its body
    /// in tiny pieces (1-byte chunks) then costs the guest one read, and one
    /// wake-up, for whatever arrived meanwhile instead of one per piece.
    fn pop_locked(&self, st: &mut State, coalesce: bool) -> Option<(Bytes, Option<Waker>, bool)> {
        let first = st.chunks.pop_front()?;
        let data = match st.chunks.front() {
            Some(next) if coalesce && first.len() + next.len() <= COALESCE_MAX => {
                let mut joined = bytes::BytesMut::with_capacity(st.bytes.min(COALESCE_MAX));
                joined.extend_from_slice(&first);
                while let Some(next) = st.chunks.front() {
                    if joined.len() + next.len() > COALESCE_MAX {
                        break;
                    }
                    joined.extend_from_slice(next);
                    st.chunks.pop_front();
                }
                joined.freeze()
            }
            _ => first,
        };
        let was_full = st.bytes >= self.capacity;
        st.bytes -= data.len();
        let (w, cb) = if was_full && st.bytes < self.capacity {
            (st.writer_waker.take(), std::mem::take(&mut st.writer_wants_callback))
        } else {
            (None, false)
        };
        Some((data, w, cb))
    }

    /// Non-blocking read (C++ reader). `Pending` means: wait for the readable
    /// callback, try again.
    pub(crate) fn try_read(&self) -> ReadStatus {
        let mut st = self.lock();
        if let Some((data, w, cb)) = self.pop_locked(&mut st, false) {
            drop(st);
            self.wake_writer(w, cb);
            return ReadStatus::Data(data);
        }
        if st.failed.is_some() {
            return ReadStatus::Failed;
        }
        if st.finished {
            return ReadStatus::End;
        }
        st.reader_wants_callback = true;
        ReadStatus::Pending
    }

    /// Async reader (the guest): everything buffered, in one piece, once
    /// it is not held back (held_back).
    pub(crate) fn poll_read(self: &Arc<Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, String>>> {
        let mut st = self.lock();
        if st.bytes > 0 && self.held_back(&mut st) {
            st.reader_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        st.batch_ready = false;
        st.batch_start = None;
        if let Some((data, w, cb)) = self.pop_locked(&mut st, true) {
            drop(st);
            self.wake_writer(w, cb);
            return Poll::Ready(Some(Ok(data)));
        }
        if let Some(why) = &st.failed {
            return Poll::Ready(Some(Err(why.clone())));
        }
        if st.finished {
            return Poll::Ready(None);
        }
        st.reader_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The reader will read no more: drop what is buffered and release the writer.
    pub(crate) fn close_reader(&self) {
        let mut st = self.lock();
        st.reader_gone = true;
        st.chunks.clear();
        st.bytes = 0;
        let (w, cb) = (st.writer_waker.take(), std::mem::take(&mut st.writer_wants_callback));
        drop(st);
        self.wake_writer(w, cb);
    }
}

/// The request body as the guest sees it: an `http_body::Body` reading the
/// pipe C++ writes into.
pub(crate) struct PipeBody(pub(crate) Arc<Pipe>);

impl http_body::Body for PipeBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match self.0.poll_read(cx) {
            Poll::Ready(Some(Ok(data))) => Poll::Ready(Some(Ok(http_body::Frame::data(data)))),
            Poll::Ready(Some(Err(why))) => {
                Poll::Ready(Some(Err(wasmtime_wasi_http::Error::InternalError(Some(why)))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for PipeBody {
    fn drop(&mut self) {
        // The guest dropped the body unread: tell the C++ writer to stop.
        self.0.close_reader();
    }
}
