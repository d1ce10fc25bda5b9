use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::clock::FloorClock;
use super::purpose::{Limits, LivenessRules};
use super::NamedPurpose;
use super::{ConsentError, ConsentId, SubjectId, Timestamp};

/// Length of the secret in a [`ConsentHandle`](super::ConsentHandle).
pub(crate) const HANDLE_SECRET_LEN: usize = 32;

/// The secret part of a consent handle.
pub(crate) type HandleSecret = Zeroizing<[u8; HANDLE_SECRET_LEN]>;

/// The live state of one consent, shared by the ledger, its token and every template made
/// under it, so that a revocation is seen everywhere at once.
pub(crate) struct ConsentCell {
    pub(crate) id: ConsentId,
    /// The ledger that issued the consent: ids are unique only within one ledger.
    pub(crate) ledger: u64,
    /// `None` for a probe consent, which names nobody.
    pub(crate) subject: Option<SubjectId>,
    /// The purpose consented to ([`Purpose::NAME`](super::Purpose::NAME), or a name given at
    /// run time): galleries check it at run time as well, for purposes named at run time.
    pub(crate) purpose: Arc<str>,
    /// When the consent ends (seconds); only ever moves earlier (a purpose declared with a
    /// shorter retention limit than the consent was granted under).
    expires_at: AtomicU64,
    /// The secret of the consent's handle (enrolment consents only): whoever enrols under an
    /// existing consent must present it.
    handle: Option<HandleSecret>,
    revoked: AtomicBool,
    clock: Arc<FloorClock>,
    /// The purpose's liveness policies when the consent was issued or read back: those of
    /// the type declared under its name, or else [`NamedPurpose`](super::NamedPurpose)'s
    /// (required). Read for purposes named at run time; typed purposes use their own consts.
    pub(crate) liveness: LivenessRules,
}

impl ConsentCell {
    pub(crate) fn new(
        id: ConsentId,
        ledger: u64,
        subject: Option<SubjectId>,
        purpose: Arc<str>,
        expires_at: Timestamp,
        handle: Option<HandleSecret>,
        clock: Arc<FloorClock>,
    ) -> Self {
        ConsentCell {
            id,
            ledger,
            subject,
            purpose,
            expires_at: AtomicU64::new(expires_at.0),
            handle,
            revoked: AtomicBool::new(false),
            clock,
            liveness: Limits::of::<NamedPurpose>().liveness,
        }
    }

    /// This cell with the liveness policies of its purpose.
    pub(crate) fn with_liveness(mut self, liveness: LivenessRules) -> Self {
        self.liveness = liveness;
        self
    }

    pub(crate) fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::SeqCst)
    }

    pub(crate) fn expires_at(&self) -> Timestamp {
        Timestamp(self.expires_at.load(Ordering::SeqCst))
    }

    /// Ends the consent at `t` at the latest.
    pub(crate) fn shorten_to(&self, t: Timestamp) {
        self.expires_at.fetch_min(t.0, Ordering::SeqCst);
    }

    pub(crate) fn handle_secret(&self) -> Option<&HandleSecret> {
        self.handle.as_ref()
    }

    /// Whether `secret` is this consent's handle secret. Compares digests, so the time taken
    /// says nothing about the secret.
    pub(crate) fn handle_matches(&self, secret: &[u8; HANDLE_SECRET_LEN]) -> bool {
        let digest = |s: &[u8]| -> [u8; 32] {
            Sha256::new()
                .chain_update(b"faceguard consent handle v1\0")
                .chain_update(s)
                .finalize()
                .into()
        };
        self.handle
            .as_ref()
            .is_some_and(|h| digest(h.as_ref()) == digest(secret))
    }

    /// The time for a decision on this consent; [`ConsentError::ClockBehind`] while the clock
    /// reads earlier than a time already seen or recorded.
    pub(crate) fn now(&self) -> Result<Timestamp, ConsentError> {
        self.clock.checked_now()
    }

    /// Whether the consent covers an action at `now`.
    pub(crate) fn check_at(&self, now: Timestamp) -> Result<(), ConsentError> {
        let expires_at = self.expires_at();
        if self.is_revoked() {
            Err(ConsentError::Revoked { consent: self.id })
        } else if now >= expires_at {
            Err(ConsentError::Expired {
                consent: self.id,
                expired_at: expires_at,
            })
        } else {
            Ok(())
        }
    }

    /// Whether the consent covers an action now.
    pub(crate) fn check(&self) -> Result<(), ConsentError> {
        self.check_at(self.now()?)
    }
}
