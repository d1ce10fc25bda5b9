//! `fg_vault`: consent, enrolment, identification, verification, retention and the audit log,
//! on the encrypted vault. Purposes are strings here, checked at run time against each consent
//! and each gallery; templates are computed inside and never returned.

use std::ffi::c_char;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use fg::vault::{OpenReport, Vault, VaultConfig, VaultKey};
use fg::{ConsentHandle, ConsentId, ImageView, Matcher, NamedPurpose, ProbeConsent, SubjectId};

use crate::counter::{fg_counter, CallbackCounter};
use crate::engine::{fg_engine, fg_face};
use crate::guard::{self, arg, out, text, Failure, Outcome};
use crate::image::fg_image;
use crate::log::{self, fg_log_level};
use crate::status::fg_status::{self, *};

/// The encrypted vault in a directory.
///
/// Thread-safety: a vault may be used from several threads at once; changes are serialised
/// inside, searches run in parallel. Free it once, after every other call using it returned.
pub struct fg_vault {
    vault: Vault,
    /// What opening the vault found and repaired (nothing for a vault just created).
    report: OpenReport,
    /// Set when a call on this handle panicked: every later call is refused.
    panicked: AtomicBool,
}

impl fg_vault {
    /// A new handle for the caller, after logging what opening the vault found (`name` is
    /// the C function's; `created` for a new vault).
    fn boxed(name: &str, vault: Vault, report: OpenReport, created: bool) -> *mut fg_vault {
        log_open(name, &vault, &report, created);
        Box::into_raw(Box::new(fg_vault {
            vault,
            report,
            panicked: AtomicBool::new(false),
        }))
    }
}

/// Logs a vault created or opened: what it holds (`FG_LOG_INFO`), and each repair opening it
/// made (`FG_LOG_WARN`).
fn log_open(name: &str, vault: &Vault, r: &OpenReport, created: bool) {
    if created {
        log::emit(fg_log_level::FG_LOG_INFO, &format!("{name}: vault created"));
        return;
    }
    log::emit_with(fg_log_level::FG_LOG_INFO, || {
        format!(
            "{name}: vault opened: {} templates of {} subjects loaded, {} of ended consents \
             awaiting fg_vault_compact",
            r.templates_loaded,
            vault.subject_count(),
            r.templates_erased
        )
    });
    let mut repairs = Vec::new();
    if r.torn_bytes > 0 {
        repairs.push(format!(
            "cut {} bytes of a journal entry torn by a power cut",
            r.torn_bytes
        ));
    }
    if r.rolled_forward {
        repairs.push("brought the head up to the last committed entry".to_string());
    }
    if r.keys_destroyed > 0 {
        repairs.push(format!(
            "destroyed {} data keys of ended consents left by an interrupted revocation",
            r.keys_destroyed
        ));
    }
    if r.leftovers_removed > 0 {
        repairs.push(format!(
            "removed {} temporary files of interrupted replacements",
            r.leftovers_removed
        ));
    }
    if r.stale_key_files > 0 {
        repairs.push(format!(
            "deleted {} key files of another key epoch (an interrupted or completed rotation)",
            r.stale_key_files
        ));
    }
    if !repairs.is_empty() {
        log::emit(
            fg_log_level::FG_LOG_WARN,
            &format!("{name}: recovered: {}", repairs.join("; ")),
        );
    }
    if r.counter_advanced {
        log::emit(
            fg_log_level::FG_LOG_INFO,
            &format!(
                "{name}: the monotonic counter was raised to the vault's head (it was one head \
                 behind, or new: the vault is bound to it from now on)"
            ),
        );
    }
    if r.clock_behind_secs > 0 {
        log::emit(
            fg_log_level::FG_LOG_WARN,
            &format!(
                "{name}: the clock is {} s behind the latest time the vault recorded: \
                 decisions use that time until the device's clock is set right",
                r.clock_behind_secs
            ),
        );
    }
}

/// Runs a call on `handle` (the caller's vault pointer, `None` for NULL) under the panic
/// boundary: refused with `FG_ERR_VAULT_POISONED` if an earlier call on this handle panicked;
/// a panic in this one becomes `FG_ERR_INTERNAL` and marks the handle so. The panic may have
/// struck mid-write: only opening the vault again, which recovers it as after a power cut,
/// makes its state known.
fn call(
    name: &'static str,
    handle: Option<&fg_vault>,
    body: impl FnOnce() -> Outcome,
) -> fg_status {
    guard::call_on(name, handle.map(|v| &v.panicked), body)
}

/// Longest subject id, in bytes (without the terminating NUL).
pub const FG_SUBJECT_MAX: usize = 128;
/// Size of a subject id buffer: `FG_SUBJECT_MAX` bytes and the NUL.
pub const FG_SUBJECT_BUFFER: usize = 129;
const _: () = assert!(FG_SUBJECT_BUFFER == FG_SUBJECT_MAX + 1);
const _: () = assert!(FG_SUBJECT_MAX == fg::SubjectId::MAX_LEN);

/// The false-match rate of a vault's default threshold (the bundled `fr_feature` embedder's
/// threshold for this rate): one stranger in a thousand. `fg_vault_set_target_fmr` sets
/// another rate for one purpose.
// A literal, so that cbindgen writes it into the header; the assertion keeps it the library's.
pub const FG_DEFAULT_TARGET_FMR: f64 = 1e-3;
const _: () = assert!(FG_DEFAULT_TARGET_FMR == fg::DEFAULT_TARGET_FMR);

