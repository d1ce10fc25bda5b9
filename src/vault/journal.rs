//! The journal: the vault's append-only, hash-chained log of every change and audit event.
//!
//! ```text
//! header: magic "FGVAULT\0" | version u16 | kind "JRNL" | reserved u16 = 0 | vault id (16)
//!         | SHA-256 of the 32 bytes before
//! entry:  length u32 (of the rest of the entry) | seq u64 | payload state u8
//!         | meta length u32 | meta | payload hash (32) | [payload length u32 | payload]
//!         | chain (32)
//! ```
//!
//! * `meta` is the event (JSON), sealed under the journal key with the entry's `seq` in the
//!   associated data, so that an entry cannot be moved or replayed elsewhere in the journal.
//! * The payload is a template sealed under its consent's data key. Its SHA-256 is kept
//!   beside it; compaction drops the payload of an erased template and keeps only the hash
//!   (payload state 2), so that the chain still verifies.
//! * `chain` = SHA-256(previous chain ‖ seq ‖ SHA-256(meta) ‖ payload hash), starting from a
//!   hash of the vault id. Each entry commits to every entry before it: an entry edited,
//!   removed or reordered breaks every chain value after it. The head file (sealed under the
//!   vault key) records the number of entries and the last chain value, so that cutting
//!   entries off the end is detected too.
//!
//! Appending an entry and flushing it is one commit. A power cut mid-append leaves a torn
//! last entry, which [`scan`] reports and the vault cuts off on open.

use sha2::{Digest, Sha256};

use super::{frame, VaultError};

/// The journal's file name.
pub const FILE: &str = "journal";
/// Journal format version.
pub const VERSION: u16 = 2;
/// Header length in bytes.
pub const HEADER_LEN: usize = 64;
/// Largest sealed meta accepted.
pub const MAX_META: usize = 64 * 1024;
/// Largest payload accepted (a sealed template of 16,384 dimensions is 64 KiB).
pub const MAX_PAYLOAD: usize = 1 << 20;

const KIND: [u8; 4] = *b"JRNL";
const FIXED: usize = 8 + 1 + 4 + 32 + 32;

/// Whether an entry carries its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadState {
    /// No payload (most events).
    None,
    /// The payload is here.
    Present,
    /// The payload was dropped by compaction; only its hash remains.
    Dropped,
}

impl PayloadState {
    fn byte(self) -> u8 {
        match self {
            PayloadState::None => 0,
            PayloadState::Present => 1,
            PayloadState::Dropped => 2,
        }
    }
}

/// One entry as stored.
#[derive(Debug, Clone)]
pub struct RawEntry<'a> {
    pub seq: u64,
    pub state: PayloadState,
    /// The sealed event.
    pub meta: &'a [u8],
    pub payload_hash: [u8; 32],
    /// The sealed payload, when [`PayloadState::Present`].
    pub payload: Option<&'a [u8]>,
    /// The chain value after this entry.
    pub chain: [u8; 32],
    /// Where the entry starts in the file.
    pub offset: u64,
}

/// The chain value before the first entry.
pub fn genesis(vault: &[u8; 16]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"faceguard journal chain v1\0")
        .chain_update(vault)
        .finalize()
        .into()
}

/// The chain value after an entry.
pub fn chain(prev: &[u8; 32], seq: u64, meta: &[u8], payload_hash: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(prev)
        .chain_update(seq.to_le_bytes())
        .chain_update(Sha256::digest(meta))
        .chain_update(payload_hash)
        .finalize()
        .into()
}

/// SHA-256 of a payload (of the empty string when there is none).
pub fn payload_hash(payload: Option<&[u8]>) -> [u8; 32] {
    Sha256::digest(payload.unwrap_or_default()).into()
}

