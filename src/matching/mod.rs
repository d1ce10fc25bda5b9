//! Matching: 1:1 verification with a decision threshold, and the search methods galleries use
//! for 1:N identification.
//!
//! Which threshold: the one for the false-match rate the purpose asks for
//! ([`Purpose::TARGET_FMR`]), from the embedder's operating points
//! ([`OperatingPoints`], measured by [`calibrate()`]); [`Engine::matcher`](crate::Engine::matcher)
//! looks it up.
//!
//! The numeric engine (SIMD kernels picked at run time, the scan layout, exact and fast 1:N
//! search) is the `faceguard-match` crate; its [`Method`] and [`FastParams`] are re-exported
//! here to configure a [`Gallery`](crate::Gallery).

mod calibrate;
mod operating;

pub use calibrate::{
    allowed_false_matches, calibrate, fmr_upper_bound, measure, pairs_needed, PopulationScores,
    CONFIDENCE,
};
use faceguard_match::Kernels;
pub use faceguard_match::{FastParams, IndexError, Method};
pub(crate) use operating::check_fmr;
pub use operating::{Measurement, OperatingPoint, OperatingPoints, DEFAULT_TARGET_FMR};
use serde::Serialize;

use crate::consent::{ConsentCell, ConsentError, Purpose};
use crate::model::ModelId;
use crate::template::{Template, TemplateKind};

/// Default decision threshold on cosine similarity for `fr_feature`: its operating point at
/// the default target false-match rate, 1e-3 ([`DEFAULT_TARGET_FMR`]), as
/// `models/fr_feature.json` records it (a test keeps the two equal).
///
/// Measured by `faceguard calibrate` on every pair of `faces/` (61 photos, 13 people) and
/// `faces-eastasia/` (602 photos, 39 people), with the probe quality gate on. It is the
/// threshold the hardest population needs: among the K-pop and J-pop idols of
/// `faces-eastasia/` (74,251 impostor pairs) it lets 59 impostors match, FMR 7.9e-4, whose
/// 95 % upper bound is 9.9e-4; no other population measured matches more. These figures are
/// in-sample: measured on the photos the threshold was chosen on. The price is
/// paid in false non-matches: 8.6 % of genuine pairs on `faces/`, 47 % on `faces-eastasia/`
/// (BENCHMARKS.md, "Accuracy"). The old 0.41, the fewest errors on `faces/`, mistook one
/// stranger in a hundred among East Asian faces.
pub const DEFAULT_THRESHOLD: f32 = 0.5704;

/// Why two templates could not be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// A template's consent no longer covers its use.
    #[error(transparent)]
    Consent(#[from] ConsentError),
    /// The templates come from different models, whose scores mean nothing together.
    #[error(
        "templates come from different models ({left} vs {right}): re-enrol with the current model"
    )]
    ModelMismatch { left: ModelId, right: ModelId },
    /// A decision threshold outside -1..=1.
    #[error("threshold {0} is not a cosine similarity: it must be a number in -1..=1")]
    InvalidThreshold(f32),
    /// The matcher's threshold was calibrated for another model than the templates'.
    #[error(
        "the decision threshold was calibrated for model {calibrated}, not for model {model}: \
         take the engine's own (`engine.matcher::<P>()`, `fg_vault_set_target_fmr`), or choose \
         one with `Matcher::new`"
    )]
    ThresholdForAnotherModel { calibrated: ModelId, model: ModelId },
    /// The matcher's operating point is laxer than the purpose's target false-match rate.
    #[error(
        "purpose `{purpose}` asks for a false-match rate of {target:e}, but this matcher's \
         threshold was calibrated for {calibrated:e}: set the purpose's own \
         (`set_matcher(engine.matcher::<P>()?)`, `fg_vault_set_target_fmr`)"
    )]
    LaxerThanPurpose {
        purpose: String,
        target: f64,
        calibrated: f64,
    },
    /// A false-match rate outside (0, 1).
    #[error("false-match rate {0} is not a rate: it must be a number in (0, 1)")]
    InvalidFmr(f64),
    /// The embedder has no operating point at or below the false-match rate asked for.
    #[error(
        "embedder `{model}` has no operating point at a false-match rate of {fmr:e} or less: \
         calibrate it on labelled photos with `faceguard calibrate` (see models/README.md)"
    )]
    Uncalibrated { model: String, fmr: f64 },
    /// Too few impostor pairs to show a false-match rate this low.
    #[error(
        "no population has the impostor pairs to show a false-match rate of {fmr:e}: that needs \
         at least {needed} pairs, the largest has {largest}"
    )]
    TooFewImpostors { fmr: f64, needed: u64, largest: u64 },
    /// The matching engine refused a template (wrong length, not finite, not unit length).
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// The outcome of comparing two templates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Decision {
    /// Cosine similarity in -1..=1.
    pub score: f32,
    /// The threshold applied.
    pub threshold: f32,
    /// `score >= threshold`.
    pub is_match: bool,
}

/// Compares templates against a decision threshold.
///
/// A matcher from an operating point ([`Matcher::default`], [`Engine::matcher`](crate::Engine::matcher))
/// knows the model it was calibrated for and refuses templates of any other
/// ([`MatchError::ThresholdForAnotherModel`]): a threshold measured for one embedder promises
/// nothing for another. One made with [`Matcher::new`] applies to any model; its false-match
/// rate is the caller's to know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matcher {
    threshold: f32,
    /// The model the threshold was calibrated for, if it was.
    model: Option<ModelId>,
    /// The false-match rate of the operating point it came from, if it did.
    fmr: Option<f64>,
}

