//! Replacing a file so that a power cut at any instant leaves either the old or the new one.
//!
//! The new contents go to a temporary file beside the target, which is flushed to the medium
//! (`fsync`) before it is renamed over the target; then the directory is flushed, so that the
//! rename itself is durable. POSIX `rename` is atomic: a reader (or a reboot) sees the old
//! file or the new one, never a mix. A crash before the rename leaves a stray temporary file,
//! which [`remove_leftovers`] deletes when the vault is opened.

use super::storage::Storage;
use super::VaultError;

const TMP_SUFFIX: &str = ".tmp";

/// The temporary name `replace` writes `name` under.
pub fn temp_name(name: &str) -> String {
    format!(".{name}{TMP_SUFFIX}")
}

/// Atomically replaces (or creates) `name` with `bytes`, durably.
pub fn replace(storage: &dyn Storage, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
    let tmp = temp_name(name);
    storage.write_new(&tmp, bytes)?;
    storage.sync(&tmp)?;
    storage.rename(&tmp, name)?;
    storage.sync_dir()
}

/// Deletes the temporary files a crash left behind; returns how many.
pub fn remove_leftovers(storage: &dyn Storage) -> Result<usize, VaultError> {
    let mut removed = 0;
    for name in storage.list()? {
        if name.starts_with('.') && name.ends_with(TMP_SUFFIX) {
            storage.remove(&name)?;
            removed += 1;
        }
    }
    if removed > 0 {
        storage.sync_dir()?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::super::storage::mem::{MemStorage, Outcome, OUTCOMES};
    use super::super::storage::DirStorage;
    use super::*;

    #[test]
    fn replace_writes_then_replaces_whole_files() {
        let dir = std::env::temp_dir().join(format!("faceguard-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = DirStorage::create(&dir).unwrap();
        assert_eq!(storage.read("keys").unwrap(), None);
        replace(&storage, "keys", b"first").unwrap();
        replace(&storage, "keys", b"second, longer").unwrap();
        assert_eq!(
            storage.read("keys").unwrap().as_deref(),
            Some(&b"second, longer"[..])
        );
        assert_eq!(
            storage.list().unwrap(),
            [super::super::storage::LOCK_FILE, "keys"],
            "no temporary file is left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_power_cut_at_any_step_leaves_the_old_file_or_the_new_one() {
        for step in 0..4 {
            for outcome in OUTCOMES {
                let fs = MemStorage::new();
                replace(&fs, "keys", b"old contents").unwrap();
                fs.crash_after(step);
                assert!(replace(&fs, "keys", b"new contents, longer").is_err());
                let rebooted = fs.after_crash(outcome);
                remove_leftovers(&rebooted).unwrap();
                let found = rebooted.read("keys").unwrap().unwrap();
                assert!(
                    found == b"old contents" || found == b"new contents, longer",
                    "step {step}, {outcome:?}: {found:?}"
                );
                assert_eq!(rebooted.list().unwrap(), ["keys"]);
            }
        }
        // After the directory is flushed, the new file is there whatever the cache kept.
        let fs = MemStorage::new();
        replace(&fs, "keys", b"new").unwrap();
        let rebooted = fs.after_crash(Outcome::Lost);
        assert_eq!(rebooted.read("keys").unwrap().as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn a_missing_directory_is_an_io_error_naming_the_path() {
        let dir = std::env::temp_dir().join("faceguard-no-such-dir-for-atomic-test");
        let storage = DirStorage::existing(&dir);
        assert!(matches!(storage, Err(VaultError::NoVault { .. })));
        let storage = DirStorage::create(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let err = replace(&storage, "keys", b"x").unwrap_err();
        assert!(matches!(err, VaultError::Io { op: "create", .. }), "{err}");
        assert!(err.to_string().contains("faceguard-no-such-dir"), "{err}");
    }
}
