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
//! * the data key of a consent the journal says has ended (cut between the revocation's
//!   commit and the key file's rewrite): destroyed now;
//! * a data key no committed consent owns (cut between writing the key and committing the
//!   grant): destroyed;
//! * key files of another epoch (cut during a key rotation, before or after the head switched
//!   keys): deleted, and an interrupted rotation is recorded as abandoned.
//!
//! Anything else is damage or tampering, reported as an error naming the file: the vault
//! never loads what it cannot vouch for.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::core::{
    journal_binding, template_binding, unhex, Consent, Inner, Meta, OpenReport, Vault,
};
use super::event::Event;
use super::head::{self, Head};
use super::journal::{self, PayloadState, RawEntry};
use super::storage::Storage;
use super::{atomic, keys, seal, VaultError, VaultKey};
use crate::consent::{
    Clock, ConsentId, ConsentLedger, ConsentRecord, ConsentStatus, SubjectId, Timestamp,
};
use crate::error::Error;
use crate::matching::Matcher;
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
struct Replay {
    records: BTreeMap<u64, ConsentRecord>,
    /// Enrolment entries: seq → (consent, model).
    templates: BTreeMap<u64, (u64, ModelId)>,
    /// Consents revoked or swept after expiry: their data keys must be gone.
    ended: BTreeSet<u64>,
    /// The epoch of the last key rotation begun.
    rotation: Option<u32>,
}

