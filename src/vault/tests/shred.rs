//! Crypto-shredding: after a revocation and a compaction, nothing of the person's template or
//! data key is left in the files, in any form; after a key rotation, old copies of the files
//! do not open with the current key.

use super::super::journal;
use super::*;
use crate::vault::storage::mem::Outcome;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every 8-byte window of every form the secret took.
fn leaks(fs: &MemStorage, forms: &[Vec<u8>]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, bytes) in fs.files() {
        for (i, form) in forms.iter().enumerate() {
            if form
                .chunks(8)
                .filter(|c| c.len() == 8)
                .any(|c| contains(&bytes, c))
            {
                found.push(format!("form {i} in {name}"));
            }
        }
    }
    found
}

#[test]
fn after_revocation_and_compaction_no_trace_of_template_or_key_remains() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    enrol(&vault, 1);
    let token = enrol(&vault, 0);
    let id = token.id().get();
    let (data_key, wrapped) = {
        let inner = vault.lock_inner();
        let (k, w) = inner.consents[&id].key.as_ref().unwrap();
        (k.bytes().to_vec(), w.clone())
    };
    let unit = SecretVector::normalized(&face(0)).unwrap();
    let plain: Vec<u8> = unit
        .as_slice()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bytes = fs.read(journal::FILE).unwrap().unwrap();
    let scan = journal::scan(&bytes, &vault.lock_inner().vault);
    let sealed = scan.entries.last().unwrap().payload.unwrap().to_vec();
    let forms = vec![plain, data_key, wrapped, sealed];
    let before = leaks(&fs, &forms);
    assert!(
        before.contains(&"form 2 in keys.0.02".to_string()),
        "{before:?}"
    );
    assert!(
        before.contains(&"form 3 in journal".to_string()),
        "{before:?}"
    );

    vault.revoke(token.id()).unwrap();
    let after_revoke = leaks(&fs, &forms);
    assert_eq!(
        after_revoke,
        ["form 3 in journal"],
        "the key is gone at once"
    );
    assert_eq!(vault.compact().unwrap(), 1);
    assert_eq!(leaks(&fs, &forms), Vec::<String>::new());
    // The other person is untouched, and the chain still verifies.
    drop(vault);
    let vault = reopen(&fs, &clock).unwrap();
    assert_eq!(vault.template_count(), 1);
    assert!(vault.audit().unwrap().verify().is_ok());
}

#[test]
fn after_rotation_a_copy_taken_before_the_revocation_does_not_open() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    let token = enrol(&vault, 0);
    enrol(&vault, 1);
    // A thief copies the flash.
    let stolen = fs.after_crash(Outcome::Kept);
    vault.revoke(token.id()).unwrap();
    vault.compact().unwrap();
    vault.rotate_key(key(2)).unwrap(); // key 1 is retired (destroyed) by the firmware
    drop(vault);
    // The current key opens the vault, not the stolen copy.
    let current = Vault::open_in(Box::new(fs.clone()), key(2), config(&clock));
    assert_eq!(current.unwrap().0.template_count(), 1);
    let old = Vault::open_in(Box::new(stolen.clone()), key(2), config(&clock));
    assert!(matches!(old, Err(Error::Vault(VaultError::WrongKey))));
    // Nor can the stolen key files be read with the current head's key.
    let err = Vault::open_in(Box::new(fs.clone()), key(1), config(&clock));
    assert!(matches!(err, Err(Error::Vault(VaultError::WrongKey))));
    for (name, bytes) in stolen.files() {
        if name.starts_with("keys.") {
            let mixed = fs.after_crash(Outcome::Kept);
            mixed.put(&name, &bytes);
            let opened = Vault::open_in(Box::new(mixed), key(2), config(&clock));
            // Stale-epoch files are deleted, never read: the revoked consent stays revoked.
            let vault = opened.unwrap().0;
            assert_eq!(vault.template_count(), 1);
        }
    }
}

#[test]
fn rotation_rewraps_keys_without_touching_templates() {
    let (fs, clock) = (MemStorage::new(), clock());
    let vault = new_vault(&fs, &clock);
    for n in 0..3 {
        enrol(&vault, n);
    }
    let journal_before = fs.read(journal::FILE).unwrap().unwrap();
    vault.rotate_key(key(2)).unwrap();
    let journal_after = fs.read(journal::FILE).unwrap().unwrap();
    assert!(
        journal_after.starts_with(&journal_before),
        "templates are not re-encrypted"
    );
    assert!(fs.files().keys().all(|n| !n.starts_with("keys.0.")));
    assert!(matches!(
        vault.rotate_key(key(2)),
        Err(Error::Vault(VaultError::SameKey))
    ));
    drop(vault);
    let vault = Vault::open_in(Box::new(fs.clone()), key(2), config(&clock))
        .unwrap()
        .0;
    assert_eq!(vault.template_count(), 3);
    assert_eq!(
        vault.identify(&probe(&vault, 2), 1).unwrap()[0].subject,
        subject(2)
    );
}
