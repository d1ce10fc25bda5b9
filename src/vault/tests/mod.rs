//! Specifications of the vault: what it stores, what survives a power cut, what tampering is
//! caught, what a deletion leaves behind.

mod api;
mod crash;
mod kill;
mod shred;
mod tamper;

use std::sync::Arc;
use std::time::Duration;

use faceguard_match::rng::SplitMix64;

use super::storage::mem::MemStorage;
use super::storage::Storage;
use super::{Vault, VaultConfig, VaultError, VaultKey};
use crate::consent::{ConsentToken, ManualClock, Purpose, SubjectId, Timestamp};
use crate::model::ModelId;
use crate::template::{ProbeTemplate, SecretVector, Template};
use crate::Error;

/// The purpose of the test vaults.
enum Door {}
impl Purpose for Door {
    const NAME: &'static str = "door-access";
}

const NOTICE: &str = "Your face template opens the staff door. Ask reception to delete it.";
const DIM: usize = 64;
const DAY: Duration = Duration::from_secs(86_400);

/// The stand-in vectors pass for the bundled embedder's, whose threshold the vault uses.
fn model() -> ModelId {
    crate::matching::FR_FEATURE_MODEL
}

fn key(byte: u8) -> VaultKey {
    VaultKey::from_bytes(&[byte; 32]).unwrap()
}

fn config(clock: &ManualClock) -> VaultConfig {
    VaultConfig::new().clock(Arc::new(clock.clone()))
}

fn clock() -> ManualClock {
    ManualClock::new(Timestamp(1_790_000_000))
}

fn subject(n: u64) -> SubjectId {
    SubjectId::new(format!("badge-{n}")).unwrap()
}

/// A unit vector standing in for person `seed`'s face.
fn face(seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..DIM)
        .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
        .collect()
}

fn template(token: &ConsentToken<Door>, seed: u64) -> Template<Door> {
    Template::new(
        SecretVector::normalized(&face(seed)).unwrap(),
        model(),
        token.cell.clone(),
    )
}

fn probe(vault: &Vault, seed: u64) -> ProbeTemplate<Door> {
    let consent = vault.probe_consent::<Door>(NOTICE).unwrap();
    Template::new(
        SecretVector::normalized(&face(seed)).unwrap(),
        model(),
        consent.cell,
    )
}

fn new_vault(fs: &MemStorage, clock: &ManualClock) -> Vault {
    Vault::create_in(Box::new(fs.clone()), key(1), config(clock)).unwrap()
}

fn reopen(fs: &MemStorage, clock: &ManualClock) -> Result<Vault, Error> {
    Vault::open_in(Box::new(fs.clone()), key(1), config(clock)).map(|(v, _)| v)
}

/// Grants person `n` a consent and enrols their face.
fn enrol(vault: &Vault, n: u64) -> ConsentToken<Door> {
    let token = vault.grant::<Door>(subject(n), NOTICE, 30 * DAY).unwrap();
    vault.enroll(template(&token, n)).unwrap();
    token
}

/// What a vault holds, as a caller can see it (no audit entries: reads change nothing).
#[derive(Debug, PartialEq)]
struct Snapshot {
    consents: Vec<(u64, Option<String>, bool)>,
    templates: usize,
    subjects: usize,
    /// Who each of the first people's faces is identified as.
    found: Vec<Option<String>>,
}

fn snapshot(vault: &Vault) -> Snapshot {
    let found = (0..4)
        .map(|n| {
            let shared = vault.lock_inner().galleries.get(Door::NAME).cloned();
            shared.and_then(|g| {
                let p = probe(vault, n);
                g.identify(
                    p.vector.as_slice(),
                    p.model,
                    &p.consent,
                    1,
                    crate::matching::DEFAULT_TARGET_FMR,
                )
                .unwrap()
                .first()
                .filter(|c| c.is_match)
                .map(|c| c.subject.to_string())
            })
        })
        .collect();
    Snapshot {
        consents: vault
            .consents()
            .into_iter()
            .map(|r| {
                (
                    r.id.get(),
                    r.subject.map(|s| s.to_string()),
                    r.revoked_at.is_some(),
                )
            })
            .collect(),
        templates: vault.template_count(),
        subjects: vault.subject_count(),
        found,
    }
}

fn vault_error(result: Result<Vault, Error>) -> VaultError {
    match result {
        Err(Error::Vault(e)) => e,
        Err(other) => panic!("expected a vault error, got {other}"),
        Ok(_) => panic!("expected a vault error, the vault opened"),
    }
}
