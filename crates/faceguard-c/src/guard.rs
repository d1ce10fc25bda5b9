//! The boundary: catching panics, reading C pointers, strings and sized structures safely,
//! and reporting every failure to the log callback with the detail its status code loses.

use std::ffi::{c_char, CStr};
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::log::{self, fg_log_level};
use crate::status::fg_status::{self, *};

/// Why a call failed: its status, and what the Rust error said (without personal data), which
/// goes to the log callback only.
#[derive(Debug, PartialEq)]
pub struct Failure {
    pub status: fg_status,
    pub detail: Option<String>,
}

impl From<fg_status> for Failure {
    fn from(status: fg_status) -> Self {
        Failure {
            status,
            detail: None,
        }
    }
}

/// What a call's body returns.
pub type Outcome = Result<(), Failure>;

/// Runs `body`, the body of the C function `name`, under the panic boundary: its status, or
/// `FG_ERR_INTERNAL` if it panicked. A failure is logged (see [`crate::log`]) after `body`
/// has returned, so no lock it took is held while the callback runs.
///
/// A panic means the call did not complete, and no out-parameter was written: every call
/// computes its results first and writes them only at the end, by plain stores that cannot
/// panic (`set`, `fill`, a handle's pointer). What else the panic left half done, the call
/// cannot know; a call given a vault therefore goes through [`call_on`], which makes that
/// vault handle refuse every further call until it is freed and the vault opened again.
/// (Asserting unwind safety is sound on those terms: nothing the body touched is used again
/// without that check, and the library's locks recover from poisoning.)
pub fn call(name: &'static str, body: impl FnOnce() -> Outcome) -> fg_status {
    call_on(name, None, body)
}

/// Like [`call`], for a call on a handle with a `panicked` flag (an `fg_vault`): refuses with
/// `FG_ERR_VAULT_POISONED` once the flag is set, and sets it if `body` panics.
pub fn call_on(
    name: &'static str,
    panicked: Option<&AtomicBool>,
    body: impl FnOnce() -> Outcome,
) -> fg_status {
    let failure = if panicked.is_some_and(|p| p.load(Ordering::SeqCst)) {
        Failure {
            status: FG_ERR_VAULT_POISONED,
            detail: Some("an earlier call on this vault handle panicked".into()),
        }
    } else {
        match catch_unwind(AssertUnwindSafe(body)) {
            Ok(Ok(())) => return FG_OK,
            Ok(Err(failure)) => failure,
            Err(_) => {
                if let Some(p) = panicked {
                    p.store(true, Ordering::SeqCst);
                }
                Failure {
                    status: FG_ERR_INTERNAL,
                    detail: Some("the call panicked (a bug in faceguard)".into()),
                }
            }
        }
    };
    report(name, &failure);
    failure.status
}

/// Logs a failed call: its status and, where there is one, the Rust error's message.
fn report(name: &str, failure: &Failure) {
    let level = failure.status.log_level();
    if !log::enabled(level) {
        return;
    }
    let status = failure.status;
    let message = match &failure.detail {
        Some(detail) => format!("{name}: {status:?} ({}): {detail}", status as i32),
        None => format!(
            "{name}: {status:?} ({}): {}",
            status as i32,
            status.message().to_string_lossy()
        ),
    };
    log::emit(level, &message);
}

/// Runs a `_free` body under the panic boundary: a panic while dropping a handle is caught
/// (what the drop had not yet released leaks) and never unwinds into C.
pub fn release(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Maps any faceguard error to its failure: the status, and the error's message for the log
/// with personal data taken out (see [`redacted`]).
pub fn status(e: impl Into<fg::Error>) -> Failure {
    let e = e.into();
    Failure {
        status: (&e).into(),
        detail: Some(redacted(&e)),
    }
}

/// The message of `e`, for the log: the one error whose message names a person, a subject
/// without consent, is reworded without the id. Consent ids (sequence numbers the firmware
/// holds), purposes, file paths and sizes stay: they say what went wrong.
pub fn redacted(e: &fg::Error) -> String {
    use fg::{ConsentError, Error, MatchError};
    match e {
        Error::Consent(ConsentError::UnknownSubject(_))
        | Error::Match(MatchError::Consent(ConsentError::UnknownSubject(_))) => {
            "the subject has no active consent (subject ids are never logged)".into()
        }
        e => e.to_string(),
    }
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

/// Copies `items`, computed in full beforehand, into a caller's byte array of `capacity`
/// elements; an error for NULL, zero or a huge capacity, or more items than slots (nothing
/// written: items are never dropped silently).
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
    if capacity == 0 || capacity > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(FG_ERR_INVALID_ARGUMENT);
    }
    Ok(())
}

