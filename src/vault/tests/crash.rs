//! A power cut at every write and flush of each operation, then a reboot: the vault always
//! opens, holds exactly the state before or after the operation, and loses nothing committed.

use super::super::keys;
use super::super::storage::mem::{Outcome, OUTCOMES};
use super::*;

/// Opens `fs` with the first of `keys` that is not the wrong one.
fn open_any(fs: &MemStorage, keys: &[u8], clock: &ManualClock) -> Result<Vault, Error> {
    let mut last = Err(Error::Vault(VaultError::WrongKey));
    for &k in keys {
        last = Vault::open_in(Box::new(fs.clone()), key(k), config(clock)).map(|(v, _)| v);
        if !matches!(last, Err(Error::Vault(VaultError::WrongKey))) {
            break;
        }
    }
    last
}

/// Runs `op` after `setup` once to count its writes, then again with the power cut at each of
/// them under each cache outcome, and checks each reboot: the vault opens, holds the state
/// before or after, verifies its audit log, passes `check`, and a second open writes nothing.
/// Then the power is cut again during each repair write of that first reboot, and the vault
/// must still open to the same state.
fn cut_power_everywhere(
    setup: impl Fn(&Vault),
    op: impl Fn(&Vault) -> Result<(), Error>,
    keys: &[u8],
    check: impl Fn(&MemStorage, &Snapshot),
) -> (usize, usize) {
    let clock = clock();
    let fs = MemStorage::new();
    let vault = new_vault(&fs, &clock);
    setup(&vault);
    let before = snapshot(&vault);
    let start = fs.ops();
    op(&vault).unwrap();
    let writes = fs.ops() - start;
    let after = snapshot(&vault);
    assert!(writes > 0);
    let (mut checked, mut repaired) = (0, 0);
    for cut in 0..writes {
        for outcome in OUTCOMES {
            let fs = MemStorage::new();
            let vault = new_vault(&fs, &clock);
            setup(&vault);
            fs.crash_after(cut);
            assert!(op(&vault).is_err(), "cut {cut}: the operation must fail");
            assert!(fs.crashed());
            drop(vault);
            let rebooted = fs.after_crash(outcome);
            let pristine = rebooted.after_crash(Outcome::Kept);
            let start = rebooted.ops();
            let vault = open_any(&rebooted, keys, &clock)
                .unwrap_or_else(|e| panic!("cut {cut}, {outcome:?}: the vault does not open: {e}"));
            let repairs = rebooted.ops() - start;
            repaired += usize::from(repairs > 0);
            let found = snapshot(&vault);
            assert!(
                found == before || found == after,
                "cut {cut}, {outcome:?}: {found:?}\nbefore: {before:?}\nafter: {after:?}"
            );
            check(&rebooted, &found);
            let log = vault.audit().unwrap();
            assert!(
                log.verify().is_ok(),
                "cut {cut}, {outcome:?}: {:?}",
                log.problem
            );
            drop(vault);
            // Repaired once, for good: a second open writes nothing.
            let start = rebooted.ops();
            let vault = open_any(&rebooted, keys, &clock).unwrap();
            assert_eq!(
                rebooted.ops(),
                start,
                "cut {cut}, {outcome:?}: the second open wrote"
            );
            assert_eq!(snapshot(&vault), found);
            // A power cut during the repairs themselves.
            for again in 0..repairs {
                let copy = pristine.after_crash(Outcome::Kept);
                copy.crash_after(again);
                assert!(open_any(&copy, keys, &clock).is_err());
                for outcome_again in OUTCOMES {
                    let rebooted_again = copy.after_crash(outcome_again);
                    let v = open_any(&rebooted_again, keys, &clock).unwrap_or_else(|e| {
                        panic!("cut {cut}, {outcome:?}, repair cut {again}: does not open: {e}")
                    });
                    assert_eq!(
                        snapshot(&v),
                        found,
                        "cut {cut}, {outcome:?}, repair cut {again}"
                    );
                }
            }
            // The recovered vault works, and a second reboot finds the same.
            let token = vault.grant::<Door>(subject(99), NOTICE, DAY).unwrap();
            vault.enroll(template(&token, 99)).unwrap();
            let state = snapshot(&vault);
            let key_now = vault.key_fingerprint();
            drop(vault);
            let k = keys
                .iter()
                .find(|&&k| key(k).fingerprint() == key_now)
                .unwrap();
            let again = Vault::open_in(Box::new(rebooted.clone()), key(*k), config(&clock))
                .unwrap()
                .0;
            assert_eq!(snapshot(&again), state, "cut {cut}, {outcome:?}");
            checked += 1;
        }
    }
    (checked, repaired)
}

