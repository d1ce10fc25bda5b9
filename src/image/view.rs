use super::{ImageError, PixelFormat, YuvMatrix};

#[derive(Clone, Copy)]
struct Plane<'a> {
    data: &'a [u8],
    stride: usize,
}

impl<'a> Plane<'a> {
    const EMPTY: Plane<'static> = Plane {
        data: &[],
        stride: 0,
    };

    /// Validates a plane of `rows` rows of `row_bytes` bytes each.
    fn checked(
        index: usize,
        data: &'a [u8],
        stride: usize,
        row_bytes: usize,
        rows: usize,
    ) -> Result<Self, ImageError> {
        if stride < row_bytes {
            return Err(ImageError::StrideTooShort {
                plane: index,
                stride,
                min: row_bytes,
            });
        }
        // The last row need not be padded to the full stride.
        let needed = stride
            .checked_mul(rows - 1)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or(ImageError::BufferTooShort {
                plane: index,
                len: data.len(),
                needed: usize::MAX,
            })?;
        if data.len() < needed {
            return Err(ImageError::BufferTooShort {
                plane: index,
                len: data.len(),
                needed,
            });
        }
        Ok(Plane { data, stride })
    }

    #[inline]
    fn row(&self, y: usize) -> &'a [u8] {
        &self.data[y * self.stride..]
    }
}

/// A validated, borrowed view of one camera frame.
///
/// Nothing is copied: the view keeps the caller's buffers and reads pixels from them on demand.
///
/// ```
/// use faceguard::{ImageView, PixelFormat};
/// let (w, h) = (64, 48);
/// // An NV12 frame as an ISP delivers it: Y rows, then interleaved UV rows, row pitch 80 bytes.
/// let buf = vec![128u8; 80 * h + 80 * h / 2];
/// let (y, uv) = buf.split_at(80 * h);
/// let frame = ImageView::nv12(y, 80, uv, 80, w as u32, h as u32)?;
/// assert_eq!(frame.format(), PixelFormat::Nv12);
/// // A stride shorter than a row is refused, not read out of bounds.
/// assert!(ImageView::packed(&buf, 64, 48, 100, PixelFormat::Rgb8).is_err());
/// # Ok::<(), faceguard::ImageError>(())
/// ```
#[derive(Clone, Copy)]
pub struct ImageView<'a> {
    width: u32,
    height: u32,
    format: PixelFormat,
    planes: [Plane<'a>; 3],
    yuv: YuvMatrix,
}

