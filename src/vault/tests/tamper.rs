//! Every flipped bit and every truncation of every file is caught; a wrong key, swapped
//! records and replayed old files are each rejected with their own error.

use super::super::{frame, keys};
use super::*;

/// A small vault: two people enrolled (one of them twice), one identification.
fn sample() -> (MemStorage, ManualClock) {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let token = enrol(&vault, 0);
    vault.enroll(template(&token, 10)).unwrap();
    enrol(&vault, 1);
    vault.identify(&probe(&vault, 1), 1).unwrap();
    (fs, clock)
}

fn with_file(fs: &MemStorage, name: &str, bytes: &[u8]) -> MemStorage {
    let copy = fs.after_crash(super::super::storage::mem::Outcome::Kept);
    copy.put(name, bytes);
    copy
}

#[test]
fn every_bit_flip_in_every_file_is_detected() {
    let (fs, clock) = sample();
    for (name, bytes) in fs.files() {
        for byte in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[byte] ^= 1 << bit;
                let opened = reopen(&with_file(&fs, &name, &bad), &clock);
                assert!(
                    opened.is_err(),
                    "{name}: flip of bit {bit} of byte {byte} went unnoticed"
                );
            }
        }
    }
}

#[test]
fn every_truncation_of_every_file_is_detected() {
    let (fs, clock) = sample();
    for (name, bytes) in fs.files() {
        for len in 0..bytes.len() {
            let copy = with_file(&fs, &name, &bytes[..len]);
            let files = copy.files();
            assert!(
                reopen(&copy, &clock).is_err(),
                "{name} cut to {len} bytes went unnoticed"
            );
            assert_eq!(
                copy.files(),
                files,
                "a vault that does not open is left as it was"
            );
        }
    }
}

#[test]
fn the_audit_log_pinpoints_an_edited_entry_and_keeps_what_precedes_it() {
    let (fs, clock) = sample();
    let journal = fs.read(super::super::journal::FILE).unwrap().unwrap();
    let mut bad = journal.clone();
    let at = journal.len() - 40; // inside the last entry
    bad[at] ^= 1;
    let copy = with_file(&fs, super::super::journal::FILE, &bad);
    let log = super::super::read_audit(&copy, &key(1)).unwrap();
    assert!(log.verify().is_err());
    assert_eq!(log.entries.len(), 6, "the intact entries stay readable");
    let good = super::super::read_audit(&fs, &key(1)).unwrap();
    assert_eq!(good.verify().ok(), Some(7));
    drop(clock);
}

#[test]
fn the_wrong_key_is_told_apart_from_tampering() {
    let (fs, clock) = sample();
    let wrong = Vault::open_in(Box::new(fs.clone()), key(2), config(&clock));
    assert!(matches!(wrong, Err(Error::Vault(VaultError::WrongKey))));
}

#[test]
fn swapped_data_keys_are_rejected_as_tampering() {
    let (fs, clock) = sample();
    let (a, b) = (keys::file_name(0, 1), keys::file_name(0, 2));
    let vault_id = reopen(&fs, &clock).unwrap().lock_inner().vault;
    let read =
        |name: &str| keys::decode(name, &fs.read(name).unwrap().unwrap(), &vault_id, 0).unwrap();
    let (mut ka, mut kb) = (read(&a), read(&b));
    std::mem::swap(ka.keys.get_mut(&1).unwrap(), kb.keys.get_mut(&2).unwrap());
    let copy = with_file(
        &fs,
        &a,
        &keys::encode(&vault_id, 0, ka.generation, &ka.keys),
    );
    copy.put(&b, &keys::encode(&vault_id, 0, kb.generation, &kb.keys));
    let err = vault_error(reopen(&copy, &clock));
    assert!(matches!(err, VaultError::Tampered { .. }), "{err}");
    // A key moved into another consent's file is caught too.
    let mut moved = read(&b);
    moved.keys.insert(1, read(&a).keys[&1].clone());
    let copy = with_file(
        &fs,
        &b,
        &keys::encode(&vault_id, 0, moved.generation, &moved.keys),
    );
    let err = vault_error(reopen(&copy, &clock));
    assert!(matches!(err, VaultError::Tampered { .. }), "{err}");
}

