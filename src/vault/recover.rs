//! Opening a vault: checking every file, recovering from a power cut, loading the galleries.
//!
//! What a power cut can leave, and what opening does about it:
//!
//! * a temporary file of an interrupted replacement: deleted;
//! * a torn last journal entry: cut off (it was never committed);
//! * one whole journal entry the head does not vouch for yet (cut between the append and the
//!   head's replacement): kept, and the head brought up to date. More than one is impossible
//!   after a power cut, so it means the head was replaced by an older copy:
//!   [`VaultError::RolledBack`];
//! * the data keys of the consents the journal's last entry ended (cut between the
//!   revocation's or expiry's commit and the key file's rewrite): destroyed now;
//! * the key of the next consent, which no committed grant owns (cut between writing the key
//!   and committing the grant): destroyed;
//! * a key file one generation ahead of the head, rewritten by the last entry's change (cut
//!   before the head that vouches for it): the head is brought up to date;
//! * the monotonic counter one head behind (cut between the head's write and the counter's
//!   update): the counter is raised;
//! * key files of another epoch (cut during a key rotation, before or after the head switched
//!   keys): deleted, and an interrupted rotation is recorded as abandoned.
//!
//! Anything else is damage or tampering, reported as an error naming the file: the vault
//! never loads what it cannot vouch for. In particular the keys of consents that ended before
//! the last entry, more than one key nobody was granted, and a key file of another generation
//! than the head records are [`VaultError::RolledBack`]: files replaced by older copies.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::core::{
    journal_binding, template_binding, unhex, Consent, Inner, Meta, OpenReport, Vault, VaultConfig,
};
use super::counter::MonotonicCounter;
use super::event::Event;
use super::head::{self, Head};
use super::journal::{self, PayloadState, RawEntry};
use super::storage::Storage;
use super::{atomic, keys, seal, subject, VaultError, VaultKey};
use crate::consent::{
    ConsentError, ConsentId, ConsentLedger, ConsentRecord, ConsentStatus, HandleSecret, Timestamp,
};
use crate::error::Error;
use crate::matching::{MatchError, Matcher};
use crate::model::ModelId;
use crate::template::SecretVector;

fn malformed(seq: u64, why: impl Into<String>) -> VaultError {
    VaultError::Malformed {
        what: format!("journal entry {seq}"),
        why: why.into(),
    }
}

/// What is wrong with a scanned journal given what the head vouches for, if anything. A
/// torn tail beyond the vouched-for entries is not wrong: it is a power cut's leftover.
pub(super) fn journal_problem(scan: &journal::Scan, head: &Head) -> Option<VaultError> {
    let found = scan.entries.len() as u64;
    if found < head.entries {
        return Some(match &scan.stopped {
            Some(why) => VaultError::Corrupt {
                file: format!("{} ({why})", journal::FILE),
            },
            None => VaultError::RolledBack {
                file: journal::FILE.into(),
                why: format!(
                    "it holds {found} entries, but the head vouches for {}",
                    head.entries
                ),
            },
        });
    }
    let anchored = match head.entries {
        0 => journal::genesis(&head.vault),
        n => scan.entries[n as usize - 1].chain,
    };
    if anchored != head.chain {
        return Some(VaultError::Tampered {
            what: format!(
                "{} (its first {} entries are not the ones the head vouches for)",
                journal::FILE,
                head.entries
            ),
        });
    }
    if found > head.entries + 1 {
        return Some(VaultError::RolledBack {
            file: head::FILE.into(),
            why: format!(
                "the journal has {} entries it does not vouch for; a power cut leaves at most one",
                found - head.entries
            ),
        });
    }
    None
}

/// The journal's bytes, header checked.
pub(super) fn journal_bytes(
    storage: &dyn Storage,
    vault: &[u8; 16],
) -> Result<Vec<u8>, VaultError> {
    let bytes = storage
        .read(journal::FILE)?
        .ok_or_else(|| VaultError::Truncated {
            file: journal::FILE.into(),
            needed: journal::HEADER_LEN as u64,
            got: 0,
        })?;
    journal::check_header(&bytes, vault)?;
    Ok(bytes)
}

/// The sealed event of `entry`.
pub(super) fn open_meta(
    entry: &RawEntry,
    vault: &[u8; 16],
    journal_key: &VaultKey,
) -> Result<Meta, VaultError> {
    let seq = entry.seq;
    let plain = seal::open(
        journal_key,
        &journal_binding(vault, seq, &entry.payload_hash),
        entry.meta,
    )
    .map_err(|_| VaultError::Tampered {
        what: format!("journal entry {seq}"),
    })?;
    serde_json::from_slice(&plain).map_err(|e| malformed(seq, e.to_string()))
}

