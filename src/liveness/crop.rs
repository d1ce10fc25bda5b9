//! Cutting a PAD model's input out of the frame, in the frame's own pixel format.

use crate::geometry::BoundingBox;
use crate::image::ImageView;

use super::spec::Crop;

/// A rectangle of whole frame pixels, inclusive: the part of the (possibly mirrored) frame
/// that is resampled to the model's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: i64,
    pub y0: i64,
    pub x1: i64,
    pub y1: i64,
}

/// Coordinates further than this outside the frame are refused: the box is not in this frame.
const MAX_OUTSIDE: f64 = 1e6;

/// The rectangle `crop` cuts around `face` in a `width` × `height` frame; `None` when the box
/// is not finite, empty, or far outside the frame.
pub(crate) fn rect(face: &BoundingBox, crop: Crop, width: u32, height: u32) -> Option<Rect> {
    let (x, y, w, h) = (
        f64::from(face.x),
        f64::from(face.y),
        f64::from(face.width),
        f64::from(face.height),
    );
    let finite = [x, y, w, h]
        .iter()
        .all(|v| v.is_finite() && v.abs() < MAX_OUTSIDE);
    if !finite || w < 1.0 || h < 1.0 || width == 0 || height == 0 {
        return None;
    }
    let (fw, fh) = (f64::from(width), f64::from(height));
    // The box must overlap the frame: a face outside it has nothing to look at.
    if x + w <= 0.0 || y + h <= 0.0 || x >= fw || y >= fh {
        return None;
    }
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    match crop {
        Crop::Square { scale } => {
            let side = (w.max(h) * f64::from(scale)).round().max(1.0);
            let x0 = (cx - side / 2.0).round();
            let y0 = (cy - side / 2.0).round();
            Some(Rect {
                x0: x0 as i64,
                y0: y0 as i64,
                x1: (x0 + side) as i64 - 1,
                y1: (y0 + side) as i64 - 1,
            })
        }
        Crop::Shifted { scale } => {
            let s = f64::from(scale).min((fh - 1.0) / h).min((fw - 1.0) / w);
            let (nw, nh) = (w * s, h * s);
            let (mut lx, mut ly) = (cx - nw / 2.0, cy - nh / 2.0);
            let (mut rx, mut ry) = (cx + nw / 2.0, cy + nh / 2.0);
            if lx < 0.0 {
                rx -= lx;
                lx = 0.0;
            }
            if ly < 0.0 {
                ry -= ly;
                ly = 0.0;
            }
            if rx > fw - 1.0 {
                lx -= rx - fw + 1.0;
                rx = fw - 1.0;
            }
            if ry > fh - 1.0 {
                ly -= ry - fh + 1.0;
                ry = fh - 1.0;
            }
            // Truncated as the authors' code does (Python's int()), then kept inside.
            let clamp = |v: f64, max: f64| (v.trunc().clamp(0.0, max)) as i64;
            let r = Rect {
                x0: clamp(lx, fw - 1.0),
                y0: clamp(ly, fh - 1.0),
                x1: clamp(rx, fw - 1.0),
                y1: clamp(ry, fh - 1.0),
            };
            Some(r)
        }
    }
}

/// Mirrors `i` into `0..n` about the edge pixels (`BORDER_REFLECT_101`: `-1` → `1`).
fn reflect(i: i64, n: i64) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i.rem_euclid(period);
    (if m < n { m } else { period - m }) as usize
}

