//! Guarantee: a biometric template can only be computed with a consent token.
//!
//! `Engine::enrolment_template` wants a `&ConsentToken<P>` and `Engine::probe_template` a
//! `ProbeConsent<P>`: nothing else (no `()`, no bare `ConsentId`) fits in their place. And no
//! public function turns an embedding into a `Template`: `Template::new` is private to the
//! crate and there is no `From`/`Into` conversion.

use faceguard::{ConsentId, Engine, Face, ImageView, ModelId, Purpose, Template};

enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
}

fn enrol_without_token(engine: &Engine, image: &ImageView<'_>, face: &Face) {
    let _ = engine.enrolment_template::<DoorAccess>(&(), image, face);
}

fn enrol_with_consent_id(engine: &Engine, id: ConsentId, image: &ImageView<'_>, face: &Face) {
    let _ = engine.enrolment_template::<DoorAccess>(&id, image, face);
}

fn probe_without_consent(engine: &Engine, image: &ImageView<'_>, face: &Face) {
    let _ = engine.probe_template::<DoorAccess>((), image, face);
}

fn make<T>() -> T {
    unimplemented!()
}

fn template_from_embedding(embedding: Vec<f32>) -> Template<DoorAccess> {
    embedding.into()
}

fn template_by_constructor(model: ModelId) -> Template<DoorAccess> {
    Template::new(make(), model, make())
}

fn main() {}
