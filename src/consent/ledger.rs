use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{
    Clock, ConsentCell, ConsentError, ConsentId, ConsentToken, ProbeConsent, Purpose, SubjectId,
    SystemClock, Timestamp,
};
use crate::gallery::{self, Gallery};

/// Source of ledger identities, unique within the process.
static NEXT_LEDGER: AtomicU64 = AtomicU64::new(1);

/// Where a consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentStatus {
    Active,
    Revoked,
    Expired,
}

/// What the ledger records of one consent. Holds no biometric data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsentRecord {
    pub id: ConsentId,
    pub subject: SubjectId,
    /// [`Purpose::NAME`] of the purpose consented to.
    pub purpose: String,
    /// SHA-256 of the exact notice text shown to the person.
    pub notice_sha256: [u8; 32],
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
    /// When the consent was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl ConsentRecord {
    /// Where the consent stands at `now`.
    pub fn status_at(&self, now: Timestamp) -> ConsentStatus {
        if self.revoked_at.is_some() {
            ConsentStatus::Revoked
        } else if now >= self.expires_at {
            ConsentStatus::Expired
        } else {
            ConsentStatus::Active
        }
    }
}

struct Entry {
    record: ConsentRecord,
    cell: Arc<ConsentCell>,
    /// Set once the templates of an expired consent have been erased.
    swept: bool,
}

#[derive(Default)]
struct State {
    next_id: u64,
    next_probe: u64,
    entries: BTreeMap<ConsentId, Entry>,
    galleries: Vec<Weak<gallery::Shared>>,
}

/// The only issuer of consent tokens, and the authority that revokes them.
///
/// Galleries are made by the ledger ([`ConsentLedger::gallery`]) so that revoking or expiring
/// a consent erases its templates from all of them. Cheap to clone: clones share one ledger.
#[derive(Clone)]
pub struct ConsentLedger {
    id: u64,
    clock: Arc<dyn Clock>,
    state: Arc<Mutex<State>>,
}