/// The bundled `fr_feature.onnx`: the first 8 bytes of its SHA-256 (models/README.md).
pub(crate) const FR_FEATURE_MODEL: ModelId =
    ModelId::from_bytes([0x87, 0xaa, 0xcd, 0xfe, 0x57, 0x51, 0x0d, 0xb2]);

/// [`DEFAULT_THRESHOLD`]: the bundled `fr_feature`'s threshold at the default target FMR.
/// With another embedder, or for a purpose with another
/// [`TARGET_FMR`](crate::Purpose::TARGET_FMR), use [`Engine::matcher`](crate::Engine::matcher).
impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            threshold: DEFAULT_THRESHOLD,
            model: Some(FR_FEATURE_MODEL),
            fmr: Some(DEFAULT_TARGET_FMR),
        }
    }
}

impl Matcher {
    /// The matcher for false-match rate `fmr` from `points` (an embedder's operating points;
    /// `model` names the embedder in the error): [`OperatingPoints::threshold_for`].
    /// The matcher applies to any model (see [`Matcher`]); the engine's own
    /// ([`Engine::matcher_at`](crate::Engine::matcher_at)) is bound to its embedder.
    pub fn at_fmr(points: &OperatingPoints, fmr: f64, model: &str) -> Result<Self, MatchError> {
        let point = points.point_for(fmr, model)?;
        Ok(Matcher {
            fmr: Some(point.fmr),
            ..Matcher::new(point.threshold)?
        })
    }

    /// The false-match rate of the operating point this matcher came from, if it did.
    pub fn target_fmr(&self) -> Option<f64> {
        self.fmr
    }

    /// Refuses a matcher whose operating point is laxer than the false-match rate `target`
    /// that `purpose` asks for ([`Purpose::TARGET_FMR`]); one made with [`Matcher::new`] is
    /// the caller's choice.
    pub(crate) fn check_rate(&self, purpose: &str, target: f64) -> Result<(), MatchError> {
        match self.fmr {
            Some(calibrated) if calibrated > target => Err(MatchError::LaxerThanPurpose {
                purpose: purpose.to_string(),
                target,
                calibrated,
            }),
            _ => Ok(()),
        }
    }

    /// This threshold, bound to `model`: templates of other models are refused.
    pub(crate) fn bound_to(self, model: ModelId) -> Self {
        Matcher {
            model: Some(model),
            ..self
        }
    }

    /// The model this matcher's threshold was calibrated for, if any.
    pub fn calibrated_for(&self) -> Option<ModelId> {
        self.model
    }

    /// Refuses templates of `model` if the threshold was calibrated for another.
    pub(crate) fn check_model(&self, model: ModelId) -> Result<(), MatchError> {
        match self.model {
            Some(calibrated) if calibrated != model => {
                Err(MatchError::ThresholdForAnotherModel { calibrated, model })
            }
            _ => Ok(()),
        }
    }

    /// A matcher deciding "same person" at cosine similarity `threshold` or above.
    pub fn new(threshold: f32) -> Result<Self, MatchError> {
        if !(-1.0..=1.0).contains(&threshold) {
            return Err(MatchError::InvalidThreshold(threshold));
        }
        Ok(Matcher {
            threshold,
            model: None,
            fmr: None,
        })
    }

    /// The decision threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Decides on a similarity score.
    pub fn decide(&self, score: f32) -> Decision {
        Decision {
            score,
            threshold: self.threshold,
            is_match: score >= self.threshold,
        }
    }

    /// 1:1 verification: are `a` and `b` the same person? Both templates must be under live
    /// consent, granted by the same ledger for the same purpose, and from the same model.
    ///
    /// The purpose is checked at compile time for declared purposes and at run time for
    /// every purpose: the type parameter proves nothing for
    /// [`NamedPurpose`](crate::NamedPurpose), whose templates carry the name they were
    /// consented for, so an `"attendance"` template and a `"payment"` probe are refused with
    /// [`ConsentError::PurposeMismatch`] (naming `b`'s consent and purpose, and `a`'s purpose
    /// as the one requested). Templates whose consents come from two ledgers are refused with
    /// [`ConsentError::ForeignLedger`] (naming `b`'s consent): consent ids, and so revocation,
    /// mean something only within one ledger.
    pub fn verify<P: Purpose, A: TemplateKind, B: TemplateKind>(
        &self,
        a: &Template<P, A>,
        b: &Template<P, B>,
    ) -> Result<Decision, MatchError> {
        a.check_consent()?;
        b.check_consent()?;
        same_scope(&a.consent, &b.consent)?;
        same_model(a.model, b.model)?;
        self.check_model(a.model)?;
        self.check_rate(&a.consent.purpose, P::TARGET_FMR)?;
        Ok(self.decide(dot(a.vector.as_slice(), b.vector.as_slice())))
    }
}

/// Refuses to compare templates whose consents were granted by different ledgers or for
/// different purposes (the run-time half of the purpose check, for purposes named at run
/// time).
fn same_scope(a: &ConsentCell, b: &ConsentCell) -> Result<(), ConsentError> {
    if a.ledger != b.ledger {
        return Err(ConsentError::ForeignLedger { consent: b.id });
    }
    if a.purpose != b.purpose {
        return Err(ConsentError::PurposeMismatch {
            consent: b.id,
            granted: b.purpose.to_string(),
            requested: a.purpose.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn same_model(left: ModelId, right: ModelId) -> Result<(), MatchError> {
    if left == right {
        Ok(())
    } else {
        Err(MatchError::ModelMismatch { left, right })
    }
}

/// Dot product with the CPU's best kernel; equal lengths are guaranteed by equal model ids.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    Kernels::detected().dot_f32(a, b)
}