/// The most photos `fg_vault_enroll_fused` fuses into one template.
pub const FG_MAX_FUSED_PHOTOS: usize = 8;
const _: () = assert!(FG_MAX_FUSED_PHOTOS == fg::MAX_FUSED_PHOTOS);

/// One identification candidate. Set `struct_size` of element 0 of the array given to
/// `fg_vault_identify` (see the header's top comment).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fg_candidate {
    /// `sizeof(fg_candidate)`.
    pub struct_size: u32,
    /// The enrolled subject's id, NUL-terminated.
    pub subject: [c_char; FG_SUBJECT_BUFFER],
    /// The consent the matching template was enrolled under.
    pub consent: u64,
    /// Cosine similarity of the subject's best template.
    pub score: f32,
    /// Whether `score` reaches the decision threshold.
    pub is_match: bool,
}

/// The outcome of a 1:1 verification. Set `struct_size` before the call.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct fg_decision {
    /// `sizeof(fg_decision)`.
    pub struct_size: u32,
    /// Cosine similarity of the claimed subject's best template.
    pub score: f32,
    /// The threshold applied.
    pub threshold: f32,
    /// `score >= threshold`.
    pub is_match: bool,
}

/// What opening a vault found and repaired (`fg_vault_recovery`). Set `struct_size` before
/// the call. All zero (false) for a vault created by this handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct fg_recovery_report {
    /// `sizeof(fg_recovery_report)`.
    pub struct_size: u32,
    /// Whether the last journal entry was committed but not yet vouched for by the head (a
    /// power cut between the two), and the head was brought up to date.
    pub rolled_forward: bool,
    /// Whether the monotonic counter was raised to the vault's head: it was one head behind
    /// (a power cut between a head write and the counter's update), or new (at 0), binding a
    /// vault made without a counter to it from now on.
    pub counter_advanced: bool,
    /// Bytes of a torn last journal entry (a power cut mid-append), cut off.
    pub torn_bytes: u64,
    /// Temporary files of interrupted replacements, deleted.
    pub leftovers_removed: u64,
    /// Data keys of ended consents still in the key files (a power cut mid-revocation),
    /// destroyed.
    pub keys_destroyed: u64,
    /// Key files of another key epoch (an interrupted or completed rotation), deleted.
    pub stale_key_files: u64,
    /// Templates loaded, ready for identification and verification.
    pub templates_loaded: u64,
    /// Templates whose consent has ended: undecryptable, awaiting `fg_vault_compact`.
    pub templates_erased: u64,
    /// How far the clock was behind the latest time the vault had recorded, in seconds (0 if
    /// it was not): the vault decides at that recorded time, never earlier, until the
    /// device's clock is set right.
    pub clock_behind_secs: u64,
}

guard::versioned!(fg_candidate, fg_decision, fg_recovery_report);

impl From<&OpenReport> for fg_recovery_report {
    fn from(r: &OpenReport) -> Self {
        fg_recovery_report {
            struct_size: 0,
            rolled_forward: r.rolled_forward,
            counter_advanced: r.counter_advanced,
            torn_bytes: r.torn_bytes,
            leftovers_removed: r.leftovers_removed as u64,
            keys_destroyed: r.keys_destroyed as u64,
            stale_key_files: r.stale_key_files as u64,
            templates_loaded: r.templates_loaded as u64,
            templates_erased: r.templates_erased as u64,
            clock_behind_secs: r.clock_behind_secs,
        }
    }
}

/// What opening the vault of this handle found and repaired (see `fg_recovery_report`):
/// `fg_vault_open` and `fg_vault_open_with_counter` recover from any interrupted write before
/// they return, and this says what they did. `report->struct_size` must be at least this
/// version's `sizeof(fg_recovery_report)` (`FG_ERR_INVALID_ARGUMENT`).
///
/// # Safety
/// `vault` is NULL or valid; `report` is NULL or valid for its `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_recovery(
    vault: *const fg_vault,
    report: *mut fg_recovery_report,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_recovery", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, out) = unsafe { (arg(vault)?, guard::Out::new(report)?) };
        out.write(fg_recovery_report::from(&vault.report));
        Ok(())
    })
}

/// # Safety
/// `key` is NULL or valid for `key_len` bytes.
unsafe fn vault_key(key: *const u8, key_len: usize) -> Result<VaultKey, Failure> {
    // SAFETY: per the caller's contract.
    let bytes = unsafe { guard::bytes(key, key_len)? };
    VaultKey::from_bytes(bytes).map_err(guard::status)
}

/// The probe template of `face` in `image`, under a one-off consent for `purpose` given after
/// `notice` (never stored; it ends with the template).
///
/// # Safety
/// The image's planes are valid for reads of their lengths during the call.
unsafe fn probe_parts<'i>(
    vault: &fg_vault,
    engine: &'i fg_engine,
    image: &'i fg_image,
    purpose: &str,
    notice: &str,
) -> Result<(&'i fg::Engine, ImageView<'i>, ProbeConsent<NamedPurpose>), Failure> {
    let engine = engine.full()?;
    // SAFETY: the planes are valid for their lengths, per this function's contract.
    let view = unsafe { image.view()? };
    let consent = vault
        .vault
        .probe_consent_named(purpose, notice)
        .map_err(guard::status)?;
    Ok((engine, view, consent))
}

