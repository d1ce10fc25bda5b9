//! The consent model at run time: what revocation, expiry and purposes do to templates and
//! galleries.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use faceguard::{
    ConsentError, ConsentLedger, ConsentStatus, Embedder, EmbedderSpec, Engine, Error, ManualClock,
    MatchError, Matcher, Purpose, SubjectId, Timestamp,
};

fn manual_ledger() -> (ConsentLedger, ManualClock) {
    let clock = ManualClock::new(Timestamp(1_800_000_000));
    (ConsentLedger::with_clock(Arc::new(clock.clone())), clock)
}

#[test]
fn identify_finds_the_enrolled_person_and_rejects_a_stranger() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    // img1/img2 are the same person (deepface_id00); img17 is someone else.
    enrol(&ledger, &gallery, "alice", "img1.jpg");
    enrol(&ledger, &gallery, "bob", "img17.jpg");
    let hits = gallery
        .identify(&probe::<DoorAccess>(&ledger, "img2.jpg"), 5)
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].subject.as_str(), "alice");
    assert!(hits[0].is_match && !hits[1].is_match, "{hits:?}");
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn identify_lists_each_subject_once_with_its_best_template() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    for photo in ["img1.jpg", "img3.jpg"] {
        enrol(&ledger, &gallery, "alice", photo);
    }
    assert_eq!((gallery.len(), gallery.subject_count()), (2, 1));
    let hits = gallery
        .identify(&probe::<DoorAccess>(&ledger, "img2.jpg"), 5)
        .unwrap();
    assert_eq!(hits.len(), 1);
}

#[test]
fn revoked_consent_erases_templates() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let other = ledger.gallery::<DoorAccess>();
    let token = ledger
        .grant::<DoorAccess>(SubjectId::new("alice").unwrap(), NOTICE, DAY)
        .unwrap();
    let img = photo("img1.jpg");
    let face = largest(&engine().detect(&img.view()).unwrap());
    let kept = engine()
        .enrolment_template(&token, &img.view(), &face)
        .unwrap();
    gallery
        .enroll(
            engine()
                .enrolment_template(&token, &img.view(), &face)
                .unwrap(),
        )
        .unwrap();
    other
        .enroll(
            engine()
                .enrolment_template(&token, &img.view(), &face)
                .unwrap(),
        )
        .unwrap();
    enrol(&ledger, &gallery, "bob", "img17.jpg");

    let record = ledger.revoke(token.id()).unwrap();
    assert_eq!(record.status_at(ledger.now()), ConsentStatus::Revoked);
    // Erased from every gallery of the ledger; bob's template stays.
    assert_eq!((gallery.len(), other.len()), (1, 0));
    // A template still held elsewhere is dead too, and so is the token.
    let matcher = Matcher::default();
    let p = probe::<DoorAccess>(&ledger, "img2.jpg");
    assert!(matches!(
        matcher.verify(&p, &kept),
        Err(MatchError::Consent(ConsentError::Revoked { .. }))
    ));
    assert!(matches!(
        gallery.enroll(kept),
        Err(MatchError::Consent(ConsentError::Revoked { .. }))
    ));
    assert!(matches!(
        engine().enrolment_template(&token, &img.view(), &face),
        Err(Error::Consent(ConsentError::Revoked { .. }))
    ));
    assert!(matches!(
        ledger.token::<DoorAccess>(&token.handle()),
        Err(ConsentError::Revoked { .. })
    ));
    // The record stays, without biometric data, for the audit trail.
    assert!(ledger.record(token.id()).unwrap().revoked_at.is_some());
}

#[test]
fn a_deletion_request_revokes_every_consent_of_the_subject() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    for photo in ["img1.jpg", "img3.jpg"] {
        enrol(&ledger, &gallery, "alice", photo);
    }
    let revoked = ledger.revoke_subject(&SubjectId::new("alice").unwrap());
    assert_eq!(revoked.len(), 2);
    assert!(gallery.is_empty());
}

