//! Attacks on templates: comparing them across purposes or ledgers.

use faceguard::{
    ConsentError, ConsentLedger, Engine, MatchError, Matcher, NamedPurpose, ProbeTemplate, Purpose,
    SubjectId, Template,
};

use crate::common::{engine, enrolment_template, largest, photo, probe, DoorAccess, DAY, NOTICE};

/// The largest face of `photo_name` under `token`, by `engine`.
fn template_by<P: Purpose>(
    engine: &Engine,
    token: &faceguard::ConsentToken<P>,
    photo_name: &str,
) -> Template<P> {
    let img = photo(photo_name);
    let face = largest(&engine.detect(&img.view()).unwrap());
    engine
        .enrolment_template(token, &img.view(), &face)
        .unwrap()
}

/// The probe of `photo_name` under a one-off consent `consent`.
fn probe_by<P: Purpose>(
    engine: &Engine,
    consent: faceguard::ProbeConsent<P>,
    photo_name: &str,
) -> ProbeTemplate<P> {
    let img = photo(photo_name);
    let face = largest(&engine.detect(&img.view()).unwrap());
    engine.probe_template(consent, &img.view(), &face).unwrap()
}

fn subject(name: &str) -> SubjectId {
    SubjectId::new(name).unwrap()
}

#[test]
fn named_purposes_do_not_verify_across_purposes() {
    let ledger = ConsentLedger::new();
    let attendance = ledger
        .grant_named("attendance", subject("alice"), NOTICE, DAY)
        .unwrap();
    let template = template_by(engine(), &attendance, "img1.jpg");
    // The same person, at a payment terminal.
    let payment = ledger.probe_consent_named("payment", NOTICE).unwrap();
    let probe = probe_by(engine(), payment, "img2.jpg");
    let err = Matcher::default().verify(&probe, &template).unwrap_err();
    match err {
        MatchError::Consent(ConsentError::PurposeMismatch {
            consent,
            granted,
            requested,
        }) => {
            assert_eq!(consent, attendance.id());
            assert_eq!((&granted[..], &requested[..]), ("attendance", "payment"));
        }
        other => panic!("expected a purpose mismatch, got {other:?}"),
    }
    // Either way round.
    assert!(matches!(
        Matcher::default().verify(&template, &probe),
        Err(MatchError::Consent(ConsentError::PurposeMismatch { .. }))
    ));
    // The purpose it was consented for still verifies: the refusal is about the purpose.
    let same = ledger.probe_consent_named("attendance", NOTICE).unwrap();
    let decision = Matcher::default()
        .verify(&probe_by(engine(), same, "img2.jpg"), &template)
        .unwrap();
    assert!(decision.is_match, "{decision:?}");
}

#[test]
fn templates_of_two_ledgers_do_not_verify() {
    // Two ledgers (two vaults, two tenants), one purpose: a consent id or a revocation of one
    // means nothing to the other.
    let home = ConsentLedger::new();
    let elsewhere = ConsentLedger::new();
    let template = enrolment_template::<DoorAccess>(&home, "alice", "img1.jpg");
    let foreign = probe::<DoorAccess>(&elsewhere, "img2.jpg");
    let err = Matcher::default().verify(&foreign, &template).unwrap_err();
    assert!(
        matches!(
            err,
            MatchError::Consent(ConsentError::ForeignLedger { consent }) if consent == template.consent_id()
        ),
        "{err:?}"
    );
    // Named purposes too.
    let named = home
        .grant_named("door-access", subject("bob"), NOTICE, DAY)
        .unwrap();
    let template = template_by(engine(), &named, "img1.jpg");
    let foreign = probe_by(
        engine(),
        elsewhere
            .probe_consent_named("door-access", NOTICE)
            .unwrap(),
        "img2.jpg",
    );
    assert!(matches!(
        Matcher::default().verify::<NamedPurpose, _, _>(&foreign, &template),
        Err(MatchError::Consent(ConsentError::ForeignLedger { .. }))
    ));
    let local = probe_by(
        engine(),
        home.probe_consent_named("door-access", NOTICE).unwrap(),
        "img2.jpg",
    );
    assert!(
        Matcher::default()
            .verify(&local, &template)
            .unwrap()
            .is_match
    );
}