fn subject(id: &str) -> Result<SubjectId, Failure> {
    SubjectId::new(id).map_err(guard::status)
}

/// Creates a vault in directory `dir` (created if needed) under the 32-byte `key`, which the
/// caller keeps (in a secure element) and wipes from its own memory. `*out` is the open vault.
/// `FG_ERR_VAULT_EXISTS` if `dir` already holds a vault (open it with `fg_vault_open`).
///
/// # Safety
/// `dir` is NULL or NUL-terminated; `key` is NULL or valid for `key_len` bytes; `out` is NULL
/// or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_create(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    out: *mut *mut fg_vault,
) -> fg_status {
    guard::call("fg_vault_create", || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (dir, key, out) = unsafe { (text(dir)?, vault_key(key, key_len)?, self::out(out)?) };
        let vault = Vault::create(dir, key).map_err(guard::status)?;
        *out = fg_vault::boxed("fg_vault_create", vault, OpenReport::default(), true);
        Ok(())
    })
}

/// Opens the vault in `dir` with `key`, recovering from any interrupted write.
/// `FG_ERR_WRONG_KEY`, `FG_ERR_TAMPERED`, `FG_ERR_CORRUPT` and `FG_ERR_ROLLED_BACK` say why a
/// vault does not open.
///
/// # Safety
/// As for `fg_vault_create`.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_open(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    out: *mut *mut fg_vault,
) -> fg_status {
    guard::call("fg_vault_open", || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (dir, key, out) = unsafe { (text(dir)?, vault_key(key, key_len)?, self::out(out)?) };
        let (vault, report) = Vault::open(dir, key).map_err(guard::status)?;
        *out = fg_vault::boxed("fg_vault_open", vault, report, false);
        Ok(())
    })
}

/// A vault made by `make` from the checked arguments of a `_with_counter` constructor: the
/// directory, the key and a configuration holding the caller's monotonic counter.
///
/// # Safety
/// `dir` is NULL or NUL-terminated; `key` is NULL or valid for `key_len` bytes; `counter` is
/// NULL or valid for reads of `counter->struct_size` bytes (`CallbackCounter::from_raw` checks
/// that they cover the fields this version reads); `out` is NULL or valid for a write.
unsafe fn counted_vault(
    name: &'static str,
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    counter: *const fg_counter,
    out: *mut *mut fg_vault,
    make: impl FnOnce(&str, VaultKey, VaultConfig) -> Result<(Vault, Option<OpenReport>), fg::Error>,
) -> fg_status {
    guard::call(name, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (dir, key, counter, out) = unsafe {
            (
                text(dir)?,
                vault_key(key, key_len)?,
                CallbackCounter::from_raw(counter)?,
                self::out(out)?,
            )
        };
        let config = VaultConfig::new().counter(Arc::new(counter));
        let (vault, report) = make(dir, key, config).map_err(guard::status)?;
        let created = report.is_none();
        *out = fg_vault::boxed(name, vault, report.unwrap_or_default(), created);
        Ok(())
    })
}

/// `fg_vault_create`, bound to the device's monotonic counter (see `fg_counter`): every
/// commit raises it, so that opening with the same counter detects files rolled back to an
/// older copy (`FG_ERR_ROLLED_BACK`). `FG_ERR_COUNTER` if a callback fails.
///
/// # Safety
/// As for `fg_vault_create`; `counter` is NULL or points to an `fg_counter` whose
/// `struct_size` bytes are readable, and whose `context` outlives the vault.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_create_with_counter(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    counter: *const fg_counter,
    out: *mut *mut fg_vault,
) -> fg_status {
    // SAFETY: the caller's contract is this function's.
    unsafe {
        counted_vault(
            "fg_vault_create_with_counter",
            dir,
            key,
            key_len,
            counter,
            out,
            |dir, key, config| Ok((Vault::create_with_config(dir, key, config)?, None)),
        )
    }
}

/// `fg_vault_open`, checked against the device's monotonic counter (see `fg_counter`):
/// `FG_ERR_ROLLED_BACK` if the vault's files are older than the counter says (every file
/// replaced by an older copy included), or if the counter is not this vault's. A vault bound
/// to a counter opens only with it (`fg_vault_open` answers `FG_ERR_COUNTER`); a vault never
/// bound to one is bound to a new counter (at 0) the first time it is opened with it.
///
/// # Safety
/// As for `fg_vault_create_with_counter`.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_open_with_counter(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    counter: *const fg_counter,
    out: *mut *mut fg_vault,
) -> fg_status {
    // SAFETY: the caller's contract is this function's.
    unsafe {
        counted_vault(
            "fg_vault_open_with_counter",
            dir,
            key,
            key_len,
            counter,
            out,
            |dir, key, config| {
                let (vault, report) = Vault::open_with_config(dir, key, config)?;
                Ok((vault, Some(report)))
            },
        )
    }
}

