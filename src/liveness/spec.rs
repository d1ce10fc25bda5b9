//! What a presentation-attack model expects and returns, and how several are fused: data, not
//! code (`models/liveness.json`), so that a vendor can plug in another RGB PAD model.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::embed::ColorOrder;
use crate::model::ModelError;

/// The bundled description: the three PAD models of `models/README.md`, fused.
const LIVENESS_JSON: &str = include_str!("../../models/liveness.json");

/// Largest model input side accepted from a description, in pixels.
const MAX_INPUT_SIDE: u32 = 1024;
/// Most models one description may fuse.
const MAX_MODELS: usize = 16;
/// Most classes a model may output.
const MAX_CLASSES: usize = 16;

/// How a model's input square is cut out of the frame around the face box.
///
/// Both kinds cut a rectangle in frame pixels and resample it to the model's input size
/// bilinearly, with pixel centres mapped onto pixel centres (OpenCV's `resize` convention),
/// straight from the frame in its own pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Crop {
    /// A square of `scale` × the box's longer side, centred on the box. Where it leaves the
    /// frame the frame is mirrored about its edge pixel (OpenCV's `BORDER_REFLECT_101`).
    /// Side: the scaled side rounded to whole pixels; left/top edge: the centre minus half
    /// the side, rounded.
    Square { scale: f32 },
    /// Silent-Face-Anti-Spoofing's crop: the box scaled about its centre by
    /// `min(scale, (H-1)/h, (W-1)/w)`, then shifted back inside the frame (never padded), its
    /// corners truncated to whole pixels as the authors' code does.
    Shifted { scale: f32 },
}

impl Crop {
    fn scale(self) -> f32 {
        match self {
            Crop::Square { scale } | Crop::Shifted { scale } => scale,
        }
    }
}

/// What the model's output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Unnormalised scores: softmax is applied.
    Logits,
    /// Probabilities summing to one.
    Probabilities,
}

/// One presentation-attack model: its file, the crop and input it takes, and the meaning of
/// its output.
///
/// Input value = (pixel − `mean`) / `std` per channel, pixels in 0..=255, in `color_order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PadModelSpec {
    /// A short name for logs and tools.
    pub name: String,
    /// The ONNX file, relative to the description's directory.
    pub file: String,
    /// Input width and height in pixels.
    pub input: [u32; 2],
    /// How the input is cut from the frame.
    pub crop: Crop,
    /// Channel order of the input tensor.
    pub color_order: ColorOrder,
    /// Subtracted from each channel (0..=255 pixels, in the model's channel order).
    pub mean: [f32; 3],
    /// Each channel is divided by this after subtracting `mean`.
    pub std: [f32; 3],
    /// Number of output classes.
    pub classes: usize,
    /// Index of the class "live" (bona fide); every other class is an attack.
    pub live_class: usize,
    /// Whether the output is logits or probabilities.
    pub output: Output,
    /// Weight of this model in the fused score (the weighted mean of the models' log-odds).
    #[serde(default = "one")]
    pub weight: f32,
}

fn one() -> f32 {
    1.0
}

fn default_min_colour() -> f32 {
    2.0
}

/// A liveness check made of one or more PAD models: each model's probability of a live face
/// becomes log-odds, clamped to ±[`LOG_ODDS_LIMIT`](super::LOG_ODDS_LIMIT), and the score is
/// their weighted mean; a face is live when the score is at least `threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessSpec {
    /// A short name for logs and tools.
    pub name: String,
    /// Decision threshold on the fused score (log-odds of "live").
    pub threshold: f32,
    /// Faces whose box is narrower or lower than this (pixels) get no decision
    /// ([`LivenessError::FaceTooSmall`](super::LivenessError::FaceTooSmall)): too few pixels
    /// to tell skin from paper or a screen.
    pub min_face: f32,
    /// RGB models need colour: a face whose mean difference between colour channels (0..255,
    /// over the face box) is below this gets no decision
    /// ([`LivenessError::NoColour`](super::LivenessError::NoColour)): an infrared or
    /// greyscale frame. 0 judges every face.
    #[serde(default = "default_min_colour")]
    pub min_colour: f32,
    /// How the threshold was chosen (data, figures): shown by tools, never parsed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub calibration: String,
    /// The fused models.
    pub models: Vec<PadModelSpec>,
}

impl LivenessSpec {
    /// The bundled description (`models/liveness.json`).
    pub fn bundled() -> Self {
        // Checked by the test `bundled_description_parses`: this cannot fail at run time.
        Self::from_json(LIVENESS_JSON).expect("models/liveness.json is a valid description")
    }

