//! Shared test fixtures: the real models, the real photos, frame conversions.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use faceguard::{
    ConsentLedger, Engine, Gallery, ProbeTemplate, Purpose, SubjectId, Template, FETCH_HINT,
};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The project's models directory; a missing model fails the test with the fix.
pub fn models_dir() -> PathBuf {
    let dir = root().join("models");
    let liveness = faceguard::LivenessSpec::bundled();
    let pad = liveness.models.iter().map(|m| m.file.as_str());
    for f in [faceguard::DETECTOR_FILE, faceguard::EMBEDDER_FILE]
        .into_iter()
        .chain(pad)
    {
        assert!(
            dir.join(f).is_file(),
            "model {} is missing: {FETCH_HINT}",
            dir.join(f).display()
        );
    }
    dir
}

/// One engine for the whole test binary (models are loaded once, as in firmware).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::from_dir(models_dir()).expect("models load"))
}

/// The shared engine's liveness check, for engines a test builds from other models.
pub fn liveness() -> std::sync::Arc<dyn faceguard::Liveness> {
    engine()
        .liveness()
        .expect("from_dir loads the liveness check")
        .clone()
}

/// `../shared/data`, the real labelled photos; missing data fails loudly.
pub fn data_dir() -> PathBuf {
    let dir = root().join("../shared/data");
    assert!(
        dir.join("faces/pairs_dev.csv").is_file(),
        "test data missing at {}: the repository expects shared/ (photos and models) beside it",
        dir.display()
    );
    dir
}

pub fn faces_dir() -> PathBuf {
    data_dir().join("faces")
}

pub fn photo(name: &str) -> faceguard::DecodedImage {
    faceguard::decode_file(faces_dir().join("deepface").join(name)).expect("photo decodes")
}

/// The OpenCV/onnxruntime reference outputs (see shared/data/README.md).
pub fn reference() -> serde_json::Map<String, serde_json::Value> {
    let path = data_dir().join("reference/deepface_opencv_yunet640_frfeature.json");
    let text = std::fs::read_to_string(&path).expect("reference file readable");
    match serde_json::from_str(&text).expect("reference is JSON") {
        serde_json::Value::Object(map) => map,
        _ => panic!("reference is not a JSON object"),
    }
}

pub fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// BT.601 limited-range Y'CbCr of one RGB pixel (the inverse of faceguard's default matrix).
fn yuv(r: u8, g: u8, b: u8) -> (f32, f32, f32) {
    let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
    (
        16.0 + 0.256_788 * r + 0.504_129 * g + 0.097_906 * b,
        128.0 - 0.148_223 * r - 0.290_993 * g + 0.439_216 * b,
        128.0 + 0.439_216 * r - 0.367_788 * g - 0.071_427 * b,
    )
}

/// Y plane and 2×2-averaged U and V planes of an even-sized RGB image, with `pad` extra bytes
/// at the end of each row (to exercise strides).
pub fn yuv420_planes(rgb: &[u8], w: usize, h: usize, pad: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (ys, cs) = (w + pad, w / 2 + pad);
    let mut y = vec![0u8; ys * h];
    let mut u = vec![0u8; cs * h / 2];
    let mut v = vec![0u8; cs * h / 2];
    let q = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    for row in 0..h {
        for col in 0..w {
            let p = &rgb[(row * w + col) * 3..];
            y[row * ys + col] = q(yuv(p[0], p[1], p[2]).0);
        }
    }
    for row in 0..h / 2 {
        for col in 0..w / 2 {
            let (mut su, mut sv) = (0.0, 0.0);
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let p = &rgb[((2 * row + dy) * w + 2 * col + dx) * 3..];
                let (_, cu, cv) = yuv(p[0], p[1], p[2]);
                su += cu;
                sv += cv;
            }
            u[row * cs + col] = q(su / 4.0);
            v[row * cs + col] = q(sv / 4.0);
        }
    }
    (y, u, v)
}

/// NV12 planes (Y, then U and V interleaved) of an even-sized RGB image, `pad` extra bytes per
/// row of each plane.
pub fn nv12_planes(rgb: &[u8], w: usize, h: usize, pad: usize) -> (Vec<u8>, Vec<u8>) {
    let (y, u, v) = yuv420_planes(rgb, w, h, pad);
    (y, u.iter().zip(&v).flat_map(|(a, b)| [*a, *b]).collect())
}

/// Crops an RGB image to even width and height (4:2:0 needs them).
pub fn even_crop(img: &faceguard::DecodedImage) -> (Vec<u8>, usize, usize) {
    let (w, h) = (img.width() as usize & !1, img.height() as usize & !1);
    let full_w = img.width() as usize;
    let mut out = Vec::with_capacity(w * h * 3);
    for row in 0..h {
        out.extend_from_slice(&img.rgb()[row * full_w * 3..row * full_w * 3 + w * 3]);
    }
    (out, w, h)
}

/// A purpose for tests.
pub enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

/// Another purpose, to check that purposes do not mix.
pub enum Attendance {}
impl Purpose for Attendance {
    const NAME: &'static str = "attendance";
}