fn replay(
    entries: &[RawEntry],
    vault: &[u8; 16],
    journal_key: &VaultKey,
) -> Result<Replay, VaultError> {
    let mut state = Replay::default();
    for entry in entries {
        let seq = entry.seq;
        let meta = open_meta(entry, vault, journal_key)?;
        let at = Timestamp(meta.at);
        match meta.event {
            Event::Granted {
                consent,
                subject,
                purpose,
                notice_sha256,
                expires_at,
            } => {
                let record = ConsentRecord {
                    id: ConsentId(consent),
                    subject: SubjectId::new(subject).map_err(|e| malformed(seq, e.to_string()))?,
                    purpose,
                    notice_sha256: unhex(&notice_sha256)
                        .ok_or_else(|| malformed(seq, "bad notice hash"))?,
                    granted_at: at,
                    expires_at: Timestamp(expires_at),
                    revoked_at: None,
                };
                if state.records.insert(consent, record).is_some() {
                    return Err(malformed(seq, format!("consent #{consent} granted twice")));
                }
            }
            Event::Revoked { consent, .. } => {
                state.ended.insert(consent);
                state
                    .records
                    .get_mut(&consent)
                    .ok_or_else(|| malformed(seq, format!("unknown consent #{consent}")))?
                    .revoked_at
                    .get_or_insert(at);
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
            Event::Expired { consents } => state.ended.extend(consents),
            Event::KeyRotation { epoch, .. } => state.rotation = Some(epoch),
            Event::KeyRotationAbandoned { epoch } => {
                if state.rotation == Some(epoch) {
                    state.rotation = None;
                }
            }
            Event::Created { .. }
            | Event::Identified { .. }
            | Event::Verified { .. }
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
    destroyed: usize,
}

/// Reads and checks the key files of the head's epoch, keeping the keys of live consents in
/// `inner`. Writes nothing: what needs repairing is returned.
fn read_keys(inner: &mut Inner, state: &Replay) -> Result<KeyRepairs, VaultError> {
    let records = &state.records;
    let live = |id: &u64| records.contains_key(id) && !state.ended.contains(id);
    let mut repairs = KeyRepairs::default();
    for name in inner.storage.list()? {
        let (Some(epoch), Some(bucket)) = (keys::epoch_of(&name), keys::bucket_of(&name)) else {
            continue;
        };
        if epoch != inner.epoch {
            repairs.stale_files.push(name);
            continue;
        }
        let bytes = inner.storage.read(&name)?.unwrap_or_default();
        for (id, wrapped) in keys::decode(&name, &bytes, &inner.vault, inner.epoch)? {
            let Some(record) = records.get(&id).filter(|_| live(&id)) else {
                // Ended, or never committed: its destruction is finished below.
                repairs.destroyed += 1;
                repairs.rewrite.insert(bucket);
                continue;
            };
            if keys::file_name(inner.epoch, id) != name {
                return Err(VaultError::Tampered {
                    what: format!(
                        "{name} (it holds the key of consent #{id}, which belongs elsewhere)"
                    ),
                });
            }
            let binding = keys::binding(&inner.vault, id, record.subject.as_str(), &record.purpose);
            let key =
                keys::unwrap(&inner.key, &binding, &wrapped).map_err(|_| VaultError::Tampered {
                    what: format!("{name} (the data key of consent #{id})"),
                })?;
            inner.consents.insert(
                id,
                Consent {
                    record: record.clone(),
                    key: Some((key, wrapped)),
                },
            );
        }
    }
    for (id, record) in records {
        if live(id) && !inner.consents.contains_key(id) {
            return Err(VaultError::RolledBack {
                file: keys::file_name(inner.epoch, *id),
                why: format!("it lacks the data key of active consent #{id}"),
            });
        }
        inner.consents.entry(*id).or_insert_with(|| Consent {
            record: record.clone(),
            key: None,
        });
    }
    Ok(repairs)
}

pub(super) fn open(
    storage: Box<dyn Storage>,
    key: VaultKey,
    clock: Arc<dyn Clock>,
) -> Result<(Vault, OpenReport), Error> {
    // First every check, writing nothing: a vault that does not open is left as it was.
    let head_bytes = storage
        .read(head::FILE)?
        .ok_or_else(|| VaultError::NoVault {
            dir: "the given storage".into(),
            why: format!("it has no {} file", head::FILE),
        })?;
    let head = Head::decode(&head_bytes, &key)?;
    let bytes = journal_bytes(&*storage, &head.vault)?;
    let scan = journal::scan(&bytes, &head.vault);
    if let Some(problem) = journal_problem(&scan, &head) {
        return Err(problem.into());
    }
    let torn = scan.stopped.is_some().then_some(scan.end);
    let entries = scan.entries;
    let state = replay(&entries, &head.vault, &head.journal_key)?;
    let anchored = head.entries;
    let ledger = ConsentLedger::with_clock(clock);
    let now = ledger.now();
    let mut inner = Inner::new_open(storage, key, head, Matcher::default());
    let repairs = read_keys(&mut inner, &state)?;
    let mut report = OpenReport::default();
    let cells: BTreeMap<u64, _> = state
        .records
        .values()
        .map(|r| (r.id.get(), ledger.restore(r.clone())))
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
        shared.enroll(vector.as_slice(), model, &cells[&consent])?;
        inner.templates.insert(seq, consent);
        report.templates_loaded += 1;
    }

    // Then the repairs of what a power cut interrupted.
    report.leftovers_removed = atomic::remove_leftovers(&*inner.storage)?;
    if let Some(end) = torn {
        report.torn_bytes = bytes.len() as u64 - end;
        inner.write(|inner| {
            inner.storage.truncate(journal::FILE, end)?;
            inner.storage.sync(journal::FILE)
        })?;
    }
    if entries.len() as u64 > anchored {
        let last = entries.last().expect("more entries than anchored");
        inner.advance(last.seq + 1, last.chain)?;
        report.rolled_forward = true;
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
    for bucket in &repairs.rewrite {
        inner.write_bucket(*bucket)?;
    }
    report.keys_destroyed = repairs.destroyed;
    if let Some(epoch) = state.rotation.filter(|&epoch| epoch > inner.epoch) {
        inner.append(now, Event::KeyRotationAbandoned { epoch }, None)?;
    }
    let vault = Vault::from_parts(ledger, inner);
    vault.sweep_expired()?;
    Ok((vault, report))
}
