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
//! enrolment and revocation (with the consent's number), expiry, compaction and key rotation,
//! and every identification and verification with its time and outcome. Identifications and
//! verifications do not carry the consent's number (which the firmware knows: the C API hands
//! it out to revoke with): they carry the consent's *usage pseudonym*, a random name sealed,
//! with the person's id, under the consent's data key. While a consent is active,
//! [`read_audit`] names its person on every event about it ([`AuditEntry::subject`]). Once it
//! is revoked or expired the same entries remain and the chain still verifies, but nobody —
//! the vault key's holder included — can tell who the person was, which consent the passages
//! belonged to, or link them to anything the firmware kept: the key that held those links is
//! destroyed. What remains is that someone consented to this purpose at this time and
//! withdrew at that time, and that the door was passed at these times by one same (unknown)
//! person: the passages still share their pseudonym. Notices are recorded by hash: keep names
//! out of notice texts.
//!
//! # Clocks
//!
//! Consent decisions use the clock the firmware gives ([`VaultConfig::clock`]), checked
//! against the latest time the vault has recorded. While the clock reads earlier (a camera
//! without an RTC battery boots in 1970, a clock set back on purpose), the real time is
//! unknown, so nothing is decided on consent: grants, enrolments, identifications,
//! verifications and handles are refused with
//! [`ConsentError::ClockBehind`](crate::ConsentError::ClockBehind) until the clock is set
//! right, and [`OpenReport::clock_behind_secs`] says how far behind it was. Revocation still
//! works, and everything recorded meanwhile is stamped no earlier than earlier entries. A
//! consent that expired while the camera was off, unseen, therefore does not pass for active
//! on a clock that went back. What a clock attack can still do: a clock held *exactly* at or
//! after the last recorded time but before a consent's expiry keeps that consent alive until
//! the clock passes it (use a secure RTC or a trusted time source); a clock set *forward* ends
//! consents early and raises the floor for good (fail-safe for privacy, a denial of service
//! for the operator).
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
//!   newer than the head records (beyond the one change a power cut may leave half done),
//!   keys of consents that ended before the last change, more than one key nobody was
//!   granted. What the files alone cannot reveal: replacing the head and journal (or all
//!   files) with an older consistent copy taken since the last key-file change, or just
//!   before the last grant or just after the last revocation or expiry — those look exactly
//!   like a power cut's leftovers, and erase the audit entries since. With a
//!   [`MonotonicCounter`] (a secure element, eMMC RPMB, a TPM NV counter;
//!   [`VaultConfig::counter`]) every such rollback is detected, except for the one last commit
//!   a power cut may legitimately lose. A vault bound to a counter opens only with it
//!   ([`VaultError::CounterRequired`]), and with no other: a blank counter (at 0) is taken
//!   for a new one only by a vault that was never bound. Without a counter, a rollback to any
//!   earlier state is possible for whoever can write the flash.
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
mod capture;
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
pub use event::{AuditEntry, Event, Stage};
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
