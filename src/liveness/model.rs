//! The default liveness check: PAD models run through tract, their log-odds fused.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

use super::crop;
use super::spec::{LivenessSpec, Output, PadModelSpec};
use super::{Liveness, LivenessError, LivenessScore, LOG_ODDS_LIMIT};
use crate::detect::Face;
use crate::embed::ColorOrder;
use crate::image::ImageView;
use crate::model::{self, Interface, ModelError, ModelId, ModelInput, Promised, Runner};

/// The liveness description [`ModelLiveness::from_dir`] (and
/// [`Engine::from_dir`](crate::Engine::from_dir)) looks for.
pub const LIVENESS_SPEC_FILE: &str = "liveness.json";

/// One loaded presentation-attack model and its description. `Send + Sync`.
///
/// The crop, as the model's `f32` input, is wiped after each run (failed runs included).
pub struct PadModel {
    /// Shared by the entries of one file at two crops.
    runner: Arc<Runner>,
    spec: PadModelSpec,
    id: ModelId,
}

impl PadModel {
    const ROLE: &'static str = "presentation-attack";

    /// Loads a model from ONNX bytes and its description.
    pub fn from_bytes(bytes: &[u8], spec: PadModelSpec) -> Result<Self, ModelError> {
        Self::load(bytes, format!("<{} bytes in memory>", bytes.len()), spec)
    }

    /// Loads a model from an ONNX file and its description.
    pub fn from_path(path: impl AsRef<Path>, spec: PadModelSpec) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let bytes = model::read_file(path)?;
        Self::load(&bytes, path.display().to_string(), spec)
    }

    fn load(bytes: &[u8], origin: String, spec: PadModelSpec) -> Result<Self, ModelError> {
        let [w, h] = spec.input;
        let runner = model::load_checked(
            Self::ROLE,
            &origin,
            bytes,
            &Interface {
                inputs: 1,
                outputs: 1,
                meaning: "a face crop in, class scores out",
            },
            &[1, 3, h as usize, w as usize],
            Promised {
                values: spec.classes,
                described_as: format!("{} classes", spec.classes),
            },
        )?;
        Ok(PadModel {
            runner: Arc::new(runner),
            spec,
            id: ModelId::of(bytes),
        })
    }

    /// The model's description.
    pub fn spec(&self) -> &PadModelSpec {
        &self.spec
    }

    /// Identity of the loaded model (first bytes of its SHA-256).
    pub fn model_id(&self) -> ModelId {
        self.id
    }

    fn run(&self, input: &mut ModelInput) -> Result<Vec<f32>, LivenessError> {
        let inference = |e: TractError| LivenessError::Inference(format!("{e:#}"));
        self.runner
            .run_wiped(input, |outputs| {
                let out = outputs
                    .first()
                    .ok_or_else(|| TractError::msg("model returned no output"))?;
                let plain = out.try_as_plain_ram()?;
                Ok::<_, TractError>(plain.as_slice::<f32>()?.to_vec())
            })
            .and_then(|r| r)
            .map_err(inference)
    }

    /// The model's input for `face` in `image`: the crop, resampled, in the model's channel
    /// order and normalisation (`[1, 3, h, w]`, planar).
    pub(crate) fn input(
        &self,
        image: &ImageView,
        face: &Face,
    ) -> Result<ModelInput, LivenessError> {
        let [w, h] = self.spec.input;
        let (w, h) = (w as usize, h as usize);
        let rect = crop::rect(&face.bbox, self.spec.crop, image.width(), image.height())
            .ok_or(LivenessError::FaceOutsideFrame)?;
        let inference = |e: TractError| LivenessError::Inference(format!("{e:#}"));
        let mut input = ModelInput::zeroed(&[1, 3, h, w]).map_err(inference)?;
        let order = match self.spec.color_order {
            ColorOrder::Rgb => [0, 1, 2],
            ColorOrder::Bgr => [2, 1, 0],
        };
        let (mean, std) = (self.spec.mean, self.spec.std);
        let plane = w * h;
        input
            .fill(|data| {
                crop::sample(image, rect, w, h, |x, y, rgb| {
                    for (c, &src) in order.iter().enumerate() {
                        data[c * plane + y * w + x] = (rgb[src] - mean[c]) / std[c];
                    }
                })
            })
            .map_err(inference)?;
        Ok(input)
    }

    /// The probability this model gives to "live" for `face` in `image`.
    pub fn live_probability(&self, image: &ImageView, face: &Face) -> Result<f32, LivenessError> {
        let mut input = self.input(image, face)?;
        let out = self.run(&mut input)?;
        live_probability(&out, &self.spec)
    }
}

