use std::io::{Cursor, Read};
use std::path::Path;

use image::metadata::Orientation;
use image::{ImageBuffer, ImageDecoder, Luma, LumaA, Rgb, Rgba};
use zeroize::Zeroizing;

use super::{ImageError, ImageView};

/// An image decoded from a file or an encoded buffer into tightly packed RGB8.
///
/// For tools and tests; firmware hands frames to [`ImageView`] directly. The pixels are wiped
/// when the value is dropped.
#[cfg_attr(docsrs, doc(cfg(feature = "image-files")))]
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

/// How much an encoded image may claim before it is decoded: the decode budget.
///
/// An image file is input from outside, and its header says how large it is: a PNG of a few
/// hundred bytes can claim 100,000 × 100,000 pixels. [`decode_file_with`] and
/// [`decode_bytes_with`] read the size from the header and refuse anything over these limits
/// with a typed error ([`ImageError::TooManyPixels`], [`ImageError::TooLarge`],
/// [`ImageError::FileTooLarge`]) before any pixel buffer is allocated; [`decode_file`] and
/// [`decode_bytes`] use [`DecodeLimits::DEFAULT`].
///
/// The decoder itself is held to the same budget through the `image` crate's limits, so that
/// one whose header understates the image is still bounded: width and height at most
/// `max_side` (strict), and its own allocations at most `max_pixels` × 8 bytes (the largest
/// pixel these formats decode to, 16-bit RGBA) plus `max_file_bytes` (best effort, as the
/// `image` crate enforces it).
///
/// ```
/// use faceguard::{decode_bytes_with, DecodeLimits};
///
/// // A thumbnail tool that never needs more than 2 megapixels from a 4 MiB file.
/// let limits = DecodeLimits {
///     max_pixels: 2_000_000,
///     max_file_bytes: 4 << 20,
///     ..DecodeLimits::default()
/// };
/// assert!(decode_bytes_with(b"not an image", &limits).is_err());
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "image-files")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The most pixels (width × height) an image may have. Default 2^25 = 33,554,432 (8192 ×
    /// 4096): any camera sensor up to 33 megapixels, 100 MiB as RGB8.
    pub max_pixels: u64,
    /// The longest side in pixels. Default (and upper bound: larger values act as it)
    /// [`ImageView::MAX_SIDE`], the largest frame the pipeline takes.
    pub max_side: u32,
    /// The longest encoded input in bytes, file or buffer. Default 64 MiB. A file is measured
    /// before it is read, and read no further than this even if it grows meanwhile.
    pub max_file_bytes: u64,
}

impl DecodeLimits {
    /// The default budget: 2^25 pixels (8192 × 4096), [`ImageView::MAX_SIDE`] per side,
    /// 64 MiB of encoded input.
    pub const DEFAULT: DecodeLimits = DecodeLimits {
        max_pixels: 1 << 25,
        max_side: ImageView::MAX_SIDE,
        max_file_bytes: 64 << 20,
    };

    /// The side limit in effect.
    fn side(&self) -> u32 {
        self.max_side.min(ImageView::MAX_SIDE)
    }

    /// The largest allocation the decoder may make, all together.
    fn alloc(&self) -> u64 {
        self.max_pixels
            .saturating_mul(8)
            .saturating_add(self.max_file_bytes)
    }

    fn check_input(&self, len: u64, origin: impl Fn() -> String) -> Result<(), ImageError> {
        if len > self.max_file_bytes {
            return Err(ImageError::FileTooLarge {
                origin: origin(),
                len,
                max: self.max_file_bytes,
            });
        }
        Ok(())
    }

