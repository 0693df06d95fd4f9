//! {{name}}: an fn0 function in Rust, a standard `wasi:http/proxy` component.
//! `println!` lines show up in `fn0 logs {{name}}`.
use std::io::Write as _;

use serde_json::{Value, json};
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::io::streams::StreamError;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

// The function's key-value bucket: wasi:keyvalue@0.2.0-draft from wit/.
wit_bindgen::generate!({ path: "wit", world: "wasi:keyvalue/imports", generate_all });
use wasi::keyvalue::{atomics, store};

struct Handler;

wasip2::http::proxy::export!(Handler);

impl Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let path = target.split('?').next().unwrap_or("/");
        let method = request.method();
        println!("{} {path}", method_name(&method));
        match (method, path) {
            (Method::Get, "/") => {
                let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".into());
                let message = format!("{greeting} from {{name}}!");
                send_json(out, 200, &json!({ "message": message, "language": "rust" }));
            }
            (Method::Post, "/echo") => echo(request, out),
            (Method::Get, "/count") => match count() {
                Ok(visits) => send_json(out, 200, &json!({ "visits": visits })),
                Err(e) => send_json(out, 500, &json!({ "error": format!("{e:?}") })),
            },
            _ => send_json(out, 404, &json!({ "error": "not-found", "path": path })),
        }
    }
}

/// A counter in the function's own bucket (`fn0 kv {{name}} get visits`).
fn count() -> Result<u64, store::Error> {
    let bucket = store::open("")?;
    atomics::increment(&bucket, "visits", 1)
}

/// The request body back, chunk by chunk as it arrives, with its content-type.
fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let content_type = request
        .headers()
        .get("content-type")
        .into_iter()
        .next()
        .unwrap_or_else(|| b"application/octet-stream".to_vec());
    let body_in = request.consume().expect("request body");
    let input = body_in.stream().expect("request body stream");
    let response = OutgoingResponse::new(headers(&content_type));
    let body_out = response.body().expect("response body");
    ResponseOutparam::set(out, Ok(response));
    let mut output = body_out.write().expect("response body stream");
    loop {
        match input.blocking_read(64 * 1024) {
            Ok(chunk) => output.write_all(&chunk).expect("write the response"),
            Err(StreamError::Closed) => break,
            Err(e) => panic!("reading the request body: {e:?}"),
        }
    }
    output.blocking_flush().expect("flush the response");
    drop(output);
    drop(input);
    OutgoingBody::finish(body_out, None).expect("finish the response");
}

fn send_json(out: ResponseOutparam, status: u16, value: &Value) {
    let response = OutgoingResponse::new(headers(b"application/json"));
    response.set_status_code(status).expect("a valid status");
    let body = response.body().expect("response body");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = body.write().expect("response body stream");
    stream.write_all(value.to_string().as_bytes()).expect("write the response");
    stream.blocking_flush().expect("flush the response");
    drop(stream);
    OutgoingBody::finish(body, None).expect("finish the response");
}

fn headers(content_type: &[u8]) -> Fields {
    Fields::from_list(&[("content-type".to_string(), content_type.to_vec())]).expect("valid headers")
}

fn method_name(m: &Method) -> &str {
    match m {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(s) => s,
    }
}
