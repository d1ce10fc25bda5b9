//! The file operations the vault is built on, behind a trait so that tests can cut the power
//! at any of them.
//!
//! [`DirStorage`] is the real thing: files in one directory. Tests use an in-memory file
//! system that models what a power cut keeps (see `storage::mem`): data written but not
//! flushed with [`sync`](Storage::sync) may be lost, kept, or torn, and a name created or
//! renamed is durable only once the directory is flushed with [`sync_dir`](Storage::sync_dir).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::VaultError;

#[cfg(test)]
pub(crate) mod mem;

/// A flat directory of files, with the durability calls the vault's crash safety rests on.
/// Names are plain file names (no separators).
pub trait Storage: Send + Sync {
    /// The whole file, or `None` if there is no such file.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError>;
    /// Creates or truncates `name` and writes `bytes` (not yet durable).
    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError>;
    /// Appends `bytes` to `name`, creating it if needed (not yet durable).
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError>;
    /// Cuts `name` to `len` bytes (not yet durable).
    fn truncate(&self, name: &str, len: u64) -> Result<(), VaultError>;
    /// Makes the contents of `name` durable (`fsync`).
    fn sync(&self, name: &str) -> Result<(), VaultError>;
    /// Renames `from` over `to`, atomically (not yet durable).
    fn rename(&self, from: &str, to: &str) -> Result<(), VaultError>;
    /// Removes `name` if it exists (not yet durable).
    fn remove(&self, name: &str) -> Result<(), VaultError>;
    /// Makes the names created, renamed and removed so far durable (`fsync` of the directory).
    fn sync_dir(&self) -> Result<(), VaultError>;
    /// The names of the files present.
    fn list(&self) -> Result<Vec<String>, VaultError>;
}

/// A vault directory on the real file system.
#[derive(Debug, Clone)]
pub struct DirStorage {
    dir: PathBuf,
    /// The exclusive lock on the directory's `LOCK` file, once taken.
    lock: Option<std::sync::Arc<File>>,
}

/// The file a [`DirStorage`] locks so that one vault has one writer.
pub const LOCK_FILE: &str = "LOCK";

impl DirStorage {
    /// Uses `dir`, creating it (and its parents) if needed, readable by its owner only.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self, VaultError> {
        let dir = dir.as_ref().to_path_buf();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(io("create directory", &dir))?;
        Ok(DirStorage { dir, lock: None })
    }

    /// Uses the existing directory `dir`.
    pub fn existing(dir: impl AsRef<Path>) -> Result<Self, VaultError> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(VaultError::NoVault {
                dir: dir.display().to_string(),
                why: "no such directory".into(),
            });
        }
        Ok(DirStorage { dir, lock: None })
    }

    /// Takes an exclusive lock on the directory (a `LOCK` file, `flock`), held until this
    /// storage and its clones are dropped: a second process or handle opening the same vault
    /// gets [`VaultError::Busy`] instead of interleaving its writes with this one's.
    pub fn locked(mut self) -> Result<Self, VaultError> {
        let path = self.dir.join(LOCK_FILE);
        let file = owner_only(OpenOptions::new().write(true).create(true).truncate(false))
            .open(&path)
            .map_err(io("open", &path))?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(std::sync::Arc::new(file));
                Ok(self)
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(VaultError::Busy {
                dir: self.dir.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(io("lock", &path)(e)),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// New files are readable and writable by their owner only (where the platform says so).
fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

pub(crate) fn io<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> VaultError + 'a {
    move |source| VaultError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

impl Storage for DirStorage {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        let path = self.path(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        let path = self.path(name);
        let mut file = owner_only(OpenOptions::new().write(true).create(true).truncate(true))
            .open(&path)
            .map_err(io("create", &path))?;
        file.write_all(bytes).map_err(io("write", &path))
    }

    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        let path = self.path(name);
        let mut file = owner_only(OpenOptions::new().append(true).create(true))
            .open(&path)
            .map_err(io("open", &path))?;
        file.write_all(bytes).map_err(io("append to", &path))
    }

    fn truncate(&self, name: &str, len: u64) -> Result<(), VaultError> {
        let path = self.path(name);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(len))
            .map_err(io("truncate", &path))
    }

    fn sync(&self, name: &str) -> Result<(), VaultError> {
        let path = self.path(name);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io("fsync", &path))
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), VaultError> {
        let target = self.path(to);
        fs::rename(self.path(from), &target).map_err(io("rename", &target))
    }

    fn remove(&self, name: &str) -> Result<(), VaultError> {
        let path = self.path(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", &path)(e)),
            _ => Ok(()),
        }
    }

    fn sync_dir(&self) -> Result<(), VaultError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync directory", &self.dir))
    }

    fn list(&self) -> Result<Vec<String>, VaultError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io("list", &self.dir))? {
            let entry = entry.map_err(io("list", &self.dir))?;
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}
