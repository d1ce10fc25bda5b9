//! `fg_engine`: the loaded models (a detector, and an embedder unless the engine is for
//! detection only), face detection and face quality.

use std::ffi::c_char;
use std::mem::size_of;
use std::path::Path;
use std::sync::Arc;

use fg::{
    AlignError, AlignmentTemplate, DetectError, Detector, DetectorConfig, Embedder, EmbedderSpec,
    Engine, Face, ImageView, ModelLiveness, Quality, QualityPolicy,
};

use crate::guard::{self, arg, out, text, Failure, Outcome};
use crate::image::fg_image;
use crate::liveness::{liveness_source, Origin};
use crate::log::{self, fg_log_level};
use crate::status::fg_status::{self, *};

/// A face detector and, unless it was made for detection only, an embedder, loaded once.
///
/// Thread-safety: an engine may be used from several threads at once (detection and the
/// vault calls that take it); create one per process and share it. Free it once, after every
/// other call using it has returned.
pub struct fg_engine {
    models: Models,
}

/// What an engine holds. (One per engine handle, on the heap: the variants' sizes do not
/// matter.)
#[allow(clippy::large_enum_variant)]
enum Models {
    /// A detector and an embedder: every call.
    Full(Engine),
    /// A detector alone: detection and quality; no template (`FG_ERR_NO_EMBEDDER`).
    DetectionOnly {
        detector: Detector,
        /// The crop quality is measured on: the bundled embedder's (ArcFace 112×112).
        alignment: AlignmentTemplate,
    },
}

impl fg_engine {
    /// The full engine, or `FG_ERR_NO_EMBEDDER` for a detection-only one.
    pub(crate) fn full(&self) -> Result<&Engine, Failure> {
        match &self.models {
            Models::Full(engine) => Ok(engine),
            Models::DetectionOnly { .. } => Err(Failure {
                status: FG_ERR_NO_EMBEDDER,
                detail: Some(
                    "this engine was made without an embedder (detection only): make one with \
                     an embedder to enrol, identify, verify or set a target false-match rate"
                        .into(),
                ),
            }),
        }
    }

    fn detect(&self, image: &ImageView) -> Result<Vec<Face>, DetectError> {
        match &self.models {
            Models::Full(engine) => engine.detect(image),
            Models::DetectionOnly { detector, .. } => detector.detect(image),
        }
    }

    /// The liveness check: the full engine's, if it has one (a detection-only engine has
    /// none).
    pub(crate) fn liveness(&self) -> Option<&Arc<dyn fg::Liveness>> {
        match &self.models {
            Models::Full(engine) => engine.liveness(),
            Models::DetectionOnly { .. } => None,
        }
    }

    fn assess(&self, image: &ImageView, face: &Face) -> Result<Quality, AlignError> {
        match &self.models {
            Models::Full(engine) => engine.assess(image, face),
            Models::DetectionOnly { alignment, .. } => Ok(fg::quality::assess(
                face,
                &fg::align::align(image, &face.landmarks, alignment)?,
            )),
        }
    }

    fn quality_policies(&self) -> (QualityPolicy, QualityPolicy) {
        match &self.models {
            Models::Full(engine) => engine.quality_policies(),
            Models::DetectionOnly { .. } => (QualityPolicy::enrolment(), QualityPolicy::probe()),
        }
    }
}

/// A detected face, in frame pixel coordinates.
///
/// Set `struct_size` of element 0 of an array given to `fg_detect` (see the header's top
/// comment); the library writes it into every face it fills, so a face from `fg_detect` is
/// ready to be passed back (`fg_face_quality`, `fg_vault_enroll`, ...). A face built by hand
/// needs `struct_size = sizeof(fg_face)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct fg_face {
    /// `sizeof(fg_face)`.
    pub struct_size: u32,
    /// Box: left, top, width, height.
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// Detector confidence in 0..1.
    pub score: f32,
    /// Five landmarks as x, y pairs: right eye, left eye (as seen in the frame, left to right),
    /// nose tip, right and left mouth corners.
    pub landmarks: [f32; 10],
}

guard::versioned!(fg_face);

