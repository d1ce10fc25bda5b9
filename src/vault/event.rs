//! The events the journal records: every change to the vault, and every use of it.
//!
//! An event never holds biometric data (templates travel beside it as sealed payloads), and
//! never names a person in the clear: people appear only as consent numbers, and the link
//! from a consent number to the person's id is sealed under that consent's data key
//! ([`Event::Granted`]'s `sealed_subject`). Destroying the key at revocation or expiry cuts
//! the link, so the log stays a complete, verifiable record of processing (PIPL art. 56) that
//! names nobody who asked to be deleted: what remains of them is "consent #17 was granted for
//! door access, used at these times, and revoked".

use serde::{Deserialize, Serialize};

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// The vault was created under a key with this fingerprint.
    Created { vault: String, key: String },
    /// A person consented to enrolment for a purpose, after being shown the notice whose
    /// SHA-256 is recorded. Who it was is sealed under the consent's data key (hex), padded to
    /// one length: readable while the consent lives, unreadable once its key is destroyed.
    Granted {
        consent: u64,
        purpose: String,
        notice_sha256: String,
        expires_at: u64,
        sealed_subject: String,
    },
    /// A consent was revoked (a deletion request); its data key is destroyed.
    Revoked { consent: u64, purpose: String },
    /// A deletion request: every active consent of one person revoked at once (who it was is
    /// not recorded); their data keys are destroyed.
    SubjectRevoked { consents: Vec<u64> },
    /// Consents ended by expiry; their data keys are destroyed.
    Expired { consents: Vec<u64> },
    /// A purpose was declared with a retention limit shorter than these consents (granted
    /// under its name at run time) had: they now end `max_validity` seconds after their grant.
    Limited {
        purpose: String,
        max_validity: u64,
        consents: Vec<u64>,
    },
    /// A template was enrolled under a consent (the sealed template travels with the entry).
    Enrolled {
        consent: u64,
        purpose: String,
        model: String,
    },
    /// A 1:N search: its purpose and result: the usage pseudonym (hex) of the best match's
    /// consent, if any. The pseudonym is random, and its link to the consent and the person is
    /// sealed under the consent's data key: once that is destroyed, the passages of one person
    /// can be told apart from another's, but not whose they were, nor which consent's.
    Identified {
        purpose: String,
        matched: Option<String>,
    },
    /// A 1:1 check of one claimed person: the usage pseudonym of the consent the claim was
    /// checked against (none when the claimed person has no active consent for the purpose)
    /// and the outcome.
    Verified {
        purpose: String,
        claimed: Option<String>,
        matched: bool,
    },
    /// Erased templates were purged from the files.
    Compacted { templates: u64, bytes: u64 },
    /// A rotation to the vault key with fingerprint `to` began (it is complete once the head
    /// names key epoch `epoch`).
    KeyRotation {
        from: String,
        to: String,
        epoch: u32,
    },
    /// A key rotation that a power cut interrupted before it took effect.
    KeyRotationAbandoned { epoch: u32 },
    /// A presentation attack (a photo, a screen, a mask) refused by the liveness check: the
    /// purpose, whether it came at enrolment or at the door, and the check's score and
    /// threshold. Never an image, a template, or who it was.
    PresentationAttack {
        purpose: String,
        stage: Stage,
        score: f32,
        threshold: f32,
    },
}

/// Where a face was presented: to enrol, or to be recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// An enrolment photo.
    Enrolment,
    /// A probe: a capture at the door (identification or verification).
    Probe,
}

impl Event {
    /// The consent a grant, enrolment or revocation is about. (Identifications and
    /// verifications name a usage pseudonym instead: [`usage_pseudonym`](Self::usage_pseudonym).)
    pub fn consent(&self) -> Option<u64> {
        match self {
            Event::Granted { consent, .. }
            | Event::Revoked { consent, .. }
            | Event::Enrolled { consent, .. } => Some(*consent),
            _ => None,
        }
    }

    /// The usage pseudonym an identification or verification names, if any.
    pub fn usage_pseudonym(&self) -> Option<&str> {
        match self {
            Event::Identified { matched, .. } => matched.as_deref(),
            Event::Verified { claimed, .. } => claimed.as_deref(),
            _ => None,
        }
    }
}

/// One journal entry's event with its sequence number and time, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the journal, from 0.
    pub seq: u64,
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// The person the event is about ([`Event::consent`] or [`Event::usage_pseudonym`]),
    /// while that consent is active: read through its data key. `None` for events about
    /// nobody, and for everyone whose consent has ended (revoked, expired): their id died with
    /// the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
