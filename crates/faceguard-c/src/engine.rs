//! `fg_engine`: the loaded models, and face detection.

use std::ffi::c_char;
use std::path::Path;

use fg::{Detector, DetectorConfig, Embedder, EmbedderSpec, Engine, Face};

use crate::guard::{self, arg, out, text};
use crate::image::fg_image;
use crate::status::fg_status;

/// A face detector and an embedder, loaded once.
///
/// Thread-safety: an engine may be used from several threads at once (detection and the
/// vault calls that take it); create one per process and share it. Free it once, after every
/// other call using it has returned.
pub struct fg_engine {
    pub(crate) engine: Engine,
}

/// A detected face, in frame pixel coordinates.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct fg_face {
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

impl From<&Face> for fg_face {
    fn from(f: &Face) -> Self {
        let mut landmarks = [0.0; 10];
        for (i, p) in f.landmarks.iter().enumerate() {
            landmarks[2 * i] = p.x;
            landmarks[2 * i + 1] = p.y;
        }
        fg_face {
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

/// The detector's settings: the library's defaults, with `FG_MAX_FACES` as the limit.
fn detector_config() -> DetectorConfig {
    DetectorConfig {
        max_faces: FG_MAX_FACES,
        ..DetectorConfig::default()
    }
}

fn boxed(engine: Engine, out: &mut *mut fg_engine) {
    *out = Box::into_raw(Box::new(fg_engine { engine }));
}

/// Loads the YuNet detector from `detector_model_path` and the embedder from
/// `embedder_model_path`. The embedder's description is read from the `.json` file beside it
/// (same name, extension `.json`) if there is one; otherwise the built-in description of
/// `fr_feature.onnx` is used. On success `*out` is a new engine to free with
/// `fg_engine_free`.
///
/// # Safety
/// The paths are NULL or NUL-terminated strings; `out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_engine_new(
    detector_model_path: *const c_char,
    embedder_model_path: *const c_char,
    out: *mut *mut fg_engine,
) -> fg_status {
    guard::call(|| {
        // SAFETY: the caller's contract, checked for NULL by the helpers.
        let (det, emb, out) = unsafe {
            (
                text(detector_model_path)?,
                text(embedder_model_path)?,
                self::out(out)?,
            )
        };
        let detector = Detector::from_path(det, detector_config()).map_err(guard::status)?;
        let spec_path = Path::new(emb).with_extension("json");
        let spec = if spec_path.is_file() {
            EmbedderSpec::from_file(&spec_path).map_err(guard::status)?
        } else {
            EmbedderSpec::fr_feature()
        };
        let embedder = Embedder::from_path(emb, spec).map_err(guard::status)?;
        boxed(Engine::new(detector, embedder), out);
        Ok(())
    })
}

/// Like `fg_engine_new`, from models in memory (firmware without a file system):
/// `detector_model` and `embedder_model` are the ONNX files' bytes, `embedder_spec_json` the
/// embedder's description as JSON, or NULL for `fr_feature.onnx`'s. The bytes are copied;
/// the caller may free them when this returns.
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
    guard::call(|| {
        // SAFETY: the caller's contract, checked for NULL and length by the helpers.
        let (det, emb, out) = unsafe {
            (
                guard::bytes(detector_model, detector_model_len)?,
                guard::bytes(embedder_model, embedder_model_len)?,
                self::out(out)?,
            )
        };
        let spec = if embedder_spec_json.is_null() {
            EmbedderSpec::fr_feature()
        } else {
            // SAFETY: non-NULL, NUL-terminated per the contract.
            let json = unsafe { text(embedder_spec_json)? };
            EmbedderSpec::from_json(json).map_err(guard::status)?
        };
        let detector = Detector::from_bytes(det, detector_config()).map_err(guard::status)?;
        let embedder = Embedder::from_bytes(emb, spec).map_err(guard::status)?;
        boxed(Engine::new(detector, embedder), out);
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
/// The image's planes are valid for reads of their lengths during the call.
unsafe fn detect(engine: &fg_engine, image: &fg_image) -> Result<Vec<fg_face>, fg_status> {
    // SAFETY: the planes are valid for their lengths per this function's contract.
    let view = unsafe { image.view()? };
    let found = engine.engine.detect(&view).map_err(guard::status)?;
    Ok(found.iter().map(fg_face::from).collect())
}

/// Detects every face in `image` (at most `FG_MAX_FACES`), strongest first, into the
/// caller's array `faces` of `capacity` elements; `*count` receives how many.
///
/// Never drops a face: if more faces are found than `capacity`, returns
/// `FG_ERR_BUFFER_TOO_SMALL`, writes nothing to `faces`, and sets `*count` to the number
/// found, the capacity a retry needs (as `snprintf` returns the length it needed). This is
/// the one exception to "out-parameters are written only on `FG_OK`". For only the strongest
/// few faces, use `fg_detect_strongest`.
///
/// # Safety
/// `engine` and `image` are NULL or valid; the image's planes are valid for their lengths;
/// `faces` is NULL or valid for `capacity` writes; `count` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_detect(
    engine: *const fg_engine,
    image: *const fg_image,
    faces: *mut fg_face,
    capacity: usize,
    count: *mut usize,
) -> fg_status {
    guard::call(|| {
        // SAFETY: the caller's contract, checked for NULL by the helpers.
        let (engine, image, count) = unsafe { (arg(engine)?, arg(image)?, out(count)?) };
        guard::check_slots(faces, capacity)?;
        // SAFETY: the planes are valid for their lengths per the contract.
        let found = unsafe { detect(engine, image)? };
        if found.len() > capacity {
            guard::set(count, found.len());
            return Err(fg_status::FG_ERR_BUFFER_TOO_SMALL);
        }
        // SAFETY: `faces` holds `capacity` writable slots per the contract.
        unsafe { guard::fill(faces, capacity, &found)? };
        guard::set(count, found.len());
        Ok(())
    })
}

/// Detects the faces in `image` (at most `FG_MAX_FACES`) and writes the strongest of them,
/// strongest first, into the caller's array `faces` of `capacity` elements, leaving out the
/// weaker ones on purpose: `*written` receives how many were written (at most `capacity`),
/// `*found` how many were found in all. `written` and `found` must be different variables
/// (`FG_ERR_INVALID_ARGUMENT`).
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
    guard::call(|| {
        if !written.is_null() && std::ptr::eq(written, found) {
            return Err(fg_status::FG_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: the caller's contract, checked for NULL by the helpers; `written` and
        // `found` are distinct (checked above), so the two references do not alias.
        let (engine, image, written, found) =
            unsafe { (arg(engine)?, arg(image)?, out(written)?, out(found)?) };
        guard::check_slots(faces, capacity)?;
        // SAFETY: the planes are valid for their lengths per the contract.
        let all = unsafe { detect(engine, image)? };
        let strongest = &all[..all.len().min(capacity)];
        // SAFETY: `faces` holds `capacity` writable slots per the contract.
        unsafe { guard::fill(faces, capacity, strongest)? };
        guard::set(written, strongest.len());
        guard::set(found, all.len());
        Ok(())
    })
}

/// The quality of one face, as the gates see it (`fg_face_quality`). Set `struct_size` to
/// `sizeof(fg_quality)` before the call: the structure may grow in later versions, which will
/// write only the fields the given size covers; this version writes all of them and refuses a
/// smaller size.
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

/// Measures `face` in `image` and says whether each quality gate would take it, without
/// making a template (no consent needed): firmware can tell the person what to fix before
/// enrolling. `quality->struct_size` must be at least this version's `sizeof(fg_quality)`
/// (`FG_ERR_INVALID_ARGUMENT` otherwise); nothing is written unless the call succeeds. The
/// gates are the engine's: the library's defaults (`enrolment` at least 32 px between the
/// eyes, `probe` at least 20 px; see faceguard's `QualityPolicy` for every limit).
///
/// # Safety
/// Pointers are NULL or valid; the image's planes valid for their lengths; `quality` valid
/// for `quality->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn fg_face_quality(
    engine: *const fg_engine,
    image: *const fg_image,
    face: *const fg_face,
    quality: *mut fg_quality,
) -> fg_status {
    guard::call(|| {
        // SAFETY: the caller's contract, checked for NULL by the helpers.
        let (engine, image, face) = unsafe { (arg(engine)?, arg(image)?, arg(face)?) };
        if quality.is_null() {
            return Err(fg_status::FG_ERR_NULL_POINTER);
        }
        // SAFETY: `quality` is valid for at least its `struct_size` field per the contract;
        // read unaligned, before anything else of the structure.
        let size = unsafe { std::ptr::addr_of!((*quality).struct_size).read_unaligned() };
        if (size as usize) < std::mem::size_of::<fg_quality>() {
            return Err(fg_status::FG_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: the planes are valid for their lengths per the contract.
        let view = unsafe { image.view()? };
        let q = engine
            .engine
            .assess(&view, &face.to_face())
            .map_err(guard::status)?;
        let (enrolment, probe) = engine.engine.quality_policies();
        let verdict = |policy: fg::QualityPolicy,
                       wrap: fn(fg::QualityIssue) -> fg::QualityError| {
            match policy.check(&q) {
                Ok(()) => fg_status::FG_OK as i32,
                Err(issue) => guard::status(wrap(issue)) as i32,
            }
        };
        let out = fg_quality {
            struct_size: size,
            enrolment: verdict(enrolment, fg::QualityError::Enrolment),
            probe: verdict(probe, fg::QualityError::Probe),
            eye_distance_px: q.eye_distance_px,
            sharpness: q.sharpness,
            brightness: q.brightness,
            contrast: q.contrast,
            yaw: q.yaw,
            pitch: q.pitch,
            roll_deg: q.roll_deg,
        };
        // SAFETY: `quality` is valid for `size` >= size_of::<fg_quality>() bytes.
        unsafe { quality.write_unaligned(out) };
        Ok(())
    })
}
