//! The envelope of every vault file:
//!
//! ```text
//! magic "FGVAULT\0" (8) | version u16 | kind (4 ASCII bytes) | reserved u16 = 0 |
//! body length u64 | body | SHA-256 of everything before it (32)
//! ```
//!
//! Integers are little-endian. The checksum is verified before the version and kind are
//! believed, so a flipped bit anywhere is reported as corruption, a short file as truncation,
//! and only an intact file of a newer format as [`VaultError::UnsupportedVersion`]. The
//! checksum detects accidents (torn writes, worn flash); tampering is caught by the
//! authenticated encryption of the records inside.

use sha2::{Digest, Sha256};

use super::VaultError;

/// The first bytes of every vault file.
pub const MAGIC: [u8; 8] = *b"FGVAULT\0";
/// The frame format this version writes and reads.
pub const FRAME_VERSION: u16 = 2;

const HEADER_LEN: usize = 8 + 2 + 4 + 2 + 8;
const CHECKSUM_LEN: usize = 32;
/// The bytes a frame adds to its body (header and checksum).
pub const OVERHEAD: usize = HEADER_LEN + CHECKSUM_LEN;

/// A file kind: four ASCII bytes in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(pub [u8; 4]);

impl Kind {
    fn name(self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// Frames `body` as a file of `kind`.
pub fn encode(kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CHECKSUM_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FRAME_VERSION.to_le_bytes());
    out.extend_from_slice(&kind.0);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// The body of `bytes`, a file named `file` that must be of `kind`.
pub fn decode<'a>(file: &str, kind: Kind, bytes: &'a [u8]) -> Result<&'a [u8], VaultError> {
    let file_name = || file.to_string();
    let prefix = bytes.len().min(MAGIC.len());
    if bytes[..prefix] != MAGIC[..prefix] {
        return Err(VaultError::NotAVaultFile { file: file_name() });
    }
    let truncated = |needed: u64| VaultError::Truncated {
        file: file_name(),
        needed,
        got: bytes.len() as u64,
    };
    if bytes.len() < HEADER_LEN {
        return Err(truncated((HEADER_LEN + CHECKSUM_LEN) as u64));
    }
    let body_len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let needed = body_len
        .checked_add((HEADER_LEN + CHECKSUM_LEN) as u64)
        .ok_or_else(|| VaultError::Corrupt { file: file_name() })?;
    if (bytes.len() as u64) < needed {
        return Err(truncated(needed));
    }
    if bytes.len() as u64 != needed {
        return Err(VaultError::Corrupt { file: file_name() });
    }
    let (content, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if Sha256::digest(content)[..] != *sum {
        return Err(VaultError::Corrupt { file: file_name() });
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FRAME_VERSION {
        return Err(VaultError::UnsupportedVersion {
            file: file_name(),
            found: version,
            supported: FRAME_VERSION,
        });
    }
    let found = Kind(bytes[10..14].try_into().expect("4 bytes"));
    if found != kind {
        return Err(VaultError::WrongKind {
            file: file_name(),
            expected: kind_label(kind),
            found: found.name(),
        });
    }
    if bytes[14..16] != [0, 0] {
        return Err(VaultError::Corrupt { file: file_name() });
    }
    Ok(&content[HEADER_LEN..])
}

fn kind_label(kind: Kind) -> &'static str {
    match &kind.0 {
        b"KEYS" => "a key file",
        b"HEAD" => "the head file",
        b"JRNL" => "the journal",
        _ => "another kind of vault file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: Kind = Kind(*b"KEYS");
    const TMPL: Kind = Kind(*b"TMPL");

    #[test]
    fn a_framed_body_comes_back_intact() {
        let file = encode(KEYS, b"wrapped keys");
        assert_eq!(decode("keys", KEYS, &file).unwrap(), b"wrapped keys");
        assert_eq!(decode("keys", KEYS, &encode(KEYS, b"")).unwrap(), b"");
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let file = encode(KEYS, b"some body bytes");
        for bit in 0..file.len() * 8 {
            let mut bad = file.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                decode("keys", KEYS, &bad).is_err(),
                "bit {bit} went unnoticed"
            );
        }
    }

    #[test]
    fn every_truncation_is_reported_as_such() {
        let file = encode(KEYS, b"some body bytes");
        for len in 0..file.len() {
            match decode("keys", KEYS, &file[..len]) {
                Err(VaultError::Truncated { .. }) => {}
                other => panic!("length {len}: {other:?}"),
            }
        }
    }

    #[test]
    fn foreign_future_and_misplaced_files_get_their_own_errors() {
        assert!(matches!(
            decode("x", KEYS, b"{\"json\": true}"),
            Err(VaultError::NotAVaultFile { .. })
        ));
        assert!(matches!(
            decode("x", KEYS, &encode(TMPL, b"t")),
            Err(VaultError::WrongKind { .. })
        ));
        // An intact file of a newer format.
        let mut future = encode(KEYS, b"k");
        future[8] = 3;
        let n = future.len() - CHECKSUM_LEN;
        let sum = Sha256::digest(&future[..n]);
        future[n..].copy_from_slice(&sum);
        assert!(matches!(
            decode("x", KEYS, &future),
            Err(VaultError::UnsupportedVersion { found: 3, .. })
        ));
        // Trailing bytes after the checksum.
        let mut longer = encode(KEYS, b"k");
        longer.push(0);
        assert!(matches!(
            decode("x", KEYS, &longer),
            Err(VaultError::Corrupt { .. })
        ));
    }

    #[test]
    fn absurd_lengths_do_not_panic() {
        let mut file = encode(KEYS, b"k");
        file[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode("x", KEYS, &file).is_err());
    }
}
