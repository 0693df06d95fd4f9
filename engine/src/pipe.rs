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

pub(crate) type Notify = Arc<dyn Fn() + Send + Sync>;

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
}

pub(crate) struct Pipe {
    state: Mutex<State>,
    capacity: usize,
    /// Called (outside the lock) when a C++ reader may read again.
    on_readable: Option<Notify>,
    /// Called (outside the lock) when a C++ writer may write again.
    on_writable: Option<Notify>,
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
        Arc::new(Pipe { state: Mutex::new(State::default()), capacity, on_readable, on_writable })
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
    pub(crate) fn try_write(&self, data: Bytes) -> WriteStatus {
        let mut st = self.lock();
        if st.reader_gone || st.finished || st.failed.is_some() {
            return WriteStatus::Closed;
        }
        if st.bytes >= self.capacity {
            st.writer_wants_callback = true;
            return WriteStatus::Full;
        }
        let (w, cb) = Self::push_locked(&mut st, data);
        drop(st);
        self.wake_reader(w, cb);
        WriteStatus::Accepted
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

    fn pop_locked(&self, st: &mut State) -> Option<(Bytes, Option<Waker>, bool)> {
        let data = st.chunks.pop_front()?;
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
        if let Some((data, w, cb)) = self.pop_locked(&mut st) {
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

    /// Async reader.
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, String>>> {
        let mut st = self.lock();
        if let Some((data, w, cb)) = self.pop_locked(&mut st) {
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
