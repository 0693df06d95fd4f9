//! The S3 code store's client: a blocking C interface over `object_store`'s
//! S3 client (SigV4, retries, conditional put) for src/store/s3_store.cc.
//! Each handle owns a small tokio runtime of its own (never the guests'
//! runtime); C++ threads call in and block until the request is done.
//! Failures carry a kind (`FN0_S3_ERROR_*`) so C++ can tell "unreachable",
//! "credentials refused" and "no such bucket" apart, and a message that
//! names the bucket and the endpoint.
use crate::bytes::fn0_bytes_t;
use crate::error::fn0_engine_error_t;
use crate::ffi::guard_kind;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path;
use futures::TryStreamExt;
use object_store::{
    BackoffConfig, ClientOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig,
};
use std::time::Duration;

pub const FN0_S3_ERROR_OTHER: u32 = 0;
pub const FN0_S3_ERROR_UNAVAILABLE: u32 = 1;
pub const FN0_S3_ERROR_DENIED: u32 = 2;
pub const FN0_S3_ERROR_NO_BUCKET: u32 = 3;

/// One bucket on one S3 endpoint.
#[allow(non_camel_case_types)]
pub struct fn0_s3_t {
    client: AmazonS3,
    runtime: tokio::runtime::Runtime,
    bucket: String,
    endpoint: String, // for messages: the endpoint or "AWS S3 (region)"
}

type Failure = (u32, String);

