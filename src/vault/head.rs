//! The head file: the vault's identity and the anchor of its journal, sealed under the vault
//! key.
//!
//! ```text
//! frame "HEAD" { vault id (16) | vault-key fingerprint (8) | key epoch u32 |
//!                sealed(vault key, "head" bound to the vault id and epoch) {
//!                    journal key (32) | entries u64 | chain (32) | writes u64 |
//!                    bound to a counter u64 (0 or 1) | 64 × key-file generation u64 } }
//! ```
//!
//! It is replaced atomically after every commit, so it vouches for the journal (how many
//! entries it has and the chain value after the last) and for the key files (the generation
//! each bucket's file must have). `writes` counts the heads ever written: a vault with a
//! [`MonotonicCounter`](super::MonotonicCounter) raises the counter to it after each head
//! write, so that an older head (with the files it vouches for) is told from the newest. The journal key (random, made at
//! creation) seals the journal's events; the head wraps it under the vault key, which is all a
//! key rotation has to re-seal besides the data keys.

use zeroize::Zeroizing;

use super::seal::{self, Binding};
use super::{frame, VaultError, VaultKey, KEY_LEN};

/// The head's file name.
pub const FILE: &str = "HEAD";
const KIND: frame::Kind = frame::Kind(*b"HEAD");
const BUCKETS: usize = super::keys::BUCKETS as usize;
const PLAIN_LEN: usize = KEY_LEN + 8 + 32 + 8 + 8 + 8 * BUCKETS;
/// The length of the head file this version writes (712 bytes).
const LEN: usize = frame::OVERHEAD + 28 + seal::OVERHEAD + PLAIN_LEN;
/// The longest head file a vault reads or writes: 64 KiB. The head this version writes is a
/// few hundred bytes; the cap leaves room for fields later versions add, and is still no
/// allocation worth planting a file for.
pub const MAX_FILE_LEN: u64 = 64 * 1024;
const _: () = assert!(LEN as u64 <= MAX_FILE_LEN);

/// What the head says.
pub(crate) struct Head {
    pub vault: [u8; 16],
    /// How many times the vault key was rotated; names the current key files.
    pub epoch: u32,
    pub journal_key: VaultKey,
    /// Entries in the journal when the head was written.
    pub entries: u64,
    /// The journal's chain value after its last entry.
    pub chain: [u8; 32],
    /// How many heads were written before and including this one.
    pub writes: u64,
    /// Whether the vault is bound to a monotonic counter (then it opens only with it).
    pub counter_bound: bool,
    /// The generation each key file of this epoch has (0: never written).
    pub generations: [u64; BUCKETS],
}

fn binding(vault: &[u8; 16], epoch: u32) -> Binding<'_> {
    Binding {
        kind: "head",
        vault: Some(*vault),
        consent: Some(u64::from(epoch)),
        ..Binding::default()
    }
}

impl Head {
    /// The head file, sealed under `key` (whose fingerprint it records).
    pub fn encode(&self, key: &VaultKey) -> Result<Vec<u8>, VaultError> {
        let mut plain = Zeroizing::new(Vec::with_capacity(PLAIN_LEN));
        plain.extend_from_slice(self.journal_key.bytes());
        plain.extend_from_slice(&self.entries.to_le_bytes());
        plain.extend_from_slice(&self.chain);
        plain.extend_from_slice(&self.writes.to_le_bytes());
        plain.extend_from_slice(&u64::from(self.counter_bound).to_le_bytes());
        for g in &self.generations {
            plain.extend_from_slice(&g.to_le_bytes());
        }
        let sealed = seal::seal(key, &binding(&self.vault, self.epoch), &plain)?;
        let mut body = Vec::with_capacity(28 + sealed.len());
        body.extend_from_slice(&self.vault);
        body.extend_from_slice(&key.fingerprint());
        body.extend_from_slice(&self.epoch.to_le_bytes());
        body.extend_from_slice(&sealed);
        Ok(frame::encode(KIND, &body))
    }

    /// Reads a head file with `key`: [`VaultError::WrongKey`] if it was sealed under another
    /// key, [`VaultError::Tampered`] if it fails authentication.
    pub fn decode(bytes: &[u8], key: &VaultKey) -> Result<Head, VaultError> {
        let body = frame::decode(FILE, KIND, bytes)?;
        let malformed = || VaultError::Corrupt {
            file: FILE.to_string(),
        };
        if body.len() < 28 {
            return Err(malformed());
        }
        let vault: [u8; 16] = body[..16].try_into().map_err(|_| malformed())?;
        let fingerprint: [u8; 8] = body[16..24].try_into().map_err(|_| malformed())?;
        let epoch = u32::from_le_bytes(body[24..28].try_into().map_err(|_| malformed())?);
        if fingerprint != key.fingerprint() {
            return Err(VaultError::WrongKey);
        }
        let plain = seal::open(key, &binding(&vault, epoch), &body[28..]).map_err(|_| {
            VaultError::Tampered {
                what: FILE.to_string(),
            }
        })?;
        if plain.len() != PLAIN_LEN {
            return Err(VaultError::Malformed {
                what: FILE.to_string(),
                why: format!("{} bytes of content, expected {PLAIN_LEN}", plain.len()),
            });
        }
        let u64_at = |at: usize| u64::from_le_bytes(plain[at..at + 8].try_into().expect("8"));
        let mut generations = [0u64; BUCKETS];
        for (i, g) in generations.iter_mut().enumerate() {
            *g = u64_at(KEY_LEN + 56 + 8 * i);
        }
        Ok(Head {
            vault,
            epoch,
            journal_key: VaultKey::from_bytes(&plain[..KEY_LEN])?,
            entries: u64_at(KEY_LEN),
            chain: plain[KEY_LEN + 8..KEY_LEN + 40]
                .try_into()
                .expect("32 bytes"),
            writes: u64_at(KEY_LEN + 40),
            counter_bound: match u64_at(KEY_LEN + 48) {
                0 => false,
                1 => true,
                other => {
                    return Err(VaultError::Malformed {
                        what: FILE.to_string(),
                        why: format!("counter flag {other}"),
                    })
                }
            },
            generations,
        })
    }
}
