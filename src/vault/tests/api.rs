use super::*;
use crate::consent::{ConsentError, ConsentStatus};
use crate::vault::Event;

#[test]
fn enrolled_templates_survive_a_reopen_and_are_found() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    for n in 0..3 {
        enrol(&vault, n);
    }
    assert_eq!(vault.subject_count(), 3);
    drop(vault);
    let vault = reopen(&fs, &clock).unwrap();
    assert_eq!(vault.subject_count(), 3);
    let found = vault.identify(&probe(&vault, 1), 1).unwrap();
    assert_eq!(found[0].subject, subject(1));
    assert!(found[0].is_match);
    let decision = vault.verify(&probe(&vault, 2), &subject(2)).unwrap();
    assert!(decision.is_match);
    assert!(
        !vault
            .verify(&probe(&vault, 2), &subject(0))
            .unwrap()
            .is_match
    );
}

#[test]
fn a_second_create_in_the_same_place_is_refused() {
    let (fs, clock) = (MemStorage::new(), clock());
    new_vault(&fs, &clock);
    let again = Vault::create_in(Box::new(fs.clone()), key(1), config(&clock));
    assert!(matches!(
        again,
        Err(Error::Vault(VaultError::AlreadyExists { .. }))
    ));
}

#[test]
fn revoked_consent_erases_templates_now_and_after_reopen() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let token = enrol(&vault, 0);
    enrol(&vault, 1);
    vault.revoke(token.id()).unwrap();
    assert_eq!(vault.template_count(), 1);
    assert!(matches!(
        vault.enroll(template(&token, 0)),
        Err(Error::Consent(ConsentError::Revoked { .. }))
    ));
    drop(vault);
    let vault = reopen(&fs, &clock).unwrap();
    assert_eq!(vault.template_count(), 1);
    let found = vault.identify(&probe(&vault, 0), 1).unwrap();
    assert_ne!(found[0].subject, subject(0));
    let record = &vault.consents()[0];
    assert_eq!(record.status_at(vault.now()), ConsentStatus::Revoked);
}

#[test]
fn revoking_an_unknown_subject_is_an_error() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    enrol(&vault, 0);
    assert!(matches!(
        vault.revoke_subject(&subject(9)),
        Err(Error::Consent(ConsentError::UnknownSubject(_)))
    ));
    assert_eq!(vault.revoke_subject(&subject(0)).unwrap().len(), 1);
    assert!(
        vault.revoke_subject(&subject(0)).is_err(),
        "already revoked"
    );
}

#[test]
fn expired_consent_is_swept_on_open_and_its_key_destroyed() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let short = vault.grant::<Door>(subject(0), NOTICE, DAY).unwrap();
    vault.enroll(template(&short, 0)).unwrap();
    enrol(&vault, 1);
    drop(vault);
    clock.advance(2 * DAY);
    let (vault, report) = Vault::open_in(Box::new(fs.clone()), key(1), config(&clock)).unwrap();
    assert_eq!(report.templates_loaded, 1);
    assert_eq!(vault.template_count(), 1);
    assert!(vault.lock_inner().consents[&short.id().get()].key.is_none());
    let log = vault.audit().unwrap();
    assert!(matches!(
        log.entries.last().unwrap().event,
        Event::Expired { ref consents } if consents == &[short.id().get()]
    ));
    // Swept once: a second open records nothing more.
    drop(vault);
    let vault = reopen(&fs, &clock).unwrap();
    assert_eq!(vault.audit().unwrap().entries.len(), log.entries.len());
}

#[test]
fn expiry_met_by_a_search_is_recorded_and_erased() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let short = vault.grant::<Door>(subject(0), NOTICE, DAY).unwrap();
    vault.enroll(template(&short, 0)).unwrap();
    clock.advance(2 * DAY);
    let found = vault.identify(&probe(&vault, 0), 1).unwrap();
    assert!(found.is_empty());
    let kinds: Vec<_> = vault
        .audit()
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(kinds.iter().any(|e| matches!(e, Event::Expired { .. })));
    assert!(matches!(
        kinds.last(),
        Some(Event::Identified { matched: None, .. })
    ));
}

#[test]
fn the_audit_log_records_every_action_without_biometric_data() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let token = enrol(&vault, 0);
    vault.identify(&probe(&vault, 0), 1).unwrap();
    vault.verify(&probe(&vault, 0), &subject(0)).unwrap();
    vault.revoke(token.id()).unwrap();
    vault.compact().unwrap();
    vault.rotate_key(key(2)).unwrap();
    let log = vault.audit().unwrap();
    assert_eq!(log.verify().ok(), Some(8));
    let mut lines = Vec::new();
    log.write_json_lines(&mut lines).unwrap();
    let text = String::from_utf8(lines).unwrap();
    let events: Vec<&str> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["at"].as_u64().unwrap() >= 1_790_000_000);
            match v["event"].as_str().unwrap() {
                "granted" => "granted",
                "created" => "created",
                "enrolled" => "enrolled",
                "identified" => "identified",
                "verified" => "verified",
                "revoked" => "revoked",
                "compacted" => "compacted",
                "key-rotation" => "key-rotation",
                other => panic!("unexpected event {other}"),
            }
        })
        .collect();
    assert_eq!(
        events,
        [
            "created",
            "granted",
            "enrolled",
            "identified",
            "verified",
            "revoked",
            "compacted",
            "key-rotation"
        ]
    );
    // The identification names a usage pseudonym; the person behind it was revoked, so the log
    // no longer says who that was, nor which consent.
    assert!(text.contains("\"matched\":\""), "{text}");
    assert!(!text.contains("\"matched\":1"), "{text}");
    assert!(!text.contains("badge-0"), "{text}");
    // No number long enough to be an embedding, no payload.
    assert!(
        !text.contains("payload") && !text.contains("vector"),
        "{text}"
    );
}