    /// Parses a description from JSON and checks it.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let spec: LivenessSpec =
            serde_json::from_str(json).map_err(|e| ModelError::Spec(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Reads and checks a description file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let bytes = crate::model::read_file(path)?;
        let json = std::str::from_utf8(&bytes)
            .map_err(|_| ModelError::Spec(format!("{} is not UTF-8", path.display())))?;
        Self::from_json(json)
    }

    /// Checks that every value is usable: finite, in range, consistent.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |what: String| Err(ModelError::Spec(format!("liveness description: {what}")));
        if !self.threshold.is_finite() || self.threshold.abs() > super::LOG_ODDS_LIMIT {
            return bad(format!(
                "threshold {} is not a log-odds value within ±{}",
                self.threshold,
                super::LOG_ODDS_LIMIT
            ));
        }
        if !self.min_face.is_finite() || self.min_face < 1.0 {
            return bad(format!("min_face {} is below one pixel", self.min_face));
        }
        if !self.min_colour.is_finite() || !(0.0..=255.0).contains(&self.min_colour) {
            return bad(format!("min_colour {} is outside 0..=255", self.min_colour));
        }
        if self.models.is_empty() || self.models.len() > MAX_MODELS {
            return bad(format!(
                "{} models given, 1 to {MAX_MODELS} accepted",
                self.models.len()
            ));
        }
        for m in &self.models {
            let name = &m.name;
            if m.file.is_empty() || Path::new(&m.file).components().count() != 1 {
                return bad(format!(
                    "model {name}: file `{}` must be a plain file name beside the description",
                    m.file
                ));
            }
            let [w, h] = m.input;
            if !(1..=MAX_INPUT_SIDE).contains(&w) || !(1..=MAX_INPUT_SIDE).contains(&h) {
                return bad(format!(
                    "model {name}: input {w}x{h} is outside 1..={MAX_INPUT_SIDE}"
                ));
            }
            let scale = m.crop.scale();
            if !scale.is_finite() || !(0.5..=16.0).contains(&scale) {
                return bad(format!(
                    "model {name}: crop scale {scale} is outside 0.5..=16"
                ));
            }
            if m.mean.iter().any(|v| !v.is_finite())
                || m.std.iter().any(|v| !v.is_finite() || *v == 0.0)
            {
                return bad(format!(
                    "model {name}: mean must be finite and std finite and non-zero"
                ));
            }
            if !(2..=MAX_CLASSES).contains(&m.classes) || m.live_class >= m.classes {
                return bad(format!(
                    "model {name}: {} classes with live class {} (2 to {MAX_CLASSES} classes, live class among them)",
                    m.classes, m.live_class
                ));
            }
            if !m.weight.is_finite() || m.weight <= 0.0 {
                return bad(format!(
                    "model {name}: weight {} must be positive",
                    m.weight
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_description_parses() {
        let spec = LivenessSpec::bundled();
        assert!(!spec.models.is_empty());
        assert_eq!(
            LivenessSpec::from_json(&serde_json::to_string(&spec).unwrap()).unwrap(),
            spec
        );
    }

    #[test]
    fn a_description_with_impossible_values_is_refused() {
        let good = LivenessSpec::bundled();
        let mut cases: Vec<(&str, LivenessSpec)> = Vec::new();
        let mut s = good.clone();
        s.threshold = f32::NAN;
        cases.push(("threshold", s));
        let mut s = good.clone();
        s.models.clear();
        cases.push(("models", s));
        let mut s = good.clone();
        s.models[0].live_class = s.models[0].classes;
        cases.push(("live class", s));
        let mut s = good.clone();
        s.models[0].std = [0.0; 3];
        cases.push(("std", s));
        let mut s = good.clone();
        s.models[0].input = [0, 128];
        cases.push(("input", s));
        let mut s = good.clone();
        s.models[0].file = "../../etc/passwd".into();
        cases.push(("file", s));
        let mut s = good.clone();
        s.models[0].crop = Crop::Square {
            scale: f32::INFINITY,
        };
        cases.push(("scale", s));
        let mut s = good;
        s.models[0].weight = -1.0;
        cases.push(("weight", s));
        for (what, spec) in cases {
            let json = serde_json::to_string(&spec).unwrap();
            assert!(
                matches!(LivenessSpec::from_json(&json), Err(ModelError::Spec(_))),
                "{what} was accepted"
            );
        }
    }
}
