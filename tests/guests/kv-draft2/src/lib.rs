//! kv-draft2: a test guest for wasi:keyvalue@0.2.0-draft2 (Spin's version):
//! compare-and-swap, the signed increment and string cursors, behind URLs.
//!
//!   POST /cas-add?key=K&by=N  adds N to the number under K with a
//!                             compare-and-swap loop: "<sum> <retries>"
//!   POST /cas-create?key=K    swaps the body in only if K is missing:
//!                             "created" or "exists: <value>"
//!   POST /cas-stale?key=K     reads K into a handle, sets K to "other",
//!                             then swaps "mine" with the stale handle:
//!                             "lost: <value now>" or "won"
//!   POST /incr?key=K&by=N     the signed increment: the new number
//!   GET  /get?key=K           the value, or 404
//!   GET  /keys                every key, following the string cursor: JSON
//! `&bucket=NAME` opens a shared bucket instead of the function's own. A
//! store error answers 500 with {"error": "..."} (its Debug form).
use std::io::Write as _;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};
use wasip2::io::streams::StreamError;

wit_bindgen::generate!({ path: "wit", world: "wasi:keyvalue/imports", generate_all });

use wasi::keyvalue::atomics::{self, Cas, CasError};
use wasi::keyvalue::store;

struct Handler;
wasip2::http::proxy::export!(Handler);

fn param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

impl Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let path = target.split('?').next().unwrap_or("/").to_string();
        let method = request.method();
        let body = if matches!(method, Method::Put | Method::Post) { read_body(request) } else { Vec::new() };
        match run(&method, &path, &target, body) {
            Ok((status, bytes)) => send(out, status, &bytes),
            Err(e) => send(out, 500, serde_json::json!({ "error": format!("{e:?}") }).to_string().as_bytes()),
        }
    }
}

fn run(method: &Method, path: &str, target: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), store::Error> {
    let bucket = store::open(param(target, "bucket").unwrap_or(""))?;
    let key = param(target, "key").unwrap_or("");
    let by: i64 = param(target, "by").and_then(|b| b.parse().ok()).unwrap_or(1);
    Ok(match (method, path) {
        (Method::Post, "/cas-add") => {
            let mut cas = Cas::new(&bucket, key)?;
            let mut retries = 0u32;
            loop {
                let now = match cas.current()? {
                    Some(v) => String::from_utf8_lossy(&v).parse::<i64>().unwrap_or(0),
                    None => 0,
                };
                let sum = now + by;
                match atomics::swap(cas, sum.to_string().as_bytes()) {
                    Ok(()) => break (200, format!("{sum} {retries}").into_bytes()),
                    Err(CasError::CasFailed(next)) => {
                        cas = next;
                        retries += 1;
                    }
                    Err(CasError::StoreError(e)) => return Err(e),
                }
            }
        }
        (Method::Post, "/cas-create") => {
            let cas = Cas::new(&bucket, key)?;
            if let Some(v) = cas.current()? {
                return Ok((200, [b"exists: ".as_slice(), &v].concat()));
            }
            match atomics::swap(cas, &body) {
                Ok(()) => (200, b"created".to_vec()),
                Err(CasError::CasFailed(next)) => {
                    (200, [b"exists: ".as_slice(), &next.current()?.unwrap_or_default()].concat())
                }
                Err(CasError::StoreError(e)) => return Err(e),
            }
        }
        (Method::Post, "/cas-stale") => {
            let cas = Cas::new(&bucket, key)?;
            bucket.set(key, b"other")?;
            match atomics::swap(cas, b"mine") {
                Ok(()) => (200, b"won".to_vec()),
                Err(CasError::CasFailed(next)) => {
                    (200, [b"lost: ".as_slice(), &next.current()?.unwrap_or_default()].concat())
                }
                Err(CasError::StoreError(e)) => return Err(e),
            }
        }
        (Method::Post, "/incr") => (200, atomics::increment(&bucket, key, by)?.to_string().into_bytes()),
        (Method::Get, "/get") => match bucket.get(key)? {
            Some(v) => (200, v),
            None => (404, b"no such key".to_vec()),
        },
        (Method::Get, "/keys") => {
            let mut keys = Vec::new();
            let mut cursor: Option<String> = param(target, "cursor").map(String::from);
            loop {
                let page = bucket.list_keys(cursor.as_deref())?;
                keys.extend(page.keys);
                match page.cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            (200, serde_json::to_vec(&keys).unwrap())
        }
        _ => (404, b"not found".to_vec()),
    })
}

fn read_body(request: IncomingRequest) -> Vec<u8> {
    let body = request.consume().expect("request body");
    let input = body.stream().expect("request body stream");
    let mut all = Vec::new();
    loop {
        match input.blocking_read(64 * 1024) {
            Ok(chunk) => all.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => panic!("reading the request body: {e:?}"),
        }
    }
    all
}

fn send(out: ResponseOutparam, status: u16, bytes: &[u8]) {
    let headers = Fields::from_list(&[("content-type".to_string(), b"application/octet-stream".to_vec())])
        .expect("valid headers");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a valid status");
    let body = response.body().expect("response body");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = body.write().expect("response body stream");
    for chunk in bytes.chunks(4096) {
        stream.write_all(chunk).expect("write the response");
    }
    stream.blocking_flush().expect("flush the response");
    drop(stream);
    OutgoingBody::finish(body, None).expect("finish the response");
}
