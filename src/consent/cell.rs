use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Clock, ConsentError, ConsentId, SubjectId, Timestamp};

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
    pub(crate) expires_at: Timestamp,
    revoked: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl ConsentCell {
    pub(crate) fn new(
        id: ConsentId,
        ledger: u64,
        subject: Option<SubjectId>,
        purpose: Arc<str>,
        expires_at: Timestamp,
        clock: Arc<dyn Clock>,
    ) -> Self {
        ConsentCell {
            id,
            ledger,
            subject,
            purpose,
            expires_at,
            revoked: AtomicBool::new(false),
            clock,
        }
    }

    pub(crate) fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::SeqCst)
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Whether the consent covers an action at `now`.
    pub(crate) fn check_at(&self, now: Timestamp) -> Result<(), ConsentError> {
        if self.is_revoked() {
            Err(ConsentError::Revoked { consent: self.id })
        } else if now >= self.expires_at {
            Err(ConsentError::Expired {
                consent: self.id,
                expired_at: self.expires_at,
            })
        } else {
            Ok(())
        }
    }

    /// Whether the consent covers an action now.
    pub(crate) fn check(&self) -> Result<(), ConsentError> {
        self.check_at(self.now())
    }
}
