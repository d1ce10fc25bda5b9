//! The boundary: catching panics, and reading C pointers and strings safely.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::fg_status::{self, *};

/// Runs `body`, turning a panic into `FG_ERR_INTERNAL`. (Asserting unwind safety is sound
/// here: the library's shared state is behind locks that recover from poisoning, and a call
/// that panicked reports failure without writing its out-parameters.)
pub fn call(body: impl FnOnce() -> Result<(), fg_status>) -> fg_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FG_OK,
        Ok(Err(status)) => status,
        Err(_) => FG_ERR_INTERNAL,
    }
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

/// Writes `items` into a caller's array of `capacity` elements, as many as fit, and returns
/// how many were written; an error for NULL, zero or a huge capacity (nothing written).
///
/// # Safety
/// `ptr` is NULL or valid for writes of `capacity` elements of `T`, not aliased.
pub unsafe fn fill<T>(
    ptr: *mut T,
    capacity: usize,
    items: impl IntoIterator<Item = T>,
) -> Result<usize, fg_status> {
    check_slots(ptr, capacity)?;
    let mut written = 0;
    for item in items.into_iter().take(capacity) {
        // SAFETY: `written < capacity`, and the caller guarantees `capacity` writable slots;
        // `write` does not read or drop the (possibly uninitialised) old value.
        unsafe { ptr.add(written).write(item) };
        written += 1;
    }
    Ok(written)
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
