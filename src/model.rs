//! Loading ONNX models through tract: file or memory, identity by content hash, loud failures.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;
use zeroize::Zeroize;

/// The command that puts the models in place, quoted in every "model missing" error.
pub const FETCH_HINT: &str = "run `scripts/fetch-models.sh` to place the models in models/ \
(it copies them from $FACEGUARD_MODEL_MIRROR, default ../shared/models, or downloads them, \
verifying SHA-256)";

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model file does not exist.
    #[error("model file {path} not found: {hint}", hint = FETCH_HINT)]
    NotFound { path: PathBuf },
    /// The model file exists but could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model tract can load.
    #[error("{role} model {origin} is not a loadable ONNX model: {reason}")]
    Parse {
        role: &'static str,
        origin: String,
        reason: String,
    },
    /// The model loads but has the wrong inputs or outputs for its role (e.g. the embedder
    /// given as detector).
    #[error("{origin} is not a {role} model: expected {expected}, found {found}")]
    WrongKind {
        role: &'static str,
        origin: String,
        expected: String,
        found: String,
    },
    /// The embedder description is inconsistent or does not fit the model.
    #[error("embedder description is invalid: {0}")]
    Spec(String),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}

/// Identity of a model: the first 8 bytes of the SHA-256 of its file.
///
/// Every template records the model that computed it; templates of different models are
/// never compared.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId([u8; 8]);

impl ModelId {
    pub(crate) fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::digest(bytes);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        ModelId(id)
    }

    pub(crate) const fn from_bytes(bytes: [u8; 8]) -> Self {
        ModelId(bytes)
    }

    /// The raw identifier bytes.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

/// Parses the 16 hex digits [`Display`](fmt::Display) writes.
impl std::str::FromStr for ModelId {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ModelError::Spec(format!("`{text}` is not a model id (16 hex digits)"));
        if text.len() != 16 || !text.is_ascii() {
            return Err(bad());
        }
        let mut id = [0u8; 8];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(ModelId(id))
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelId({self})")
    }
}

/// Reads a model file, telling a missing file apart from an unreadable one.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ModelError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ModelError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Parses ONNX bytes into a tract inference model, ignoring the file's recorded value shapes
/// so that the caller can set concrete input shapes, and checks that the model has the
/// interface its role needs (so that e.g. the embedder given as detector is refused here).
pub(crate) fn parse(
    role: &'static str,
    origin: &str,
    bytes: &[u8],
    expected: &Interface,
) -> Result<InferenceModel, ModelError> {
    let mut reader = bytes;
    let graph = tract_onnx::onnx()
        .with_ignore_value_info(true)
        .model_for_read(&mut reader)
        .map_err(|e| ModelError::Parse {
            role,
            origin: origin.to_string(),
            reason: format!("{e:#}"),
        })?;
    let inputs = graph.input_outlets().map_or(0, |o| o.len());
    let outputs = graph.output_outlets().map_or(0, |o| o.len());
    if (inputs, outputs) != (expected.inputs, expected.outputs) {
        return Err(ModelError::WrongKind {
            role,
            origin: origin.to_string(),
            expected: format!(
                "{} ({})",
                describe(expected.inputs, expected.outputs),
                expected.meaning
            ),
            found: describe(inputs, outputs),
        });
    }
    Ok(graph)
}

/// Fixes input 0 to `shape` (f32), optimises, and makes the model runnable.
pub(crate) fn specialise(
    model: InferenceModel,
    role: &'static str,
    origin: &str,
    shape: &[usize],
) -> Result<Runner, ModelError> {
    let err = |e: TractError| ModelError::Parse {
        role,
        origin: origin.to_string(),
        reason: format!("{e:#}"),
    };
    model
        .with_input_fact(0, f32::fact(shape).into())
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map(|plan| Runner {
            plan,
            idle: Mutex::new(Vec::new()),
        })
        .map_err(err)
}

/// The output a model's description promises for one input: how many values, and how the
/// description says it (for the error message, e.g. "output_dim = 512").
pub(crate) struct Promised {
    pub values: usize,
    pub described_as: String,
}

/// Loads a model of `role` for the one input `shape`: [`parse`] (checking `interface`),
/// [`specialise`], then one dry run on zeros, whose output must be `f32` values, as many
/// as `promised` says, or every result would be wrong in a way nothing else notices.
pub(crate) fn load_checked(
    role: &'static str,
    origin: &str,
    bytes: &[u8],
    interface: &Interface,
    shape: &[usize],
    promised: Promised,
) -> Result<Runner, ModelError> {
    let graph = parse(role, origin, bytes, interface)?;
    let runner = specialise(graph, role, origin, shape)?;
    let dry_run = |e: TractError| ModelError::Spec(format!("dry run on {origin} failed: {e:#}"));
    let mut input = ModelInput::zeroed(shape).map_err(dry_run)?;
    let found = runner
        .run_wiped(&mut input, |outputs| {
            let out = outputs
                .first()
                .ok_or_else(|| TractError::msg("model returned no output"))?;
            let plain = out.try_as_plain_ram()?;
            Ok::<_, TractError>(plain.as_slice::<f32>()?.len())
        })
        .and_then(|r| r)
        .map_err(dry_run)?;
    if found != promised.values {
        return Err(ModelError::Spec(format!(
            "{origin} outputs {found} values but the description says {}",
            promised.described_as
        )));
    }
    Ok(runner)
}

