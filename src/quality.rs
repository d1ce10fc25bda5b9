//! Face quality: is this face good enough to become a template?
//!
//! A template made from a tiny, blurred, badly lit or turned-away face matches its owner
//! poorly and, worse, can sit closer to strangers than a good one does. Every face is
//! measured before it is embedded ([`assess`]), and a [`QualityPolicy`] decides: an
//! enrolment photo below the enrolment policy is refused with a reason saying what to fix;
//! a probe below the probe policy is "try again", never a non-match and never a match.
//!
//! The measures (all from the detector's landmarks and the aligned crop the embedder sees):
//!
//! | measure | how | why |
//! |---|---|---|
//! | `eye_distance_px` | distance between the two eye landmarks, in frame pixels | resolution of the face (ISO/IEC 29794-5 uses the inter-eye distance) |
//! | `sharpness` | mean absolute Laplacian of the crop's luminance in the inner face, divided by its standard deviation | blur and upscaled small faces, independent of contrast |
//! | `brightness` | mean luminance (0..=255) of the inner face | under- and over-exposure |
//! | `contrast` | standard deviation of that luminance | flat, washed-out or backlit faces |
//! | `yaw` | nose offset from the eyes-mouth midline, over the inter-eye distance (0 = frontal) | faces turned aside |
//! | `pitch` | nose height between eye line (0) and mouth line (1) | faces looking up or down |
//! | `roll_deg` | angle of the eye line | tilted heads (alignment corrects moderate roll) |

use serde::Serialize;

use crate::align::AlignedFace;
use crate::detect::Face;
use crate::geometry::Point;

/// The measures of one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// Distance between the eye centres in frame pixels.
    pub eye_distance_px: f32,
    /// Mean |Laplacian| over standard deviation of the inner face's luminance (about 0.05
    /// for a heavily blurred face, 0.2 and above for a sharp one).
    pub sharpness: f32,
    /// Mean luminance of the inner face, 0..=255.
    pub brightness: f32,
    /// Standard deviation of the inner face's luminance.
    pub contrast: f32,
    /// Horizontal nose offset from the face's midline over the inter-eye distance: 0 for a
    /// frontal face, about ±0.5 at 45 degrees.
    pub yaw: f32,
    /// Nose height between the eye line (0) and the mouth line (1); frontal faces sit near 0.5.
    pub pitch: f32,
    /// Angle of the eye line in degrees (0 = level).
    pub roll_deg: f32,
    /// The detector's confidence.
    pub detector_score: f32,
}

/// Luminance of interleaved RGB.
fn luma(px: &[f32]) -> f32 {
    0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2]
}

/// Measures `face` and its aligned crop `aligned` (as [`Engine::align`](crate::Engine::align)
/// makes it).
pub fn assess(face: &Face, aligned: &AlignedFace) -> Quality {
    let [re, le, nose, rm, lm] = face.landmarks;
    let (w, h) = (aligned.width() as usize, aligned.height() as usize);
    let rgb = aligned.rgb();
    // The inner face: the middle of the crop, clear of the background at its sides.
    let (x0, x1) = (w * 3 / 16, w - w * 3 / 16);
    let (y0, y1) = (h / 8, h - h / 16);
    let y = |x: usize, yy: usize| luma(&rgb[(yy * w + x) * 3..(yy * w + x) * 3 + 3]);
    let (mut sum, mut sum2, mut lap, mut n) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for yy in y0..y1 {
        for x in x0..x1 {
            let v = y(x, yy);
            sum += f64::from(v);
            sum2 += f64::from(v) * f64::from(v);
            if x > 0 && x + 1 < w && yy > 0 && yy + 1 < h {
                let l = y(x - 1, yy) + y(x + 1, yy) + y(x, yy - 1) + y(x, yy + 1) - 4.0 * v;
                lap += f64::from(l.abs());
            }
            n += 1;
        }
    }
    let n = n.max(1) as f64;
    let mean = sum / n;
    let std = (sum2 / n - mean * mean).max(0.0).sqrt();
    let sharpness = if std > 1.0 { lap / n / std } else { 0.0 };

    let eye_mid = mid(re, le);
    let mouth_mid = mid(rm, lm);
    let ied = dist(re, le);
    let roll = (le.y - re.y).atan2(le.x - re.x);
    // In a frame rotated so that the eyes are level.
    let (c, s) = (roll.cos(), -roll.sin());
    let rot = |p: Point| Point::new(c * p.x - s * p.y, s * p.x + c * p.y);
    let (e, m, n_) = (rot(eye_mid), rot(mouth_mid), rot(nose));
    let midline_x = (e.x + m.x) / 2.0;
    let yaw = if ied > 0.0 {
        (n_.x - midline_x) / ied
    } else {
        0.0
    };
    let pitch = if (m.y - e.y).abs() > f32::EPSILON {
        (n_.y - e.y) / (m.y - e.y)
    } else {
        0.0
    };
    Quality {
        eye_distance_px: ied,
        sharpness: sharpness as f32,
        brightness: mean as f32,
        contrast: std as f32,
        yaw,
        pitch,
        roll_deg: roll.to_degrees(),
        detector_score: face.score,
    }
}

