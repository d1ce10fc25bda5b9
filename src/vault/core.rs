//! The vault itself: the persistent consent ledger and galleries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zeroize::Zeroizing;

use super::counter::MonotonicCounter;
use super::event::{hex, Event};
use super::head::{self, Head};
use super::seal::{self, Binding};
use super::storage::{DirStorage, Storage};
use super::{atomic, journal, keys, subject, VaultError, VaultKey};
use crate::consent::{
    Clock, ConsentCell, ConsentError, ConsentHandle, ConsentId, ConsentLedger, ConsentRecord,
    ConsentStatus, ConsentToken, GrantRequest, HandleSecret, NamedPurpose, ProbeConsent, Purpose,
    SubjectId, SystemClock, Timestamp,
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
    /// How far the clock was behind the latest time the vault had recorded, in seconds (0 if
    /// it was not). The vault then decides at that recorded time, never earlier, so nothing
    /// that expired comes back; set the device's clock right.
    pub clock_behind_secs: u64,
    /// Whether the monotonic counter was raised to the vault's head: it was one head behind (a
    /// power cut between a head write and the counter's update), or new (at 0), binding a
    /// vault made without a counter to it from now on.
    pub counter_advanced: bool,
}

/// How a vault is set up: its clock and, where the device has one, its monotonic counter.
#[derive(Clone)]
pub struct VaultConfig {
    pub(super) clock: Arc<dyn Clock>,
    pub(super) counter: Option<Arc<dyn MonotonicCounter>>,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            clock: Arc::new(SystemClock),
            counter: None,
        }
    }
}

impl VaultConfig {
    /// The system clock and no monotonic counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decides consent on `clock` (a secure RTC; a [`ManualClock`](crate::ManualClock) in
    /// tests). The vault never decides at a time before the latest it has recorded.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Binds the vault to `counter` (a secure element, eMMC RPMB, a TPM NV counter): every
    /// commit raises it, and opening refuses files older than it says
    /// ([`VaultError::RolledBack`]). A new counter (at 0) is bound to the vault that first
    /// opens with it, an existing vault included; from then on use the same counter for the
    /// vault's whole life (opening with another counter, or a reset one, is refused).
    pub fn counter(mut self, counter: Arc<dyn MonotonicCounter>) -> Self {
        self.counter = Some(counter);
        self
    }
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultConfig")
            .field("counter", &self.counter.is_some())
            .finish_non_exhaustive()
    }
}

/// One consent as the vault holds it.
pub(super) struct Consent {
    pub(super) record: ConsentRecord,
    /// The data key and its wrapped form, while the consent is active.
    pub(super) key: Option<(VaultKey, Vec<u8>)>,
    /// The random name usage events record the consent under, while it is active (sealed
    /// under the data key on flash).
    pub(super) pseudonym: Option<[u8; subject::PSEUDONYM_LEN]>,
}

impl Consent {
    /// The usage pseudonym of an active consent, as the audit log records it.
    pub(super) fn usage_name(&self) -> Option<String> {
        self.pseudonym
            .filter(|_| self.key.is_some())
            .map(|p| hex(&p))
    }
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
    /// Heads written so far, and each key file's generation (as the head records them).
    pub(super) writes: u64,
    pub(super) generations: [u64; keys::BUCKETS as usize],
    pub(super) counter: Option<Arc<dyn MonotonicCounter>>,
    /// Set when a write failed: the medium's state is unknown until the vault is reopened.
    pub(super) poisoned: bool,
    pub(super) consents: BTreeMap<u64, Consent>,
    pub(super) galleries: BTreeMap<String, Arc<gallery::Shared>>,
    /// Template entries (journal seq → consent id) whose payload is still in the journal.
    pub(super) templates: BTreeMap<u64, u64>,
    pub(super) matcher: Matcher,
    /// Thresholds set for one purpose ([`Vault::set_purpose_matcher`]), over `matcher`.
    pub(super) purpose_matchers: BTreeMap<String, Matcher>,
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
        subject: record.subject.as_ref().map(SubjectId::as_str),
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

