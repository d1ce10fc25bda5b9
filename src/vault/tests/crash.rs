//! A power cut at every write and flush of each operation, then a reboot: the vault always
//! opens, holds exactly the state before or after the operation, and loses nothing committed.

use super::super::storage::mem::OUTCOMES;
use super::*;

/// Runs `op` after `setup` once to count its writes, then again with the power cut at each of
/// them under each cache outcome, and checks each reboot.
fn cut_power_everywhere(
    setup: impl Fn(&Vault),
    op: impl Fn(&Vault) -> Result<(), Error>,
    keys: &[u8],
) -> usize {
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
    let mut checked = 0;
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
            let vault = keys
                .iter()
                .find_map(|&k| {
                    match Vault::open_in(
                        Box::new(rebooted.clone()),
                        key(k),
                        Arc::new(clock.clone()),
                    ) {
                        Ok((v, _)) => Some(v),
                        Err(Error::Vault(VaultError::WrongKey)) => None,
                        Err(e) => panic!("cut {cut}, {outcome:?}: the vault does not open: {e}"),
                    }
                })
                .unwrap_or_else(|| panic!("cut {cut}, {outcome:?}: no key opens the vault"));
            let found = snapshot(&vault);
            assert!(
                found == before || found == after,
                "cut {cut}, {outcome:?}: {found:?}\nbefore: {before:?}\nafter: {after:?}"
            );
            let log = vault.audit().unwrap();
            assert!(
                log.verify().is_ok(),
                "cut {cut}, {outcome:?}: {:?}",
                log.problem
            );
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
            let again =
                Vault::open_in(Box::new(rebooted.clone()), key(*k), Arc::new(clock.clone()))
                    .unwrap()
                    .0;
            assert_eq!(snapshot(&again), state, "cut {cut}, {outcome:?}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn a_power_cut_during_a_grant_leaves_the_old_or_new_state() {
    let n = cut_power_everywhere(
        |v| {
            enrol(v, 0);
        },
        |v| v.grant::<Door>(subject(1), NOTICE, DAY).map(drop),
        &[1],
    );
    // Key file (write, flush, rename, flush directory), journal (append, flush), head (4).
    assert_eq!(n, 3 * 10, "{n} cuts");
}

#[test]
fn a_power_cut_during_enrolment_leaves_the_old_or_new_state() {
    let n = cut_power_everywhere(
        |v| {
            enrol(v, 0);
            v.grant::<Door>(subject(1), NOTICE, DAY).unwrap();
        },
        |v| {
            let token = v.token::<Door>(crate::ConsentId(2))?;
            v.enroll(template(&token, 1))
        },
        &[1],
    );
    assert_eq!(n, 3 * 6, "{n} cuts");
}

#[test]
fn a_power_cut_during_a_second_enrolment_under_one_consent_leaves_the_old_or_new_state() {
    cut_power_everywhere(
        |v| {
            enrol(v, 0);
        },
        |v| {
            let token = v.token::<Door>(crate::ConsentId(1))?;
            v.enroll(template(&token, 1))
        },
        &[1],
    );
}

#[test]
fn a_power_cut_during_revocation_leaves_the_old_or_new_state() {
    cut_power_everywhere(
        |v| {
            enrol(v, 0);
            enrol(v, 1);
        },
        |v| v.revoke(crate::ConsentId(1)).map(drop),
        &[1],
    );
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
    );
}

#[test]
fn a_power_cut_during_key_rotation_leaves_the_vault_under_the_old_or_new_key() {
    cut_power_everywhere(
        |v| {
            for n in 0..3 {
                enrol(v, n);
            }
        },
        |v| v.rotate_key(key(2)),
        &[1, 2],
    );
}
