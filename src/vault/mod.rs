//! The vault: faceguard's encrypted, crash-safe storage on the device (issue 4, in progress).
//!
//! This first part holds the building blocks every vault file is made of:
//!
//! * [`VaultKey`] and [`KeyProvider`]: the 32-byte key comes from the caller (a secure
//!   element, a TPM, a key file); the library never writes it anywhere.
//! * [`seal`](seal::seal) / [`open`](seal::open): AES-256-GCM with a fresh random 96-bit nonce
//!   per record and associated data ([`Binding`]) naming the file kind, format version,
//!   subject, purpose, consent and model a record belongs to, so that a record moved to another
//!   subject, purpose or file fails to open.
//! * [`frame`]: the on-disk envelope of a file (magic, version, kind, length, SHA-256), whose
//!   parser tells a truncated, foreign, future or corrupted file apart and never panics.
//! * [`atomic`]: replacing a file so that a power cut at any instant leaves either the old or
//!   the new file: write a temporary file, fsync it, rename it over the old one, fsync the
//!   directory.

pub mod atomic;
mod audit;
mod core;
mod error;
mod event;
pub mod frame;
mod head;
pub mod journal;
mod key;
mod keys;
mod maintain;
mod recover;
pub mod seal;
pub mod storage;

pub use self::core::{OpenReport, Vault};
pub use audit::{read_audit, AuditLog};
pub use error::VaultError;
pub use event::{AuditEntry, Event};
pub use key::{KeyProvider, VaultKey, KEY_LEN};
pub use seal::Binding;
pub use storage::{DirStorage, Storage};

#[cfg(test)]
mod tests;