/// Closes a vault, wiping its keys and templates from memory and releasing its lock (NULL is
/// a no-op). Runs under the panic boundary like every call: a panic while closing is caught
/// and never unwinds into C.
///
/// # Safety
/// `vault` is NULL or was returned by `fg_vault_create`/`fg_vault_open` and not freed yet,
/// and no other call is using it.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_free(vault: *mut fg_vault) {
    guard::release(|| {
        if !vault.is_null() {
            // SAFETY: created by Box::into_raw in fg_vault::boxed, freed once per the contract.
            drop(unsafe { Box::from_raw(vault) });
        }
    })
}

/// Length in bytes of a consent handle.
pub const FG_CONSENT_HANDLE_LEN: usize = 40;
const _: () = assert!(FG_CONSENT_HANDLE_LEN == fg::ConsentHandle::LEN);

/// The credential for enrolling more photos under an existing consent: the consent's id and a
/// 256-bit random secret, handed out only by `fg_vault_grant`. A consent's id alone opens
/// nothing (ids are small sequential numbers). Keep the handle as secret as a password (with
/// the firmware's own, encrypted, record of the person) and wipe it when done; it stops
/// working when the consent is revoked or expires.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct fg_consent_handle {
    /// The handle's bytes: the consent id (8, little-endian), then the secret (32).
    pub bytes: [u8; FG_CONSENT_HANDLE_LEN],
}

impl std::fmt::Debug for fg_consent_handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fg_consent_handle([redacted])")
    }
}

/// Records that `subject` consented to enrolment for `purpose` after being shown `notice`,
/// for `valid_seconds` (at most the purpose's limit: one year for purposes named at run time);
/// `*consent` receives the consent's id (to revoke it) and `*handle` its handle (to enrol
/// under it with `fg_vault_enroll`).
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_grant(
    vault: *const fg_vault,
    purpose: *const c_char,
    subject: *const c_char,
    notice: *const c_char,
    valid_seconds: u64,
    consent: *mut u64,
    handle: *mut fg_consent_handle,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let vault_handle = unsafe { vault.as_ref() };
    call("fg_vault_grant", vault_handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, purpose, id, notice, consent, handle) = unsafe {
            (
                arg(vault)?,
                text(purpose)?,
                text(subject)?,
                text(notice)?,
                out(consent)?,
                out(handle)?,
            )
        };
        let token = vault
            .vault
            .grant_named(
                purpose,
                self::subject(id)?,
                notice,
                Duration::from_secs(valid_seconds),
            )
            .map_err(guard::status)?;
        let bytes = token.handle().to_bytes();
        let mut granted = fg_consent_handle {
            bytes: [0; FG_CONSENT_HANDLE_LEN],
        };
        granted.bytes.copy_from_slice(bytes.as_ref());
        guard::set(consent, token.id().get());
        guard::set(handle, granted);
        zeroize::Zeroize::zeroize(&mut granted.bytes);
        Ok(())
    })
}

/// Operates `purpose`'s identifications and verifications at false-match rate `fmr` (for
/// example `1e-4` for a payment): their threshold becomes the one `engine`'s embedder was
/// calibrated at for the largest calibrated rate not above `fmr` (its description's
/// `operating_points`). Until then every purpose uses the bundled `fr_feature` embedder's
/// threshold at `FG_DEFAULT_TARGET_FMR`: with an embedder of your own, call this for each
/// purpose. `FG_ERR_UNCALIBRATED` if the embedder has no such point or `fmr` is not in
/// (0, 1) (NaN included), `FG_ERR_CONSENT_INVALID` if `purpose` cannot be a purpose name
/// (empty, over 64 bytes, control characters); the setting is then unchanged. Kept in memory
/// only: set it again after each open.
///
/// # Safety
/// Pointers are NULL or valid; `purpose` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_set_target_fmr(
    vault: *const fg_vault,
    engine: *const fg_engine,
    purpose: *const c_char,
    fmr: f64,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_set_target_fmr", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, engine, purpose) = unsafe { (arg(vault)?, arg(engine)?, text(purpose)?) };
        let matcher = engine.full()?.matcher_at(fmr).map_err(guard::status)?;
        vault
            .vault
            .set_purpose_matcher(purpose, matcher)
            .map_err(guard::status)?;
        log::emit_with(fg_log_level::FG_LOG_DEBUG, || {
            format!(
                "fg_vault_set_target_fmr: purpose `{purpose}` decides at threshold {} \
                 (calibrated at a false-match rate of {:e})",
                matcher.threshold(),
                matcher.target_fmr().unwrap_or(fmr)
            )
        });
        Ok(())
    })
}

/// Sets `purpose`'s decision threshold to `threshold` (cosine similarity, -1 to 1): its
/// identifications and verifications match at this score or above, whatever the embedder.
/// For a threshold the firmware's maker measured on its own camera and population; no
/// false-match rate is promised for it (`fg_vault_set_target_fmr` chooses one from the
/// embedder's calibrated operating points instead). `FG_ERR_INVALID_ARGUMENT` for NaN or a
/// value outside -1 to 1, `FG_ERR_CONSENT_INVALID` if `purpose` cannot be a purpose name; the
/// setting is then unchanged. Replaces any threshold set before for `purpose` (by either
/// call). Kept in memory only: set it again after each open.
///
/// # Safety
/// Pointers are NULL or valid; `purpose` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_set_threshold(
    vault: *const fg_vault,
    purpose: *const c_char,
    threshold: f32,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_set_threshold", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, purpose) = unsafe { (arg(vault)?, text(purpose)?) };
        let matcher = Matcher::new(threshold).map_err(guard::status)?;
        vault
            .vault
            .set_purpose_matcher(purpose, matcher)
            .map_err(guard::status)?;
        log::emit_with(fg_log_level::FG_LOG_DEBUG, || {
            format!(
                "fg_vault_set_threshold: purpose `{purpose}` decides at threshold {threshold} \
                 (set by the caller: no false-match rate promised)"
            )
        });
        Ok(())
    })
}