impl From<&Face> for fg_face {
    fn from(f: &Face) -> Self {
        let mut landmarks = [0.0; 10];
        for (i, p) in f.landmarks.iter().enumerate() {
            landmarks[2 * i] = p.x;
            landmarks[2 * i + 1] = p.y;
        }
        fg_face {
            struct_size: size_of::<fg_face>() as u32,
            x: f.bbox.x,
            y: f.bbox.y,
            width: f.bbox.width,
            height: f.bbox.height,
            score: f.score,
            landmarks,
        }
    }
}

impl fg_face {
    /// Back to the library's face (as detected, or as the caller copied it).
    pub(crate) fn to_face(self) -> Face {
        let l = self.landmarks;
        Face {
            bbox: fg::BoundingBox {
                x: self.x,
                y: self.y,
                width: self.width,
                height: self.height,
            },
            score: self.score,
            landmarks: std::array::from_fn(|i| fg::Point::new(l[2 * i], l[2 * i + 1])),
        }
    }
}

/// The most faces one frame yields (the detector keeps the strongest this many): an array of
/// `FG_MAX_FACES` elements is always large enough for `fg_detect`.
pub const FG_MAX_FACES: usize = 256;

/// The detector's settings, for `fg_engine_new_with_options`. Set `struct_size` to
/// `sizeof(fg_engine_options)` and call `fg_engine_options_default` to start from the
/// defaults, then change what the camera needs.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct fg_engine_options {
    /// `sizeof(fg_engine_options)`.
    pub struct_size: u32,
    /// Faces scoring below this are dropped: 0 to 1, default 0.6 (lower finds more faces,
    /// and more things that are not faces).
    pub score_threshold: f32,
    /// Of two faces whose boxes overlap by more than this intersection over union, the
    /// weaker is dropped: 0 to 1, default 0.3.
    pub nms_threshold: f32,
    /// Frames are scaled down (never up) to at most this many pixels on their long side
    /// before detection: 32 to 4096, default 640. Larger finds smaller faces, slower.
    pub max_side: u32,
    /// Faces whose box is narrower or shorter than this many frame pixels are dropped: 0
    /// (default) keeps every face; at most 16384. (How small a face can be found at all
    /// depends on `max_side`: the frame is scaled down first.)
    pub min_face: u32,
    /// At most this many faces per frame, the strongest: 1 to `FG_MAX_FACES` (default).
    pub max_faces: u32,
    /// Engines made from files (`fg_engine_new_with_options`): the liveness description
    /// (JSON) whose presentation-attack models lie in the same directory. NULL (default):
    /// `liveness.json` beside the embedder model. Either must exist for an engine with an
    /// embedder (`FG_ERR_MODEL` otherwise): every purpose named through the C API requires a
    /// liveness check. Must be NULL for engines made from memory. Every liveness field must
    /// be NULL (or 0) for a detection-only engine (`FG_ERR_INVALID_ARGUMENT`).
    pub liveness_path: *const c_char,
    /// Engines made from memory (`fg_engine_new_from_memory_with_options`): the liveness
    /// description as JSON text, NULL (default) for none. An engine from memory without one
    /// makes no template (`FG_ERR_NO_LIVENESS`). Must be NULL for engines made from files.
    pub liveness_json: *const c_char,
    /// With `liveness_json`: the bytes of each model it lists, in its order
    /// (`liveness_model_count` pointers), and their lengths (`liveness_model_lens`). Copied;
    /// the caller may free them when the call returns.
    pub liveness_models: *const *const u8,
    /// The lengths of `liveness_models`' buffers.
    pub liveness_model_lens: *const usize,
    /// How many models `liveness_models` holds: as many as `liveness_json` lists.
    pub liveness_model_count: usize,
}

guard::versioned!(fg_engine_options);

impl Default for fg_engine_options {
    fn default() -> Self {
        let config = DetectorConfig::default();
        fg_engine_options {
            struct_size: size_of::<fg_engine_options>() as u32,
            score_threshold: config.score_threshold,
            nms_threshold: config.nms_threshold,
            max_side: config.max_side,
            min_face: config.min_face,
            max_faces: FG_MAX_FACES as u32,
            liveness_path: std::ptr::null(),
            liveness_json: std::ptr::null(),
            liveness_models: std::ptr::null(),
            liveness_model_lens: std::ptr::null(),
            liveness_model_count: 0,
        }
    }
}

