//! `fg_liveness`: is the face in front of the camera a live person? And how an engine's
//! liveness check is loaded, from files or from memory.

use std::path::{Path, PathBuf};

use fg::liveness::LIVENESS_SPEC_FILE;
use fg::{LivenessError, LivenessSpec, ModelLiveness};

use crate::engine::{fg_engine, fg_engine_options, fg_face};
use crate::guard::{self, arg, text, Failure, Outcome};
use crate::image::fg_image;
use crate::status::fg_status::{self, *};

/// A liveness verdict (`fg_liveness`). Set `struct_size` before the call.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fg_liveness_result {
    /// `sizeof(fg_liveness_result)`.
    pub struct_size: u32,
    /// Higher is more likely live: the fused log-odds of "live" of the presentation-attack
    /// models (about -9 to 9).
    pub score: f32,
    /// The threshold applied.
    pub threshold: f32,
    /// `score >= threshold`: a live face. When false, the face is a presentation attack (a
    /// photo, a screen, a mask): `fg_vault_enroll` and `fg_vault_identify` would refuse it
    /// with `FG_ERR_PRESENTATION_ATTACK`.
    pub is_live: bool,
}

guard::versioned!(fg_liveness_result);

/// Judges whether `face` in `image` is a live person (no consent needed: no template is
/// made; nothing is recorded). The vault's enrolment, identification and verification run
/// the same check themselves and refuse a spoof; call this to tell the person before.
/// `FG_ERR_NO_LIVENESS` if the engine has no liveness check (an engine made from memory
/// without one, or for detection only), `FG_ERR_FACE_TOO_SMALL` if the face is too small to
/// judge (come closer), `FG_ERR_INVALID_ARGUMENT` if the face box is not in the frame.
///
/// # Safety
/// Pointers are NULL or valid (`image`, `face` and `result` for their `struct_size` bytes);
/// the image's planes valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fg_liveness(
    engine: *const fg_engine,
    image: *const fg_image,
    face: *const fg_face,
    result: *mut fg_liveness_result,
) -> fg_status {
    guard::call("fg_liveness", || -> Outcome {
        // SAFETY: the caller's contract, checked for NULL and size by the helpers.
        let (engine, image, face, out) = unsafe {
            (
                arg(engine)?,
                guard::read(image)?,
                guard::read(face)?,
                guard::Out::new(result)?,
            )
        };
        // SAFETY: the planes are valid for their lengths per the contract.
        let view = unsafe { image.view()? };
        let check = engine
            .liveness()
            .ok_or_else(|| guard::status(LivenessError::NoCheck))?;
        let verdict = check.check(&view, &face.to_face()).map_err(guard::status)?;
        out.write(fg_liveness_result {
            struct_size: 0,
            score: verdict.score,
            threshold: verdict.threshold,
            is_live: verdict.is_live(),
        });
        Ok(())
    })
}

/// An argument error with its explanation.
pub(crate) fn invalid(detail: &str) -> Failure {
    Failure {
        status: FG_ERR_INVALID_ARGUMENT,
        detail: Some(detail.into()),
    }
}

/// Where the caller's models come from: files (`fg_engine_new*` with paths) or memory.
#[derive(Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// The embedder's path, or `None` for a detection-only engine.
    Files(Option<&'a str>),
    /// Whether an embedder was given (false: a detection-only engine).
    Memory(bool),
}

/// An engine's liveness check as its options describe it: read and checked before any model
/// is loaded, so that conflicting or missing options cost no model load.
pub(crate) enum LivenessSource<'a> {
    /// No check: a detection-only engine, or an engine from memory without `liveness_json`
    /// (it makes no template: `FG_ERR_NO_LIVENESS`).
    None,
    /// A description read from a file; its models are the files it names, in `dir`.
    Files { spec: LivenessSpec, dir: PathBuf },
    /// A description given as JSON, and the caller's bytes of each model it lists.
    Memory {
        spec: LivenessSpec,
        models: Vec<&'a [u8]>,
    },
}