fn mid(a: Point, b: Point) -> Point {
    Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)
}

fn dist(a: Point, b: Point) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// What is wrong with a face, and so what to fix.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error, Serialize)]
#[non_exhaustive]
pub enum QualityIssue {
    /// Too few pixels across the face.
    #[error(
        "face too small: {eye_distance_px:.0} px between the eyes, at least {min:.0} needed \
         (come closer to the camera or use a higher resolution)"
    )]
    TooSmall { eye_distance_px: f32, min: f32 },
    /// Blurred (motion, focus) or upscaled from too few pixels.
    #[error(
        "face blurred: sharpness {sharpness:.3}, at least {min:.3} needed (hold still, \
         focus, clean the lens)"
    )]
    Blurred { sharpness: f32, min: f32 },
    /// Under-exposed.
    #[error(
        "face too dark: brightness {brightness:.0}, at least {min:.0} needed (light the face \
         from the front)"
    )]
    TooDark { brightness: f32, min: f32 },
    /// Over-exposed.
    #[error(
        "face over-exposed: brightness {brightness:.0}, at most {max:.0} allowed (less light \
         on the face, no flash at close range)"
    )]
    TooBright { brightness: f32, max: f32 },
    /// Flat, washed-out or back-lit.
    #[error(
        "face without contrast: {contrast:.1}, at least {min:.1} needed (avoid back light \
         and haze)"
    )]
    LowContrast { contrast: f32, min: f32 },
    /// Turned to one side.
    #[error("face turned aside: yaw {yaw:.2}, at most {max:.2} allowed (face the camera)")]
    TurnedAway { yaw: f32, max: f32 },
    /// Looking up or down.
    #[error(
        "face looking up or down: pitch {pitch:.2}, {min:.2}..={max:.2} allowed (look \
         straight at the camera)"
    )]
    LookingUpOrDown { pitch: f32, min: f32, max: f32 },
    /// Head tilted.
    #[error(
        "head tilted by {roll_deg:.0} degrees, at most {max:.0} allowed (hold the head level)"
    )]
    Tilted { roll_deg: f32, max: f32 },
    /// A measure is not a number (degenerate landmarks).
    #[error("face cannot be measured (degenerate landmarks): try again")]
    Unmeasurable,
    /// The policy itself has a limit that is not a number: it refuses every face (fail
    /// closed) until it is fixed.
    #[error("the quality policy has a limit that is not a number: every face is refused")]
    BadPolicy,
}

/// The least quality a face must have; the limits are inclusive.
///
/// Two presets: [`enrolment`](Self::enrolment), for the photo that becomes a stored
/// template (taken once, with someone to help: strict), and [`probe`](Self::probe), for a
/// capture at the camera (lenient: it turns away only faces whose score means nothing, so
/// that "try again" stays rare). The limits come from `faces/` and `faces-eastasia/`
/// (BENCHMARKS.md, "Accuracy"): the probe preset refuses 2 of their 663 photos.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityPolicy {
    /// Least distance between the eyes, in frame pixels (the embedder's crop has about 35).
    pub min_eye_distance_px: f32,
    /// Least [`Quality::sharpness`].
    pub min_sharpness: f32,
    /// Least and most [`Quality::brightness`].
    pub brightness: (f32, f32),
    /// Least [`Quality::contrast`].
    pub min_contrast: f32,
    /// Most |[`Quality::yaw`]| (0.35 is about 35 degrees).
    pub max_yaw: f32,
    /// Least and most [`Quality::pitch`].
    pub pitch: (f32, f32),
    /// Most |[`Quality::roll_deg`]|.
    pub max_roll_deg: f32,
}

impl QualityPolicy {
    /// For enrolment photos: at least 32 px between the eyes, sharp, well lit, within about
    /// 35 degrees of frontal, head level within 30 degrees.
    pub const fn enrolment() -> Self {
        QualityPolicy {
            min_eye_distance_px: 32.0,
            min_sharpness: 0.12,
            brightness: (50.0, 215.0),
            min_contrast: 16.0,
            max_yaw: 0.35,
            pitch: (0.3, 0.8),
            max_roll_deg: 30.0,
        }
    }

