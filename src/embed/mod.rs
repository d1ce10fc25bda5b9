//! Face embedding: an aligned crop through an ArcFace-style ONNX model, L2-normalised.
//!
//! The embedding is a biometric template. It leaves this module only inside a
//! [`Template`](crate::Template) or [`ProbeTemplate`](crate::ProbeTemplate), which can only be
//! made with consent (see [`Engine`](crate::Engine)).

mod spec;

use std::path::Path;

use tract_onnx::prelude::*;
use zeroize::Zeroize;

pub use spec::{ColorOrder, EmbedderSpec};

use crate::align::AlignedFace;
use crate::model::{self, Interface, ModelError, ModelId, ModelInput, Promised, Runner};
use crate::template::SecretVector;

/// Why an embedding could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// The aligned face does not have the model's input size.
    #[error("aligned face is {found_w}x{found_h} but the embedder takes {want_w}x{want_h}: align with this embedder's template")]
    WrongInputSize {
        found_w: u32,
        found_h: u32,
        want_w: u32,
        want_h: u32,
    },
    /// The model failed while running.
    #[error("face embedder failed while running: {0}")]
    Inference(String),
    /// The model returned a zero or non-finite vector.
    #[error("face embedder returned a zero or non-finite vector: the crop holds no usable face")]
    Degenerate,
    /// A fused enrolment was given no photo, or too many.
    #[error("a fused enrolment takes 1 to {max} photos, {given} given")]
    PhotoCount { given: usize, max: usize },
}

/// A loaded embedder and its description. `Send + Sync`: share one between camera streams.
///
/// The aligned face, as the model's normalised `f32` input, and the raw embedding the model
/// returns are wiped after each run (failed runs included); the activations tract computes
/// between them are freed unwiped (see [`Engine`](crate::Engine#what-a-run-leaves-in-memory)).
pub struct Embedder {
    runner: Runner,
    spec: EmbedderSpec,
    id: ModelId,
}

impl Embedder {
    const ROLE: &'static str = "face embedder";