/// Reads the liveness fields of `o` for an engine of `origin`: the one place where they are
/// checked against each other and against the kind of engine.
///
/// Any liveness field on a detection-only engine is refused, and so is any field of the other
/// origin; the model arrays are read only for an engine from memory with an embedder.
///
/// # Safety
/// `o.liveness_path` and `o.liveness_json` are NULL or NUL-terminated. For an engine from
/// memory with an embedder, `o.liveness_models` and `o.liveness_model_lens` are NULL or
/// valid for `o.liveness_model_count` reads, and each model pointer valid for its length, for
/// `'a`.
pub(crate) unsafe fn liveness_source<'a>(
    o: &'a fg_engine_options,
    origin: Origin<'_>,
) -> Result<LivenessSource<'a>, Failure> {
    let memory_fields = !o.liveness_json.is_null()
        || !o.liveness_models.is_null()
        || !o.liveness_model_lens.is_null()
        || o.liveness_model_count != 0;
    match origin {
        Origin::Files(None) | Origin::Memory(false) => {
            if memory_fields || !o.liveness_path.is_null() {
                return Err(invalid(
                    "a detection-only engine makes no template: it takes no liveness check",
                ));
            }
            Ok(LivenessSource::None)
        }
        Origin::Files(Some(embedder_path)) => {
            if memory_fields {
                return Err(invalid(
                    "liveness_json and liveness_models are for engines made from memory; give \
                     liveness_path (or NULL) to an engine made from files",
                ));
            }
            let spec_path = if o.liveness_path.is_null() {
                let dir = Path::new(embedder_path).parent().unwrap_or(Path::new(""));
                dir.join(LIVENESS_SPEC_FILE)
            } else {
                // SAFETY: non-NULL, NUL-terminated per the contract.
                PathBuf::from(unsafe { text(o.liveness_path)? })
            };
            let spec = LivenessSpec::from_file(&spec_path).map_err(guard::status)?;
            let dir = spec_path.parent().unwrap_or(Path::new("")).to_path_buf();
            Ok(LivenessSource::Files { spec, dir })
        }
        Origin::Memory(true) => {
            if !o.liveness_path.is_null() {
                return Err(invalid(
                    "liveness_path is for engines made from files; give liveness_json and \
                     liveness_models to an engine made from memory",
                ));
            }
            if o.liveness_json.is_null() {
                if memory_fields {
                    return Err(invalid("liveness_models given without liveness_json"));
                }
                return Ok(LivenessSource::None);
            }
            // SAFETY: non-NULL, NUL-terminated per the contract.
            let json = unsafe { text(o.liveness_json)? };
            let spec = LivenessSpec::from_json(json).map_err(guard::status)?;
            let n = o.liveness_model_count;
            if n != spec.models.len() {
                return Err(invalid(&format!(
                    "liveness_model_count is {n}, but the liveness description lists {} models",
                    spec.models.len()
                )));
            }
            if o.liveness_models.is_null() || o.liveness_model_lens.is_null() {
                return Err(FG_ERR_NULL_POINTER.into());
            }
            // SAFETY: non-NULL, valid for `n` reads per the contract; `n` is at most the
            // number of models a description may list (checked by `from_json`).
            let (ptrs, lens) = unsafe {
                (
                    std::slice::from_raw_parts(o.liveness_models, n),
                    std::slice::from_raw_parts(o.liveness_model_lens, n),
                )
            };
            let mut models = Vec::with_capacity(n);
            for (&ptr, &len) in ptrs.iter().zip(lens) {
                // SAFETY: each pointer is NULL or valid for its length per the contract.
                models.push(unsafe { guard::bytes(ptr, len)? });
            }
            Ok(LivenessSource::Memory { spec, models })
        }
    }
}

impl LivenessSource<'_> {
    /// Loads the presentation-attack models (`None`: the engine has no check).
    pub(crate) fn load(self) -> Result<Option<ModelLiveness>, Failure> {
        match self {
            LivenessSource::None => Ok(None),
            LivenessSource::Files { spec, dir } => ModelLiveness::from_spec_in(spec, dir)
                .map(Some)
                .map_err(guard::status),
            LivenessSource::Memory { spec, models } => ModelLiveness::from_bytes(spec, &models)
                .map(Some)
                .map_err(guard::status),
        }
    }
}
