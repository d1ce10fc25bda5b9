/// Why the vault refused to store or load something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// A key of the wrong length.
    #[error("a vault key is {expected} bytes, got {got}")]
    KeyLength { expected: usize, got: usize },
    /// The key does not open this vault (its fingerprint differs from the vault's).
    #[error("wrong vault key: this vault was sealed under another key")]
    WrongKey,
    /// A record failed authentication: altered, moved to another subject, purpose or file, or
    /// sealed under another key.
    #[error("{what} failed authentication: it was altered, moved or sealed under another key")]
    Tampered { what: String },
    /// A file ends before its header or body does.
    #[error("{file} is truncated: {needed} bytes needed, {got} present")]
    Truncated { file: String, needed: u64, got: u64 },
    /// Not a faceguard vault file.
    #[error("{file} is not a faceguard vault file")]
    NotAVaultFile { file: String },
    /// A vault file of a format this version cannot read.
    #[error("{file} has format version {found}; this faceguard reads version {supported}")]
    UnsupportedVersion {
        file: String,
        found: u16,
        supported: u16,
    },
    /// A vault file of another kind than expected (a template file where the key file should
    /// be, say).
    #[error("{file} holds {found}, not {expected}")]
    WrongKind {
        file: String,
        expected: &'static str,
        found: String,
    },
    /// A file whose checksum does not match its contents: a torn write or flipped bits.
    #[error("{file} is corrupt: its checksum does not match its contents")]
    Corrupt { file: String },
    /// A vault file longer than a file of its kind can be (see
    /// [`storage::max_len`](super::storage::max_len)): planted or damaged when it is read,
    /// refused before anything of it is allocated; or a write that would take it past that
    /// length, refused before anything is written.
    #[error("{file} is or would become {len} bytes, more than the {max} a vault file of its kind may hold")]
    TooLarge { file: String, len: u64, max: u64 },
    /// Another handle (in this process or another) has the vault open.
    #[error("{dir} is open elsewhere: one vault takes one writer at a time")]
    Busy { dir: String },
    /// A key rotation to the key already in use (or past the last epoch).
    #[error("the new vault key is the key already in use")]
    SameKey,
    /// There is no vault (or no complete one) at this place.
    #[error("no faceguard vault in {dir}: {why}")]
    NoVault { dir: String, why: String },
    /// `create` was asked to make a vault where one already exists.
    #[error("{dir} already holds a faceguard vault")]
    AlreadyExists { dir: String },
    /// A file is an older copy than the rest of the vault says it must be: a rollback to
    /// undo a revocation, or a restore from an old backup.
    #[error("{file} was replaced by an older copy: {why}")]
    RolledBack { file: String, why: String },
    /// Storage failed earlier in this session, so what is on the medium is unknown until
    /// the vault is opened again (which recovers it).
    #[error("the vault is unusable after a failed write; open it again to recover")]
    Poisoned,
    /// A record's plaintext, authenticated but not understood (written by a newer version).
    #[error("{what} cannot be read: {why}")]
    Malformed { what: String, why: String },
    /// The monotonic counter could not be read or raised.
    #[error("the monotonic counter failed: {why}")]
    Counter { why: String },
    /// The vault is bound to a monotonic counter and was opened without one.
    #[error("this vault is bound to a monotonic counter: open it with the counter (VaultConfig::counter, fg_vault_open_with_counter)")]
    CounterRequired,
    /// The operating system's random generator failed.
    #[error("no randomness for a nonce or key: {0}")]
    Random(String),
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}
