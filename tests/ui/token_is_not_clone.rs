//! Guarantee: consent tokens are neither `Clone` nor `Copy`, so one consent cannot be
//! duplicated into several tokens.

use faceguard::{ConsentToken, ProbeConsent, Purpose};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn duplicate_token(token: ConsentToken<DoorAccess>) {
    let _copy = token.clone();
}

fn duplicate_probe_consent(consent: ProbeConsent<DoorAccess>) {
    let _copy = consent.clone();
}

fn main() {}
