//! Guarantee: a probe template (one capture under a one-off probe consent) cannot be stored:
//! `Gallery::enroll` accepts only enrolment templates, made under an enrolment consent.

use faceguard::{Gallery, ProbeTemplate, Purpose};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn keep_probe(door: &Gallery<DoorAccess>, probe: ProbeTemplate<DoorAccess>) {
    let _ = door.enroll(probe);
}

fn main() {}
