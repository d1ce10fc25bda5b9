//! One test per attack on a privacy promise, named by the property it proves.

mod common;

#[path = "attacks/templates.rs"]
mod templates;
