//! The vault itself: the persistent consent ledger and galleries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zeroize::Zeroizing;

use super::event::{hex, Event};
use super::head::{self, Head};
use super::seal::{self, Binding};
use super::storage::{DirStorage, Storage};
use super::{atomic, journal, keys, VaultError, VaultKey};
use crate::consent::{
    Clock, ConsentCell, ConsentError, ConsentId, ConsentLedger, ConsentRecord, ConsentStatus,
    ConsentToken, GrantRequest, NamedPurpose, ProbeConsent, Purpose, SubjectId, SystemClock,
    Timestamp,
};
use crate::error::Error;
use crate::gallery::{self, Candidate};
use crate::matching::{Decision, Matcher};
use crate::model::ModelId;
use crate::template::{ProbeTemplate, Template};

/// What opening a vault found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// Temporary files of interrupted replacements, deleted.
    pub leftovers_removed: usize,
    /// Bytes of a torn last journal entry (a power cut mid-append), cut off.
    pub torn_bytes: u64,
    /// Whether the last journal entry was committed but not yet vouched for by the head (a
    /// power cut between the two), and the head was brought up to date.
    pub rolled_forward: bool,
    /// Data keys of ended consents still in the key files (a power cut mid-revocation),
    /// destroyed.
    pub keys_destroyed: usize,
    /// Key files of another key epoch (an interrupted or completed rotation), deleted.
    pub stale_key_files: usize,
    /// Templates loaded into the galleries.
    pub templates_loaded: usize,
    /// Templates whose consent has ended: undecryptable, awaiting [`Vault::compact`].
    pub templates_erased: usize,
}

/// One consent as the vault holds it.
pub(super) struct Consent {
    pub(super) record: ConsentRecord,
    /// The data key and its wrapped form, while the consent is active.
    pub(super) key: Option<(VaultKey, Vec<u8>)>,
}

pub(super) struct Inner {
    pub(super) storage: Box<dyn Storage>,
    pub(super) key: VaultKey,
    pub(super) vault: [u8; 16],
    pub(super) epoch: u32,
    pub(super) journal_key: VaultKey,
    /// Entries in the journal, and the chain value after the last.
    pub(super) entries: u64,
    pub(super) chain: [u8; 32],
    /// Set when a write failed: the medium's state is unknown until the vault is reopened.
    pub(super) poisoned: bool,
    pub(super) consents: BTreeMap<u64, Consent>,
    pub(super) galleries: BTreeMap<String, Arc<gallery::Shared>>,
    /// Template entries (journal seq → consent id) whose payload is still in the journal.
    pub(super) templates: BTreeMap<u64, u64>,
    pub(super) matcher: Matcher,
}

/// faceguard's storage on the device: the consent ledger and the galleries, encrypted,
/// crash-safe, with crypto-shredding and an audit log. See the [module docs](super).
///
/// `Send + Sync`. Changes are serialised (each is one flushed journal append); searches run
/// in parallel.
pub struct Vault {
    ledger: ConsentLedger,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Vault")
            .field("vault", &hex(&inner.vault))
            .field("consents", &inner.consents.len())
            .field("journal_entries", &inner.entries)
            .finish_non_exhaustive()
    }
}

/// What a journal entry's event is bound to: its vault, its position, and the hash of the
/// payload beside it (so that a payload cannot be swapped under an authentic event).
pub(super) fn journal_binding<'a>(
    vault: &[u8; 16],
    seq: u64,
    payload_hash: &[u8; 32],
) -> Binding<'a> {
    Binding {
        kind: "journal-entry",
        vault: Some(*vault),
        consent: Some(seq),
        digest: Some(*payload_hash),
        ..Binding::default()
    }
}

pub(super) fn template_binding<'a>(
    vault: &[u8; 16],
    record: &'a ConsentRecord,
    model: &ModelId,
) -> Binding<'a> {
    Binding {
        kind: "template",
        vault: Some(*vault),
        subject: Some(record.subject.as_str()),
        purpose: Some(&record.purpose),
        consent: Some(record.id.get()),
        model: Some(*model.as_bytes()),
        digest: None,
    }
}