/// Writes the default detector settings into `options`, whose `struct_size` the caller set
/// to `sizeof(fg_engine_options)` (`FG_ERR_INVALID_ARGUMENT` if smaller).
///
/// # Safety
/// `options` is NULL or valid for reads and writes of its `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn fg_engine_options_default(options: *mut fg_engine_options) -> fg_status {
    guard::call("fg_engine_options_default", || {
        // SAFETY: the caller's contract, checked by `Out::new`.
        let out = unsafe { guard::Out::new(options)? };
        out.write(fg_engine_options::default());
        Ok(())
    })
}

/// The caller's options (NULL: the defaults).
///
/// # Safety
/// `options` is NULL or valid for reads of its `struct_size` bytes.
unsafe fn read_options(options: *const fg_engine_options) -> Result<fg_engine_options, Failure> {
    if options.is_null() {
        Ok(fg_engine_options::default())
    } else {
        // SAFETY: per this function's contract.
        unsafe { guard::read(options) }
    }
}

/// The detector's settings from the caller's options, checked.
fn detector_config(o: &fg_engine_options) -> Result<DetectorConfig, Failure> {
    if o.max_faces == 0 || o.max_faces as usize > FG_MAX_FACES {
        return Err(Failure {
            status: FG_ERR_INVALID_ARGUMENT,
            detail: Some(format!(
                "max_faces is {}: it must be 1 to FG_MAX_FACES ({FG_MAX_FACES})",
                o.max_faces
            )),
        });
    }
    let config = DetectorConfig {
        max_side: o.max_side,
        score_threshold: o.score_threshold,
        nms_threshold: o.nms_threshold,
        max_faces: o.max_faces as usize,
        min_face: o.min_face,
    };
    config.validate().map_err(guard::status)?;
    Ok(config)
}

/// Wraps the models in a new handle for the caller, and logs what was loaded.
fn boxed(
    name: &str,
    detector: Detector,
    embedder: Option<(Embedder, Option<ModelLiveness>)>,
    out: &mut *mut fg_engine,
) {
    let c = detector.config().clone();
    let models = match embedder {
        Some((embedder, liveness)) => {
            let engine = Engine::new(detector, embedder);
            Models::Full(match liveness {
                Some(check) => engine.with_liveness(Arc::new(check)),
                None => engine,
            })
        }
        None => Models::DetectionOnly {
            detector,
            alignment: EmbedderSpec::fr_feature().alignment,
        },
    };
    log::emit_with(fg_log_level::FG_LOG_DEBUG, || {
        let embedder = match &models {
            Models::Full(engine) => format!(
                "embedder `{}`; {}",
                engine.embedder().spec().name,
                if engine.liveness().is_some() {
                    "liveness check loaded"
                } else {
                    "no liveness check: every template refused (FG_ERR_NO_LIVENESS)"
                }
            ),
            Models::DetectionOnly { .. } => "no embedder (detection only)".into(),
        };
        format!(
            "{name}: engine loaded: detector max_side {}, score_threshold {}, nms_threshold {}, \
             min_face {}, max_faces {}; {embedder}",
            c.max_side, c.score_threshold, c.nms_threshold, c.min_face, c.max_faces
        )
    });
    *out = Box::into_raw(Box::new(fg_engine { models }));
}

/// The embedder at `path`, with its description from the `.json` file beside it if there is
/// one, else `fr_feature.onnx`'s.
fn embedder_from_path(path: &str) -> Result<Embedder, Failure> {
    let spec_path = Path::new(path).with_extension("json");
    let spec = if spec_path.is_file() {
        EmbedderSpec::from_file(&spec_path).map_err(guard::status)?
    } else {
        EmbedderSpec::fr_feature()
    };
    Embedder::from_path(path, spec).map_err(guard::status)
}

