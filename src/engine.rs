//! The loaded models, and the only way to turn a face into a template: with consent.

use std::any::TypeId;
use std::path::Path;
use std::sync::Arc;

use crate::align::{self, AlignError, AlignedFace};
use crate::consent::{ConsentCell, ConsentToken, NamedPurpose, ProbeConsent, Purpose};
use crate::detect::{Detector, DetectorConfig, Face};
use crate::embed::{EmbedError, Embedder, EmbedderSpec};
use crate::error::Error;
use crate::image::ImageView;
use crate::liveness::{Liveness, LivenessError, LivenessPolicy, LivenessScore, ModelLiveness};
use crate::matching::{MatchError, Matcher};
use crate::model::ModelError;
use crate::quality::{self, Quality, QualityError, QualityPolicy};
use crate::template::{ProbeTemplate, SecretVector, Template, TemplateKind};
use crate::DetectError;

/// The most photos [`Engine::fused_enrolment_template`] fuses into one template.
pub const MAX_FUSED_PHOTOS: usize = 8;

/// File names [`Engine::from_dir`] looks for.
pub const DETECTOR_FILE: &str = "face_detection_yunet_2023mar.onnx";
/// The embedder model file [`Engine::from_dir`] looks for.
pub const EMBEDDER_FILE: &str = "fr_feature.onnx";
/// The embedder description [`Engine::from_dir`] looks for beside the embedder.
pub const EMBEDDER_SPEC_FILE: &str = "fr_feature.json";

/// A face detector and an embedder, loaded once.
///
/// `Send + Sync`: one engine serves every camera stream, each on its own thread.
///
/// # What a run leaves in memory
///
/// Wiped (zeroized) by this crate after every model run, failed or panicking runs included:
/// the frame as the detector sees it (resized, as `f32`), the aligned face as the embedder
/// sees it (normalised, as `f32`), the embedder's raw output, and the crop itself
/// ([`AlignedFace`] is wiped on drop). tract only ever gets a shared handle to the two input
/// buffers, never a copy of its own, and holds it only during the run.
///
/// Not wiped: every tensor tract computes inside each model, i.e. the intermediate
/// activations, including any re-laid-out copy of the input an operator makes. tract
/// allocates them, frees them when a later layer no longer needs them or at the end of the
/// run, and does not zero them; the detector's raw outputs (face scores, boxes and
/// landmarks, not pixels) likewise. Freed memory is reused by later allocations but keeps its bytes until
/// then, so someone who can read this process's memory may recover early layers' feature
/// maps (which can resemble the face) and late layers' activations (close to the
/// embedding). Keeping such an attacker out of the process is the platform's job.
///
/// # Quality gates
///
/// Every face is measured ([`assess`](Self::assess)) before it is embedded. An enrolment
/// photo below [`QualityPolicy::enrolment`] is refused with
/// [`QualityError::Enrolment`], whose reason says what to fix; a probe below
/// [`QualityPolicy::probe`] with [`QualityError::Probe`]: "try again", neither a match nor a
/// non-match. [`with_quality`](Self::with_quality) changes the limits (a camera with its own
/// optics and light).
///
/// # Liveness
///
/// Before a template is computed under a purpose whose [`LivenessPolicy`] requires it
/// ([`Purpose::ENROLMENT_LIVENESS`], [`Purpose::PROBE_LIVENESS`]: required unless the purpose
/// waives it), the engine's [`Liveness`] check judges the face, and a spoof is
/// [`LivenessError::PresentationAttack`]. [`from_dir`](Self::from_dir) loads the default check
/// ([`ModelLiveness`]); an engine made with [`new`](Self::new) has none until
/// [`with_liveness`](Self::with_liveness) gives it one, and until then refuses every template
/// that needs it ([`LivenessError::NoCheck`]): there is no way to skip the check but a
/// purpose that waives it.
pub struct Engine {
    detector: Detector,
    embedder: Embedder,
    liveness: Option<Arc<dyn Liveness>>,
    enrolment_quality: QualityPolicy,
    probe_quality: QualityPolicy,
}

impl Engine {
    /// Pairs a detector and an embedder, with the default quality gates and no liveness
    /// check: give it one with [`with_liveness`](Self::with_liveness), or it refuses the
    /// templates of every purpose that requires one.
    pub fn new(detector: Detector, embedder: Embedder) -> Self {
        Engine {
            detector,
            embedder,
            liveness: None,
            enrolment_quality: QualityPolicy::enrolment(),
            probe_quality: QualityPolicy::probe(),
        }
    }

    /// This engine with `check` as its liveness check (the default [`ModelLiveness`], or a
    /// vendor's IR or depth check).
    pub fn with_liveness(mut self, check: Arc<dyn Liveness>) -> Self {
        self.liveness = Some(check);
        self
    }

    /// The liveness check, if the engine has one.
    pub fn liveness(&self) -> Option<&Arc<dyn Liveness>> {
        self.liveness.as_ref()
    }