    /// Loads an embedder from an ONNX file and its description.
    pub fn from_path(path: impl AsRef<Path>, spec: EmbedderSpec) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let bytes = model::read_file(path)?;
        Self::load(&bytes, path.display().to_string(), spec)
    }

    /// Loads an embedder from ONNX bytes (for firmware without a file system).
    pub fn from_bytes(bytes: &[u8], spec: EmbedderSpec) -> Result<Self, ModelError> {
        Self::load(bytes, format!("<{} bytes in memory>", bytes.len()), spec)
    }

    fn load(bytes: &[u8], origin: String, spec: EmbedderSpec) -> Result<Self, ModelError> {
        spec.validate()?;
        let (w, h) = (
            spec.alignment.width as usize,
            spec.alignment.height as usize,
        );
        let runner = model::load_checked(
            Self::ROLE,
            &origin,
            bytes,
            &Interface {
                inputs: 1,
                outputs: 1,
                meaning: "an aligned face in, its embedding out",
            },
            &[1, 3, h, w],
            Promised {
                values: spec.output_dim,
                described_as: format!("output_dim = {}", spec.output_dim),
            },
        )?;
        Ok(Embedder {
            runner,
            spec,
            id: ModelId::of(bytes),
        })
    }

    /// The embedder's description.
    pub fn spec(&self) -> &EmbedderSpec {
        &self.spec
    }

    /// Identity of the loaded model, recorded in every template.
    pub fn model_id(&self) -> ModelId {
        self.id
    }

    /// Runs the model on `input` and hands its output to `f` without copying it, then wipes
    /// the output (the raw embedding is as secret as the normalised one) and `input` (the
    /// face as the model sees it), on success and on failure alike.
    fn run_with<R>(
        &self,
        input: &mut ModelInput,
        f: impl FnOnce(&[f32]) -> R,
    ) -> Result<R, EmbedError> {
        let inference = |e: TractError| EmbedError::Inference(format!("{e:#}"));
        self.runner
            .run_wiped(input, |mut outputs| {
                if outputs.is_empty() {
                    return Err(EmbedError::Inference("model returned no output".into()));
                }
                // Ours alone once the other outputs are dropped: then it is written in place.
                let mut out = outputs.swap_remove(0).into_tensor();
                drop(outputs);
                let mut plain = out.try_as_plain_ram_mut().map_err(inference)?;
                let values = plain.as_slice_mut::<f32>().map_err(inference)?;
                let result = f(values);
                values.zeroize();
                Ok(result)
            })
            .map_err(inference)?
    }

    /// Computes the L2-normalised embedding of an aligned face. Crate-private: templates are
    /// made with consent, through the [`Engine`](crate::Engine).
    pub(crate) fn embed(&self, face: &AlignedFace) -> Result<SecretVector, EmbedError> {
        let a = &self.spec.alignment;
        if (face.width(), face.height()) != (a.width, a.height) {
            return Err(EmbedError::WrongInputSize {
                found_w: face.width(),
                found_h: face.height(),
                want_w: a.width,
                want_h: a.height,
            });
        }
        let (w, h) = (a.width as usize, a.height as usize);
        let plane = w * h;
        let inference = |e: TractError| EmbedError::Inference(format!("{e:#}"));
        // Wiped after the run and on drop (an early return or a panic included).
        let mut input = ModelInput::zeroed(&[1, 3, h, w]).map_err(inference)?;
        let order = match self.spec.color_order {
            ColorOrder::Rgb => [0, 1, 2],
            ColorOrder::Bgr => [2, 1, 0],
        };
        input
            .fill(|data| {
                for (i, px) in face.rgb().chunks_exact(3).enumerate() {
                    for (c, &src) in order.iter().enumerate() {
                        data[c * plane + i] = (px[src] - self.spec.mean[c]) / self.spec.std[c];
                    }
                }
            })
            .map_err(inference)?;
        self.run_with(&mut input, SecretVector::normalized)?
            .ok_or(EmbedError::Degenerate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EMBEDDER_FILE, EMBEDDER_SPEC_FILE};

    /// The project's embedder; a missing model fails the test with the fix.
    fn embedder() -> Embedder {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let path = dir.join(EMBEDDER_FILE);
        assert!(
            path.is_file(),
            "{} is missing: {}",
            path.display(),
            model::FETCH_HINT
        );
        let spec = EmbedderSpec::from_file(dir.join(EMBEDDER_SPEC_FILE)).unwrap();
        Embedder::from_path(path, spec).unwrap()
    }

    /// An input of `shape` holding a face-like pattern (no zero value).
    fn filled(shape: &[usize]) -> ModelInput {
        let mut input = ModelInput::zeroed(shape).unwrap();
        input
            .fill(|d| {
                for (i, v) in d.iter_mut().enumerate() {
                    *v = (i % 251) as f32 / 125.0 - 1.004;
                }
            })
            .unwrap();
        assert!(input.values().iter().all(|v| *v != 0.0));
        input
    }

    #[test]
    fn the_face_given_to_the_model_is_zero_after_the_run() {
        let e = embedder();
        let a = &e.spec.alignment;
        let mut input = filled(&[1, 3, a.height as usize, a.width as usize]);
        let mut seen = Vec::new();
        let len = e
            .run_with(&mut input, |out| {
                seen = out.to_vec();
                out.len()
            })
            .unwrap();
        assert_eq!(len, e.spec.output_dim);
        assert!(seen.iter().any(|v| *v != 0.0), "the model ran on the input");
        assert!(input.values().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn the_face_given_to_the_model_is_zero_after_a_failed_run() {
        let e = embedder();
        let a = &e.spec.alignment;
        // One row too many: tract refuses the input.
        let mut input = filled(&[1, 3, a.height as usize + 1, a.width as usize]);
        let err = e.run_with(&mut input, <[f32]>::len).unwrap_err();
        assert!(matches!(err, EmbedError::Inference(_)), "{err:?}");
        assert!(input.values().iter().all(|v| *v == 0.0));
        // And a good run after it still works: no state was left holding the input.
        let mut input = filled(&[1, 3, a.height as usize, a.width as usize]);
        assert_eq!(
            e.run_with(&mut input, <[f32]>::len).unwrap(),
            e.spec.output_dim
        );
        assert!(input.values().iter().all(|v| *v == 0.0));
    }
}
