//! Status codes: every Rust error mapped to a stable C value, in this one place.

use std::ffi::{c_char, CStr};

use fg::vault::VaultError;
use fg::{
    ConsentError, Error, ImageError, LivenessError, MatchError, ModelError, QualityError,
    QualityIssue,
};

/// What a call did. `FG_OK` is 0; the values never change between versions (new ones are
/// added at the end of their group, and a caller treats any value it does not know as a
/// failure).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum fg_status {
    /// Success.
    FG_OK = 0,
    /// A required pointer argument was NULL.
    FG_ERR_NULL_POINTER = 1,
    /// An argument is out of range: a zero or huge size, a `struct_size` smaller than this
    /// version's `sizeof`, an unknown enum value, a number out of range or NaN, a string that
    /// is not UTF-8 or is too long.
    FG_ERR_INVALID_ARGUMENT = 2,
    /// The caller's buffer is too small for the result.
    FG_ERR_BUFFER_TOO_SMALL = 3,
    /// The library is older than the header the caller was compiled with, or of another
    /// major version (while the major version is 0: another minor version): see
    /// `fg_check_version`.
    FG_ERR_VERSION = 4,
    /// The frame description is wrong: size, stride, plane length or pixel format.
    FG_ERR_IMAGE = 10,
    /// A model file is missing, unreadable, or not the expected model.
    FG_ERR_MODEL = 11,
    /// Detection, alignment or embedding failed on this frame and face.
    FG_ERR_INFERENCE = 12,
    /// The face is too small (too few pixels between the eyes): no template was made. For an
    /// enrolment, take another photo closer to the camera; for a probe, try again (never a
    /// match, never a non-match).
    FG_ERR_FACE_TOO_SMALL = 13,
    /// The face is blurred (motion, focus, dirty lens): no template was made; retake or try
    /// again.
    FG_ERR_FACE_BLURRED = 14,
    /// The face is too dark, over-exposed or without contrast: no template was made; fix
    /// the light, or try again.
    FG_ERR_FACE_EXPOSURE = 15,
    /// The face is turned aside, looking up or down, or tilted: no template was made; face
    /// the camera, or try again.
    FG_ERR_FACE_POSE = 16,
    /// The embedder has no calibrated operating point at the false-match rate asked for
    /// (calibrate it with `faceguard calibrate`), or the rate is not in (0, 1); or a vault
    /// matches templates of an embedder its purpose's threshold was not calibrated for (the
    /// default is the bundled `fr_feature`'s: call `fg_vault_set_target_fmr` with your engine
    /// for each purpose).
    FG_ERR_UNCALIBRATED = 17,
    /// The engine was made for detection only (`fg_engine_new_with_options` without an
    /// embedder): it detects faces and measures their quality, but makes no template, so it
    /// cannot enrol, identify, verify or set a target false-match rate.
    FG_ERR_NO_EMBEDDER = 18,
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
    /// The device's clock reads earlier than a time the vault already recorded (no RTC
    /// battery, a clock set back): nothing is decided on consent until the clock is set right;
    /// revocation still works.
    FG_ERR_CLOCK_BEHIND = 27,
    /// The key does not open this vault.
    FG_ERR_WRONG_KEY = 30,
    /// A vault file failed authentication: edited, swapped or moved.
    FG_ERR_TAMPERED = 31,
    /// A vault file is corrupt, truncated, of another kind, of an unknown version, or longer
    /// than a file of its kind can be.
    FG_ERR_CORRUPT = 32,
    /// A vault file was replaced by an older copy of itself.
    FG_ERR_ROLLED_BACK = 33,
    /// No vault at this place.
    FG_ERR_NO_VAULT = 34,
    /// A file-system operation failed.
    FG_ERR_IO = 35,
    /// A write failed, or a call panicked (`FG_ERR_INTERNAL`), earlier on this vault handle,
    /// so what reached the flash is unknown: the vault refuses every change (and, after a
    /// panic, every call on this handle). Free it with `fg_vault_free` and open the vault
    /// again, which recovers it.
    FG_ERR_VAULT_POISONED = 36,
    /// The vault is open in another handle or process (one writer at a time).
    FG_ERR_VAULT_BUSY = 37,
    /// `fg_vault_create` where a vault already exists.
    FG_ERR_VAULT_EXISTS = 38,
    /// The monotonic counter (`fg_counter`) failed (a callback returned non-zero), or a vault
    /// bound to one was opened without it (use `fg_vault_open_with_counter`).
    FG_ERR_COUNTER = 39,
    /// The liveness check judged the face a presentation attack (a printed photo, a screen,
    /// a replayed video, a mask): no template was made, and the vault's journal records the
    /// attack (purpose, stage, score; never the image). At the door: refuse, and offer the
    /// other way in.
    FG_ERR_PRESENTATION_ATTACK = 40,
    /// The purpose requires a liveness check (every purpose named through the C API does)
    /// and the engine has none: create it with the presentation-attack models
    /// (`fg_engine_options.liveness_path`, or `liveness.json` beside the embedder).
    FG_ERR_NO_LIVENESS = 41,
    /// The liveness check cannot judge this face: it has no colour (an infrared or greyscale
    /// frame), and the presentation-attack models need colour. No template was made: offer
    /// the other way in (or light the scene in colour).
    FG_ERR_NO_COLOUR = 42,
    /// A bug in faceguard (a caught panic): the call did not complete, and no out-parameter
    /// was written. The panic may have struck mid-write, so if the call was given a vault,
    /// that vault handle refuses every further call (`FG_ERR_VAULT_POISONED`) until it is
    /// freed with `fg_vault_free` and the vault opened again, which recovers it as after a
    /// power cut (to the state before the interrupted write, or after it).
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
            VaultError::NoVault { .. } => FG_ERR_NO_VAULT,
            VaultError::AlreadyExists { .. } => FG_ERR_VAULT_EXISTS,
            VaultError::Io { .. } | VaultError::Random(_) => FG_ERR_IO,
            VaultError::Poisoned => FG_ERR_VAULT_POISONED,
            VaultError::Busy { .. } => FG_ERR_VAULT_BUSY,
            VaultError::Counter { .. } | VaultError::CounterRequired => FG_ERR_COUNTER,
            VaultError::SameKey => FG_ERR_INVALID_ARGUMENT,
            _ => FG_ERR_INTERNAL,
        }
    }
}

