use std::time::Duration;

/// A declared purpose of processing. Vendors implement it on their own marker types.
///
/// ```
/// use std::time::Duration;
/// /// Opening the staff entrance.
/// pub enum DoorAccess {}
/// impl faceguard::Purpose for DoorAccess {
///     const NAME: &'static str = "door-access";
///     // Staff consent is renewed every 90 days.
///     const MAX_VALIDITY: Duration = Duration::from_secs(90 * 24 * 3600);
/// }
/// ```
pub trait Purpose: Send + Sync + 'static {
    /// Stable, unique name, recorded with each consent (and, later, in audit logs).
    const NAME: &'static str;
    /// Longest validity an enrolment consent for this purpose may be granted for: the
    /// retention limit of its templates. One year unless the purpose says less.
    const MAX_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
    /// How long a probe consent (one capture at the door) stays usable. One minute unless the
    /// purpose says otherwise.
    const PROBE_VALIDITY: Duration = Duration::from_secs(60);
}

/// A purpose named at run time, for callers that cannot declare a type per purpose: the C API,
/// whose purposes are strings, and the command-line tool.
///
/// Tokens, templates and galleries of `NamedPurpose` carry the actual name (given to
/// [`ConsentLedger::grant_named`](super::ConsentLedger::grant_named)) and every gallery checks
/// it at run time: a template consented for `"attendance"` is refused by an `"door-access"`
/// gallery with [`ConsentError::PurposeMismatch`](super::ConsentError::PurposeMismatch). The
/// check the compiler makes for declared purposes becomes a run-time check, nothing less.
pub enum NamedPurpose {}

impl Purpose for NamedPurpose {
    const NAME: &'static str = "(named at run time)";
}

/// Longest purpose name accepted at run time, in bytes.
pub(crate) const MAX_PURPOSE_LEN: usize = 64;

/// Validates a purpose name given at run time: 1 to 64 bytes, no control characters, and not
/// the placeholder name of [`NamedPurpose`].
pub(crate) fn check_name(name: &str) -> Result<(), super::ConsentError> {
    use super::ConsentError::InvalidPurpose;
    if name.trim().is_empty() {
        return Err(InvalidPurpose("it is empty"));
    }
    if name.len() > MAX_PURPOSE_LEN {
        return Err(InvalidPurpose("it is longer than 64 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidPurpose("it holds control characters"));
    }
    if name == NamedPurpose::NAME {
        return Err(InvalidPurpose("it is the placeholder name of NamedPurpose"));
    }
    Ok(())
}
