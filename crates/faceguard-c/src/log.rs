//! The log callback: what the library would otherwise keep to itself, handed to the firmware's
//! own logger. Every failed call, with the detail its status code loses; what opening a vault
//! found and repaired; key rotations and compactions; engines loaded and thresholds set.
//!
//! Kept in this layer, not in the Rust library: a Rust caller gets the same facts as values
//! (typed errors, `OpenReport`), and the library sets no process-wide logger of its own.

use std::cell::Cell;
use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::guard::{self, Outcome};
use crate::status::fg_status::{self, *};

/// Log levels, the values of the `level` an `fg_log_fn` receives and of the `max_level`
/// given to `fg_set_log_callback`: a message is delivered if its level is at most
/// `max_level`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum fg_log_level {
    /// The device, its storage, its models or the library are in trouble: a vault that does
    /// not open or cannot be written, a model that fails, a panic.
    FG_LOG_ERROR = 1,
    /// A call was refused: an argument, a consent, a face not good enough, a busy vault;
    /// and repairs made when a vault was opened (an interrupted write, a clock behind).
    FG_LOG_WARN = 2,
    /// What changed: a vault created or opened (with what it holds), a monotonic counter
    /// raised, a key rotated, a compaction.
    FG_LOG_INFO = 3,
    /// Settings: an engine's detector settings, a purpose's threshold.
    FG_LOG_DEBUG = 4,
}

/// Receives one log message: its `level` (an `fg_log_level` value), the message (UTF-8,
/// NUL-terminated, valid only during the call: copy it to keep it) and the `user_data` given
/// to `fg_set_log_callback`.
pub type fg_log_fn =
    Option<unsafe extern "C" fn(level: i32, message: *const c_char, user_data: *mut c_void)>;

/// The installed callback.
#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(i32, *const c_char, *mut c_void),
    user_data: *mut c_void,
    max_level: i32,
}

// SAFETY: the caller's contract (fg_set_log_callback's doc) is that the callback and its
// user_data may be used from any thread that calls the library.
unsafe impl Send for Sink {}

/// The callback, copied out under the lock and called without it.
static SINK: Mutex<Option<Sink>> = Mutex::new(None);
/// The installed `max_level` (0 when off): checked before a message is even formatted.
static MAX_LEVEL: AtomicI32 = AtomicI32::new(0);