pub const NOTICE: &str = "Your face template opens the staff door. It is deleted on request.";
pub const DAY: Duration = Duration::from_secs(86_400);

/// Enrols the largest face of `photo` for `subject` into a template.
pub fn enrolment_template<P: Purpose>(
    ledger: &ConsentLedger,
    subject: &str,
    photo_name: &str,
) -> Template<P> {
    let token = ledger
        .grant::<P>(SubjectId::new(subject).unwrap(), NOTICE, DAY)
        .unwrap();
    let img = photo(photo_name);
    let face = largest(&engine().detect(&img.view()).unwrap());
    engine()
        .enrolment_template(&token, &img.view(), &face)
        .unwrap()
}

/// Enrols the largest face of `photo_name` for `subject` into `gallery`.
pub fn enrol<P: Purpose>(
    ledger: &ConsentLedger,
    gallery: &Gallery<P>,
    subject: &str,
    photo_name: &str,
) {
    gallery
        .enroll(enrolment_template::<P>(ledger, subject, photo_name))
        .unwrap();
}

/// The probe template of the largest face of `photo_name`, under a one-off probe consent.
pub fn probe<P: Purpose>(ledger: &ConsentLedger, photo_name: &str) -> ProbeTemplate<P> {
    let img = photo(photo_name);
    let face = largest(&engine().detect(&img.view()).unwrap());
    let consent = ledger.probe_consent::<P>(NOTICE).unwrap();
    engine()
        .probe_template(consent, &img.view(), &face)
        .unwrap()
}

pub fn largest(faces: &[faceguard::Face]) -> faceguard::Face {
    faces
        .iter()
        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
        .expect("at least one face")
        .clone()
}

/// The RGB pixels, width and height of one photo of `faces/deepface`, to degrade.
pub fn photo_rgb(name: &str) -> (Vec<u8>, usize, usize) {
    let img = photo(name);
    (
        img.rgb().to_vec(),
        img.width() as usize,
        img.height() as usize,
    )
}

/// `rgb` (`w`×`h`) shrunk by the whole `factor`, each pixel the mean of a `factor`×`factor`
/// block: what a camera `factor` times farther away, or with `factor` times fewer pixels,
/// would see.
pub fn downscale(rgb: &[u8], w: usize, h: usize, factor: usize) -> (Vec<u8>, usize, usize) {
    let (nw, nh) = (w / factor, h / factor);
    let mut out = Vec::with_capacity(nw * nh * 3);
    for y in 0..nh {
        for x in 0..nw {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..factor {
                    for dx in 0..factor {
                        sum += u32::from(rgb[((y * factor + dy) * w + x * factor + dx) * 3 + c]);
                    }
                }
                out.push((sum / (factor * factor) as u32) as u8);
            }
        }
    }
    (out, nw, nh)
}

/// `rgb` blurred by `passes` box filters of radius `radius` (horizontal then vertical; three
/// passes are close to a Gaussian): a face out of focus or moving.
pub fn blur(rgb: &[u8], w: usize, h: usize, radius: usize, passes: usize) -> Vec<u8> {
    let mut img: Vec<f32> = rgb.iter().map(|&v| f32::from(v)).collect();
    for _ in 0..passes {
        for (dx, dy) in [(1isize, 0isize), (0, 1)] {
            let src = img.clone();
            for y in 0..h {
                for x in 0..w {
                    for c in 0..3 {
                        let (mut sum, mut n) = (0.0f32, 0.0f32);
                        for k in -(radius as isize)..=radius as isize {
                            let (sx, sy) = (x as isize + k * dx, y as isize + k * dy);
                            if sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h {
                                sum += src[(sy as usize * w + sx as usize) * 3 + c];
                                n += 1.0;
                            }
                        }
                        img[(y * w + x) * 3 + c] = sum / n;
                    }
                }
            }
        }
    }
    img.iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// Every pixel value `v` of `rgb` mapped to `centre + (v - centre) * gain + offset`: `gain`
/// below 1 flattens the contrast, `offset` darkens or brightens.
pub fn relight(rgb: &[u8], centre: f32, gain: f32, offset: f32) -> Vec<u8> {
    rgb.iter()
        .map(|&v| {
            (centre + (f32::from(v) - centre) * gain + offset)
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// The RGB pixels of `../shared/data/antispoof/NAME`, upright (the Silent-Face samples are
/// stored on their side, with an EXIF orientation that `decode_file` applies).
pub fn antispoof_sample(name: &str) -> (Vec<u8>, usize, usize) {
    let img = faceguard::decode_file(data_dir().join("antispoof").join(name)).expect("decodes");
    let (w, h) = (img.width() as usize, img.height() as usize);
    (img.rgb().to_vec(), w, h)
}

/// The spoof samples of `../shared/data/antispoof` and their attack: print, screen, screen.
pub const SPOOF_SAMPLES: [(&str, &str); 3] = [
    ("image_F1.jpg", "print"),
    ("image_F2.jpg", "screen"),
    ("inspireface_rgb_fake.jpg", "screen"),
];
