//! Status codes: every Rust error mapped to a stable C value, in this one place.

use std::ffi::c_char;

use fg::vault::VaultError;
use fg::{ConsentError, Error, ImageError, MatchError};

/// What a call did. `FG_OK` is 0; the values never change between versions (new ones are
/// added at the end of their group).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum fg_status {
    /// Success.
    FG_OK = 0,
    /// A required pointer argument was NULL.
    FG_ERR_NULL_POINTER = 1,
    /// An argument is out of range: a zero or huge size, an unknown enum value, a string that
    /// is not UTF-8 or is too long.
    FG_ERR_INVALID_ARGUMENT = 2,
    /// The caller's buffer is too small for the result.
    FG_ERR_BUFFER_TOO_SMALL = 3,
    /// The frame description is wrong: size, stride, plane length or pixel format.
    FG_ERR_IMAGE = 10,
    /// A model file is missing, unreadable, or not the expected model.
    FG_ERR_MODEL = 11,
    /// Detection, alignment or embedding failed on this frame and face.
    FG_ERR_INFERENCE = 12,
    /// The consent was revoked.
    FG_ERR_CONSENT_REVOKED = 20,
    /// The consent expired.
    FG_ERR_CONSENT_EXPIRED = 21,
    /// No such consent in this vault.
    FG_ERR_CONSENT_UNKNOWN = 22,
    /// The consent was given for another purpose.
    FG_ERR_PURPOSE_MISMATCH = 23,
    /// The subject has no active consent.
    FG_ERR_UNKNOWN_SUBJECT = 24,
    /// A consent request is invalid: empty notice, bad subject or purpose, validity out of
    /// range.
    FG_ERR_CONSENT_INVALID = 25,
    /// Templates of different models (or dimensions) cannot be compared.
    FG_ERR_MODEL_MISMATCH = 26,
    /// The key does not open this vault.
    FG_ERR_WRONG_KEY = 30,
    /// A vault file failed authentication: edited, swapped or moved.
    FG_ERR_TAMPERED = 31,
    /// A vault file is corrupt, truncated, of another kind, of an unknown version, or longer
    /// than a file of its kind can be.
    FG_ERR_CORRUPT = 32,
    /// A vault file was replaced by an older copy of itself.
    FG_ERR_ROLLED_BACK = 33,
    /// No vault at this place (or `create` where one exists).
    FG_ERR_NO_VAULT = 34,
    /// A file-system operation failed.
    FG_ERR_IO = 35,
    /// A write failed earlier: close the vault and open it again to recover.
    FG_ERR_VAULT_POISONED = 36,
    /// The vault is open in another handle or process (one writer at a time).
    FG_ERR_VAULT_BUSY = 37,
    /// A bug in faceguard (a caught panic). Nothing was changed.
    FG_ERR_INTERNAL = 99,
}

use fg_status::*;

impl From<&VaultError> for fg_status {
    fn from(e: &VaultError) -> Self {
        match e {
            VaultError::KeyLength { .. } => FG_ERR_INVALID_ARGUMENT,
            VaultError::WrongKey => FG_ERR_WRONG_KEY,
            VaultError::Tampered { .. } => FG_ERR_TAMPERED,
            VaultError::Truncated { .. }
            | VaultError::NotAVaultFile { .. }
            | VaultError::UnsupportedVersion { .. }
            | VaultError::WrongKind { .. }
            | VaultError::Corrupt { .. }
            | VaultError::Malformed { .. }
            | VaultError::TooLarge { .. } => FG_ERR_CORRUPT,
            VaultError::RolledBack { .. } => FG_ERR_ROLLED_BACK,
            VaultError::NoVault { .. } | VaultError::AlreadyExists { .. } => FG_ERR_NO_VAULT,
            VaultError::Io { .. } | VaultError::Random(_) => FG_ERR_IO,
            VaultError::Poisoned => FG_ERR_VAULT_POISONED,
            VaultError::Busy { .. } => FG_ERR_VAULT_BUSY,
            VaultError::SameKey => FG_ERR_INVALID_ARGUMENT,
            _ => FG_ERR_INTERNAL,
        }
    }
}

impl From<&ConsentError> for fg_status {
    fn from(e: &ConsentError) -> Self {
        match e {
            ConsentError::Revoked { .. } => FG_ERR_CONSENT_REVOKED,
            ConsentError::Expired { .. } => FG_ERR_CONSENT_EXPIRED,
            ConsentError::Unknown(_) | ConsentError::ForeignLedger { .. } => FG_ERR_CONSENT_UNKNOWN,
            ConsentError::PurposeMismatch { .. } => FG_ERR_PURPOSE_MISMATCH,
            ConsentError::UnknownSubject(_) => FG_ERR_UNKNOWN_SUBJECT,
            _ => FG_ERR_CONSENT_INVALID,
        }
    }
}

impl From<&Error> for fg_status {
    fn from(e: &Error) -> Self {
        match e {
            Error::Image(ImageError::Io { .. }) => FG_ERR_IO,
            Error::Image(_) => FG_ERR_IMAGE,
            Error::Model(_) => FG_ERR_MODEL,
            Error::Detect(_) | Error::Align(_) | Error::Embed(_) => FG_ERR_INFERENCE,
            Error::Consent(c) => c.into(),
            Error::Match(MatchError::Consent(c)) => c.into(),
            Error::Match(_) => FG_ERR_MODEL_MISMATCH,
            Error::Vault(v) => v.into(),
            _ => FG_ERR_INTERNAL,
        }
    }
}

/// A static, NUL-terminated English sentence for `status` (never NULL; do not free).
#[no_mangle]
pub extern "C" fn fg_status_str(status: fg_status) -> *const c_char {
    let text = match status {
        FG_OK => c"success",
        FG_ERR_NULL_POINTER => c"a required pointer argument is NULL",
        FG_ERR_INVALID_ARGUMENT => c"an argument is out of range (size, enum value or string)",
        FG_ERR_BUFFER_TOO_SMALL => c"the output buffer is too small",
        FG_ERR_IMAGE => c"the frame description is invalid (size, stride, plane length or format)",
        FG_ERR_MODEL => c"a model is missing, unreadable or not the expected model",
        FG_ERR_INFERENCE => c"detection, alignment or embedding failed on this face",
        FG_ERR_CONSENT_REVOKED => c"the consent was revoked",
        FG_ERR_CONSENT_EXPIRED => c"the consent expired",
        FG_ERR_CONSENT_UNKNOWN => c"no such consent in this vault",
        FG_ERR_PURPOSE_MISMATCH => c"the consent was given for another purpose",
        FG_ERR_UNKNOWN_SUBJECT => c"the subject has no active consent",
        FG_ERR_CONSENT_INVALID => c"invalid consent request (notice, subject, purpose or validity)",
        FG_ERR_MODEL_MISMATCH => c"templates of different models cannot be compared",
        FG_ERR_WRONG_KEY => c"wrong vault key",
        FG_ERR_TAMPERED => c"a vault file failed authentication (tampered)",
        FG_ERR_CORRUPT => c"a vault file is corrupt or truncated",
        FG_ERR_ROLLED_BACK => c"a vault file was replaced by an older copy",
        FG_ERR_NO_VAULT => c"no vault at this place, or a vault already exists there",
        FG_ERR_IO => c"a file-system operation failed",
        FG_ERR_VAULT_POISONED => c"a write failed earlier: reopen the vault to recover",
        FG_ERR_VAULT_BUSY => c"the vault is open in another handle or process",
        FG_ERR_INTERNAL => c"internal error in faceguard",
    };
    text.as_ptr()
}
