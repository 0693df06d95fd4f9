//! p3-rust: a test guest for wasi:http@0.3.0 (WASI 0.3, the async component
//! model). Every route exercises one piece of the async machinery:
//!
//!   GET  /              "hello from wasi:http@0.3\n" (text/plain)
//!   POST /echo          streams the request body back chunk by chunk as it
//!                       arrives (never buffered whole); copies content-type
//!   GET  /headers       the request headers, one `name: value` a line, in
//!                       the order fields.copy-all gives them (the host's
//!                       order: wasmtime serve's is not the wire order)
//!   GET  /sleep?ms=N    waits N ms (monotonic-clock wait-for, an async wait),
//!                       then "slept N\n"; header x-in-flight: how many
//!                       /sleep requests this instance held when this one
//!                       started (>1 shows one instance serving requests
//!                       concurrently)
//!   GET  /log           a line to stdout and one to stderr; "logged\n"
//!   GET  /count         "count N\n": the Nth /count this instance served
//!   GET  /spin          a busy loop that never ends (CPU limit test)
//!   GET  /alloc?mb=N    allocates and touches N MiB; "allocated N\n"
//!                       (memory limit test)
//!   GET  /fetch?url=U[&n=N]  N outbound GETs one after the other
//!                       (default 1; wasi:http/client send) to U,
//!                       http://host:port/path only: 200, "upstream status
//!                       S\n" then the last upstream body; 502 with
//!                       "request I: " and the error's Debug form if one
//!                       fails
//!   GET  /stream?n=N    N chunks "chunk i\n", written one at a time
//!   anything else       404 "not found\n"
//!
//! A response body is a stream<u8> whose writing end is handed to a task
//! (`spawn_local`) that keeps running after `handle` has returned the
//! response: the host reads the body while the guest writes it.
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;

use wasip3::clocks::monotonic_clock;
use wasip3::http::client;
use wasip3::http::types::{ErrorCode, Fields, Method, Request, Response, Scheme};
use wasip3::wit_bindgen::{spawn_local, StreamReader, StreamResult, StreamWriter};
use wasip3::{wit_future, wit_stream};

struct Handler;
wasip3::http::service::export!(Handler);

/// /sleep requests in progress on this instance.
static SLEEPING: AtomicU32 = AtomicU32::new(0);
/// Requests to /count this instance has served: 1 on a fresh instance.
static COUNTED: AtomicU32 = AtomicU32::new(0);

impl wasip3::exports::http::handler::Guest for Handler {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let target = request.get_path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let method = request.get_method();
        Ok(match (&method, path) {
            (Method::Get, "/") => text(200, "hello from wasi:http@0.3\n"),
            (Method::Get, "/log") => {
                // Through Rust's std: wasi:cli/stdout and stderr (0.2, the adapter's).
                println!("to stdout");
                eprintln!("to stderr");
                text(200, "logged\n")
            }
            (Method::Get, "/count") => text(200, &format!("count {}\n", COUNTED.fetch_add(1, Relaxed) + 1)),
            (Method::Post, "/echo") => echo(request),
            (Method::Get, "/headers") => {
                let mut out = String::new();
                for (name, value) in request.get_headers().copy_all() {
                    out += &format!("{name}: {}\n", String::from_utf8_lossy(&value));
                }
                text(200, &out)
            }
            (Method::Get, "/sleep") => {
                let ms = param(query, "ms").unwrap_or(0);
                let in_flight = SLEEPING.fetch_add(1, Relaxed) + 1;
                monotonic_clock::wait_for(ms * 1_000_000).await;
                SLEEPING.fetch_sub(1, Relaxed);
                let (response, body_tx) = streaming(
                    200,
                    &[("content-type", b"text/plain"), ("x-in-flight", in_flight.to_string().as_bytes())],
                );
                send_all(body_tx, format!("slept {ms}\n").into_bytes());
                response
            }
            (Method::Get, "/spin") => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            (Method::Get, "/alloc") => {
                let mb = param(query, "mb").unwrap_or(0) as usize;
                // vec![1; ..] writes every byte, so the pages are really used.
                let block = std::hint::black_box(vec![1u8; mb << 20]);
                text(200, &format!("allocated {}\n", block.len() >> 20))
            }
            (Method::Get, "/fetch") => match fetch_n(query).await {
                Ok((status, body)) => {
                    let (response, body_tx) = streaming(200, &[("content-type", b"text/plain")]);
                    let mut head = format!("upstream status {status}\n").into_bytes();
                    head.extend(body);
                    send_all(body_tx, head);
                    response
                }
                Err(e) => text(502, &format!("{e}\n")),
            },
            (Method::Get, "/stream") => {
                let n = param(query, "n").unwrap_or(0);
                let (response, mut body_tx) = streaming(200, &[("content-type", b"text/plain")]);
                spawn_local(async move {
                    for i in 0..n {
                        if !body_tx.write_all(format!("chunk {i}\n").into_bytes()).await.is_empty() {
                            break; // the client went away
                        }
                    }
                });
                response
            }
            _ => text(404, "not found\n"),
        })
    }
}

