//! wasi:http plumbing: reading a body (at most MAX_INPUT bytes), fetching a
//! URL (a subrequest), answering with JSON or a streamed body.
use std::io::{BufWriter, Write};

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, OutgoingResponse, ResponseOutparam, Scheme,
};
use wasip2::io::streams::{OutputStream, StreamError};

use crate::Fail;

/// Larger request bodies or fetched images are refused (413).
pub const MAX_INPUT: usize = 16 << 20;

pub fn read_body(body: IncomingBody) -> Result<Vec<u8>, Fail> {
    let stream = body.stream().map_err(|_| Fail::bad("cannot read the body".into()))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                out.extend_from_slice(&chunk);
                if out.len() > MAX_INPUT {
                    return Err(Fail::too_large(format!("the image is above {} MiB", MAX_INPUT >> 20)));
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(Fail::bad(format!("reading the body: {}", e.to_debug_string())));
            }
        }
    }
    drop(stream);
    IncomingBody::finish(body);
    Ok(out)
}

/// GET `url` (http or https) and its body; any failure is a 502.
pub fn fetch(url: &str) -> Result<Vec<u8>, Fail> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("http://") {
        (Scheme::Http, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else {
        return Err(Fail::bad(format!("url must be http:// or https://, got '{url}'")));
    };
    let (authority, path) = rest.find(['/', '?']).map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    if authority.is_empty() {
        return Err(Fail::bad(format!("url has no host: '{url}'")));
    }
    let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
    let req = OutgoingRequest::new(Fields::new());
    let invalid = |what: &str| Fail::bad(format!("url: invalid {what} in '{url}'"));
    req.set_method(&Method::Get).map_err(|_| invalid("method"))?;
    req.set_scheme(Some(&scheme)).map_err(|_| invalid("scheme"))?;
    req.set_authority(Some(authority)).map_err(|_| invalid("host"))?;
    req.set_path_with_query(Some(&path)).map_err(|_| invalid("path"))?;
    let failed = |why: String| Fail::new(502, "fetch-failed", format!("fetching {url}: {why}"));
    let future = outgoing_handler::handle(req, None).map_err(|e| failed(format!("{e:?}")))?;
    let response = loop {
        match future.get() {
            Some(r) => break r,
            None => future.subscribe().block(),
        }
    };
    let response = match response {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(failed(format!("{e:?}"))),
        Err(()) => return Err(failed("no response".into())),
    };
    let status = response.status();
    if !(200..300).contains(&status) {
        return Err(failed(format!("status {status}")));
    }
    let body = response.consume().map_err(|_| failed("no body".into()))?;
    read_body(body).map_err(|e| if e.status == 413 { e } else { failed(e.message) })
}

fn headers(content_type: &str) -> Fields {
    Fields::from_list(&[("content-type".to_string(), content_type.as_bytes().to_vec())]).expect("valid headers")
}

pub fn send_json(out: ResponseOutparam, status: u16, json: &str) {
    let response = OutgoingResponse::new(headers("application/json"));
    response.set_status_code(status).expect("a valid status");
    let body = response.body().expect("response body");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = body.write().expect("response body stream");
    // The client may be gone; nothing to do about it then.
    let _ = stream.write_all(json.as_bytes()).and_then(|_| Write::flush(&mut stream));
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

/// A 200 with `content_type`; `write` streams the body (64 KiB at a time).
/// An error while writing leaves the body unfinished: the client sees a
/// truncated response, not a wrong one.
pub fn send_stream<E>(
    out: ResponseOutparam,
    content_type: &str,
    write: impl FnOnce(&mut BufWriter<&mut OutputStream>) -> Result<(), E>,
) -> Result<(), E> {
    let response = OutgoingResponse::new(headers(content_type));
    let body = response.body().expect("response body");
    ResponseOutparam::set(out, Ok(response));
    let mut stream = body.write().expect("response body stream");
    let mut w = BufWriter::with_capacity(64 * 1024, &mut stream);
    let result = write(&mut w);
    let flushed = w.flush().is_ok();
    drop(w);
    drop(stream);
    if result.is_ok() && flushed {
        let _ = OutgoingBody::finish(body, None);
    }
    result
}
