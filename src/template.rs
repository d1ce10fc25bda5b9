//! Biometric templates: secrets bound to a purpose, a consent and a model.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use zeroize::Zeroize;

use crate::consent::{ConsentCell, ConsentError, ConsentId, Purpose, SubjectId};
use crate::model::ModelId;

/// An L2-normalised embedding, wiped on drop, never printed, never cloned.
pub(crate) struct SecretVector(Box<[f32]>);

impl SecretVector {
    /// Normalises `raw` to unit length; `None` if it is zero or not finite.
    pub(crate) fn normalized(raw: &[f32]) -> Option<Self> {
        let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !norm.is_finite() || norm <= f32::MIN_POSITIVE {
            return None;
        }
        Some(SecretVector(raw.iter().map(|v| v / norm).collect()))
    }

    /// A vector read back from the vault, already unit length when it was stored.
    pub(crate) fn from_stored(values: Box<[f32]>) -> Self {
        SecretVector(values)
    }

    pub(crate) fn as_slice(&self) -> &[f32] {
        &self.0
    }
}

impl Drop for SecretVector {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

mod sealed {
    pub trait Sealed {}
}

/// What a template is for: [`Enrolment`] (stored in a gallery) or [`Probe`] (one capture).
pub trait TemplateKind: sealed::Sealed + Send + Sync + 'static {
    /// "enrolment" or "probe".
    const NAME: &'static str;
}

/// Marker: a template made under an enrolment consent, to be stored in a gallery.
pub enum Enrolment {}
/// Marker: a template made under a one-off probe consent, to be matched and dropped.
pub enum Probe {}

impl sealed::Sealed for Enrolment {}
impl sealed::Sealed for Probe {}
impl TemplateKind for Enrolment {
    const NAME: &'static str = "enrolment";
}
impl TemplateKind for Probe {
    const NAME: &'static str = "probe";
}

/// A biometric template for purpose `P`: the face embedding, the model that made it and the
/// consent it was made under.
///
/// Made only by [`Engine`](crate::Engine) with a consent. Not `Clone`, not `Display`; its
/// `Debug` form is redacted; its memory is wiped on drop. Each use re-checks its consent: once
/// that is revoked or expired the template matches nothing.
pub struct Template<P: Purpose, K: TemplateKind = Enrolment> {
    pub(crate) vector: SecretVector,
    pub(crate) model: ModelId,
    pub(crate) consent: Arc<ConsentCell>,
    _marker: PhantomData<fn() -> (P, K)>,
}

/// A template of one capture, made under a [`ProbeConsent`](crate::ProbeConsent): matched,
/// then dropped together with its consent.
pub type ProbeTemplate<P> = Template<P, Probe>;

impl<P: Purpose, K: TemplateKind> Template<P, K> {
    pub(crate) fn new(vector: SecretVector, model: ModelId, consent: Arc<ConsentCell>) -> Self {
        Template {
            vector,
            model,
            consent,
            _marker: PhantomData,
        }
    }

    /// The model that computed this template.
    pub fn model_id(&self) -> ModelId {
        self.model
    }

    /// The consent this template was made under.
    pub fn consent_id(&self) -> ConsentId {
        self.consent.id
    }

    /// The enrolled subject (`None` for a probe, which names nobody).
    pub fn subject(&self) -> Option<&SubjectId> {
        self.consent.subject.as_ref()
    }

    /// The purpose the template was made for (see [`ConsentToken::purpose`]).
    ///
    /// [`ConsentToken::purpose`]: crate::ConsentToken::purpose
    pub fn purpose(&self) -> &str {
        &self.consent.purpose
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.vector.as_slice().len()
    }

    /// Whether the template's consent still covers its use.
    pub fn check_consent(&self) -> Result<(), ConsentError> {
        self.consent.check()
    }

    /// The raw unit vector, if the template's consent still covers its use (checked first,
    /// as for every other use: a revoked or expired template exposes nothing).
    ///
    /// For evaluation tools only (accuracy against reference outputs, benchmarks): it exists
    /// only with the crate's non-default `research` feature, which firmware must not enable.
    /// The slice it returns is the secret itself, outside the template's protection: whatever
    /// the caller copies from it is neither wiped on drop nor re-checked against the consent.
    #[cfg(feature = "research")]
    #[cfg_attr(docsrs, doc(cfg(feature = "research")))]
    pub fn expose_secret(&self) -> Result<&[f32], ConsentError> {
        self.check_consent()?;
        Ok(self.vector.as_slice())
    }
}

impl<P: Purpose, K: TemplateKind> fmt::Debug for Template<P, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("purpose", &&*self.consent.purpose)
            .field("kind", &K::NAME)
            .field("model", &self.model)
            .field("consent", &self.consent.id)
            .field("vector", &format_args!("[redacted; {} × f32]", self.dim()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_refuses_zero_and_nan_vectors() {
        assert!(SecretVector::normalized(&[0.0; 4]).is_none());
        assert!(SecretVector::normalized(&[1.0, f32::NAN]).is_none());
        let v = SecretVector::normalized(&[3.0, 4.0]).unwrap();
        assert_eq!(v.as_slice(), &[0.6, 0.8]);
    }
}