/// Writes `value` to an out-parameter already checked for NULL.
pub fn set<T>(out: &mut T, value: T) {
    *out = value;
}

/// A structure that begins with `uint32_t struct_size`, the size the caller compiled it with
/// (`sizeof(T)`), so that later versions can add fields at its end.
///
/// The rule, the same for every such structure: a `struct_size` smaller than this version's
/// `sizeof(T)` is refused with `FG_ERR_INVALID_ARGUMENT` (before anything else is done); a
/// larger one (a caller built against a newer header, which `fg_check_version` refuses) is
/// accepted, and only this version's `sizeof(T)` bytes are read or written. In an array, the
/// `struct_size` of element 0 is the stride between elements.
///
/// # Safety
/// Implementors are `#[repr(C)]` with a `u32` `struct_size` as their first field (offset 0).
pub unsafe trait Versioned: Copy {
    /// Sets the `struct_size` field.
    fn set_struct_size(&mut self, size: u32);
}

/// Implements [`Versioned`] for each `#[repr(C)]` structure named, after checking at compile
/// time that its `struct_size` field is at offset 0 (the assignment checks that it is a `u32`).
macro_rules! versioned {
    ($($t:ty),+ $(,)?) => {$(
        const _: () = assert!(::std::mem::offset_of!($t, struct_size) == 0);
        // SAFETY: the structure is repr(C) (it crosses to C), and its `struct_size: u32` is at
        // offset 0 (asserted above), as `Versioned` requires.
        unsafe impl $crate::guard::Versioned for $t {
            fn set_struct_size(&mut self, size: u32) {
                self.struct_size = size;
            }
        }
    )+};
}
pub(crate) use versioned;

/// The `struct_size` field of the structure at `ptr`, checked: `FG_ERR_NULL_POINTER` for
/// NULL, `FG_ERR_INVALID_ARGUMENT` for a size smaller than this version's.
///
/// # Safety
/// `ptr` is NULL or valid for reads of at least its first 4 bytes.
pub unsafe fn struct_size<T: Versioned>(ptr: *const T) -> Result<usize, Failure> {
    if ptr.is_null() {
        return Err(FG_ERR_NULL_POINTER.into());
    }
    // SAFETY: non-NULL; `struct_size` is the first field (the `Versioned` contract) and readable
    // per this function's contract; read unaligned, before anything else of the structure.
    let size = unsafe { ptr.cast::<u32>().read_unaligned() } as usize;
    if size < size_of::<T>() {
        let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
        return Err(Failure {
            status: FG_ERR_INVALID_ARGUMENT,
            detail: Some(format!(
                "{name}.struct_size is {size}, less than sizeof({name}) = {} in this version: \
                 set it to sizeof({name})",
                size_of::<T>()
            )),
        });
    }
    Ok(size)
}

/// Reads a caller's input structure: checked as [`struct_size`] says, then this version's
/// `sizeof(T)` bytes of it.
///
/// # Safety
/// `ptr` is NULL or valid for reads of its `struct_size` bytes.
pub unsafe fn read<T: Versioned>(ptr: *const T) -> Result<T, Failure> {
    // SAFETY: per this function's contract.
    unsafe { struct_size(ptr)? };
    // SAFETY: `struct_size` >= size_of::<T>() bytes are readable per the contract.
    Ok(unsafe { ptr.read_unaligned() })
}

