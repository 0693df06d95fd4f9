//! Decoding under limits, resizing, encoding into a writer.
use std::io::{Cursor, Write};

use image::codecs::{jpeg::JpegEncoder, png, png::PngEncoder, webp::WebPEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};

use crate::Fail;
use crate::params::{Fit, Format, MAX_SIDE, Params};

/// What one decode may allocate: a 4096x4096 RGBA image is 64 MiB.
const MAX_DECODE_ALLOC: u64 = 96 << 20;
// Triangle (bilinear, widened when shrinking): close to Lanczos for
// thumbnails at a fraction of its CPU.
const FILTER: FilterType = FilterType::Triangle;

pub fn decode(bytes: &[u8]) -> Result<(DynamicImage, Format), Fail> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| Fail::bad(e.to_string()))?;
    let format = match reader.format() {
        Some(ImageFormat::Jpeg) => Format::Jpeg,
        Some(ImageFormat::Png) => Format::Png,
        Some(ImageFormat::WebP) => Format::WebP,
        _ => return Err(Fail::unsupported("the body is not a JPEG, PNG or WebP image".into())),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = reader;
    reader.limits(limits);
    match reader.decode() {
        Ok(img) => Ok((img, format)),
        Err(ImageError::Limits(e)) => {
            Err(Fail::too_large(format!("the image is above {MAX_SIDE}x{MAX_SIDE} or too big to decode: {e}")))
        }
        Err(ImageError::Unsupported(e)) => Err(Fail::unsupported(e.to_string())),
        Err(e) => Err(Fail::bad(format!("cannot decode the image: {e}"))),
    }
}

pub fn resize(img: DynamicImage, p: &Params) -> DynamicImage {
    let (sw, sh) = (img.width() as u64, img.height() as u64);
    let scaled = |given: u32, from: u64, other: u64| ((other * given as u64 + from / 2) / from).max(1) as u32;
    match (p.width, p.height) {
        (None, None) => img,
        (Some(w), None) => img.resize_exact(w, scaled(w, sw, sh).min(MAX_SIDE), FILTER),
        (None, Some(h)) => img.resize_exact(scaled(h, sh, sw).min(MAX_SIDE), h, FILTER),
        (Some(w), Some(h)) => match p.fit {
            Fit::Contain => img.resize(w, h, FILTER),
            Fit::Cover => img.resize_to_fill(w, h, FILTER),
            Fit::Fill => img.resize_exact(w, h, FILTER),
        },
    }
}

pub fn encode(img: &DynamicImage, format: Format, quality: u8, out: &mut impl Write) -> Result<(), ImageError> {
    match format {
        // JPEG has no alpha; 16-bit samples become 8-bit.
        Format::Jpeg => match img {
            DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => {
                JpegEncoder::new_with_quality(out, quality).encode_image(img)
            }
            _ => JpegEncoder::new_with_quality(out, quality).encode_image(&DynamicImage::ImageRgb8(img.to_rgb8())),
        },
        Format::Png => {
            let enc = PngEncoder::new_with_quality(out, png::CompressionType::Fast, png::FilterType::Adaptive);
            img.write_with_encoder(enc)
        }
        // image's WebP encoder is lossless only; 8-bit samples.
        Format::WebP => match img {
            DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageRgb8(_)
            | DynamicImage::ImageRgba8(_) => img.write_with_encoder(WebPEncoder::new_lossless(out)),
            _ if img.color().has_alpha() => {
                DynamicImage::ImageRgba8(img.to_rgba8()).write_with_encoder(WebPEncoder::new_lossless(out))
            }
            _ => DynamicImage::ImageRgb8(img.to_rgb8()).write_with_encoder(WebPEncoder::new_lossless(out)),
        },
    }
}
