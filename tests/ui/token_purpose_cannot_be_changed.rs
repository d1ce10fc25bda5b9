//! Guarantee: a consent is for one purpose: a `ConsentToken<Attendance>` (or a
//! `ProbeConsent<Attendance>`) cannot make a template for `DoorAccess`.

use faceguard::{
    ConsentToken, Engine, Face, ImageView, ProbeConsent, ProbeTemplate, Purpose, Template,
};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

enum Attendance {}
impl Purpose for Attendance {
    const NAME: &'static str = "attendance";
}

fn enrol_for_another_purpose(
    engine: &Engine,
    token: &ConsentToken<Attendance>,
    image: &ImageView<'_>,
    face: &Face,
) {
    let _ = engine.enrolment_template::<DoorAccess>(token, image, face);
}

fn infer_another_purpose(
    engine: &Engine,
    token: &ConsentToken<Attendance>,
    image: &ImageView<'_>,
    face: &Face,
) -> Option<Template<DoorAccess>> {
    engine.enrolment_template(token, image, face).ok()
}

fn probe_for_another_purpose(
    engine: &Engine,
    consent: ProbeConsent<Attendance>,
    image: &ImageView<'_>,
    face: &Face,
) -> Option<ProbeTemplate<DoorAccess>> {
    engine.probe_template(consent, image, face).ok()
}

fn main() {}
