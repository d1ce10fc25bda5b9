//! Monotonic counters: the one thing outside the flash that tells the newest vault files from
//! an older, consistent copy of all of them (a full rollback).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::storage::io;
use super::VaultError;

/// A counter that only goes up, kept where the vault's files cannot take it back: a secure
/// element's counter, an eMMC RPMB block, a TPM NV counter.
///
/// The vault counts the heads it writes and raises the counter to that count after each one;
/// on open, a head older than the counter is a rollback ([`VaultError::RolledBack`]). Without
/// a counter, replacing *every* vault file with an older consistent copy cannot be detected;
/// with one, it always is.
pub trait MonotonicCounter: Send + Sync {
    /// The counter's current value.
    fn read(&self) -> Result<u64, VaultError>;
    /// Raises the counter to `value` (a no-op if it is already there or above); durable when
    /// it returns.
    fn advance(&self, value: u64) -> Result<(), VaultError>;
}

/// A [`MonotonicCounter`] in a file: for tests, simulations and devices whose counter file
/// lives on storage the vault's files do not (a separate, write-protected partition). On the
/// same flash as the vault it protects nothing against a thief who rolls back both.
#[derive(Debug)]
pub struct FileCounter {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileCounter {
    /// The counter in file `path` (created at 0 on the first advance).
    pub fn new(path: impl AsRef<Path>) -> Self {
        FileCounter {
            path: path.as_ref().to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    fn read_file(&self) -> Result<u64, VaultError> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                let array: [u8; 8] =
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| VaultError::Corrupt {
                            file: self.path.display().to_string(),
                        })?;
                Ok(u64::from_le_bytes(array))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io("read", &self.path)(e)),
        }
    }
}

impl MonotonicCounter for FileCounter {
    fn read(&self) -> Result<u64, VaultError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.read_file()
    }

    fn advance(&self, value: u64) -> Result<(), VaultError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.read_file()? >= value {
            return Ok(());
        }
        let tmp = self.path.with_extension("tmp");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io("create", &tmp))?;
        file.write_all(&value.to_le_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io("write", &tmp))?;
        fs::rename(&tmp, &self.path).map_err(io("rename", &self.path))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io("fsync directory", dir))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_counter_only_goes_up() {
        let dir = std::env::temp_dir().join(format!("fg-counter-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let counter = FileCounter::new(dir.join("counter"));
        assert_eq!(counter.read().unwrap(), 0);
        counter.advance(5).unwrap();
        counter.advance(3).unwrap();
        assert_eq!(counter.read().unwrap(), 5);
        assert_eq!(FileCounter::new(dir.join("counter")).read().unwrap(), 5);
        fs::remove_dir_all(&dir).unwrap();
    }
}