/// The state the journal's events describe.
#[derive(Default)]
pub(super) struct Replay {
    /// Every consent granted, without its subject (sealed under its data key).
    pub(super) records: BTreeMap<u64, ConsentRecord>,
    /// Each consent's sealed subject and handle secret.
    pub(super) sealed_subjects: BTreeMap<u64, Vec<u8>>,
    /// Enrolment entries: seq → (consent, model).
    templates: BTreeMap<u64, (u64, ModelId)>,
    /// Consents revoked or swept after expiry: their data keys must be gone.
    pub(super) ended: BTreeSet<u64>,
    /// The epoch of the last key rotation begun.
    rotation: Option<u32>,
    /// The latest time any entry records.
    latest: u64,
    /// What the journal's last entry was doing to the key files, the one change a power cut
    /// may have left half done there: the consent it granted, or the consents it ended.
    last_granted: Option<u64>,
    last_ended: BTreeSet<u64>,
}

impl Replay {
    /// Records the revocation of `consents` at `at` by entry `seq`.
    fn revoke(&mut self, consents: &[u64], at: Timestamp, seq: u64) -> Result<(), VaultError> {
        for &consent in consents {
            self.ended.insert(consent);
            self.last_ended.insert(consent);
            self.records
                .get_mut(&consent)
                .ok_or_else(|| malformed(seq, format!("unknown consent #{consent}")))?
                .revoked_at
                .get_or_insert(at);
        }
        Ok(())
    }
}

pub(super) fn replay(
    entries: &[RawEntry],
    vault: &[u8; 16],
    journal_key: &VaultKey,
) -> Result<Replay, VaultError> {
    let mut state = Replay::default();
    for entry in entries {
        let seq = entry.seq;
        let meta = open_meta(entry, vault, journal_key)?;
        let at = Timestamp(meta.at);
        state.latest = state.latest.max(meta.at);
        state.last_granted = None;
        state.last_ended.clear();
        match meta.event {
            Event::Granted {
                consent,
                purpose,
                notice_sha256,
                expires_at,
                sealed_subject,
            } => {
                let record = ConsentRecord {
                    id: ConsentId(consent),
                    subject: None,
                    purpose,
                    notice_sha256: unhex(&notice_sha256)
                        .ok_or_else(|| malformed(seq, "bad notice hash"))?,
                    granted_at: at,
                    expires_at: Timestamp(expires_at),
                    revoked_at: None,
                };
                let sealed = super::audit::hex_bytes(&sealed_subject)
                    .ok_or_else(|| malformed(seq, "bad sealed subject"))?;
                if state.records.insert(consent, record).is_some() {
                    return Err(malformed(seq, format!("consent #{consent} granted twice")));
                }
                state.sealed_subjects.insert(consent, sealed);
                state.last_granted = Some(consent);
            }
            Event::Revoked { consent, .. } => state.revoke(&[consent], at, seq)?,
            Event::SubjectRevoked { consents } => state.revoke(&consents, at, seq)?,
            Event::Limited {
                max_validity,
                consents,
                ..
            } => {
                for consent in consents {
                    let record = state
                        .records
                        .get_mut(&consent)
                        .ok_or_else(|| malformed(seq, format!("unknown consent #{consent}")))?;
                    let limit = record.granted_at.after(Duration::from_secs(max_validity));
                    record.expires_at = record.expires_at.min(limit);
                }
            }
            Event::Enrolled { consent, model, .. } => {
                if !state.records.contains_key(&consent) {
                    return Err(malformed(seq, format!("unknown consent #{consent}")));
                }
                if entry.state == PayloadState::None {
                    return Err(malformed(seq, "an enrolment without its template"));
                }
                let model = unhex::<8>(&model).ok_or_else(|| malformed(seq, "bad model id"))?;
                state
                    .templates
                    .insert(seq, (consent, ModelId::from_bytes(model)));
            }
            Event::Expired { consents } => {
                state.last_ended.extend(consents.iter().copied());
                state.ended.extend(consents);
            }
            Event::KeyRotation { epoch, .. } => state.rotation = Some(epoch),
            Event::KeyRotationAbandoned { epoch } => {
                if state.rotation == Some(epoch) {
                    state.rotation = None;
                }
            }
            Event::Created { .. }
            | Event::Identified { .. }
            | Event::Verified { .. }
            | Event::PresentationAttack { .. }
            | Event::Compacted { .. } => {}
        }
    }
    Ok(state)
}

