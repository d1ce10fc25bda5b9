//! One test per attack on a privacy promise, named by the property it proves.

#[path = "attacks/input.rs"]
mod input;
