//! Guarantee: a template's raw vector (`expose_secret`, only in builds with the `research`
//! feature, which the tests enable) comes out only through its consent check: it is inside a
//! `Result`, never handed out directly.

use faceguard::{Purpose, Template};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn read(template: &Template<DoorAccess>) -> &[f32] {
    template.expose_secret()
}

fn main() {}
