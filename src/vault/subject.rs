//! Who is behind a consent, sealed under the consent's own data key.
//!
//! The grant's journal entry carries the person's id, the consent handle's secret and the
//! consent's usage pseudonym (the random name identifications and verifications record it
//! under), padded to one length and sealed under the data key: readable while the consent
//! lives, and gone, with every link from the audit log to the person, when the key is
//! destroyed.

use zeroize::Zeroizing;

use super::seal::{self, Binding};
use super::{VaultError, VaultKey};
use crate::consent::{HandleSecret, SubjectId, HANDLE_SECRET_LEN};

/// Length of a usage pseudonym.
pub(super) const PSEUDONYM_LEN: usize = 16;
const ID_AT: usize = HANDLE_SECRET_LEN + PSEUDONYM_LEN;
const PLAIN_LEN: usize = ID_AT + 1 + SubjectId::MAX_LEN;

/// What the grant seals under the consent's data key.
pub(super) struct Sealed {
    pub(super) subject: SubjectId,
    pub(super) handle: HandleSecret,
    pub(super) pseudonym: [u8; PSEUDONYM_LEN],
}

fn binding<'a>(vault: &[u8; 16], consent: u64, purpose: &'a str) -> Binding<'a> {
    Binding {
        kind: "consent-subject",
        vault: Some(*vault),
        purpose: Some(purpose),
        consent: Some(consent),
        ..Binding::default()
    }
}

/// Seals `subject` and the handle secret of `consent` under its data key.
pub(super) fn seal(
    data_key: &VaultKey,
    vault: &[u8; 16],
    consent: u64,
    purpose: &str,
    subject: &SubjectId,
    handle: &HandleSecret,
    pseudonym: &[u8; PSEUDONYM_LEN],
) -> Result<Vec<u8>, VaultError> {
    let id = subject.as_str().as_bytes();
    let mut plain = Zeroizing::new([0u8; PLAIN_LEN]);
    plain[..HANDLE_SECRET_LEN].copy_from_slice(handle.as_ref());
    plain[HANDLE_SECRET_LEN..ID_AT].copy_from_slice(pseudonym);
    // SubjectId::MAX_LEN is 128: the length fits a byte.
    plain[ID_AT] = id.len() as u8;
    plain[ID_AT + 1..ID_AT + 1 + id.len()].copy_from_slice(id);
    seal::seal(data_key, &binding(vault, consent, purpose), plain.as_ref())
}

/// Opens what [`seal`] sealed.
pub(super) fn open(
    data_key: &VaultKey,
    vault: &[u8; 16],
    consent: u64,
    purpose: &str,
    sealed: &[u8],
) -> Result<Sealed, VaultError> {
    let what = || format!("the person of consent #{consent}");
    let plain = seal::open(data_key, &binding(vault, consent, purpose), sealed)
        .map_err(|_| VaultError::Tampered { what: what() })?;
    let malformed = |why: &str| VaultError::Malformed {
        what: what(),
        why: why.into(),
    };
    if plain.len() != PLAIN_LEN {
        return Err(malformed("wrong length"));
    }
    let len = usize::from(plain[ID_AT]);
    let id = plain
        .get(ID_AT + 1..ID_AT + 1 + len)
        .ok_or_else(|| malformed("id longer than its padding"))?;
    let id = std::str::from_utf8(id).map_err(|_| malformed("id not UTF-8"))?;
    let subject = SubjectId::new(id).map_err(|e| malformed(&e.to_string()))?;
    let mut handle = Zeroizing::new([0u8; HANDLE_SECRET_LEN]);
    handle.copy_from_slice(&plain[..HANDLE_SECRET_LEN]);
    let mut pseudonym = [0u8; PSEUDONYM_LEN];
    pseudonym.copy_from_slice(&plain[HANDLE_SECRET_LEN..ID_AT]);
    Ok(Sealed {
        subject,
        handle,
        pseudonym,
    })
}