#[test]
fn a_key_file_put_where_another_kind_belongs_is_rejected() {
    let (fs, clock) = sample();
    let key_file = fs.read(&keys::file_name(0, 1)).unwrap().unwrap();
    let err = vault_error(reopen(
        &with_file(&fs, super::super::head::FILE, &key_file),
        &clock,
    ));
    assert!(matches!(err, VaultError::WrongKind { .. }), "{err}");
    let body = frame::encode(frame::Kind(*b"HEAD"), b"not a head");
    let err = vault_error(reopen(
        &with_file(&fs, super::super::head::FILE, &body),
        &clock,
    ));
    assert!(matches!(err, VaultError::Corrupt { .. }), "{err}");
}

#[test]
fn replayed_old_files_are_rejected_as_rolled_back() {
    let (fs, clock) = sample();
    let old = fs.files();
    let vault = reopen(&fs, &clock).unwrap();
    vault.revoke(crate::ConsentId(1)).unwrap();
    enrol(&vault, 2);
    enrol(&vault, 66); // consent 4, whose key shares a file with consent... 4
    drop(vault);
    let journal = super::super::journal::FILE;
    let head = super::super::head::FILE;
    // The journal from before the revocation: it would bring the revoked consent back.
    let err = vault_error(reopen(&with_file(&fs, journal, &old[journal]), &clock));
    assert!(
        matches!(err, VaultError::RolledBack { ref file, .. } if file == journal),
        "{err}"
    );
    // The head from before: the journal has entries it does not vouch for.
    let err = vault_error(reopen(&with_file(&fs, head, &old[head]), &clock));
    assert!(
        matches!(err, VaultError::RolledBack { ref file, .. } if file == head),
        "{err}"
    );
    // An old key file without the key of a consent granted since.
    let name = keys::file_name(0, 3);
    let copy = fs.after_crash(super::super::storage::mem::Outcome::Kept);
    copy.remove(&name).unwrap();
    let err = vault_error(reopen(&copy, &clock));
    assert!(
        matches!(err, VaultError::RolledBack { ref file, .. } if *file == name),
        "{err}"
    );
}

#[test]
fn a_head_restored_from_before_a_rotation_destroys_nothing() {
    let (fs, clock) = sample();
    let old_head = fs.read(super::super::head::FILE).unwrap().unwrap();
    let vault = reopen(&fs, &clock).unwrap();
    vault.rotate_key(key(2)).unwrap();
    drop(vault);
    let copy = with_file(&fs, super::super::head::FILE, &old_head);
    let files = copy.files();
    // The old key opens the old head, which vouches for fewer entries than the journal has.
    let err = vault_error(reopen(&copy, &clock));
    assert!(matches!(err, VaultError::RolledBack { .. }), "{err}");
    assert_eq!(copy.files(), files, "the new key files are still there");
    let restored = copy.after_crash(super::super::storage::mem::Outcome::Kept);
    restored.put(
        super::super::head::FILE,
        &fs.read(super::super::head::FILE).unwrap().unwrap(),
    );
    let vault = Vault::open_in(Box::new(restored), key(2), config(&clock))
        .unwrap()
        .0;
    assert_eq!(vault.template_count(), 3);
}

#[test]
fn a_file_from_another_vault_is_rejected() {
    let (fs, clock) = sample();
    let (other, _) = sample();
    let journal = super::super::journal::FILE;
    let err = vault_error(reopen(
        &with_file(&fs, journal, &other.read(journal).unwrap().unwrap()),
        &clock,
    ));
    assert!(matches!(err, VaultError::RolledBack { .. }), "{err}");
    let name = keys::file_name(0, 1);
    let err = vault_error(reopen(
        &with_file(&fs, &name, &other.read(&name).unwrap().unwrap()),
        &clock,
    ));
    assert!(matches!(err, VaultError::RolledBack { .. }), "{err}");
}