/// Loads the YuNet detector from `detector_model_path` and the embedder from
/// `embedder_model_path`, with the default detector settings. The embedder's description is
/// read from the `.json` file beside it (same name, extension `.json`) if there is one;
/// otherwise the built-in description of `fr_feature.onnx` is used. The liveness check is
/// loaded from `liveness.json` beside the embedder and the presentation-attack models it
/// names (`FG_ERR_MODEL` if they are missing: every purpose named through the C API requires
/// a live face). On success `*out` is a new engine to free with `fg_engine_free`.
///
/// # Safety
/// The paths are NULL or NUL-terminated strings; `out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_engine_new(
    detector_model_path: *const c_char,
    embedder_model_path: *const c_char,
    out: *mut *mut fg_engine,
) -> fg_status {
    if embedder_model_path.is_null() {
        // Only fg_engine_new_with_options makes a detection-only engine.
        return guard::call("fg_engine_new", || Err(FG_ERR_NULL_POINTER.into()));
    }
    // SAFETY: the caller's contract is this function's, with NULL options.
    unsafe {
        new_with_options(
            "fg_engine_new",
            detector_model_path,
            embedder_model_path,
            std::ptr::null(),
            out,
        )
    }
}

/// Like `fg_engine_new`, with the detector's settings `options` (NULL: the defaults; see
/// `fg_engine_options`), and with `embedder_model_path` NULL for a detection-only engine:
/// one that loads no embedder (less memory, faster to load) and answers `fg_detect`,
/// `fg_detect_strongest` and `fg_face_quality` (measured on the bundled embedder's crop, with
/// the default gates), while every call that needs a template returns `FG_ERR_NO_EMBEDDER`.
/// `FG_ERR_INVALID_ARGUMENT` for an option out of range or NaN, before any model is read.
///
/// # Safety
/// The paths are NULL or NUL-terminated strings; `options` is NULL or valid for reads of its
/// `struct_size` bytes; `out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_engine_new_with_options(
    detector_model_path: *const c_char,
    embedder_model_path: *const c_char,
    options: *const fg_engine_options,
    out: *mut *mut fg_engine,
) -> fg_status {
    // SAFETY: the caller's contract is this function's.
    unsafe {
        new_with_options(
            "fg_engine_new_with_options",
            detector_model_path,
            embedder_model_path,
            options,
            out,
        )
    }
}

/// # Safety
/// As for `fg_engine_new_with_options`.
unsafe fn new_with_options(
    name: &'static str,
    detector_model_path: *const c_char,
    embedder_model_path: *const c_char,
    options: *const fg_engine_options,
    out: *mut *mut fg_engine,
) -> fg_status {
    guard::call(name, || {
        // SAFETY: the caller's contract, checked for NULL by the helpers.
        let (det, out, o) = unsafe {
            (
                text(detector_model_path)?,
                self::out(out)?,
                read_options(options)?,
            )
        };
        let config = detector_config(&o)?;
        let emb = if embedder_model_path.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated per the contract.
            Some(unsafe { text(embedder_model_path)? })
        };
        // The options are checked, and the liveness description read, before any model is.
        // SAFETY: the options' strings are NULL or NUL-terminated per the contract.
        let liveness = unsafe { liveness_source(&o, Origin::Files(emb))? };
        let detector = Detector::from_path(det, config).map_err(guard::status)?;
        let embedder = match emb {
            Some(path) => Some((embedder_from_path(path)?, liveness.load()?)),
            None => None,
        };
        boxed(name, detector, embedder, out);
        Ok(())
    })
}

/// Like `fg_engine_new`, from models in memory (firmware without a file system):
/// `detector_model` and `embedder_model` are the ONNX files' bytes, `embedder_spec_json` the
/// embedder's description as JSON, or NULL for `fr_feature.onnx`'s. The bytes are copied;
/// the caller may free them when this returns. Such an engine has no liveness check, so it
/// detects, measures quality and sets thresholds, but makes no template
/// (`FG_ERR_NO_LIVENESS`): give it the presentation-attack models with
/// `fg_engine_new_from_memory_with_options` (`fg_engine_options.liveness_json`).
///
/// # Safety
/// Each buffer is NULL or valid for reads of its length; `embedder_spec_json` is NULL or a
/// NUL-terminated string; `out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_engine_new_from_memory(
    detector_model: *const u8,
    detector_model_len: usize,
    embedder_model: *const u8,
    embedder_model_len: usize,
    embedder_spec_json: *const c_char,
    out: *mut *mut fg_engine,
) -> fg_status {
    if embedder_model.is_null() {
        // Only the _with_options variant makes a detection-only engine.
        return guard::call("fg_engine_new_from_memory", || {
            Err(FG_ERR_NULL_POINTER.into())
        });
    }
    // SAFETY: the caller's contract is this function's, with NULL options.
    unsafe {
        from_memory(
            "fg_engine_new_from_memory",
            detector_model,
            detector_model_len,
            embedder_model,
            embedder_model_len,
            embedder_spec_json,
            std::ptr::null(),
            out,
        )
    }
}

