//! The vault against a thief of the flash, a clock set back, files rolled back, a caller who
//! guesses consent ids, and a deletion request that must also delete the movement record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use faceguard::vault::{FileCounter, Vault, VaultConfig, VaultError, VaultKey};
use faceguard::{
    Clock, ConsentError, ConsentHandle, ConsentStatus, ConsentToken, Error, ManualClock,
    ProbeTemplate, Purpose, SubjectId, Timestamp,
};

use crate::common::{engine, largest, photo, NOTICE};

const DAY: Duration = Duration::from_secs(86_400);
const START: Timestamp = Timestamp(1_790_000_000);

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
    const MAX_VALIDITY: Duration = Duration::from_secs(90 * 86_400);
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("faceguard-attacks-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn vault(&self) -> PathBuf {
        self.0.join("vault")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key() -> VaultKey {
    VaultKey::from_bytes(&[0x42; 32]).unwrap()
}

fn config(clock: &ManualClock) -> VaultConfig {
    VaultConfig::new().clock(Arc::new(clock.clone()))
}

fn enrol(vault: &Vault, subject: &str, photo_name: &str) -> ConsentToken<DoorAccess> {
    let token = vault
        .grant::<DoorAccess>(SubjectId::new(subject).unwrap(), NOTICE, DAY)
        .unwrap();
    let img = photo(photo_name);
    let face = largest(&engine().detect(&img.view()).unwrap());
    vault
        .enroll(
            engine()
                .enrolment_template(&token, &img.view(), &face)
                .unwrap(),
        )
        .unwrap();
    token
}

fn probe(vault: &Vault, photo_name: &str) -> ProbeTemplate<DoorAccess> {
    let img = photo(photo_name);
    let face = largest(&engine().detect(&img.view()).unwrap());
    let consent = vault.probe_consent::<DoorAccess>(NOTICE).unwrap();
    engine()
        .probe_template(consent, &img.view(), &face)
        .unwrap()
}

fn matched(vault: &Vault, photo_name: &str) -> Option<String> {
    vault
        .identify(&probe(vault, photo_name), 1)
        .unwrap()
        .first()
        .filter(|c| c.is_match)
        .map(|c| c.subject.to_string())
}

/// Every vault file's bytes (not the lock).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "LOCK")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Puts `saved` back, file by file (only the names `only` lists, if given).
fn restore(dir: &Path, saved: &BTreeMap<String, Vec<u8>>, only: Option<&[&str]>) {
    for (name, bytes) in saved {
        if only.is_none_or(|o| o.contains(&name.as_str())) {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

fn rolled_back(result: Result<(Vault, faceguard::vault::OpenReport), Error>) -> String {
    match result {
        Err(Error::Vault(VaultError::RolledBack { file, why })) => format!("{file}: {why}"),
        Err(e) => panic!("expected RolledBack, got {e}"),
        Ok(_) => panic!("expected RolledBack, the vault opened"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn revoked_subject_absent_from_audit_export() {
    let scratch = Scratch::new("deletion");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let person = "badge-7731-li-wei";
    let token = enrol(&vault, person, "img1.jpg");
    enrol(&vault, "badge-0042", "img17.jpg");
    // Three passages through the door, and a 1:1 check.
    for photo_name in ["img2.jpg", "img2.jpg", "img2.jpg"] {
        assert_eq!(matched(&vault, photo_name).as_deref(), Some(person));
        clock.advance(Duration::from_secs(3_600));
    }
    let subject = SubjectId::new(person).unwrap();
    assert!(
        vault
            .verify(&probe(&vault, "img2.jpg"), &subject)
            .unwrap()
            .is_match
    );
    // While the consent lives, the record of processing says who it was, passage by passage.
    let live = vault.audit().unwrap();
    let theirs = |log: &faceguard::vault::AuditLog| {
        log.entries
            .iter()
            .filter(|e| e.subject.as_deref() == Some(person))
            .count()
    };
    assert_eq!(theirs(&live), 1 + 1 + 3 + 1); // granted, enrolled, 3 identifications, verified
    let pseudonym = live
        .entries
        .iter()
        .find_map(|e| e.event.usage_pseudonym())
        .unwrap()
        .to_string();

    // The deletion request.
    vault.revoke_subject(&subject).unwrap();
    vault.compact().unwrap();
    let log = vault.audit().unwrap();
    assert!(log.verify().is_ok(), "{:?}", log.problem);
    let mut export = Vec::new();
    log.write_json_lines(&mut export).unwrap();
    let text = String::from_utf8(export).unwrap();
    assert!(!text.contains(person), "{text}");
    // The movement record is still there, complete, but names nobody: the identifications and
    // the verification carry a random pseudonym that no longer leads to the consent (whose
    // number the firmware knows) nor to the person.
    assert_eq!(theirs(&log), 0);
    let usage: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.event.usage_pseudonym() == Some(pseudonym.as_str()))
        .collect();
    assert_eq!(usage.len(), 3 + 1);
    assert!(usage.iter().all(|e| e.subject.is_none()));
    assert!(!text.contains(&format!("\"matched\":{}", token.id().get())));
    // Grant and enrolment keep their consent number, and the deletion request the numbers it
    // ended: a record of processing.
    assert_eq!(
        log.entries
            .iter()
            .filter(|e| e.event.consent() == Some(token.id().get()))
            .count(),
        2
    );
    assert!(log.entries.iter().any(|e| matches!(
        &e.event,
        faceguard::vault::Event::SubjectRevoked { consents } if consents.contains(&token.id().get())
    )));
    assert!(vault
        .consents()
        .iter()
        .all(|r| r.subject.as_ref().map(SubjectId::as_str) != Some(person)));
    drop(vault);
    // Nothing in any file names the person, and reopened with the key, nothing does either.
    for (name, bytes) in files(&scratch.vault()) {
        assert!(!contains(&bytes, person.as_bytes()), "{name}");
    }
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let mut again = Vec::new();
    vault.audit().unwrap().write_json_lines(&mut again).unwrap();
    assert!(!contains(&again, person.as_bytes()));
    assert!(format!("{:?}", vault.consents()).contains("badge-0042"));
    assert!(!format!("{:?}", vault.consents()).contains(person));
}

#[test]
fn expired_consent_stays_expired_when_clock_goes_back() {
    let scratch = Scratch::new("clock");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let token = enrol(&vault, "alice", "img1.jpg");
    let handle = token.handle().to_bytes();
    assert_eq!(matched(&vault, "img2.jpg").as_deref(), Some("alice"));
    clock.advance(2 * DAY);
    assert_eq!(matched(&vault, "img2.jpg"), None);
    drop(vault);
    // The camera loses its RTC and boots in 1970.
    clock.set(Timestamp(0));
    let (vault, report) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    assert!(report.clock_behind_secs >= (START.0 + 2 * 86_400));
    assert!(vault.now() >= START.after(2 * DAY));
    let record = &vault.consents()[0];
    assert_eq!(record.status_at(vault.now()), ConsentStatus::Expired);
    // Its handle died with its data key at the sweep: nothing can be enrolled under it.
    let handle = ConsentHandle::from_bytes(handle.as_ref()).unwrap();
    assert!(matches!(
        vault.token::<DoorAccess>(&handle),
        Err(Error::Consent(ConsentError::Unknown(_)))
    ));
    // And no identification is made on a clock that went back.
    assert!(matches!(
        vault.probe_consent::<DoorAccess>(NOTICE),
        Err(Error::Consent(ConsentError::ClockBehind { .. }))
    ));
    // Every entry written meanwhile carries the vault's time, never the 1970 clock.
    assert!(vault
        .audit()
        .unwrap()
        .entries
        .iter()
        .all(|e| e.at >= START.0));
}

#[test]
fn a_consent_that_expired_while_the_camera_was_off_does_not_revive_at_1970() {
    let scratch = Scratch::new("clock-off");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let token = enrol(&vault, "alice", "img1.jpg");
    let handle = token.handle().to_bytes();
    assert_eq!(matched(&vault, "img2.jpg").as_deref(), Some("alice"));
    drop((token, vault));
    // Switched off for a week: the consent (one day) expires unseen. It boots in 1970.
    clock.set(Timestamp(0));
    let (vault, report) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    assert!(report.clock_behind_secs > 0);
    // The vault cannot know the consent expired, so it decides nothing.
    assert!(matches!(
        vault.probe_consent::<DoorAccess>(NOTICE),
        Err(Error::Consent(ConsentError::ClockBehind { .. }))
    ));
    let handle = ConsentHandle::from_bytes(handle.as_ref()).unwrap();
    assert!(matches!(
        vault.token::<DoorAccess>(&handle),
        Err(Error::Consent(ConsentError::ClockBehind { .. }))
    ));
    // Once the clock is set, the expiry is found and the template erased.
    clock.set(START.after(7 * DAY));
    assert_eq!(matched(&vault, "img2.jpg"), None);
    assert_eq!(vault.template_count(), 0);
}

#[test]
fn consent_id_alone_cannot_enrol_after_reopen_either() {
    let scratch = Scratch::new("handle");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let token = enrol(&vault, "alice", "img1.jpg");
    let kept = token.handle().to_bytes();
    let id = token.id();
    drop((token, vault));
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let mut guess = [0u8; ConsentHandle::LEN];
    guess[..8].copy_from_slice(&id.get().to_le_bytes());
    assert!(matches!(
        vault.token_named(&ConsentHandle::from_bytes(&guess).unwrap()),
        Err(Error::Consent(ConsentError::Unknown(_)))
    ));
    let again = vault
        .token::<DoorAccess>(&ConsentHandle::from_bytes(kept.as_ref()).unwrap())
        .unwrap();
    let img = photo("img3.jpg");
    let face = largest(&engine().detect(&img.view()).unwrap());
    vault
        .enroll(
            engine()
                .enrolment_template(&again, &img.view(), &face)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(vault.template_count(), 2);
}

#[test]
fn full_rollback_detected_with_counter() {
    let scratch = Scratch::new("counter");
    let clock = ManualClock::new(START);
    let counter = Arc::new(FileCounter::new(scratch.0.join("rpmb-counter")));
    let with_counter = || config(&clock).counter(counter.clone());
    let vault = Vault::create_with_config(scratch.vault(), key(), with_counter()).unwrap();
    enrol(&vault, "alice", "img1.jpg");
    drop(vault);
    let before = files(&scratch.vault());
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), with_counter()).unwrap();
    // Passages at the door the thief wants to erase; no key file changes.
    for _ in 0..3 {
        matched(&vault, "img2.jpg");
    }
    drop(vault);
    restore(&scratch.vault(), &before, None);
    let why = rolled_back(Vault::open_with_config(
        scratch.vault(),
        key(),
        with_counter(),
    ));
    assert!(why.contains("monotonic counter"), "{why}");
    // The thief cannot simply leave the counter out: a bound vault opens only with it.
    assert!(matches!(
        Vault::open_with_config(scratch.vault(), key(), config(&clock)),
        Err(Error::Vault(VaultError::CounterRequired))
    ));
    // Nor swap in a new, blank counter.
    let blank = Arc::new(FileCounter::new(scratch.0.join("blank-counter")));
    rolled_back(Vault::open_with_config(
        scratch.vault(),
        key(),
        config(&clock).counter(blank),
    ));
}

#[test]
fn a_vault_made_without_a_counter_is_bound_to_a_new_one() {
    let scratch = Scratch::new("counter-late");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    enrol(&vault, "alice", "img1.jpg");
    drop(vault);
    let before = files(&scratch.vault());
    let counter = Arc::new(FileCounter::new(scratch.0.join("counter")));
    let with_counter = || config(&clock).counter(counter.clone());
    let (vault, report) = Vault::open_with_config(scratch.vault(), key(), with_counter()).unwrap();
    assert!(report.counter_advanced);
    drop(vault);
    // Bound now: opening without the counter (which would let heads go uncounted) is refused.
    assert!(matches!(
        Vault::open_with_config(scratch.vault(), key(), config(&clock)),
        Err(Error::Vault(VaultError::CounterRequired))
    ));
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), with_counter()).unwrap();
    matched(&vault, "img2.jpg");
    drop(vault);
    restore(&scratch.vault(), &before, None);
    rolled_back(Vault::open_with_config(
        scratch.vault(),
        key(),
        with_counter(),
    ));
}

#[test]
fn counter_one_head_behind_is_a_power_cut_and_is_repaired() {
    let scratch = Scratch::new("counter-cut");
    let clock = ManualClock::new(START);
    let path = scratch.0.join("counter");
    let counter = Arc::new(FileCounter::new(&path));
    let with_counter = || config(&clock).counter(counter.clone());
    let vault = Vault::create_with_config(scratch.vault(), key(), with_counter()).unwrap();
    enrol(&vault, "alice", "img1.jpg");
    drop(vault);
    let value = u64::from_le_bytes(std::fs::read(&path).unwrap().try_into().unwrap());
    // The head was written, the counter not yet raised: a power cut between the two.
    std::fs::write(&path, (value - 1).to_le_bytes()).unwrap();
    let (vault, report) = Vault::open_with_config(scratch.vault(), key(), with_counter()).unwrap();
    assert!(report.counter_advanced);
    drop(vault);
    // Two behind is not a power cut: another counter, or a reset one.
    let value = u64::from_le_bytes(std::fs::read(&path).unwrap().try_into().unwrap());
    std::fs::write(&path, (value - 2).to_le_bytes()).unwrap();
    rolled_back(Vault::open_with_config(
        scratch.vault(),
        key(),
        with_counter(),
    ));
}

#[test]
fn restored_head_and_journal_detected_when_key_files_moved_on() {
    let scratch = Scratch::new("head-rollback");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    enrol(&vault, "alice", "img1.jpg");
    drop(vault);
    let before = files(&scratch.vault());
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    enrol(&vault, "bob", "img17.jpg");
    enrol(&vault, "carol", "img11.jpg");
    drop(vault);
    // The thief puts back the head and journal from before, hoping the two new keys pass for
    // power-cut debris (a cut leaves at most one).
    restore(&scratch.vault(), &before, Some(&["HEAD", "journal"]));
    rolled_back(Vault::open_with_config(
        scratch.vault(),
        key(),
        config(&clock),
    ));
}

#[test]
fn old_key_file_restored_after_revocation_detected() {
    let scratch = Scratch::new("key-rollback");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let alice = enrol(&vault, "alice", "img1.jpg");
    enrol(&vault, "bob", "img17.jpg");
    drop(vault);
    let before = files(&scratch.vault());
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    vault.revoke(alice.id()).unwrap();
    matched(&vault, "img17.jpg");
    drop(vault);
    let key_files: Vec<&str> = before
        .keys()
        .filter(|n| n.starts_with("keys."))
        .map(String::as_str)
        .collect();
    restore(&scratch.vault(), &before, Some(&key_files));
    let why = rolled_back(Vault::open_with_config(
        scratch.vault(),
        key(),
        config(&clock),
    ));
    assert!(why.contains("keys."), "{why}");
}

#[test]
fn named_grant_cut_to_declared_limit_survives_reopen() {
    let scratch = Scratch::new("declare");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let named = vault
        .grant_named(
            "door-access",
            SubjectId::new("alice").unwrap(),
            NOTICE,
            300 * DAY,
        )
        .unwrap();
    vault.declare::<DoorAccess>().unwrap();
    let limit = START.after(DoorAccess::MAX_VALIDITY);
    assert_eq!(vault.consents()[0].expires_at, limit);
    assert!(named.expires_at() <= limit);
    drop((named, vault));
    let (vault, _) = Vault::open_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    assert_eq!(vault.consents()[0].expires_at, limit);
    clock.advance(91 * DAY);
    assert_eq!(vault.sweep_expired().unwrap().len(), 1);
}

/// A clock one second later at every reading: opening takes "time".
struct Ticking(AtomicU64);

impl Clock for Ticking {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.fetch_add(1, Ordering::SeqCst))
    }
}

#[test]
fn a_consent_ending_while_the_vault_opens_does_not_stop_it() {
    let scratch = Scratch::new("ticking");
    let clock = ManualClock::new(START);
    let vault = Vault::create_with_config(scratch.vault(), key(), config(&clock)).unwrap();
    let token = enrol(&vault, "alice", "img1.jpg");
    let expires = token.expires_at().0;
    drop((token, vault));
    let before = files(&scratch.vault());
    // Whatever instant of the open the expiry falls on, the vault opens, without alice.
    for early in 0..12 {
        restore(&scratch.vault(), &before, None);
        let ticking = Ticking(AtomicU64::new(expires - early));
        let config = VaultConfig::new().clock(Arc::new(ticking));
        let (vault, _) = Vault::open_with_config(scratch.vault(), key(), config)
            .unwrap_or_else(|e| panic!("expiry {early} s after the open began: {e}"));
        drop(vault);
    }
}