impl Default for ConsentLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsentLedger {
    /// An empty ledger on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty ledger on `clock` (a secure RTC, or a [`ManualClock`](super::ManualClock) in
    /// tests).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        ConsentLedger {
            id: NEXT_LEDGER.fetch_add(1, Ordering::Relaxed),
            clock,
            state: Arc::new(Mutex::new(State {
                next_id: 1,
                ..State::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ledger's current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Records that `subject` consented to enrolment for purpose `P` after being shown
    /// `notice`, for `valid_for` (at most [`Purpose::MAX_VALIDITY`]), and issues the token.
    pub fn grant<P: Purpose>(
        &self,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<P>, ConsentError> {
        if notice.trim().is_empty() {
            return Err(ConsentError::EmptyNotice);
        }
        if valid_for.as_secs() == 0 || valid_for > P::MAX_VALIDITY {
            return Err(ConsentError::InvalidValidity {
                purpose: P::NAME,
                requested_secs: valid_for.as_secs(),
                max_secs: P::MAX_VALIDITY.as_secs(),
            });
        }
        let now = self.now();
        let mut state = self.lock();
        let id = ConsentId(state.next_id);
        state.next_id += 1;
        let expires_at = now.after(valid_for);
        let cell = Arc::new(ConsentCell::new(
            id,
            self.id,
            Some(subject.clone()),
            expires_at,
            self.clock.clone(),
        ));
        let record = ConsentRecord {
            id,
            subject,
            purpose: P::NAME.to_string(),
            notice_sha256: Sha256::digest(notice.as_bytes()).into(),
            granted_at: now,
            expires_at,
            revoked_at: None,
        };
        state.entries.insert(
            id,
            Entry {
                record,
                cell: cell.clone(),
                swept: false,
            },
        );
        Ok(ConsentToken::new(cell))
    }

    /// Issues a token for an existing consent, e.g. to enrol another photo later. Fails if the
    /// consent is unknown, for another purpose, revoked or expired.
    pub fn token<P: Purpose>(&self, id: ConsentId) -> Result<ConsentToken<P>, ConsentError> {
        let state = self.lock();
        let entry = state.entries.get(&id).ok_or(ConsentError::Unknown(id))?;
        if entry.record.purpose != P::NAME {
            return Err(ConsentError::PurposeMismatch {
                consent: id,
                granted: entry.record.purpose.clone(),
                requested: P::NAME,
            });
        }
        entry.cell.check()?;
        Ok(ConsentToken::new(entry.cell.clone()))
    }

    /// Issues a one-off consent for one capture (a probe) for purpose `P`, after the person
    /// was shown `notice`. Nothing is recorded: the consent lives only in the probe template
    /// it allows.
    pub fn probe_consent<P: Purpose>(&self, notice: &str) -> Result<ProbeConsent<P>, ConsentError> {
        if notice.trim().is_empty() {
            return Err(ConsentError::EmptyNotice);
        }
        // Probe ids count down from the top so that they never collide with recorded ones.
        let id = {
            let mut state = self.lock();
            state.next_probe += 1;
            ConsentId(u64::MAX - state.next_probe)
        };
        let expires_at = self.now().after(P::PROBE_VALIDITY);
        Ok(ProbeConsent::new(Arc::new(ConsentCell::new(
            id,
            self.id,
            None,
            expires_at,
            self.clock.clone(),
        ))))
    }

    /// Revokes a consent: its tokens and templates stop working at once, and its templates
    /// are erased from every gallery of this ledger. Returns the updated record.
    pub fn revoke(&self, id: ConsentId) -> Result<ConsentRecord, ConsentError> {
        let now = self.now();
        let (record, galleries) = {
            let mut state = self.lock();
            let entry = state
                .entries
                .get_mut(&id)
                .ok_or(ConsentError::Unknown(id))?;
            // Flag first: an enrolment racing with this revocation either sees the flag and
            // refuses, or lands before the erasure below and is erased by it.
            entry.cell.revoke();
            entry.record.revoked_at.get_or_insert(now);
            (entry.record.clone(), live_galleries(&mut state))
        };
        for g in galleries {
            g.erase_consent(id);
        }
        Ok(record)
    }

    /// Revokes every consent of `subject` (a deletion request); returns the revoked records.
    pub fn revoke_subject(&self, subject: &SubjectId) -> Vec<ConsentRecord> {
        let ids: Vec<ConsentId> = self
            .lock()
            .entries
            .values()
            .filter(|e| &e.record.subject == subject && e.record.revoked_at.is_none())
            .map(|e| e.record.id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.revoke(id).ok())
            .collect()
    }

    /// Erases the templates of every consent that has expired; returns those consents. Run it
    /// periodically (galleries also refuse expired templates at match time and erase them).
    pub fn sweep_expired(&self) -> Vec<ConsentId> {
        let now = self.now();
        let (expired, galleries) = {
            let mut state = self.lock();
            let expired: Vec<ConsentId> = state
                .entries
                .values_mut()
                .filter(|e| !e.swept && e.record.status_at(now) == ConsentStatus::Expired)
                .map(|e| {
                    e.swept = true;
                    e.record.id
                })
                .collect();
            (expired, live_galleries(&mut state))
        };
        for id in &expired {
            for g in &galleries {
                g.erase_consent(*id);
            }
        }
        expired
    }

    /// The record of one consent.
    pub fn record(&self, id: ConsentId) -> Option<ConsentRecord> {
        self.lock().entries.get(&id).map(|e| e.record.clone())
    }

    /// Every consent record, oldest first.
    pub fn records(&self) -> Vec<ConsentRecord> {
        self.lock()
            .entries
            .values()
            .map(|e| e.record.clone())
            .collect()
    }

    /// A new, empty gallery for purpose `P`, whose templates this ledger erases when their
    /// consent is revoked or expires.
    pub fn gallery<P: Purpose>(&self) -> Gallery<P> {
        let gallery = Gallery::new(self.id);
        self.lock()
            .galleries
            .push(Arc::downgrade(&gallery.shared()));
        gallery
    }
}

/// The galleries still alive, forgetting dropped ones.
fn live_galleries(state: &mut State) -> Vec<Arc<gallery::Shared>> {
    let mut live = Vec::with_capacity(state.galleries.len());
    state.galleries.retain(|w| match w.upgrade() {
        Some(g) => {
            live.push(g);
            true
        }
        None => false,
    });
    live
}
