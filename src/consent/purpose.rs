use std::any::TypeId;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::liveness::LivenessPolicy;

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
///
/// A purpose has one identity and one retention limit whichever API names it: two types may
/// not share a [`NAME`](Purpose::NAME) on one ledger or vault
/// ([`ConsentError::PurposeConflict`](super::ConsentError::PurposeConflict)), and a purpose
/// named at run time ([`NamedPurpose`]) whose name belongs to a declared purpose gets that
/// purpose's limits. A purpose is declared the first time a ledger or vault is asked for one
/// of its tokens or probe consents, or explicitly with
/// [`ConsentLedger::declare`](super::ConsentLedger::declare): declare every purpose at start-up
/// when code that names purposes at run time (the C API) shares the ledger.
pub trait Purpose: Send + Sync + 'static {
    /// Stable, unique name, recorded with each consent and in the audit log.
    const NAME: &'static str;
    /// Longest validity an enrolment consent for this purpose may be granted for: the
    /// retention limit of its templates. One year unless the purpose says less.
    const MAX_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
    /// How long a probe consent (one capture at the door) stays usable. One minute unless the
    /// purpose says otherwise.
    const PROBE_VALIDITY: Duration = Duration::from_secs(60);
    /// The false-match rate this purpose can accept: the share of strangers it may mistake
    /// for an enrolled person. [`Engine::matcher`](crate::Engine::matcher) turns it into the
    /// embedder's calibrated threshold. One in a thousand unless the purpose asks for less
    /// (a payment would ask for `1e-4`).
    const TARGET_FMR: f64 = crate::matching::DEFAULT_TARGET_FMR;
    /// Whether an enrolment template needs a live face: the engine runs its liveness check
    /// first and refuses a spoof ([`LivenessError::PresentationAttack`](crate::LivenessError)).
    /// Required unless the purpose waives it with a documented reason
    /// ([`LivenessPolicy::Waived`]), e.g. enrolment by staff at a desk who see the person.
    const ENROLMENT_LIVENESS: LivenessPolicy = LivenessPolicy::Required;
    /// Whether a probe (a capture at the door) needs a live face. Required unless the purpose
    /// waives it with a documented reason.
    const PROBE_LIVENESS: LivenessPolicy = LivenessPolicy::Required;
}

/// A purpose named at run time, for callers that cannot declare a type per purpose: the C API,
/// whose purposes are strings, and the command-line tool.
///
/// Tokens, templates and galleries of `NamedPurpose` carry the actual name (given to
/// [`ConsentLedger::grant_named`](super::ConsentLedger::grant_named)) and every gallery checks
/// it at run time: a template consented for `"attendance"` is refused by an `"door-access"`
/// gallery with [`ConsentError::PurposeMismatch`](super::ConsentError::PurposeMismatch). The
/// check the compiler makes for declared purposes becomes a run-time check, nothing less. A name
/// that belongs to a declared purpose gets that purpose's limits (validity, probe validity,
/// liveness policies); other names get the limits below: liveness required at enrolment and
/// at the door.
pub enum NamedPurpose {}

impl Purpose for NamedPurpose {
    const NAME: &'static str = "(named at run time)";
}

/// The limits a purpose sets on its consents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_validity: Duration,
    pub(crate) probe_validity: Duration,
    pub(crate) liveness: LivenessRules,
}

/// A purpose's liveness policies, carried by each of its consents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LivenessRules {
    pub(crate) enrolment: LivenessPolicy,
    pub(crate) probe: LivenessPolicy,
}

impl Limits {
    pub(crate) fn of<P: Purpose>() -> Self {
        Limits {
            max_validity: P::MAX_VALIDITY,
            probe_validity: P::PROBE_VALIDITY,
            liveness: LivenessRules {
                enrolment: P::ENROLMENT_LIVENESS,
                probe: P::PROBE_LIVENESS,
            },
        }
    }
}

/// A purpose declared by its type.
struct Declared {
    type_id: TypeId,
    type_name: &'static str,
    limits: Limits,
}

/// The purposes a ledger knows by type: one type per name.
#[derive(Default)]
pub(crate) struct Registry(BTreeMap<String, Declared>);

impl Registry {
    /// Declares `P`; `Ok(true)` if it was not declared before.
    pub(crate) fn declare<P: Purpose>(&mut self) -> Result<bool, super::ConsentError> {
        if TypeId::of::<P>() == TypeId::of::<NamedPurpose>() {
            return Err(super::ConsentError::InvalidPurpose(
                "NamedPurpose stands for names given at run time: use the *_named calls",
            ));
        }
        check_name(P::NAME)?;
        match self.0.get(P::NAME) {
            Some(d) if d.type_id == TypeId::of::<P>() => Ok(false),
            Some(d) => Err(super::ConsentError::PurposeConflict {
                purpose: P::NAME.to_string(),
                declared_by: d.type_name,
                also_claimed_by: std::any::type_name::<P>(),
            }),
            None => {
                self.0.insert(
                    P::NAME.to_string(),
                    Declared {
                        type_id: TypeId::of::<P>(),
                        type_name: std::any::type_name::<P>(),
                        limits: Limits::of::<P>(),
                    },
                );
                Ok(true)
            }
        }
    }

    /// The limits of the purpose called `name`: its declared type's, or [`NamedPurpose`]'s.
    pub(crate) fn limits(&self, name: &str) -> Limits {
        self.0
            .get(name)
            .map_or(Limits::of::<NamedPurpose>(), |d| d.limits)
    }
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