#[test]
fn expired_consent_makes_templates_unusable_and_erases_them() {
    let (ledger, clock) = manual_ledger();
    let gallery = ledger.gallery::<DoorAccess>();
    let token = ledger
        .grant::<DoorAccess>(SubjectId::new("alice").unwrap(), NOTICE, DAY)
        .unwrap();
    let img = photo("img1.jpg");
    let face = largest(&engine().detect(&img.view()).unwrap());
    gallery
        .enroll(
            engine()
                .enrolment_template(&token, &img.view(), &face)
                .unwrap(),
        )
        .unwrap();
    let second = engine()
        .enrolment_template(&token, &img.view(), &face)
        .unwrap();
    gallery.enroll(second).unwrap();

    clock.advance(DAY);
    // The template no longer matches, and matching erased it.
    assert!(gallery
        .identify(&probe::<DoorAccess>(&ledger, "img2.jpg"), 1)
        .unwrap()
        .is_empty());
    assert!(gallery.is_empty());
    assert!(matches!(
        engine().enrolment_template(&token, &img.view(), &face),
        Err(Error::Consent(ConsentError::Expired { .. }))
    ));
    assert_eq!(ledger.sweep_expired(), vec![token.id()]);
    assert_eq!(
        ledger.record(token.id()).unwrap().status_at(ledger.now()),
        ConsentStatus::Expired
    );
}

#[test]
fn the_expiry_sweep_erases_templates_nobody_matched_against() {
    let (ledger, clock) = manual_ledger();
    let gallery = ledger.gallery::<DoorAccess>();
    enrol(&ledger, &gallery, "alice", "img1.jpg");
    clock.advance(DAY - Duration::from_secs(1));
    assert!(ledger.sweep_expired().is_empty());
    assert_eq!(gallery.len(), 1);
    clock.advance(Duration::from_secs(1));
    assert_eq!(ledger.sweep_expired().len(), 1);
    assert!(gallery.is_empty());
}

#[test]
fn a_probe_consent_dies_after_the_purpose_probe_validity() {
    let (ledger, clock) = manual_ledger();
    let gallery = ledger.gallery::<DoorAccess>();
    enrol(&ledger, &gallery, "alice", "img1.jpg");
    let p = probe::<DoorAccess>(&ledger, "img2.jpg");
    assert_eq!(gallery.identify(&p, 1).unwrap().len(), 1);
    clock.advance(DoorAccess::PROBE_VALIDITY);
    assert!(matches!(
        gallery.identify(&p, 1),
        Err(MatchError::Consent(ConsentError::Expired { .. }))
    ));
}

#[test]
fn grants_need_a_notice_and_a_validity_within_the_purpose_limit() {
    let ledger = ConsentLedger::new();
    let alice = || SubjectId::new("alice").unwrap();
    assert_eq!(
        ledger.grant::<DoorAccess>(alice(), "  ", DAY).unwrap_err(),
        ConsentError::EmptyNotice
    );
    assert!(matches!(
        ledger.grant::<DoorAccess>(alice(), NOTICE, DoorAccess::MAX_VALIDITY + DAY),
        Err(ConsentError::InvalidValidity { .. })
    ));
    assert!(matches!(
        ledger.grant::<DoorAccess>(alice(), NOTICE, Duration::ZERO),
        Err(ConsentError::InvalidValidity { .. })
    ));
    assert!(matches!(
        SubjectId::new(""),
        Err(ConsentError::InvalidSubject(_))
    ));
    assert!(matches!(
        SubjectId::new("a\nb"),
        Err(ConsentError::InvalidSubject(_))
    ));
    assert!(matches!(
        SubjectId::new("x".repeat(129)),
        Err(ConsentError::InvalidSubject(_))
    ));
}

#[test]
fn a_consent_is_reissued_only_for_its_own_purpose() {
    let ledger = ConsentLedger::new();
    let token = ledger
        .grant::<DoorAccess>(SubjectId::new("alice").unwrap(), NOTICE, DAY)
        .unwrap();
    assert!(ledger.token::<DoorAccess>(&token.handle()).is_ok());
    assert!(matches!(
        ledger.token::<Attendance>(&token.handle()),
        Err(ConsentError::PurposeMismatch { .. })
    ));
    let other_ledger = ConsentLedger::new();
    assert!(matches!(
        other_ledger.token::<DoorAccess>(&token.handle()),
        Err(ConsentError::Unknown(_))
    ));
}