/// What opening must repair in the key files, once everything has been checked.
#[derive(Default)]
struct KeyRepairs {
    /// Key files of other epochs (a rotation interrupted, or completed but not cleaned up).
    stale_files: Vec<String>,
    /// Buckets holding keys no live consent owns (a revocation, an expiry or a grant cut
    /// short by a power cut): rewritten without them.
    rewrite: BTreeSet<u64>,
    /// Buckets one generation ahead of the head (a power cut after the key file's rewrite,
    /// before the head that vouches for it): the head is brought up to date.
    ahead: BTreeSet<u64>,
    destroyed: usize,
}

fn rolled_back(file: &str, why: String) -> VaultError {
    VaultError::RolledBack {
        file: file.to_string(),
        why,
    }
}

/// Reads and checks the key files of the head's epoch against the head (each bucket's
/// generation) and the journal (which keys may exist), keeping the keys of live consents in
/// `inner`. Writes nothing: what needs repairing is returned.
///
/// A power cut leaves at most one change half done in the key files: the one the journal's
/// last entry makes (a grant's key written before its entry, ended consents' keys still there
/// after theirs, a rewritten file the head does not vouch for yet) or, before any entry, one
/// grant's key. Anything else — keys of consents that ended earlier, several keys nobody was
/// granted, a file older or newer than the head says — is a file replaced by another copy.
fn read_keys(inner: &mut Inner, state: &Replay) -> Result<KeyRepairs, VaultError> {
    let records = &state.records;
    let live = |id: &u64| records.contains_key(id) && !state.ended.contains(id);
    let next_id = records.keys().next_back().map_or(1, |id| id + 1);
    let mut repairs = KeyRepairs::default();
    let mut orphans = 0usize;
    let mut files = BTreeMap::new();
    for name in inner.storage.list()? {
        let (Some(epoch), Some(bucket)) = (keys::epoch_of(&name), keys::bucket_of(&name)) else {
            continue;
        };
        if epoch != inner.epoch {
            repairs.stale_files.push(name);
            continue;
        }
        files.insert(bucket, name);
    }
    for bucket in 0..keys::BUCKETS {
        let name = keys::file_name(inner.epoch, bucket);
        let file = match files.get(&bucket) {
            Some(name) => {
                let bytes = inner.storage.read(name)?.unwrap_or_default();
                keys::decode(name, &bytes, &inner.vault, inner.epoch)?
            }
            None => keys::KeyFile::default(),
        };
        let in_bucket = |id: &u64| id % keys::BUCKETS == bucket;
        for (id, wrapped) in file.keys {
            if !in_bucket(&id) {
                return Err(VaultError::Tampered {
                    what: format!(
                        "{name} (it holds the key of consent #{id}, which belongs elsewhere)"
                    ),
                });
            }
            let Some(record) = records.get(&id).filter(|_| live(&id)) else {
                if records.contains_key(&id) {
                    // Ended: only the last entry's revocation or expiry may still be finishing.
                    if !state.last_ended.contains(&id) {
                        return Err(rolled_back(
                            &name,
                            format!("it holds the key of consent #{id}, which ended before the last change: an older copy"),
                        ));
                    }
                } else {
                    // Never granted: only the one grant a power cut interrupted.
                    orphans += 1;
                    if orphans > 1 || id != next_id {
                        return Err(rolled_back(
                            &name,
                            format!("it holds the key of consent #{id}, which was never granted; a power cut leaves at most one such key, that of the next consent"),
                        ));
                    }
                }
                repairs.destroyed += 1;
                repairs.rewrite.insert(bucket);
                continue;
            };
            let binding = keys::binding(&inner.vault, id, &record.purpose);
            let key =
                keys::unwrap(&inner.key, &binding, &wrapped).map_err(|_| VaultError::Tampered {
                    what: format!("{name} (the data key of consent #{id})"),
                })?;
            inner.consents.insert(
                id,
                Consent {
                    record: record.clone(),
                    key: Some((key, wrapped)),
                    pseudonym: None,
                },
            );
        }
        let vouched = inner.generations[bucket as usize];
        // A file one generation ahead of the head is the change a power cut interrupted: the
        // last entry's grant or ending, or the next grant's key (written, or cleaned up by an
        // interrupted repair, before its entry).
        let in_flight = in_bucket(&next_id)
            || state.last_granted.as_ref().is_some_and(in_bucket)
            || state.last_ended.iter().any(in_bucket);
        match file.generation {
            g if g == vouched => {}
            g if g == vouched + 1 && in_flight => {
                repairs.ahead.insert(bucket);
            }
            g => {
                return Err(rolled_back(
                    &name,
                    format!(
                        "it is at generation {g}, but the head vouches for generation {vouched}"
                    ),
                ))
            }
        }
    }
    for (id, record) in records {
        if live(id) && !inner.consents.contains_key(id) {
            return Err(rolled_back(
                &keys::file_name(inner.epoch, *id),
                format!("it lacks the data key of active consent #{id}"),
            ));
        }
        inner.consents.entry(*id).or_insert_with(|| Consent {
            record: record.clone(),
            key: None,
            pseudonym: None,
        });
    }
    Ok(repairs)
}