/// A caller's output structure, its `struct_size` checked (before anything is computed).
pub struct Out<T: Versioned> {
    ptr: *mut T,
    size: u32,
}

impl<T: Versioned> Out<T> {
    /// Checks the caller's output structure at `ptr` as [`struct_size`] says.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for reads and writes of its `struct_size` bytes until
    /// [`write`](Self::write).
    pub unsafe fn new(ptr: *mut T) -> Result<Self, Failure> {
        // SAFETY: per this function's contract.
        let size = unsafe { struct_size(ptr)? } as u32;
        Ok(Out { ptr, size })
    }

    /// Writes `value`, with the caller's `struct_size`, into this version's `sizeof(T)`
    /// bytes; bytes beyond them are left as they were.
    pub fn write(self, mut value: T) {
        value.set_struct_size(self.size);
        // SAFETY: checked by `new`: valid for writes of `size` >= size_of::<T>() bytes.
        unsafe { self.ptr.write_unaligned(value) };
    }
}

/// A caller's output array whose element 0 carries the stride in its `struct_size`.
pub struct OutArray<T: Versioned> {
    base: *mut u8,
    stride: usize,
    capacity: usize,
    _of: std::marker::PhantomData<*mut T>,
}

impl<T: Versioned> OutArray<T> {
    /// Checks a caller's output array before anything is computed: not NULL, capacity not
    /// zero, element 0's `struct_size` (the stride) at least this version's `sizeof(T)`, and
    /// the array's size in bytes representable.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for reads and writes of `capacity` elements of
    /// `ptr->struct_size` bytes each (the first 4 bytes of element 0 are read now).
    pub unsafe fn new(ptr: *mut T, capacity: usize) -> Result<Self, Failure> {
        if ptr.is_null() {
            return Err(FG_ERR_NULL_POINTER.into());
        }
        if capacity == 0 {
            return Err(FG_ERR_INVALID_ARGUMENT.into());
        }
        // SAFETY: element 0's first 4 bytes are readable per the contract.
        let stride = unsafe { struct_size(ptr)? };
        if capacity > isize::MAX as usize / stride {
            return Err(FG_ERR_INVALID_ARGUMENT.into());
        }
        Ok(OutArray {
            base: ptr.cast(),
            stride,
            capacity,
            _of: std::marker::PhantomData,
        })
    }

    /// How many elements the array holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Writes `items`, computed in full beforehand, one per element, each with `struct_size`
    /// set to the stride; `FG_ERR_BUFFER_TOO_SMALL` (nothing written) if they do not fit:
    /// items are never dropped silently.
    pub fn fill(&self, items: &[T]) -> Result<(), Failure> {
        if items.len() > self.capacity {
            return Err(FG_ERR_BUFFER_TOO_SMALL.into());
        }
        for (i, item) in items.iter().enumerate() {
            let mut item = *item;
            item.set_struct_size(self.stride as u32);
            // SAFETY: element i < capacity starts at base + i * stride, inside the array
            // (checked by `new` against isize::MAX); each element is valid for writes of
            // `stride` >= size_of::<T>() bytes per `new`'s contract. Unaligned: a stride
            // need not be a multiple of T's alignment.
            unsafe {
                self.base
                    .add(i * self.stride)
                    .cast::<T>()
                    .write_unaligned(item)
            };
        }
        Ok(())
    }
}

/// A caller's input array of `count` elements (1 or more) whose element 0 carries the stride
/// in its `struct_size`: every element must carry the same size (`FG_ERR_INVALID_ARGUMENT`
/// otherwise).
///
/// # Safety
/// `ptr` is NULL or valid for reads of `count` elements of `ptr->struct_size` bytes each.
pub unsafe fn read_array<T: Versioned>(ptr: *const T, count: usize) -> Result<Vec<T>, Failure> {
    // SAFETY: per this function's contract.
    let stride = unsafe { struct_size(ptr)? };
    if count == 0 || count > isize::MAX as usize / stride {
        return Err(FG_ERR_INVALID_ARGUMENT.into());
    }
    let base = ptr.cast::<u8>();
    (0..count)
        .map(|i| {
            // SAFETY: element i < count lies inside the array (checked against isize::MAX).
            let element = unsafe { base.add(i * stride) }.cast::<T>();
            // SAFETY: each element is readable for `stride` bytes per the contract.
            let size = unsafe { struct_size(element)? };
            if size != stride {
                return Err(Failure {
                    status: FG_ERR_INVALID_ARGUMENT,
                    detail: Some(format!(
                        "element {i} of an array has struct_size {size}, element 0 {stride}: \
                         every element carries the same"
                    )),
                });
            }
            // SAFETY: as above; `stride` >= size_of::<T>().
            Ok(unsafe { element.read_unaligned() })
        })
        .collect()
}

