//! Guarantee: biometric templates are secrets that cannot be copied: `Template` (enrolment or
//! probe) is not `Clone`.

use faceguard::{ProbeTemplate, Purpose, Template};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn copy_enrolment(template: Template<DoorAccess>) {
    let _copy = template.clone();
}

fn copy_probe(probe: ProbeTemplate<DoorAccess>) {
    let _copy = probe.clone();
}

fn main() {}
