//! kv-rust: a test guest that puts every wasi:keyvalue@0.2.0-draft call
//! behind a URL, so the tests drive the store through real HTTP.
//!
//!   GET    /get?key=K            the value (bytes), or 404
//!   PUT    /set?key=K            stores the request body; 204
//!   DELETE /delete?key=K         204
//!   GET    /exists?key=K         "true" / "false"
//!   GET    /keys                 every key, following the cursor: JSON list
//!   POST   /incr?key=K&by=N      the new number
//!   POST   /set-many?keys=a,b    sets each key to "value-of-<key>"; 204
//!   GET    /get-many?keys=a,b    JSON: {key: value or null}
//!   DELETE /delete-many?keys=a,b 204
//!   GET    /count                increments "visits" and answers it
//!   POST   /ops?n=N              N increments of "ops": the first error, if any
//!   GET    /selftest             a fixed sequence of calls in one request,
//!                                their results as JSON (compared with
//!                                `wasmtime serve -S keyvalue`)
//! `&bucket=NAME` opens a shared bucket instead of the function's own. A
//! store error answers 500 with {"error": "..."} (its Debug form).
use std::io::Write as _;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};
use wasip2::io::streams::StreamError;

wit_bindgen::generate!({ path: "wit", world: "wasi:keyvalue/imports", generate_all });

use wasi::keyvalue::{atomics, batch, store};

struct Handler;
wasip2::http::proxy::export!(Handler);

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(target: &str) -> Self {
        let q = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.to_string(), decode(v))
                })
                .collect(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<String> {
        self.get("keys").unwrap_or("").split(',').filter(|k| !k.is_empty()).map(String::from).collect()
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(n) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(n);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let path = target.split('?').next().unwrap_or("/").to_string();
        let q = Query::parse(&target);
        let method = request.method();
        let body = if matches!(method, Method::Put | Method::Post) { read_body(request) } else { Vec::new() };
        match run(&method, &path, &q, body) {
            Ok((status, bytes)) => send(out, status, &bytes),
            Err(e) => send(out, 500, serde_json::json!({ "error": format!("{e:?}") }).to_string().as_bytes()),
        }
    }
}

fn run(method: &Method, path: &str, q: &Query, body: Vec<u8>) -> Result<(u16, Vec<u8>), store::Error> {
    let bucket = store::open(q.get("bucket").unwrap_or("default"))?;
    let key = q.get("key").unwrap_or("");
    Ok(match (method, path) {
        (Method::Get, "/get") => match bucket.get(key)? {
            Some(v) => (200, v),
            None => (404, b"no such key".to_vec()),
        },
        (Method::Put, "/set") => {
            bucket.set(key, &body)?;
            (204, Vec::new())
        }
        (Method::Delete, "/delete") => {
            bucket.delete(key)?;
            (204, Vec::new())
        }
        (Method::Get, "/exists") => (200, bucket.exists(key)?.to_string().into_bytes()),
        (Method::Get, "/keys") => {
            let mut keys = Vec::new();
            let mut cursor = None;
            loop {
                let page = bucket.list_keys(cursor)?;
                keys.extend(page.keys);
                match page.cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            (200, serde_json::to_vec(&keys).unwrap())
        }
        (Method::Post, "/incr") => {
            let by = q.get("by").and_then(|b| b.parse().ok()).unwrap_or(1);
            (200, atomics::increment(&bucket, key, by)?.to_string().into_bytes())
        }
        (Method::Post, "/set-many") => {
            let pairs: Vec<(String, Vec<u8>)> =
                q.keys().into_iter().map(|k| (k.clone(), format!("value-of-{k}").into_bytes())).collect();
            batch::set_many(&bucket, &pairs)?;
            (204, Vec::new())
        }
        (Method::Get, "/get-many") => {
            let keys = q.keys();
            let got = batch::get_many(&bucket, &keys)?;
            let mut map = serde_json::Map::new();
            for (k, v) in keys.iter().zip(got) {
                let v = v.map(|(_, v)| serde_json::Value::String(String::from_utf8_lossy(&v).into_owned()));
                map.insert(k.clone(), v.unwrap_or(serde_json::Value::Null));
            }
            (200, serde_json::to_vec(&map).unwrap())
        }
        (Method::Delete, "/delete-many") => {
            batch::delete_many(&bucket, &q.keys())?;
            (204, Vec::new())
        }
        (Method::Get, "/count") => (200, atomics::increment(&bucket, "visits", 1)?.to_string().into_bytes()),
        (Method::Post, "/ops") => {
            let n: u64 = q.get("n").and_then(|b| b.parse().ok()).unwrap_or(1);
            for i in 0..n {
                if let Err(e) = atomics::increment(&bucket, "ops", 1) {
                    return Ok((200, format!("{i}: {e:?}").into_bytes()));
                }
            }
            (200, b"ok".to_vec())
        }
        (Method::Get, "/selftest") => (200, selftest(&bucket)?.to_string().into_bytes()),
        _ => (404, b"not found".to_vec()),
    })
}

fn selftest(b: &store::Bucket) -> Result<serde_json::Value, store::Error> {
    let text = |v: Option<Vec<u8>>| v.map(|v| String::from_utf8_lossy(&v).into_owned());
    b.set("a", b"1")?;
    let get_a = text(b.get("a")?);
    let exists = (b.exists("a")?, b.exists("b")?);
    let incr = (atomics::increment(b, "c", 3)?, atomics::increment(b, "c", 3)?);
    batch::set_many(b, &[("d".into(), b"4".to_vec()), ("e".into(), b"5".to_vec())])?;
    let many: Vec<Option<(String, String)>> = batch::get_many(b, &["a".into(), "c".into(), "zz".into()])?
        .into_iter()
        .map(|e| e.map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())))
        .collect();
    b.delete("a")?;
    batch::delete_many(b, &["d".into()])?;
    let mut keys = b.list_keys(None)?.keys;
    keys.sort();
    Ok(serde_json::json!({
        "get_a": get_a, "exists": exists, "incr": incr, "many": many,
        "after_delete": b.exists("a")?, "keys": keys, "missing": text(b.get("nope")?),
    }))
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
