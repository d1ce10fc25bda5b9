//! `fg_counter`: the firmware's monotonic counter (a secure element, eMMC RPMB, a TPM NV
//! counter), plugged into the vault through two callbacks, so that a rollback of every vault
//! file to an older copy is detected.

use std::ffi::{c_int, c_void};

use fg::vault::{MonotonicCounter, VaultError};

use crate::guard::{self, Failure};
use crate::status::fg_status::*;

/// A monotonic counter kept outside the flash the vault lives on.
///
/// Set `struct_size` to `sizeof(fg_counter)` (see the header's top comment). `read` stores the counter's value in
/// `*value`; `advance` raises the counter to `value` (a no-op if it is already there or above)
/// and returns only once that is durable. Both return 0 on success, anything else on failure
/// (the vault call then fails with `FG_ERR_COUNTER`). They are called with `context`, from
/// whichever thread calls the vault, and must not call back into the vault; one vault calls
/// them one at a time, but a counter shared by several vaults may be called concurrently. The
/// structure is copied: it need not outlive the call that takes it, but `context` must
/// outlive the vault.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fg_counter {
    /// `sizeof(fg_counter)`.
    pub struct_size: u32,
    /// Passed unchanged to the callbacks.
    pub context: *mut c_void,
    /// Reads the counter into `*value`; 0 on success.
    pub read: Option<unsafe extern "C" fn(context: *mut c_void, value: *mut u64) -> c_int>,
    /// Raises the counter to `value`, durably; 0 on success.
    pub advance: Option<unsafe extern "C" fn(context: *mut c_void, value: u64) -> c_int>,
}

guard::versioned!(fg_counter);

/// The callbacks of a checked `fg_counter`.
pub(crate) struct CallbackCounter {
    context: *mut c_void,
    read: unsafe extern "C" fn(*mut c_void, *mut u64) -> c_int,
    advance: unsafe extern "C" fn(*mut c_void, u64) -> c_int,
}

// SAFETY: the caller's contract (documented on fg_counter) is that the callbacks and their
// context may be called from any thread that calls the vault.
unsafe impl Send for CallbackCounter {}
// SAFETY: as for Send; concurrent calls are allowed by the same contract (fg_counter's doc).
unsafe impl Sync for CallbackCounter {}

impl CallbackCounter {
    /// Checks the caller's `fg_counter`: not NULL, its `struct_size` at least this version's
    /// (read first, before anything else of the structure), and both callbacks set.
    ///
    /// # Safety
    /// `counter` is NULL or valid for reads of `counter->struct_size` bytes.
    pub(crate) unsafe fn from_raw(counter: *const fg_counter) -> Result<Self, Failure> {
        // SAFETY: per this function's contract.
        let counter = unsafe { guard::read(counter)? };
        match (counter.read, counter.advance) {
            (Some(read), Some(advance)) => Ok(CallbackCounter {
                context: counter.context,
                read,
                advance,
            }),
            _ => Err(FG_ERR_NULL_POINTER.into()),
        }
    }
}

impl MonotonicCounter for CallbackCounter {
    fn read(&self) -> Result<u64, VaultError> {
        let mut value = 0u64;
        // SAFETY: the callback was given by the caller for this purpose; `value` is a valid,
        // writable u64 for the duration of the call.
        let rc = unsafe { (self.read)(self.context, &mut value) };
        match rc {
            0 => Ok(value),
            rc => Err(VaultError::Counter {
                why: format!("its read callback returned {rc}"),
            }),
        }
    }

    fn advance(&self, value: u64) -> Result<(), VaultError> {
        // SAFETY: the callback was given by the caller for this purpose.
        let rc = unsafe { (self.advance)(self.context, value) };
        match rc {
            0 => Ok(()),
            rc => Err(VaultError::Counter {
                why: format!("its advance callback returned {rc}"),
            }),
        }
    }
}