impl From<&QualityError> for fg_status {
    fn from(e: &QualityError) -> Self {
        match e.issue() {
            QualityIssue::TooSmall { .. } => FG_ERR_FACE_TOO_SMALL,
            QualityIssue::Blurred { .. } | QualityIssue::Unmeasurable => FG_ERR_FACE_BLURRED,
            QualityIssue::BadPolicy => FG_ERR_INVALID_ARGUMENT,
            QualityIssue::TooDark { .. }
            | QualityIssue::TooBright { .. }
            | QualityIssue::LowContrast { .. } => FG_ERR_FACE_EXPOSURE,
            QualityIssue::TurnedAway { .. }
            | QualityIssue::LookingUpOrDown { .. }
            | QualityIssue::Tilted { .. } => FG_ERR_FACE_POSE,
            _ => FG_ERR_INTERNAL,
        }
    }
}

impl From<&MatchError> for fg_status {
    fn from(e: &MatchError) -> Self {
        match e {
            MatchError::Consent(c) => c.into(),
            MatchError::InvalidThreshold(_) => FG_ERR_INVALID_ARGUMENT,
            MatchError::Uncalibrated { .. }
            | MatchError::ThresholdForAnotherModel { .. }
            | MatchError::LaxerThanPurpose { .. }
            | MatchError::InvalidFmr(_)
            | MatchError::TooFewImpostors { .. } => FG_ERR_UNCALIBRATED,
            _ => FG_ERR_MODEL_MISMATCH,
        }
    }
}

