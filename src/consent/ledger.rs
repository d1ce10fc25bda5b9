use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cell::{HandleSecret, HANDLE_SECRET_LEN};
use super::clock::FloorClock;
use super::purpose::{self, Limits, Registry};
use super::{
    Clock, ConsentCell, ConsentError, ConsentHandle, ConsentId, ConsentToken, NamedPurpose,
    ProbeConsent, Purpose, SubjectId, SystemClock, Timestamp,
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
    /// The person who consented; `None` once the consent has ended and the person's id was
    /// erased with it (a deletion leaves a record of processing that names nobody).
    pub subject: Option<SubjectId>,
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

impl Entry {
    /// The consent has ended and its templates are erased: the record forgets the person.
    fn forget_subject(&mut self) {
        self.record.subject = None;
    }
}

#[derive(Default)]
struct State {
    next_id: u64,
    next_probe: u64,
    entries: BTreeMap<ConsentId, Entry>,
    galleries: Vec<Weak<gallery::Shared>>,
    purposes: Registry,
}

/// A checked request for an enrolment consent, not yet recorded.
pub(crate) struct GrantRequest {
    purpose: String,
    subject: SubjectId,
    notice_sha256: [u8; 32],
    valid_for: Duration,
}

impl GrantRequest {
    /// Checks the notice and the validity against the purpose's limit.
    fn new(
        purpose: &str,
        limits: Limits,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<Self, ConsentError> {
        if notice.trim().is_empty() {
            return Err(ConsentError::EmptyNotice);
        }
        if valid_for.as_secs() == 0 || valid_for > limits.max_validity {
            return Err(ConsentError::InvalidValidity {
                purpose: purpose.to_string(),
                requested_secs: valid_for.as_secs(),
                max_secs: limits.max_validity.as_secs(),
            });
        }
        Ok(GrantRequest {
            purpose: purpose.to_string(),
            subject,
            notice_sha256: Sha256::digest(notice.as_bytes()).into(),
            valid_for,
        })
    }
}

/// The only issuer of consent tokens, and the authority that revokes them.
///
/// Galleries are made by the ledger ([`ConsentLedger::gallery`]) so that revoking or expiring
/// a consent erases its templates from all of them. Cheap to clone: clones share one ledger.
///
/// Time never runs backwards for the ledger's decisions: when its clock reads earlier than a
/// time it has already seen, it keeps to the later time, so a consent that expired stays
/// expired when the clock is set back.
#[derive(Clone)]
pub struct ConsentLedger {
    id: u64,
    clock: Arc<FloorClock>,
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
            clock: Arc::new(FloorClock::new(clock)),
            state: Arc::new(Mutex::new(State {
                next_id: 1,
                ..State::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This ledger's identity within the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The ledger's current time: its clock's, or the latest time it has seen if the clock is
    /// behind that.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Never decide at a time before `t` (the latest time a vault recorded).
    pub(crate) fn raise_floor(&self, t: Timestamp) {
        self.clock.raise_floor(t);
    }

    /// How far the clock was behind the ledger's time at its last reading, in seconds.
    pub(crate) fn clock_behind_secs(&self) -> u64 {
        self.clock.behind_secs()
    }

    fn clock(&self) -> Arc<FloorClock> {
        self.clock.clone()
    }

    /// Declares purpose `P` on this ledger: its name is then `P`'s alone (another type with the
    /// same [`Purpose::NAME`] is refused with [`ConsentError::PurposeConflict`]), and consents
    /// that name it at run time get `P`'s limits. Consents of that name granted earlier at run
    /// time with a longer validity are cut to `P::MAX_VALIDITY` from their grant. Idempotent;
    /// the typed calls declare their purpose themselves.
    pub fn declare<P: Purpose>(&self) -> Result<(), ConsentError> {
        self.declare_with::<P>().map(drop)
    }

    /// [`declare`](Self::declare), returning the consents whose expiry it brought forward.
    pub(crate) fn declare_with<P: Purpose>(
        &self,
    ) -> Result<Vec<(ConsentId, Timestamp)>, ConsentError> {
        let mut state = self.lock();
        if !state.purposes.declare::<P>()? {
            return Ok(Vec::new());
        }
        let mut shortened = Vec::new();
        for entry in state.entries.values_mut() {
            if entry.record.purpose != P::NAME {
                continue;
            }
            let limit = entry.record.granted_at.after(P::MAX_VALIDITY);
            if entry.record.expires_at > limit {
                entry.record.expires_at = limit;
                entry.cell.shorten_to(limit);
                shortened.push((entry.record.id, limit));
            }
        }
        Ok(shortened)
    }

    /// A checked grant request for purpose `P` (declaring it).
    pub(crate) fn request<P: Purpose>(
        &self,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<GrantRequest, ConsentError> {
        self.declare::<P>()?;
        GrantRequest::new(P::NAME, Limits::of::<P>(), subject, notice, valid_for)
    }

    /// A checked grant request for a purpose named at run time: the name is checked, and the
    /// validity capped by the limits of the purpose declared under that name, or else of
    /// [`NamedPurpose`].
    pub(crate) fn named_request(
        &self,
        purpose: &str,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<GrantRequest, ConsentError> {
        purpose::check_name(purpose)?;
        let limits = self.lock().purposes.limits(purpose);
        GrantRequest::new(purpose, limits, subject, notice, valid_for)
    }

    /// Records that `subject` consented to enrolment for purpose `P` after being shown
    /// `notice`, for `valid_for` (at most [`Purpose::MAX_VALIDITY`]), and issues the token.
    pub fn grant<P: Purpose>(
        &self,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<P>, ConsentError> {
        let request = self.request::<P>(subject, notice, valid_for)?;
        self.grant_with(request, |_, _| Ok::<(), ConsentError>(()))
            .map(ConsentToken::new)
    }

    /// [`grant`](Self::grant) for a purpose named at run time (see [`NamedPurpose`]), valid
    /// for at most the declared purpose of that name's
    /// [`MAX_VALIDITY`](Purpose::MAX_VALIDITY), or [`NamedPurpose`]'s if none is declared.
    pub fn grant_named(
        &self,
        purpose: &str,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<NamedPurpose>, ConsentError> {
        let request = self.named_request(purpose, subject, notice, valid_for)?;
        self.grant_with(request, |_, _| Ok::<(), ConsentError>(()))
            .map(ConsentToken::new)
    }

    /// Records a validated grant with a fresh handle secret: `persist` sees the record and the
    /// secret first (the vault writes them to flash there) and the consent exists only if it
    /// succeeds.
    pub(crate) fn grant_with<E: From<ConsentError>>(
        &self,
        request: GrantRequest,
        persist: impl FnOnce(&ConsentRecord, &HandleSecret) -> Result<(), E>,
    ) -> Result<Arc<ConsentCell>, E> {
        let mut secret = Zeroizing::new([0u8; HANDLE_SECRET_LEN]);
        getrandom::fill(secret.as_mut()).map_err(|e| ConsentError::NoRandomness(e.to_string()))?;
        let now = self.clock.checked_now()?;
        let mut state = self.lock();
        let id = ConsentId(state.next_id);
        let record = ConsentRecord {
            id,
            subject: Some(request.subject),
            purpose: request.purpose,
            notice_sha256: request.notice_sha256,
            granted_at: now,
            expires_at: now.after(request.valid_for),
            revoked_at: None,
        };
        persist(&record, &secret)?;
        state.next_id += 1;
        Ok(self.insert(&mut state, record, Some(secret)))
    }

    /// Puts a record read back from storage on the ledger, as it was (revoked, expired or
    /// active), with its handle secret while it is active, and returns its live cell.
    pub(crate) fn restore(
        &self,
        record: ConsentRecord,
        handle: Option<HandleSecret>,
    ) -> Arc<ConsentCell> {
        let mut state = self.lock();
        state.next_id = state.next_id.max(record.id.0.saturating_add(1));
        self.insert(&mut state, record, handle)
    }

    fn insert(
        &self,
        state: &mut State,
        record: ConsentRecord,
        handle: Option<HandleSecret>,
    ) -> Arc<ConsentCell> {
        let cell = Arc::new(
            ConsentCell::new(
                record.id,
                self.id,
                record.subject.clone(),
                record.purpose.as_str().into(),
                record.expires_at,
                handle,
                self.clock(),
            )
            .with_liveness(state.purposes.limits(&record.purpose).liveness),
        );
        if record.revoked_at.is_some() {
            cell.revoke();
        }
        let swept = record.status_at(self.now()) != ConsentStatus::Active;
        state.entries.insert(
            record.id,
            Entry {
                record,
                cell: cell.clone(),
                swept,
            },
        );
        cell
    }

    /// Issues a token for an existing consent of purpose `P` to the holder of its `handle`
    /// (from [`ConsentToken::handle`] at grant), e.g. to enrol another photo later. Fails with
    /// [`ConsentError::Unknown`] if no consent has this handle (a wrong secret is answered
    /// exactly as an unknown id), and if the consent is for another purpose, revoked or
    /// expired.
    pub fn token<P: Purpose>(
        &self,
        handle: &ConsentHandle,
    ) -> Result<ConsentToken<P>, ConsentError> {
        self.declare::<P>()?;
        self.token_for(handle, Some((P::NAME, P::MAX_VALIDITY)))
            .map(ConsentToken::new)
    }

    /// [`token`](Self::token) for a consent of any purpose, checked at run time wherever the
    /// token is used (see [`NamedPurpose`]).
    pub fn token_named(
        &self,
        handle: &ConsentHandle,
    ) -> Result<ConsentToken<NamedPurpose>, ConsentError> {
        self.token_for(handle, None).map(ConsentToken::new)
    }

    pub(crate) fn token_for(
        &self,
        handle: &ConsentHandle,
        typed: Option<(&str, Duration)>,
    ) -> Result<Arc<ConsentCell>, ConsentError> {
        let id = handle.id();
        let state = self.lock();
        let entry = state
            .entries
            .get(&id)
            .filter(|e| e.cell.handle_matches(handle.secret()))
            .ok_or(ConsentError::Unknown(id))?;
        if let Some((purpose, max_validity)) = typed {
            if purpose != entry.record.purpose {
                return Err(ConsentError::PurposeMismatch {
                    consent: id,
                    granted: entry.record.purpose.clone(),
                    requested: purpose.to_string(),
                });
            }
            // Nothing granted through the run-time API becomes a typed token the typed API
            // would not have issued.
            let span = entry.record.expires_at.0
                - entry.record.granted_at.0.min(entry.record.expires_at.0);
            if span > max_validity.as_secs() {
                return Err(ConsentError::InvalidValidity {
                    purpose: purpose.to_string(),
                    requested_secs: span,
                    max_secs: max_validity.as_secs(),
                });
            }
        }
        entry.cell.check()?;
        Ok(entry.cell.clone())
    }

    /// Issues a one-off consent for one capture (a probe) for purpose `P`, after the person
    /// was shown `notice`. Nothing is recorded: the consent lives only in the probe template
    /// it allows.
    pub fn probe_consent<P: Purpose>(&self, notice: &str) -> Result<ProbeConsent<P>, ConsentError> {
        self.declare::<P>()?;
        self.probe_cell(P::NAME, Limits::of::<P>(), notice)
            .map(ProbeConsent::new)
    }

    /// [`probe_consent`](Self::probe_consent) for a purpose named at run time (valid for the
    /// declared purpose of that name's [`PROBE_VALIDITY`](Purpose::PROBE_VALIDITY), or
    /// [`NamedPurpose`]'s).
    pub fn probe_consent_named(
        &self,
        purpose: &str,
        notice: &str,
    ) -> Result<ProbeConsent<NamedPurpose>, ConsentError> {
        purpose::check_name(purpose)?;
        let limits = self.lock().purposes.limits(purpose);
        self.probe_cell(purpose, limits, notice)
            .map(ProbeConsent::new)
    }

    fn probe_cell(
        &self,
        purpose: &str,
        limits: Limits,
        notice: &str,
    ) -> Result<Arc<ConsentCell>, ConsentError> {
        if notice.trim().is_empty() {
            return Err(ConsentError::EmptyNotice);
        }
        // Probe ids count down from the top so that they never collide with recorded ones.
        let id = {
            let mut state = self.lock();
            state.next_probe += 1;
            ConsentId(u64::MAX - state.next_probe)
        };
        let expires_at = self.clock.checked_now()?.after(limits.probe_validity);
        Ok(Arc::new(
            ConsentCell::new(
                id,
                self.id,
                None,
                purpose.into(),
                expires_at,
                None,
                self.clock(),
            )
            .with_liveness(limits.liveness),
        ))
    }

    /// Revokes a consent: its tokens, handle and templates stop working at once, its templates
    /// are erased from every gallery of this ledger, and its record forgets the person
    /// ([`ConsentRecord::subject`] becomes `None`). Returns the updated record.
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
            entry.forget_subject();
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
            .filter(|e| e.record.subject.as_ref() == Some(subject) && e.record.revoked_at.is_none())
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
                    e.forget_subject();
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

    /// Marks consents as ended by a sweep the caller recorded, and erases their templates from
    /// every gallery of this ledger.
    pub(crate) fn end(&self, ids: &[ConsentId]) {
        let galleries = {
            let mut state = self.lock();
            for id in ids {
                if let Some(entry) = state.entries.get_mut(id) {
                    entry.swept = true;
                    entry.forget_subject();
                }
            }
            live_galleries(&mut state)
        };
        for id in ids {
            for g in &galleries {
                g.erase_consent(*id);
            }
        }
    }

    /// The handle of consent `id`, for tests that stand for the holder of the grant's token.
    #[cfg(test)]
    pub(crate) fn handle_of(&self, id: ConsentId) -> Option<ConsentHandle> {
        self.lock()
            .entries
            .get(&id)
            .map(|e| ConsentHandle::of(&e.cell))
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
        Gallery::from_shared(self.gallery_for(P::NAME))
    }

    /// A new, empty gallery for a purpose named at run time (see [`NamedPurpose`]): it takes
    /// only templates whose consent names this purpose.
    pub fn gallery_named(&self, purpose: &str) -> Result<Gallery<NamedPurpose>, ConsentError> {
        purpose::check_name(purpose)?;
        Ok(Gallery::from_shared(self.gallery_for(purpose)))
    }

    /// A new gallery store for `purpose`, registered so that ending a consent erases here.
    pub(crate) fn gallery_for(&self, purpose: &str) -> Arc<gallery::Shared> {
        let shared = Arc::new(gallery::Shared::new(self.id, purpose.into()));
        self.lock().galleries.push(Arc::downgrade(&shared));
        shared
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
