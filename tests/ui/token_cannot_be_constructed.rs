//! Guarantee: consent tokens cannot be built outside the crate; only a `ConsentLedger` issues
//! them.
//!
//! `ConsentToken` and `ProbeConsent` have private fields, so struct literals are refused (and
//! their content, the consent state, is a type private to the crate). Their constructors are
//! private too: see `token_constructor_is_private.rs` (a separate program, because rustc
//! reports field privacy only when type checking found no other error).

use std::marker::PhantomData;

use faceguard::{ConsentToken, ProbeConsent, Purpose};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn make<T>() -> T {
    unimplemented!()
}

fn forge_token() -> ConsentToken<DoorAccess> {
    ConsentToken {
        cell: make(),
        _purpose: PhantomData,
    }
}

fn forge_probe_consent() -> ProbeConsent<DoorAccess> {
    ProbeConsent {
        cell: make(),
        _purpose: PhantomData,
    }
}

fn main() {}