impl From<&ConsentError> for fg_status {
    fn from(e: &ConsentError) -> Self {
        match e {
            ConsentError::Revoked { .. } => FG_ERR_CONSENT_REVOKED,
            ConsentError::Expired { .. } => FG_ERR_CONSENT_EXPIRED,
            ConsentError::Unknown(_) | ConsentError::ForeignLedger { .. } => FG_ERR_CONSENT_UNKNOWN,
            ConsentError::PurposeMismatch { .. } | ConsentError::PurposeConflict { .. } => {
                FG_ERR_PURPOSE_MISMATCH
            }
            ConsentError::UnknownSubject(_) => FG_ERR_UNKNOWN_SUBJECT,
            ConsentError::InvalidHandle => FG_ERR_INVALID_ARGUMENT,
            ConsentError::NoRandomness(_) => FG_ERR_IO,
            ConsentError::ClockBehind { .. } => FG_ERR_CLOCK_BEHIND,
            _ => FG_ERR_CONSENT_INVALID,
        }
    }
}

impl From<&Error> for fg_status {
    fn from(e: &Error) -> Self {
        match e {
            Error::Image(ImageError::Io { .. }) => FG_ERR_IO,
            Error::Image(_) => FG_ERR_IMAGE,
            Error::Model(ModelError::Config(_)) => FG_ERR_INVALID_ARGUMENT,
            Error::Model(_) => FG_ERR_MODEL,
            Error::Detect(_) | Error::Align(_) | Error::Embed(_) => FG_ERR_INFERENCE,
            Error::Consent(c) => c.into(),
            Error::Quality(q) => q.into(),
            Error::Match(m) => m.into(),
            Error::Vault(v) => v.into(),
            Error::Liveness(l) => l.into(),
            _ => FG_ERR_INTERNAL,
        }
    }
}

impl From<&LivenessError> for fg_status {
    fn from(e: &LivenessError) -> Self {
        match e {
            LivenessError::PresentationAttack { .. } => FG_ERR_PRESENTATION_ATTACK,
            LivenessError::NoCheck => FG_ERR_NO_LIVENESS,
            LivenessError::FaceTooSmall { .. } => FG_ERR_FACE_TOO_SMALL,
            LivenessError::NoColour { .. } => FG_ERR_NO_COLOUR,
            LivenessError::Config(_) => FG_ERR_INVALID_ARGUMENT,
            LivenessError::FaceOutsideFrame => FG_ERR_INVALID_ARGUMENT,
            LivenessError::Inference(_) => FG_ERR_INFERENCE,
            _ => FG_ERR_INTERNAL,
        }
    }
}

impl fg_status {
    /// Every status, for turning a caller's integer back into one.
    pub(crate) const ALL: [fg_status; 36] = [
        FG_OK,
        FG_ERR_NULL_POINTER,
        FG_ERR_INVALID_ARGUMENT,
        FG_ERR_BUFFER_TOO_SMALL,
        FG_ERR_VERSION,
        FG_ERR_IMAGE,
        FG_ERR_MODEL,
        FG_ERR_INFERENCE,
        FG_ERR_FACE_TOO_SMALL,
        FG_ERR_FACE_BLURRED,
        FG_ERR_FACE_EXPOSURE,
        FG_ERR_FACE_POSE,
        FG_ERR_UNCALIBRATED,
        FG_ERR_NO_EMBEDDER,
        FG_ERR_CONSENT_REVOKED,
        FG_ERR_CONSENT_EXPIRED,
        FG_ERR_CONSENT_UNKNOWN,
        FG_ERR_PURPOSE_MISMATCH,
        FG_ERR_UNKNOWN_SUBJECT,
        FG_ERR_CONSENT_INVALID,
        FG_ERR_MODEL_MISMATCH,
        FG_ERR_CLOCK_BEHIND,
        FG_ERR_WRONG_KEY,
        FG_ERR_TAMPERED,
        FG_ERR_CORRUPT,
        FG_ERR_ROLLED_BACK,
        FG_ERR_NO_VAULT,
        FG_ERR_IO,
        FG_ERR_VAULT_POISONED,
        FG_ERR_VAULT_BUSY,
        FG_ERR_VAULT_EXISTS,
        FG_ERR_COUNTER,
        FG_ERR_PRESENTATION_ATTACK,
        FG_ERR_NO_LIVENESS,
        FG_ERR_NO_COLOUR,
        FG_ERR_INTERNAL,
    ];

