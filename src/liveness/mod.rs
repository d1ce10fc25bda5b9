//! Presentation-attack detection (liveness): is the face in front of the camera a live
//! person, or a printed photo, a screen, a replayed video, a mask?
//!
//! A [`Liveness`] check takes a frame and a face and returns a [`LivenessScore`]. The default
//! check, [`ModelLiveness`], runs the PAD models a [`LivenessSpec`] describes
//! (`models/liveness.json`: three models at their own crops, fused) through tract; vendors
//! with IR or depth sensors plug in their own check by implementing the trait.
//! [`StreamLiveness`] decides over the last frames of each face's track instead of one frame
//! (its documentation states the rule).
//!
//! Liveness is part of the consent path: every [`Purpose`](crate::Purpose) states a
//! [`LivenessPolicy`] for enrolment and for probes, and
//! [`Engine`](crate::Engine) runs the check before it computes a template under a policy that
//! requires it. A spoof is [`LivenessError::PresentationAttack`]; an engine without a check
//! cannot compute such a template at all ([`LivenessError::NoCheck`]).

mod crop;
mod model;
mod spec;
mod stream;

use crate::detect::Face;
use crate::image::ImageView;

pub use model::{ModelLiveness, PadModel, LIVENESS_SPEC_FILE};
pub use spec::{Crop, LivenessSpec, Output, PadModelSpec};
pub use stream::{StreamConfig, StreamDecision, StreamLiveness, TrackVerdict};

/// Log-odds are clamped to ±this before fusion (a probability within about 1e-4 of 0 or 1):
/// one model's certainty cannot outvote the others without bound.
pub const LOG_ODDS_LIMIT: f32 = 9.0;

/// A liveness check's verdict on one face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivenessScore {
    /// Higher is more likely live; the scale is the check's own (the default check's is the
    /// fused log-odds of "live", within ±[`LOG_ODDS_LIMIT`]).
    pub score: f32,
    /// The score at and above which the face counts as live.
    pub threshold: f32,
}

impl LivenessScore {
    /// Whether the face counts as live.
    pub fn is_live(&self) -> bool {
        self.score >= self.threshold
    }
}

/// A presentation-attack check. `Send + Sync`: one check serves every camera stream.
///
/// Implementations return a score for every face they can judge, and an error (never a
/// panic) for faces they cannot: [`LivenessError::FaceTooSmall`],
/// [`LivenessError::NoColour`], [`LivenessError::FaceOutsideFrame`],
/// [`LivenessError::Inference`].
pub trait Liveness: Send + Sync {
    /// Judges `face` in `image`.
    fn check(&self, image: &ImageView, face: &Face) -> Result<LivenessScore, LivenessError>;
}

/// Whether a purpose requires a live face, at enrolment or at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessPolicy {
    /// Every template is preceded by a liveness check; a spoof gets no template.
    Required,
    /// No check, for the reason given (documented with the purpose, shown by tools): e.g.
    /// enrolment photos taken by staff at a desk, who see the person.
    Waived {
        /// Why a presentation attack is not a risk for this purpose.
        reason: &'static str,
    },
}

impl LivenessPolicy {
    /// Whether a check must run.
    pub fn is_required(&self) -> bool {
        matches!(self, LivenessPolicy::Required)
    }
}

/// Why a face got no liveness verdict, or was judged a spoof.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LivenessError {
    /// The face was judged a presentation attack (a photo, a screen, a mask).
    #[error(
        "presentation attack: liveness score {score:.3} is below the threshold {threshold:.3}"
    )]
    PresentationAttack { score: f32, threshold: f32 },
    /// The purpose requires a liveness check and this engine has none: load one
    /// ([`Engine::from_dir`](crate::Engine::from_dir) with the PAD models placed, or
    /// [`Engine::with_liveness`](crate::Engine::with_liveness)).
    #[error("the purpose requires a liveness check and this engine has none: {hint}", hint = crate::model::FETCH_HINT)]
    NoCheck,
    /// Too few pixels of face to judge: come closer.
    #[error("face is {side:.0} pixels, liveness needs at least {min:.0}: come closer")]
    FaceTooSmall { side: f32, min: f32 },
    /// The face has no colour to judge (an infrared or greyscale frame): the RGB models would
    /// see any grey face as a print. No decision: a purpose that requires liveness refuses
    /// the face; offer the other way in, or plug in an infrared check.
    #[error("face has no colour (mean channel difference {colour:.2}, at least {min:.2} needed): an infrared or greyscale frame cannot be judged by this liveness check")]
    NoColour { colour: f32, min: f32 },
    /// The face box is not finite, empty, or does not overlap the frame.
    #[error(
        "face box is empty, not finite or outside the frame: pass a face detected in this frame"
    )]
    FaceOutsideFrame,
    /// The stream rule has not seen this face on enough frames yet: keep looking at the
    /// camera ([`StreamLiveness`]).
    #[error("liveness undecided: {frames} of the {needed} frames needed so far: keep looking at the camera")]
    Undecided { frames: usize, needed: usize },
    /// A setting is out of range.
    #[error("invalid liveness setting: {0}")]
    Config(String),
    /// A model failed while running.
    #[error("liveness model failed while running: {0}")]
    Inference(String),
}
