use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::align::AlignmentTemplate;
use crate::matching::OperatingPoints;
use crate::model::ModelError;

/// The bundled embedder's description, operating points included.
const FR_FEATURE_JSON: &str = include_str!("../../models/fr_feature.json");

/// Channel order an embedder expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorOrder {
    Rgb,
    Bgr,
}

/// What an ArcFace-style embedder expects and returns: data, not code, so that a vendor can
/// plug in their own licensed model with a JSON file beside it.
///
/// Input value = (pixel − `mean`) / `std`, per channel in the model's channel order.
///
/// ```
/// let spec = faceguard::EmbedderSpec::from_json(r#"{
///     "name": "sface",
///     "color_order": "rgb",
///     "mean": [0, 0, 0], "std": [1, 1, 1],
///     "output_dim": 128,
///     "alignment": { "width": 112, "height": 112, "points": [
///         [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
///         [41.5493, 92.3655], [70.7299, 92.2041] ] }
/// }"#)?;
/// assert_eq!(spec, faceguard::EmbedderSpec::sface());
/// # Ok::<(), faceguard::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedderSpec {
    /// A short name for logs and tools.
    pub name: String,
    /// Channel order of the input tensor.
    pub color_order: ColorOrder,
    /// Subtracted from each channel (in the model's channel order).
    pub mean: [f32; 3],
    /// Each channel is divided by this after subtracting `mean`.
    pub std: [f32; 3],
    /// Length of the embedding the model outputs.
    pub output_dim: usize,
    /// Input size and landmark template of the alignment the model was trained with.
    pub alignment: AlignmentTemplate,
    /// Decision thresholds by target false-match rate, measured on labelled photos
    /// (`faceguard calibrate` writes them). Without them no false-match rate can be promised
    /// and [`Engine::matcher`](crate::Engine::matcher) refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_points: Option<OperatingPoints>,
}

impl EmbedderSpec {
    /// `fr_feature.onnx`: RGB, (x − 127) / 128, 512-d, ArcFace 112×112 alignment, with the
    /// operating points measured for it: the description `models/fr_feature.json`, built in.
    pub fn fr_feature() -> Self {
        // Checked by the test `bundled_description_parses`: this cannot fail at run time.
        Self::from_json(FR_FEATURE_JSON).expect("models/fr_feature.json is a valid description")
    }

    /// OpenCV Zoo's SFace (`face_recognition_sface_2021dec.onnx`): RGB, raw 0..255, 128-d,
    /// ArcFace 112×112 alignment.
    pub fn sface() -> Self {
        EmbedderSpec {
            name: "sface".into(),
            color_order: ColorOrder::Rgb,
            mean: [0.0; 3],
            std: [1.0; 3],
            output_dim: 128,
            alignment: AlignmentTemplate::arcface_112(),
            operating_points: None,
        }
    }

    /// Parses a description from JSON and checks it.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let spec: EmbedderSpec =
            serde_json::from_str(json).map_err(|e| ModelError::Spec(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Reads a JSON description file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path)
            .map_err(|e| ModelError::Spec(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json(&json).map_err(|e| match e {
            ModelError::Spec(m) => ModelError::Spec(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Checks that the description is usable.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: &str| Err(ModelError::Spec(m.to_string()));
        let a = &self.alignment;
        if !(16..=1024).contains(&a.width) || !(16..=1024).contains(&a.height) {
            return bad("alignment width and height must be in 16..=1024");
        }
        if !(1..=8192).contains(&self.output_dim) {
            return bad("output_dim must be in 1..=8192");
        }
        if self.std.iter().any(|s| !s.is_finite() || *s == 0.0)
            || self.mean.iter().any(|m| !m.is_finite())
        {
            return bad("mean must be finite and std finite and non-zero");
        }
        if a.points.iter().flatten().any(|v| !v.is_finite()) {
            return bad("alignment points must be finite");
        }
        if let Some(points) = &self.operating_points {
            points.validate().map_err(ModelError::Spec)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_description_parses_and_carries_the_default_operating_point() {
        let spec = EmbedderSpec::from_json(FR_FEATURE_JSON).unwrap();
        let points = spec.operating_points.as_ref().unwrap();
        assert_eq!(
            points.default_threshold("fr_feature").unwrap(),
            crate::DEFAULT_THRESHOLD,
            "DEFAULT_THRESHOLD must be the default operating point of models/fr_feature.json"
        );
    }
}