    /// The status whose value is `code`, if there is one.
    pub(crate) fn from_code(code: i32) -> Option<fg_status> {
        Self::ALL.into_iter().find(|&s| s as i32 == code)
    }

    /// The message of this status.
    pub(crate) fn message(self) -> &'static CStr {
        match self {
            FG_OK => c"success",
            FG_ERR_NULL_POINTER => c"a required pointer argument is NULL",
            FG_ERR_INVALID_ARGUMENT => c"an argument is out of range (size, struct_size, enum value, number or string)",
            FG_ERR_BUFFER_TOO_SMALL => c"the output buffer is too small",
            FG_ERR_VERSION => {
                c"the library is older than the header, or of another major version: rebuild"
            }
            FG_ERR_IMAGE => {
                c"the frame description is invalid (size, stride, plane length or format)"
            }
            FG_ERR_MODEL => c"a model is missing, unreadable or not the expected model",
            FG_ERR_INFERENCE => c"detection, alignment or embedding failed on this face",
            FG_ERR_FACE_TOO_SMALL => {
                c"face too small: come closer (enrolment: retake the photo; probe: try again)"
            }
            FG_ERR_FACE_BLURRED => c"face blurred: hold still, focus (retake or try again)",
            FG_ERR_FACE_EXPOSURE => {
                c"face too dark, over-exposed or flat: fix the light (retake or try again)"
            }
            FG_ERR_FACE_POSE => {
                c"face turned aside, up or down, or tilted: face the camera (retake or try again)"
            }
            FG_ERR_UNCALIBRATED => {
                c"no threshold calibrated for this embedder and rate: calibrate it, or set the purpose's"
            }
            FG_ERR_NO_EMBEDDER => {
                c"this engine detects faces only (no embedder): it makes no template"
            }
            FG_ERR_CONSENT_REVOKED => c"the consent was revoked",
            FG_ERR_CONSENT_EXPIRED => c"the consent expired",
            FG_ERR_CONSENT_UNKNOWN => c"no such consent in this vault",
            FG_ERR_PURPOSE_MISMATCH => c"the consent was given for another purpose",
            FG_ERR_UNKNOWN_SUBJECT => c"the subject has no active consent",
            FG_ERR_CONSENT_INVALID => {
                c"invalid consent request (notice, subject, purpose or validity)"
            }
            FG_ERR_MODEL_MISMATCH => c"templates of different models cannot be compared",
            FG_ERR_CLOCK_BEHIND => {
                c"the clock reads earlier than a time already recorded: set the device's clock"
            }
            FG_ERR_WRONG_KEY => c"wrong vault key",
            FG_ERR_TAMPERED => c"a vault file failed authentication (tampered)",
            FG_ERR_CORRUPT => c"a vault file is corrupt or truncated",
            FG_ERR_ROLLED_BACK => c"a vault file was replaced by an older copy",
            FG_ERR_NO_VAULT => c"no vault at this place",
            FG_ERR_IO => c"a file-system operation failed",
            FG_ERR_VAULT_POISONED => {
                c"the vault is unusable after a failed write or a panic: free it and open it again"
            }
            FG_ERR_VAULT_BUSY => c"the vault is open in another handle or process",
            FG_ERR_VAULT_EXISTS => c"a vault already exists at this place",
            FG_ERR_COUNTER => {
                c"the monotonic counter failed, or a vault bound to one was opened without it"
            }
            FG_ERR_PRESENTATION_ATTACK => {
                c"presentation attack: the face is a photo, a screen or a mask (recorded)"
            }
            FG_ERR_NO_LIVENESS => {
                c"the purpose requires a liveness check and the engine has none: load the PAD models"
            }
            FG_ERR_NO_COLOUR => {
                c"the face has no colour (infrared or greyscale frame): liveness cannot judge it"
            }
            FG_ERR_INTERNAL => c"internal error in faceguard: the call did not complete",
        }
    }
}

