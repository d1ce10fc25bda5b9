//! `fg_image`: a camera frame described by the caller (pointers, lengths, strides, format,
//! colour matrix).

use fg::{ImageView, PixelFormat, YuvMatrix};

use crate::guard::{self, Failure};
use crate::status::fg_status::{self, *};

/// Pixel formats, the values of `fg_image.format`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum fg_pixel_format {
    /// 8-bit R, G, B; plane 0.
    FG_PIXEL_RGB8 = 0,
    /// 8-bit B, G, R; plane 0.
    FG_PIXEL_BGR8 = 1,
    /// 8-bit R, G, B, A (A ignored); plane 0.
    FG_PIXEL_RGBA8 = 2,
    /// 8-bit B, G, R, A (A ignored); plane 0.
    FG_PIXEL_BGRA8 = 3,
    /// 8-bit luminance; plane 0.
    FG_PIXEL_GRAY8 = 4,
    /// Y (plane 0), interleaved U/V at half resolution (plane 1): the usual ISP output.
    FG_PIXEL_NV12 = 5,
    /// Y (plane 0), U (plane 1), V (plane 2), U and V at half resolution.
    FG_PIXEL_I420 = 6,
}

/// How a YUV frame's Y'CbCr values map to RGB, the values of `fg_image.color`: the matrix
/// (BT.601 for SD and most ISPs' defaults, BT.709 for HD) and the range (limited: Y in
/// 16..235, chroma in 16..240, "video" or "TV" range; full: 0..255, "PC" or JPEG range). The
/// camera's ISP or V4L2 driver says which it delivers (V4L2: `colorspace`/`ycbcr_enc` and
/// `quantization`). Ignored for RGB and gray frames (but still checked).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum fg_color {
    /// ITU-R BT.601, limited range: the default (0), what OpenCV's NV12 conversion assumes.
    FG_COLOR_BT601_LIMITED = 0,
    /// ITU-R BT.601, full range (JPEG/JFIF).
    FG_COLOR_BT601_FULL = 1,
    /// ITU-R BT.709, limited range.
    FG_COLOR_BT709_LIMITED = 2,
    /// ITU-R BT.709, full range.
    FG_COLOR_BT709_FULL = 3,
}

/// A frame in the caller's memory, read during the call only.
///
/// Set `struct_size` to `sizeof(fg_image)` (see the header's top comment). Packed formats use
/// plane 0; NV12 planes 0 and 1; I420 planes 0, 1 and 2. For each plane used: `planes[i]`
/// points to its first byte, `plane_len[i]` is how many bytes may be read from there, and
/// `stride[i]` is the row pitch in bytes (at least one row of pixels). Unused planes are
/// ignored (set them to NULL and 0). A frame zeroed, then given its size, format and planes,
/// is BT.601 limited range.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fg_image {
    /// `sizeof(fg_image)`.
    pub struct_size: u32,
    /// An `fg_pixel_format` value.
    pub format: u32,
    /// An `fg_color` value (YUV formats): how to convert the frame to RGB.
    pub color: u32,
    /// Width in pixels (even for NV12 and I420).
    pub width: u32,
    /// Height in pixels (even for NV12 and I420).
    pub height: u32,
    /// First byte of each plane.
    pub planes: [*const u8; 3],
    /// Readable bytes of each plane.
    pub plane_len: [usize; 3],
    /// Row pitch of each plane in bytes.
    pub stride: [usize; 3],
}

guard::versioned!(fg_image);

fn format(value: u32) -> Result<PixelFormat, fg_status> {
    Ok(match value {
        0 => PixelFormat::Rgb8,
        1 => PixelFormat::Bgr8,
        2 => PixelFormat::Rgba8,
        3 => PixelFormat::Bgra8,
        4 => PixelFormat::Gray8,
        5 => PixelFormat::Nv12,
        6 => PixelFormat::I420,
        _ => return Err(FG_ERR_INVALID_ARGUMENT),
    })
}

fn color(value: u32) -> Result<YuvMatrix, fg_status> {
    Ok(match value {
        0 => YuvMatrix::Bt601Limited,
        1 => YuvMatrix::Bt601Full,
        2 => YuvMatrix::Bt709Limited,
        3 => YuvMatrix::Bt709Full,
        _ => return Err(FG_ERR_INVALID_ARGUMENT),
    })
}

impl fg_image {
    /// The frame as a checked view: `FG_ERR_INVALID_ARGUMENT` for an unknown format or colour,
    /// `FG_ERR_NULL_POINTER` for a missing plane, `FG_ERR_IMAGE` for sizes and strides that do
    /// not fit the buffers. (Its `struct_size` was checked when it was read: see
    /// [`guard::read`].)
    ///
    /// # Safety
    /// Each used plane pointer is NULL or valid for reads of its `plane_len` bytes during the
    /// call.
    pub unsafe fn view(&self) -> Result<ImageView<'_>, Failure> {
        let format = format(self.format)?;
        let matrix = color(self.color)?;
        let plane = |i: usize| {
            // SAFETY: the caller guarantees the plane is valid for plane_len[i] bytes.
            unsafe { guard::bytes(self.planes[i], self.plane_len[i]) }
        };
        let (w, h) = (self.width, self.height);
        let view = match format {
            PixelFormat::Nv12 => {
                ImageView::nv12(plane(0)?, self.stride[0], plane(1)?, self.stride[1], w, h)
            }
            PixelFormat::I420 => ImageView::i420(
                plane(0)?,
                self.stride[0],
                plane(1)?,
                self.stride[1],
                plane(2)?,
                self.stride[2],
                w,
                h,
            ),
            packed => ImageView::packed(plane(0)?, w, h, self.stride[0], packed),
        };
        Ok(view.map_err(guard::status)?.with_yuv_matrix(matrix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nv12(y: &[u8], uv: &[u8], color: u32) -> fg_image {
        fg_image {
            struct_size: std::mem::size_of::<fg_image>() as u32,
            format: fg_pixel_format::FG_PIXEL_NV12 as u32,
            color,
            width: 4,
            height: 2,
            planes: [y.as_ptr(), uv.as_ptr(), std::ptr::null()],
            plane_len: [y.len(), uv.len(), 0],
            stride: [4, 4, 0],
        }
    }

    #[test]
    fn each_color_value_selects_its_matrix_and_unknown_values_are_refused() {
        let (y, uv) = ([118u8; 8], [92u8, 180, 92, 180]);
        for (value, matrix) in [
            (fg_color::FG_COLOR_BT601_LIMITED, YuvMatrix::Bt601Limited),
            (fg_color::FG_COLOR_BT601_FULL, YuvMatrix::Bt601Full),
            (fg_color::FG_COLOR_BT709_LIMITED, YuvMatrix::Bt709Limited),
            (fg_color::FG_COLOR_BT709_FULL, YuvMatrix::Bt709Full),
        ] {
            let image = nv12(&y, &uv, value as u32);
            // SAFETY: the planes are valid for their lengths.
            let view = unsafe { image.view() }.unwrap();
            assert_eq!(view.yuv_matrix(), matrix);
        }
        for unknown in [4, 99, u32::MAX] {
            let image = nv12(&y, &uv, unknown);
            // SAFETY: as above.
            let refused = unsafe { image.view() }.err().map(|f| f.status);
            assert_eq!(refused, Some(FG_ERR_INVALID_ARGUMENT));
        }
    }
}