thread_local! {
    /// Set on a thread while its callback runs: a message from a library call the callback
    /// itself makes is dropped, never delivered into the callback again.
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

/// Whether a message of `level` would be delivered.
pub fn enabled(level: fg_log_level) -> bool {
    level as i32 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Delivers `message` at `level` to the callback, if one is set and takes that level. No lock
/// is held while the callback runs; a NUL inside the message becomes a space.
pub fn emit(level: fg_log_level, message: &str) {
    // `try_with`: never a panic, even on a thread being torn down (nothing is delivered).
    if !enabled(level) || DELIVERING.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let sink = *SINK.lock().unwrap_or_else(|p| p.into_inner());
    let Some(sink) = sink.filter(|s| level as i32 <= s.max_level) else {
        return;
    };
    let Ok(text) = CString::new(message.replace('\0', " ")) else {
        return;
    };
    /// Clears the thread's flag however the callback returns.
    struct Delivering;
    impl Drop for Delivering {
        fn drop(&mut self) {
            let _ = DELIVERING.try_with(|d| d.set(false));
        }
    }
    if DELIVERING.try_with(|d| d.set(true)).is_err() {
        return;
    }
    let _delivering = Delivering;
    // SAFETY: the callback and user_data were given for this purpose by the caller, who
    // guarantees they may be called from this thread; `text` is NUL-terminated and outlives
    // the call.
    unsafe { (sink.callback)(level as i32, text.as_ptr(), sink.user_data) };
}

/// Formats and delivers a message only if its level is taken.
pub fn emit_with(level: fg_log_level, message: impl FnOnce() -> String) {
    if enabled(level) {
        emit(level, &message());
    }
}

/// Sends the library's log messages to `callback`, with `user_data`, from now on: those of
/// `level` at most `max_level` (an `fg_log_level`: `FG_LOG_WARN` for failures only,
/// `FG_LOG_DEBUG` for everything). A NULL `callback` turns logging off (`max_level` is then
/// ignored). `FG_ERR_INVALID_ARGUMENT` for a `max_level` that is no `fg_log_level`; the
/// setting is then unchanged. Process-wide: one callback for every engine and vault.
///
/// What is logged: every call that fails, with its status and the detail the status code
/// loses (the Rust error's message: which file, which limit, which consent), at
/// `FG_LOG_ERROR` when the device, its storage or the library are in trouble and
/// `FG_LOG_WARN` when the call was refused; what opening a vault found and repaired
/// (`FG_LOG_INFO`, or `FG_LOG_WARN` for a repair); key rotations and compactions
/// (`FG_LOG_INFO`); engines' settings and purposes' thresholds (`FG_LOG_DEBUG`). Never
/// personal data or secrets: no subject id, no key, no template value, no consent-handle
/// byte, no pixel. Consent ids (the sequence numbers `fg_vault_grant` returns), purposes,
/// paths and sizes do appear.
///
/// The callback is called on the thread of the call that logs, from any thread that calls
/// the library, possibly from several at once: it must be thread-safe, must not unwind (a C++
/// exception) and should return quickly. It is never called with a lock of the library held,
/// so it may call the library; messages those calls would log are dropped (never delivered
/// into the callback again). A message being delivered on another thread while this call
/// replaces the callback may still reach the previous one: keep the previous `user_data`
/// valid until the calls in flight have returned (or set the callback once, at start-up,
/// before other threads use the library).
///
/// # Safety
/// `callback` is NULL or a function that may be called as described, with `user_data`, until
/// it is replaced.
#[no_mangle]
pub unsafe extern "C" fn fg_set_log_callback(
    callback: fg_log_fn,
    user_data: *mut c_void,
    max_level: i32,
) -> fg_status {
    guard::call("fg_set_log_callback", || -> Outcome {
        let sink = match callback {
            None => None,
            Some(callback) => {
                if !(fg_log_level::FG_LOG_ERROR as i32..=fg_log_level::FG_LOG_DEBUG as i32)
                    .contains(&max_level)
                {
                    return Err(FG_ERR_INVALID_ARGUMENT.into());
                }
                Some(Sink {
                    callback,
                    user_data,
                    max_level,
                })
            }
        };
        let mut installed = SINK.lock().unwrap_or_else(|p| p.into_inner());
        *installed = sink;
        MAX_LEVEL.store(sink.map_or(0, |s| s.max_level), Ordering::Relaxed);
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::sync::MutexGuard;
    use std::thread::ThreadId;

    /// Serialises the tests that install a callback (it is process-wide) and collects what
    /// it receives.
    pub(crate) struct Capture {
        _serial: MutexGuard<'static, ()>,
        messages: &'static Mutex<Vec<Received>>,
    }

    /// A message received: the thread it was logged on, its level and text.
    type Received = (ThreadId, i32, String);

    static SERIAL: Mutex<()> = Mutex::new(());
    static RECEIVED: Mutex<Vec<Received>> = Mutex::new(Vec::new());

    unsafe extern "C" fn collect(level: i32, message: *const c_char, user_data: *mut c_void) {
        // SAFETY: the library passes a NUL-terminated message valid during the call.
        let text = unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: user_data is &RECEIVED, given below.
        let sink = unsafe { &*(user_data as *const Mutex<Vec<Received>>) };
        let thread = std::thread::current().id();
        sink.lock().unwrap().push((thread, level, text));
    }

    impl Capture {
        /// Installs the collecting callback at `max_level`, until dropped.
        pub(crate) fn start(max_level: fg_log_level) -> Capture {
            let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
            RECEIVED.lock().unwrap().clear();
            let user_data = &RECEIVED as *const _ as *mut c_void;
            // SAFETY: `collect` is thread-safe; RECEIVED is static.
            let set = unsafe { fg_set_log_callback(Some(collect), user_data, max_level as i32) };
            assert_eq!(set, FG_OK);
            Capture {
                _serial: serial,
                messages: &RECEIVED,
            }
        }

        /// The messages logged so far on this thread (other tests, running at the same
        /// time, log on theirs), as (level, text).
        pub(crate) fn messages(&self) -> Vec<(i32, String)> {
            let here = std::thread::current().id();
            let all = self.messages.lock().unwrap();
            all.iter()
                .filter(|(thread, _, _)| *thread == here)
                .map(|(_, level, text)| (*level, text.clone()))
                .collect()
        }

        /// The texts of every message received so far, from any thread.
        fn texts(&self) -> Vec<String> {
            let all = self.messages.lock().unwrap();
            all.iter().map(|(_, _, text)| text.clone()).collect()
        }
    }

    impl Drop for Capture {
        fn drop(&mut self) {
            // SAFETY: NULL turns logging off.
            unsafe { fg_set_log_callback(None, std::ptr::null_mut(), 0) };
        }
    }

    #[test]
    fn a_failed_call_is_logged_with_its_status_and_nothing_above_max_level() {
        let capture = Capture::start(fg_log_level::FG_LOG_WARN);
        // SAFETY: valid arguments except the NULL path.
        let status = unsafe {
            crate::engine::fg_engine_new(
                std::ptr::null(),
                std::ptr::null(),
                &mut std::ptr::null_mut(),
            )
        };
        assert_eq!(status, FG_ERR_NULL_POINTER);
        emit(fg_log_level::FG_LOG_INFO, "not delivered: above WARN");
        assert_eq!(
            capture.messages(),
            [(
                fg_log_level::FG_LOG_WARN as i32,
                "fg_engine_new: FG_ERR_NULL_POINTER (1): a required pointer argument is NULL"
                    .to_string()
            )]
        );
    }

    #[test]
    fn an_unknown_max_level_is_refused_and_the_callback_kept() {
        let capture = Capture::start(fg_log_level::FG_LOG_DEBUG);
        for level in [0, 5, -1, i32::MAX] {
            // SAFETY: a valid callback and user data.
            let s = unsafe { fg_set_log_callback(Some(collect), std::ptr::null_mut(), level) };
            assert_eq!(s, FG_ERR_INVALID_ARGUMENT);
        }
        // Each refusal was logged through the callback still installed.
        let messages = capture.messages();
        assert_eq!(messages.len(), 4);
        assert!(messages
            .iter()
            .all(|(_, m)| m.starts_with("fg_set_log_callback: FG_ERR_INVALID_ARGUMENT (2)")));
    }

    #[test]
    fn a_null_callback_turns_logging_off() {
        let capture = Capture::start(fg_log_level::FG_LOG_DEBUG);
        // SAFETY: NULL turns logging off; any max_level is then accepted.
        assert_eq!(
            unsafe { fg_set_log_callback(None, std::ptr::null_mut(), 99) },
            FG_OK
        );
        emit(fg_log_level::FG_LOG_ERROR, "not delivered: logging is off");
        assert!(!enabled(fg_log_level::FG_LOG_ERROR));
        assert!(capture.messages().is_empty());
    }

    unsafe extern "C" fn reenter(level: i32, message: *const c_char, user_data: *mut c_void) {
        // SAFETY: as in `collect`.
        unsafe { collect(level, message, user_data) };
        // A library call from inside the callback: it fails and would log; it must neither
        // deadlock nor call this callback again.
        // SAFETY: NULL is checked.
        let s = unsafe {
            crate::engine::fg_engine_new(std::ptr::null(), std::ptr::null(), std::ptr::null_mut())
        };
        assert_eq!(s, FG_ERR_NULL_POINTER);
        // Replacing the callback from inside it does not deadlock either (and is undone by
        // the test).
        // SAFETY: a valid callback.
        let s = unsafe { fg_set_log_callback(Some(collect), user_data, level) };
        assert_eq!(s, FG_OK);
    }

    #[test]
    fn the_callback_may_call_the_library_without_deadlock_or_recursion() {
        let capture = Capture::start(fg_log_level::FG_LOG_DEBUG);
        let user_data = &RECEIVED as *const _ as *mut c_void;
        // SAFETY: `reenter` is thread-safe; RECEIVED is static.
        let s = unsafe { fg_set_log_callback(Some(reenter), user_data, 4) };
        assert_eq!(s, FG_OK);
        emit(fg_log_level::FG_LOG_WARN, "first");
        emit(fg_log_level::FG_LOG_WARN, "second");
        // "first" reached `reenter`, which replaced itself with `collect`: "second" reached
        // `collect`; the failures of the calls inside the callback were not delivered.
        let texts: Vec<String> = capture.messages().into_iter().map(|(_, m)| m).collect();
        assert_eq!(texts, ["first", "second"]);
    }

    #[test]
    fn messages_from_many_threads_all_arrive() {
        let capture = Capture::start(fg_log_level::FG_LOG_WARN);
        std::thread::scope(|s| {
            for t in 0..8 {
                s.spawn(move || {
                    for i in 0..50 {
                        emit(fg_log_level::FG_LOG_WARN, &format!("{t}/{i}"));
                    }
                });
            }
        });
        let mut texts: Vec<String> = capture
            .texts()
            .into_iter()
            .filter(|m| m.contains('/') && !m.contains(':'))
            .collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 8 * 50);
    }
}