/// A runnable model plus a pool of execution states, so that a frame reuses the scratch
/// buffers of an earlier one instead of allocating them again. Shared between threads: each
/// concurrent caller takes its own state.
pub(crate) struct Runner {
    plan: Arc<TypedRunnableModel>,
    idle: Mutex<Vec<TypedSimpleState>>,
}

impl Runner {
    /// Runs the model on `input`, hands the outputs to `read`, then wipes `input`, whether
    /// the run succeeded, failed or panicked (the last through [`ModelInput`]'s `Drop`).
    ///
    /// tract gets a shared handle to `input`'s buffer, never a copy of its own, and holds it
    /// only during the run: on success it clears its values before returning, and a failed
    /// run's state is dropped here, not pooled. So once `read` has returned (it consumes the
    /// outputs) this crate holds the only reference and zeroizes the buffer. Should a
    /// reference remain anyway (`read` kept an output that is the input itself), the buffer
    /// cannot be written here and the call is an error saying so.
    ///
    /// What this does not wipe: the intermediate tensors (activations) tract computes from
    /// the input inside the run, which tract allocates and frees unwiped.
    pub(crate) fn run_wiped<R>(
        &self,
        input: &mut ModelInput,
        read: impl FnOnce(TVec<TValue>) -> R,
    ) -> TractResult<R> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut state = match pooled {
            Some(state) => state,
            None => self.plan.spawn()?,
        };
        let result = state.run(tvec!(input.shared())).map(read);
        // A failed run leaves its values in the state: drop it rather than pool it.
        if result.is_ok() && input.is_exclusive() {
            self.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(state);
        } else {
            drop(state);
        }
        if !input.wipe() {
            return Err(TractError::msg(
                "the model's outputs still refer to its input after the run, so the input \
                 could not be wiped",
            ));
        }
        result
    }
}

/// An `f32` model input (a frame or an aligned face, as the model sees it) that this crate
/// owns and wipes: tract only ever gets a shared handle to the same buffer for the length of
/// a run ([`Runner::run_wiped`]), and the buffer is zeroized after each run and on drop.
pub(crate) struct ModelInput(Arc<Tensor>);

impl ModelInput {
    /// A zeroed input of `shape`.
    pub(crate) fn zeroed(shape: &[usize]) -> TractResult<Self> {
        Ok(ModelInput(Arc::new(Tensor::zero::<f32>(shape)?)))
    }

    /// Lets `fill` write the input's values (row-major, as the shape says).
    pub(crate) fn fill<R>(&mut self, fill: impl FnOnce(&mut [f32]) -> R) -> TractResult<R> {
        let tensor = Arc::get_mut(&mut self.0)
            .ok_or_else(|| TractError::msg("a model input is still shared with a run"))?;
        let mut plain = tensor.try_as_plain_ram_mut()?;
        Ok(fill(plain.as_slice_mut::<f32>()?))
    }

    /// A handle for tract, sharing this buffer.
    fn shared(&self) -> TValue {
        self.0.clone().into_tvalue()
    }

    /// Whether this is the only reference to the buffer.
    fn is_exclusive(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }

    /// Zeroizes the values; `false` if another reference to the buffer is still alive (then
    /// it cannot be written here).
    fn wipe(&mut self) -> bool {
        let Some(tensor) = Arc::get_mut(&mut self.0) else {
            return false;
        };
        if let Ok(mut plain) = tensor.try_as_plain_ram_mut() {
            if let Ok(values) = plain.as_slice_mut::<f32>() {
                values.zeroize();
            }
        }
        true
    }

    /// The values, for tests.
    #[cfg(test)]
    pub(crate) fn values(&self) -> Vec<f32> {
        self.0
            .try_as_plain_ram()
            .and_then(|p| p.as_slice::<f32>().map(<[f32]>::to_vec))
            .expect("an f32 input")
    }
}

impl Drop for ModelInput {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// The inputs and outputs a model must have to play its role.
pub(crate) struct Interface {
    pub inputs: usize,
    pub outputs: usize,
    /// What they are, for the error message.
    pub meaning: &'static str,
}

/// "1 input, 12 outputs".
fn describe(inputs: usize, outputs: usize) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(inputs, "input"), plural(outputs, "output"))
}