    /// Writes the head that vouches for the journal and key files as they are in memory, then
    /// raises the monotonic counter (if any) to the number of heads written.
    pub(super) fn write_head(&mut self) -> Result<(), VaultError> {
        let writes = self.writes + 1;
        let head = Head {
            vault: self.vault,
            epoch: self.epoch,
            journal_key: VaultKey::from_bytes(self.journal_key.bytes())?,
            entries: self.entries,
            chain: self.chain,
            writes,
            counter_bound: self.counter.is_some(),
            generations: self.generations,
        }
        .encode(&self.key);
        self.write(|inner| atomic::replace(&*inner.storage, head::FILE, &head?))?;
        self.writes = writes;
        if let Some(counter) = self.counter.clone() {
            self.write(|_| counter.advance(writes))?;
        }
        Ok(())
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
        self.write_head()
    }

    /// Rewrites the key file holding `consent`'s key (or key file number `consent`, below
    /// [`keys::BUCKETS`]) from the keys held in memory, at the bucket's next generation (which
    /// the next head records).
    pub(super) fn write_bucket(&mut self, consent: u64) -> Result<(), VaultError> {
        let generation = self.generations[(consent % keys::BUCKETS) as usize] + 1;
        self.write_bucket_at(consent, generation)
    }

    /// [`write_bucket`](Self::write_bucket) at a given generation.
    pub(super) fn write_bucket_at(
        &mut self,
        consent: u64,
        generation: u64,
    ) -> Result<(), VaultError> {
        let name = keys::file_name(self.epoch, consent);
        let bucket = (consent % keys::BUCKETS) as usize;
        // The file's consents are those of one residue modulo the number of files.
        let last = self.consents.keys().next_back().copied().unwrap_or(0);
        let wrapped: BTreeMap<u64, Vec<u8>> = (consent % keys::BUCKETS..=last)
            .step_by(keys::BUCKETS as usize)
            .filter_map(|id| {
                let held = self.consents.get(&id)?.key.as_ref()?;
                Some((id, held.1.clone()))
            })
            .collect();
        let bytes = keys::encode(&self.vault, self.epoch, generation, &wrapped);
        self.write(|inner| atomic::replace(&*inner.storage, &name, &bytes))?;
        self.generations[bucket] = generation;
        Ok(())
    }

    pub(super) fn gallery(
        &mut self,
        ledger: &ConsentLedger,
        purpose: &str,
    ) -> Arc<gallery::Shared> {
        let matcher = self
            .purpose_matchers
            .get(purpose)
            .copied()
            .unwrap_or(self.matcher);
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

    /// Destroys the data keys of `ids` in memory and in their key files (then writes a head
    /// that vouches for the rewritten files), and forgets who consented.
    pub(super) fn destroy_keys(&mut self, ids: &[u64]) -> Result<(), VaultError> {
        let mut buckets = BTreeSet::new();
        for id in ids {
            if let Some(c) = self.consents.get_mut(id) {
                c.record.subject = None;
                c.pseudonym = None;
                // Dropping the key wipes it.
                if c.key.take().is_some() {
                    buckets.insert(id % keys::BUCKETS);
                }
            }
        }
        if buckets.is_empty() {
            return Ok(());
        }
        for bucket in buckets {
            self.write_bucket(bucket)?;
        }
        self.write_head()
    }
}

impl Vault {
    /// Creates a vault in directory `dir` (created if needed), sealed under `key`, on the
    /// system clock and without a monotonic counter.
    pub fn create(dir: impl AsRef<Path>, key: VaultKey) -> Result<Vault, Error> {
        Self::create_with_config(dir, key, VaultConfig::default())
    }

    /// [`create`](Self::create) with a clock and a monotonic counter ([`VaultConfig`]).
    pub fn create_with_config(
        dir: impl AsRef<Path>,
        key: VaultKey,
        config: VaultConfig,
    ) -> Result<Vault, Error> {
        Self::create_in(Box::new(DirStorage::create(dir)?), key, config)
    }

    /// Opens the vault in `dir` with `key`, on the system clock and without a monotonic
    /// counter, recovering from any interrupted write (see [`OpenReport`]).
    pub fn open(dir: impl AsRef<Path>, key: VaultKey) -> Result<(Vault, OpenReport), Error> {
        Self::open_with_config(dir, key, VaultConfig::default())
    }

