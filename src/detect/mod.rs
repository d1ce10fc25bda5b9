//! Face detection with YuNet: resize straight from the frame's format, run the model, decode
//! the three strides, suppress overlaps, map back to source coordinates.

mod config;
mod decode;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tract_onnx::prelude::*;

pub use config::DetectorConfig;

use crate::geometry::{BoundingBox, Point};
use crate::image::resize::{resize_area_into, PlanarTarget};
use crate::image::ImageView;
use crate::model::{self, Interface, ModelError, ModelId, ModelInput, Runner};

/// Why detection failed on a frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The detector could not be prepared for this frame size.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The model failed while running.
    #[error("face detector failed while running: {0}")]
    Inference(String),
    /// The model's outputs do not have YuNet's layout.
    #[error("face detector output {index} has {found} values, expected {expected}: is this YuNet 2023mar?")]
    UnexpectedOutput {
        index: usize,
        expected: usize,
        found: usize,
    },
}

/// One detected face in source-image coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    /// Face box.
    #[serde(rename = "box")]
    pub bbox: BoundingBox,
    /// Detector confidence in 0..=1.
    pub score: f32,
    /// Right eye, left eye (as seen in the image: left to right), nose tip, right and left
    /// mouth corners.
    pub landmarks: [Point; 5],
}

/// Strides of YuNet's three output scales.
const STRIDES: [usize; 3] = [8, 16, 32];
/// YuNet needs input sides that are multiples of its largest stride.
const ALIGN: usize = 32;
/// How many input sizes stay prepared at once (a camera uses one or two).
const MAX_PREPARED_SIZES: usize = 8;

/// A loaded YuNet face detector. `Send + Sync`: share one between camera streams.
///
/// The frame, resized into the model's `f32` input, is wiped after each run (failed runs
/// included); the activations tract computes from it, and the raw outputs (scores, boxes,
/// landmarks), are freed unwiped (see [`Engine`](crate::Engine#what-a-run-leaves-in-memory)).
pub struct Detector {
    /// The parsed graph, specialised to a concrete input size on first use of that size.
    graph: Mutex<InferenceModel>,
    origin: String,
    id: ModelId,
    config: DetectorConfig,
    prepared: RwLock<HashMap<(usize, usize), Arc<Runner>>>,
}

impl Detector {
    const ROLE: &'static str = "face detector";