/// The event and time sealed in a journal entry.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Meta {
    pub(super) at: u64,
    #[serde(flatten)]
    pub(super) event: Event,
}

fn random16() -> Result<[u8; 16], VaultError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| VaultError::Random(e.to_string()))?;
    Ok(id)
}

pub(super) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl Inner {
    pub(super) fn check_usable(&self) -> Result<(), VaultError> {
        if self.poisoned {
            Err(VaultError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Runs a write; a failure poisons the vault (what reached the medium is unknown).
    pub(super) fn write<T>(
        &mut self,
        f: impl FnOnce(&Self) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        self.check_usable()?;
        let out = f(self);
        if out.is_err() {
            self.poisoned = true;
        }
        out
    }

    pub(super) fn head(&self) -> Result<Vec<u8>, VaultError> {
        Head {
            vault: self.vault,
            epoch: self.epoch,
            journal_key: VaultKey::from_bytes(self.journal_key.bytes())?,
            entries: self.entries,
            chain: self.chain,
        }
        .encode(&self.key)
    }

    /// Encodes entry `seq` holding `event` (and `payload`) after chain value `prev`; returns
    /// its bytes and its chain value.
    pub(super) fn entry(
        &self,
        seq: u64,
        prev: &[u8; 32],
        at: Timestamp,
        event: Event,
        payload: Option<&[u8]>,
    ) -> Result<(Vec<u8>, [u8; 32]), VaultError> {
        let meta =
            serde_json::to_vec(&Meta { at: at.0, event }).map_err(|e| VaultError::Malformed {
                what: "a journal event".into(),
                why: e.to_string(),
            })?;
        let hash = journal::payload_hash(payload);
        let sealed = seal::seal(
            &self.journal_key,
            &journal_binding(&self.vault, seq, &hash),
            &meta,
        )?;
        let chain = journal::chain(prev, seq, &sealed, &hash);
        let state = match payload {
            Some(_) => journal::PayloadState::Present,
            None => journal::PayloadState::None,
        };
        let bytes = journal::encode(seq, &sealed, state, &hash, payload, &chain);
        Ok((bytes, chain))
    }

    /// Commits one event (and payload): appended to the journal and flushed, then vouched for
    /// by a new head. Returns the entry's sequence number.
    pub(super) fn append(
        &mut self,
        at: Timestamp,
        event: Event,
        payload: Option<&[u8]>,
    ) -> Result<u64, VaultError> {
        self.check_usable()?;
        let seq = self.entries;
        let (bytes, chain) = self.entry(seq, &self.chain, at, event, payload)?;
        self.write(|inner| {
            inner.storage.append(journal::FILE, &bytes)?;
            inner.storage.sync(journal::FILE)
        })?;
        self.advance(seq + 1, chain)?;
        Ok(seq)
    }

    /// Records that the journal now has `entries` entries ending in `chain`, and writes the
    /// head that vouches for them.
    pub(super) fn advance(&mut self, entries: u64, chain: [u8; 32]) -> Result<(), VaultError> {
        self.entries = entries;
        self.chain = chain;
        let head = self.head();
        self.write(|inner| atomic::replace(&*inner.storage, head::FILE, &head?))
    }

    /// Rewrites the key file holding `consent`'s key (or key file number `consent`, below
    /// [`keys::BUCKETS`]) from the keys held in memory.
    pub(super) fn write_bucket(&mut self, consent: u64) -> Result<(), VaultError> {
        let name = keys::file_name(self.epoch, consent);
        // The file's consents are those of one residue modulo the number of files.
        let last = self.consents.keys().next_back().copied().unwrap_or(0);
        let wrapped: BTreeMap<u64, Vec<u8>> = (consent % keys::BUCKETS..=last)
            .step_by(keys::BUCKETS as usize)
            .filter_map(|id| {
                let held = self.consents.get(&id)?.key.as_ref()?;
                Some((id, held.1.clone()))
            })
            .collect();
        let bytes = keys::encode(&self.vault, self.epoch, &wrapped);
        self.write(|inner| {
            if wrapped.is_empty() {
                inner.storage.remove(&name)?;
                inner.storage.sync_dir()
            } else {
                atomic::replace(&*inner.storage, &name, &bytes)
            }
        })
    }

    pub(super) fn gallery(
        &mut self,
        ledger: &ConsentLedger,
        purpose: &str,
    ) -> Arc<gallery::Shared> {
        let matcher = self.matcher;
        self.galleries
            .entry(purpose.to_string())
            .or_insert_with(|| {
                let shared = ledger.gallery_for(purpose);
                shared.set_matcher(matcher);
                shared
            })
            .clone()
    }

    pub(super) fn record_of(&self, id: ConsentId) -> Result<&Consent, ConsentError> {
        self.consents
            .get(&id.get())
            .ok_or(ConsentError::Unknown(id))
    }

    /// Destroys the data keys of `ids` in memory and in their key files.
    pub(super) fn destroy_keys(&mut self, ids: &[u64]) -> Result<(), VaultError> {
        let mut buckets = BTreeSet::new();
        for id in ids {
            if let Some(c) = self.consents.get_mut(id) {
                // Dropping the key wipes it.
                if c.key.take().is_some() {
                    buckets.insert(id % keys::BUCKETS);
                }
            }
        }
        for bucket in buckets {
            self.write_bucket(bucket)?;
        }
        Ok(())
    }
}

impl Vault {
    /// Creates a vault in directory `dir` (created if needed), sealed under `key`, on the
    /// system clock.
    pub fn create(dir: impl AsRef<Path>, key: VaultKey) -> Result<Vault, Error> {
        Self::create_in(
            Box::new(DirStorage::create(dir)?.locked()?),
            key,
            Arc::new(SystemClock),
        )
    }

    /// Opens the vault in `dir` with `key`, on the system clock, recovering from any
    /// interrupted write (see [`OpenReport`]).
    pub fn open(dir: impl AsRef<Path>, key: VaultKey) -> Result<(Vault, OpenReport), Error> {
        Self::open_in(
            Box::new(DirStorage::existing(dir)?.locked()?),
            key,
            Arc::new(SystemClock),
        )
    }

    /// [`open`](Self::open) with the key from `provider` (a secure element, a TPM).
    pub fn open_with(
        dir: impl AsRef<Path>,
        provider: &dyn super::KeyProvider,
    ) -> Result<(Vault, OpenReport), Error> {
        Self::open(dir, provider.vault_key()?)
    }

    /// [`create`](Self::create) on any storage and clock (a secure RTC, a
    /// [`ManualClock`](crate::ManualClock) in tests).
    pub fn create_in(
        storage: Box<dyn Storage>,
        key: VaultKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Vault, Error> {
        // A journal without a head is an interrupted `create`; a head or a key file is a vault.
        let taken = storage
            .list()?
            .iter()
            .any(|n| n == head::FILE || keys::epoch_of(n).is_some());
        if taken {
            return Err(VaultError::AlreadyExists {
                dir: "the given storage".into(),
            }
            .into());
        }
        let vault = random16()?;
        let journal_key = VaultKey::generate()?;
        let ledger = ConsentLedger::with_clock(clock);
        let fingerprint = key.fingerprint();
        let mut inner = Inner {
            storage,
            key,
            vault,
            epoch: 0,
            journal_key,
            entries: 0,
            chain: journal::genesis(&vault),
            poisoned: false,
            consents: BTreeMap::new(),
            galleries: BTreeMap::new(),
            templates: BTreeMap::new(),
            matcher: Matcher::default(),
        };
        // Until the head exists there is no vault: a crash before it leaves a directory that
        // `create` can be run on again.
        inner.write(|inner| {
            inner
                .storage
                .write_new(journal::FILE, &journal::header(&vault))?;
            inner.storage.sync(journal::FILE)
        })?;
        inner.append(
            ledger.now(),
            Event::Created {
                vault: hex(&vault),
                key: hex(&fingerprint),
            },
            None,
        )?;
        Ok(Vault {
            ledger,
            inner: Mutex::new(inner),
        })
    }

    /// [`open`](Self::open) on any storage and clock.
    pub fn open_in(
        storage: Box<dyn Storage>,
        key: VaultKey,
        clock: Arc<dyn Clock>,
    ) -> Result<(Vault, OpenReport), Error> {
        super::recover::open(storage, key, clock)
    }

    pub(super) fn from_parts(ledger: ConsentLedger, inner: Inner) -> Vault {
        Vault {
            ledger,
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The vault's current time.
    pub fn now(&self) -> Timestamp {
        self.ledger.now()
    }

    /// Records that `subject` consented to enrolment for purpose `P` after being shown
    /// `notice`, for `valid_for` (at most [`Purpose::MAX_VALIDITY`]): the consent and a fresh
    /// data key for its templates are on flash when this returns.
    pub fn grant<P: Purpose>(
        &self,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<P>, Error> {
        let request = GrantRequest::new(P::NAME, P::MAX_VALIDITY, subject, notice, valid_for)?;
        self.grant_request(request).map(ConsentToken::new)
    }

    /// [`grant`](Self::grant) for a purpose named at run time (see [`NamedPurpose`]).
    pub fn grant_named(
        &self,
        purpose: &str,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<NamedPurpose>, Error> {
        let request = GrantRequest::named(purpose, subject, notice, valid_for)?;
        self.grant_request(request).map(ConsentToken::new)
    }

    fn grant_request(&self, request: GrantRequest) -> Result<Arc<ConsentCell>, Error> {
        let mut inner = self.lock();
        inner.check_usable()?;
        let inner = &mut *inner;
        let cell = self.ledger.grant_with(request, |record: &ConsentRecord| {
            let id = record.id.get();
            let data_key = VaultKey::generate()?;
            let binding = keys::binding(&inner.vault, id, record.subject.as_str(), &record.purpose);
            let wrapped = keys::wrap(&inner.key, &binding, &data_key)?;
            // The key reaches flash before the consent does: a committed consent always has
            // its key, and a key without a consent (a power cut in between) is dropped on open.
            inner.consents.insert(
                id,
                Consent {
                    record: record.clone(),
                    key: Some((data_key, wrapped)),
                },
            );
            let committed = inner.write_bucket(id).and_then(|()| {
                inner.append(
                    record.granted_at,
                    Event::Granted {
                        consent: id,
                        subject: record.subject.to_string(),
                        purpose: record.purpose.clone(),
                        notice_sha256: hex(&record.notice_sha256),
                        expires_at: record.expires_at.0,
                    },
                    None,
                )
            });
            if let Err(e) = committed {
                inner.consents.remove(&id);
                return Err(Error::from(e));
            }
            Ok(())
        })?;
        Ok(cell)
    }

    /// A token for an existing, active consent of purpose `P` (to enrol another photo).
    pub fn token<P: Purpose>(&self, id: ConsentId) -> Result<ConsentToken<P>, Error> {
        Ok(self.ledger.token::<P>(id)?)
    }

    /// A token for an existing, active consent of any purpose, checked at run time.
    pub fn token_named(&self, id: ConsentId) -> Result<ConsentToken<NamedPurpose>, Error> {
        Ok(self.ledger.token_named(id)?)
    }

    /// A one-off consent for one capture for purpose `P` (never stored).
    pub fn probe_consent<P: Purpose>(&self, notice: &str) -> Result<ProbeConsent<P>, Error> {
        Ok(self.ledger.probe_consent::<P>(notice)?)
    }

    /// A one-off consent for one capture for a purpose named at run time.
    pub fn probe_consent_named(
        &self,
        purpose: &str,
        notice: &str,
    ) -> Result<ProbeConsent<NamedPurpose>, Error> {
        Ok(self.ledger.probe_consent_named(purpose, notice)?)
    }

    /// Stores `template`, sealed under its consent's data key; it is on flash when this
    /// returns, and its memory is wiped.
    pub fn enroll<P: Purpose>(&self, template: Template<P>) -> Result<(), Error> {
        let mut inner = self.lock();
        inner.check_usable()?;
        let cell = &template.consent;
        let id = cell.id;
        if cell.ledger != self.ledger.id() {
            return Err(ConsentError::ForeignLedger { consent: id }.into());
        }
        cell.check()?;
        let vector = template.vector.as_slice();
        let shared = inner.gallery(&self.ledger, &cell.purpose);
        shared.check_enroll(vector.len(), template.model, cell)?;
        let consent = inner.record_of(id)?;
        let Some((data_key, _)) = &consent.key else {
            return Err(ConsentError::Revoked { consent: id }.into());
        };
        let record = consent.record.clone();
        let mut plain = Zeroizing::new(Vec::with_capacity(vector.len() * 4));
        for v in vector {
            plain.extend_from_slice(&v.to_le_bytes());
        }
        let binding = template_binding(&inner.vault, &record, &template.model);
        let payload = seal::seal(data_key, &binding, &plain)?;
        let seq = inner.append(
            self.now(),
            Event::Enrolled {
                consent: id.get(),
                subject: record.subject.to_string(),
                purpose: record.purpose.clone(),
                model: template.model.to_string(),
            },
            Some(&payload),
        )?;
        inner.templates.insert(seq, id.get());
        shared.enroll(vector, template.model, cell)?;
        Ok(())
    }

    /// 1:N identification among the enrolled templates of the probe's purpose: the `k` best
    /// subjects, best first. Recorded in the audit log (purpose and result, never the probe).
    pub fn identify<P: Purpose>(
        &self,
        probe: &ProbeTemplate<P>,
        k: usize,
    ) -> Result<Vec<Candidate>, Error> {
        self.sweep_due()?;
        let shared = self.lock().gallery(&self.ledger, &probe.consent.purpose);
        let found = shared.identify(probe.vector.as_slice(), probe.model, &probe.consent, k)?;
        let matched = found
            .first()
            .filter(|c| c.is_match)
            .map(|c| c.subject.to_string());
        self.lock().append(
            self.now(),
            Event::Identified {
                purpose: probe.consent.purpose.to_string(),
                matched,
            },
            None,
        )?;
        Ok(found)
    }

    /// 1:1 verification of a claimed identity: the best score of `subject`'s templates of the
    /// probe's purpose against the probe. Recorded in the audit log.
    pub fn verify<P: Purpose>(
        &self,
        probe: &ProbeTemplate<P>,
        subject: &SubjectId,
    ) -> Result<Decision, Error> {
        self.sweep_due()?;
        let shared = self.lock().gallery(&self.ledger, &probe.consent.purpose);
        // Only the claimed subject's templates are scored (see `best_score_of` for the cost).
        let best = shared.best_score_of(
            subject,
            probe.vector.as_slice(),
            probe.model,
            &probe.consent,
        )?;
        let decision = best.map(|score| shared.matcher().decide(score));
        // Recorded whatever the outcome, a claim of someone not enrolled included.
        self.lock().append(
            self.now(),
            Event::Verified {
                purpose: probe.consent.purpose.to_string(),
                subject: subject.to_string(),
                matched: decision.is_some_and(|d| d.is_match),
            },
            None,
        )?;
        decision.ok_or_else(|| ConsentError::UnknownSubject(subject.clone()).into())
    }

    /// Sets the decision threshold of every gallery of this vault.
    pub fn set_matcher(&self, matcher: Matcher) {
        let mut inner = self.lock();
        inner.matcher = matcher;
        for g in inner.galleries.values() {
            g.set_matcher(matcher);
        }
    }

    /// Revokes a consent (a deletion request): recorded, its data key destroyed on flash and
    /// in memory, its templates erased from the galleries. Call [`compact`](Self::compact) to
    /// take their (undecryptable) bytes out of the files too.
    pub fn revoke(&self, id: ConsentId) -> Result<ConsentRecord, Error> {
        let mut inner = self.lock();
        inner.check_usable()?;
        let consent = inner.record_of(id)?;
        if consent.record.revoked_at.is_some() {
            return Ok(consent.record.clone());
        }
        let event = Event::Revoked {
            consent: id.get(),
            subject: consent.record.subject.to_string(),
            purpose: consent.record.purpose.clone(),
        };
        let now = self.now();
        let committed = inner.append(now, event, None);
        // The consent stops working now, even if the commit failed (fail closed: the caller
        // sees the error and retries after reopening).
        let record = self.ledger.revoke(id)?;
        committed?;
        if let Some(c) = inner.consents.get_mut(&id.get()) {
            c.record.revoked_at = Some(now);
        }
        inner.destroy_keys(&[id.get()])?;
        Ok(record)
    }

    /// Revokes every active consent of `subject`; fails if it has none.
    pub fn revoke_subject(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>, Error> {
        let ids: Vec<ConsentId> = self
            .lock()
            .consents
            .values()
            .filter(|c| &c.record.subject == subject && c.key.is_some())
            .map(|c| c.record.id)
            .collect();
        if ids.is_empty() {
            return Err(ConsentError::UnknownSubject(subject.clone()).into());
        }
        ids.into_iter().map(|id| self.revoke(id)).collect()
    }

    /// Ends every consent whose retention has run out: recorded, data keys destroyed,
    /// templates erased. Returns those consents. Runs on open and before each search too.
    pub fn sweep_expired(&self) -> Result<Vec<ConsentId>, Error> {
        let mut inner = self.lock();
        inner.check_usable()?;
        let now = self.now();
        let expired: Vec<u64> = inner
            .consents
            .iter()
            .filter(|(_, c)| c.key.is_some() && c.record.status_at(now) == ConsentStatus::Expired)
            .map(|(id, _)| *id)
            .collect();
        if expired.is_empty() {
            return Ok(Vec::new());
        }
        inner.append(
            now,
            Event::Expired {
                consents: expired.clone(),
            },
            None,
        )?;
        let ids: Vec<ConsentId> = expired.iter().map(|&id| ConsentId(id)).collect();
        self.ledger.end(&ids);
        inner.destroy_keys(&expired)?;
        Ok(ids)
    }

    fn sweep_due(&self) -> Result<(), Error> {
        let now = self.now();
        let due = self
            .lock()
            .consents
            .values()
            .any(|c| c.key.is_some() && c.record.expires_at <= now);
        if due {
            self.sweep_expired()?;
        }
        Ok(())
    }

    /// Every consent record, oldest first (no biometric data).
    pub fn consents(&self) -> Vec<ConsentRecord> {
        self.lock()
            .consents
            .values()
            .map(|c| c.record.clone())
            .collect()
    }

    /// Number of distinct subjects with at least one enrolled template, over all purposes:
    /// the figure China's 2025 measures ask to file once it reaches 100,000.
    pub fn subject_count(&self) -> usize {
        let inner = self.lock();
        let mut subjects = BTreeSet::new();
        for g in inner.galleries.values() {
            subjects.extend(g.subjects());
        }
        subjects.len()
    }

    /// Number of enrolled templates, over all purposes.
    pub fn template_count(&self) -> usize {
        self.lock().galleries.values().map(|g| g.len()).sum()
    }

    /// Number of templates of `subject` enrolled for `purpose`.
    pub fn templates_of(&self, subject: &SubjectId, purpose: &str) -> usize {
        let per_consent = self.templates_per_consent();
        self.lock()
            .consents
            .values()
            .filter(|c| &c.record.subject == subject && c.record.purpose == purpose)
            .filter_map(|c| per_consent.get(&c.record.id))
            .sum()
    }

    /// Number of stored templates of each consent that still has its key, in one pass.
    pub fn templates_per_consent(&self) -> BTreeMap<ConsentId, usize> {
        let inner = self.lock();
        let mut counts = BTreeMap::new();
        for id in inner.templates.values() {
            if inner.consents.get(id).is_some_and(|c| c.key.is_some()) {
                *counts.entry(ConsentId::from_raw(*id)).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The fingerprint of the vault key in use.
    pub fn key_fingerprint(&self) -> [u8; 8] {
        self.lock().key.fingerprint()
    }

    pub(super) fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        self.lock()
    }
}

impl Inner {
    pub(super) fn new_open(
        storage: Box<dyn Storage>,
        key: VaultKey,
        head: Head,
        matcher: Matcher,
    ) -> Inner {
        Inner {
            storage,
            key,
            vault: head.vault,
            epoch: head.epoch,
            journal_key: head.journal_key,
            entries: head.entries,
            chain: head.chain,
            poisoned: false,
            consents: BTreeMap::new(),
            galleries: BTreeMap::new(),
            templates: BTreeMap::new(),
            matcher,
        }
    }
}
