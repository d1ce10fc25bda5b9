//! An in-memory file system that models power cuts, for the fault-injection tests.
//!
//! Each file's contents exist twice: as the program sees them (`current`) and as the medium
//! holds them (`durable`, set by [`Storage::sync`]). Names exist twice too: the directory as
//! seen, and as made durable by [`Storage::sync_dir`]. The power is cut at the `n`-th
//! mutating call (that call and every later one fail), and [`MemStorage::after_crash`] then
//! builds what a reboot could find: for every file and name, the durable state, the state as
//! seen, or (for data appended since the last sync) a torn prefix of it.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::{Storage, VaultError};

#[derive(Clone, Default)]
struct Inode {
    current: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Default)]
struct State {
    inodes: Vec<Inode>,
    names: BTreeMap<String, usize>,
    durable_names: BTreeMap<String, usize>,
    /// Mutating calls made so far.
    ops: usize,
    /// The call at which the power is cut.
    crash_at: Option<usize>,
    crashed: bool,
}

/// What a reboot after a power cut finds of the writes that were not yet flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing that was not flushed.
    Lost,
    /// Everything, as if the cache had been written out just in time.
    Kept,
    /// Names as seen; contents durable plus the first half of what was written since.
    Torn,
}

pub(crate) const OUTCOMES: [Outcome; 3] = [Outcome::Lost, Outcome::Kept, Outcome::Torn];

/// See the module documentation. Clones share one file system.
#[derive(Clone, Default)]
pub(crate) struct MemStorage(Arc<Mutex<State>>);

impl MemStorage {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cuts the power at the `n`-th mutating call from now (0: the next one).
    pub(crate) fn crash_after(&self, n: usize) {
        let mut s = self.lock();
        s.crash_at = Some(s.ops + n);
    }

    /// Mutating calls made so far.
    pub(crate) fn ops(&self) -> usize {
        self.lock().ops
    }

    /// Whether the power has been cut.
    pub(crate) fn crashed(&self) -> bool {
        self.lock().crashed
    }

    /// The file system a reboot finds, with the power back on.
    pub(crate) fn after_crash(&self, outcome: Outcome) -> MemStorage {
        let s = self.lock();
        let names = match outcome {
            Outcome::Lost => &s.durable_names,
            Outcome::Kept | Outcome::Torn => &s.names,
        };
        let mut state = State::default();
        for (name, &ino) in names {
            let inode = &s.inodes[ino];
            let bytes = match outcome {
                Outcome::Lost => inode.durable.clone(),
                Outcome::Kept => inode.current.clone(),
                Outcome::Torn if inode.current.starts_with(&inode.durable) => {
                    let extra = inode.current.len() - inode.durable.len();
                    inode.current[..inode.durable.len() + extra / 2].to_vec()
                }
                Outcome::Torn => inode.durable.clone(),
            };
            state.inodes.push(Inode {
                current: bytes.clone(),
                durable: bytes,
            });
            let ino = state.inodes.len() - 1;
            state.names.insert(name.clone(), ino);
            state.durable_names.insert(name.clone(), ino);
        }
        MemStorage(Arc::new(Mutex::new(state)))
    }

    /// A copy of every file, as seen now.
    pub(crate) fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let s = self.lock();
        s.names
            .iter()
            .map(|(n, &i)| (n.clone(), s.inodes[i].current.clone()))
            .collect()
    }

    /// Replaces (or creates) a file, durably: what an attacker with the flash does.
    pub(crate) fn put(&self, name: &str, bytes: &[u8]) {
        let mut s = self.lock();
        s.inodes.push(Inode {
            current: bytes.to_vec(),
            durable: bytes.to_vec(),
        });
        let ino = s.inodes.len() - 1;
        s.names.insert(name.to_string(), ino);
        s.durable_names.insert(name.to_string(), ino);
    }

    /// Counts a mutating call, failing it if the power is (or just went) off.
    fn mutate<T>(&self, op: impl FnOnce(&mut State) -> T) -> Result<T, VaultError> {
        let mut s = self.lock();
        if s.crashed || s.crash_at == Some(s.ops) {
            s.crashed = true;
            return Err(VaultError::Io {
                op: "write",
                path: "(memory)".into(),
                source: io::Error::other("power cut"),
            });
        }
        s.ops += 1;
        Ok(op(&mut s))
    }
}

fn not_found(name: &str) -> VaultError {
    VaultError::Io {
        op: "open",
        path: name.to_string(),
        source: io::Error::from(io::ErrorKind::NotFound),
    }
}

impl Storage for MemStorage {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        let s = self.lock();
        Ok(s.names.get(name).map(|&i| s.inodes[i].current.clone()))
    }

    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.mutate(|s| {
            // Truncating an existing file keeps its inode (and its durable contents).
            match s.names.get(name) {
                Some(&ino) => s.inodes[ino].current = bytes.to_vec(),
                None => {
                    s.inodes.push(Inode {
                        current: bytes.to_vec(),
                        durable: Vec::new(),
                    });
                    let ino = s.inodes.len() - 1;
                    s.names.insert(name.to_string(), ino);
                }
            }
        })
    }

    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.mutate(|s| match s.names.get(name) {
            Some(&ino) => s.inodes[ino].current.extend_from_slice(bytes),
            None => {
                s.inodes.push(Inode {
                    current: bytes.to_vec(),
                    durable: Vec::new(),
                });
                let ino = s.inodes.len() - 1;
                s.names.insert(name.to_string(), ino);
            }
        })
    }

    fn truncate(&self, name: &str, len: u64) -> Result<(), VaultError> {
        self.mutate(|s| match s.names.get(name) {
            Some(&ino) => {
                s.inodes[ino].current.truncate(len as usize);
                Ok(())
            }
            None => Err(not_found(name)),
        })?
    }

    fn sync(&self, name: &str) -> Result<(), VaultError> {
        self.mutate(|s| match s.names.get(name) {
            Some(&ino) => {
                let inode = &mut s.inodes[ino];
                inode.durable = inode.current.clone();
                Ok(())
            }
            None => Err(not_found(name)),
        })?
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), VaultError> {
        self.mutate(|s| match s.names.remove(from) {
            Some(ino) => {
                s.names.insert(to.to_string(), ino);
                Ok(())
            }
            None => Err(not_found(from)),
        })?
    }

    fn remove(&self, name: &str) -> Result<(), VaultError> {
        self.mutate(|s| {
            s.names.remove(name);
        })
    }

    fn sync_dir(&self) -> Result<(), VaultError> {
        self.mutate(|s| s.durable_names = s.names.clone())
    }

    fn list(&self) -> Result<Vec<String>, VaultError> {
        Ok(self.lock().names.keys().cloned().collect())
    }
}