#[test]
fn the_ledger_records_the_notice_hash_and_times() {
    let (ledger, _clock) = manual_ledger();
    let token = ledger
        .grant::<Attendance>(SubjectId::new("carol").unwrap(), NOTICE, DAY)
        .unwrap();
    let r = ledger.record(token.id()).unwrap();
    assert_eq!(r.purpose, "attendance");
    assert_eq!(r.granted_at, Timestamp(1_800_000_000));
    assert_eq!(r.expires_at, Timestamp(1_800_000_000 + 86_400));
    use sha2::Digest;
    assert_eq!(
        r.notice_sha256,
        <[u8; 32]>::from(sha2::Sha256::digest(NOTICE))
    );
}

#[test]
fn template_debug_output_is_redacted() {
    let ledger = ConsentLedger::new();
    let t = enrolment_template::<DoorAccess>(&ledger, "alice", "img1.jpg");
    let shown = format!("{t:?}");
    assert!(shown.contains("redacted"), "{shown}");
    let first = format!("{}", t.expose_secret().unwrap()[0]);
    assert!(!shown.contains(&first), "{shown}");
    assert!(!shown.contains("0.0"), "{shown}");
}

/// The same network with one extra (ignored) protobuf field: a different model file, so a
/// different model id.
fn engine_under_another_id() -> Engine {
    let mut bytes = std::fs::read(models_dir().join(faceguard::EMBEDDER_FILE)).unwrap();
    bytes.extend_from_slice(&[0xA0, 0x06, 0x01]); // field 100, varint 1
    Engine::new(
        faceguard::Detector::from_path(
            models_dir().join(faceguard::DETECTOR_FILE),
            Default::default(),
        )
        .unwrap(),
        Embedder::from_bytes(&bytes, EmbedderSpec::fr_feature()).unwrap(),
    )
    .with_liveness(liveness())
}

#[test]
fn templates_of_different_models_are_never_compared() {
    // Exactly what a vendor's model update looks like.
    let updated = engine_under_another_id();
    assert_ne!(
        updated.embedder().model_id(),
        engine().embedder().model_id()
    );

    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let old = enrolment_template::<DoorAccess>(&ledger, "alice", "img1.jpg");
    let img = photo("img2.jpg");
    let face = largest(&updated.detect(&img.view()).unwrap());
    let consent = ledger.probe_consent::<DoorAccess>(NOTICE).unwrap();
    let new_probe = updated.probe_template(consent, &img.view(), &face).unwrap();
    assert!(matches!(
        Matcher::default().verify(&new_probe, &old),
        Err(MatchError::ModelMismatch { .. })
    ));
    gallery.enroll(old).unwrap();
    assert!(matches!(
        gallery.identify(&new_probe, 1),
        Err(MatchError::ModelMismatch { .. })
    ));
}

#[test]
fn thresholds_outside_the_cosine_range_are_refused() {
    assert!(Matcher::new(1.5).is_err());
    assert!(Matcher::new(f32::NAN).is_err());
    assert_eq!(Matcher::new(0.3).unwrap().threshold(), 0.3);
}

#[test]
fn a_gallery_refuses_templates_consented_on_another_ledger() {
    // Otherwise revoking on the granting ledger could not erase the copy in this gallery.
    let (home, elsewhere) = (ConsentLedger::new(), ConsentLedger::new());
    let gallery = home.gallery::<DoorAccess>();
    let foreign = enrolment_template::<DoorAccess>(&elsewhere, "alice", "img1.jpg");
    assert!(matches!(
        gallery.enroll(foreign),
        Err(MatchError::Consent(ConsentError::ForeignLedger { .. }))
    ));
    // Same consent id on both ledgers: revoking one ledger's #1 leaves the other's template.
    enrol(&home, &gallery, "bob", "img17.jpg");
    let t = elsewhere
        .grant::<DoorAccess>(SubjectId::new("carol").unwrap(), NOTICE, DAY)
        .unwrap();
    elsewhere.revoke(t.id()).unwrap();
    assert_eq!(gallery.len(), 1);
}