    /// For probes: at least 20 px between the eyes, not heavily blurred, neither black nor
    /// white, within about 50 degrees of frontal; any roll (alignment corrects it).
    pub const fn probe() -> Self {
        QualityPolicy {
            min_eye_distance_px: 20.0,
            min_sharpness: 0.08,
            brightness: (35.0, 230.0),
            min_contrast: 10.0,
            max_yaw: 0.6,
            pitch: (0.2, 0.9),
            max_roll_deg: 180.0,
        }
    }

    /// Accepts every measurable face: for evaluations that measure what the gates buy
    /// (`faceguard eval --no-quality`), never for a deployment.
    pub const fn accept_all() -> Self {
        QualityPolicy {
            min_eye_distance_px: 0.0,
            min_sharpness: 0.0,
            brightness: (0.0, 255.0),
            min_contrast: 0.0,
            max_yaw: f32::INFINITY,
            pitch: (f32::NEG_INFINITY, f32::INFINITY),
            max_roll_deg: 180.0,
        }
    }

    /// The first limit `q` breaks, in the order size, sharpness, exposure, pose (the order
    /// in which they are worth fixing).
    pub fn check(&self, q: &Quality) -> Result<(), QualityIssue> {
        let limits = [
            self.min_eye_distance_px,
            self.min_sharpness,
            self.brightness.0,
            self.brightness.1,
            self.min_contrast,
            self.max_yaw,
            self.pitch.0,
            self.pitch.1,
            self.max_roll_deg,
        ];
        // A NaN limit would make its comparison always false, and so let every face through.
        if limits.iter().any(|l| l.is_nan()) {
            return Err(QualityIssue::BadPolicy);
        }
        let measures = [
            q.eye_distance_px,
            q.sharpness,
            q.brightness,
            q.contrast,
            q.yaw,
            q.pitch,
            q.roll_deg,
        ];
        if measures.iter().any(|v| !v.is_finite()) {
            return Err(QualityIssue::Unmeasurable);
        }
        if q.eye_distance_px < self.min_eye_distance_px {
            return Err(QualityIssue::TooSmall {
                eye_distance_px: q.eye_distance_px,
                min: self.min_eye_distance_px,
            });
        }
        if q.sharpness < self.min_sharpness {
            return Err(QualityIssue::Blurred {
                sharpness: q.sharpness,
                min: self.min_sharpness,
            });
        }
        if q.brightness < self.brightness.0 {
            return Err(QualityIssue::TooDark {
                brightness: q.brightness,
                min: self.brightness.0,
            });
        }
        if q.brightness > self.brightness.1 {
            return Err(QualityIssue::TooBright {
                brightness: q.brightness,
                max: self.brightness.1,
            });
        }
        if q.contrast < self.min_contrast {
            return Err(QualityIssue::LowContrast {
                contrast: q.contrast,
                min: self.min_contrast,
            });
        }
        if q.yaw.abs() > self.max_yaw {
            return Err(QualityIssue::TurnedAway {
                yaw: q.yaw,
                max: self.max_yaw,
            });
        }
        if q.pitch < self.pitch.0 || q.pitch > self.pitch.1 {
            return Err(QualityIssue::LookingUpOrDown {
                pitch: q.pitch,
                min: self.pitch.0,
                max: self.pitch.1,
            });
        }
        if q.roll_deg.abs() > self.max_roll_deg {
            return Err(QualityIssue::Tilted {
                roll_deg: q.roll_deg,
                max: self.max_roll_deg,
            });
        }
        Ok(())
    }
}

/// A face refused by a quality gate: no template was made.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QualityError {
    /// An enrolment photo below [`QualityPolicy::enrolment`]: take another photo.
    #[error("enrolment photo refused: {0}")]
    Enrolment(QualityIssue),
    /// A probe below [`QualityPolicy::probe`]: neither a match nor a non-match, try again.
    #[error("capture too poor to decide, try again: {0}")]
    Probe(QualityIssue),
}