/// Resamples `rect` of `image` to `out_w` × `out_h` RGB (0..=255), calling `put(x, y, rgb)` for
/// each output pixel: bilinear, pixel centres onto pixel centres, samples clamped to the
/// rectangle (as resizing the cut-out would) and mirrored into the frame.
pub(crate) fn sample(
    image: &ImageView,
    r: Rect,
    out_w: usize,
    out_h: usize,
    mut put: impl FnMut(usize, usize, [f32; 3]),
) {
    let (fw, fh) = (i64::from(image.width()), i64::from(image.height()));
    let (rw, rh) = ((r.x1 - r.x0 + 1) as f64, (r.y1 - r.y0 + 1) as f64);
    let (kx, ky) = (rw / out_w as f64, rh / out_h as f64);
    // Source positions of one output row or column: integer pixel and weight of the next.
    let axis = |n: usize, k: f64, lo: i64, hi: i64| -> Vec<(i64, i64, f32)> {
        (0..n)
            .map(|i| {
                let s = ((i as f64 + 0.5) * k - 0.5).clamp(0.0, (hi - lo) as f64);
                let i0 = s.floor();
                let f = (s - i0) as f32;
                let a = lo + i0 as i64;
                (a, (a + 1).min(hi), f)
            })
            .collect()
    };
    let xs = axis(out_w, kx, r.x0, r.x1);
    let ys = axis(out_h, ky, r.y0, r.y1);
    for (v, &(ya, yb, fy)) in ys.iter().enumerate() {
        let (ya, yb) = (reflect(ya, fh), reflect(yb, fh));
        for (u, &(xa, xb, fx)) in xs.iter().enumerate() {
            let (xa, xb) = (reflect(xa, fw), reflect(xb, fw));
            let p00 = image.rgb_at(xa, ya);
            let p01 = image.rgb_at(xb, ya);
            let p10 = image.rgb_at(xa, yb);
            let p11 = image.rgb_at(xb, yb);
            let mut px = [0.0f32; 3];
            for c in 0..3 {
                let top = p00[c] + (p01[c] - p00[c]) * fx;
                let bottom = p10[c] + (p11[c] - p10[c]) * fx;
                px[c] = top + (bottom - top) * fy;
            }
            put(u, v, px);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bbox(x: f32, y: f32, w: f32, h: f32) -> BoundingBox {
        BoundingBox {
            x,
            y,
            width: w,
            height: h,
        }
    }

    #[test]
    fn reflection_mirrors_about_the_edge_pixel() {
        let got: Vec<usize> = (-3..8).map(|i| reflect(i, 5)).collect();
        assert_eq!(got, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
        assert_eq!(reflect(-7, 1), 0);
        assert_eq!(reflect(1_000_003, 4), reflect(1_000_003 % 6, 4));
    }

    #[test]
    fn square_crop_is_centred_and_scaled_on_the_longer_side() {
        let r = rect(
            &bbox(100.0, 50.0, 40.0, 60.0),
            Crop::Square { scale: 1.5 },
            640,
            480,
        )
        .unwrap();
        // Centre (120, 80), side 90.
        assert_eq!(
            r,
            Rect {
                x0: 75,
                y0: 35,
                x1: 164,
                y1: 124
            }
        );
    }

    #[test]
    fn shifted_crop_stays_inside_the_frame() {
        let r = rect(
            &bbox(2.0, 2.0, 60.0, 60.0),
            Crop::Shifted { scale: 2.7 },
            200,
            150,
        )
        .unwrap();
        assert!(
            r.x0 >= 0 && r.y0 >= 0 && r.x1 <= 199 && r.y1 <= 149,
            "{r:?}"
        );
        // Scale limited by the frame: (150 - 1) / 60.
        assert_eq!(r.y1 - r.y0, 149);
    }

    #[test]
    fn boxes_outside_the_frame_or_not_finite_get_no_crop() {
        let c = Crop::Square { scale: 1.5 };
        for b in [
            bbox(700.0, 10.0, 40.0, 40.0),
            bbox(-50.0, 10.0, 40.0, 40.0),
            bbox(f32::NAN, 10.0, 40.0, 40.0),
            bbox(10.0, 10.0, f32::INFINITY, 40.0),
            bbox(10.0, 10.0, 0.0, 40.0),
            bbox(1e30, 10.0, 40.0, 40.0),
        ] {
            assert_eq!(rect(&b, c, 640, 480), None, "{b:?}");
        }
    }
}