/// Opens a handle on `bucket` at `endpoint` (NULL / empty: AWS itself).
/// Credentials and region come from the AWS_* environment variables. Does
/// not contact the server.
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_open(
    bucket: *const u8,
    bucket_len: usize,
    endpoint: *const u8,
    endpoint_len: usize,
    out: *mut *mut fn0_s3_t,
) -> *mut fn0_engine_error_t {
    guard_kind(|| {
        let bucket = utf8(bucket, bucket_len, "bucket name")?;
        let endpoint = if endpoint.is_null() { String::new() } else { utf8(endpoint, endpoint_len, "endpoint")? };
        *out = Box::into_raw(Box::new(open(bucket, endpoint)?));
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn fn0_s3_delete(s3: *mut fn0_s3_t) {
    if !s3.is_null() {
        drop(Box::from_raw(s3));
    }
}

/// The kind (`FN0_S3_ERROR_*`) of an error returned by a `fn0_s3_*` call.
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_error_kind(err: *const fn0_engine_error_t) -> u32 {
    (*err).kind()
}

/// Writes `data` under `key` unless an object is there already (then
/// succeeds without rewriting it).
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_put(
    s3: *const fn0_s3_t,
    key: *const u8,
    key_len: usize,
    data: *const u8,
    data_len: usize,
) -> *mut fn0_engine_error_t {
    guard_kind(|| {
        let s3 = &*s3;
        let path = s3.path(key, key_len)?;
        let payload = PutPayload::from(slice(data, data_len).to_vec());
        s3.runtime.block_on(async {
            // Most puts of an existing object are skipped without sending it.
            // An HTTP error answer falls through: a HEAD answer has no body,
            // the PUT's error names the problem (NoSuchBucket,
            // SignatureDoesNotMatch). No answer at all is reported as is.
            match s3.client.head(&path).await {
                Ok(_) => return Ok(()),
                Err(e) if http_kind(&e).is_some() => return Err(s3.classify("check", &path, e)),
                Err(_) => {}
            }
            let create = PutOptions { mode: PutMode::Create, ..Default::default() };
            match s3.client.put_opts(&path, payload.clone(), create).await {
                Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                // A server without conditional writes: the key is content
                // addressed, so writing the same bytes again is harmless.
                Err(e) if s3_code(&e).as_deref() == Some("NotImplemented") => {
                    s3.client.put(&path, payload).await.map(|_| ()).map_err(|e| s3.classify("write", &path, e))
                }
                Err(e) => Err(s3.classify("write", &path, e)),
            }
        })
    })
}

/// Reads `key`: `*found` = 1 and the bytes in `*out` (free with
/// fn0_bytes_delete), or `*found` = 0 when there is no such object.
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_get(
    s3: *const fn0_s3_t,
    key: *const u8,
    key_len: usize,
    found: *mut u32,
    out: *mut fn0_bytes_t,
) -> *mut fn0_engine_error_t {
    *found = 0;
    *out = fn0_bytes_t::empty();
    guard_kind(|| {
        let s3 = &*s3;
        let path = s3.path(key, key_len)?;
        let bytes = s3.runtime.block_on(async {
            let result = match s3.client.get(&path).await {
                Ok(r) => r,
                Err(e) if is_missing_object(&e) => return Ok(None),
                Err(e) => return Err(s3.classify("read", &path, e)),
            };
            result.bytes().await.map(Some).map_err(|e| s3.classify("read", &path, e))
        })?;
        if let Some(bytes) = bytes {
            *found = 1;
            *out = fn0_bytes_t::from_vec(bytes.to_vec());
        }
        Ok(())
    })
}

/// `*exists` = 1 if there is an object under `key`, else 0. (A HEAD answer
/// carries no error body: a missing bucket reads as "no object" here, so
/// the store's start-up check probes the bucket with a write.)
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_exists(
    s3: *const fn0_s3_t,
    key: *const u8,
    key_len: usize,
    exists: *mut u32,
) -> *mut fn0_engine_error_t {
    *exists = 0;
    guard_kind(|| {
        let s3 = &*s3;
        let path = s3.path(key, key_len)?;
        let there = s3.runtime.block_on(async {
            match s3.client.head(&path).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(s3.classify("check", &path, e)),
            }
        })?;
        *exists = there as u32;
        Ok(())
    })
}

/// Deletes the object under `key` (no error when there is none).
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_remove(s3: *const fn0_s3_t, key: *const u8, key_len: usize) -> *mut fn0_engine_error_t {
    guard_kind(|| {
        let s3 = &*s3;
        let path = s3.path(key, key_len)?;
        s3.runtime.block_on(async {
            match s3.client.delete(&path).await {
                Ok(()) => Ok(()),
                Err(e) if is_missing_object(&e) => Ok(()),
                Err(e) => Err(s3.classify("delete", &path, e)),
            }
        })
    })
}

/// Lists every object under the folder `prefix` (all pages), as text in
/// `*out` (free with fn0_bytes_delete): a line "KEY\tSIZE\tLAST_MODIFIED_MS"
/// per object. The garbage collector (src/gc/) measures its grace period
/// from LAST_MODIFIED_MS. A key with a tab or a newline cannot be written
/// on one line and is left out (fn0 never writes one).
#[no_mangle]
pub unsafe extern "C" fn fn0_s3_list(
    s3: *const fn0_s3_t,
    prefix: *const u8,
    prefix_len: usize,
    out: *mut fn0_bytes_t,
) -> *mut fn0_engine_error_t {
    *out = fn0_bytes_t::empty();
    guard_kind(|| {
        let s3 = &*s3;
        let path = s3.path(prefix, prefix_len)?;
        let metas: Vec<ObjectMeta> = s3.runtime.block_on(async {
            s3.client.list(Some(&path)).try_collect().await.map_err(|e| s3.classify("list", &path, e))
        })?;
        let mut text = String::new();
        for m in metas {
            let key = m.location.as_ref();
            if key.contains('\t') || key.contains('\n') {
                continue;
            }
            text.push_str(&format!("{key}\t{}\t{}\n", m.size, m.last_modified.timestamp_millis()));
        }
        *out = fn0_bytes_t::from_vec(text.into_bytes());
        Ok(())
    })
}

fn open(bucket: String, endpoint: String) -> Result<fn0_s3_t, Failure> {
    // reqwest is built without a bundled crypto provider; use ring, the
    // one the rest of the adapter uses (a no-op if one is installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let where_ = if endpoint.is_empty() { "AWS S3".to_string() } else { endpoint.clone() };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if env("AWS_ACCESS_KEY_ID").is_none() || env("AWS_SECRET_ACCESS_KEY").is_none() {
        return Err((
            FN0_S3_ERROR_DENIED,
            format!(
                "no S3 credentials for bucket '{bucket}' at {where_}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ),
        ));
    }
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".into());
    // A server that went away is reported within seconds, not minutes: 2 s
    // to connect, 5 s of silence from a server that accepted but hangs,
    // 30 s for a whole request (a big object).
    let options = ClientOptions::new()
        .with_allow_http(endpoint.starts_with("http://"))
        .with_connect_timeout(Duration::from_secs(2))
        .with_read_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(30));
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(3),
    };
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&bucket)
        .with_region(&region)
        .with_virtual_hosted_style_request(false)
        .with_client_options(options)
        .with_retry(retry);
    if !endpoint.is_empty() {
        builder = builder.with_endpoint(&endpoint);
    }
    let client = builder
        .build()
        .map_err(|e| (FN0_S3_ERROR_OTHER, format!("cannot set up S3 bucket '{bucket}' at {where_}: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fn0-s3")
        .enable_all()
        .build()
        .map_err(|e| (FN0_S3_ERROR_OTHER, format!("cannot start the S3 client's thread: {e}")))?;
    Ok(fn0_s3_t { client, runtime, bucket, endpoint: where_ })
}

impl fn0_s3_t {
    unsafe fn path(&self, key: *const u8, key_len: usize) -> Result<Path, Failure> {
        let key = utf8(key, key_len, "object key")?;
        Path::parse(&key).map_err(|e| (FN0_S3_ERROR_OTHER, format!("invalid object key '{key}': {e}")))
    }

    /// Turns a client error into a kind and a message a user can act on.
    fn classify(&self, what: &str, path: &Path, e: object_store::Error) -> Failure {
        let (bucket, at) = (&self.bucket, &self.endpoint);
        let code = s3_code(&e);
        // The server's own words when it sent an S3 error, not the whole XML.
        let detail = match (&code, s3_field(&e, "Message")) {
            (Some(_), Some(m)) => m,
            _ => format!("{e}"),
        };
        if let Some(kind) = http_kind(&e) {
            let why = match kind {
                HttpErrorKind::Connect => connect_reason(&e),
                HttpErrorKind::Timeout => {
                    "no answer in time (2 s to connect, 5 s between reads, 30 s per request)".to_string()
                }
                _ => root_cause(&e),
            };
            if matches!(kind, HttpErrorKind::Connect | HttpErrorKind::Timeout | HttpErrorKind::Interrupted) {
                return (FN0_S3_ERROR_UNAVAILABLE, format!("cannot reach the S3 server at {at}: {why}"));
            }
        }
        match code.as_deref() {
            Some("NoSuchBucket") => {
                return (FN0_S3_ERROR_NO_BUCKET, format!("bucket '{bucket}' does not exist at {at}"));
            }
            // XAdminUserNotFound: versitygw's answer (a 404) to an unknown access key.
            Some(
                c @ ("SignatureDoesNotMatch"
                | "InvalidAccessKeyId"
                | "AccessDenied"
                | "InvalidSecurity"
                | "ExpiredToken"
                | "InvalidToken"
                | "AuthorizationHeaderMalformed"
                | "XAdminUserNotFound"),
            ) => {
                let what_failed = if c == "AccessDenied" { "refused access" } else { "rejected the credentials" };
                return (
                    FN0_S3_ERROR_DENIED,
                    format!("S3 {what_failed} ({c}) for bucket '{bucket}' at {at}: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION"),
                );
            }
            _ => {}
        }
        match e {
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => (
                FN0_S3_ERROR_DENIED,
                format!("S3 refused access to bucket '{bucket}' at {at}: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions"),
            ),
            _ => {
                let code = code.map(|c| format!(" ({c})")).unwrap_or_default();
                (FN0_S3_ERROR_OTHER, format!("cannot {what} '{path}' in bucket '{bucket}' at {at}{code}: {detail}"))
            }
        }
    }
}

/// A 404 that is about the object (not the bucket, not an unknown user).
fn is_missing_object(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. }) && matches!(s3_code(e).as_deref(), None | Some("NoSuchKey"))
}

