//! AES-256-GCM records bound to where they belong.
//!
//! A sealed record is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`. The nonce is fresh
//! from the operating system's generator for every record (2⁻³² collision odds only after
//! some 2³² records under one key, far beyond a camera's life). The associated data is the
//! canonical encoding of a [`Binding`]: a record opens only under the exact binding it was
//! sealed with, so a template record copied to another subject, purpose, consent, model or
//! file kind is rejected as [`VaultError::Tampered`].

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::{VaultError, VaultKey};

/// Format version of sealed records; part of every binding.
pub const SEAL_VERSION: u16 = 1;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Bytes a sealed record adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// What a record is and whom it belongs to: authenticated with the record, not stored in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Binding<'a> {
    /// The kind of record (`"template"`, `"data-key"`, ...).
    pub kind: &'a str,
    /// The vault it belongs to (its random id), so that records do not move between vaults
    /// sealed under one key.
    pub vault: Option<[u8; 16]>,
    /// The subject it belongs to.
    pub subject: Option<&'a str>,
    /// The purpose it serves.
    pub purpose: Option<&'a str>,
    /// The consent it was made under.
    pub consent: Option<u64>,
    /// The model that made it (templates).
    pub model: Option<[u8; 8]>,
    /// A digest of data stored beside the record (a journal event binds its payload's hash).
    pub digest: Option<[u8; 32]>,
}

impl Binding<'_> {
    /// Unambiguous encoding: a domain tag and version, then each field as presence byte,
    /// 32-bit length and bytes.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(b"faceguard vault record\0");
        out.extend_from_slice(&SEAL_VERSION.to_le_bytes());
        let consent = self.consent.map(u64::to_le_bytes);
        let fields: [Option<&[u8]>; 7] = [
            Some(self.kind.as_bytes()),
            self.vault.as_ref().map(|v| &v[..]),
            self.subject.map(str::as_bytes),
            self.purpose.map(str::as_bytes),
            consent.as_ref().map(|c| &c[..]),
            self.model.as_ref().map(|m| &m[..]),
            self.digest.as_ref().map(|d| &d[..]),
        ];
        for field in fields {
            match field {
                None => out.push(0),
                Some(bytes) => {
                    out.push(1);
                    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                    out.extend_from_slice(bytes);
                }
            }
        }
        out
    }
}

fn cipher(key: &VaultKey) -> Aes256Gcm {
    Aes256Gcm::new(key.bytes().into())
}

/// Seals `plaintext` under `key`, bound to `binding`.
pub fn seal(
    key: &VaultKey,
    binding: &Binding<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| VaultError::Random(e.to_string()))?;
    let aad = binding.encode();
    let ciphertext = cipher(key)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| VaultError::Tampered {
            what: format!("{} record (while sealing)", binding.kind),
        })?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Opens a record sealed by [`seal`] under the same key and binding; the plaintext is wiped
/// on drop.
pub fn open(
    key: &VaultKey,
    binding: &Binding<'_>,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let tampered = || VaultError::Tampered {
        what: format!("{} record", binding.kind),
    };
    if sealed.len() < OVERHEAD {
        return Err(tampered());
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| tampered())?;
    let aad = binding.encode();
    cipher(key)
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| tampered())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> VaultKey {
        VaultKey::from_bytes(&[byte; 32]).unwrap()
    }

    fn template_binding<'a>(subject: &'a str, purpose: &'a str) -> Binding<'a> {
        Binding {
            kind: "template",
            vault: Some([9; 16]),
            subject: Some(subject),
            purpose: Some(purpose),
            consent: Some(7),
            model: Some([1, 2, 3, 4, 5, 6, 7, 8]),
            digest: None,
        }
    }

    #[test]
    fn a_record_opens_under_its_own_key_and_binding() {
        let b = template_binding("badge-17", "door-access");
        let sealed = seal(&key(9), &b, b"secret template").unwrap();
        assert_eq!(sealed.len(), 15 + OVERHEAD);
        assert_eq!(&open(&key(9), &b, &sealed).unwrap()[..], b"secret template");
        assert!(
            !sealed.windows(6).any(|w| w == b"secret"),
            "plaintext visible"
        );
    }

    #[test]
    fn nonces_are_fresh_for_every_record() {
        let b = template_binding("a", "p");
        let (x, y) = (
            seal(&key(9), &b, b"same").unwrap(),
            seal(&key(9), &b, b"same").unwrap(),
        );
        assert_ne!(x[..NONCE_LEN], y[..NONCE_LEN]);
        assert_ne!(x, y);
    }

    #[test]
    fn a_record_moved_to_another_vault_subject_purpose_consent_model_or_kind_is_rejected() {
        let b = template_binding("badge-17", "door-access");
        let sealed = seal(&key(9), &b, b"template").unwrap();
        let moved = [
            template_binding("badge-18", "door-access"),
            template_binding("badge-17", "attendance"),
            Binding {
                consent: Some(8),
                ..b
            },
            Binding {
                model: Some([0; 8]),
                ..b
            },
            Binding {
                kind: "subject-key",
                ..b
            },
            Binding { subject: None, ..b },
            Binding {
                vault: Some([8; 16]),
                ..b
            },
            Binding {
                digest: Some([1; 32]),
                ..b
            },
        ];
        for other in moved {
            assert!(
                matches!(
                    open(&key(9), &other, &sealed),
                    Err(VaultError::Tampered { .. })
                ),
                "{other:?}"
            );
        }
    }

    #[test]
    fn every_bit_flip_and_truncation_is_rejected() {
        let b = template_binding("s", "p");
        let sealed = seal(&key(9), &b, b"0123456789").unwrap();
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(open(&key(9), &b, &bad).is_err(), "bit {bit}");
        }
        for len in 0..sealed.len() {
            assert!(open(&key(9), &b, &sealed[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn another_key_cannot_open_a_record() {
        let b = template_binding("s", "p");
        let sealed = seal(&key(9), &b, b"x").unwrap();
        assert!(matches!(
            open(&key(8), &b, &sealed),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        // "ab" + "c" must not encode like "a" + "bc".
        let x = Binding {
            kind: "t",
            subject: Some("ab"),
            purpose: Some("c"),
            ..Default::default()
        };
        let y = Binding {
            kind: "t",
            subject: Some("a"),
            purpose: Some("bc"),
            ..Default::default()
        };
        assert_ne!(x.encode(), y.encode());
        let none = Binding {
            kind: "t",
            ..Default::default()
        };
        let empty = Binding {
            kind: "t",
            subject: Some(""),
            ..Default::default()
        };
        assert_ne!(none.encode(), empty.encode());
    }
}
