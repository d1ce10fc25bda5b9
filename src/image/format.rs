/// Pixel layout of a frame.
///
/// Packed formats have one plane with `bytes_per_pixel` bytes per pixel. `Nv12` has a full
/// resolution Y plane and a half-resolution interleaved UV plane; `I420` has Y, U and V planes,
/// U and V at half resolution in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum PixelFormat {
    /// 8-bit red, green, blue.
    Rgb8 = 0,
    /// 8-bit blue, green, red (OpenCV's default order).
    Bgr8 = 1,
    /// 8-bit red, green, blue, alpha (alpha ignored).
    Rgba8 = 2,
    /// 8-bit blue, green, red, alpha (alpha ignored).
    Bgra8 = 3,
    /// 8-bit luminance.
    Gray8 = 4,
    /// Y plane, then interleaved U/V at half resolution (4:2:0 semi-planar).
    Nv12 = 5,
    /// Y plane, U plane, V plane, chroma at half resolution (4:2:0 planar).
    I420 = 6,
}

impl PixelFormat {
    /// Bytes per pixel of a packed format, `None` for planar YUV.
    pub fn packed_bytes_per_pixel(self) -> Option<usize> {
        match self {
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => Some(3),
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => Some(4),
            PixelFormat::Gray8 => Some(1),
            PixelFormat::Nv12 | PixelFormat::I420 => None,
        }
    }

    /// Whether the format subsamples chroma 2x2 and so needs an even width and height.
    pub fn is_yuv420(self) -> bool {
        matches!(self, PixelFormat::Nv12 | PixelFormat::I420)
    }
}

/// How Y'CbCr values map to RGB for the YUV formats.
///
/// Camera ISPs almost always deliver BT.601 "video range" (Y in 16..235), which is also what
/// OpenCV's `COLOR_YUV2RGB_NV12` assumes; HD pipelines sometimes use BT.709.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YuvMatrix {
    /// ITU-R BT.601, Y in 16..235, chroma in 16..240.
    #[default]
    Bt601Limited,
    /// ITU-R BT.601, full 0..255 range (JPEG/JFIF).
    Bt601Full,
    /// ITU-R BT.709, Y in 16..235, chroma in 16..240.
    Bt709Limited,
}

impl YuvMatrix {
    /// Converts one Y'CbCr sample to RGB in 0..=255 (as `f32`, not rounded).
    #[inline]
    pub(crate) fn to_rgb(self, y: u8, u: u8, v: u8) -> [f32; 3] {
        let (y, u, v) = (f32::from(y), f32::from(u) - 128.0, f32::from(v) - 128.0);
        let (yy, rv, gu, gv, bu) = match self {
            YuvMatrix::Bt601Limited => (
                1.164_383 * (y - 16.0),
                1.596_027,
                0.391_762,
                0.812_968,
                2.017_232,
            ),
            YuvMatrix::Bt601Full => (y, 1.402, 0.344_136, 0.714_136, 1.772),
            YuvMatrix::Bt709Limited => (
                1.164_383 * (y - 16.0),
                1.792_741,
                0.213_249,
                0.532_909,
                2.112_402,
            ),
        };
        let clamp = |x: f32| x.clamp(0.0, 255.0);
        [
            clamp(yy + rv * v),
            clamp(yy - gu * u - gv * v),
            clamp(yy + bu * u),
        ]
    }
}
