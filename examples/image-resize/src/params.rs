//! The query string: `w`, `h`, `fit`, `format`, `quality`, `url`.
use crate::Fail;

/// Requested dimensions above this are refused (413), as are inputs above it.
pub const MAX_SIDE: u32 = 4096;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fit {
    /// Inside w x h, aspect ratio kept (the default).
    Contain,
    /// Covers w x h, aspect ratio kept, the overflow cropped (centred).
    Cover,
    /// Exactly w x h, stretched.
    Fill,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }
}

pub struct Params {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub format: Option<Format>,
    pub quality: u8,
    pub url: Option<String>,
}

pub fn parse(query: &str) -> Result<Params, Fail> {
    let mut p = Params { width: None, height: None, fit: Fit::Contain, format: None, quality: 80, url: None };
    for pair in query.split('&').filter(|s| !s.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(raw).ok_or_else(|| Fail::bad(format!("{key}: bad percent-encoding")))?;
        match key {
            "w" => p.width = Some(side(key, &value)?),
            "h" => p.height = Some(side(key, &value)?),
            "fit" => {
                p.fit = match value.as_str() {
                    "contain" => Fit::Contain,
                    "cover" => Fit::Cover,
                    "fill" => Fit::Fill,
                    _ => return Err(Fail::bad(format!("fit must be contain, cover or fill, got '{value}'"))),
                }
            }
            "format" => {
                p.format = Some(match value.as_str() {
                    "jpeg" | "jpg" => Format::Jpeg,
                    "png" => Format::Png,
                    "webp" => Format::WebP,
                    _ => return Err(Fail::bad(format!("format must be jpeg, png or webp, got '{value}'"))),
                })
            }
            "quality" => {
                p.quality = match value.parse::<u8>() {
                    Ok(q @ 1..=100) => q,
                    _ => return Err(Fail::bad(format!("quality must be 1..100, got '{value}'"))),
                }
            }
            "url" => p.url = Some(value),
            _ => return Err(Fail::bad(format!("unknown parameter '{key}' (w, h, fit, format, quality, url)"))),
        }
    }
    Ok(p)
}

fn side(key: &str, value: &str) -> Result<u32, Fail> {
    match value.parse::<u64>() {
        Ok(0) | Err(_) => Err(Fail::bad(format!("{key} must be a positive integer, got '{value}'"))),
        Ok(n) if n > MAX_SIDE as u64 => Err(Fail::too_large(format!("{key}={n} is above {MAX_SIDE}"))),
        Ok(n) => Ok(n as u32),
    }
}

/// `%XX` escapes decoded; `+` stays a `+` (encode a space as %20).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