    /// Judges whether `face` in `image` is a live person (no consent needed: no template is
    /// made). [`LivenessError::NoCheck`] when the engine has no liveness check.
    pub fn check_liveness(
        &self,
        image: &ImageView,
        face: &Face,
    ) -> Result<LivenessScore, LivenessError> {
        self.liveness
            .as_ref()
            .ok_or(LivenessError::NoCheck)?
            .check(image, face)
    }

    /// Runs the liveness check if `policy` requires it; a spoof is an error.
    fn require_live(
        &self,
        policy: LivenessPolicy,
        image: &ImageView,
        face: &Face,
    ) -> Result<(), LivenessError> {
        if !policy.is_required() {
            return Ok(());
        }
        let verdict = self.check_liveness(image, face)?;
        if verdict.is_live() {
            Ok(())
        } else {
            Err(LivenessError::PresentationAttack {
                score: verdict.score,
                threshold: verdict.threshold,
            })
        }
    }

    /// This engine with other quality gates for enrolment photos and for probes.
    pub fn with_quality(mut self, enrolment: QualityPolicy, probe: QualityPolicy) -> Self {
        self.enrolment_quality = enrolment;
        self.probe_quality = probe;
        self
    }

    /// The quality gates: (enrolment, probe).
    pub fn quality_policies(&self) -> (QualityPolicy, QualityPolicy) {
        (self.enrolment_quality, self.probe_quality)
    }

    /// The matcher for purpose `P`: the embedder's calibrated threshold for `P`'s target
    /// false-match rate ([`Purpose::TARGET_FMR`]), bound to this embedder (templates of
    /// another model are refused). Give it to the purpose's gallery or vault
    /// (`set_matcher`). [`MatchError::Uncalibrated`] when the embedder's description has no
    /// operating point that low: calibrate it first (`faceguard calibrate`).
    pub fn matcher<P: Purpose>(&self) -> Result<Matcher, MatchError> {
        self.matcher_at(P::TARGET_FMR)
    }

    /// The matcher for false-match rate `fmr` (for purposes named at run time).
    pub fn matcher_at(&self, fmr: f64) -> Result<Matcher, MatchError> {
        let spec = self.embedder.spec();
        match &spec.operating_points {
            Some(points) => {
                let model = self.embedder.model_id();
                // The points were measured on one ONNX file: another under the same
                // description (a vendor's, an update) gets nothing from them.
                match points.model.parse::<crate::ModelId>() {
                    Ok(measured) if measured == model => {}
                    Ok(measured) => {
                        return Err(MatchError::ThresholdForAnotherModel {
                            calibrated: measured,
                            model,
                        })
                    }
                    Err(_) => {
                        return Err(MatchError::Uncalibrated {
                            model: spec.name.clone(),
                            fmr,
                        })
                    }
                }
                Ok(Matcher::at_fmr(points, fmr, &spec.name)?.bound_to(model))
            }
            None => {
                crate::matching::check_fmr(fmr)?;
                Err(MatchError::Uncalibrated {
                    model: spec.name.clone(),
                    fmr,
                })
            }
        }
    }