/// Like `fg_engine_new_from_memory`, with the detector's settings `options` (NULL: the
/// defaults), and with `embedder_model` NULL for a detection-only engine (see
/// `fg_engine_new_with_options`); `embedder_model_len` must then be 0 and
/// `embedder_spec_json` NULL (`FG_ERR_INVALID_ARGUMENT`), so that a model that failed to load
/// into memory is not mistaken for the wish to detect only.
///
/// # Safety
/// As for `fg_engine_new_from_memory`; `options` is NULL or valid for reads of its
/// `struct_size` bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fg_engine_new_from_memory_with_options(
    detector_model: *const u8,
    detector_model_len: usize,
    embedder_model: *const u8,
    embedder_model_len: usize,
    embedder_spec_json: *const c_char,
    options: *const fg_engine_options,
    out: *mut *mut fg_engine,
) -> fg_status {
    // SAFETY: the caller's contract is this function's.
    unsafe {
        from_memory(
            "fg_engine_new_from_memory_with_options",
            detector_model,
            detector_model_len,
            embedder_model,
            embedder_model_len,
            embedder_spec_json,
            options,
            out,
        )
    }
}

/// # Safety
/// As for `fg_engine_new_from_memory_with_options`.
#[allow(clippy::too_many_arguments)]
unsafe fn from_memory(
    name: &'static str,
    detector_model: *const u8,
    detector_model_len: usize,
    embedder_model: *const u8,
    embedder_model_len: usize,
    embedder_spec_json: *const c_char,
    options: *const fg_engine_options,
    out: *mut *mut fg_engine,
) -> fg_status {
    guard::call(name, || {
        // SAFETY: the caller's contract, checked for NULL and length by the helpers.
        let (det, out, o) = unsafe {
            (
                guard::bytes(detector_model, detector_model_len)?,
                self::out(out)?,
                read_options(options)?,
            )
        };
        let config = detector_config(&o)?;
        let embedder = if embedder_model.is_null() {
            if embedder_model_len != 0 || !embedder_spec_json.is_null() {
                return Err(FG_ERR_INVALID_ARGUMENT.into());
            }
            None
        } else {
            // SAFETY: non-NULL, valid for its length per the contract.
            let emb = unsafe { guard::bytes(embedder_model, embedder_model_len)? };
            let spec = if embedder_spec_json.is_null() {
                EmbedderSpec::fr_feature()
            } else {
                // SAFETY: non-NULL, NUL-terminated per the contract.
                let json = unsafe { text(embedder_spec_json)? };
                EmbedderSpec::from_json(json).map_err(guard::status)?
            };
            Some((emb, spec))
        };
        // SAFETY: the options' pointers are valid per the contract.
        let liveness = unsafe { liveness_source(&o, Origin::Memory(embedder.is_some()))? };
        let detector = Detector::from_bytes(det, config).map_err(guard::status)?;
        let embedder = match embedder {
            Some((emb, spec)) => Some((
                Embedder::from_bytes(emb, spec).map_err(guard::status)?,
                liveness.load()?,
            )),
            None => None,
        };
        boxed(name, detector, embedder, out);
        Ok(())
    })
}

/// Frees an engine (NULL is a no-op). Runs under the panic boundary like every call: a panic
/// while freeing is caught and never unwinds into C.
///
/// # Safety
/// `engine` is NULL or was returned by `fg_engine_new*` and not freed yet, and no other call
/// is using it.
#[no_mangle]
pub unsafe extern "C" fn fg_engine_free(engine: *mut fg_engine) {
    guard::release(|| {
        if !engine.is_null() {
            // SAFETY: created by Box::into_raw in fg_engine_new*, freed once per the contract.
            drop(unsafe { Box::from_raw(engine) });
        }
    })
}

