//! Key files: each consent's data key, wrapped (sealed) under the vault key.
//!
//! ```text
//! frame "KEYS" { vault id (16) | epoch u32 | generation u64 | count u32 |
//!                count × { consent id u64 | sealed(vault key, "data-key" bound to the vault,
//!                                                  purpose and consent) (60) } }
//! ```
//!
//! The keys are spread over [`BUCKETS`] files by consent id (`keys.<epoch>.<bucket>`), so
//! that destroying one key rewrites one small file, atomically, not all of them. A bucket's
//! file is never deleted (an empty bucket is a file with no keys), and each rewrite raises its
//! generation by one; the head records every bucket's generation, so a key file replaced by
//! an older copy, or a head and journal replaced by older copies while the key files moved
//! on by more than the one change a power cut can leave half done, is found on open
//! ([`VaultError::RolledBack`]). See the threat model in the vault's docs for what only a
//! monotonic counter detects. A template is
//! sealed under its consent's data key; destroying the key (revocation, expiry) makes every
//! copy of the template undecryptable, wherever its bytes linger. A key rotation writes every
//! bucket of the next epoch under the new vault key before the head switches to it.

use std::collections::BTreeMap;

use super::seal::{self, Binding};
use super::{frame, VaultError, VaultKey, KEY_LEN};

/// Number of key files.
pub const BUCKETS: u64 = 64;
const KIND: frame::Kind = frame::Kind(*b"KEYS");
/// Length of one wrapped key.
pub const WRAPPED_LEN: usize = KEY_LEN + seal::OVERHEAD;
/// The most wrapped keys one key file holds: 65,536, so that a vault holds the keys of up to
/// [`BUCKETS`] × 65,536 = 4,194,304 live consents (consent ids are spread evenly over the
/// buckets). A grant beyond that is refused with [`VaultError::TooLarge`] when its key file is
/// written.
pub const MAX_KEYS_PER_FILE: usize = 1 << 16;
/// The longest key file a vault reads or writes: [`MAX_KEYS_PER_FILE`] records, framed
/// (4,456,536 bytes).
pub const MAX_FILE_LEN: u64 =
    (frame::OVERHEAD + FIXED + MAX_KEYS_PER_FILE * (8 + WRAPPED_LEN)) as u64;

/// The file holding the key of `consent` at `epoch`.
pub fn file_name(epoch: u32, consent: u64) -> String {
    format!("keys.{epoch}.{:02x}", consent % BUCKETS)
}

/// The epoch of a key file's name, if `name` is one, written exactly as [`file_name`] writes
/// it (so that no other spelling, `keys.00.05` or `keys.+0.05`, can shadow a real key file).
pub fn epoch_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("keys.")?;
    let (epoch, bucket) = rest.split_once('.')?;
    let epoch: u32 = epoch.parse().ok()?;
    let bucket = u64::from_str_radix(bucket, 16).ok()?;
    (bucket < BUCKETS && file_name(epoch, bucket) == name).then_some(epoch)
}

/// The bucket (0..[`BUCKETS`]) of a key file's name, if `name` is one.
pub fn bucket_of(name: &str) -> Option<u64> {
    epoch_of(name)?;
    u64::from_str_radix(name.rsplit_once('.')?.1, 16).ok()
}

/// What a data key is bound to. (Not the subject: who consented is sealed under the data key
/// itself, so that destroying the key erases it.)
pub fn binding<'a>(vault: &[u8; 16], consent: u64, purpose: &'a str) -> Binding<'a> {
    Binding {
        kind: "data-key",
        vault: Some(*vault),
        subject: None,
        purpose: Some(purpose),
        consent: Some(consent),
        model: None,
        digest: None,
    }
}

/// Wraps `data_key` for `consent` under `key`.
pub fn wrap(
    key: &VaultKey,
    binding: &Binding<'_>,
    data_key: &VaultKey,
) -> Result<Vec<u8>, VaultError> {
    seal::seal(key, binding, data_key.bytes())
}

/// Unwraps a data key.
pub fn unwrap(
    key: &VaultKey,
    binding: &Binding<'_>,
    wrapped: &[u8],
) -> Result<VaultKey, VaultError> {
    let plain = seal::open(key, binding, wrapped)?;
    VaultKey::from_bytes(&plain)
}

/// Bytes of a key file's body before its records.
const FIXED: usize = 16 + 4 + 8 + 4;

/// What a key file holds.
#[derive(Debug, Default)]
pub struct KeyFile {
    /// How many times this bucket was written in this epoch.
    pub generation: u64,
    /// Wrapped keys by consent id.
    pub keys: BTreeMap<u64, Vec<u8>>,
}

/// One key file: wrapped keys by consent id, at `generation`.
pub fn encode(
    vault: &[u8; 16],
    epoch: u32,
    generation: u64,
    keys: &BTreeMap<u64, Vec<u8>>,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(FIXED + keys.len() * (8 + WRAPPED_LEN));
    body.extend_from_slice(vault);
    body.extend_from_slice(&epoch.to_le_bytes());
    body.extend_from_slice(&generation.to_le_bytes());
    body.extend_from_slice(&(keys.len() as u32).to_le_bytes());
    for (consent, wrapped) in keys {
        body.extend_from_slice(&consent.to_le_bytes());
        body.extend_from_slice(wrapped);
    }
    frame::encode(KIND, &body)
}

/// Reads key file `name`, which must belong to `vault` and `epoch`.
pub fn decode(
    name: &str,
    bytes: &[u8],
    vault: &[u8; 16],
    epoch: u32,
) -> Result<KeyFile, VaultError> {
    let body = frame::decode(name, KIND, bytes)?;
    let corrupt = || VaultError::Corrupt {
        file: name.to_string(),
    };
    if body.len() < FIXED {
        return Err(corrupt());
    }
    if body[..16] != vault[..] {
        return Err(VaultError::RolledBack {
            file: name.to_string(),
            why: "it belongs to another vault".into(),
        });
    }
    if u32::from_le_bytes(body[16..20].try_into().expect("4")) != epoch {
        return Err(VaultError::RolledBack {
            file: name.to_string(),
            why: format!("it is not of key epoch {epoch}"),
        });
    }
    let generation = u64::from_le_bytes(body[20..28].try_into().expect("8"));
    let count = u32::from_le_bytes(body[28..FIXED].try_into().expect("4")) as usize;
    let records = &body[FIXED..];
    if records.len() != count.saturating_mul(8 + WRAPPED_LEN) {
        return Err(corrupt());
    }
    let mut keys = BTreeMap::new();
    for record in records.chunks_exact(8 + WRAPPED_LEN) {
        let consent = u64::from_le_bytes(record[..8].try_into().expect("8"));
        if keys.insert(consent, record[8..].to_vec()).is_some() {
            return Err(corrupt());
        }
    }
    Ok(KeyFile { generation, keys })
}