/// The header of a new journal of vault `vault`.
pub fn header(vault: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(&frame::MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&KIND);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(vault);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// Encodes one entry. `payload` is the sealed payload, or (when `state` is `Dropped`) only
/// its recorded hash is used.
pub fn encode(
    seq: u64,
    meta: &[u8],
    state: PayloadState,
    payload_hash: &[u8; 32],
    payload: Option<&[u8]>,
    chain: &[u8; 32],
) -> Vec<u8> {
    let payload = payload.filter(|_| state == PayloadState::Present);
    let len = FIXED + meta.len() + payload.map_or(0, |p| 4 + p.len());
    let mut out = Vec::with_capacity(4 + len);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(state.byte());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(meta);
    out.extend_from_slice(payload_hash);
    if let Some(p) = payload {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out.extend_from_slice(chain);
    out
}

/// What [`scan`] found.
#[derive(Debug)]
pub struct Scan<'a> {
    /// The intact entries, in order, borrowing the journal's bytes.
    pub entries: Vec<RawEntry<'a>>,
    /// Where the intact entries end.
    pub end: u64,
    /// Why reading stopped before the end of the file, if it did: a torn last write, or
    /// damage (which one it is depends on whether the head vouches for the entry).
    pub stopped: Option<String>,
}

/// Checks the header of `bytes` and that it belongs to `vault`.
pub fn check_header(bytes: &[u8], vault: &[u8; 16]) -> Result<(), VaultError> {
    let file = || FILE.to_string();
    let prefix = bytes.len().min(frame::MAGIC.len());
    if bytes[..prefix] != frame::MAGIC[..prefix] {
        return Err(VaultError::NotAVaultFile { file: file() });
    }
    if bytes.len() < HEADER_LEN {
        return Err(VaultError::Truncated {
            file: file(),
            needed: HEADER_LEN as u64,
            got: bytes.len() as u64,
        });
    }
    if Sha256::digest(&bytes[..32])[..] != bytes[32..HEADER_LEN] {
        return Err(VaultError::Corrupt { file: file() });
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(VaultError::UnsupportedVersion {
            file: file(),
            found: version,
            supported: VERSION,
        });
    }
    if bytes[10..14] != KIND {
        return Err(VaultError::WrongKind {
            file: file(),
            expected: "the journal",
            found: String::from_utf8_lossy(&bytes[10..14]).into_owned(),
        });
    }
    if bytes[14..16] != [0, 0] {
        return Err(VaultError::Corrupt { file: file() });
    }
    if bytes[16..32] != vault[..] {
        return Err(VaultError::RolledBack {
            file: file(),
            why: "it belongs to another vault".into(),
        });
    }
    Ok(())
}

/// Reads the entries of a journal whose header was checked, verifying each entry's structure,
/// sequence number, payload hash and chain value. Never panics, whatever `bytes` holds.
pub fn scan<'a>(bytes: &'a [u8], vault: &[u8; 16]) -> Scan<'a> {
    let mut entries = Vec::new();
    let mut prev = genesis(vault);
    let mut pos = HEADER_LEN.min(bytes.len());
    let stopped = loop {
        if pos == bytes.len() {
            break None;
        }
        match parse_entry(&bytes[pos..], entries.len() as u64, &prev) {
            Ok((mut entry, used)) => {
                entry.offset = pos as u64;
                prev = entry.chain;
                entries.push(entry);
                pos += used;
            }
            Err(why) => break Some(format!("entry {} at byte {pos}: {why}", entries.len())),
        }
    };
    Scan {
        entries,
        end: pos as u64,
        stopped,
    }
}

/// Little-endian reader over a byte slice that reports what is missing.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("it ends early");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn array32(&mut self) -> Result<[u8; 32], &'static str> {
        Ok(self.take(32)?.try_into().expect("32 bytes"))
    }
}