/// Reads who is behind each live consent, and its handle secret, through its data key.
fn unseal_subjects(
    inner: &mut Inner,
    state: &Replay,
) -> Result<BTreeMap<u64, HandleSecret>, VaultError> {
    let mut handles = BTreeMap::new();
    let vault = inner.vault;
    for (id, consent) in inner.consents.iter_mut() {
        let Some((data_key, _)) = &consent.key else {
            continue;
        };
        let sealed = state
            .sealed_subjects
            .get(id)
            .ok_or_else(|| malformed(0, format!("consent #{id} has no sealed subject")))?;
        let opened = subject::open(data_key, &vault, *id, &consent.record.purpose, sealed)?;
        consent.record.subject = Some(opened.subject);
        consent.pseudonym = Some(opened.pseudonym);
        handles.insert(*id, opened.handle);
    }
    Ok(handles)
}

/// Checks the head against the monotonic counter: `Ok(true)` if the counter must be raised
/// to the head: it is one head behind (a power cut between the head's write and the
/// counter's update), or new (at 0: a vault made without a counter is bound to it now).
fn check_counter(head: &Head, counter: &dyn MonotonicCounter) -> Result<bool, VaultError> {
    let value = counter.read()?;
    if !head.counter_bound {
        // A vault made without a counter is bound to a new one (at 0), and to no other.
        return match value {
            0 => Ok(true),
            _ => Err(rolled_back(
                "the monotonic counter",
                format!("it is at {value}, but this vault was never bound to a counter: it is another vault's"),
            )),
        };
    }
    if head.writes < value {
        return Err(rolled_back(
            head::FILE,
            format!(
                "it is head number {}, but the monotonic counter says {value} were written: the vault's files were replaced by an older copy",
                head.writes
            ),
        ));
    }
    if head.writes > value + 1 {
        return Err(rolled_back(
            "the monotonic counter",
            format!(
                "it says {value} heads were written, but the vault's head is number {}: it is not this vault's counter, or it was reset",
                head.writes
            ),
        ));
    }
    Ok(head.writes == value + 1)
}

