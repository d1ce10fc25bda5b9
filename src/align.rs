//! Face alignment: a least-squares similarity transform of the five landmarks onto the
//! embedder's template, then a bilinear warp sampled straight from the source frame.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::geometry::Point;
use crate::image::ImageView;

/// Why a face could not be aligned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlignError {
    /// Landmarks are not finite numbers.
    #[error("face landmarks are not finite numbers: pass the landmarks of a detected face")]
    NonFiniteLandmarks,
    /// All landmarks coincide, so no transform fits them.
    #[error("face landmarks coincide: no similarity transform fits them")]
    DegenerateLandmarks,
}

/// Where the five landmarks go in the embedder's input, and that input's size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignmentTemplate {
    /// Output width in pixels.
    pub width: u32,
    /// Output height in pixels.
    pub height: u32,
    /// Target positions of right eye, left eye, nose tip, right and left mouth corners.
    pub points: [[f32; 2]; 5],
}

impl AlignmentTemplate {
    /// The ArcFace 112×112 template (InsightFace), used by ArcFace-style embedders such as
    /// `fr_feature` and OpenCV's SFace.
    pub fn arcface_112() -> Self {
        AlignmentTemplate {
            width: 112,
            height: 112,
            points: [
                [38.2946, 51.6963],
                [73.5318, 51.5014],
                [56.0252, 71.7366],
                [41.5493, 92.3655],
                [70.7299, 92.2041],
            ],
        }
    }
}

/// A similarity transform `p ↦ [a −b; b a]·p + t` (rotation, uniform scale, translation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    /// The similarity transform that maps `src` onto `dst` with the least squared error.
    pub fn estimate(src: &[Point; 5], dst: &[[f32; 2]; 5]) -> Result<Self, AlignError> {
        if src.iter().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
            return Err(AlignError::NonFiniteLandmarks);
        }
        let n = src.len() as f64;
        let mean = |it: &mut dyn Iterator<Item = (f64, f64)>| {
            let (sx, sy) = it.fold((0.0, 0.0), |(ax, ay), (x, y)| (ax + x, ay + y));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(&mut src.iter().map(|p| (p.x as f64, p.y as f64)));
        let (mdx, mdy) = mean(&mut dst.iter().map(|p| (p[0] as f64, p[1] as f64)));
        let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (x, y) = (s.x as f64 - msx, s.y as f64 - msy);
            let (u, v) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            num_a += x * u + y * v;
            num_b += x * v - y * u;
            den += x * x + y * y;
        }
        if den < 1e-9 {
            return Err(AlignError::DegenerateLandmarks);
        }
        let (a, b) = (num_a / den, num_b / den);
        // A vanishing scale (landmarks orthogonal to the template) has no inverse.
        let scale2 = a * a + b * b;
        if !scale2.is_finite() || scale2 <= 1e-12 {
            return Err(AlignError::DegenerateLandmarks);
        }
        Ok(Similarity {
            a,
            b,
            tx: mdx - (a * msx - b * msy),
            ty: mdy - (b * msx + a * msy),
        })
    }

    /// Applies the transform to `p`.
    pub fn apply(&self, p: Point) -> Point {
        let (x, y) = (p.x as f64, p.y as f64);
        Point::new(
            (self.a * x - self.b * y + self.tx) as f32,
            (self.b * x + self.a * y + self.ty) as f32,
        )
    }

    /// The inverse transform (finite for every transform [`estimate`](Self::estimate) returns).
    pub fn inverse(&self) -> Self {
        let k = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / k, -self.b / k);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

/// An aligned face crop: interleaved RGB, 0..=255, wiped on drop.
pub struct AlignedFace {
    width: u32,
    height: u32,
    rgb: Zeroizing<Vec<f32>>,
}

impl AlignedFace {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Interleaved RGB values, row after row.
    pub fn rgb(&self) -> &[f32] {
        &self.rgb
    }
}

#[cfg(test)]
impl AlignedFace {
    /// A uniform crop of grey level `value`.
    pub(crate) fn for_tests(width: u32, height: u32, value: f32) -> Self {
        AlignedFace {
            width,
            height,
            rgb: Zeroizing::new(vec![value; width as usize * height as usize * 3]),
        }
    }
}

impl std::fmt::Debug for AlignedFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedFace")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

/// Warps the face with `landmarks` in `image` onto `template` (bilinear; black outside).
pub fn align(
    image: &ImageView,
    landmarks: &[Point; 5],
    template: &AlignmentTemplate,
) -> Result<AlignedFace, AlignError> {
    let back = Similarity::estimate(landmarks, &template.points)?.inverse();
    let (w, h) = (template.width as usize, template.height as usize);
    let mut rgb = Zeroizing::new(vec![0.0f32; w * h * 3]);
    for (v, row) in rgb.chunks_exact_mut(w * 3).enumerate() {
        for (u, px) in row.chunks_exact_mut(3).enumerate() {
            let src = back.apply(Point::new(u as f32, v as f32));
            px.copy_from_slice(&image.sample_bilinear(src.x, src.y));
        }
    }
    Ok(AlignedFace {
        width: template.width,
        height: template.height,
        rgb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_an_exact_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 5.0,
            ty: -7.0,
        };
        let src = [
            (10.0, 20.0),
            (40.0, 22.0),
            (25.0, 35.0),
            (15.0, 50.0),
            (38.0, 49.0),
        ]
        .map(|(x, y)| Point::new(x, y));
        let dst = src.map(|p| {
            let q = truth.apply(p);
            [q.x, q.y]
        });
        let est = Similarity::estimate(&src, &dst).unwrap();
        assert!((est.a - truth.a).abs() < 1e-5 && (est.b - truth.b).abs() < 1e-5);
        assert!((est.tx - truth.tx).abs() < 1e-3 && (est.ty - truth.ty).abs() < 1e-3);
        let p = est.inverse().apply(est.apply(Point::new(3.0, 4.0)));
        assert!((p.x - 3.0).abs() < 1e-4 && (p.y - 4.0).abs() < 1e-4);
    }

    #[test]
    fn coincident_or_nan_landmarks_are_refused() {
        let t = AlignmentTemplate::arcface_112();
        let same = [Point::new(1.0, 1.0); 5];
        assert!(matches!(
            Similarity::estimate(&same, &t.points),
            Err(AlignError::DegenerateLandmarks)
        ));
        let mut nan = same;
        nan[2].x = f32::NAN;
        assert!(matches!(
            Similarity::estimate(&nan, &t.points),
            Err(AlignError::NonFiniteLandmarks)
        ));
    }

    #[test]
    fn aligning_the_template_onto_itself_copies_the_pixels() {
        let t = AlignmentTemplate::arcface_112();
        let px: Vec<u8> = (0..112 * 112 * 3).map(|i| (i % 251) as u8).collect();
        let view = ImageView::rgb(&px, 112, 112).unwrap();
        let landmarks = t.points.map(|[x, y]| Point::new(x, y));
        let face = align(&view, &landmarks, &t).unwrap();
        for (a, b) in face.rgb().iter().zip(&px) {
            assert!((a - f32::from(*b)).abs() < 1e-2);
        }
    }
}
