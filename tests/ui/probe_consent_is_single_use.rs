//! Guarantee: a probe consent covers one capture: `Engine::probe_template` consumes it, so it
//! cannot make a second template.

use faceguard::{Engine, Face, ImageView, ProbeConsent, Purpose};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn two_captures(
    engine: &Engine,
    consent: ProbeConsent<DoorAccess>,
    image: &ImageView<'_>,
    first: &Face,
    second: &Face,
) {
    let _first = engine.probe_template(consent, image, first);
    let _second = engine.probe_template(consent, image, second);
}

fn main() {}