    /// Loads YuNet from an ONNX file.
    pub fn from_path(
        path: impl AsRef<std::path::Path>,
        config: DetectorConfig,
    ) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let bytes = model::read_file(path)?;
        Self::load(&bytes, path.display().to_string(), config)
    }

    /// Loads YuNet from ONNX bytes (for firmware without a file system).
    pub fn from_bytes(bytes: &[u8], config: DetectorConfig) -> Result<Self, ModelError> {
        Self::load(bytes, format!("<{} bytes in memory>", bytes.len()), config)
    }

    fn load(bytes: &[u8], origin: String, config: DetectorConfig) -> Result<Self, ModelError> {
        config.validate()?;
        let graph = model::parse(
            Self::ROLE,
            &origin,
            bytes,
            &Interface {
                inputs: 1,
                outputs: 12,
                meaning: "YuNet: cls, obj, bbox, kps at strides 8, 16, 32",
            },
        )?;
        let detector = Detector {
            graph: Mutex::new(graph),
            origin,
            id: ModelId::of(bytes),
            config,
            prepared: RwLock::new(HashMap::new()),
        };
        // Prepare the most common camera size now, so that loading fails here, not on a frame.
        detector.prepare(640, 480)?;
        Ok(detector)
    }

    /// The detector's configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Identity of the loaded model.
    pub fn model_id(&self) -> ModelId {
        self.id
    }

    /// Prepares the model for frames of `width × height`, so that the first such frame does not
    /// pay for optimising the graph. Called automatically on first use of a size.
    pub fn prepare(&self, width: u32, height: u32) -> Result<(), ModelError> {
        let (_, padded) = self.config.input_geometry(width, height);
        self.runner(padded).map(drop)
    }

    fn runner(&self, (pw, ph): (usize, usize)) -> Result<Arc<Runner>, ModelError> {
        if let Some(r) = read(&self.prepared).get(&(pw, ph)) {
            return Ok(r.clone());
        }
        let graph = self.graph.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let runner = Arc::new(model::specialise(
            graph,
            Self::ROLE,
            &self.origin,
            &[1, 3, ph, pw],
        )?);
        let mut prepared = self.prepared.write().unwrap_or_else(|p| p.into_inner());
        if prepared.len() >= MAX_PREPARED_SIZES {
            prepared.clear();
        }
        Ok(prepared.entry((pw, ph)).or_insert(runner).clone())
    }

    /// Detects faces in `image`, strongest first.
    pub fn detect(&self, image: &ImageView) -> Result<Vec<Face>, DetectError> {
        let mut faces = Vec::new();
        self.detect_into(image, &mut faces)?;
        Ok(faces)
    }

    /// Detects faces in `image` into `faces` (cleared first), strongest first; reusing `faces`
    /// across frames avoids reallocating it.
    pub fn detect_into(&self, image: &ImageView, faces: &mut Vec<Face>) -> Result<(), DetectError> {
        faces.clear();
        let ((dw, dh), (pw, ph)) = self.config.input_geometry(image.width(), image.height());
        let runner = self.runner((pw, ph))?;
        let inference = |e: TractError| DetectError::Inference(format!("{e:#}"));
        // The frame as the model sees it: wiped after the run and on drop (an early return or
        // a panic included).
        let mut input = ModelInput::zeroed(&[1, 3, ph, pw]).map_err(inference)?;
        input
            .fill(|data| {
                resize_area_into(
                    image,
                    dw,
                    dh,
                    PlanarTarget {
                        data,
                        row_stride: pw,
                        plane_stride: pw * ph,
                        // YuNet takes BGR.
                        plane_of_rgb: [2, 1, 0],
                    },
                )
            })
            .map_err(inference)?;
        let scale = (
            image.width() as f32 / dw as f32,
            image.height() as f32 / dh as f32,
        );
        runner
            .run_wiped(&mut input, |outputs| {
                decode::decode(&outputs, (pw, ph), scale, &self.config, faces)
            })
            .map_err(inference)?
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::DETECTOR_FILE;

    /// The project's detector; a missing model fails the test with the fix.
    fn detector() -> Detector {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(DETECTOR_FILE);
        assert!(
            path.is_file(),
            "{} is missing: {}",
            path.display(),
            model::FETCH_HINT
        );
        Detector::from_path(path, DetectorConfig::default()).unwrap()
    }

    fn frame_input(shape: &[usize]) -> ModelInput {
        let mut input = ModelInput::zeroed(shape).unwrap();
        input
            .fill(|d| {
                for (i, v) in d.iter_mut().enumerate() {
                    *v = 1.0 + (i % 254) as f32;
                }
            })
            .unwrap();
        assert!(input.values().iter().all(|v| *v != 0.0));
        input
    }

    #[test]
    fn the_frame_given_to_the_model_is_zero_after_the_run() {
        let d = detector();
        let ((_, _), (pw, ph)) = d.config.input_geometry(640, 480);
        let runner = d.runner((pw, ph)).unwrap();
        let mut input = frame_input(&[1, 3, ph, pw]);
        let outputs = runner.run_wiped(&mut input, |o| o.len()).unwrap();
        assert_eq!(outputs, 12);
        assert!(input.values().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn the_frame_given_to_the_model_is_zero_after_a_failed_run() {
        let d = detector();
        let ((_, _), (pw, ph)) = d.config.input_geometry(640, 480);
        let runner = d.runner((pw, ph)).unwrap();
        let mut input = frame_input(&[1, 3, ph, pw + 32]);
        assert!(runner.run_wiped(&mut input, |o| o.len()).is_err());
        assert!(input.values().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn a_pooled_run_state_serves_the_next_frame_after_a_wiped_one() {
        // A frame with no face, twice: the second run reuses the first one's state.
        let d = detector();
        let gray = vec![128u8; 320 * 240 * 3];
        let view = ImageView::rgb(&gray, 320, 240).unwrap();
        assert!(d.detect(&view).unwrap().is_empty());
        assert!(d.detect(&view).unwrap().is_empty());
    }
}
