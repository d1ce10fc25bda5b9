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
//! * `HEAD`: the vault's id, the fingerprint of the vault key, the key epoch, and, sealed
//!   under the vault key, the journal key, the number and last chain value of the journal's
//!   entries, the number of heads ever written, and the generation of every key file.
//!   Replaced atomically after every commit.
//! * `journal`: append-only and hash-chained. Every change and every use is one entry: an
//!   event sealed under the journal key (consent granted, revoked, expired, limited; template
//!   enrolled; identification and verification with their purpose and result; compaction; key
//!   rotation), and for an enrolment the template sealed under its consent's data key. The
//!   journal is the audit log too: [`Vault::audit`] verifies it and exports it as JSON lines.
//!   Events name people only by consent number; who is behind a consent is sealed under that
//!   consent's data key ([`Event::Granted`]).
//! * `keys.<epoch>.<nn>`: one data key per consent, wrapped under the vault key, spread over
//!   64 small files so that destroying one key rewrites one small file. Each file carries a
//!   generation that the head records.
//!
//! Every record is AES-256-GCM with a fresh random nonce and associated data naming the
//! vault, record kind, purpose, consent and (templates) subject and model: a record copied to
//! another place does not open. Files of an older format are refused with
//! [`VaultError::UnsupportedVersion`].
//!
//! # Crash safety
//!
//! A change commits when its journal entry is appended and flushed (`fsync`); the head is then
//! replaced (write a temporary file, flush, rename, flush the directory) to vouch for it. Key
//! files are replaced the same way, before the grant that needs the key commits, after the
//! revocation that destroys it (and a second head then vouches for the rewritten file). A
//! power cut at any instant therefore leaves the old state or the new one, and opening
//! ([`OpenReport`]) finishes what the cut interrupted: it cuts a torn last entry, brings the
//! head up to date with a committed entry or a rewritten key file, destroys the keys of the
//! consents the last entry ended, or the one key a grant left without its entry, raises a
//! monotonic counter one head behind, and deletes the leftovers of a key rotation. The tests
//! cut the power at every write and flush of grant, enrolment, revocation, compaction and
//! rotation (under a model of what a cache may lose), and kill a real process in a loop of
//! enrolments.
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
//! Each consent's templates, and the person's id, are sealed under the consent's own random
//! data key. Revocation, expiry (the retention limit the purpose sets) and a sweep destroy
//! that key — in memory (zeroized) and in its key file (rewritten without it) — in the same
//! call that records the event. Every copy of those templates, and every link from the audit
//! log to the person, is then ciphertext under a key that no longer exists.
//! [`Vault::compact`] then rewrites the journal without the templates (keeping their hashes,
//! so the audit chain still verifies): the tests scan every byte of every file for the
//! template, the data key and the wrapped key, in any of their forms, and the decrypted audit
//! export for the person's id, and find none.
//!
//! # What the audit log says, before and after a deletion
//!
//! The log is a complete record of processing: every grant (purpose, notice hash, expiry),
//! enrolment, identification (with the consent it matched), verification (with the consent it
//! was checked against), revocation, expiry, compaction and key rotation, with its time. While
//! a consent is active, [`read_audit`] names its person on every event about it
//! ([`AuditEntry::subject`]). Once it is revoked or expired the same entries remain and the
//! chain still verifies, but they name consent #n only: the person's id was sealed under the
//! destroyed key, so nobody — the vault key's holder included — can tell who passed the door
//! at those times. What remains is that *someone* consented to this purpose at this time,
//! was matched at these times, and withdrew. (The number of identifications per consent and
//! their times remain: a pattern, not a name. Whoever also kept their own list of who holds
//! which consent number can re-link it; keep such lists out of the device.)
//!
//! # Clocks
//!
//! Consent decisions use the clock the firmware gives ([`VaultConfig::clock`]), but never a
//! time earlier than the latest the vault has recorded: a clock that reads earlier (a camera
//! without an RTC battery boots in 1970, a clock set back on purpose) is ignored in favour of
//! that floor, and [`OpenReport::clock_behind_secs`] says by how much. An expired consent
//! therefore never revives, and entries are never stamped before earlier ones. What a clock
//! attack can still do: a clock held back *before* a consent's expiry is first seen keeps the
//! consent alive until the clock passes it (the device cannot know the time it never saw:
//! use a secure RTC or a trusted time source); a clock set *forward* ends consents early and
//! raises the floor for good (fail-safe for privacy, a denial of service for the operator).
//!
//! # Threat model
//!
//! * **A thief of the flash** (a stolen camera, a dumped chip) gets ciphertext: templates and
//!   people's ids under per-consent data keys, data keys and the journal key under the vault
//!   key, which never touches the flash in the clear. They learn the number and size of the
//!   files and so roughly how many consents and templates there are, and when changes
//!   happened (file times); not who, for what purpose, nor any template. Blocks of deleted
//!   files and old journal versions may linger on flash (wear levelling); they are ciphertext
//!   too.
//! * **A thief of the vault key alone** learns nothing without the flash.
//! * **A thief of both** reads everything currently in the vault — like the camera itself:
//!   active consents' people, templates and their passages. They cannot read the templates or
//!   ids of consents revoked or expired before the theft: those data keys are destroyed, and
//!   their wrapped copies survive only in stale flash blocks, still sealed under the vault
//!   key... which they hold. This is why [`Vault::rotate_key`] exists: after a rotation, and
//!   once the firmware destroys the old vault key, every stale copy (including a full copy of
//!   the files taken before a revocation) is sealed under a key that no longer exists. Rotate
//!   after revocations when the flash may hold old blocks.
//! * **Tampering** (editing, swapping, moving, truncating, replaying any one file) is
//!   detected. **Rollbacks** that the files can reveal are detected too: a key file older or
//!   newer than the head records, keys of consents that ended before the last change, more
//!   than one key nobody was granted. Replacing *all* files with a consistent older copy (a
//!   full rollback, e.g. to erase audit entries or to undo a revocation whose key survives in
//!   the old copy) cannot be detected from the files alone: with a [`MonotonicCounter`] (a
//!   secure element, eMMC RPMB, a TPM NV counter; [`VaultConfig::counter`]) it always is,
//!   except for the one last commit a power cut may legitimately lose. (A counter reading 0
//!   is taken for a new one and bound to the vault: a counter that can be reset to 0 protects
//!   nothing.) Without one, a rollback to any earlier state is possible for whoever can write
//!   the flash.
//! * **A hostile caller** of the API cannot enrol under someone else's consent without the
//!   consent's handle (ids are not credentials), cannot stretch a purpose's retention limit
//!   through the run-time API, and cannot make a panic leave a half-applied change in use
//!   (the vault refuses writes until reopened).
//! * Out of scope: an attacker running code on the device while the vault is open (it holds
//!   the keys, people's ids and templates in memory), and side channels.
//!
//! # Limits
//!
//! Opening reads the whole journal (about 2.1 KB per 512-d template) and decrypts every live
//! template into the galleries; see `BENCHMARKS.md` for the figures at 100,000. Each
//! identification appends one flushed audit entry, and rewrites the head (and raises the
//! monotonic counter, if one is configured).

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
