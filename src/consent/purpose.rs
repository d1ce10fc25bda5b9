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
