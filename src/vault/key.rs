use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::VaultError;

/// Length of a vault key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// A 256-bit secret key: the vault key every vault file is sealed under (directly, or through
/// per-subject data keys of the same type).
///
/// Wiped on drop, not `Clone`, never printed. The library never writes it to disk: it comes
/// from the caller each time the vault is opened, through a [`KeyProvider`].
pub struct VaultKey(Zeroizing<[u8; KEY_LEN]>);

impl VaultKey {
    /// A key from 32 bytes (the caller wipes its own copy).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VaultError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| VaultError::KeyLength {
            expected: KEY_LEN,
            got: bytes.len(),
        })?;
        Ok(VaultKey(Zeroizing::new(array)))
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Result<Self, VaultError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(key.as_mut()).map_err(|e| VaultError::Random(e.to_string()))?;
        Ok(VaultKey(key))
    }

    /// A public fingerprint of the key (first 8 bytes of a domain-separated SHA-256), stored in
    /// the vault so that a wrong key is told apart from a tampered file. From a 256-bit random
    /// key it reveals nothing usable.
    pub fn fingerprint(&self) -> [u8; 8] {
        let digest = Sha256::new()
            .chain_update(b"faceguard vault key fingerprint v1\0")
            .chain_update(self.0.as_ref())
            .finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        out
    }

    /// The raw key, to hand to a secure element or write to a key file the caller protects.
    /// The name is meant to stand out in code review: the library itself never stores it.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([redacted])")
    }
}

/// Where the vault key comes from: a secure element, a TPM, a file the firmware reads.
pub trait KeyProvider {
    /// The current vault key.
    fn vault_key(&self) -> Result<VaultKey, VaultError>;
}

impl<F> KeyProvider for F
where
    F: Fn() -> Result<VaultKey, VaultError>,
{
    fn vault_key(&self) -> Result<VaultKey, VaultError> {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(matches!(
            VaultKey::from_bytes(&[0; 16]),
            Err(VaultError::KeyLength {
                expected: 32,
                got: 16
            })
        ));
        assert!(VaultKey::from_bytes(&[7; 32]).is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = VaultKey::from_bytes(&[0xAB; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("ab"),
            "{shown}"
        );
    }

    #[test]
    fn fingerprints_differ_between_keys_and_are_stable() {
        let a = VaultKey::from_bytes(&[1; 32]).unwrap();
        let b = VaultKey::from_bytes(&[2; 32]).unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(
            a.fingerprint(),
            VaultKey::from_bytes(&[1; 32]).unwrap().fingerprint()
        );
        assert_ne!(VaultKey::generate().unwrap().fingerprint(), a.fingerprint());
    }

    #[test]
    fn a_closure_is_a_key_provider() {
        let provider = || VaultKey::from_bytes(&[3; 32]);
        assert_eq!(
            provider.vault_key().unwrap().fingerprint(),
            VaultKey::from_bytes(&[3; 32]).unwrap().fingerprint()
        );
    }
}