/// Revokes one consent: its data key is destroyed and its templates erased at once.
///
/// # Safety
/// `vault` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_revoke(vault: *const fg_vault, consent: u64) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_revoke", handle, || {
        // SAFETY: the caller's contract.
        let vault = unsafe { arg(vault)? };
        vault
            .vault
            .revoke(ConsentId::from_raw(consent))
            .map_err(guard::status)?;
        Ok(())
    })
}

/// Revokes every active consent of `subject` (a deletion request): each is recorded, its data
/// key destroyed and its templates erased from memory; what remains of them in the vault's
/// files can no longer be decrypted, and `fg_vault_compact` takes it out. `*revoked` receives
/// the number of consents revoked. `FG_ERR_UNKNOWN_SUBJECT` if it has none.
///
/// One call, one commit: a single journal entry revokes all of them. If the call fails, no
/// count is written; the consents are refused from then on in any case (fail closed), and
/// after `FG_ERR_VAULT_POISONED` reopening the vault shows whether the revocation was
/// committed (call again if it was not).
///
/// # Safety
/// Pointers are NULL or valid; `subject` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_revoke_subject(
    vault: *const fg_vault,
    subject: *const c_char,
    revoked: *mut usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_revoke_subject", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, id, revoked) = unsafe { (arg(vault)?, text(subject)?, out(revoked)?) };
        let records = vault
            .vault
            .revoke_subject(&self::subject(id)?)
            .map_err(guard::status)?;
        guard::set(revoked, records.len());
        Ok(())
    })
}

/// Takes the templates of ended (revoked or expired) consents out of the vault's files, in
/// one commit: their bytes, undecryptable since their data keys were destroyed, are dropped
/// from the journal, which is rewritten atomically; only their hashes stay, so that the audit
/// chain still verifies, and the compaction is itself recorded in the audit log. `*purged`
/// receives the number of templates purged (0, and nothing written, if there were none).
/// Call it after `fg_vault_revoke`, `fg_vault_revoke_subject` or `fg_vault_sweep_expired`.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_compact(vault: *const fg_vault, purged: *mut u64) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_compact", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, purged) = unsafe { (arg(vault)?, out(purged)?) };
        let n = vault.vault.compact().map_err(guard::status)?;
        if n > 0 {
            log::emit_with(fg_log_level::FG_LOG_INFO, || {
                format!("fg_vault_compact: {n} templates of ended consents purged from the files")
            });
        }
        guard::set(purged, n);
        Ok(())
    })
}

/// The template of `face` in `image`, under the consent whose handle (from `fg_vault_grant`)
/// is `handle` (its purpose is the consent's), sealed into the vault. `FG_ERR_CONSENT_UNKNOWN`
/// if no consent has this handle (a guessed or altered one included),
/// `FG_ERR_CONSENT_REVOKED`/`_EXPIRED` if it no longer covers enrolment.
///
/// # Safety
/// Pointers are NULL or valid; the image's planes valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_enroll(
    vault: *const fg_vault,
    engine: *const fg_engine,
    image: *const fg_image,
    face: *const fg_face,
    handle: *const fg_consent_handle,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let vault_handle = unsafe { vault.as_ref() };
    call("fg_vault_enroll", vault_handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, engine, image, face, handle) = unsafe {
            (
                arg(vault)?,
                arg(engine)?.full()?,
                guard::read(image)?,
                guard::read(face)?,
                arg(handle)?,
            )
        };
        let handle = ConsentHandle::from_bytes(&handle.bytes).map_err(guard::status)?;
        // SAFETY: planes valid per the contract.
        let view = unsafe { image.view()? };
        let token = vault.vault.token_named(&handle).map_err(guard::status)?;
        vault
            .vault
            .enroll_face(engine, &token, &view, &face.to_face())
            .map_err(guard::status)?;
        Ok(())
    })
}

