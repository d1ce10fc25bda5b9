//! The file operations the vault is built on, behind a trait so that tests can cut the power
//! at any of them.
//!
//! [`DirStorage`] is the real thing: files in one directory, locked for one writer, each file
//! capped in length by its kind ([`max_len`]). Tests use an in-memory file system that models
//! what a power cut keeps (see `storage::mem`): data written but not flushed with
//! [`sync`](Storage::sync) may be lost, kept, or torn, and a name created or renamed is
//! durable only once the directory is flushed with [`sync_dir`](Storage::sync_dir).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{head, keys, VaultError};

#[cfg(test)]
pub(crate) mod mem;

/// A flat directory of files, with the durability calls the vault's crash safety rests on.
/// Names are plain file names (no separators).
pub trait Storage: Send + Sync {
    /// The whole file, or `None` if there is no such file. An implementation must not
    /// allocate what a file merely claims: [`DirStorage`] refuses a file longer than its kind
    /// allows ([`max_len`]) with [`VaultError::TooLarge`], from its length, before reading it.
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

/// The longest journal a vault reads or writes: 1 GiB.
///
/// The journal grows by one entry per event (about 2.1 KB per enrolled 512-d template, a few
/// hundred bytes per grant, revocation or identification) and is read whole when the vault
/// opens: this is far more than a camera's vault holds, and the most a planted journal can
/// make [`DirStorage`] allocate. A write that would take the journal past it is refused with
/// [`VaultError::TooLarge`], so the vault never writes a journal it could not open.
pub const MAX_JOURNAL_LEN: u64 = 1 << 30;

/// The most bytes the vault file called `name` may hold, by its kind: the head (64 KiB), a key
/// file (65,536 wrapped keys: 4,456,536 bytes), or the journal and any other name
/// ([`MAX_JOURNAL_LEN`]). The temporary file of an atomic replacement counts as the file it
/// replaces.
pub fn max_len(name: &str) -> u64 {
    // The temporary name of `atomic::temp_name`: ".{name}.tmp".
    let name = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .unwrap_or(name);
    if name == head::FILE {
        head::MAX_FILE_LEN
    } else if keys::epoch_of(name).is_some() {
        keys::MAX_FILE_LEN
    } else {
        MAX_JOURNAL_LEN
    }
}

/// A vault directory on the real file system, locked for one writer.
///
/// Every constructor takes an exclusive lock on the directory (a `LOCK` file, `flock`), held
/// until this storage and its clones are dropped: a second process or handle opening the same
/// directory gets [`VaultError::Busy`] instead of interleaving its writes with this one's.
/// There is no unlocked `DirStorage`.
///
/// Every file's length is capped by its kind ([`max_len`]: the head 64 KiB, a key file about
/// 4.3 MiB, the journal 1 GiB). A longer file (planted or damaged, even a sparse one that takes
/// no disk) is refused with [`VaultError::TooLarge`] from its length, before anything is
/// allocated for it; at most cap + 1 bytes are ever read, so a file that grows while it is
/// read cannot pass the cap either. A write that would take a file past its cap is refused
/// the same way, before anything is written: the vault never writes a file it would refuse to
/// read. Anything but a regular file under a vault file's name (a device, a pipe) is
/// [`VaultError::NotAVaultFile`].
#[derive(Debug, Clone)]
pub struct DirStorage {
    dir: PathBuf,
    /// The exclusive lock on the directory's `LOCK` file, released with the last clone.
    _lock: Arc<File>,
}

/// The file a [`DirStorage`] locks so that one vault has one writer.
pub const LOCK_FILE: &str = "LOCK";

impl DirStorage {
    /// Uses `dir`, creating it (and its parents) if needed, readable by its owner only, and
    /// locks it ([`VaultError::Busy`] if it is locked already). Each directory it creates is
    /// made durable (`fsync` of its parent), so that a power cut cannot lose it, and with it
    /// the vault then written into it.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self, VaultError> {
        let dir = dir.as_ref().to_path_buf();
        create_dirs(&dir)?;
        Self::lock(dir)
    }

