//! Reading, verifying and exporting the audit log (the journal's events).

use std::io::Write;

use super::core::Vault;
use super::event::AuditEntry;
use super::head::{self, Head};
use super::journal;
use super::recover::{journal_bytes, journal_problem, open_meta};
use super::storage::{DirStorage, Storage};
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
            }),
            Err(e) => {
                problem = Some(e);
                break;
            }
        }
    }
    Ok(AuditLog { entries, problem })
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
