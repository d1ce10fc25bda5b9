//! Guarantee: templates of different purposes cannot be matched against each other, neither
//! 1:N (`Gallery::identify`) nor 1:1 (`Matcher::verify`).

use faceguard::{Gallery, Matcher, ProbeTemplate, Purpose, Template};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

enum Attendance {}
impl Purpose for Attendance {
    const NAME: &'static str = "attendance";
}

fn identify_elsewhere(door: &Gallery<DoorAccess>, probe: &ProbeTemplate<Attendance>) {
    let _ = door.identify(probe, 1);
}

fn verify_across(
    matcher: &Matcher,
    door: &Template<DoorAccess>,
    attendance: &Template<Attendance>,
) {
    let _ = matcher.verify(door, attendance);
}

fn main() {}
