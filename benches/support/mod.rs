//! What the benches share: the sample photos, and the stand-in embedder that fills large
//! galleries fast (see `benches/matching.rs`).

use std::path::PathBuf;

use faceguard::{DecodedImage, Detector, DetectorConfig, Embedder, EmbedderSpec, Engine, Face};

use super::common::{models_dir, root};

pub fn photos_dir() -> PathBuf {
    std::env::var_os("FACEGUARD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"))
        .join("faces/deepface")
}

/// Every photo of the data set with its largest face, in file-name order.
pub fn photos(engine: &Engine) -> Vec<(DecodedImage, Face)> {
    let dir = photos_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "cannot list {}: {e} (the repository expects ../shared/data beside it, \
                 or set FACEGUARD_DATA)",
                dir.display()
            )
        })
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    paths.sort();
    let found: Vec<_> = paths
        .iter()
        .filter_map(|p| {
            let img = faceguard::decode_file(p).expect("photo decodes");
            let faces = engine.detect(&img.view()).expect("detection runs");
            let face = faces
                .into_iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))?;
            Some((img, face))
        })
        .collect();
    assert!(found.len() >= 2, "no faces found in {}", dir.display());
    found
}

/// Minimal protobuf writer, enough for a small ONNX model.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
        self
    }
    fn int(&mut self, field: u64, v: u64) -> &mut Self {
        self.varint(field << 3).varint(v)
    }
    fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
        self.varint((field << 3) | 2).varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    fn msg(&mut self, field: u64, m: &Pb) -> &mut Self {
        self.bytes(field, &m.0)
    }
    fn str(&mut self, field: u64, s: &str) -> &mut Self {
        self.bytes(field, s.as_bytes())
    }
}

/// ValueInfoProto of a float tensor of `dims`.
fn value_info(name: &str, dims: &[u64]) -> Pb {
    let mut shape = Pb::default();
    for &d in dims {
        shape.msg(1, Pb::default().int(1, d));
    }
    let mut tensor = Pb::default();
    tensor.int(1, 1).msg(2, &shape);
    let mut ty = Pb::default();
    ty.msg(1, &tensor);
    let mut vi = Pb::default();
    vi.str(1, name).msg(2, &ty);
    vi
}

/// AttributeProto of type INTS.
fn ints_attribute(name: &str, values: &[u64]) -> Pb {
    let mut a = Pb::default();
    a.str(1, name);
    for &v in values {
        a.int(8, v);
    }
    a.int(20, 7);
    a
}

/// A stand-in embedder: [1,3,112,112] → Conv(8 filters 14×14, stride 14, fixed pseudo-random
/// weights) → [1,8,8,8] → Flatten → [1,512]. Each output is a random projection of one patch
/// of the aligned face, so different faces give different unit vectors.
fn standin_embedder_onnx() -> Vec<u8> {
    let (filters, k) = (8u64, 14u64);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut raw = Vec::new();
    for _ in 0..filters * 3 * k * k {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let w = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        raw.extend_from_slice(&w.to_le_bytes());
    }
    let mut weights = Pb::default();
    for d in [filters, 3, k, k] {
        weights.int(1, d);
    }
    weights.int(2, 1).str(8, "w").bytes(9, &raw);

    let mut conv = Pb::default();
    conv.str(1, "x")
        .str(1, "w")
        .str(2, "c")
        .str(3, "conv")
        .str(4, "Conv")
        .msg(5, &ints_attribute("kernel_shape", &[k, k]))
        .msg(5, &ints_attribute("strides", &[k, k]));
    let mut flatten = Pb::default();
    flatten
        .str(1, "c")
        .str(2, "y")
        .str(3, "flatten")
        .str(4, "Flatten");

    let mut graph = Pb::default();
    graph
        .msg(1, &conv)
        .msg(1, &flatten)
        .str(2, "standin-embedder")
        .msg(5, &weights)
        .msg(11, &value_info("x", &[1, 3, 112, 112]))
        .msg(12, &value_info("y", &[1, 512]));
    let mut opset = Pb::default();
    opset.str(1, "").int(2, 13);
    let mut model = Pb::default();
    model
        .int(1, 7)
        .str(2, "faceguard-bench")
        .msg(7, &graph)
        .msg(8, &opset);
    model.0
}

/// The engine that fills the galleries (see the module documentation).
pub fn gallery_engine() -> (Engine, &'static str) {
    let real = std::env::var("FACEGUARD_BENCH_GALLERY").is_ok_and(|v| v == "fr_feature");
    if real {
        return (
            Engine::from_dir(models_dir()).expect("models load"),
            "fr_feature",
        );
    }
    let detector = Detector::from_path(
        models_dir().join(faceguard::DETECTOR_FILE),
        DetectorConfig::default(),
    )
    .expect("detector loads");
    let spec = EmbedderSpec {
        name: "standin".into(),
        ..EmbedderSpec::fr_feature()
    };
    let embedder =
        Embedder::from_bytes(&standin_embedder_onnx(), spec).expect("stand-in embedder loads");
    (Engine::new(detector, embedder), "stand-in")
}
