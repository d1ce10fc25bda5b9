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
/// Camera ISPs most often deliver BT.601 "video range" (Y in 16..235), which is also what
/// OpenCV's `COLOR_YUV2RGB_NV12` assumes; HD pipelines use BT.709, and either may be full
/// range (0..255): the ISP's or the V4L2 driver's colour settings say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum YuvMatrix {
    /// ITU-R BT.601, Y in 16..235, chroma in 16..240.
    #[default]
    Bt601Limited,
    /// ITU-R BT.601, full 0..255 range (JPEG/JFIF).
    Bt601Full,
    /// ITU-R BT.709, Y in 16..235, chroma in 16..240.
    Bt709Limited,
    /// ITU-R BT.709, full 0..255 range.
    Bt709Full,
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
            // BT.709: Kr = 0.2126, Kb = 0.0722. R = Y + 2(1 - Kr) Cr, B = Y + 2(1 - Kb) Cb,
            // G = Y - (2 Kb (1 - Kb) / Kg) Cb - (2 Kr (1 - Kr) / Kg) Cr, Kg = 1 - Kr - Kb.
            YuvMatrix::Bt709Full => (y, 1.5748, 0.187_324, 0.468_124, 1.8556),
        };
        let clamp = |x: f32| x.clamp(0.0, 255.0);
        [
            clamp(yy + rv * v),
            clamp(yy - gu * u - gv * v),
            clamp(yy + bu * u),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Y'CbCr of an R'G'B' colour (0..=255) by the definition in a standard: Y' = Kr R' +
    /// (1 - Kr - Kb) G' + Kb B', Cb = (B' - Y') / (2 (1 - Kb)), Cr = (R' - Y') / (2 (1 - Kr)),
    /// full range (offset 128 on chroma), rounded to 8 bits as a camera stores them.
    fn encode_full(rgb: [f64; 3], kr: f64, kb: f64) -> (u8, u8, u8) {
        let y = kr * rgb[0] + (1.0 - kr - kb) * rgb[1] + kb * rgb[2];
        let cb = (rgb[2] - y) / (2.0 * (1.0 - kb)) + 128.0;
        let cr = (rgb[0] - y) / (2.0 * (1.0 - kr)) + 128.0;
        let q = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        (q(y), q(cb), q(cr))
    }

    /// Colours away from the gamut's edge, so that no channel clips.
    const COLOURS: [[f64; 3]; 6] = [
        [200.0, 100.0, 50.0],
        [30.0, 160.0, 90.0],
        [60.0, 70.0, 220.0],
        [128.0, 128.0, 128.0],
        [240.0, 230.0, 20.0],
        [15.0, 10.0, 25.0],
    ];

    #[test]
    fn bt709_full_range_decodes_what_the_bt709_definition_encodes() {
        for rgb in COLOURS {
            let (y, u, v) = encode_full(rgb, 0.2126, 0.0722);
            let got = YuvMatrix::Bt709Full.to_rgb(y, u, v);
            for c in 0..3 {
                // Rounding Y', Cb and Cr to 8 bits moves a channel by at most
                // 0.5 * (1 + 1.8556) < 1.5 levels.
                assert!(
                    (f64::from(got[c]) - rgb[c]).abs() < 1.5,
                    "{rgb:?} -> ({y}, {u}, {v}) -> {got:?}"
                );
            }
        }
    }

    #[test]
    fn bt709_full_range_is_not_read_as_limited_range_or_as_bt601() {
        // A full-range BT.709 frame read with another matrix comes out visibly wrong: the
        // matrices differ where it matters.
        let rgb = [200.0, 100.0, 50.0];
        let (y, u, v) = encode_full(rgb, 0.2126, 0.0722);
        for other in [
            YuvMatrix::Bt709Limited,
            YuvMatrix::Bt601Full,
            YuvMatrix::Bt601Limited,
        ] {
            let got = other.to_rgb(y, u, v);
            let off = (0..3)
                .map(|c| (f64::from(got[c]) - rgb[c]).abs())
                .fold(0.0, f64::max);
            assert!(off > 5.0, "{other:?} decodes {rgb:?} to {got:?}");
        }
    }

    #[test]
    fn bt601_full_range_decodes_what_the_bt601_definition_encodes() {
        for rgb in COLOURS {
            let (y, u, v) = encode_full(rgb, 0.299, 0.114);
            let got = YuvMatrix::Bt601Full.to_rgb(y, u, v);
            for c in 0..3 {
                assert!(
                    (f64::from(got[c]) - rgb[c]).abs() < 1.5,
                    "{rgb:?} -> {got:?}"
                );
            }
        }
    }
}