/// Every face in `image`, strongest first (the checks of `fg_detect`'s arguments done).
///
/// # Safety
/// `image` is valid for reads of its `struct_size` bytes, its planes for their lengths,
/// during the call.
unsafe fn detect(engine: &fg_engine, image: *const fg_image) -> Result<Vec<fg_face>, Failure> {
    // SAFETY: per this function's contract.
    let image = unsafe { guard::read(image)? };
    // SAFETY: the planes are valid for their lengths per this function's contract.
    let view = unsafe { image.view()? };
    let found = engine.detect(&view).map_err(guard::status)?;
    Ok(found.iter().map(fg_face::from).collect())
}

/// Detects every face in `image` (at most `FG_MAX_FACES`), strongest first, into the
/// caller's array `faces` of `capacity` elements (element 0's `struct_size` set, see the
/// header's top comment); `*count` receives how many.
///
/// Never drops a face: if more faces are found than `capacity`, returns
/// `FG_ERR_BUFFER_TOO_SMALL`, writes nothing to `faces`, and sets `*count` to the number
/// found, the capacity a retry needs (as `snprintf` returns the length it needed). This is
/// the one exception to "out-parameters are written only on `FG_OK`". For only the strongest
/// few faces, use `fg_detect_strongest`.
///
/// # Safety
/// `engine` and `image` are NULL or valid; the image's planes are valid for their lengths;
/// `faces` is NULL or valid for `capacity` elements of `faces[0].struct_size` bytes; `count`
/// is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_detect(
    engine: *const fg_engine,
    image: *const fg_image,
    faces: *mut fg_face,
    capacity: usize,
    count: *mut usize,
) -> fg_status {
    guard::call("fg_detect", || {
        // SAFETY: the caller's contract, checked for NULL and size by the helpers.
        let (engine, count, faces) = unsafe {
            (
                arg(engine)?,
                out(count)?,
                guard::OutArray::new(faces, capacity)?,
            )
        };
        // SAFETY: the image and its planes are valid per the contract.
        let found = unsafe { detect(engine, image)? };
        if found.len() > faces.capacity() {
            guard::set(count, found.len());
            return Err(Failure {
                status: FG_ERR_BUFFER_TOO_SMALL,
                detail: Some(format!(
                    "{} faces found, room for {}: *count says how many",
                    found.len(),
                    faces.capacity()
                )),
            });
        }
        faces.fill(&found)?;
        guard::set(count, found.len());
        Ok(())
    })
}

/// Detects the faces in `image` (at most `FG_MAX_FACES`) and writes the strongest of them,
/// strongest first, into the caller's array `faces` of `capacity` elements (element 0's
/// `struct_size` set), leaving out the weaker ones on purpose: `*written` receives how many
/// were written (at most `capacity`), `*found` how many were found in all. `written` and
/// `found` must be different variables (`FG_ERR_INVALID_ARGUMENT`).
///
/// # Safety
/// As for `fg_detect`; `written` and `found` are NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_detect_strongest(
    engine: *const fg_engine,
    image: *const fg_image,
    faces: *mut fg_face,
    capacity: usize,
    written: *mut usize,
    found: *mut usize,
) -> fg_status {
    guard::call("fg_detect_strongest", || {
        if !written.is_null() && std::ptr::eq(written, found) {
            return Err(FG_ERR_INVALID_ARGUMENT.into());
        }
        // SAFETY: the caller's contract, checked for NULL by the helpers; `written` and
        // `found` are distinct (checked above), so the two references do not alias.
        let (engine, written, found, faces) = unsafe {
            (
                arg(engine)?,
                out(written)?,
                out(found)?,
                guard::OutArray::new(faces, capacity)?,
            )
        };
        // SAFETY: the image and its planes are valid per the contract.
        let all = unsafe { detect(engine, image)? };
        let strongest = &all[..all.len().min(faces.capacity())];
        faces.fill(strongest)?;
        guard::set(written, strongest.len());
        guard::set(found, all.len());
        Ok(())
    })
}

