//! Attacks on templates: comparing them across purposes or ledgers, forcing a verification to
//! cost a scan of everyone, a gallery locked to a retired model, and reading a template's raw
//! vector without consent.

use std::path::PathBuf;
use std::sync::Arc;

use faceguard::vault::{DirStorage, Vault, VaultConfig, VaultKey};
use faceguard::{
    ConsentError, ConsentLedger, Detector, DetectorConfig, Embedder, EmbedderSpec, Engine, Error,
    ManualClock, MatchError, Matcher, NamedPurpose, ProbeTemplate, Purpose, SubjectId, Template,
    Timestamp, DETECTOR_FILE, EMBEDDER_FILE, EMBEDDER_SPEC_FILE,
};

use crate::common::{
    engine, enrolment_template, largest, models_dir, photo, probe, DoorAccess, DAY, NOTICE,
};

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

/// A fresh, empty directory under the system temp dir.
fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "faceguard-attacks-templates-{}-{label}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn vault_verify_scores_the_claimed_subject_and_never_an_expired_template() {
    let dir = temp_dir("verify");
    let clock = ManualClock::new(Timestamp(1_790_000_000));
    let vault = Vault::create_in(
        Box::new(DirStorage::create(&dir).unwrap()),
        VaultKey::from_bytes(&[7; 32]).unwrap(),
        VaultConfig::new().clock(Arc::new(clock.clone())),
    )
    .unwrap();
    let enrol = |who: &str, photo_name: &str, days: u32| {
        let token = vault
            .grant::<DoorAccess>(subject(who), NOTICE, DAY * days)
            .unwrap();
        vault
            .enroll(template_by(engine(), &token, photo_name))
            .unwrap();
    };
    // alice: img1 until tomorrow, img3 for a month; bob: a month; carol: until tomorrow.
    enrol("alice", "img1.jpg", 1);
    enrol("alice", "img3.jpg", 30);
    enrol("bob", "img17.jpg", 30);
    enrol("carol", "img11.jpg", 1);
    let probe_of = |photo_name: &str| {
        probe_by(
            engine(),
            vault.probe_consent::<DoorAccess>(NOTICE).unwrap(),
            photo_name,
        )
    };

    // Enrolled subjects: the decision identify reaches for them, exactly.
    let p = probe_of("img2.jpg");
    let ranked = vault.identify(&p, 10).unwrap();
    for who in ["alice", "bob", "carol"] {
        let d = vault.verify(&p, &subject(who)).unwrap();
        let c = ranked.iter().find(|c| c.subject == subject(who)).unwrap();
        assert!((d.score - c.score).abs() <= 1e-6, "{who}: {d:?} vs {c:?}");
        assert_eq!(d.is_match, c.is_match, "{who}");
    }
    assert!(vault.verify(&p, &subject("alice")).unwrap().is_match);
    assert!(!vault.verify(&p, &subject("bob")).unwrap().is_match);
    // Someone never enrolled: UnknownSubject, as before.
    assert!(matches!(
        vault.verify(&p, &subject("mallory")),
        Err(Error::Consent(ConsentError::UnknownSubject(s))) if s == subject("mallory")
    ));

    // Two days later: alice's img1 and carol's only template have expired.
    clock.advance(DAY * 2);
    let p = probe_of("img2.jpg");
    let d = vault.verify(&p, &subject("alice")).unwrap();
    // Only img3 scores now: the same score as a fresh img3 template under live consent.
    let witness = vault
        .grant::<DoorAccess>(subject("witness"), NOTICE, DAY)
        .unwrap();
    let img3 = template_by(engine(), &witness, "img3.jpg");
    let want = Matcher::default().verify(&p, &img3).unwrap();
    assert!((d.score - want.score).abs() <= 1e-5, "{d:?} vs {want:?}");
    assert!(matches!(
        vault.verify(&p, &subject("carol")),
        Err(Error::Consent(ConsentError::UnknownSubject(_)))
    ));
    drop(vault);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The project's embedder as an "upgrade": the same weights under another model identity (an
/// unknown protobuf field appended to the ONNX file changes its hash, not its graph).
fn upgraded_engine() -> Engine {
    let dir = models_dir();
    let mut bytes = std::fs::read(dir.join(EMBEDDER_FILE)).unwrap();
    // Field 100, varint, value 1: ignored by ONNX readers.
    bytes.extend_from_slice(&[0xA0, 0x06, 0x01]);
    let spec = EmbedderSpec::from_file(dir.join(EMBEDDER_SPEC_FILE)).unwrap();
    let embedder = Embedder::from_bytes(&bytes, spec).unwrap();
    assert_ne!(embedder.model_id(), engine().embedder().model_id());
    let detector = Detector::from_path(dir.join(DETECTOR_FILE), DetectorConfig::default()).unwrap();
    Engine::new(detector, embedder).with_liveness(crate::common::liveness())
}

#[test]
fn a_gallery_emptied_by_revocation_takes_an_upgraded_embedder() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let old = ledger
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    gallery
        .enroll(template_by(engine(), &old, "img1.jpg"))
        .unwrap();
    let upgraded = upgraded_engine();
    let new = ledger
        .grant::<DoorAccess>(subject("bob"), NOTICE, DAY)
        .unwrap();
    // While one template of the old model is held, the new model's are refused.
    assert!(matches!(
        gallery.enroll(template_by(&upgraded, &new, "img17.jpg")),
        Err(MatchError::ModelMismatch { .. })
    ));
    // Every old template erased: the gallery no longer belongs to the old model.
    ledger.revoke(old.id()).unwrap();
    assert!(gallery.is_empty());
    gallery
        .enroll(template_by(&upgraded, &new, "img17.jpg"))
        .unwrap();
    // The upgrade is not calibrated: the old model's threshold is refused for it, and a
    // threshold the integrator chooses is taken.
    let probe = || {
        probe_by(
            &upgraded,
            ledger.probe_consent::<DoorAccess>(NOTICE).unwrap(),
            "img17.jpg",
        )
    };
    assert!(matches!(
        gallery.identify(&probe(), 1),
        Err(faceguard::MatchError::ThresholdForAnotherModel { .. })
    ));
    gallery.set_matcher(faceguard::Matcher::new(faceguard::DEFAULT_THRESHOLD).unwrap());
    let found = gallery
        .identify(
            &probe_by(
                &upgraded,
                ledger.probe_consent::<DoorAccess>(NOTICE).unwrap(),
                "img17.jpg",
            ),
            1,
        )
        .unwrap();
    assert_eq!(found[0].subject, subject("bob"));
    assert!(found[0].is_match);
}

#[test]
fn a_revoked_template_exposes_nothing_even_to_research_builds() {
    // `expose_secret` exists only with the `research` feature (the tests enable it); even
    // there it checks the consent first, like every other use of a template.
    let ledger = ConsentLedger::new();
    let template = enrolment_template::<DoorAccess>(&ledger, "alice", "img1.jpg");
    assert_eq!(template.expose_secret().unwrap().len(), template.dim());
    ledger.revoke(template.consent_id()).unwrap();
    assert!(matches!(
        template.expose_secret(),
        Err(ConsentError::Revoked { consent }) if consent == template.consent_id()
    ));
}
