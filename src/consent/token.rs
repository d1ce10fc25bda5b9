use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::cell::HANDLE_SECRET_LEN;
use super::{ConsentCell, ConsentError, ConsentId, Purpose, SubjectId, Timestamp};

/// Proof that a subject consented to enrolment for purpose `P`.
///
/// Issued only by [`ConsentLedger::grant`](super::ConsentLedger::grant) or, to the holder of
/// the consent's [`ConsentHandle`], by [`ConsentLedger::token`](super::ConsentLedger::token);
/// it has no public constructor and is neither `Clone` nor `Copy`. It is checked again at every use: a revoked or expired token
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
        self.cell.expires_at()
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

    /// The consent's handle: the unguessable credential that
    /// [`ConsentLedger::token`](super::ConsentLedger::token) asks for to enrol more templates
    /// under this consent later. Keep it as secret as a password; the consent's id alone
    /// proves nothing.
    pub fn handle(&self) -> ConsentHandle {
        ConsentHandle::of(&self.cell)
    }
}

/// The credential for enrolling under an existing consent: its id and a 256-bit random secret,
/// handed out only at grant ([`ConsentToken::handle`]).
///
/// Consent ids are small sequential numbers and prove nothing; a handle does. Without it nobody
/// (a hostile caller of the vault, a script guessing ids) can enrol a face under somebody
/// else's live consent. It dies with the consent: once revoked or expired, it opens nothing.
/// Wiped on drop, not `Clone`, and its `Debug` form shows only the id.
pub struct ConsentHandle {
    id: ConsentId,
    secret: Zeroizing<[u8; HANDLE_SECRET_LEN]>,
}

impl ConsentHandle {
    /// Length of [`to_bytes`](Self::to_bytes): the id (8 bytes, little-endian) and the secret
    /// (32 bytes).
    pub const LEN: usize = 8 + HANDLE_SECRET_LEN;

    /// The consent this handle is for.
    pub fn id(&self) -> ConsentId {
        self.id
    }

    /// The handle as bytes, to keep with the firmware's own record of the person (encrypted,
    /// as any credential).
    pub fn to_bytes(&self) -> Zeroizing<[u8; Self::LEN]> {
        let mut out = Zeroizing::new([0u8; Self::LEN]);
        out[..8].copy_from_slice(&self.id.0.to_le_bytes());
        out[8..].copy_from_slice(self.secret.as_ref());
        out
    }

    /// A handle from the bytes of [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConsentError> {
        if bytes.len() != Self::LEN {
            return Err(ConsentError::InvalidHandle);
        }
        let mut secret = Zeroizing::new([0u8; HANDLE_SECRET_LEN]);
        secret.copy_from_slice(&bytes[8..]);
        let id = u64::from_le_bytes(
            bytes[..8]
                .try_into()
                .map_err(|_| ConsentError::InvalidHandle)?,
        );
        Ok(ConsentHandle {
            id: ConsentId(id),
            secret,
        })
    }

    /// The handle of the consent in `cell` (all zeros for a probe consent, which has none and
    /// matches no handle).
    pub(crate) fn of(cell: &ConsentCell) -> Self {
        let mut secret = Zeroizing::new([0u8; HANDLE_SECRET_LEN]);
        if let Some(held) = cell.handle_secret() {
            secret.copy_from_slice(held.as_ref());
        }
        ConsentHandle {
            id: cell.id,
            secret,
        }
    }

    pub(crate) fn secret(&self) -> &[u8; HANDLE_SECRET_LEN] {
        &self.secret
    }
}

impl fmt::Debug for ConsentHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentHandle")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl<P: Purpose> fmt::Debug for ConsentToken<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentToken")
            .field("id", &self.cell.id)
            .field("purpose", &&*self.cell.purpose)
            .field("subject", &self.cell.subject)
            .field("expires_at", &self.cell.expires_at())
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
        self.cell.expires_at()
    }
}

impl<P: Purpose> fmt::Debug for ProbeConsent<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeConsent")
            .field("purpose", &&*self.cell.purpose)
            .field("expires_at", &self.cell.expires_at())
            .finish()
    }
}
