//! One test per attack on a privacy promise, named by the property it proves: a hostile
//! caller, a thief of the flash, a clock set back, a file rolled back, a crafted input.
//! Each was run against the code before its fix and failed there, except where a test pins
//! behaviour that had to stay the same (said in its doc).

#[path = "common/mod.rs"]
mod common;

#[path = "attacks/consent.rs"]
mod consent;
#[path = "attacks/input.rs"]
mod input;
#[path = "attacks/quality.rs"]
mod quality;
#[path = "attacks/templates.rs"]
mod templates;
#[path = "attacks/vault.rs"]
mod vault;