    /// [`open`](Self::open) with a clock and a monotonic counter ([`VaultConfig`]): give the
    /// counter the vault was created with.
    pub fn open_with_config(
        dir: impl AsRef<Path>,
        key: VaultKey,
        config: VaultConfig,
    ) -> Result<(Vault, OpenReport), Error> {
        Self::open_in(Box::new(DirStorage::existing(dir)?), key, config)
    }

    /// [`open`](Self::open) with the key from `provider` (a secure element, a TPM).
    pub fn open_with(
        dir: impl AsRef<Path>,
        provider: &dyn super::KeyProvider,
    ) -> Result<(Vault, OpenReport), Error> {
        Self::open(dir, provider.vault_key()?)
    }

    /// [`create`](Self::create) on any storage, with any clock and counter.
    pub fn create_in(
        storage: Box<dyn Storage>,
        key: VaultKey,
        config: VaultConfig,
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
        let writes = match &config.counter {
            Some(counter) => counter.read()?,
            None => 0,
        };
        let ledger = ConsentLedger::with_clock(config.clock);
        let fingerprint = key.fingerprint();
        let mut inner = Inner {
            storage,
            key,
            vault,
            epoch: 0,
            journal_key,
            entries: 0,
            chain: journal::genesis(&vault),
            writes,
            generations: [0; keys::BUCKETS as usize],
            counter: config.counter,
            poisoned: false,
            consents: BTreeMap::new(),
            galleries: BTreeMap::new(),
            templates: BTreeMap::new(),
            matcher: Matcher::default(),
            purpose_matchers: BTreeMap::new(),
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

    /// [`open`](Self::open) on any storage, with any clock and counter.
    pub fn open_in(
        storage: Box<dyn Storage>,
        key: VaultKey,
        config: VaultConfig,
    ) -> Result<(Vault, OpenReport), Error> {
        super::recover::open(storage, key, config)
    }

    pub(super) fn from_parts(ledger: ConsentLedger, inner: Inner) -> Vault {
        Vault {
            ledger,
            inner: Mutex::new(inner),
        }
    }

    /// The vault's state. A panic while another call held it may have left a change half
    /// applied: the vault is then poisoned and refuses writes until it is opened again.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| {
            let mut inner = p.into_inner();
            inner.poisoned = true;
            inner
        })
    }

    /// The vault's current time.
    pub fn now(&self) -> Timestamp {
        self.ledger.now()
    }

    /// Declares purpose `P` on this vault (see
    /// [`ConsentLedger::declare`](crate::ConsentLedger::declare)): its name is `P`'s alone, and
    /// consents granted under that name at run time get `P`'s limits — those granted earlier
    /// with a longer validity are cut to `P::MAX_VALIDITY` from their grant, recorded in the
    /// audit log ([`Event::Limited`]). The typed calls declare their purpose themselves;
    /// firmware that also names purposes at run time declares every purpose right after
    /// opening.
    pub fn declare<P: Purpose>(&self) -> Result<(), Error> {
        let mut inner = self.lock();
        let shortened = self.ledger.declare_with::<P>()?;
        if shortened.is_empty() {
            return Ok(());
        }
        for (id, expires_at) in &shortened {
            if let Some(c) = inner.consents.get_mut(&id.get()) {
                c.record.expires_at = *expires_at;
            }
        }
        inner.append(
            self.now(),
            Event::Limited {
                purpose: P::NAME.to_string(),
                max_validity: P::MAX_VALIDITY.as_secs(),
                consents: shortened.iter().map(|(id, _)| id.get()).collect(),
            },
            None,
        )?;
        Ok(())
    }