/// P(live) from a model's output.
fn live_probability(out: &[f32], spec: &PadModelSpec) -> Result<f32, LivenessError> {
    if out.len() != spec.classes || out.iter().any(|v| !v.is_finite()) {
        return Err(LivenessError::Inference(format!(
            "model returned {} values (not all finite?), {} classes expected",
            out.len(),
            spec.classes
        )));
    }
    let p = match spec.output {
        Output::Probabilities => out[spec.live_class],
        Output::Logits => {
            let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = out.iter().map(|v| (v - max).exp()).sum();
            (out[spec.live_class] - max).exp() / sum
        }
    };
    Ok(p)
}

/// Mean of `(|R − G| + |G − B| + |B − R|) / 3` over a 16 × 16 grid of points in the face box
/// (clipped to the frame): 0 for a grey face.
fn colourfulness(image: &ImageView, face: &Face) -> f32 {
    const GRID: usize = 16;
    let b = &face.bbox;
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (x0, x1) = (b.x.max(0.0), (b.x + b.width).min(w - 1.0));
    let (y0, y1) = (b.y.max(0.0), (b.y + b.height).min(h - 1.0));
    if !(x1 >= x0 && y1 >= y0) {
        return 0.0;
    }
    let mut sum = 0.0f32;
    for j in 0..GRID {
        for i in 0..GRID {
            let x = x0 + (x1 - x0) * (i as f32 + 0.5) / GRID as f32;
            let y = y0 + (y1 - y0) * (j as f32 + 0.5) / GRID as f32;
            let [r, g, b] = image.rgb_at(x as usize, y as usize);
            sum += ((r - g).abs() + (g - b).abs() + (b - r).abs()) / 3.0;
        }
    }
    sum / (GRID * GRID) as f32
}

/// Log-odds of `p`, clamped to ±[`LOG_ODDS_LIMIT`].
pub(crate) fn log_odds(p: f32) -> f32 {
    let limit = 1.0 / (1.0 + LOG_ODDS_LIMIT.exp());
    let p = p.clamp(limit, 1.0 - limit);
    (p / (1.0 - p)).ln().clamp(-LOG_ODDS_LIMIT, LOG_ODDS_LIMIT)
}

/// The default liveness check: the PAD models of a [`LivenessSpec`], each on its own crop,
/// fused as the weighted mean of their log-odds of "live".
pub struct ModelLiveness {
    spec: LivenessSpec,
    models: Vec<PadModel>,
}