impl std::fmt::Debug for ImageView<'_> {
    // Pixels are personal data: the debug form shows the geometry only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageView")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl<'a> ImageView<'a> {
    /// Largest accepted width or height, in pixels.
    pub const MAX_SIDE: u32 = 1 << 14;

    fn check_size(width: u32, height: u32, format: PixelFormat) -> Result<(), ImageError> {
        if width == 0 || height == 0 {
            return Err(ImageError::ZeroSize { width, height });
        }
        if width > Self::MAX_SIDE || height > Self::MAX_SIDE {
            return Err(ImageError::TooLarge {
                width,
                height,
                max: Self::MAX_SIDE,
            });
        }
        if format.is_yuv420() && (!width.is_multiple_of(2) || !height.is_multiple_of(2)) {
            return Err(ImageError::OddSize {
                format,
                width,
                height,
            });
        }
        Ok(())
    }

    /// A packed frame (RGB8, BGR8, RGBA8, BGRA8 or GRAY8) with `stride` bytes per row.
    pub fn packed(
        data: &'a [u8],
        width: u32,
        height: u32,
        stride: usize,
        format: PixelFormat,
    ) -> Result<Self, ImageError> {
        let bpp = format
            .packed_bytes_per_pixel()
            .ok_or(ImageError::WrongLayout {
                format,
                expected: "planar: use ImageView::nv12 or ImageView::i420",
            })?;
        Self::check_size(width, height, format)?;
        let plane = Plane::checked(0, data, stride, width as usize * bpp, height as usize)?;
        Ok(ImageView {
            width,
            height,
            format,
            planes: [plane, Plane::EMPTY, Plane::EMPTY],
            yuv: YuvMatrix::default(),
        })
    }

    /// A tightly packed RGB8 frame (stride = 3 × width).
    pub fn rgb(data: &'a [u8], width: u32, height: u32) -> Result<Self, ImageError> {
        Self::packed(data, width, height, width as usize * 3, PixelFormat::Rgb8)
    }

    /// An NV12 frame: a Y plane and an interleaved UV plane, each with its own stride.
    pub fn nv12(
        y: &'a [u8],
        y_stride: usize,
        uv: &'a [u8],
        uv_stride: usize,
        width: u32,
        height: u32,
    ) -> Result<Self, ImageError> {
        let format = PixelFormat::Nv12;
        Self::check_size(width, height, format)?;
        let (w, h) = (width as usize, height as usize);
        Ok(ImageView {
            width,
            height,
            format,
            planes: [
                Plane::checked(0, y, y_stride, w, h)?,
                Plane::checked(1, uv, uv_stride, w, h / 2)?,
                Plane::EMPTY,
            ],
            yuv: YuvMatrix::default(),
        })
    }

    /// An I420 frame: Y, U and V planes, each with its own stride.
    #[allow(clippy::too_many_arguments)]
    pub fn i420(
        y: &'a [u8],
        y_stride: usize,
        u: &'a [u8],
        u_stride: usize,
        v: &'a [u8],
        v_stride: usize,
        width: u32,
        height: u32,
    ) -> Result<Self, ImageError> {
        let format = PixelFormat::I420;
        Self::check_size(width, height, format)?;
        let (w, h) = (width as usize, height as usize);
        Ok(ImageView {
            width,
            height,
            format,
            planes: [
                Plane::checked(0, y, y_stride, w, h)?,
                Plane::checked(1, u, u_stride, w / 2, h / 2)?,
                Plane::checked(2, v, v_stride, w / 2, h / 2)?,
            ],
            yuv: YuvMatrix::default(),
        })
    }

    /// Uses `matrix` to convert Y'CbCr to RGB (YUV formats only; BT.601 limited by default).
    pub fn with_yuv_matrix(mut self, matrix: YuvMatrix) -> Self {
        self.yuv = matrix;
        self
    }

    /// The matrix that converts this frame's Y'CbCr to RGB (unused for RGB and gray formats).
    pub fn yuv_matrix(&self) -> YuvMatrix {
        self.yuv
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// The RGB value (0..=255) of pixel (`x`, `y`). Both must be inside the image.
    #[inline]
    pub(crate) fn rgb_at(&self, x: usize, y: usize) -> [f32; 3] {
        let p = &self.planes;
        let f = |b: u8| f32::from(b);
        match self.format {
            PixelFormat::Rgb8 => {
                let r = &p[0].row(y)[x * 3..x * 3 + 3];
                [f(r[0]), f(r[1]), f(r[2])]
            }
            PixelFormat::Bgr8 => {
                let r = &p[0].row(y)[x * 3..x * 3 + 3];
                [f(r[2]), f(r[1]), f(r[0])]
            }
            PixelFormat::Rgba8 => {
                let r = &p[0].row(y)[x * 4..x * 4 + 3];
                [f(r[0]), f(r[1]), f(r[2])]
            }
            PixelFormat::Bgra8 => {
                let r = &p[0].row(y)[x * 4..x * 4 + 3];
                [f(r[2]), f(r[1]), f(r[0])]
            }
            PixelFormat::Gray8 => {
                let g = f(p[0].row(y)[x]);
                [g, g, g]
            }
            PixelFormat::Nv12 => {
                let uv = &p[1].row(y / 2)[(x / 2) * 2..(x / 2) * 2 + 2];
                self.yuv.to_rgb(p[0].row(y)[x], uv[0], uv[1])
            }
            PixelFormat::I420 => self.yuv.to_rgb(
                p[0].row(y)[x],
                p[1].row(y / 2)[x / 2],
                p[2].row(y / 2)[x / 2],
            ),
        }
    }

    /// Writes row `y` as interleaved RGB (0..=255) into `out`, which holds `3 × width` values.
    pub(crate) fn read_row_rgb(&self, y: usize, out: &mut [f32]) {
        let w = self.width as usize;
        let out = &mut out[..w * 3];
        let p = &self.planes;
        let row = p[0].row(y);
        let packed = |bpp: usize, order: [usize; 3], out: &mut [f32]| {
            for (px, o) in row[..w * bpp]
                .chunks_exact(bpp)
                .zip(out.chunks_exact_mut(3))
            {
                o[0] = f32::from(px[order[0]]);
                o[1] = f32::from(px[order[1]]);
                o[2] = f32::from(px[order[2]]);
            }
        };
        match self.format {
            PixelFormat::Rgb8 => packed(3, [0, 1, 2], out),
            PixelFormat::Bgr8 => packed(3, [2, 1, 0], out),
            PixelFormat::Rgba8 => packed(4, [0, 1, 2], out),
            PixelFormat::Bgra8 => packed(4, [2, 1, 0], out),
            PixelFormat::Gray8 => packed(1, [0, 0, 0], out),
            PixelFormat::Nv12 => {
                let uv = p[1].row(y / 2);
                for (x, o) in out.chunks_exact_mut(3).enumerate() {
                    let c = (x / 2) * 2;
                    o.copy_from_slice(&self.yuv.to_rgb(row[x], uv[c], uv[c + 1]));
                }
            }
            PixelFormat::I420 => {
                let (u, v) = (p[1].row(y / 2), p[2].row(y / 2));
                for (x, o) in out.chunks_exact_mut(3).enumerate() {
                    o.copy_from_slice(&self.yuv.to_rgb(row[x], u[x / 2], v[x / 2]));
                }
            }
        }
    }

    /// Bilinear RGB sample at sub-pixel position (`x`, `y`), integer coordinates being pixel
    /// centres (OpenCV's `warpAffine` convention); outside the image reads as black.
    #[inline]
    pub(crate) fn sample_bilinear(&self, x: f32, y: f32) -> [f32; 3] {
        let (w, h) = (self.width as i64, self.height as i64);
        // Entirely outside (or NaN): black. This also keeps the integer arithmetic below small.
        let inside = x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32;
        if !inside {
            return [0.0; 3];
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut acc = [0.0f32; 3];
        for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
            let yy = y0 + dy;
            if wy == 0.0 || yy < 0 || yy >= h {
                continue;
            }
            for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
                let xx = x0 + dx;
                let wgt = wx * wy;
                if wgt == 0.0 || xx < 0 || xx >= w {
                    continue;
                }
                let px = self.rgb_at(xx as usize, yy as usize);
                for c in 0..3 {
                    acc[c] += wgt * px[c];
                }
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4x2 NV12 frame of one colour: Y', Cb, Cr everywhere.
    fn nv12_of(y: u8, u: u8, v: u8) -> (Vec<u8>, Vec<u8>) {
        (vec![y; 4 * 2], [u, v].repeat(2))
    }

    #[test]
    fn a_full_range_bt709_frame_reads_as_its_rgb_with_the_full_range_matrix() {
        // RGB (200, 100, 50) in full-range BT.709, from the standard's definition:
        // Y' = 0.2126 R + 0.7152 G + 0.0722 B = 117.65, Cb = (B - Y') / 1.8556 + 128 = 91.5,
        // Cr = (R - Y') / 1.5748 + 128 = 180.3, stored rounded.
        let (y, uv) = nv12_of(118, 92, 180);
        let frame = ImageView::nv12(&y, 4, &uv, 4, 4, 2)
            .unwrap()
            .with_yuv_matrix(YuvMatrix::Bt709Full);
        assert_eq!(frame.yuv_matrix(), YuvMatrix::Bt709Full);
        let mut row = [0.0f32; 12];
        frame.read_row_rgb(1, &mut row);
        for px in [frame.rgb_at(3, 1), [row[9], row[10], row[11]]] {
            for (got, want) in px.iter().zip([200.0f32, 100.0, 50.0]) {
                assert!((got - want).abs() < 1.5, "{px:?}");
            }
        }
        // The same bytes read as limited range (the default) are another colour.
        let limited = ImageView::nv12(&y, 4, &uv, 4, 4, 2).unwrap();
        assert_eq!(limited.yuv_matrix(), YuvMatrix::Bt601Limited);
        let other = limited.rgb_at(3, 1);
        let off = (0..3)
            .map(|c| (other[c] - [200.0, 100.0, 50.0][c]).abs())
            .fold(0.0, f32::max);
        assert!(off > 5.0, "{other:?}");
    }
}
