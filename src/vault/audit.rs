//! Reading, verifying and exporting the audit log (the journal's events).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::core::Vault;
use super::event::{hex, AuditEntry, Event};
use super::head::{self, Head};
use super::recover::{journal_bytes, journal_problem, open_meta};
use super::storage::{DirStorage, Storage};
use super::{journal, keys, subject};
use super::{VaultError, VaultKey};
use crate::error::Error;

/// The audit log as far as it could be read and verified.
#[derive(Debug)]
pub struct AuditLog {
    /// Every entry up to the first problem, in order.
    pub entries: Vec<AuditEntry>,
    /// The first edited, removed, reordered, truncated or unreadable entry, if any: what
    /// follows it is not in `entries`.
    pub problem: Option<VaultError>,
}

impl AuditLog {
    /// The number of entries if the whole log verified, else its first problem.
    pub fn verify(&self) -> Result<usize, &VaultError> {
        match &self.problem {
            None => Ok(self.entries.len()),
            Some(problem) => Err(problem),
        }
    }

    /// Writes the entries as JSON lines (one object per line: `seq`, `at`, `event` and the
    /// event's fields); returns how many.
    pub fn write_json_lines(&self, out: &mut dyn Write) -> std::io::Result<usize> {
        for entry in &self.entries {
            serde_json::to_writer(&mut *out, entry)?;
            out.write_all(b"\n")?;
        }
        Ok(self.entries.len())
    }
}

/// Reads and verifies the audit log of the vault in `storage`: every entry's chain value,
/// sequence number and authenticated event, and the whole against the head (sealed under
/// `key`), so that an entry edited, removed, reordered or cut off the end is found. Reads as
/// far as the log is intact even when the vault itself would not open. Fails only if the head
/// cannot be read (without it nothing can be decrypted or vouched for).
pub fn read_audit(storage: &dyn Storage, key: &VaultKey) -> Result<AuditLog, VaultError> {
    let head_bytes = storage
        .read(head::FILE)?
        .ok_or_else(|| VaultError::NoVault {
            dir: "the given storage".into(),
            why: format!("it has no {} file", head::FILE),
        })?;
    let head = Head::decode(&head_bytes, key)?;
    let bytes = match journal_bytes(storage, &head.vault) {
        Ok(bytes) => bytes,
        Err(problem) => {
            return Ok(AuditLog {
                entries: Vec::new(),
                problem: Some(problem),
            })
        }
    };
    let scan = journal::scan(&bytes, &head.vault);
    let mut problem = journal_problem(&scan, &head);
    let mut entries = Vec::with_capacity(scan.entries.len());
    for entry in &scan.entries {
        match open_meta(entry, &head.vault, &head.journal_key) {
            Ok(meta) => entries.push(AuditEntry {
                seq: entry.seq,
                at: meta.at,
                event: meta.event,
                subject: None,
            }),
            Err(e) => {
                problem = Some(e);
                break;
            }
        }
    }
    name_live_subjects(storage, key, &head, &mut entries);
    Ok(AuditLog { entries, problem })
}

/// Fills in [`AuditEntry::subject`] for the events about consents that are still active:
/// their data keys unwrap, and open the person's id sealed in the grant. Consents that have
/// ended (or whose key cannot be read) stay nameless: that is the deletion.
fn name_live_subjects(
    storage: &dyn Storage,
    key: &VaultKey,
    head: &Head,
    entries: &mut [AuditEntry],
) {
    let mut granted: BTreeMap<u64, (&str, &str)> = BTreeMap::new();
    let mut ended = BTreeSet::new();
    for entry in entries.iter() {
        match &entry.event {
            Event::Granted {
                consent,
                purpose,
                sealed_subject,
                ..
            } => {
                granted.insert(*consent, (purpose, sealed_subject));
            }
            Event::Revoked { consent, .. } => {
                ended.insert(*consent);
            }
            Event::Expired { consents } | Event::SubjectRevoked { consents } => {
                ended.extend(consents.iter().copied())
            }
            _ => {}
        }
    }
    let mut names = BTreeMap::new();
    let mut pseudonyms = BTreeMap::new();
    for bucket in 0..keys::BUCKETS {
        let name = keys::file_name(head.epoch, bucket);
        let Ok(Some(bytes)) = storage.read(&name) else {
            continue;
        };
        let Ok(file) = keys::decode(&name, &bytes, &head.vault, head.epoch) else {
            continue;
        };
        for (id, wrapped) in &file.keys {
            let Some((purpose, sealed)) = granted.get(id).filter(|_| !ended.contains(id)) else {
                continue;
            };
            let binding = keys::binding(&head.vault, *id, purpose);
            let Ok(data_key) = keys::unwrap(key, &binding, wrapped) else {
                continue;
            };
            let Some(sealed) = hex_bytes(sealed) else {
                continue;
            };
            if let Ok(opened) = subject::open(&data_key, &head.vault, *id, purpose, &sealed) {
                names.insert(*id, opened.subject.to_string());
                pseudonyms.insert(hex(&opened.pseudonym), opened.subject.to_string());
            }
        }
    }
    for entry in entries {
        entry.subject = match entry.event.usage_pseudonym() {
            Some(p) => pseudonyms.get(p).cloned(),
            None => entry.event.consent().and_then(|c| names.get(&c).cloned()),
        };
    }
}

pub(super) fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

impl Vault {
    /// Reads the audit log back from flash and verifies it (see [`read_audit`]).
    pub fn audit(&self) -> Result<AuditLog, Error> {
        let inner = self.lock_inner();
        Ok(read_audit(&*inner.storage, &inner.key)?)
    }

    /// [`read_audit`] on the vault in `dir`, without opening it (for inspecting a vault that
    /// does not open). Takes the vault's lock, so that nothing writes while it reads.
    pub fn read_audit(dir: impl AsRef<std::path::Path>, key: &VaultKey) -> Result<AuditLog, Error> {
        Ok(read_audit(&DirStorage::existing(dir)?, key)?)
    }
}