pub(super) fn open(
    storage: Box<dyn Storage>,
    key: VaultKey,
    config: VaultConfig,
) -> Result<(Vault, OpenReport), Error> {
    // First every check, writing nothing: a vault that does not open is left as it was.
    let head_bytes = storage
        .read(head::FILE)?
        .ok_or_else(|| VaultError::NoVault {
            dir: "the given storage".into(),
            why: format!("it has no {} file", head::FILE),
        })?;
    let head = Head::decode(&head_bytes, &key)?;
    let counter_behind = match &config.counter {
        Some(counter) => check_counter(&head, &**counter)?,
        None if head.counter_bound => return Err(VaultError::CounterRequired.into()),
        None => false,
    };
    let bytes = journal_bytes(&*storage, &head.vault)?;
    let scan = journal::scan(&bytes, &head.vault);
    if let Some(problem) = journal_problem(&scan, &head) {
        return Err(problem.into());
    }
    let torn = scan.stopped.is_some().then_some(scan.end);
    let entries = scan.entries;
    let state = replay(&entries, &head.vault, &head.journal_key)?;
    let anchored = head.entries;
    let was_bound = head.counter_bound;
    let ledger = ConsentLedger::with_clock(config.clock);
    // Time never runs backwards: nothing is decided before the latest time recorded.
    ledger.raise_floor(Timestamp(state.latest));
    let now = ledger.now();
    let mut inner = Inner::new_open(storage, key, head, config.counter, Matcher::default());
    let repairs = read_keys(&mut inner, &state)?;
    let mut handles = unseal_subjects(&mut inner, &state)?;
    let mut report = OpenReport {
        clock_behind_secs: ledger.clock_behind_secs(),
        ..OpenReport::default()
    };
    let cells: BTreeMap<u64, _> = inner
        .consents
        .iter()
        .map(|(id, c)| (*id, ledger.restore(c.record.clone(), handles.remove(id))))
        .collect();
    let payloads: BTreeMap<u64, &RawEntry> = entries.iter().map(|e| (e.seq, e)).collect();
    for (&seq, &(consent, model)) in &state.templates {
        let entry = payloads[&seq];
        let held = &inner.consents[&consent];
        let active = held.record.status_at(now) == ConsentStatus::Active;
        let Some((data_key, _)) = held.key.as_ref().filter(|_| active) else {
            if entry.state == PayloadState::Present {
                report.templates_erased += 1;
                inner.templates.insert(seq, consent);
            }
            continue;
        };
        let Some(payload) = entry.payload else {
            return Err(malformed(seq, "the template of an active consent was dropped").into());
        };
        let binding = template_binding(&inner.vault, &held.record, &model);
        let plain = seal::open(data_key, &binding, payload).map_err(|_| VaultError::Tampered {
            what: format!("the template in journal entry {seq}"),
        })?;
        if plain.len() % 4 != 0 {
            return Err(malformed(seq, "a template of a partial number of floats").into());
        }
        let vector = SecretVector::from_stored(
            plain
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect(),
        );
        let purpose = held.record.purpose.clone();
        let shared = inner.gallery(&ledger, &purpose);
        match shared.enroll_at(vector.as_slice(), model, &cells[&consent], now) {
            Ok(()) => report.templates_loaded += 1,
            // The consent ended while the vault opened: its template waits for the sweep
            // below, like any other ended consent's.
            Err(MatchError::Consent(ConsentError::Expired { .. })) => report.templates_erased += 1,
            Err(e) => return Err(e.into()),
        }
        inner.templates.insert(seq, consent);
    }

    // Then the repairs of what a power cut interrupted.
    report.leftovers_removed = atomic::remove_leftovers(&*inner.storage)?;
    if counter_behind {
        let writes = inner.writes;
        if let Some(counter) = inner.counter.clone() {
            inner.write(|_| counter.advance(writes))?;
        }
        if !was_bound {
            // The binding is recorded at once: from now on the vault opens only with it.
            inner.write_head()?;
        }
        report.counter_advanced = true;
    }
    if let Some(end) = torn {
        report.torn_bytes = bytes.len() as u64 - end;
        inner.write(|inner| {
            inner.storage.truncate(journal::FILE, end)?;
            inner.storage.sync(journal::FILE)
        })?;
    }
    // Key files are repaired at one generation past the head's, the generation the change a
    // power cut interrupted gave them (so that a cut during the repair leaves what the next
    // open accepts again), then one head vouches for them and for a rolled-forward entry.
    let repaired: BTreeSet<u64> = repairs.ahead.union(&repairs.rewrite).copied().collect();
    for bucket in &repairs.rewrite {
        let generation = inner.generations[*bucket as usize] + 1;
        inner.write_bucket_at(*bucket, generation)?;
    }
    for bucket in repairs.ahead.difference(&repairs.rewrite) {
        inner.generations[*bucket as usize] += 1;
    }
    if entries.len() as u64 > anchored {
        let last = entries.last().expect("more entries than anchored");
        inner.advance(last.seq + 1, last.chain)?;
        report.rolled_forward = true;
    } else if !repaired.is_empty() {
        inner.write_head()?;
    }
    if !repairs.stale_files.is_empty() {
        inner.write(|inner| {
            for name in &repairs.stale_files {
                inner.storage.remove(name)?;
            }
            inner.storage.sync_dir()
        })?;
        report.stale_key_files = repairs.stale_files.len();
    }
    report.keys_destroyed = repairs.destroyed;
    if let Some(epoch) = state.rotation.filter(|&epoch| epoch > inner.epoch) {
        inner.append(now, Event::KeyRotationAbandoned { epoch }, None)?;
    }
    let vault = Vault::from_parts(ledger, inner);
    vault.sweep_expired()?;
    Ok((vault, report))
}