    /// Records that `subject` consented to enrolment for purpose `P` after being shown
    /// `notice`, for `valid_for` (at most [`Purpose::MAX_VALIDITY`]): the consent and a fresh
    /// data key for its templates are on flash when this returns. The token's
    /// [`handle`](ConsentToken::handle) is the only way to enrol under this consent later.
    ///
    /// As for every change: an error after the journal entry was flushed (writing the head or
    /// raising the counter failed) leaves the vault poisoned and the change possibly
    /// committed; reopening shows which (here, a consent whose handle nobody received:
    /// revoke it).
    pub fn grant<P: Purpose>(
        &self,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<P>, Error> {
        self.declare::<P>()?;
        let request = self.ledger.request::<P>(subject, notice, valid_for)?;
        self.grant_request(request).map(ConsentToken::new)
    }

    /// [`grant`](Self::grant) for a purpose named at run time (see [`NamedPurpose`]), with
    /// the limits of the purpose declared under that name, if any.
    pub fn grant_named(
        &self,
        purpose: &str,
        subject: SubjectId,
        notice: &str,
        valid_for: Duration,
    ) -> Result<ConsentToken<NamedPurpose>, Error> {
        let request = self
            .ledger
            .named_request(purpose, subject, notice, valid_for)?;
        self.grant_request(request).map(ConsentToken::new)
    }

    fn grant_request(&self, request: GrantRequest) -> Result<Arc<ConsentCell>, Error> {
        let mut inner = self.lock();
        inner.check_usable()?;
        let inner = &mut *inner;
        let cell =
            self.ledger
                .grant_with(request, |record: &ConsentRecord, handle: &HandleSecret| {
                    let id = record.id.get();
                    let person = record
                        .subject
                        .as_ref()
                        .ok_or(ConsentError::InvalidSubject("a grant names its subject"))?;
                    let data_key = VaultKey::generate()?;
                    let binding = keys::binding(&inner.vault, id, &record.purpose);
                    let wrapped = keys::wrap(&inner.key, &binding, &data_key)?;
                    let pseudonym = random16()?;
                    let sealed_subject = subject::seal(
                        &data_key,
                        &inner.vault,
                        id,
                        &record.purpose,
                        person,
                        handle,
                        &pseudonym,
                    )?;
                    // The key reaches flash before the consent does: a committed consent always has
                    // its key, and a key without a consent (a power cut in between) is dropped on open.
                    inner.consents.insert(
                        id,
                        Consent {
                            record: record.clone(),
                            key: Some((data_key, wrapped)),
                            pseudonym: Some(pseudonym),
                        },
                    );
                    let committed = inner.write_bucket(id).and_then(|()| {
                        inner.append(
                            record.granted_at,
                            Event::Granted {
                                consent: id,
                                purpose: record.purpose.clone(),
                                notice_sha256: hex(&record.notice_sha256),
                                expires_at: record.expires_at.0,
                                sealed_subject: hex(&sealed_subject),
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

    /// A token for an existing, active consent of purpose `P` (to enrol another photo), for
    /// the holder of its handle ([`ConsentToken::handle`] at grant). A consent's id alone
    /// opens nothing: without the handle the answer is [`ConsentError::Unknown`].
    pub fn token<P: Purpose>(&self, handle: &ConsentHandle) -> Result<ConsentToken<P>, Error> {
        self.declare::<P>()?;
        Ok(self.ledger.token::<P>(handle)?)
    }

    /// [`token`](Self::token) for a consent of any purpose, checked at run time.
    pub fn token_named(&self, handle: &ConsentHandle) -> Result<ConsentToken<NamedPurpose>, Error> {
        Ok(self.ledger.token_named(handle)?)
    }

    /// A one-off consent for one capture for purpose `P` (never stored).
    pub fn probe_consent<P: Purpose>(&self, notice: &str) -> Result<ProbeConsent<P>, Error> {
        self.declare::<P>()?;
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
        let found = shared.identify(
            probe.vector.as_slice(),
            probe.model,
            &probe.consent,
            k,
            P::TARGET_FMR,
        )?;
        let mut inner = self.lock();
        // The match is recorded under the consent's usage pseudonym, whose link to the consent
        // and the person dies with the data key.
        let matched = found
            .first()
            .filter(|c| c.is_match)
            .and_then(|c| inner.consents.get(&c.consent.get()))
            .and_then(Consent::usage_name);
        inner.append(
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
    /// probe's purpose against the probe. Only that subject's templates are scored (one dot
    /// product each), whatever the size of the gallery. Recorded in the audit log.
    pub fn verify<P: Purpose>(
        &self,
        probe: &ProbeTemplate<P>,
        subject: &SubjectId,
    ) -> Result<Decision, Error> {
        self.sweep_due()?;
        let shared = self.lock().gallery(&self.ledger, &probe.consent.purpose);
        // Only the claimed subject's templates are scored (see `best_score_of` for the cost),
        // and decided by the matcher checked for them.
        let decision = shared.verify(
            subject,
            probe.vector.as_slice(),
            probe.model,
            &probe.consent,
            P::TARGET_FMR,
        )?;
        let mut inner = self.lock();
        // The claim is recorded against the consent it was checked against: by number, so
        // that the entry names nobody once that consent ends. A claim of someone with no
        // active consent for the purpose names nobody at all.
        let claimed = inner
            .consents
            .values()
            .find(|c| {
                c.key.is_some()
                    && c.record.subject.as_ref() == Some(subject)
                    && *c.record.purpose == *probe.consent.purpose
            })
            .and_then(Consent::usage_name);
        // Recorded whatever the outcome, a claim of someone not enrolled included.
        inner.append(
            self.now(),
            Event::Verified {
                purpose: probe.consent.purpose.to_string(),
                claimed,
                matched: decision.is_some_and(|d| d.is_match),
            },
            None,
        )?;
        decision.ok_or_else(|| ConsentError::UnknownSubject(subject.clone()).into())
    }

    /// Sets the decision threshold of every gallery of this vault (replacing any set with
    /// [`set_purpose_matcher`](Self::set_purpose_matcher)). The default is
    /// [`Matcher::default`], the bundled embedder's threshold at the default false-match rate;
    /// with another embedder, set `engine.matcher_at(DEFAULT_TARGET_FMR)?` after each open.
    pub fn set_matcher(&self, matcher: Matcher) {
        let mut inner = self.lock();
        inner.matcher = matcher;
        inner.purpose_matchers.clear();
        for g in inner.galleries.values() {
            g.set_matcher(matcher);
        }
    }

    /// Sets the decision threshold of one purpose's identifications and verifications, e.g.
    /// `vault.set_purpose_matcher(Payment::NAME, engine.matcher::<Payment>()?)` for a purpose
    /// whose [`TARGET_FMR`](crate::Purpose::TARGET_FMR) is stricter than the default. Kept in
    /// memory: set it after each open. Fails only on a name no purpose can have.
    pub fn set_purpose_matcher(&self, purpose: &str, matcher: Matcher) -> Result<(), Error> {
        crate::consent::check_purpose_name(purpose)?;
        let mut inner = self.lock();
        inner.purpose_matchers.insert(purpose.to_string(), matcher);
        if let Some(g) = inner.galleries.get(purpose) {
            g.set_matcher(matcher);
        }
        Ok(())
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

    /// Revokes every active consent of `subject` (a deletion request) in one commit: one
    /// journal entry ends them all, then their data keys are destroyed. Fails if it has none.
    pub fn revoke_subject(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>, Error> {
        let mut inner = self.lock();
        inner.check_usable()?;
        let ids: Vec<u64> = inner
            .consents
            .values()
            .filter(|c| c.record.subject.as_ref() == Some(subject) && c.key.is_some())
            .map(|c| c.record.id.get())
            .collect();
        if ids.is_empty() {
            return Err(ConsentError::UnknownSubject(subject.clone()).into());
        }
        let now = self.now();
        let committed = inner.append(
            now,
            Event::SubjectRevoked {
                consents: ids.clone(),
            },
            None,
        );
        // The consents stop working now, even if the commit failed (fail closed).
        let records: Vec<ConsentRecord> = ids
            .iter()
            .filter_map(|&id| self.ledger.revoke(ConsentId(id)).ok())
            .collect();
        committed?;
        for id in &ids {
            if let Some(c) = inner.consents.get_mut(id) {
                c.record.revoked_at = Some(now);
            }
        }
        inner.destroy_keys(&ids)?;
        Ok(records)
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
            .filter(|c| c.record.subject.as_ref() == Some(subject) && c.record.purpose == purpose)
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

    /// The handle of consent `id`, for tests that stand for the holder of the grant's token.
    #[cfg(test)]
    pub(crate) fn handle_of(&self, id: u64) -> ConsentHandle {
        self.ledger
            .handle_of(ConsentId(id))
            .expect("a consent on the ledger")
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
        counter: Option<Arc<dyn MonotonicCounter>>,
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
            writes: head.writes,
            generations: head.generations,
            counter,
            poisoned: false,
            consents: BTreeMap::new(),
            galleries: BTreeMap::new(),
            templates: BTreeMap::new(),
            matcher,
            purpose_matchers: BTreeMap::new(),
        }
    }
}
