//! image-resize: resizes and converts JPEG, PNG and WebP images, from the
//! request body (POST /) or from a URL (GET /?url=..., a wasi:http
//! subrequest). See README.md for the parameters, limits and CPU it needs.
mod http;
mod image_ops;
mod params;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{IncomingRequest, Method, ResponseOutparam};

/// An answer other than the image: a status and a JSON error body.
#[derive(Debug)]
pub struct Fail {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Fail {
    pub fn new(status: u16, code: &'static str, message: String) -> Fail {
        Fail { status, code, message }
    }
    pub fn bad(message: String) -> Fail {
        Fail::new(400, "bad-request", message)
    }
    pub fn unsupported(message: String) -> Fail {
        Fail::new(415, "unsupported-media-type", message)
    }
    pub fn too_large(message: String) -> Fail {
        Fail::new(413, "too-large", message)
    }
}

struct ImageResize;

wasip2::http::proxy::export!(ImageResize);

impl Guest for ImageResize {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let result = if path != "/" {
            Err(Fail::new(404, "not-found", format!("no {path}: the API is POST / or GET /?url=")))
        } else {
            resize(request, query)
        };
        match result {
            Ok(r) => {
                // The status is sent before the body: an encoding error can only cut it short.
                let sent = http::send_stream(out, r.format.content_type(), |w| {
                    image_ops::encode(&r.image, r.format, r.quality, w)
                });
                match sent {
                    Ok(()) => println!("{}, {} MiB memory", r.summary, memory_mib()),
                    Err(e) => println!("{}: encoding failed: {e}", r.summary),
                }
            }
            Err(f) => {
                println!("{} {}: {}", f.status, f.code, f.message);
                let body = format!("{{\"error\":\"{}\",\"message\":{}}}", f.code, json_string(&f.message));
                http::send_json(out, f.status, &body);
            }
        }
    }
}

struct Resized {
    image: image::DynamicImage,
    format: params::Format,
    quality: u8,
    summary: String,
}

// The request's image (its body or the url= fetched), decoded and resized.
fn resize(request: IncomingRequest, query: &str) -> Result<Resized, Fail> {
    let p = params::parse(query)?;
    let input = match (request.method(), &p.url) {
        (Method::Post, None) => http::read_body(request.consume().map_err(|_| Fail::bad("no body".into()))?)?,
        (Method::Get, Some(url)) => http::fetch(url)?,
        (Method::Get, None) => return Err(Fail::bad("POST an image to /, or GET /?url=<image URL>".into())),
        (Method::Post, Some(_)) => return Err(Fail::bad("url= is for GET; POST sends the image itself".into())),
        _ => return Err(Fail::new(405, "method-not-allowed", "POST / or GET /?url=".into())),
    };
    let (img, in_format) = image_ops::decode(&input)?;
    drop(input);
    let (iw, ih) = (img.width(), img.height());
    let img = image_ops::resize(img, &p);
    let format = p.format.unwrap_or(in_format);
    let summary = format!("{iw}x{ih} {in_format:?} -> {}x{} {format:?}", img.width(), img.height());
    Ok(Resized { image: img, format, quality: p.quality, summary })
}

fn memory_mib() -> usize {
    core::arch::wasm32::memory_size(0) * 65536 >> 20
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