#[test]
fn purposes_named_at_run_time_are_checked_at_run_time() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let door = vault
        .grant_named("door-access", subject(0), NOTICE, DAY)
        .unwrap();
    let t: Template<crate::NamedPurpose> = Template::new(
        SecretVector::normalized(&face(0)).unwrap(),
        model(),
        door.cell.clone(),
    );
    vault.enroll(t).unwrap();
    // A typed probe of the same purpose name finds the named enrolment.
    let found = vault.identify(&probe(&vault, 0), 1).unwrap();
    assert_eq!(found[0].subject, subject(0));
    // A probe for another purpose sees another gallery, which is empty.
    let other = vault.probe_consent_named("attendance", NOTICE).unwrap();
    let p: ProbeTemplate<crate::NamedPurpose> = Template::new(
        SecretVector::normalized(&face(0)).unwrap(),
        model(),
        other.cell,
    );
    assert!(vault.identify(&p, 1).unwrap().is_empty());
    assert!(matches!(
        vault.grant_named("", subject(1), NOTICE, DAY),
        Err(Error::Consent(ConsentError::InvalidPurpose(_)))
    ));
}

#[test]
fn a_consent_of_another_ledger_is_refused() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let ledger = crate::ConsentLedger::new();
    let foreign = ledger.grant::<Door>(subject(0), NOTICE, DAY).unwrap();
    assert!(matches!(
        vault.enroll(template(&foreign, 0)),
        Err(Error::Consent(ConsentError::ForeignLedger { .. }))
    ));
}

#[test]
fn the_distinct_subject_count_spans_purposes() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    enrol(&vault, 0);
    let t = vault.token::<Door>(&enrol(&vault, 1).handle()).unwrap();
    vault.enroll(template(&t, 11)).unwrap();
    let named = vault
        .grant_named("attendance", subject(0), NOTICE, DAY)
        .unwrap();
    vault
        .enroll(Template::<crate::NamedPurpose>::new(
            SecretVector::normalized(&face(0)).unwrap(),
            model(),
            named.cell.clone(),
        ))
        .unwrap();
    assert_eq!(vault.template_count(), 4);
    assert_eq!(vault.subject_count(), 2);
    assert_eq!(vault.templates_of(&subject(1), Door::NAME), 2);
}

#[test]
fn a_vault_open_in_one_handle_is_busy_for_another() {
    let dir = std::env::temp_dir().join(format!("faceguard-busy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let vault = Vault::create(&dir, key(1)).unwrap();
    let second = Vault::open(&dir, key(1));
    assert!(matches!(second, Err(Error::Vault(VaultError::Busy { .. }))));
    assert!(matches!(
        Vault::read_audit(&dir, &key(1)),
        Err(Error::Vault(VaultError::Busy { .. }))
    ));
    drop(vault);
    assert!(
        Vault::open(&dir, key(1)).is_ok(),
        "the lock goes with the handle"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Storage that panics on the next journal append once armed: a bug deep in a write.
#[derive(Clone)]
struct PanickingStorage {
    inner: MemStorage,
    armed: Arc<std::sync::atomic::AtomicBool>,
}

impl Storage for PanickingStorage {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        self.inner.read(name)
    }
    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.inner.write_new(name, bytes)
    }
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // Half the entry reaches the medium, then the bug.
            self.inner.append(name, &bytes[..bytes.len() / 2])?;
            panic!("a bug in the middle of a write");
        }
        self.inner.append(name, bytes)
    }
    fn truncate(&self, name: &str, len: u64) -> Result<(), VaultError> {
        self.inner.truncate(name, len)
    }
    fn sync(&self, name: &str) -> Result<(), VaultError> {
        self.inner.sync(name)
    }
    fn rename(&self, from: &str, to: &str) -> Result<(), VaultError> {
        self.inner.rename(from, to)
    }
    fn remove(&self, name: &str) -> Result<(), VaultError> {
        self.inner.remove(name)
    }
    fn sync_dir(&self) -> Result<(), VaultError> {
        self.inner.sync_dir()
    }
    fn list(&self) -> Result<Vec<String>, VaultError> {
        self.inner.list()
    }
}

#[test]
fn a_panic_mid_write_poisons_the_vault_until_it_is_reopened() {
    let (fs, clock) = (MemStorage::new(), clock());
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let storage = PanickingStorage {
        inner: fs.clone(),
        armed: armed.clone(),
    };
    let vault = Vault::create_in(Box::new(storage), key(1), config(&clock)).unwrap();
    enrol(&vault, 0);
    armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        vault.grant::<Door>(subject(1), NOTICE, DAY)
    }));
    assert!(panicked.is_err());
    // The half-written entry is not built upon: every later write is refused.
    assert!(matches!(
        vault.grant::<Door>(subject(2), NOTICE, DAY),
        Err(Error::Vault(VaultError::Poisoned))
    ));
    assert!(matches!(
        vault.identify(&probe(&vault, 0), 1),
        Err(Error::Vault(VaultError::Poisoned))
    ));
    drop(vault);
    // Reopening recovers: the torn entry is cut, the first enrolment is there.
    let vault = reopen(&fs, &clock).unwrap();
    assert_eq!(vault.template_count(), 1);
    vault.grant::<Door>(subject(2), NOTICE, DAY).unwrap();
}