/// One template from `count` photos of the person (`images[i]` and the face `faces[i]` in
/// it, 1 to `FG_MAX_FUSED_PHOTOS` of them), under the consent whose handle is `handle`:
/// their embeddings' unit-length mean, sealed into the vault as one template. Every photo must
/// pass the enrolment quality gate (`FG_ERR_FACE_*` for the first that does not; nothing is
/// enrolled). `FG_ERR_INVALID_ARGUMENT` for a count of 0 or above `FG_MAX_FUSED_PHOTOS`.
///
/// A fused template matches its owner far more often than one photo does, and strangers a
/// little more often: operate its purpose at the false-match rate divided by the number of
/// photos, `fg_vault_set_target_fmr(vault, engine, purpose, FG_DEFAULT_TARGET_FMR / 3)` for
/// three.
///
/// # Safety
/// Pointers are NULL or valid; `images` and `faces` valid for `count` elements; each image's
/// planes valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_enroll_fused(
    vault: *const fg_vault,
    engine: *const fg_engine,
    images: *const fg_image,
    faces: *const fg_face,
    count: usize,
    handle: *const fg_consent_handle,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let vault_handle = unsafe { vault.as_ref() };
    call("fg_vault_enroll_fused", vault_handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, engine, handle) = unsafe { (arg(vault)?, arg(engine)?.full()?, arg(handle)?) };
        if images.is_null() || faces.is_null() {
            return Err(FG_ERR_NULL_POINTER.into());
        }
        if count == 0 || count > FG_MAX_FUSED_PHOTOS {
            return Err(FG_ERR_INVALID_ARGUMENT.into());
        }
        // SAFETY: non-NULL, 1..=FG_MAX_FUSED_PHOTOS elements of their element 0's
        // `struct_size` bytes, valid for reads per the contract.
        let (images, faces) = unsafe {
            (
                guard::read_array(images, count)?,
                guard::read_array(faces, count)?,
            )
        };
        let handle = ConsentHandle::from_bytes(&handle.bytes).map_err(guard::status)?;
        let mut views = Vec::with_capacity(count);
        for image in &images {
            // SAFETY: each image's planes are valid for their lengths per the contract.
            views.push(unsafe { image.view()? });
        }
        let faces: Vec<fg::Face> = faces.iter().map(|f| f.to_face()).collect();
        let photos: Vec<_> = views.iter().zip(&faces).collect();
        let token = vault.vault.token_named(&handle).map_err(guard::status)?;
        vault
            .vault
            .enroll_faces_fused(engine, &token, &photos)
            .map_err(guard::status)?;
        Ok(())
    })
}

/// 1:N identification of `face` in `image` among the templates enrolled for `purpose`, under
/// a one-off consent of the person at the camera (given after seeing `notice`, never stored).
/// Writes the best candidates, best first, one per subject, into `candidates` (at most
/// `capacity`); `*count` receives how many. Recorded in the audit log.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated; `candidates` valid for `capacity`
/// writes.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_identify(
    vault: *const fg_vault,
    engine: *const fg_engine,
    image: *const fg_image,
    face: *const fg_face,
    purpose: *const c_char,
    notice: *const c_char,
    candidates: *mut fg_candidate,
    capacity: usize,
    count: *mut usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_identify", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, engine, image, face, purpose, notice, count) = unsafe {
            (
                arg(vault)?,
                arg(engine)?,
                guard::read(image)?,
                guard::read(face)?,
                text(purpose)?,
                text(notice)?,
                out(count)?,
            )
        };
        // SAFETY: valid for `capacity` elements of element 0's `struct_size` per the contract.
        let candidates = unsafe { guard::OutArray::new(candidates, capacity)? };
        // SAFETY: the planes are valid for their lengths per the caller's contract.
        let (engine, view, consent) =
            unsafe { probe_parts(vault, engine, &image, purpose, notice)? };
        let found = vault
            .vault
            .identify_face(
                engine,
                consent,
                &view,
                &face.to_face(),
                candidates.capacity(),
            )
            .map_err(guard::status)?;
        let rows: Vec<fg_candidate> = found
            .iter()
            .map(|c| {
                let mut subject = [0 as c_char; FG_SUBJECT_BUFFER];
                for (dst, src) in subject.iter_mut().zip(c.subject.as_str().bytes()) {
                    *dst = src as c_char;
                }
                fg_candidate {
                    struct_size: 0,
                    subject,
                    consent: c.consent.get(),
                    score: c.score,
                    is_match: c.is_match,
                }
            })
            .collect();
        candidates.fill(&rows)?;
        guard::set(count, rows.len());
        Ok(())
    })
}

/// 1:1 verification: is `face` in `image` the enrolled `subject`, for `purpose`? Under a
/// one-off consent as for `fg_vault_identify`; recorded in the audit log.
/// `FG_ERR_UNKNOWN_SUBJECT` if the subject has no template for this purpose.
///
/// # Safety
/// Pointers are NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_verify(
    vault: *const fg_vault,
    engine: *const fg_engine,
    image: *const fg_image,
    face: *const fg_face,
    purpose: *const c_char,
    notice: *const c_char,
    subject: *const c_char,
    decision: *mut fg_decision,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_verify", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, engine, image, face, purpose, notice, id, decision) = unsafe {
            (
                arg(vault)?,
                arg(engine)?,
                guard::read(image)?,
                guard::read(face)?,
                text(purpose)?,
                text(notice)?,
                text(subject)?,
                guard::Out::new(decision)?,
            )
        };
        let claimed = self::subject(id)?;
        // SAFETY: the planes are valid for their lengths per the caller's contract.
        let (engine, view, consent) =
            unsafe { probe_parts(vault, engine, &image, purpose, notice)? };
        let d = vault
            .vault
            .verify_face(engine, consent, &view, &face.to_face(), &claimed)
            .map_err(guard::status)?;
        decision.write(fg_decision {
            struct_size: 0,
            score: d.score,
            threshold: d.threshold,
            is_match: d.is_match,
        });
        Ok(())
    })
}