impl fg_status {
    /// The level a failure with this status is logged at: `FG_LOG_ERROR` when the device,
    /// its storage, its models or the library are in trouble, `FG_LOG_WARN` when this one
    /// call was refused (an argument, a consent, a face, a busy vault).
    pub(crate) fn log_level(self) -> fg_log_level {
        match self {
            FG_ERR_MODEL
            | FG_ERR_INFERENCE
            | FG_ERR_CLOCK_BEHIND
            | FG_ERR_WRONG_KEY
            | FG_ERR_TAMPERED
            | FG_ERR_CORRUPT
            | FG_ERR_ROLLED_BACK
            | FG_ERR_IO
            | FG_ERR_VAULT_POISONED
            | FG_ERR_COUNTER
            | FG_ERR_INTERNAL => fg_log_level::FG_LOG_ERROR,
            _ => fg_log_level::FG_LOG_WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_reported_as_internal_and_does_not_unwind_further() {
        assert_eq!(call("test", || panic!("a bug")), FG_ERR_INTERNAL);
        let flag = AtomicBool::new(false);
        assert_eq!(
            call_on("test", Some(&flag), || panic!("a bug")),
            FG_ERR_INTERNAL
        );
        assert!(flag.load(Ordering::SeqCst));
        assert_eq!(
            call_on("test", Some(&flag), || Ok(())),
            FG_ERR_VAULT_POISONED
        );
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

    fn status_of<T>(r: Result<T, Failure>) -> Option<fg_status> {
        r.err().map(|f| f.status)
    }

    #[test]
    fn a_short_struct_size_is_explained_in_the_log_detail() {
        let t = Thing {
            struct_size: 4,
            value: 0,
        };
        // SAFETY: `t` is a valid Thing.
        let failure = unsafe { read(&t) }.err().unwrap();
        assert_eq!(
            failure.detail.as_deref(),
            Some(
                "Thing.struct_size is 4, less than sizeof(Thing) = 8 in this version: set it \
                 to sizeof(Thing)"
            )
        );
    }

    /// A sized structure as this version knows it.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Thing {
        struct_size: u32,
        value: u32,
    }
    // SAFETY: repr(C), `struct_size: u32` first.
    unsafe impl Versioned for Thing {
        fn set_struct_size(&mut self, size: u32) {
            self.struct_size = size;
        }
    }
    /// The same structure as a newer header declares it, with a field more.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct NewerThing {
        struct_size: u32,
        value: u32,
        added: u32,
    }
    const THING: u32 = size_of::<Thing>() as u32;
    const NEWER: u32 = size_of::<NewerThing>() as u32;

    #[test]
    fn a_struct_size_smaller_than_this_versions_is_refused_and_nothing_is_written() {
        for size in [0, 1, 4, THING - 1] {
            let mut t = Thing {
                struct_size: size,
                value: 7,
            };
            // SAFETY: `t` is a valid Thing.
            assert_eq!(
                status_of(unsafe { read(&t) }),
                Some(FG_ERR_INVALID_ARGUMENT)
            );
            // SAFETY: as above.
            assert_eq!(
                status_of(unsafe { Out::new(&mut t) }),
                Some(FG_ERR_INVALID_ARGUMENT)
            );
            let mut array = [t, t];
            // SAFETY: two valid Things.
            let out = unsafe { OutArray::new(array.as_mut_ptr(), 2) };
            assert_eq!(status_of(out), Some(FG_ERR_INVALID_ARGUMENT));
            // SAFETY: as above.
            let read = unsafe { read_array(array.as_ptr(), 2) };
            assert_eq!(status_of(read), Some(FG_ERR_INVALID_ARGUMENT));
            assert_eq!(array, [t, t]);
        }
        // SAFETY: NULL is checked.
        let null = unsafe { read(std::ptr::null::<Thing>()) };
        assert_eq!(status_of(null), Some(FG_ERR_NULL_POINTER));
    }

    #[test]
    fn a_larger_struct_size_is_read_and_written_only_as_far_as_this_version_knows() {
        let mut newer = NewerThing {
            struct_size: NEWER,
            value: 1,
            added: 0xA5A5,
        };
        let ptr = (&mut newer as *mut NewerThing).cast::<Thing>();
        // SAFETY: `newer` is readable and writable for its NEWER bytes.
        let got = unsafe { read(ptr) }.unwrap();
        assert_eq!(got.value, 1);
        // SAFETY: as above.
        let out = unsafe { Out::new(ptr) }.unwrap();
        out.write(Thing {
            struct_size: 0,
            value: 2,
        });
        assert_eq!(
            newer,
            NewerThing {
                struct_size: NEWER,
                value: 2,
                added: 0xA5A5
            }
        );
    }

    #[test]
    fn arrays_use_element_zeros_struct_size_as_their_stride() {
        // An array of the newer structure: the library writes this version's fields of
        // each element at the caller's stride, and the stride into each struct_size.
        let mut newer = [NewerThing {
            struct_size: 0,
            value: 0,
            added: 0xA5A5,
        }; 3];
        newer[0].struct_size = NEWER;
        let ptr = newer.as_mut_ptr().cast::<Thing>();
        // SAFETY: 3 elements of NEWER bytes.
        let out = unsafe { OutArray::new(ptr, 3) }.unwrap();
        let items = [5, 6].map(|value| Thing {
            struct_size: 0,
            value,
        });
        out.fill(&items).unwrap();
        let values: Vec<(u32, u32, u32)> = newer
            .iter()
            .map(|t| (t.struct_size, t.value, t.added))
            .collect();
        assert_eq!(
            values,
            [(NEWER, 5, 0xA5A5), (NEWER, 6, 0xA5A5), (0, 0, 0xA5A5)]
        );
        // Too many items: nothing written.
        assert_eq!(
            out.fill(&[items[0]; 4]),
            Err(FG_ERR_BUFFER_TOO_SMALL.into())
        );
        assert_eq!(newer[2].value, 0);
        // Read back as input, at the same stride; an element of another size is refused.
        newer[2].struct_size = NEWER;
        // SAFETY: 3 readable elements of NEWER bytes.
        let read = unsafe { read_array(newer.as_ptr().cast::<Thing>(), 3) }.unwrap();
        assert_eq!(read.iter().map(|t| t.value).collect::<Vec<_>>(), [5, 6, 0]);
        newer[1].struct_size = THING;
        // SAFETY: as above.
        let mixed = unsafe { read_array(newer.as_ptr().cast::<Thing>(), 3) };
        assert_eq!(status_of(mixed), Some(FG_ERR_INVALID_ARGUMENT));
    }

    #[test]
    fn an_array_too_large_to_address_is_refused() {
        let mut t = Thing {
            struct_size: THING,
            value: 0,
        };
        // SAFETY: only element 0's size is read before the capacity is refused.
        let out = unsafe { OutArray::new(&mut t, usize::MAX / 2) };
        assert_eq!(status_of(out), Some(FG_ERR_INVALID_ARGUMENT));
        // SAFETY: as above.
        let read = unsafe { read_array(&t, usize::MAX / 2) };
        assert_eq!(status_of(read), Some(FG_ERR_INVALID_ARGUMENT));
        // SAFETY: as above.
        let zero = unsafe { OutArray::new(&mut t, 0) };
        assert_eq!(status_of(zero), Some(FG_ERR_INVALID_ARGUMENT));
    }
}
