//! Guarantee: a template made for one purpose cannot be enrolled in a gallery for another:
//! `Gallery<DoorAccess>::enroll` accepts only `Template<DoorAccess>`.

use faceguard::{Gallery, Purpose, Template};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

enum Attendance {}
impl Purpose for Attendance {
    const NAME: &'static str = "attendance";
}

fn enrol_elsewhere(door: &Gallery<DoorAccess>, template: Template<Attendance>) {
    let _ = door.enroll(template);
}

fn main() {}