#[test]
fn a_power_cut_during_a_grant_leaves_the_old_or_new_state() {
    let (n, _) = cut_power_everywhere(
        |v| {
            enrol(v, 0);
        },
        |v| v.grant::<Door>(subject(1), NOTICE, DAY).map(drop),
        &[1],
        |_, _| {},
    );
    // Key file (write, flush, rename, flush directory), journal (append, flush), head (4).
    assert_eq!(n, 3 * 10, "{n} cuts");
}

#[test]
fn a_power_cut_during_enrolment_leaves_the_old_or_new_state() {
    let (n, repaired) = cut_power_everywhere(
        |v| {
            enrol(v, 0);
            v.grant::<Door>(subject(1), NOTICE, DAY).unwrap();
        },
        |v| {
            let token = v.token::<Door>(&v.handle_of(2))?;
            v.enroll(template(&token, 1))
        },
        &[1],
        |_, _| {},
    );
    assert_eq!(n, 3 * 6, "{n} cuts");
    assert!(
        repaired > 0,
        "some reboots had a torn entry to cut or a head to update"
    );
}

#[test]
fn a_power_cut_during_a_second_enrolment_under_one_consent_leaves_the_old_or_new_state() {
    cut_power_everywhere(
        |v| {
            enrol(v, 0);
        },
        |v| {
            let token = v.token::<Door>(&v.handle_of(1))?;
            v.enroll(template(&token, 1))
        },
        &[1],
        |_, _| {},
    );
}

#[test]
fn a_power_cut_during_revocation_leaves_the_old_or_new_state() {
    let (_, repaired) = cut_power_everywhere(
        |v| {
            enrol(v, 0);
            enrol(v, 1);
        },
        |v| v.revoke(crate::ConsentId(1)).map(drop),
        &[1],
        |fs, state| {
            // Once the revocation is in, its key is gone from the key file too.
            let revoked = state.consents.iter().any(|c| c.0 == 1 && c.2);
            let name = keys::file_name(0, 1);
            let held = fs.read(&name).unwrap().is_some_and(|bytes| {
                let vault = bytes[24..40].try_into().unwrap();
                keys::decode(&name, &bytes, &vault, 0)
                    .unwrap()
                    .keys
                    .contains_key(&1)
            });
            assert_eq!(
                held, !revoked,
                "key of consent #1 held: {held}, revoked: {revoked}"
            );
        },
    );
    assert!(repaired > 0, "some reboots finished destroying the key");
}

#[test]
fn a_power_cut_during_compaction_leaves_the_old_or_new_state() {
    cut_power_everywhere(
        |v| {
            enrol(v, 0);
            enrol(v, 1);
            v.revoke(crate::ConsentId(1)).unwrap();
        },
        |v| v.compact().map(drop),
        &[1],
        |_, _| {},
    );
}

#[test]
fn a_power_cut_during_key_rotation_leaves_the_vault_under_the_old_or_new_key() {
    let (_, repaired) = cut_power_everywhere(
        |v| {
            for n in 0..3 {
                enrol(v, n);
            }
        },
        |v| v.rotate_key(key(2)),
        &[1, 2],
        |fs, _| {
            let epochs: std::collections::BTreeSet<u32> = fs
                .list()
                .unwrap()
                .iter()
                .filter_map(|n| keys::epoch_of(n))
                .collect();
            assert_eq!(epochs.len(), 1, "key files of one epoch remain: {epochs:?}");
        },
    );
    assert!(repaired > 0, "some reboots cleaned up a rotation");
}

#[test]
fn a_power_cut_during_a_deletion_request_revokes_every_consent_of_the_person_or_none() {
    let (_, repaired) = cut_power_everywhere(
        |v| {
            enrol(v, 0);
            enrol(v, 1);
            enrol(v, 1);
        },
        |v| v.revoke_subject(&subject(1)).map(drop),
        &[1],
        |fs, state| {
            // Both of the person's consents end together, and their keys go with them.
            let revoked: Vec<bool> = state
                .consents
                .iter()
                .filter(|c| c.0 >= 2)
                .map(|c| c.2)
                .collect();
            assert!(
                revoked.iter().all(|&r| r) || revoked.iter().all(|&r| !r),
                "{revoked:?}"
            );
            for id in [2, 3] {
                let name = keys::file_name(0, id);
                let held = fs.read(&name).unwrap().is_some_and(|bytes| {
                    let vault = bytes[24..40].try_into().unwrap();
                    keys::decode(&name, &bytes, &vault, 0)
                        .unwrap()
                        .keys
                        .contains_key(&id)
                });
                assert_eq!(held, !revoked[0], "key of consent #{id}");
            }
        },
    );
    assert!(repaired > 0, "some reboots finished destroying the keys");
}