#[test]
fn identify_accepts_any_k() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    enrol(&ledger, &gallery, "alice", "img1.jpg");
    let p = probe::<DoorAccess>(&ledger, "img2.jpg");
    assert!(gallery.identify(&p, 0).unwrap().is_empty());
    assert_eq!(gallery.identify(&p, usize::MAX).unwrap().len(), 1);
}

#[test]
fn every_search_method_identifies_the_same_people() {
    use faceguard::matching::{FastParams, Method};
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    for (subject, photo) in [
        ("alice", "img1.jpg"),
        ("alice", "img3.jpg"),
        ("bob", "img17.jpg"),
    ] {
        enrol(&ledger, &gallery, subject, photo);
    }
    let mut answers = Vec::new();
    for method in [
        Method::ExactF32,
        Method::ExactI8,
        Method::Fast(FastParams::default()),
    ] {
        gallery.set_method(method);
        for threads in [1, 4] {
            gallery.set_threads(threads);
            answers.push(
                gallery
                    .identify(&probe::<DoorAccess>(&ledger, "img2.jpg"), 5)
                    .unwrap(),
            );
        }
    }
    assert_eq!(answers[0].len(), 2);
    assert_eq!(answers[0][0].subject.as_str(), "alice");
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
}

#[test]
fn a_fused_template_scores_its_owner_above_each_photo_alone_and_goes_with_its_consent() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let token = ledger
        .grant::<DoorAccess>(SubjectId::new("alice").unwrap(), NOTICE, DAY)
        .unwrap();
    // img1, img6, img5 and img2 are the same person (deepface_id00).
    let photos: Vec<_> = ["img1.jpg", "img6.jpg", "img5.jpg"]
        .iter()
        .map(|p| photo(p))
        .collect();
    let faces: Vec<_> = photos
        .iter()
        .map(|p| largest(&engine().detect(&p.view()).unwrap()))
        .collect();
    let views: Vec<_> = photos.iter().map(|p| p.view()).collect();
    let parts: Vec<_> = views.iter().zip(&faces).collect();
    let fused = engine().fused_enrolment_template(&token, &parts).unwrap();
    let probe_of = || probe::<DoorAccess>(&ledger, "img2.jpg");
    let fused_score = Matcher::default()
        .verify(&fused, &probe_of())
        .unwrap()
        .score;
    let mut singles = Vec::new();
    for (view, face) in &parts {
        let one = engine().enrolment_template(&token, view, face).unwrap();
        singles.push(Matcher::default().verify(&one, &probe_of()).unwrap().score);
    }
    let mean = singles.iter().sum::<f32>() / singles.len() as f32;
    assert!(
        fused_score > mean,
        "fused {fused_score} vs each {singles:?}"
    );

    gallery.enroll(fused).unwrap();
    assert_eq!(gallery.len(), 1, "three photos, one template");
    ledger.revoke(token.id()).unwrap();
    assert!(gallery.is_empty());
    // A revoked consent fuses nothing.
    assert!(matches!(
        engine().fused_enrolment_template(&token, &parts),
        Err(Error::Consent(ConsentError::Revoked { .. }))
    ));
}

#[test]
fn a_fused_enrolment_needs_one_to_eight_photos() {
    let ledger = ConsentLedger::new();
    let token = ledger
        .grant::<DoorAccess>(SubjectId::new("alice").unwrap(), NOTICE, DAY)
        .unwrap();
    let err = engine().fused_enrolment_template(&token, &[]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Embed(faceguard::EmbedError::PhotoCount { given: 0, max: 8 })
        ),
        "{err}"
    );
    let img = photo("img1.jpg");
    let view = img.view();
    let face = largest(&engine().detect(&view).unwrap());
    let seventeen = vec![(&view, &face); 17];
    assert!(matches!(
        engine().fused_enrolment_template(&token, &seventeen),
        Err(Error::Embed(faceguard::EmbedError::PhotoCount {
            given: 17,
            ..
        }))
    ));
}

