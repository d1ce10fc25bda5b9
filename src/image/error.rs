use std::path::PathBuf;

use super::PixelFormat;

/// Why an image could not be described or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Width or height is zero.
    #[error("image is {width}x{height}: width and height must both be at least 1")]
    ZeroSize { width: u32, height: u32 },
    /// Width or height exceeds [`ImageView::MAX_SIDE`](super::ImageView::MAX_SIDE) (or, when
    /// decoding a file, `DecodeLimits::max_side`).
    #[error("image is {width}x{height}: each side must be at most {max} pixels")]
    TooLarge { width: u32, height: u32, max: u32 },
    /// A 4:2:0 format (NV12, I420) was given an odd width or height.
    #[error("{format:?} needs an even width and height (4:2:0 chroma), got {width}x{height}")]
    OddSize {
        format: PixelFormat,
        width: u32,
        height: u32,
    },
    /// A plane's stride is shorter than one row of pixels.
    #[error("plane {plane} stride is {stride} bytes but one row needs at least {min}: pass the row pitch in bytes")]
    StrideTooShort {
        plane: usize,
        stride: usize,
        min: usize,
    },
    /// A plane's buffer ends before its last row.
    #[error("plane {plane} buffer holds {len} bytes but {needed} are needed for the given size and stride")]
    BufferTooShort {
        plane: usize,
        len: usize,
        needed: usize,
    },
    /// The constructor does not match the layout of the pixel format (e.g. a packed constructor
    /// given NV12).
    #[error("{format:?} is {expected}: use the matching ImageView constructor")]
    WrongLayout {
        format: PixelFormat,
        expected: &'static str,
    },
    /// A file could not be read. (This and the three errors below come only from the file
    /// decoders of the `image-files` feature: `decode_file`, `decode_bytes` and their `_with`
    /// forms.)
    #[error("cannot read image file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file or buffer is not an image in a supported encoding (JPEG, PNG, WebP, BMP).
    #[error("cannot decode image {origin}: {reason} (supported: JPEG, PNG, WebP, BMP)")]
    Decode { origin: String, reason: String },
    /// An encoded image claims more pixels than the decode budget
    /// (`DecodeLimits::max_pixels`); refused from its
    /// header, before any pixel buffer is allocated.
    #[error(
        "image is {width}x{height} = {} pixels, more than the decode budget of {max_pixels}: \
         scale it down, or raise DecodeLimits::max_pixels if this device can hold it",
        u64::from(*width) * u64::from(*height)
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// An encoded image (file or buffer) is longer than the decode budget
    /// (`DecodeLimits::max_file_bytes`); a file is
    /// refused from its length before it is read. `len` is the length found (for a file that
    /// grew while it was read: `max` + 1, all that was read).
    #[error(
        "image {origin} is {len} bytes, more than the decode budget of {max}: re-encode it \
         smaller, or raise DecodeLimits::max_file_bytes if this device can hold it"
    )]
    FileTooLarge { origin: String, len: u64, max: u64 },
}
