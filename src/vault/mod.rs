//! The vault: faceguard's encrypted, crash-safe storage on the device — the persistent form of
//! the consent ledger and the galleries, in one directory the firmware names.
//!
//! ```no_run
//! use std::time::Duration;
//! use faceguard::vault::{Vault, VaultKey};
//! use faceguard::{decode_file, Engine, Purpose, SubjectId};
//!
//! enum DoorAccess {}
//! impl Purpose for DoorAccess {
//!     const NAME: &'static str = "door-access";
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::from_dir("models")?;
//! let key = VaultKey::from_bytes(&[0x42; 32])?; // from the secure element, in firmware
//! let (vault, _report) = Vault::open("/data/faceguard", key)?;
//!
//! let notice = "Your face template opens the staff door until you ask us to delete it.";
//! let consent = vault.grant::<DoorAccess>(SubjectId::new("badge-1042")?, notice, Duration::from_secs(90 * 86_400))?;
//! let photo = decode_file("enrol.jpg")?;
//! let face = engine.detect(&photo.view())?.into_iter().next().ok_or("no face")?;
//! vault.enroll(engine.enrolment_template(&consent, &photo.view(), &face)?)?; // on flash now
//!
//! vault.revoke(consent.id())?; // data key destroyed: the template is unrecoverable
//! vault.compact()?;            // and its ciphertext is gone from the files
//! # Ok(()) }
//! ```
//!
//! # Files
//!
//! * `HEAD` ([`head`]): the vault's id, the fingerprint of the vault key, the key epoch, and,
//!   sealed under the vault key, the journal key and the number and last chain value of the
//!   journal's entries. Replaced atomically after every commit.
//! * `journal` ([`journal`]): append-only and hash-chained. Every change and every use is one
//!   entry: an event sealed under the journal key (consent granted, revoked, expired; template
//!   enrolled; identification and verification with their purpose and result; compaction; key
//!   rotation), and for an enrolment the template sealed under its consent's data key. The
//!   journal is the audit log too: [`Vault::audit`] verifies it and exports it as JSON lines.
//! * `keys.<epoch>.<nn>` ([`keys`]): one data key per consent, wrapped under the vault key,
//!   spread over 64 small files so that destroying one key rewrites one file.
//!
//! Every record is AES-256-GCM with a fresh random nonce and associated data ([`Binding`])
//! naming the vault, record kind, subject, purpose, consent and model: a record copied to
//! another place does not open.
//!
//! # Crash safety
//!
//! A change commits when its journal entry is appended and flushed (`fsync`); the head is then
//! replaced (write a temporary file, flush, rename, flush the directory) to vouch for it. Key
//! files are replaced the same way, before the grant that needs the key commits, after the
//! revocation that destroys it. A power cut at any instant therefore leaves the old state or
//! the new one, and opening ([`OpenReport`]) finishes what the cut interrupted: it cuts a torn
//! last entry, brings the head up to date with a committed entry, destroys the keys of ended
//! consents still on flash, and deletes the leftovers of a key rotation. The tests cut the
//! power at every write and flush of grant, enrolment, revocation, compaction and rotation
//! (under a model of what a cache may lose), and kill a real process in a loop of enrolments.
//!
//! Everything else is damage or tampering, and opening fails with an error naming the file:
//! [`VaultError::Corrupt`] or [`VaultError::Truncated`] (flipped bits, cut files),
//! [`VaultError::Tampered`] (authentication failed: a record edited, swapped or moved),
//! [`VaultError::WrongKey`], and [`VaultError::RolledBack`] (a file replaced by an older copy
//! of itself). The vault never loads what it cannot vouch for; [`read_audit`] still reads the
//! audit log up to the first damaged entry.
//!
//! # Crypto-shredding
//!
//! Each consent's templates are sealed under its own random data key. Revocation, expiry (the
//! retention limit the purpose sets) and a sweep destroy that key — in memory (zeroized) and
//! in its key file (rewritten without it) — in the same call that records the event. Every
//! copy of those templates is then ciphertext under a key that no longer exists.
//! [`Vault::compact`] then rewrites the journal without them (keeping their hashes, so the
//! audit chain still verifies): the test scans every byte of every file for the template, the
//! data key and the wrapped key, in any of their forms, and finds none.
//!
//! # Threat model
//!
//! * **A thief of the flash** (a stolen camera, a dumped chip) gets ciphertext: templates under
//!   per-consent data keys, data keys and the journal key under the vault key, which never
//!   touches the flash in the clear. They learn the number and size of the files and so
//!   roughly how many consents and templates there are, and when changes happened (file
//!   times); not who, for what purpose, nor any template. Blocks of deleted files and old
//!   journal versions may linger on flash (wear levelling); they are ciphertext too.
//! * **A thief of the vault key alone** learns nothing without the flash.
//! * **A thief of both** reads everything currently in the vault — like the camera itself.
//!   They cannot read the templates of consents revoked or expired before the theft: those
//!   data keys are destroyed, and their wrapped copies survive only in stale flash blocks,
//!   still sealed under the vault key... which they hold. This is why [`Vault::rotate_key`]
//!   exists: after a rotation, and once the firmware destroys the old vault key, every stale
//!   copy (including a full copy of the files taken before a revocation) is sealed under a key
//!   that no longer exists. Rotate after revocations when the flash may hold old blocks.
//! * **Tampering** (editing, swapping, moving, truncating, replaying any one file) is detected.
//!   Replacing *all* files with a consistent older copy (a full rollback) cannot be detected
//!   from the files alone; detecting it needs a monotonic counter outside the flash (a secure
//!   element, eMMC RPMB), which this version does not use.
//! * Out of scope: an attacker running code on the device while the vault is open (it holds
//!   the keys and templates in memory), and side channels.
//!
//! # Limits
//!
//! Opening reads the whole journal (about 2.1 KB per 512-d template) and decrypts every live
//! template into the galleries; see `BENCHMARKS.md` for the figures at 100,000. Each
//! identification appends one flushed audit entry.