impl ModelLiveness {
    /// Loads `liveness.json` and the models it names from `dir` (as placed by
    /// `scripts/fetch-models.sh`).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, ModelError> {
        let dir = dir.as_ref();
        let spec = LivenessSpec::from_file(dir.join(LIVENESS_SPEC_FILE))?;
        Self::from_spec_in(spec, dir)
    }

    /// Loads the models `spec` names from `dir`. A file listed twice (one model at two crops)
    /// is read and optimised once when both take the same input size.
    pub fn from_spec_in(spec: LivenessSpec, dir: impl AsRef<Path>) -> Result<Self, ModelError> {
        spec.validate()?;
        let mut models: Vec<PadModel> = Vec::with_capacity(spec.models.len());
        for m in &spec.models {
            let twin = models.iter().find(|p| {
                p.spec.file == m.file && p.spec.input == m.input && p.spec.classes == m.classes
            });
            let model = match twin {
                Some(twin) => PadModel {
                    runner: twin.runner.clone(),
                    spec: m.clone(),
                    id: twin.id,
                },
                None => PadModel::from_path(dir.as_ref().join(&m.file), m.clone())?,
            };
            models.push(model);
        }
        Ok(ModelLiveness { spec, models })
    }

    /// Loads the models `spec` lists from their ONNX bytes, in its order (firmware without a
    /// file system). The same bytes given for two entries (one model at two crops) are
    /// optimised once when both take the same input size.
    pub fn from_bytes(spec: LivenessSpec, models: &[&[u8]]) -> Result<Self, ModelError> {
        spec.validate()?;
        if models.len() != spec.models.len() {
            return Err(ModelError::Spec(format!(
                "{} model buffers given, the liveness description lists {}",
                models.len(),
                spec.models.len()
            )));
        }
        let mut loaded: Vec<PadModel> = Vec::with_capacity(models.len());
        for (bytes, m) in models.iter().zip(&spec.models) {
            let id = ModelId::of(bytes);
            let twin = loaded
                .iter()
                .find(|p| p.id == id && p.spec.input == m.input && p.spec.classes == m.classes);
            let model = match twin {
                Some(twin) => PadModel {
                    runner: twin.runner.clone(),
                    spec: m.clone(),
                    id,
                },
                None => PadModel::from_bytes(bytes, m.clone())?,
            };
            loaded.push(model);
        }
        Ok(ModelLiveness {
            spec,
            models: loaded,
        })
    }

    /// Fuses models already loaded, under `spec`'s threshold and minimum face (for firmware
    /// without a file system: [`PadModel::from_bytes`]). The models must be those `spec`
    /// lists, in its order.
    pub fn new(spec: LivenessSpec, models: Vec<PadModel>) -> Result<Self, ModelError> {
        spec.validate()?;
        let same = models.len() == spec.models.len()
            && models.iter().zip(&spec.models).all(|(m, s)| m.spec == *s);
        if !same {
            return Err(ModelError::Spec(
                "the loaded models are not those the liveness description lists, in its order"
                    .into(),
            ));
        }
        Ok(ModelLiveness { spec, models })
    }

    /// The description.
    pub fn spec(&self) -> &LivenessSpec {
        &self.spec
    }

    /// The loaded models, in the description's order.
    pub fn models(&self) -> &[PadModel] {
        &self.models
    }

    /// Each model's log-odds of "live" for `face` (for tools that study the fusion).
    pub fn model_log_odds(
        &self,
        image: &ImageView,
        face: &Face,
    ) -> Result<Vec<f32>, LivenessError> {
        self.judgeable(image, face)?;
        self.models
            .iter()
            .map(|m| m.live_probability(image, face).map(log_odds))
            .collect()
    }

    /// Refuses faces with too few pixels (or no box in the frame) before any model runs.
    fn judgeable(&self, image: &ImageView, face: &Face) -> Result<(), LivenessError> {
        let b = &face.bbox;
        if ![b.x, b.y, b.width, b.height].iter().all(|v| v.is_finite()) {
            return Err(LivenessError::FaceOutsideFrame);
        }
        let side = b.width.min(b.height);
        let (w, h) = (image.width() as f32, image.height() as f32);
        if b.x + b.width <= 0.0 || b.y + b.height <= 0.0 || b.x >= w || b.y >= h {
            return Err(LivenessError::FaceOutsideFrame);
        }
        if side < self.spec.min_face {
            return Err(LivenessError::FaceTooSmall {
                side,
                min: self.spec.min_face,
            });
        }
        let colour = colourfulness(image, face);
        if colour < self.spec.min_colour {
            return Err(LivenessError::NoColour {
                colour,
                min: self.spec.min_colour,
            });
        }
        Ok(())
    }
}

impl Liveness for ModelLiveness {
    fn check(&self, image: &ImageView, face: &Face) -> Result<LivenessScore, LivenessError> {
        Ok(self.fuse(&self.model_log_odds(image, face)?))
    }
}

impl ModelLiveness {
    /// The verdict from the models' log-odds ([`model_log_odds`](Self::model_log_odds)):
    /// their weighted mean against the threshold.
    pub fn fuse(&self, log_odds: &[f32]) -> LivenessScore {
        let (mut sum, mut weights) = (0.0f32, 0.0f32);
        for (l, m) in log_odds.iter().zip(&self.spec.models) {
            sum += m.weight * l;
            weights += m.weight;
        }
        LivenessScore {
            score: if weights > 0.0 {
                sum / weights
            } else {
                f32::NAN
            },
            threshold: self.spec.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_odds_are_clamped_and_symmetric() {
        assert_eq!(log_odds(0.5), 0.0);
        assert!((log_odds(0.9) + log_odds(0.1)).abs() < 1e-5);
        assert_eq!(log_odds(1.0), LOG_ODDS_LIMIT);
        assert_eq!(log_odds(0.0), -LOG_ODDS_LIMIT);
    }

    #[test]
    fn softmax_picks_the_live_class() {
        let mut spec = LivenessSpec::bundled().models[0].clone();
        spec.classes = 3;
        spec.live_class = 1;
        spec.output = Output::Logits;
        let p = live_probability(&[0.0, (2.0f32).ln(), 0.0], &spec).unwrap();
        assert!((p - 0.5).abs() < 1e-6, "{p}");
        assert!(live_probability(&[0.0, f32::NAN, 0.0], &spec).is_err());
        assert!(live_probability(&[0.0, 1.0], &spec).is_err());
    }
}