    fn check_size(&self, width: u32, height: u32) -> Result<(), ImageError> {
        if width == 0 || height == 0 {
            return Err(ImageError::ZeroSize { width, height });
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(ImageError::TooManyPixels {
                width,
                height,
                max_pixels: self.max_pixels,
            });
        }
        if width > self.side() || height > self.side() {
            return Err(ImageError::TooLarge {
                width,
                height,
                max: self.side(),
            });
        }
        Ok(())
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Decodes an image file (JPEG, PNG, WebP or BMP, recognised by content, not by name), upright
/// as its EXIF orientation says, within the default budget ([`DecodeLimits::DEFAULT`]; see
/// [`decode_file_with`]).
#[cfg_attr(docsrs, doc(cfg(feature = "image-files")))]
pub fn decode_file(path: impl AsRef<Path>) -> Result<DecodedImage, ImageError> {
    decode_file_with(path, &DecodeLimits::DEFAULT)
}

/// Decodes an image file within `limits`: a file longer than `limits.max_file_bytes` is
/// refused from its length before it is read ([`ImageError::FileTooLarge`]), and no more than
/// that is read even if it grows meanwhile; then as [`decode_bytes_with`]. The bytes read are
/// wiped once decoded.
#[cfg_attr(docsrs, doc(cfg(feature = "image-files")))]
pub fn decode_file_with(
    path: impl AsRef<Path>,
    limits: &DecodeLimits,
) -> Result<DecodedImage, ImageError> {
    let path = path.as_ref();
    let io_err = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let origin = || path.display().to_string();
    let file = std::fs::File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    limits.check_input(len, origin)?;
    let bytes = read_at_most(file, len, limits.max_file_bytes)
        .map_err(io_err)?
        .ok_or_else(|| ImageError::FileTooLarge {
            origin: origin(),
            len: limits.max_file_bytes.saturating_add(1),
            max: limits.max_file_bytes,
        })?;
    decode_with_origin(&bytes, limits, origin)
}

/// Decodes an encoded image held in memory within the default budget
/// ([`DecodeLimits::DEFAULT`]; see [`decode_bytes_with`]).
#[cfg_attr(docsrs, doc(cfg(feature = "image-files")))]
pub fn decode_bytes(bytes: &[u8]) -> Result<DecodedImage, ImageError> {
    decode_bytes_with(bytes, &DecodeLimits::DEFAULT)
}

/// Decodes an encoded image held in memory within `limits`: more than `limits.max_file_bytes`
/// is [`ImageError::FileTooLarge`]; a header claiming more than `limits.max_pixels` pixels is
/// [`ImageError::TooManyPixels`], a side over `limits.max_side` [`ImageError::TooLarge`], both
/// before any pixel buffer is allocated.
///
/// The pixels come upright: a photo whose EXIF orientation says the camera was held on its
/// side (or upside down, or mirrored) is turned as photo viewers turn it, so width and height
/// are those of the picture as seen. Unreadable EXIF metadata counts as no orientation.
///
/// The pixel buffers faceguard allocates (the decoded pixels, the source format's pixels when
/// they are converted to RGB8, a copy turned upright) are wiped when they are dropped. The
/// decoders' own working memory (a JPEG decoder's copy of the encoded bytes, its blocks, a PNG
/// decoder's rows, the EXIF metadata read for the orientation, which may hold a thumbnail) is
/// freed without wiping.
#[cfg_attr(docsrs, doc(cfg(feature = "image-files")))]
pub fn decode_bytes_with(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, ImageError> {
    let origin = || format!("<{} bytes in memory>", bytes.len());
    limits.check_input(bytes.len() as u64, origin)?;
    decode_with_origin(bytes, limits, origin)
}

/// Reads `file` (of `len` bytes when measured) to its end into a buffer wiped on drop, or
/// `None` once it has more than `max` bytes. Reads at most `max + 1` bytes; a buffer that must
/// grow (the file grew) is copied into a larger one and wiped.
fn read_at_most(
    mut file: impl Read,
    len: u64,
    max: u64,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    let limit = max.saturating_add(1);
    let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let mut buf = Zeroizing::new(vec![0u8; to_usize(len.min(max).saturating_add(1))]);
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if filled as u64 >= limit {
                return Ok(None);
            }
            let larger = to_usize(limit.min((filled as u64).saturating_mul(2).max(64 << 10)));
            let mut grown = Zeroizing::new(vec![0u8; larger]);
            grown[..filled].copy_from_slice(&buf[..filled]);
            buf = grown;
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // Zeroizing wipes the whole capacity, the cut-off tail included.
    buf.truncate(filled);
    Ok(Some(buf))
}

fn decode_with_origin(
    bytes: &[u8],
    limits: &DecodeLimits,
    origin: impl Fn() -> String,
) -> Result<DecodedImage, ImageError> {
    let decode_err = |e: image::ImageError| ImageError::Decode {
        origin: origin(),
        reason: e.to_string(),
    };
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| decode_err(e.into()))?;
    let format = reader.format();
    // Reading the header: only the allocation limit, so that a size over the side limit gets
    // faceguard's typed error rather than the decoder's.
    let mut header_limits = image::Limits::default();
    header_limits.max_alloc = Some(limits.alloc());
    reader.limits(header_limits);
    let mut decoder = reader.into_decoder().map_err(decode_err)?;
    let (width, height) = decoder.dimensions();
    limits.check_size(width, height)?;

    // Within budget: now the strict limits, with the output buffer reserved as the `image`
    // crate's own `decode` does, so that the decoder's working memory is bounded too.
    let mut strict = image::Limits::default();
    strict.max_image_width = Some(width);
    strict.max_image_height = Some(height);
    strict.max_alloc = Some(limits.alloc());
    let total = decoder.total_bytes();
    strict.reserve(total).map_err(decode_err)?;
    decoder.set_limits(strict).map_err(decode_err)?;
    let color = decoder.color_type();
    // The orientation the camera recorded (EXIF): the pixels are turned to it below, as every
    // viewer shows the photo. Metadata that cannot be read is no orientation, as for viewers.
    let orientation = match format {
        // `image`'s WebP decoder allocates whatever size an EXIF chunk's header claims, before
        // reading it: the chunk is found here, within the input, instead.
        Some(image::ImageFormat::WebP) => webp_orientation(bytes),
        // JPEG's EXIF segment is at most 64 KiB; PNG's chunk is within the input.
        _ => decoder.orientation().unwrap_or(Orientation::NoTransforms),
    };
    let mut raw = Zeroizing::new(vec![
        0u8;
        usize::try_from(total).map_err(|_| {
            ImageError::TooManyPixels {
                width,
                height,
                max_pixels: limits.max_pixels,
            }
        })?
    ]);
    decoder.read_image(&mut raw).map_err(decode_err)?;
    let rgb = to_rgb8(color, width, height, raw).ok_or_else(|| ImageError::Decode {
        origin: origin(),
        reason: format!("pixel type {color:?} is not supported"),
    })?;
    let (rgb, width, height) =
        orient(rgb, width, height, orientation).ok_or_else(|| ImageError::Decode {
            origin: origin(),
            reason: "decoded pixels do not fill the image".into(),
        })?;
    // Reject what the pipeline would reject anyway, before anyone holds the pixels.
    ImageView::rgb(&rgb, width, height)?;
    Ok(DecodedImage { width, height, rgb })
}

/// The EXIF orientation of a WebP file: its `EXIF` chunk, found by walking the RIFF chunks
/// (a four-byte tag, a little-endian length, the data padded to an even length) without
/// trusting any length past the input's end. No such chunk, or a malformed one: none.
fn webp_orientation(bytes: &[u8]) -> Orientation {
    let mut at = 12; // "RIFF", the file's length, "WEBP"
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let Some(data) = bytes.get(at + 8..).and_then(|rest| rest.get(..len)) else {
            break;
        };
        if &header[..4] == b"EXIF" {
            return Orientation::from_exif_chunk(data).unwrap_or(Orientation::NoTransforms);
        }
        at += 8 + len + (len & 1);
    }
    Orientation::NoTransforms
}

/// RGB8 pixels of `width` × `height` turned upright as `orientation` says (the EXIF
/// orientation's rotations and flips, as `image`'s `apply_orientation`), and their new size.
/// A turn by a quarter writes a new buffer; the old one is wiped when dropped, as is the new.
/// `None` for a buffer of the wrong length.
fn orient(
    mut rgb: Zeroizing<Vec<u8>>,
    width: u32,
    height: u32,
    orientation: Orientation,
) -> Option<(Zeroizing<Vec<u8>>, u32, u32)> {
    use image::imageops;
    let quarter = |rgb: &[u8], clockwise: bool| -> Option<Zeroizing<Vec<u8>>> {
        let view = ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, rgb)?;
        let turned = if clockwise {
            imageops::rotate90(&view)
        } else {
            imageops::rotate270(&view)
        };
        Some(Zeroizing::new(turned.into_raw()))
    };
    let (rgb, width, height) = match orientation {
        Orientation::NoTransforms => (rgb, width, height),
        Orientation::Rotate180 | Orientation::FlipHorizontal | Orientation::FlipVertical => {
            let mut view = ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, &mut rgb[..])?;
            match orientation {
                Orientation::Rotate180 => imageops::rotate180_in_place(&mut view),
                Orientation::FlipHorizontal => imageops::flip_horizontal_in_place(&mut view),
                _ => imageops::flip_vertical_in_place(&mut view),
            }
            (rgb, width, height)
        }
        Orientation::Rotate90 | Orientation::Rotate90FlipH => (quarter(&rgb, true)?, height, width),
        Orientation::Rotate270 | Orientation::Rotate270FlipH => {
            (quarter(&rgb, false)?, height, width)
        }
    };
    let mut rgb = rgb;
    if matches!(
        orientation,
        Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    ) {
        let mut view = ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, &mut rgb[..])?;
        imageops::flip_horizontal_in_place(&mut view);
    }
    Some((rgb, width, height))
}