/// The quality of one face, as the gates see it (`fg_face_quality`). Set `struct_size` to
/// `sizeof(fg_quality)` before the call.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct fg_quality {
    /// `sizeof(fg_quality)` as the caller compiled it.
    pub struct_size: u32,
    /// `FG_OK` if the face passes the enrolment gate, else the `FG_ERR_FACE_*` status
    /// `fg_vault_enroll` would return (what to fix).
    pub enrolment: i32,
    /// `FG_OK` if the face passes the probe gate, else the `FG_ERR_FACE_*` status an
    /// identification or verification would return ("try again").
    pub probe: i32,
    /// Distance between the eyes in frame pixels.
    pub eye_distance_px: f32,
    /// Mean |Laplacian| over the standard deviation of the inner face's luminance.
    pub sharpness: f32,
    /// Mean luminance of the inner face, 0..=255.
    pub brightness: f32,
    /// Standard deviation of that luminance.
    pub contrast: f32,
    /// Nose offset from the face's midline over the eye distance (0 = frontal).
    pub yaw: f32,
    /// Nose height between eye line (0) and mouth line (1).
    pub pitch: f32,
    /// Angle of the eye line, degrees.
    pub roll_deg: f32,
}

guard::versioned!(fg_quality);

/// Measures `face` in `image` and says whether each quality gate would take it, without
/// making a template (no consent needed): firmware can tell the person what to fix before
/// enrolling. Works on a detection-only engine too. The gates are the engine's: the library's
/// defaults (`enrolment` at least 32 px between the eyes, `probe` at least 20 px; see
/// faceguard's `QualityPolicy` for every limit).
///
/// # Safety
/// Pointers are NULL or valid (`image`, `face` and `quality` for their `struct_size` bytes);
/// the image's planes valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fg_face_quality(
    engine: *const fg_engine,
    image: *const fg_image,
    face: *const fg_face,
    quality: *mut fg_quality,
) -> fg_status {
    guard::call("fg_face_quality", || -> Outcome {
        // SAFETY: the caller's contract, checked for NULL and size by the helpers.
        let (engine, image, face, out) = unsafe {
            (
                arg(engine)?,
                guard::read(image)?,
                guard::read(face)?,
                guard::Out::new(quality)?,
            )
        };
        // SAFETY: the planes are valid for their lengths per the contract.
        let view = unsafe { image.view()? };
        let q = engine
            .assess(&view, &face.to_face())
            .map_err(guard::status)?;
        let (enrolment, probe) = engine.quality_policies();
        let verdict = |policy: fg::QualityPolicy,
                       wrap: fn(fg::QualityIssue) -> fg::QualityError| {
            match policy.check(&q) {
                Ok(()) => FG_OK as i32,
                Err(issue) => fg_status::from(&fg::Error::from(wrap(issue))) as i32,
            }
        };
        out.write(fg_quality {
            struct_size: 0,
            enrolment: verdict(enrolment, fg::QualityError::Enrolment),
            probe: verdict(probe, fg::QualityError::Probe),
            eye_distance_px: q.eye_distance_px,
            sharpness: q.sharpness,
            brightness: q.brightness,
            contrast: q.contrast,
            yaw: q.yaw,
            pitch: q.pitch,
            roll_deg: q.roll_deg,
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_option_reaches_its_detector_setting() {
        let options = fg_engine_options {
            struct_size: size_of::<fg_engine_options>() as u32,
            score_threshold: 0.7,
            nms_threshold: 0.4,
            max_side: 320,
            min_face: 48,
            max_faces: 3,
            ..fg_engine_options::default()
        };
        let config = detector_config(&options).unwrap();
        assert_eq!(
            config,
            DetectorConfig {
                max_side: 320,
                score_threshold: 0.7,
                nms_threshold: 0.4,
                max_faces: 3,
                min_face: 48,
            }
        );
        // NULL: the library's defaults, with FG_MAX_FACES.
        // SAFETY: NULL is allowed.
        let defaults =
            detector_config(&unsafe { read_options(std::ptr::null()) }.unwrap()).unwrap();
        assert_eq!(
            defaults,
            DetectorConfig {
                max_faces: FG_MAX_FACES,
                ..DetectorConfig::default()
            }
        );
    }
}
