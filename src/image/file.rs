use std::path::Path;

use zeroize::Zeroizing;

use super::{ImageError, ImageView};

/// An image decoded from a file or an encoded buffer into tightly packed RGB8.
///
/// For tools and tests; firmware hands frames to [`ImageView`] directly. The pixels are wiped
/// when the value is dropped.
pub struct DecodedImage {
    width: u32,
    height: u32,
    rgb: Zeroizing<Vec<u8>>,
}

impl DecodedImage {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Tightly packed RGB8 pixels, row after row.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// A view of the pixels for the pipeline.
    pub fn view(&self) -> ImageView<'_> {
        ImageView::rgb(&self.rgb, self.width, self.height)
            .expect("a decoded image always describes a valid RGB8 view")
    }
}

impl std::fmt::Debug for DecodedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

/// Decodes an image file (JPEG, PNG, WebP or BMP, recognised by content, not by name).
pub fn decode_file(path: impl AsRef<Path>) -> Result<DecodedImage, ImageError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_with_origin(&bytes, || path.display().to_string())
}

/// Decodes an encoded image held in memory.
pub fn decode_bytes(bytes: &[u8]) -> Result<DecodedImage, ImageError> {
    decode_with_origin(bytes, || format!("<{} bytes in memory>", bytes.len()))
}

fn decode_with_origin(
    bytes: &[u8],
    origin: impl Fn() -> String,
) -> Result<DecodedImage, ImageError> {
    let decode_err = |reason: String| ImageError::Decode {
        origin: origin(),
        reason,
    };
    let decoded = image::load_from_memory(bytes).map_err(|e| decode_err(e.to_string()))?;
    let rgb = decoded.into_rgb8();
    let (width, height) = rgb.dimensions();
    // Reject what the pipeline would reject anyway, before anyone holds the pixels.
    ImageView::rgb(rgb.as_raw(), width, height)?;
    Ok(DecodedImage {
        width,
        height,
        rgb: Zeroizing::new(rgb.into_raw()),
    })
}
