//! `fg_image`: a camera frame described by the caller (pointers, lengths, strides, format).

use fg::{ImageView, PixelFormat};

use crate::guard;
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

/// A frame in the caller's memory, read during the call only.
///
/// Packed formats use plane 0; NV12 planes 0 and 1; I420 planes 0, 1 and 2. For each plane
/// used: `planes[i]` points to its first byte, `plane_len[i]` is how many bytes may be read
/// from there, and `stride[i]` is the row pitch in bytes (at least one row of pixels).
/// Unused planes are ignored (set them to NULL and 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fg_image {
    /// An `fg_pixel_format` value.
    pub format: u32,
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

impl fg_image {
    /// The frame as a checked view: `FG_ERR_INVALID_ARGUMENT` for an unknown format,
    /// `FG_ERR_NULL_POINTER` for a missing plane, `FG_ERR_IMAGE` for sizes and strides that do
    /// not fit the buffers.
    ///
    /// # Safety
    /// Each used plane pointer is NULL or valid for reads of its `plane_len` bytes during the
    /// call.
    pub unsafe fn view(&self) -> Result<ImageView<'_>, fg_status> {
        let format = format(self.format)?;
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
        view.map_err(guard::status)
    }
}
