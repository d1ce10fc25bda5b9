//! # faceguard
//!
//! On-device face recognition with privacy guarantees built in, for camera firmware.
//!
//! The pipeline is **detect → align → embed → match** on real camera frames, with real ONNX
//! models run by `tract` on the CPU, and no network. Privacy is not an option to turn on: a
//! biometric template can only be computed with a consent token for a declared purpose
//! ([`Purpose`]), tokens come only from a [`ConsentLedger`], and revoking or expiring consent
//! erases the person's templates. Templates are secrets: not `Clone`, not printable, wiped on
//! drop.
//!
//! The example reads its photos with `decode_file` (the `image-files` feature, see [Cargo
//! features](#cargo-features)); firmware wraps its ISP buffers in an [`ImageView`] instead.
//!
//! ```no_run
//! use std::time::Duration;
//! use faceguard::{decode_file, ConsentLedger, Engine, Purpose, SubjectId};
//!
//! /// The purpose this camera serves.
//! enum DoorAccess {}
//! impl Purpose for DoorAccess {
//!     const NAME: &'static str = "door-access";
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::from_dir("models")?; // after `scripts/fetch-models.sh`
//! let ledger = ConsentLedger::new();
//! let gallery = ledger.gallery::<DoorAccess>();
//! // The threshold for DoorAccess's target false-match rate (Purpose::TARGET_FMR, 1e-3),
//! // from the embedder's calibrated operating points.
//! gallery.set_matcher(engine.matcher::<DoorAccess>()?);
//!
//! // Enrolment: the person read the notice and agreed, for 90 days.
//! let notice = "Your face template opens the staff door. Ask reception to delete it any time.";
//! let consent = ledger.grant::<DoorAccess>(SubjectId::new("badge-1042")?, notice, Duration::from_secs(90 * 86_400))?;
//! let photo = decode_file("enrol.jpg")?;
//! let face = engine.detect(&photo.view())?.into_iter().next().ok_or("no face")?;
//! // A poor photo is refused with a reason saying what to fix (Error::Quality), a printed
//! // photo or a screen as an attack (Error::Liveness, PresentationAttack); more photos
//! // of the person may be enrolled under the same consent, matched by the best of them.
//! gallery.enroll(engine.enrolment_template(&consent, &photo.view(), &face)?)?;
//!
//! // At the door: a one-off consent for this capture, gone with the probe.
//! let frame = decode_file("door.jpg")?; // firmware uses ImageView::nv12 on the ISP buffer
//! let face = engine.detect(&frame.view())?.into_iter().next().ok_or("no face")?;
//! // A poor capture is Error::Quality: "try again", neither a match nor a non-match.
//! let probe = engine.probe_template(ledger.probe_consent::<DoorAccess>(notice)?, &frame.view(), &face)?;
//! if let Some(best) = gallery.identify(&probe, 1)?.first().filter(|c| c.is_match) {
//!     println!("welcome {} (score {:.3})", best.subject, best.score);
//! }
//!
//! // Deletion on request: the template is erased from the gallery at once.
//! ledger.revoke(consent.id())?;
//! assert!(gallery.is_empty());
//! # Ok(()) }
//! ```
//!
//! On a device, keep consents and templates in a [`vault::Vault`] instead: the same calls
//! (`grant`, `enroll`, `identify`, `revoke`), with everything encrypted on flash, crash-safe,
//! deleted by destroying keys, and written to a hash-chained audit log.
//!
//! Layers, one module each: [`image`] (frames), [`detect`], [`align`], [`quality`],
//! [`liveness`] (presentation-attack detection, required by every purpose unless it waives
//! it), [`embed`], [`consent`], [`template`], [`matching`] (decisions, operating points,
//! calibration), [`gallery`], [`vault`], with [`Engine`] tying the models together.
//!
//! ## Cargo features
//!
//! None is on by default: a plain build of the library is what firmware links, and it compiles
//! neither an image-file decoder nor any way to read a template's vector.
//!
//! | feature | what it adds | meant for |
//! |---|---|---|
//! | `image-files` | `decode_file`, `decode_bytes`, `decode_file_with`, `decode_bytes_with`, `DecodeLimits`, `DecodedImage`: JPEG, PNG, WebP and BMP files or buffers decoded to RGB within a decode budget, with the `image` crate | tools, tests, hosts that read photos; firmware wraps its frames in [`ImageView`] and compiles no decoder |
//! | `research` | `Template::expose_secret`, which hands out a template's raw vector after checking its consent; without the feature no public function reads a template's vector | evaluation tools only (accuracy against reference outputs, the command-line tool's `bench-match`), never firmware |
//! | `armv7-neon` | no API: NEON matching kernels in armv7 builds made with `RUSTFLAGS="-C target-feature=+neon"` | armv7 SoCs with NEON (Cortex-A7/A9/A15) |
//!
//! The command-line tool (`faceguard-cli`, binary `faceguard`) turns on `image-files` and
//! `research`. One more feature, `fuzzing`, is not part of the API: it exposes the vault's
//! parsers to the fuzz targets in `fuzz/` (`scripts/fuzz.sh`), and nothing else may turn it on.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod align;
pub mod consent;
pub mod detect;
pub mod embed;
mod engine;
mod error;
pub mod gallery;
mod geometry;
pub mod image;
pub mod liveness;
pub mod matching;
mod model;
pub mod quality;
pub mod template;
pub mod vault;

pub use align::{AlignError, AlignedFace, AlignmentTemplate, Similarity};
pub use consent::{
    Clock, ConsentError, ConsentHandle, ConsentId, ConsentLedger, ConsentRecord, ConsentStatus,
    ConsentToken, ManualClock, NamedPurpose, ProbeConsent, Purpose, SubjectId, SystemClock,
    Timestamp,
};
pub use detect::{DetectError, Detector, DetectorConfig, Face};
pub use embed::{ColorOrder, EmbedError, Embedder, EmbedderSpec};
pub use engine::{Engine, DETECTOR_FILE, EMBEDDER_FILE, EMBEDDER_SPEC_FILE, MAX_FUSED_PHOTOS};
pub use error::Error;
pub use gallery::{Candidate, Gallery};
pub use geometry::{BoundingBox, Point};
#[cfg(feature = "image-files")]
pub use image::{
    decode_bytes, decode_bytes_with, decode_file, decode_file_with, DecodeLimits, DecodedImage,
};
pub use image::{ImageError, ImageView, PixelFormat, YuvMatrix};
pub use liveness::{
    Liveness, LivenessError, LivenessPolicy, LivenessScore, LivenessSpec, ModelLiveness, PadModel,
    PadModelSpec, StreamConfig, StreamDecision, StreamLiveness,
};
pub use matching::{
    Decision, MatchError, Matcher, OperatingPoint, OperatingPoints, DEFAULT_TARGET_FMR,
    DEFAULT_THRESHOLD,
};
pub use model::{ModelError, ModelId, FETCH_HINT};
pub use quality::{Quality, QualityError, QualityIssue, QualityPolicy};
pub use template::{Enrolment, Probe, ProbeTemplate, Template, TemplateKind};

/// The README's Rust example is compiled as a doc test, so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