impl QualityError {
    /// What is wrong with the face.
    pub fn issue(&self) -> QualityIssue {
        match self {
            QualityError::Enrolment(i) | QualityError::Probe(i) => *i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::BoundingBox;

    fn frontal(ied: f32) -> Face {
        let (cx, cy) = (200.0, 200.0);
        Face {
            bbox: BoundingBox {
                x: cx - ied,
                y: cy - ied,
                width: 2.0 * ied,
                height: 2.4 * ied,
            },
            score: 0.9,
            landmarks: [
                Point::new(cx - ied / 2.0, cy),
                Point::new(cx + ied / 2.0, cy),
                Point::new(cx, cy + 0.6 * ied),
                Point::new(cx - 0.4 * ied, cy + 1.1 * ied),
                Point::new(cx + 0.4 * ied, cy + 1.1 * ied),
            ],
        }
    }

    fn good() -> Quality {
        Quality {
            eye_distance_px: 80.0,
            sharpness: 0.4,
            brightness: 140.0,
            contrast: 45.0,
            yaw: 0.0,
            pitch: 0.55,
            roll_deg: 0.0,
            detector_score: 0.93,
        }
    }

    #[test]
    fn pose_of_a_frontal_face_is_zero_and_turning_moves_yaw() {
        let face = frontal(60.0);
        let crop = AlignedFace::for_tests(112, 112, 128.0);
        let q = assess(&face, &crop);
        assert!((q.eye_distance_px - 60.0).abs() < 1e-3);
        assert!(q.yaw.abs() < 1e-3 && q.roll_deg.abs() < 1e-3);
        assert!((q.pitch - 0.6 / 1.1).abs() < 1e-3);
        let mut turned = face.clone();
        turned.landmarks[2].x += 0.4 * 60.0;
        assert!((assess(&turned, &crop).yaw - 0.4).abs() < 1e-3);
        // A flat crop has no contrast, hence no sharpness.
        assert_eq!((q.contrast, q.sharpness), (0.0, 0.0));
    }

    /// A way to spoil a good face, and the reason it must be refused for.
    type Case = (fn(&mut Quality), fn(&QualityIssue) -> bool);

    #[test]
    fn each_limit_refuses_with_its_own_reason() {
        let p = QualityPolicy::enrolment();
        assert_eq!(p.check(&good()), Ok(()));
        let cases: [Case; 8] = [
            (
                |q| q.eye_distance_px = 20.0,
                |i| matches!(i, QualityIssue::TooSmall { .. }),
            ),
            (
                |q| q.sharpness = 0.05,
                |i| matches!(i, QualityIssue::Blurred { .. }),
            ),
            (
                |q| q.brightness = 30.0,
                |i| matches!(i, QualityIssue::TooDark { .. }),
            ),
            (
                |q| q.brightness = 240.0,
                |i| matches!(i, QualityIssue::TooBright { .. }),
            ),
            (
                |q| q.contrast = 5.0,
                |i| matches!(i, QualityIssue::LowContrast { .. }),
            ),
            (
                |q| q.yaw = -0.5,
                |i| matches!(i, QualityIssue::TurnedAway { .. }),
            ),
            (
                |q| q.pitch = 0.95,
                |i| matches!(i, QualityIssue::LookingUpOrDown { .. }),
            ),
            (
                |q| q.roll_deg = 45.0,
                |i| matches!(i, QualityIssue::Tilted { .. }),
            ),
        ];
        for (spoil, expected) in cases {
            let mut q = good();
            spoil(&mut q);
            let issue = p.check(&q).unwrap_err();
            assert!(expected(&issue), "{issue:?}");
            assert!(QualityPolicy::accept_all().check(&q).is_ok());
        }
        let mut q = good();
        q.yaw = f32::NAN;
        assert_eq!(p.check(&q), Err(QualityIssue::Unmeasurable));
        // A policy with a NaN limit fails closed: it would otherwise pass every face.
        let broken = QualityPolicy {
            max_yaw: f32::NAN,
            ..QualityPolicy::enrolment()
        };
        assert_eq!(broken.check(&good()), Err(QualityIssue::BadPolicy));
        assert_eq!(
            QualityPolicy::accept_all().check(&q),
            Err(QualityIssue::Unmeasurable)
        );
    }

    #[test]
    fn the_probe_preset_is_laxer_than_the_enrolment_preset() {
        let (e, p) = (QualityPolicy::enrolment(), QualityPolicy::probe());
        assert!(p.min_eye_distance_px < e.min_eye_distance_px);
        assert!(p.min_sharpness < e.min_sharpness && p.min_contrast < e.min_contrast);
        assert!(p.brightness.0 < e.brightness.0 && p.brightness.1 > e.brightness.1);
        assert!(p.max_yaw > e.max_yaw && p.max_roll_deg > e.max_roll_deg);
        assert!(p.pitch.0 < e.pitch.0 && p.pitch.1 > e.pitch.1);
    }
}