/// `raw` (as the decoder wrote it: `color` pixels, native-endian samples) as RGB8, with the
/// `image` crate's conversions. Every buffer on the way is wiped when dropped; `None` for a
/// pixel type the supported formats do not produce, or a buffer of the wrong length.
fn to_rgb8(
    color: image::ColorType,
    width: u32,
    height: u32,
    raw: Zeroizing<Vec<u8>>,
) -> Option<Zeroizing<Vec<u8>>> {
    use image::buffer::ConvertBuffer;
    use image::ColorType as C;
    let wide = || -> Zeroizing<Vec<u16>> {
        Zeroizing::new(
            raw.chunks_exact(2)
                .map(|s| u16::from_ne_bytes([s[0], s[1]]))
                .collect(),
        )
    };
    macro_rules! convert {
        ($pixel:ty, $samples:expr) => {{
            let out: image::RgbImage =
                ImageBuffer::<$pixel, _>::from_raw(width, height, &$samples[..])?.convert();
            Zeroizing::new(out.into_raw())
        }};
    }
    Some(match color {
        C::Rgb8 => {
            ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, &raw[..])?;
            raw
        }
        C::L8 => convert!(Luma<u8>, raw),
        C::La8 => convert!(LumaA<u8>, raw),
        C::Rgba8 => convert!(Rgba<u8>, raw),
        C::L16 => convert!(Luma<u16>, wide()),
        C::La16 => convert!(LumaA<u16>, wide()),
        C::Rgb16 => convert!(Rgb<u16>, wide()),
        C::Rgba16 => convert!(Rgba<u16>, wide()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_colour_type_converts_to_rgb8_as_the_image_crate_does() {
        use image::DynamicImage as D;
        let images = [
            D::ImageRgb8(image::RgbImage::from_fn(7, 5, |x, y| {
                Rgb([x as u8 * 30, y as u8 * 50, 7])
            })),
            D::ImageLuma8(image::GrayImage::from_fn(7, 5, |x, y| {
                Luma([(x * 30 + y) as u8])
            })),
            D::ImageLumaA8(image::GrayAlphaImage::from_fn(7, 5, |x, y| {
                LumaA([(x * 30 + y) as u8, 9])
            })),
            D::ImageRgba8(image::RgbaImage::from_fn(7, 5, |x, y| {
                Rgba([x as u8 * 9, y as u8 * 40, 3, 200])
            })),
            D::ImageLuma16(ImageBuffer::from_fn(7, 5, |x, y| {
                Luma([(x * 9000 + y * 77) as u16])
            })),
            D::ImageLumaA16(ImageBuffer::from_fn(7, 5, |x, y| {
                LumaA([(x * 9000 + y * 77) as u16, 5])
            })),
            D::ImageRgb16(ImageBuffer::from_fn(7, 5, |x, y| {
                Rgb([(x * 9000 + y * 77) as u16, 65535, 129])
            })),
            D::ImageRgba16(ImageBuffer::from_fn(7, 5, |x, y| {
                Rgba([(x * 9000) as u16, (y * 13000) as u16, 128, 1])
            })),
        ];
        for img in images {
            let mut png = Cursor::new(Vec::new());
            img.write_to(&mut png, image::ImageFormat::Png).unwrap();
            let decoded = decode_bytes(png.get_ref()).unwrap();
            assert_eq!(
                decoded.rgb(),
                img.to_rgb8().as_raw().as_slice(),
                "{:?}",
                img.color()
            );
        }
    }

    /// A TIFF header and one IFD entry: Orientation (0x0112), SHORT, 1, `value`.
    fn exif_orientation(value: u8) -> Vec<u8> {
        vec![
            b'I', b'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, value, 0, 0, 0, 0,
            0, 0, 0,
        ]
    }

    /// `img` as a (lossless) PNG or WebP file carrying the EXIF chunk `exif`.
    fn encoded_with_exif(
        img: &image::RgbImage,
        format: image::ImageFormat,
        exif: Vec<u8>,
    ) -> Vec<u8> {
        use image::ImageEncoder;
        let mut out = Vec::new();
        let (w, h, pixels) = (img.width(), img.height(), img.as_raw());
        let rgb = image::ExtendedColorType::Rgb8;
        if format == image::ImageFormat::Png {
            let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
            encoder.set_exif_metadata(exif).unwrap();
            encoder.write_image(pixels, w, h, rgb).unwrap();
        } else {
            let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            encoder.set_exif_metadata(exif).unwrap();
            encoder.write_image(pixels, w, h, rgb).unwrap();
        }
        out
    }

    #[test]
    fn exif_orientation_turns_the_pixels_as_the_image_crate_does() {
        let img = image::RgbImage::from_fn(5, 3, |x, y| {
            Rgb([x as u8 * 40, y as u8 * 80, (x * 3 + y) as u8])
        });
        for exif_value in 1u8..=8 {
            let orientation = Orientation::from_exif(exif_value).unwrap();
            let mut expected = image::DynamicImage::ImageRgb8(img.clone());
            expected.apply_orientation(orientation);
            let png =
                encoded_with_exif(&img, image::ImageFormat::Png, exif_orientation(exif_value));
            let webp =
                encoded_with_exif(&img, image::ImageFormat::WebP, exif_orientation(exif_value));
            for (format, file) in [("png", png), ("webp", webp)] {
                let decoded = decode_bytes(&file).unwrap();
                assert_eq!(
                    (decoded.width(), decoded.height()),
                    (expected.width(), expected.height()),
                    "{format} {orientation:?}"
                );
                assert_eq!(
                    decoded.rgb(),
                    expected.to_rgb8().as_raw().as_slice(),
                    "{format} {orientation:?}"
                );
            }
        }
    }

    #[test]
    fn unreadable_exif_metadata_leaves_the_pixels_as_stored() {
        let img = image::RgbImage::from_fn(5, 3, |x, y| Rgb([x as u8, y as u8, 9]));
        for exif in [
            b"not a TIFF header".to_vec(),
            // A TIFF header whose IFD offset points far past the chunk.
            vec![b'I', b'I', 0x2A, 0, 0xFF, 0xFF, 0xFF, 0x7F],
            // Orientations 0 and 9: not orientations.
            exif_orientation(0),
            exif_orientation(9),
        ] {
            for format in [image::ImageFormat::Png, image::ImageFormat::WebP] {
                let decoded = decode_bytes(&encoded_with_exif(&img, format, exif.clone())).unwrap();
                assert_eq!((decoded.width(), decoded.height()), (5, 3), "{format:?}");
                assert_eq!(decoded.rgb(), img.as_raw().as_slice(), "{format:?}");
            }
        }
    }

    #[test]
    fn reading_stops_one_byte_past_the_budget_whatever_the_length_said() {
        let data = vec![7u8; 200_000];
        let read = |len: u64, max: u64| read_at_most(&data[..], len, max).unwrap();
        assert_eq!(
            read(200_000, 200_000).as_deref().map(|b| b.len()),
            Some(200_000)
        );
        // Measured short (the file grew): the buffer grows, up to the budget.
        assert_eq!(read(10, 200_000).as_deref().map(|b| b.len()), Some(200_000));
        assert!(read(10, 199_999).is_none());
        assert!(read(200_000, 150_000).is_none());
        assert_eq!(read(0, 0).as_deref().map(|b| b.len()), None);
        assert_eq!(
            read_at_most(&b""[..], 0, 0)
                .unwrap()
                .as_deref()
                .map(|b| b.len()),
            Some(0)
        );
    }
}