fn parse_entry<'a>(
    bytes: &'a [u8],
    expected_seq: u64,
    prev: &[u8; 32],
) -> Result<(RawEntry<'a>, usize), &'static str> {
    let mut outer = Reader(bytes);
    let len = outer.u32()? as usize;
    if !(FIXED..=FIXED + MAX_META + 4 + MAX_PAYLOAD).contains(&len) {
        return Err("its length is impossible");
    }
    let mut r = Reader(outer.take(len)?);
    let seq = r.u64()?;
    let state = match r.take(1)?[0] {
        0 => PayloadState::None,
        1 => PayloadState::Present,
        2 => PayloadState::Dropped,
        _ => return Err("its payload state is unknown"),
    };
    let meta_len = r.u32()? as usize;
    if meta_len > MAX_META {
        return Err("its event is too long");
    }
    let meta = r.take(meta_len)?;
    let payload_hash = r.array32()?;
    let payload = match state {
        PayloadState::Present => {
            let n = r.u32()? as usize;
            if n > MAX_PAYLOAD {
                return Err("its payload is too long");
            }
            let payload = r.take(n)?;
            if Sha256::digest(payload)[..] != payload_hash {
                return Err("its payload does not match its hash");
            }
            Some(payload)
        }
        PayloadState::None if payload_hash != self::payload_hash(None) => {
            return Err("it has no payload but a payload hash");
        }
        PayloadState::Dropped if payload_hash == self::payload_hash(None) => {
            return Err("its dropped payload has the hash of no payload");
        }
        _ => None,
    };
    let stored = r.array32()?;
    if !r.0.is_empty() {
        return Err("its length does not match its fields");
    }
    if seq != expected_seq {
        return Err("its sequence number is out of order");
    }
    if chain(prev, seq, meta, &payload_hash) != stored {
        return Err("its chain value does not follow from the entries before it");
    }
    Ok((
        RawEntry {
            seq,
            state,
            meta,
            payload_hash,
            payload,
            chain: stored,
            offset: 0,
        },
        4 + len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT: [u8; 16] = [7; 16];

    fn journal(n: u64) -> (Vec<u8>, [u8; 32]) {
        let mut bytes = header(&VAULT);
        let mut prev = genesis(&VAULT);
        for seq in 0..n {
            let meta = format!("event {seq}").into_bytes();
            let payload = (seq % 2 == 1).then(|| vec![seq as u8; 40]);
            let (state, hash) = match &payload {
                Some(p) => (PayloadState::Present, payload_hash(Some(p))),
                None => (PayloadState::None, payload_hash(None)),
            };
            prev = chain(&prev, seq, &meta, &hash);
            bytes.extend(encode(seq, &meta, state, &hash, payload.as_deref(), &prev));
        }
        (bytes, prev)
    }

    #[test]
    fn a_written_journal_reads_back_entry_by_entry() {
        let (bytes, last) = journal(5);
        check_header(&bytes, &VAULT).unwrap();
        let scan = scan(&bytes, &VAULT);
        assert_eq!(scan.stopped, None);
        assert_eq!(scan.entries.len(), 5);
        assert_eq!(scan.end, bytes.len() as u64);
        assert_eq!(scan.entries[4].chain, last);
        assert_eq!(scan.entries[3].payload, Some(&[3u8; 40][..]));
    }

    #[test]
    fn every_bit_flip_in_an_entry_stops_the_scan_there() {
        let (bytes, _) = journal(3);
        let first_entry_end = scan(&bytes, &VAULT).entries[1].offset as usize;
        for byte in HEADER_LEN..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[byte] ^= 1 << bit;
                let s = scan(&bad, &VAULT);
                assert!(s.stopped.is_some(), "flip at {byte}.{bit} went unnoticed");
                if byte < first_entry_end {
                    assert!(s.entries.is_empty());
                }
            }
        }
    }

    #[test]
    fn every_truncation_ends_at_the_last_whole_entry() {
        let (bytes, _) = journal(4);
        let full = scan(&bytes, &VAULT);
        for len in HEADER_LEN..bytes.len() {
            let s = scan(&bytes[..len], &VAULT);
            let whole = full
                .entries
                .iter()
                .filter(|e| e.offset < len as u64)
                .count();
            let at_boundary = full.entries.iter().any(|e| e.offset == len as u64);
            let expected = if at_boundary { whole } else { whole - 1 };
            assert_eq!(s.entries.len(), expected, "cut at {len}");
            assert_eq!(s.stopped.is_some(), !at_boundary, "cut at {len}");
        }
    }

    #[test]
    fn headers_of_other_files_and_vaults_are_refused() {
        let (bytes, _) = journal(1);
        assert!(matches!(
            check_header(&bytes, &[8; 16]),
            Err(VaultError::RolledBack { .. })
        ));
        assert!(matches!(
            check_header(b"PNG....", &VAULT),
            Err(VaultError::NotAVaultFile { .. })
        ));
        assert!(matches!(
            check_header(&bytes[..40], &VAULT),
            Err(VaultError::Truncated { .. })
        ));
        for byte in 0..HEADER_LEN {
            let mut bad = bytes.clone();
            bad[byte] ^= 0x10;
            assert!(
                check_header(&bad, &VAULT).is_err(),
                "flip in header byte {byte}"
            );
        }
    }
}