mod atomic;
mod audit;
mod core;
mod counter;
mod error;
mod event;
mod frame;
mod head;
mod journal;
mod key;
mod keys;
mod maintain;
mod recover;
mod seal;
pub mod storage;
mod subject;

pub use self::core::{OpenReport, Vault, VaultConfig};
pub use audit::{read_audit, AuditLog};
pub use counter::{FileCounter, MonotonicCounter};
pub use error::VaultError;
pub use event::{AuditEntry, Event};
pub use key::{KeyProvider, VaultKey, KEY_LEN};
pub use storage::{DirStorage, Storage};

#[cfg(test)]
mod tests;

/// Entry points for the fuzz targets in `fuzz/`: every parser of on-disk data, fed arbitrary
/// bytes. Only with the `fuzzing` feature, which nothing but the fuzz crate turns on: it is
/// not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use super::{frame, head, journal, keys, VaultKey};

    /// The fixed key the fuzz targets use.
    pub fn key() -> VaultKey {
        VaultKey::from_bytes(&[0x5a; 32]).expect("32 bytes")
    }

    /// Parses `bytes` as any framed file.
    pub fn frame(bytes: &[u8]) {
        for kind in [*b"HEAD", *b"KEYS", *b"JRNL"] {
            let _ = frame::decode("fuzz", frame::Kind(kind), bytes);
        }
    }

    /// Parses `bytes` as a head file, sealed under [`key`].
    pub fn head(bytes: &[u8]) {
        let _ = head::Head::decode(bytes, &key());
    }

    /// Parses `bytes` as a key file and tries to unwrap every key in it.
    pub fn keys(bytes: &[u8]) {
        let vault = bytes
            .get(24..40)
            .and_then(|v| v.try_into().ok())
            .unwrap_or([0; 16]);
        for epoch in [0, 1] {
            if let Ok(found) = keys::decode("keys.0.00", bytes, &vault, epoch) {
                for (id, wrapped) in found.keys {
                    let binding = keys::binding(&vault, id, "purpose");
                    let _ = keys::unwrap(&key(), &binding, &wrapped);
                }
            }
        }
    }

    /// Parses `bytes` as a journal (header, then every entry).
    pub fn journal(bytes: &[u8]) {
        let vault = bytes
            .get(16..32)
            .and_then(|v| v.try_into().ok())
            .unwrap_or([0; 16]);
        if journal::check_header(bytes, &vault).is_ok() {
            let scan = journal::scan(bytes, &vault);
            assert!(scan.end as usize <= bytes.len());
        }
        // Entries also parse from any offset without a valid header.
        let _ = journal::scan(bytes, &vault);
    }
}