    /// Loads YuNet, `fr_feature` and its description, and the liveness check
    /// (`liveness.json` and the PAD models it names) from `dir` (as placed by
    /// `scripts/fetch-models.sh`), with the default detector settings.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, ModelError> {
        let dir = dir.as_ref();
        let detector = Detector::from_path(dir.join(DETECTOR_FILE), DetectorConfig::default())?;
        let spec = EmbedderSpec::from_file(dir.join(EMBEDDER_SPEC_FILE))?;
        let liveness = ModelLiveness::from_dir(dir)?;
        Ok(Engine::new(
            detector,
            Embedder::from_path(dir.join(EMBEDDER_FILE), spec)?,
        )
        .with_liveness(Arc::new(liveness)))
    }

    /// The face detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The embedder.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// Detects faces, strongest first.
    pub fn detect(&self, image: &ImageView) -> Result<Vec<Face>, DetectError> {
        self.detector.detect(image)
    }

    /// Aligns `face` onto the embedder's template (no consent needed: a crop is not a template).
    pub fn align(&self, image: &ImageView, face: &Face) -> Result<AlignedFace, AlignError> {
        align::align(image, &face.landmarks, &self.embedder.spec().alignment)
    }

    /// Measures `face` in `image`: size, sharpness, exposure, pose (no consent needed: no
    /// template is made). Firmware can show the person what to fix before enrolling.
    pub fn assess(&self, image: &ImageView, face: &Face) -> Result<Quality, AlignError> {
        Ok(quality::assess(face, &self.align(image, face)?))
    }

    /// Computes the enrolment template of `face` in `image` under `consent`, if the face
    /// passes the enrolment quality gate ([`QualityError::Enrolment`] says what to fix).
    /// Several templates of one person may be enrolled under one consent: galleries and
    /// vaults score a person by the best of them, and revoking the consent erases all. Each
    /// gives a stranger one more chance, so the false-match rate per person grows up to
    /// k-fold with k templates: prefer [`fused_enrolment_template`](Self::fused_enrolment_template).
    pub fn enrolment_template<P: Purpose>(
        &self,
        consent: &ConsentToken<P>,
        image: &ImageView,
        face: &Face,
    ) -> Result<Template<P>, Error> {
        self.template(&consent.cell, image, face, Gate::Enrolment)
    }

    /// Computes one enrolment template from several photos of the person (`photos`: each a
    /// frame and the face in it), under `consent`: the unit-length mean of their embeddings.
    /// Every photo must pass the enrolment quality gate (the first that fails is the error).
    /// Between 1 and [`MAX_FUSED_PHOTOS`] photos ([`EmbedError::PhotoCount`] otherwise).
    ///
    /// A fused template matches its owner far more often than one photo does, but strangers
    /// a little more often too: compare it at the operating point for the purpose's FMR
    /// divided by the number of photos (`engine.matcher_at(P::TARGET_FMR / 3.0)` for three;
    /// with the bundled points, 1e-3 / 8 still has the 1e-4 point),
    /// where, on `faces-eastasia/`, three fused photos still turn away fewer genuine
    /// attempts than one photo at the purpose's own point (BENCHMARKS.md, "Accuracy").
    pub fn fused_enrolment_template<P: Purpose>(
        &self,
        consent: &ConsentToken<P>,
        photos: &[(&ImageView, &Face)],
    ) -> Result<Template<P>, Error> {
        if photos.is_empty() || photos.len() > MAX_FUSED_PHOTOS {
            return Err(EmbedError::PhotoCount {
                given: photos.len(),
                max: MAX_FUSED_PHOTOS,
            }
            .into());
        }
        consent.cell.check()?;
        let policy = liveness_policy::<P>(&consent.cell, Gate::Enrolment);
        let dim = self.embedder.spec().output_dim;
        let mut sum = zeroize::Zeroizing::new(vec![0.0f32; dim]);
        for (image, face) in photos {
            let aligned = self.align(image, face)?;
            self.enrolment_quality
                .check(&quality::assess(face, &aligned))
                .map_err(QualityError::Enrolment)?;
            self.require_live(policy, image, face)?;
            let vector = self.embedder.embed(&aligned)?;
            for (s, v) in sum.iter_mut().zip(vector.as_slice()) {
                *s += v;
            }
        }
        let vector = SecretVector::normalized(&sum).ok_or(EmbedError::Degenerate)?;
        consent.cell.check()?;
        Ok(Template::new(
            vector,
            self.embedder.model_id(),
            consent.cell.clone(),
        ))
    }

    /// Computes the probe template of `face` in `image` under a one-off probe consent, which
    /// the template takes with it and which ends with it. A face below the probe quality gate
    /// is [`QualityError::Probe`]: try again.
    pub fn probe_template<P: Purpose>(
        &self,
        consent: ProbeConsent<P>,
        image: &ImageView,
        face: &Face,
    ) -> Result<ProbeTemplate<P>, Error> {
        self.template(&consent.cell, image, face, Gate::Probe)
    }

    fn template<P: Purpose, K: TemplateKind>(
        &self,
        consent: &std::sync::Arc<ConsentCell>,
        image: &ImageView,
        face: &Face,
        gate: Gate,
    ) -> Result<Template<P, K>, Error> {
        consent.check()?;
        let aligned = self.align(image, face)?;
        let q = quality::assess(face, &aligned);
        match gate {
            Gate::Enrolment => self
                .enrolment_quality
                .check(&q)
                .map_err(QualityError::Enrolment)?,
            Gate::Probe => self.probe_quality.check(&q).map_err(QualityError::Probe)?,
        }
        // After the quality gate: a blurred or distant capture of a real person is told what
        // to fix, never called an attack, and the PAD models only judge faces good enough
        // for them.
        self.require_live(liveness_policy::<P>(consent, gate), image, face)?;
        let vector = self.embedder.embed(&aligned)?;
        // Again: consent may have ended while the model ran; the vector is wiped on return.
        consent.check()?;
        Ok(Template::new(
            vector,
            self.embedder.model_id(),
            consent.clone(),
        ))
    }
}

/// Which gates a template passes: enrolment's or a probe's.
#[derive(Clone, Copy)]
enum Gate {
    Enrolment,
    Probe,
}

/// The liveness policy for a template of purpose `P` under `consent`: `P`'s own for a typed
/// purpose; for a purpose named at run time, the one its consent carries (that of the type
/// declared under the name when the consent was issued, else required).
fn liveness_policy<P: Purpose>(consent: &ConsentCell, gate: Gate) -> LivenessPolicy {
    let named = TypeId::of::<P>() == TypeId::of::<NamedPurpose>();
    match (gate, named) {
        (Gate::Enrolment, false) => P::ENROLMENT_LIVENESS,
        (Gate::Probe, false) => P::PROBE_LIVENESS,
        (Gate::Enrolment, true) => consent.liveness.enrolment,
        (Gate::Probe, true) => consent.liveness.probe,
    }
}
