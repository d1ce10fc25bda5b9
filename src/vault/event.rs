//! The events the journal records: every change to the vault, and every use of it.
//!
//! An event never holds biometric data: templates travel beside it as sealed payloads, and
//! identification results name the matched subject only.

use serde::{Deserialize, Serialize};

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// The vault was created under a key with this fingerprint.
    Created { vault: String, key: String },
    /// A person consented to enrolment for a purpose, after being shown the notice whose
    /// SHA-256 is recorded.
    Granted {
        consent: u64,
        subject: String,
        purpose: String,
        notice_sha256: String,
        expires_at: u64,
    },
    /// A consent was revoked (a deletion request); its data key is destroyed.
    Revoked {
        consent: u64,
        subject: String,
        purpose: String,
    },
    /// Consents ended by expiry; their data keys are destroyed.
    Expired { consents: Vec<u64> },
    /// A template was enrolled under a consent (the sealed template travels with the entry).
    Enrolled {
        consent: u64,
        subject: String,
        purpose: String,
        model: String,
    },
    /// A 1:N search: its purpose and result (the best match's subject, if any).
    Identified {
        purpose: String,
        matched: Option<String>,
    },
    /// A 1:1 check of one claimed subject.
    Verified {
        purpose: String,
        subject: String,
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
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
