//! The boundary: catching panics, and reading C pointers and strings safely.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::status::fg_status::{self, *};

/// Runs `body` under the panic boundary: its status, or `FG_ERR_INTERNAL` if it panicked.
///
/// A panic means the call did not complete, and no out-parameter was written: every call
/// computes its results first and writes them only at the end, by plain stores that cannot
/// panic (`set`, `fill`, a handle's pointer). What else the panic left half done, the call
/// cannot know; a call given a vault therefore goes through [`call_on`], which makes that
/// vault handle refuse every further call until it is freed and the vault opened again.
/// (Asserting unwind safety is sound on those terms: nothing the body touched is used again
/// without that check, and the library's locks recover from poisoning.)
pub fn call(body: impl FnOnce() -> Result<(), fg_status>) -> fg_status {
    call_on(None, body)
}

/// Like [`call`], for a call on a handle with a `panicked` flag (an `fg_vault`): refuses with
/// `FG_ERR_VAULT_POISONED` once the flag is set, and sets it if `body` panics.
pub fn call_on(
    panicked: Option<&AtomicBool>,
    body: impl FnOnce() -> Result<(), fg_status>,
) -> fg_status {
    if panicked.is_some_and(|p| p.load(Ordering::SeqCst)) {
        return FG_ERR_VAULT_POISONED;
    }
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FG_OK,
        Ok(Err(status)) => status,
        Err(_) => {
            if let Some(p) = panicked {
                p.store(true, Ordering::SeqCst);
            }
            FG_ERR_INTERNAL
        }
    }
}

/// Runs a `_free` body under the panic boundary: a panic while dropping a handle is caught
/// (what the drop had not yet released leaks) and never unwinds into C.
pub fn release(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Maps any faceguard error to its status.
pub fn status(e: impl Into<fg::Error>) -> fg_status {
    (&e.into()).into()
}

/// `ptr` as a reference, or `FG_ERR_NULL_POINTER`.
///
/// # Safety
/// `ptr` is NULL or points to a valid, initialised `T` that outlives `'a`.
pub unsafe fn arg<'a, T>(ptr: *const T) -> Result<&'a T, fg_status> {
    // SAFETY: the caller guarantees `ptr` is NULL or valid for 'a; NULL is checked here.
    unsafe { ptr.as_ref() }.ok_or(FG_ERR_NULL_POINTER)
}

/// `ptr` as a mutable reference, or `FG_ERR_NULL_POINTER`.
///
/// # Safety
/// `ptr` is NULL or points to a valid `T`, not aliased, that outlives `'a`.
pub unsafe fn out<'a, T>(ptr: *mut T) -> Result<&'a mut T, fg_status> {
    // SAFETY: as for `arg`, and the caller guarantees no other reference to `*ptr`.
    unsafe { ptr.as_mut() }.ok_or(FG_ERR_NULL_POINTER)
}

/// Longest C string accepted (subject ids, purposes, notices, paths).
pub(crate) const MAX_STRING: usize = 64 * 1024;

/// A NUL-terminated UTF-8 string, or `FG_ERR_NULL_POINTER` / `FG_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub unsafe fn text<'a>(ptr: *const c_char) -> Result<&'a str, fg_status> {
    if ptr.is_null() {
        return Err(FG_ERR_NULL_POINTER);
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    if s.count_bytes() > MAX_STRING {
        return Err(FG_ERR_INVALID_ARGUMENT);
    }
    s.to_str().map_err(|_| FG_ERR_INVALID_ARGUMENT)
}

/// A caller's buffer of `len` bytes, or an error for NULL or an impossible length.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`.
pub unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], fg_status> {
    if ptr.is_null() {
        return Err(FG_ERR_NULL_POINTER);
    }
    if len == 0 || len > isize::MAX as usize {
        return Err(FG_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, len checked against isize::MAX, valid per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Copies `items`, computed in full beforehand, into a caller's array of `capacity` elements;
/// an error for NULL, zero or a huge capacity, or more items than slots (nothing written:
/// items are never dropped silently).
///
/// # Safety
/// `ptr` is NULL or valid for writes of `capacity` elements of `T`, not aliased.
pub unsafe fn fill<T: Copy>(ptr: *mut T, capacity: usize, items: &[T]) -> Result<(), fg_status> {
    check_slots(ptr, capacity)?;
    if items.len() > capacity {
        return Err(FG_ERR_BUFFER_TOO_SMALL);
    }
    // SAFETY: `items.len() <= capacity` slots are writable per the caller's contract; the
    // caller's array cannot overlap `items`, a buffer this library allocated. The copy does
    // not read or drop the (possibly uninitialised) old values.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), ptr, items.len()) };
    Ok(())
}

/// Checks a caller's array before anything is computed: not NULL, capacity not zero, and its
/// size in bytes representable.
pub fn check_slots<T>(ptr: *mut T, capacity: usize) -> Result<(), fg_status> {
    if ptr.is_null() {
        return Err(FG_ERR_NULL_POINTER);
    }
    if capacity == 0 || capacity > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(FG_ERR_INVALID_ARGUMENT);
    }
    Ok(())
}

/// Writes `value` to an out-parameter already checked for NULL.
pub fn set<T>(out: &mut T, value: T) {
    *out = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_reported_as_internal_and_does_not_unwind_further() {
        assert_eq!(call(|| panic!("a bug")), FG_ERR_INTERNAL);
        let flag = AtomicBool::new(false);
        assert_eq!(call_on(Some(&flag), || panic!("a bug")), FG_ERR_INTERNAL);
        assert!(flag.load(Ordering::SeqCst));
        assert_eq!(call_on(Some(&flag), || Ok(())), FG_ERR_VAULT_POISONED);
        release(|| panic!("a bug in a destructor"));
    }

    #[test]
    fn fill_never_drops_items_and_writes_nothing_when_they_do_not_fit() {
        let mut slots = [0u32; 2];
        // SAFETY: `slots` holds 2 writable u32s.
        let too_many = unsafe { fill(slots.as_mut_ptr(), 2, &[1, 2, 3]) };
        assert_eq!(too_many, Err(FG_ERR_BUFFER_TOO_SMALL));
        assert_eq!(slots, [0, 0]);
        // SAFETY: as above.
        assert_eq!(unsafe { fill(slots.as_mut_ptr(), 2, &[7]) }, Ok(()));
        assert_eq!(slots, [7, 0]);
    }
}