/// `*count` receives the number of distinct subjects with an enrolled template (the figure
/// China's 2025 measures ask to file at 100,000).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_subject_count(
    vault: *const fg_vault,
    count: *mut usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_subject_count", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, count) = unsafe { (arg(vault)?, out(count)?) };
        guard::set(count, vault.vault.subject_count());
        Ok(())
    })
}

/// Ends every consent past its expiry, in one commit (recorded, data keys destroyed,
/// templates erased from memory); `*ended` receives how many. Run it periodically; opening a
/// vault and each search run it too. What remains of the templates in the vault's files can
/// no longer be decrypted; `fg_vault_compact` takes it out.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_sweep_expired(
    vault: *const fg_vault,
    ended: *mut usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_sweep_expired", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, ended) = unsafe { (arg(vault)?, out(ended)?) };
        let ids = vault.vault.sweep_expired().map_err(guard::status)?;
        guard::set(ended, ids.len());
        Ok(())
    })
}

/// Verifies the audit log's hash chain and every entry; `*entries` receives how many.
/// `FG_ERR_TAMPERED`, `FG_ERR_CORRUPT` or `FG_ERR_ROLLED_BACK` if it is broken.
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_audit_verify(
    vault: *const fg_vault,
    entries: *mut u64,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_audit_verify", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, entries) = unsafe { (arg(vault)?, out(entries)?) };
        let log = vault.vault.audit().map_err(guard::status)?;
        let n = log.verify().map_err(audit_failure)?;
        guard::set(entries, n as u64);
        Ok(())
    })
}

/// Exports the audit log as JSON lines into `buffer` (NUL-terminated); `*length` receives the
/// length without the NUL. `FG_ERR_BUFFER_TOO_SMALL` (nothing written) if `capacity` is less
/// than the length plus one: ask `fg_vault_audit_export_length` first.
///
/// # Safety
/// Pointers are NULL or valid; `buffer` valid for `capacity` writes.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_audit_export(
    vault: *const fg_vault,
    buffer: *mut c_char,
    capacity: usize,
    length: *mut usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_audit_export", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, length) = unsafe { (arg(vault)?, out(length)?) };
        guard::check_slots(buffer, capacity)?;
        let text = export(vault)?;
        if text.len() >= capacity {
            return Err(FG_ERR_BUFFER_TOO_SMALL.into());
        }
        let bytes: Vec<c_char> = text.bytes().chain([0]).map(|b| b as c_char).collect();
        // SAFETY: `buffer` holds `capacity` > text.len() writable bytes per the contract.
        unsafe { guard::fill(buffer, capacity, &bytes)? };
        guard::set(length, text.len());
        Ok(())
    })
}

/// `*length` receives the length of `fg_vault_audit_export`'s text (without the NUL).
///
/// # Safety
/// Pointers are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_audit_export_length(
    vault: *const fg_vault,
    length: *mut usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_audit_export_length", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, length) = unsafe { (arg(vault)?, out(length)?) };
        guard::set(length, export(vault)?.len());
        Ok(())
    })
}

/// A broken audit log's failure (its errors are borrowed from the log).
fn audit_failure(e: &fg::vault::VaultError) -> Failure {
    Failure {
        status: e.into(),
        detail: Some(e.to_string()),
    }
}

fn export(vault: &fg_vault) -> Result<String, Failure> {
    let log = vault.vault.audit().map_err(guard::status)?;
    log.verify().map_err(audit_failure)?;
    let mut text = Vec::new();
    log.write_json_lines(&mut text).map_err(|_| FG_ERR_IO)?;
    Ok(String::from_utf8(text).map_err(|_| FG_ERR_INTERNAL)?)
}

