//! Consent as a type.
//!
//! A biometric template can only be computed with a consent token, and tokens come only from a
//! [`ConsentLedger`]:
//!
//! * A **purpose** is a type implementing [`Purpose`] (door access, attendance, payment…).
//!   Tokens, templates and galleries carry it as a type parameter, so a template made for one
//!   purpose cannot be enrolled in, or matched against, a gallery for another: that code does
//!   not compile.
//! * An **enrolment consent** ([`ConsentToken`]) is granted by the ledger for one subject and
//!   one purpose, records the SHA-256 of the notice the person was shown, and expires. It
//!   cannot be built, cloned or forged outside this crate. Revoking or expiring it erases every
//!   template made under it from every gallery of the ledger, and templates still held
//!   elsewhere stop working (each use checks the consent at run time).
//! * A **probe consent** ([`ProbeConsent`]) is what the person at the door gives for one
//!   capture: it is never stored, is consumed by the one probe template it allows, lives only
//!   for [`Purpose::PROBE_VALIDITY`], and dies with that template.

mod cell;
mod clock;
mod ledger;
mod purpose;
mod subject;
mod token;

pub(crate) use cell::{ConsentCell, HandleSecret, HANDLE_SECRET_LEN};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub(crate) use ledger::GrantRequest;
pub use ledger::{ConsentLedger, ConsentRecord, ConsentStatus};
pub(crate) use purpose::check_name as check_purpose_name;
pub use purpose::{NamedPurpose, Purpose};
pub use subject::{ConsentId, SubjectId};
pub use token::{ConsentHandle, ConsentToken, ProbeConsent};

/// Why a consent operation failed, or why consent does not (or no longer) cover an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The consent was revoked; ask the person for a new one.
    #[error(
        "consent {consent} was revoked: its templates are erased; ask the person for a new consent"
    )]
    Revoked { consent: ConsentId },
    /// The consent expired; ask the person to renew it.
    #[error("consent {consent} expired at {expired_at}: its templates are erased; ask the person to renew consent")]
    Expired {
        consent: ConsentId,
        expired_at: Timestamp,
    },
    /// The consent was granted by another ledger than the gallery's.
    #[error("consent {consent} was granted by another ledger: enrol templates into a gallery of the ledger that granted their consent, so that revoking it erases them")]
    ForeignLedger { consent: ConsentId },
    /// No active consent names this subject.
    #[error("subject {0} has no active consent")]
    UnknownSubject(SubjectId),
    /// No consent with this id (or, for a handle, with this id and secret) is on the ledger.
    #[error("consent {0} is not on this ledger, or the handle's secret is not its own")]
    Unknown(ConsentId),
    /// The consent was granted for another purpose.
    #[error("consent {consent} was granted for purpose {granted:?}, not {requested:?}")]
    PurposeMismatch {
        consent: ConsentId,
        granted: String,
        requested: String,
    },
    /// A purpose name given at run time is empty, too long, or holds control characters.
    #[error("purpose name is invalid: {0}")]
    InvalidPurpose(&'static str),
    /// The subject id is empty, too long, or holds control characters.
    #[error("subject id is invalid: {0}")]
    InvalidSubject(&'static str),
    /// The notice shown to the person is empty.
    #[error(
        "the notice text shown to the person is empty: consent needs the notice it was given for"
    )]
    EmptyNotice,
    /// Two purpose types claim the same name on one ledger or vault: a purpose has one identity.
    #[error("purpose {purpose:?} is declared by {declared_by}; {also_claimed_by} may not use the same name: give each purpose its own NAME")]
    PurposeConflict {
        purpose: String,
        declared_by: &'static str,
        also_claimed_by: &'static str,
    },
    /// The clock reads earlier than a time the ledger or vault has already seen or recorded (a
    /// camera without an RTC battery boots in 1970; a clock set back): the real time is
    /// unknown, so no consent decision is made until the clock is set right. Revocation still
    /// works.
    #[error("the clock reads {clock}, earlier than {latest} already recorded: set the device's clock; no consent is decided on a clock that went back")]
    ClockBehind { clock: Timestamp, latest: Timestamp },
    /// A consent handle of the wrong length.
    #[error("a consent handle is {} bytes", ConsentHandle::LEN)]
    InvalidHandle,
    /// The operating system's random generator failed (a consent handle needs a secret).
    #[error("no randomness for a consent handle: {0}")]
    NoRandomness(String),
    /// The requested validity is zero or longer than the purpose allows.
    #[error("consent validity of {requested_secs} s is not allowed for purpose {purpose:?}: it must be between 1 s and {max_secs} s")]
    InvalidValidity {
        purpose: String,
        requested_secs: u64,
        max_secs: u64,
    },
}
