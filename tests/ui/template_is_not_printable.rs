//! Guarantee: templates cannot be printed: `Template` does not implement `Display` (its
//! `Debug` form is redacted).

use faceguard::{ProbeTemplate, Purpose, Template};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn print_enrolment(template: Template<DoorAccess>) {
    println!("{}", template);
}

fn print_probe(probe: ProbeTemplate<DoorAccess>) {
    let _text = format!("{probe}");
}

fn main() {}