/// Re-seals the vault under `new_key` (32 bytes): every data key is re-wrapped, templates are
/// not decrypted. From then on only `new_key` opens the vault; destroy the old key.
///
/// # Safety
/// Pointers are NULL or valid; `new_key` valid for `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fg_vault_rotate_key(
    vault: *const fg_vault,
    new_key: *const u8,
    key_len: usize,
) -> fg_status {
    // SAFETY: `vault` is NULL or valid, per the contract (NULL is reported by `arg`).
    let handle = unsafe { vault.as_ref() };
    call("fg_vault_rotate_key", handle, || {
        // SAFETY: the caller's contract, checked by the helpers.
        let (vault, key) = unsafe { (arg(vault)?, vault_key(new_key, key_len)?) };
        vault.vault.rotate_key(key).map_err(guard::status)?;
        log::emit(
            fg_log_level::FG_LOG_INFO,
            "fg_vault_rotate_key: vault re-sealed under the new key: destroy the old one",
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];

    fn scratch(name: &str) -> std::ffi::CString {
        let dir = std::env::temp_dir().join(format!("faceguard-c-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::ffi::CString::new(dir.to_str().unwrap()).unwrap()
    }

    #[test]
    fn the_log_says_what_happened_to_a_vault_and_never_names_a_subject() {
        use crate::log::tests::Capture;
        const WHO: &std::ffi::CStr = c"subject-Zq7-recognisable";
        let capture = Capture::start(fg_log_level::FG_LOG_DEBUG);
        let dir = scratch("log");
        let mut vault = std::ptr::null_mut();
        let (mut consent, mut n, mut purged) = (0u64, 0usize, 0u64);
        let mut granted = fg_consent_handle {
            bytes: [0; FG_CONSENT_HANDLE_LEN],
        };
        let new_key = [7u8; 32];
        // SAFETY: valid strings, keys and out-pointers; the vault is freed once.
        unsafe {
            assert_eq!(
                fg_vault_create(dir.as_ptr(), KEY.as_ptr(), 32, &mut vault),
                FG_OK
            );
            let grant = fg_vault_grant(
                vault,
                c"door-access".as_ptr(),
                WHO.as_ptr(),
                c"You are filmed.".as_ptr(),
                60,
                &mut consent,
                &mut granted,
            );
            assert_eq!(grant, FG_OK);
            assert_eq!(fg_vault_revoke_subject(vault, WHO.as_ptr(), &mut n), FG_OK);
            // The failures that concern the subject: revoked twice, granted for too long.
            assert_eq!(
                fg_vault_revoke_subject(vault, WHO.as_ptr(), &mut n),
                FG_ERR_UNKNOWN_SUBJECT
            );
            let too_long = fg_vault_grant(
                vault,
                c"door-access".as_ptr(),
                WHO.as_ptr(),
                c"You are filmed.".as_ptr(),
                u64::MAX,
                &mut consent,
                &mut granted,
            );
            assert_eq!(too_long, FG_ERR_CONSENT_INVALID);
            assert_eq!(fg_vault_compact(vault, &mut purged), FG_OK);
            assert_eq!(fg_vault_rotate_key(vault, new_key.as_ptr(), 32), FG_OK);
            fg_vault_free(vault);
            vault = std::ptr::null_mut();
            assert_eq!(
                fg_vault_open(dir.as_ptr(), new_key.as_ptr(), 32, &mut vault),
                FG_OK
            );
            fg_vault_free(vault);
        }
        let messages = capture.messages();
        let who = WHO.to_str().unwrap();
        for (_, text) in &messages {
            assert!(!text.contains(who), "the log names the subject: {text}");
        }
        let has = |level: fg_log_level, text: &str| {
            messages
                .iter()
                .any(|(l, m)| *l == level as i32 && m.starts_with(text))
        };
        use fg_log_level::*;
        assert!(has(FG_LOG_INFO, "fg_vault_create: vault created"));
        assert!(has(
            FG_LOG_WARN,
            "fg_vault_revoke_subject: FG_ERR_UNKNOWN_SUBJECT (24): the subject has no active \
             consent (subject ids are never logged)"
        ));
        assert!(has(
            FG_LOG_WARN,
            "fg_vault_grant: FG_ERR_CONSENT_INVALID (25): consent validity of"
        ));
        assert!(has(FG_LOG_INFO, "fg_vault_rotate_key: vault re-sealed"));
        assert!(has(
            FG_LOG_INFO,
            "fg_vault_open: vault opened: 0 templates of 0 subjects loaded"
        ));
        let _ = std::fs::remove_dir_all(dir.to_str().unwrap());
    }

    #[test]
    fn a_panic_in_a_vault_call_poisons_the_handle_until_the_vault_is_reopened() {
        let dir = scratch("panic");
        let mut vault = std::ptr::null_mut();
        // SAFETY: valid string, key and out-pointer.
        let created = unsafe { fg_vault_create(dir.as_ptr(), KEY.as_ptr(), 32, &mut vault) };
        assert_eq!(created, FG_OK);
        // SAFETY: `vault` was just created and is not freed yet.
        let handle = unsafe { vault.as_ref() };
        assert_eq!(
            call("test", handle, || panic!("a bug mid-write")),
            FG_ERR_INTERNAL
        );
        // Every later call on that handle is refused, and writes no out-parameter.
        let mut n = usize::MAX;
        let mut consent = u64::MAX;
        let mut granted = fg_consent_handle {
            bytes: [0xEE; FG_CONSENT_HANDLE_LEN],
        };
        // SAFETY: valid handle, strings and out-pointers.
        unsafe {
            assert_eq!(fg_vault_subject_count(vault, &mut n), FG_ERR_VAULT_POISONED);
            let grant = fg_vault_grant(
                vault,
                c"door-access".as_ptr(),
                c"badge-1".as_ptr(),
                c"You are filmed.".as_ptr(),
                60,
                &mut consent,
                &mut granted,
            );
            assert_eq!(grant, FG_ERR_VAULT_POISONED);
        }
        assert_eq!((n, consent), (usize::MAX, u64::MAX));
        assert_eq!(granted.bytes, [0xEE; FG_CONSENT_HANDLE_LEN]);
        // Freeing and opening again recovers it.
        // SAFETY: freed once; valid string, key and out-pointer.
        unsafe {
            fg_vault_free(vault);
            vault = std::ptr::null_mut();
            assert_eq!(
                fg_vault_open(dir.as_ptr(), KEY.as_ptr(), 32, &mut vault),
                FG_OK
            );
            assert_eq!(fg_vault_subject_count(vault, &mut n), FG_OK);
            fg_vault_free(vault);
        }
        assert_eq!(n, 0);
        let _ = std::fs::remove_dir_all(dir.to_str().unwrap());
    }
}