/// A response with `headers` whose body is written later through the
/// returned writer; dropping the writer ends the body. No trailers.
fn streaming(status: u16, headers: &[(&str, &[u8])]) -> (Response, StreamWriter<u8>) {
    let fields = Fields::from_list(&headers.iter().map(|(n, v)| (n.to_string(), v.to_vec())).collect::<Vec<_>>())
        .expect("valid headers");
    let (body_tx, body_rx) = wit_stream::new::<u8>();
    // The writer of the trailers future is dropped at once: the future then
    // resolves to its default, Ok(None).
    let (_, trailers_rx) = wit_future::new(|| Ok(None));
    // The second result tells whether the host sent the response; not needed.
    let (response, _sent) = Response::new(fields, Some(body_rx), trailers_rx);
    response.set_status_code(status).expect("valid status");
    (response, body_tx)
}

/// A text/plain response with a fixed body.
fn text(status: u16, body: &str) -> Response {
    let (response, body_tx) = streaming(status, &[("content-type", b"text/plain")]);
    send_all(body_tx, body.as_bytes().to_vec());
    response
}

/// Writes `bytes` to the body in a task of its own, then ends the body.
fn send_all(mut body_tx: StreamWriter<u8>, bytes: Vec<u8>) {
    spawn_local(async move {
        body_tx.write_all(bytes).await;
    });
}

/// POST /echo: each chunk read from the request body is written to the
/// response body before the next one is read.
fn echo(request: Request) -> Response {
    let content_type = request.get_headers().get("content-type");
    let headers: Vec<(&str, &[u8])> = content_type.first().map(|v| ("content-type", v.as_slice())).into_iter().collect();
    // `done` reports to the host how handling the body went: its default,
    // Ok(()), when the writer is dropped at the end of the task below.
    let (done_tx, done_rx) = wit_future::new(|| Ok(()));
    let (mut body_rx, _trailers) = Request::consume_body(request, done_rx);
    let (response, mut body_tx) = streaming(200, &headers);
    spawn_local(async move {
        let _done_tx = done_tx;
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            let (result, chunk) = body_rx.read(buf).await;
            match result {
                StreamResult::Complete(_) => {
                    // write_all gives back what it could not write: the
                    // client is gone.
                    let mut rest = body_tx.write_all(chunk).await;
                    if !rest.is_empty() {
                        break;
                    }
                    rest.reserve(64 * 1024);
                    buf = rest;
                }
                StreamResult::Dropped | StreamResult::Cancelled => break,
            }
        }
    });
    response
}

/// GET /fetch?url=U&n=N: N requests to U one after the other (default 1);
/// the last answer, or the first error, with the number of the request
/// that failed.
async fn fetch_n(query: &str) -> Result<(u16, Vec<u8>), String> {
    let url = query_value(query, "url").unwrap_or_default();
    let n = param(query, "n").unwrap_or(1).max(1);
    let mut last = (0, Vec::new());
    for i in 1..=n {
        last = fetch(url.clone()).await.map_err(|e| format!("request {i}: {e:?}"))?;
    }
    Ok(last)
}

/// Sends a GET to `url` and reads the whole answer.
async fn fetch(url: String) -> Result<(u16, Vec<u8>), ErrorCode> {
    let bad = || ErrorCode::HttpRequestUriInvalid;
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (_, trailers_rx) = wit_future::new(|| Ok(None));
    let (request, _sent) = Request::new(Fields::new(), None, trailers_rx, None);
    request.set_scheme(Some(&Scheme::Http)).map_err(|()| bad())?;
    request.set_authority(Some(authority)).map_err(|()| bad())?;
    request.set_path_with_query(Some(path)).map_err(|()| bad())?;
    let response = client::send(request).await?;
    let status = response.get_status_code();
    let (_, done_rx) = wit_future::new(|| Ok(()));
    let (body_rx, trailers_rx): (StreamReader<u8>, _) = Response::consume_body(response, done_rx);
    let body = body_rx.collect().await;
    // The trailers future also carries an error that cut the body short.
    trailers_rx.await?;
    Ok((status, body))
}

/// The raw value of `key` in a query string (no percent-decoding).
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|p| p.strip_prefix(key)?.strip_prefix('=')).map(str::to_string)
}

/// A numeric query parameter.
fn param(query: &str, key: &str) -> Option<u64> {
    query_value(query, key)?.parse().ok()
}