#[test]
fn each_purpose_gets_the_threshold_of_its_target_false_match_rate() {
    enum Payment {}
    impl Purpose for Payment {
        const NAME: &'static str = "payment";
        const TARGET_FMR: f64 = 1e-4;
    }
    enum Impossible {}
    impl Purpose for Impossible {
        const NAME: &'static str = "impossible";
        const TARGET_FMR: f64 = 1e-9;
    }
    let door = engine().matcher::<DoorAccess>().unwrap();
    assert_eq!(door.threshold(), faceguard::DEFAULT_THRESHOLD);
    let payment = engine().matcher::<Payment>().unwrap();
    assert!(payment.threshold() > door.threshold());
    // Halfway between two points, the stricter one serves.
    assert_eq!(engine().matcher_at(5e-4).unwrap(), payment);
    assert!(matches!(
        engine().matcher::<Impossible>(),
        Err(MatchError::Uncalibrated { .. })
    ));
    for bad in [0.0, 1.0, -1.0, f64::NAN] {
        assert!(matches!(
            engine().matcher_at(bad),
            Err(MatchError::InvalidFmr(_))
        ));
    }

    // A payment gallery left at the default (1e-3) point refuses to decide rather than match
    // strangers ten times as often as the purpose allows.
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<Payment>();
    enrol(&ledger, &gallery, "alice", "img1.jpg");
    let probe = || probe::<Payment>(&ledger, "img2.jpg");
    assert!(matches!(
        gallery.identify(&probe(), 1),
        Err(MatchError::LaxerThanPurpose { target, calibrated, .. })
            if target == 1e-4 && calibrated == 1e-3
    ));
    assert!(matches!(
        Matcher::default().verify(&probe(), &probe()),
        Err(MatchError::LaxerThanPurpose { .. })
    ));
    gallery.set_matcher(payment);
    assert_eq!(gallery.identify(&probe(), 1).unwrap().len(), 1);
    // A threshold the caller chose is the caller's to answer for.
    gallery.set_matcher(Matcher::new(0.9).unwrap());
    assert!(!gallery.identify(&probe(), 1).unwrap()[0].is_match);
}

#[test]
fn a_threshold_calibrated_for_one_model_is_never_applied_to_another() {
    // An embedder whose scores the bundled operating points say nothing about.
    let other = engine_under_another_id();
    // The bundled default is bound to the bundled model.
    assert_eq!(
        Matcher::default().calibrated_for(),
        Some(engine().embedder().model_id())
    );
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let token = ledger
        .grant::<DoorAccess>(SubjectId::new("alice").unwrap(), NOTICE, DAY)
        .unwrap();
    let img = photo("img1.jpg");
    let face = largest(&other.detect(&img.view()).unwrap());
    gallery
        .enroll(
            other
                .enrolment_template(&token, &img.view(), &face)
                .unwrap(),
        )
        .unwrap();
    let img2 = photo("img2.jpg");
    let face2 = largest(&other.detect(&img2.view()).unwrap());
    let probe = || {
        other
            .probe_template(
                ledger.probe_consent::<DoorAccess>(NOTICE).unwrap(),
                &img2.view(),
                &face2,
            )
            .unwrap()
    };
    // The gallery's default threshold is fr_feature's: refused, not silently applied.
    assert!(matches!(
        gallery.identify(&probe(), 1),
        Err(MatchError::ThresholdForAnotherModel { .. })
    ));
    // Nor does the other engine take the bundled points as its own: they name the model
    // they were measured on.
    assert!(matches!(
        other.matcher::<DoorAccess>(),
        Err(MatchError::ThresholdForAnotherModel { .. })
    ));
    // A threshold chosen with Matcher::new is the caller's, for any model.
    gallery.set_matcher(Matcher::new(faceguard::DEFAULT_THRESHOLD).unwrap());
    assert_eq!(gallery.identify(&probe(), 1).unwrap().len(), 1);
    assert!(matches!(
        engine()
            .matcher::<DoorAccess>()
            .unwrap()
            .verify(&probe(), &probe()),
        Err(MatchError::ThresholdForAnotherModel { .. })
    ));
    assert!(Matcher::new(0.5)
        .unwrap()
        .verify(&probe(), &probe())
        .is_ok());
}
