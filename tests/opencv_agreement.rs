//! Agreement with OpenCV 5 + onnxruntime on the reference photos (protocol in
//! shared/data/README.md).

mod common;

use common::*;
use faceguard::{BoundingBox, ConsentLedger, Engine, Face, Point, QualityPolicy};

/// The engine without quality gates: this file compares embeddings with the reference on
/// every face the reference holds, small and blurred background faces included, which the
/// probe gate would rightly turn away ("try again").
fn ungated() -> Engine {
    Engine::from_dir(models_dir())
        .expect("models load")
        .with_quality(QualityPolicy::accept_all(), QualityPolicy::accept_all())
}

/// Comparing the embedder with the reference on every face of the photos, background faces
/// too small for a liveness verdict included.
enum Agreement {}
impl faceguard::Purpose for Agreement {
    const NAME: &'static str = "agreement";
    const PROBE_LIVENESS: faceguard::LivenessPolicy = faceguard::LivenessPolicy::Waived {
        reason: "agreement of the embedder with a reference, on photos",
    };
}

fn reference_face(f: &serde_json::Value) -> Face {
    let b = floats(&f["box"]);
    let l = floats(&f["landmarks"]);
    Face {
        bbox: BoundingBox {
            x: b[0],
            y: b[1],
            width: b[2],
            height: b[3],
        },
        score: f["score"].as_f64().unwrap() as f32,
        landmarks: std::array::from_fn(|k| Point::new(l[2 * k], l[2 * k + 1])),
    }
}

#[test]
fn detection_at_640_finds_every_reference_face_with_landmarks_within_5_percent() {
    let mut checked = 0;
    for (name, entry) in reference() {
        let img = photo(&name);
        let found = engine().detect(&img.view()).unwrap();
        for rf in entry["faces"].as_array().unwrap() {
            let want = reference_face(rf);
            let best = found
                .iter()
                .max_by(|a, b| a.bbox.iou(&want.bbox).total_cmp(&b.bbox.iou(&want.bbox)))
                .unwrap_or_else(|| panic!("{name}: no face detected"));
            let iou = best.bbox.iou(&want.bbox);
            assert!(iou >= 0.8, "{name}: best IoU {iou:.3} < 0.8");
            for (k, (got, exp)) in best.landmarks.iter().zip(&want.landmarks).enumerate() {
                let err = ((got.x - exp.x).powi(2) + (got.y - exp.y).powi(2)).sqrt();
                assert!(
                    err <= 0.05 * want.bbox.width,
                    "{name}: landmark {k} off by {err:.1} px (box width {:.1})",
                    want.bbox.width
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 61, "only {checked} reference faces checked");
}

#[test]
fn embedding_from_reference_landmarks_matches_reference_embedding() {
    let ledger = ConsentLedger::new();
    let engine = ungated();
    let mut worst = 1.0f32;
    let mut checked = 0;
    for (name, entry) in reference() {
        let img = photo(&name);
        for rf in entry["faces"].as_array().unwrap() {
            let face = reference_face(rf);
            let probe = ledger.probe_consent::<Agreement>(NOTICE).unwrap();
            let t = engine.probe_template(probe, &img.view(), &face).unwrap();
            let cos = cosine(t.expose_secret().unwrap(), &floats(&rf["embedding"]));
            assert!(
                cos >= 0.99,
                "{name}: cosine {cos:.4} to the reference embedding"
            );
            worst = worst.min(cos);
            checked += 1;
        }
    }
    assert!(checked >= 61);
    eprintln!("worst cosine over {checked} faces: {worst:.5}");
}