/// The message for a code no status has (from a newer library, or not a status at all).
const UNKNOWN: &CStr = c"unknown status (not a code of this version of faceguard)";

/// A static, NUL-terminated English sentence for `status` (never NULL; do not free). Takes
/// any integer, so that an `fg_status` passes as it is and a value that is not one of them
/// (a code from a newer library, garbage) is answered safely: "unknown status".
#[no_mangle]
pub extern "C" fn fg_status_str(status: i32) -> *const c_char {
    fg_status::from_code(status)
        .map_or(UNKNOWN, fg_status::message)
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variants as declared in the enum above, read from this file's source: a status
    /// added there but not to `ALL` would otherwise be answered "unknown".
    fn declared() -> Vec<(String, i32)> {
        let source = include_str!("status.rs");
        let body = &source[source.find("pub enum fg_status {").unwrap()..];
        let body = &body[..body.find("\n}").unwrap()];
        body.lines()
            .filter_map(|line| {
                let (name, value) = line.trim().strip_suffix(',')?.split_once(" = ")?;
                Some((name.to_string(), value.parse().ok()?))
            })
            .collect()
    }

    /// The README's status table: `| code | `NAME` | message |` rows.
    fn documented() -> Vec<(i32, String, String)> {
        let readme = include_str!("../../../README.md");
        readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.strip_prefix('|')?.split('|').map(str::trim).collect();
                let code = cells.first()?.parse().ok()?;
                let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((code, name.to_string(), cells.get(2)?.to_string()))
            })
            .collect()
    }

    #[test]
    fn the_readme_documents_every_status_with_its_code_and_message() {
        let documented = documented();
        assert_eq!(
            documented.len(),
            fg_status::ALL.len(),
            "README.md's status table must list every status once"
        );
        for (status, (code, name, message)) in fg_status::ALL.iter().zip(&documented) {
            assert_eq!(*status as i32, *code, "{name}");
            assert_eq!(format!("{status:?}"), *name);
            assert_eq!(status.message().to_str().unwrap(), message, "{name}");
        }
    }

    #[test]
    fn every_declared_status_is_known_by_its_code() {
        let declared = declared();
        assert_eq!(declared.len(), fg_status::ALL.len());
        for (name, code) in declared {
            let status = fg_status::from_code(code).unwrap_or_else(|| panic!("{name} unknown"));
            assert_eq!(format!("{status:?}"), name);
        }
    }

    #[test]
    fn every_status_has_its_own_message() {
        let mut seen = std::collections::HashSet::new();
        for s in fg_status::ALL {
            assert!(seen.insert(s.message()), "{s:?} shares its message");
            // SAFETY: fg_status_str returns a static NUL-terminated string.
            let text = unsafe { CStr::from_ptr(fg_status_str(s as i32)) };
            assert_eq!(text, s.message());
            assert_ne!(text, UNKNOWN);
        }
    }

    #[test]
    fn codes_that_are_no_status_get_the_unknown_message() {
        for code in [-1, 5, 19, 98, 100, 12345, i32::MAX, i32::MIN] {
            // SAFETY: as above.
            let text = unsafe { CStr::from_ptr(fg_status_str(code)) };
            assert_eq!(text, UNKNOWN, "code {code}");
        }
    }
}
