//! From a camera frame to the vault in one call: the engine computes the template under the
//! purpose's quality gates and liveness policy, and a presentation attack it refuses is
//! recorded in the journal before the error is returned.

use crate::consent::{ConsentToken, ProbeConsent, Purpose, SubjectId};
use crate::detect::Face;
use crate::error::Error;
use crate::gallery::Candidate;
use crate::image::ImageView;
use crate::liveness::LivenessError;
use crate::matching::Decision;
use crate::Engine;

use super::event::{Event, Stage};
use super::Vault;

impl Vault {
    /// Computes the enrolment template of `face` in `image` under `token` with `engine`, and
    /// stores it ([`enroll`](Self::enroll)). A face the liveness check calls a spoof is
    /// recorded as [`Event::PresentationAttack`] and returned as
    /// [`LivenessError::PresentationAttack`].
    pub fn enroll_face<P: Purpose>(
        &self,
        engine: &Engine,
        token: &ConsentToken<P>,
        image: &ImageView,
        face: &Face,
    ) -> Result<(), Error> {
        let template = engine.enrolment_template(token, image, face);
        let template = self.note_attack(template, &token.cell.purpose, Stage::Enrolment)?;
        self.enroll(template)
    }

    /// One enrolment template fused from several photos of the person
    /// ([`Engine::fused_enrolment_template`]), stored as [`enroll`](Self::enroll) does. A
    /// spoof among the photos is recorded and returned as for
    /// [`enroll_face`](Self::enroll_face).
    pub fn enroll_faces_fused<P: Purpose>(
        &self,
        engine: &Engine,
        token: &ConsentToken<P>,
        photos: &[(&ImageView, &Face)],
    ) -> Result<(), Error> {
        let template = engine.fused_enrolment_template(token, photos);
        let template = self.note_attack(template, &token.cell.purpose, Stage::Enrolment)?;
        self.enroll(template)
    }

    /// 1:N identification ([`identify`](Self::identify)) of `face` in `image`, under the
    /// one-off probe `consent`. A spoof is recorded and returned as for
    /// [`enroll_face`](Self::enroll_face).
    pub fn identify_face<P: Purpose>(
        &self,
        engine: &Engine,
        consent: ProbeConsent<P>,
        image: &ImageView,
        face: &Face,
        k: usize,
    ) -> Result<Vec<Candidate>, Error> {
        let purpose = consent.cell.purpose.clone();
        let probe = engine.probe_template(consent, image, face);
        let probe = self.note_attack(probe, &purpose, Stage::Probe)?;
        self.identify(&probe, k)
    }

    /// 1:1 verification ([`verify`](Self::verify)) of `face` in `image` against `subject`,
    /// under the one-off probe `consent`. A spoof is recorded and returned as for
    /// [`enroll_face`](Self::enroll_face).
    pub fn verify_face<P: Purpose>(
        &self,
        engine: &Engine,
        consent: ProbeConsent<P>,
        image: &ImageView,
        face: &Face,
        subject: &SubjectId,
    ) -> Result<Decision, Error> {
        let purpose = consent.cell.purpose.clone();
        let probe = engine.probe_template(consent, image, face);
        let probe = self.note_attack(probe, &purpose, Stage::Probe)?;
        self.verify(&probe, subject)
    }

    /// Records a presentation attack the caller's own liveness check (or
    /// [`Engine`]'s, outside the calls above) refused: purpose, stage, score and threshold;
    /// never an image or a template.
    pub fn record_presentation_attack(
        &self,
        purpose: &str,
        stage: Stage,
        score: f32,
        threshold: f32,
    ) -> Result<(), Error> {
        crate::consent::check_purpose_name(purpose)?;
        let mut inner = self.lock_inner();
        inner.append(
            self.now(),
            Event::PresentationAttack {
                purpose: purpose.to_string(),
                stage,
                score: finite(score),
                threshold: finite(threshold),
            },
            None,
        )?;
        Ok(())
    }

    /// Passes `result` through, recording a presentation attack first.
    fn note_attack<T>(
        &self,
        result: Result<T, Error>,
        purpose: &str,
        stage: Stage,
    ) -> Result<T, Error> {
        if let Err(Error::Liveness(LivenessError::PresentationAttack { score, threshold })) =
            &result
        {
            self.record_presentation_attack(purpose, stage, *score, *threshold)?;
        }
        result
    }
}

/// JSON has no NaN or infinity: such a score (from a vendor's check) is recorded as the
/// lowest finite value.
fn finite(v: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        f32::MIN
    }
}
