//! Guest stdout/stderr: split into lines and handed to C++ (which tags them
//! with the request id and appends them to the function's log stream). Each
//! request has a byte budget; output past it is dropped with one notice.
use crate::invoke::Gate;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

/// A line longer than this is emitted in pieces.
const MAX_LINE: usize = 4096;

pub(crate) struct LogState {
    gate: Arc<Gate>,
    stream: u32,
    partial: Vec<u8>,
    /// Bytes this request may still log, shared by stdout and stderr.
    budget: Arc<AtomicUsize>,
    truncated: bool,
}

impl LogState {
    pub(crate) fn new(gate: Arc<Gate>, stream: u32, budget: Arc<AtomicUsize>) -> Arc<Mutex<LogState>> {
        Arc::new(Mutex::new(LogState { gate, stream, partial: Vec::new(), budget, truncated: false }))
    }

    fn emit(&mut self, line: &[u8]) {
        if self.truncated {
            return;
        }
        let took = self.budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(line.len()));
        if took.is_err() {
            self.truncated = true;
            self.gate.log(self.stream, b"[fn0: log limit for this request reached; further output dropped]");
            return;
        }
        self.gate.log(self.stream, line);
    }

    fn write(&mut self, mut bytes: &[u8]) {
        while let Some(i) = bytes.iter().position(|b| *b == b'\n') {
            let (line, rest) = bytes.split_at(i);
            if self.partial.is_empty() {
                self.emit(line);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.emit(&whole);
            }
            bytes = &rest[1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE {
            let piece: Vec<u8> = self.partial.drain(..MAX_LINE).collect();
            self.emit(&piece);
        }
    }

    /// Emits an unterminated last line, at the end of the request.
    pub(crate) fn flush(&mut self) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.emit(&rest);
        }
    }
}

/// Where a store's stdout or stderr currently goes: the log state of the
/// request being served. A reused instance serves many requests, each with
/// its own request id and budget, so the target is swapped per request.
#[derive(Default)]
pub(crate) struct SinkSlot(Mutex<Option<Arc<Mutex<LogState>>>>);

impl SinkSlot {
    pub(crate) fn set(&self, target: Option<Arc<Mutex<LogState>>>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = target;
    }
    fn write(&self, buf: &[u8]) {
        let target = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(t) = target {
            t.lock().unwrap_or_else(|p| p.into_inner()).write(buf);
        }
    }
}

#[derive(Clone)]
pub(crate) struct LogSink(pub(crate) Arc<SinkSlot>);

impl AsyncWrite for LogSink {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.write(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl wasmtime_wasi::cli::IsTerminal for LogSink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for LogSink {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}
