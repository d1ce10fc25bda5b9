//! Replacing a file so that a power cut at any instant leaves either the old or the new one.
//!
//! The new contents go to a temporary file beside the target, which is flushed to the medium
//! (`fsync`) before it is renamed over the target; then the directory is flushed, so that the
//! rename itself is durable. POSIX `rename` is atomic: a reader (or a reboot) sees the old
//! file or the new one, never a mix. A crash before the rename leaves a stray temporary file,
//! which [`remove_leftovers`] deletes when the vault is opened.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use super::VaultError;

const TMP_SUFFIX: &str = ".tmp";

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> VaultError + 'a {
    move |source| VaultError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

/// Atomically replaces (or creates) `dir/name` with `bytes`, durably.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}{TMP_SUFFIX}"));
    {
        let mut file = File::create(&tmp).map_err(io("create", &tmp))?;
        file.write_all(bytes).map_err(io("write", &tmp))?;
        file.sync_all().map_err(io("fsync", &tmp))?;
    }
    fs::rename(&tmp, &target).map_err(io("rename", &target))?;
    sync_dir(dir)
}

/// Flushes a directory's entries (the names created, renamed and removed in it).
pub fn sync_dir(dir: &Path) -> Result<(), VaultError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync directory", dir))
}

/// `dir/name`'s contents, or `None` if there is no such file.
pub fn read(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", &path)(e)),
    }
}

/// Deletes the temporary files a crash left behind; returns how many.
pub fn remove_leftovers(dir: &Path) -> Result<usize, VaultError> {
    let mut removed = 0;
    for entry in fs::read_dir(dir).map_err(io("list", dir))? {
        let entry = entry.map_err(io("list", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(TMP_SUFFIX) {
            fs::remove_file(entry.path()).map_err(io("remove", &entry.path()))?;
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(label: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("faceguard-atomic-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replace_writes_then_replaces_whole_files() {
        let dir = temp_dir("replace");
        assert_eq!(read(&dir, "keys").unwrap(), None);
        replace(&dir, "keys", b"first").unwrap();
        replace(&dir, "keys", b"second, longer").unwrap();
        assert_eq!(
            read(&dir, "keys").unwrap().as_deref(),
            Some(&b"second, longer"[..])
        );
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file is left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_crash_before_the_rename_leaves_the_old_file_and_a_leftover_that_is_cleaned() {
        let dir = temp_dir("crash");
        replace(&dir, "keys", b"old").unwrap();
        // What a power cut between writing the temporary file and renaming it leaves.
        fs::write(dir.join(".keys.tmp"), b"new, half writ").unwrap();
        assert_eq!(read(&dir, "keys").unwrap().as_deref(), Some(&b"old"[..]));
        assert_eq!(remove_leftovers(&dir).unwrap(), 1);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_io_error_naming_the_path() {
        let dir = std::env::temp_dir().join("faceguard-no-such-dir-for-atomic-test");
        let err = replace(&dir, "keys", b"x").unwrap_err();
        assert!(matches!(err, VaultError::Io { op: "create", .. }), "{err}");
        assert!(err.to_string().contains("faceguard-no-such-dir"), "{err}");
    }
}
