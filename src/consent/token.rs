use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{ConsentCell, ConsentError, ConsentId, Purpose, SubjectId, Timestamp};

/// Proof that a subject consented to enrolment for purpose `P`.
///
/// Issued only by [`ConsentLedger::grant`](super::ConsentLedger::grant) or
/// [`ConsentLedger::token`](super::ConsentLedger::token); it has no public constructor and is
/// neither `Clone` nor `Copy`. It is checked again at every use: a revoked or expired token
/// computes nothing.
pub struct ConsentToken<P: Purpose> {
    pub(crate) cell: Arc<ConsentCell>,
    _purpose: PhantomData<fn() -> P>,
}

impl<P: Purpose> ConsentToken<P> {
    pub(crate) fn new(cell: Arc<ConsentCell>) -> Self {
        ConsentToken {
            cell,
            _purpose: PhantomData,
        }
    }

    /// The consent's id on its ledger.
    pub fn id(&self) -> ConsentId {
        self.cell.id
    }

    /// The person who consented.
    pub fn subject(&self) -> &SubjectId {
        self.cell
            .subject
            .as_ref()
            .expect("enrolment consents always name their subject")
    }

    /// When the consent ends.
    pub fn expires_at(&self) -> Timestamp {
        self.cell.expires_at
    }

    /// The purpose consented to: `P::NAME`, or the name given at run time for
    /// [`NamedPurpose`](super::NamedPurpose).
    pub fn purpose(&self) -> &str {
        &self.cell.purpose
    }

    /// Whether the consent still covers enrolment now (not revoked, not expired).
    pub fn check(&self) -> Result<(), ConsentError> {
        self.cell.check()
    }
}

impl<P: Purpose> fmt::Debug for ConsentToken<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentToken")
            .field("id", &self.cell.id)
            .field("purpose", &&*self.cell.purpose)
            .field("subject", &self.cell.subject)
            .field("expires_at", &self.cell.expires_at)
            .finish()
    }
}

/// One person's consent to one capture for purpose `P`, e.g. at a door.
///
/// Issued by [`ConsentLedger::probe_consent`](super::ConsentLedger::probe_consent), never
/// stored, names nobody, is consumed by the one [`ProbeTemplate`](crate::ProbeTemplate) it
/// allows, expires after [`Purpose::PROBE_VALIDITY`], and dies with that template.
pub struct ProbeConsent<P: Purpose> {
    pub(crate) cell: Arc<ConsentCell>,
    _purpose: PhantomData<fn() -> P>,
}

impl<P: Purpose> ProbeConsent<P> {
    pub(crate) fn new(cell: Arc<ConsentCell>) -> Self {
        ProbeConsent {
            cell,
            _purpose: PhantomData,
        }
    }

    /// When the consent ends.
    pub fn expires_at(&self) -> Timestamp {
        self.cell.expires_at
    }
}

impl<P: Purpose> fmt::Debug for ProbeConsent<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeConsent")
            .field("purpose", &&*self.cell.purpose)
            .field("expires_at", &self.cell.expires_at)
            .finish()
    }
}
