//! Guarantee: consent tokens cannot be built outside the crate; only a `ConsentLedger` issues
//! them.
//!
//! The constructors `ConsentToken::new` and `ProbeConsent::new` are private to the crate (the
//! struct literals are refused in `token_cannot_be_constructed.rs`).

use faceguard::{ConsentToken, ProbeConsent, Purpose};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn make<T>() -> T {
    unimplemented!()
}

fn token_by_constructor() -> ConsentToken<DoorAccess> {
    ConsentToken::new(make())
}

fn probe_consent_by_constructor() -> ProbeConsent<DoorAccess> {
    ProbeConsent::new(make())
}

fn main() {}
