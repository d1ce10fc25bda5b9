//! Area-averaging resize (OpenCV's `INTER_AREA`) from any pixel format into a planar float
//! tensor, one source row at a time: the whole frame is never converted to RGB.

use zeroize::Zeroizing;

use super::ImageView;

/// Source pixels contributing to one destination pixel along one axis, with their weights.
struct AxisTaps {
    /// For destination index `i`: `start[i]`, and `weights[offset[i]..offset[i + 1]]`.
    start: Vec<usize>,
    offset: Vec<usize>,
    weights: Vec<f32>,
}

impl AxisTaps {
    /// Box filter mapping `src` samples onto `dst` samples (`dst <= src`): destination pixel
    /// `i` averages the source interval `[i·s, (i+1)·s)`, `s = src / dst`, partial pixels
    /// weighted by their overlap.
    fn area(src: usize, dst: usize) -> Self {
        let scale = src as f64 / dst as f64;
        let mut taps = AxisTaps {
            start: Vec::with_capacity(dst),
            offset: Vec::with_capacity(dst + 1),
            weights: Vec::with_capacity(dst * (scale.ceil() as usize + 1)),
        };
        taps.offset.push(0);
        for i in 0..dst {
            let (lo, hi) = (i as f64 * scale, ((i + 1) as f64 * scale).min(src as f64));
            let first = lo.floor() as usize;
            let mut j = first;
            while (j as f64) < hi && j < src {
                let overlap = hi.min(j as f64 + 1.0) - lo.max(j as f64);
                taps.weights.push((overlap.max(0.0) / scale) as f32);
                j += 1;
            }
            taps.start.push(first);
            taps.offset.push(taps.weights.len());
        }
        taps
    }

    fn taps(&self, i: usize) -> (usize, &[f32]) {
        (
            self.start[i],
            &self.weights[self.offset[i]..self.offset[i + 1]],
        )
    }
}

/// Where and how to write the resized image.
pub(crate) struct PlanarTarget<'a> {
    /// Destination, `3 × plane_stride` values: channel planes of `row_stride × rows`.
    pub data: &'a mut [f32],
    /// Values per destination row (the padded width).
    pub row_stride: usize,
    /// Values per channel plane.
    pub plane_stride: usize,
    /// Which destination plane receives R, G and B.
    pub plane_of_rgb: [usize; 3],
}

/// Resizes `src` to `dst_w × dst_h` (each no larger than the source) by area averaging into
/// `target`; values outside `dst_w × dst_h` are left untouched.
pub(crate) fn resize_area_into(src: &ImageView, dst_w: usize, dst_h: usize, target: PlanarTarget) {
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    debug_assert!(dst_w >= 1 && dst_h >= 1 && dst_w <= sw && dst_h <= sh);
    let xs = AxisTaps::area(sw, dst_w);
    let ys = AxisTaps::area(sh, dst_h);
    // Rows of the frame: wiped on drop.
    let mut src_row = Zeroizing::new(vec![0.0f32; sw * 3]);
    let mut h_row = Zeroizing::new(vec![0.0f32; dst_w * 3]);
    let mut acc = Zeroizing::new(vec![0.0f32; dst_w * 3]);
    let mut cached_row = usize::MAX;
    for oy in 0..dst_h {
        acc.fill(0.0);
        let (y0, wy) = ys.taps(oy);
        for (k, &wgt) in wy.iter().enumerate() {
            if wgt == 0.0 {
                continue;
            }
            let sy = y0 + k;
            if sy != cached_row {
                src.read_row_rgb(sy, &mut src_row);
                horizontal_pass(&xs, &src_row, &mut h_row);
                cached_row = sy;
            }
            for (a, h) in acc.iter_mut().zip(h_row.iter()) {
                *a += wgt * h;
            }
        }
        for (c, &plane) in target.plane_of_rgb.iter().enumerate() {
            let base = plane * target.plane_stride + oy * target.row_stride;
            let out = &mut target.data[base..base + dst_w];
            for (ox, o) in out.iter_mut().enumerate() {
                *o = acc[ox * 3 + c];
            }
        }
    }
}

fn horizontal_pass(xs: &AxisTaps, src_row: &[f32], out: &mut [f32]) {
    for (ox, o) in out.chunks_exact_mut(3).enumerate() {
        let (x0, wx) = xs.taps(ox);
        let mut s = [0.0f32; 3];
        for (k, &wgt) in wx.iter().enumerate() {
            let p = &src_row[(x0 + k) * 3..(x0 + k) * 3 + 3];
            s[0] += wgt * p[0];
            s[1] += wgt * p[1];
            s[2] += wgt * p[2];
        }
        o.copy_from_slice(&s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_taps_sum_to_one_for_fractional_scales() {
        for (src, dst) in [(2280, 640), (1920, 640), (640, 640), (7, 3), (1080, 360)] {
            let taps = AxisTaps::area(src, dst);
            for i in 0..dst {
                let (start, w) = taps.taps(i);
                let sum: f32 = w.iter().sum();
                assert!((sum - 1.0).abs() < 1e-4, "{src}->{dst} at {i}: sum {sum}");
                assert!(start + w.len() <= src);
            }
        }
    }

    #[test]
    fn identity_resize_copies_pixels_into_planes() {
        let px: Vec<u8> = (0..4 * 2 * 3).map(|v| v as u8).collect();
        let view = ImageView::rgb(&px, 4, 2).unwrap();
        let mut data = vec![-1.0f32; 3 * 8];
        resize_area_into(
            &view,
            4,
            2,
            PlanarTarget {
                data: &mut data,
                row_stride: 4,
                plane_stride: 8,
                plane_of_rgb: [2, 1, 0],
            },
        );
        // Blue plane first (BGR order), pixel (1, 1) is source bytes 15..18.
        assert_eq!(data[5], 17.0);
        assert_eq!(data[8 + 5], 16.0);
        assert_eq!(data[16 + 5], 15.0);
    }

    #[test]
    fn halving_averages_two_by_two_blocks() {
        let px = [0u8, 0, 0, 100, 100, 100, 200, 200, 200, 100, 100, 100];
        let view = ImageView::rgb(&px, 2, 2).unwrap();
        let mut data = vec![0.0f32; 3];
        resize_area_into(
            &view,
            1,
            1,
            PlanarTarget {
                data: &mut data,
                row_stride: 1,
                plane_stride: 1,
                plane_of_rgb: [0, 1, 2],
            },
        );
        assert!((data[0] - 100.0).abs() < 1e-4);
    }
}
