//! Borrowed views over camera frames, validated once, sampled straight from the source format.
//!
//! A camera ISP hands out NV12 or I420 buffers; a decoded file is RGB. [`ImageView`] describes
//! either without copying it: width, height, pixel format and, for each plane, its bytes and
//! stride. Every constructor validates the description (sizes, strides, buffer lengths) and
//! returns an [`ImageError`] instead of panicking. The pipeline never converts a whole frame:
//! the detector's resize and the aligner's warp read pixels from the view in its own format.
//!
//! With the `image-files` feature, `decode_file` and `decode_bytes` decode JPEG, PNG, WebP and
//! BMP into a `DecodedImage`, within a decode budget (`DecodeLimits`): for tools and tests.
//! Without it (the default, what firmware builds) nothing here decodes files, and the `image`
//! crate is not compiled.

mod error;
#[cfg(feature = "image-files")]
mod file;
mod format;
pub(crate) mod resize;
mod view;

pub use error::ImageError;
#[cfg(feature = "image-files")]
pub use file::{
    decode_bytes, decode_bytes_with, decode_file, decode_file_with, DecodeLimits, DecodedImage,
};
pub use format::{PixelFormat, YuvMatrix};
pub use view::ImageView;