/// The S3 error code (`<Code>` of the XML error body) somewhere in the
/// error's chain, if the server sent one.
fn s3_code(e: &object_store::Error) -> Option<String> {
    s3_field(e, "Code")
}

fn s3_field(e: &object_store::Error, tag: &str) -> Option<String> {
    let text = chain(e).map(|s| s.to_string()).collect::<Vec<_>>().join(" ");
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&close)?;
    Some(text[start..start + len].trim().to_string())
}

fn http_kind(e: &object_store::Error) -> Option<HttpErrorKind> {
    chain(e).find_map(|s| s.downcast_ref::<HttpError>()).map(|h| h.kind())
}

fn connect_reason(e: &object_store::Error) -> String {
    let io = chain(e).find_map(|s| s.downcast_ref::<std::io::Error>());
    match io.map(|io| io.kind()) {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".into(),
        Some(std::io::ErrorKind::TimedOut) => "connection timed out".into(),
        _ => root_cause(e),
    }
}

fn root_cause(e: &object_store::Error) -> String {
    chain(e).last().map(|s| s.to_string()).unwrap_or_default()
}

fn chain<'a>(e: &'a object_store::Error) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |s| s.source())
}

unsafe fn slice<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data, len)
    }
}

unsafe fn utf8(data: *const u8, len: usize, what: &str) -> Result<String, Failure> {
    String::from_utf8(slice(data, len).to_vec()).map_err(|_| (FN0_S3_ERROR_OTHER, format!("the {what} is not UTF-8")))
}
