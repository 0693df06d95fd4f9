//! The guest's response head, checked before any of it reaches the client:
//! a final status, headers within the documented limits (count, total bytes,
//! one line), and none of the headers that belong to the platform or to the
//! connection.

/// Response headers a guest may send (PRODUCT.md §3 has the byte limit).
pub(crate) const MAX_RESPONSE_HEADERS: usize = 256;
/// One header line, `name: value\r\n`. The HTTP layer cannot send a longer
/// one (Beast stores field lengths in 16 bits).
pub(crate) const MAX_RESPONSE_HEADER_LINE: usize = 64 * 1024;

/// Headers a guest does not get to set: the platform's own (`fn0-*`: a guest
/// must not forge `fn0-error` or another request's id) and the hop-by-hop
/// ones, which describe the node's connection to the client, not the
/// response (RFC 9110 §7.6.1). Content-Length stays: the node frames the
/// body with it.
pub(crate) fn dropped(name: &str) -> bool {
    const HOP_BY_HOP: [&str; 7] =
        ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];
    // http::HeaderName is always lowercase.
    name.starts_with("fn0-") || HOP_BY_HOP.contains(&name)
}

/// Bytes of one header as sent: `name: value\r\n`.
fn line_bytes(name: &http::HeaderName, value: &http::HeaderValue) -> usize {
    name.as_str().len() + value.len() + 4
}

/// Why the head cannot be sent, if it cannot: the status is not a final one
/// (1xx is informational, 600 and above do not exist), or the headers are
/// over a limit. Counted as the guest sent them, before any are dropped.
pub(crate) fn check(status: http::StatusCode, headers: &http::HeaderMap, max_bytes: u64) -> Result<(), String> {
    let code = status.as_u16();
    if !(200..=599).contains(&code) {
        return Err(format!("the guest answered with status {code}; a final response has a status from 200 to 599"));
    }
    if headers.len() > MAX_RESPONSE_HEADERS {
        return Err(format!(
            "the guest's response has {} headers, over the limit of {MAX_RESPONSE_HEADERS}",
            headers.len()
        ));
    }
    let mut total = 0u64;
    for (name, value) in headers {
        let line = line_bytes(name, value);
        if line > MAX_RESPONSE_HEADER_LINE {
            return Err(format!(
                "the guest's response header `{name}` is {line} bytes, over the limit of {} for one header",
                crate::failure::bytes(MAX_RESPONSE_HEADER_LINE as u64)
            ));
        }
        total += line as u64;
    }
    if total > max_bytes {
        let (total, max) = (crate::failure::bytes(total), crate::failure::bytes(max_bytes));
        return Err(format!("the guest's response headers are {total}, over the limit of {max}"));
    }
    Ok(())
}