    /// Uses the existing directory `dir` and locks it: [`VaultError::NoVault`] if there is no
    /// such directory, [`VaultError::Busy`] if it is locked already.
    pub fn existing(dir: impl AsRef<Path>) -> Result<Self, VaultError> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(VaultError::NoVault {
                dir: dir.display().to_string(),
                why: "no such directory".into(),
            });
        }
        Self::lock(dir)
    }

    /// Takes the exclusive lock on `dir`.
    fn lock(dir: PathBuf) -> Result<Self, VaultError> {
        let path = dir.join(LOCK_FILE);
        let file = owner_only(OpenOptions::new().write(true).create(true).truncate(false))
            .open(&path)
            .map_err(io("open", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(DirStorage {
                dir,
                _lock: Arc::new(file),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(VaultError::Busy {
                dir: dir.display().to_string(),
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

/// Creates `dir` and its missing parents (owner only), flushing each new directory's parent
/// so that its name is durable; returns the directories it created, outermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, VaultError> {
    let mut missing = Vec::new();
    let mut next = Some(dir);
    while let Some(p) = next.filter(|p| !p.as_os_str().is_empty()) {
        match fs::symlink_metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(p),
            _ => break,
        }
        next = p.parent();
    }
    let mut created = Vec::new();
    for p in missing.into_iter().rev() {
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(p) {
            Ok(()) => {}
            // Made meanwhile by someone else, who flushes it.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.is_dir() => continue,
            Err(e) => return Err(io("create directory", p)(e)),
        }
        let parent = match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync directory", parent))?;
        created.push(p.to_path_buf());
    }
    if !dir.is_dir() {
        return Err(io("create directory", dir)(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "something other than a directory is in the way",
        )));
    }
    Ok(created)
}

/// New files are readable and writable by their owner only (where the platform says so).
fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

/// [`VaultError::TooLarge`] if `len` bytes are more than `max`.
fn check_len(name: &str, len: u64, max: u64) -> Result<(), VaultError> {
    if len > max {
        return Err(VaultError::TooLarge {
            file: name.to_string(),
            len,
            max,
        });
    }
    Ok(())
}

fn not_a_file(name: &str) -> VaultError {
    VaultError::NotAVaultFile {
        file: format!("{name} (not a regular file)"),
    }
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
        let max = max_len(name);
        // Looked at before opening: opening a pipe would wait for a writer.
        match fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", &path)(e)),
            Ok(meta) if !meta.is_file() => return Err(not_a_file(name)),
            Ok(_) => {}
        }
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", &path)(e)),
        };
        let meta = file.metadata().map_err(io("read", &path))?;
        if !meta.is_file() {
            return Err(not_a_file(name));
        }
        check_len(name, meta.len(), max)?;
        // At most max + 1 bytes, whatever the file does meanwhile.
        // (A capacity hint: the length is at most the cap, far below `usize::MAX`.)
        let expected = usize::try_from(meta.len()).unwrap_or(0);
        let mut bytes = Vec::with_capacity(expected.saturating_add(1));
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io("read", &path))?;
        check_len(name, bytes.len() as u64, max)?;
        Ok(Some(bytes))
    }

    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        check_len(name, bytes.len() as u64, max_len(name))?;
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
        let len = file.metadata().map_err(io("append to", &path))?.len();
        check_len(name, len.saturating_add(bytes.len() as u64), max_len(name))?;
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

#[cfg(test)]
mod tests {
    use super::super::atomic;
    use super::*;

    /// A fresh directory under the system temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("faceguard-storage-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn each_vault_file_kind_has_its_cap() {
        assert_eq!(max_len(head::FILE), head::MAX_FILE_LEN);
        assert_eq!(max_len(&atomic::temp_name(head::FILE)), head::MAX_FILE_LEN);
        let key_file = keys::file_name(3, 17);
        assert_eq!(max_len(&key_file), keys::MAX_FILE_LEN);
        assert_eq!(max_len(&atomic::temp_name(&key_file)), keys::MAX_FILE_LEN);
        assert_eq!(max_len("journal"), MAX_JOURNAL_LEN);
        assert_eq!(max_len(&atomic::temp_name("journal")), MAX_JOURNAL_LEN);
        // The figures the documentation gives.
        assert_eq!(head::MAX_FILE_LEN, 64 * 1024);
        assert_eq!(keys::MAX_FILE_LEN, 4_456_536);
        assert_eq!(MAX_JOURNAL_LEN, 1 << 30);
    }

    #[test]
    fn a_key_file_at_its_cap_holds_the_most_keys_and_decodes() {
        let vault = [9; 16];
        let full: std::collections::BTreeMap<u64, Vec<u8>> = (0..keys::MAX_KEYS_PER_FILE as u64)
            .map(|i| (i * keys::BUCKETS, vec![0xA5; keys::WRAPPED_LEN]))
            .collect();
        let bytes = keys::encode(&vault, 0, 1, &full);
        assert_eq!(bytes.len() as u64, keys::MAX_FILE_LEN);
        assert_eq!(
            keys::decode("keys.0.00", &bytes, &vault, 0)
                .unwrap()
                .keys
                .len(),
            full.len()
        );
    }

    #[test]
    fn writes_past_a_files_cap_are_refused_before_anything_is_written() {
        let scratch = Scratch::new("write-caps");
        let fs_ = DirStorage::create(&scratch.0).unwrap();
        let too_long = vec![0u8; head::MAX_FILE_LEN as usize + 1];
        assert!(matches!(
            fs_.write_new(head::FILE, &too_long),
            Err(VaultError::TooLarge { len, max, .. })
                if len == head::MAX_FILE_LEN + 1 && max == head::MAX_FILE_LEN
        ));
        assert!(matches!(
            atomic::replace(&fs_, head::FILE, &too_long),
            Err(VaultError::TooLarge { .. })
        ));
        assert_eq!(fs_.list().unwrap(), [LOCK_FILE], "nothing was created");
        fs_.write_new(head::FILE, &too_long[1..]).unwrap();
        assert_eq!(
            fs_.read(head::FILE).unwrap().map(|b| b.len() as u64),
            Some(head::MAX_FILE_LEN),
            "a file at its cap is read"
        );

        // A journal one byte short of its cap (sparse) takes one byte more, not two.
        fs_.write_new("journal", b"j").unwrap();
        fs_.truncate("journal", MAX_JOURNAL_LEN - 1).unwrap();
        assert!(matches!(
            fs_.append("journal", b"xy"),
            Err(VaultError::TooLarge { len, .. }) if len == MAX_JOURNAL_LEN + 1
        ));
        let len = || fs::metadata(scratch.0.join("journal")).unwrap().len();
        assert_eq!(len(), MAX_JOURNAL_LEN - 1, "nothing was appended");
        fs_.append("journal", b"x").unwrap();
        assert_eq!(len(), MAX_JOURNAL_LEN);
    }

    #[cfg(unix)]
    #[test]
    fn a_device_under_a_vault_files_name_is_not_read() {
        let scratch = Scratch::new("device");
        let fs_ = DirStorage::create(&scratch.0).unwrap();
        std::os::unix::fs::symlink("/dev/zero", scratch.0.join("journal")).unwrap();
        assert!(matches!(
            fs_.read("journal"),
            Err(VaultError::NotAVaultFile { .. })
        ));
    }

    #[test]
    fn create_makes_each_new_directory_durable_and_owner_only() {
        let scratch = Scratch::new("mkdir");
        fs::create_dir_all(&scratch.0).unwrap();
        let deep = scratch.0.join("a").join("b");
        assert_eq!(
            create_dirs(&deep).unwrap(),
            [scratch.0.join("a"), deep.clone()],
            "each directory it made, whose parent it flushed"
        );
        #[cfg(unix)]
        for dir in [scratch.0.join("a"), deep.clone()] {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
        assert!(
            create_dirs(&deep).unwrap().is_empty(),
            "nothing new to flush"
        );
        fs::write(scratch.0.join("file"), b"x").unwrap();
        assert!(matches!(
            DirStorage::create(scratch.0.join("file")),
            Err(VaultError::Io {
                op: "create directory",
                ..
            })
        ));
    }

    #[test]
    fn no_dir_storage_exists_without_the_lock() {
        let scratch = Scratch::new("lock");
        let first = DirStorage::create(&scratch.0).unwrap();
        let busy = |r: Result<DirStorage, VaultError>| matches!(r, Err(VaultError::Busy { .. }));
        assert!(busy(DirStorage::existing(&scratch.0)));
        assert!(busy(DirStorage::create(&scratch.0)));
        let clone = first.clone();
        drop(first);
        assert!(busy(DirStorage::existing(&scratch.0)), "a clone holds it");
        drop(clone);
        let again = DirStorage::existing(&scratch.0).expect("released with the last clone");
        drop(again);
    }
}
