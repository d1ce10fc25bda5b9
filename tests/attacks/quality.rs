//! Poor photos, several photos of one person, and the false-match rate a purpose asks for:
//! a tiny, blurred, dark or turned face never becomes a template (enrolment says what to fix,
//! a probe is "try again", never a match nor a non-match); several photos under one consent
//! match by the best and all leave with it; a stricter purpose gets a stricter threshold; and
//! an embedder description cannot smuggle in a threshold no calibration gives.

use std::path::PathBuf;

use faceguard::vault::{Vault, VaultKey};
use faceguard::{
    ConsentLedger, Detector, DetectorConfig, Embedder, EmbedderSpec, Engine, Error, Face,
    ImageView, MatchError, Matcher, ModelError, Purpose, QualityError, QualityIssue, SubjectId,
    Template, DETECTOR_FILE, EMBEDDER_FILE,
};

use crate::common::{
    blur, downscale, engine, largest, models_dir, photo_rgb, relight, Attendance, DoorAccess, DAY,
    NOTICE,
};

/// A degraded copy of a real photo, and the face the detector finds in it.
struct Shot {
    label: &'static str,
    rgb: Vec<u8>,
    w: usize,
    h: usize,
    face: Face,
}

impl Shot {
    /// The detector's largest face in `rgb`, moved by `edit` (the landmarks a caller passes).
    fn new(label: &'static str, (rgb, w, h): (Vec<u8>, usize, usize), edit: fn(&mut Face)) -> Shot {
        let view = ImageView::rgb(&rgb, w as u32, h as u32).unwrap();
        let mut face = largest(&engine().detect(&view).unwrap());
        edit(&mut face);
        Shot {
            label,
            rgb,
            w,
            h,
            face,
        }
    }

    fn view(&self) -> ImageView<'_> {
        ImageView::rgb(&self.rgb, self.w as u32, self.h as u32).unwrap()
    }
}

fn unchanged(_: &mut Face) {}

/// The nose landmark moved aside by `0.8` of the eye distance: a face turned well past 45
/// degrees, as the detector would mark it (no photo in `faces/` is turned that far).
fn turned(face: &mut Face) {
    let [re, le, ..] = face.landmarks;
    face.landmarks[2].x += 0.8 * ((le.x - re.x).powi(2) + (le.y - re.y).powi(2)).sqrt();
}

/// Whether an issue is the expected one.
type IsIssue = fn(&QualityIssue) -> bool;

/// Each way a real photo of `name` can be spoiled, with the reason the gate must give.
/// The limits are the library's presets; every spoiled photo below breaks both the enrolment
/// and the probe preset (`QualityPolicy::probe` is the laxer), with a margin.
fn spoiled(name: &str) -> Vec<(Shot, IsIssue, &'static str)> {
    let (rgb, w, h) = photo_rgb(name);
    let small_factor = {
        // Shrunk until fewer than 16 px separate the eyes (the probe gate asks for 20).
        let ied = Shot::new("original", (rgb.clone(), w, h), unchanged).face;
        let ied = (ied.landmarks[0].x - ied.landmarks[1].x)
            .hypot(ied.landmarks[0].y - ied.landmarks[1].y);
        (ied / 14.0).ceil() as usize
    };
    let third = downscale(&rgb, w, h, 3);
    vec![
        (
            Shot::new("too small", downscale(&rgb, w, h, small_factor), unchanged),
            |i| matches!(i, QualityIssue::TooSmall { .. }),
            "closer",
        ),
        (
            Shot::new(
                "out of focus",
                (blur(&third.0, third.1, third.2, 6, 3), third.1, third.2),
                unchanged,
            ),
            |i| matches!(i, QualityIssue::Blurred { .. }),
            "focus",
        ),
        (
            Shot::new(
                "in the dark",
                (relight(&rgb, 0.0, 0.15, 0.0), w, h),
                unchanged,
            ),
            |i| matches!(i, QualityIssue::TooDark { .. }),
            "light",
        ),
        (
            Shot::new(
                "over-exposed",
                (relight(&rgb, 255.0, 0.15, 0.0), w, h),
                unchanged,
            ),
            |i| matches!(i, QualityIssue::TooBright { .. }),
            "less light",
        ),
        (
            Shot::new(
                "in haze",
                (relight(&rgb, 128.0, 0.15, 0.0), w, h),
                unchanged,
            ),
            |i| matches!(i, QualityIssue::LowContrast { .. }),
            "haze",
        ),
        (
            Shot::new("turned aside", third, turned),
            |i| matches!(i, QualityIssue::TurnedAway { .. }),
            "face the camera",
        ),
    ]
}

/// A vault in a scratch directory, removed when dropped.
struct ScratchVault {
    dir: PathBuf,
    vault: Option<Vault>,
}

impl ScratchVault {
    fn new(label: &str) -> ScratchVault {
        let dir = std::env::temp_dir().join(format!(
            "faceguard-attacks-quality-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let vault = Vault::create(
            dir.join("vault"),
            VaultKey::from_bytes(&[0x17; 32]).unwrap(),
        )
        .unwrap();
        ScratchVault {
            dir,
            vault: Some(vault),
        }
    }
}

impl std::ops::Deref for ScratchVault {
    type Target = Vault;
    fn deref(&self) -> &Vault {
        self.vault.as_ref().unwrap()
    }
}

impl Drop for ScratchVault {
    fn drop(&mut self) {
        drop(self.vault.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn subject(name: &str) -> SubjectId {
    SubjectId::new(name).unwrap()
}

/// The enrolment template of the largest face of the photo `name`.
fn template_of<P: Purpose>(token: &faceguard::ConsentToken<P>, name: &str) -> Template<P> {
    let shot = Shot::new("original", photo_rgb(name), unchanged);
    engine()
        .enrolment_template(token, &shot.view(), &shot.face)
        .unwrap()
}

fn probe_of<P: Purpose>(
    consent: faceguard::ProbeConsent<P>,
    name: &str,
) -> faceguard::ProbeTemplate<P> {
    let shot = Shot::new("original", photo_rgb(name), unchanged);
    engine()
        .probe_template(consent, &shot.view(), &shot.face)
        .unwrap()
}

#[test]
fn a_poor_enrolment_photo_is_refused_with_what_to_fix() {
    let vault = ScratchVault::new("enrol");
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let in_vault = vault
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    let in_ledger = ledger
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    for (shot, expected, advice) in spoiled("img1.jpg") {
        for token in [&in_vault, &in_ledger] {
            match engine().enrolment_template(token, &shot.view(), &shot.face) {
                Err(Error::Quality(QualityError::Enrolment(issue))) => {
                    assert!(expected(&issue), "{}: refused for {issue:?}", shot.label);
                    let message = Error::from(QualityError::Enrolment(issue)).to_string();
                    assert!(
                        message.contains(advice),
                        "{}: `{message}` does not say what to fix ({advice})",
                        shot.label
                    );
                }
                Err(e) => panic!("{}: refused for another reason: {e}", shot.label),
                Ok(_) => panic!("{}: a template was made from a poor photo", shot.label),
            }
        }
    }
    assert_eq!((vault.template_count(), gallery.len()), (0, 0));
    // The same photo, unspoiled, is taken under the same consents.
    vault.enroll(template_of(&in_vault, "img1.jpg")).unwrap();
    gallery.enroll(template_of(&in_ledger, "img1.jpg")).unwrap();
    assert_eq!((vault.template_count(), gallery.len()), (1, 1));
}

#[test]
fn a_poor_probe_is_try_again_never_a_match_nor_a_non_match() {
    let vault = ScratchVault::new("probe");
    let token = vault
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    vault.enroll(template_of(&token, "img1.jpg")).unwrap();
    // Her other photo, as it is, is a match.
    let good = probe_of(
        vault.probe_consent::<DoorAccess>(NOTICE).unwrap(),
        "img2.jpg",
    );
    let found = vault.identify(&good, 1).unwrap();
    assert!(found[0].is_match && found[0].subject.as_str() == "alice");
    let entries = vault.audit().unwrap().entries.len();
    for (shot, expected, _) in spoiled("img2.jpg") {
        let consent = vault.probe_consent::<DoorAccess>(NOTICE).unwrap();
        match engine().probe_template(consent, &shot.view(), &shot.face) {
            Err(Error::Quality(QualityError::Probe(issue))) => {
                assert!(expected(&issue), "{}: refused for {issue:?}", shot.label);
                let message = Error::from(QualityError::Probe(issue)).to_string();
                assert!(message.contains("try again"), "{}: {message}", shot.label);
            }
            Err(e) => panic!("{}: refused for another reason: {e}", shot.label),
            // Without a probe template there is nothing to identify: no candidate, no
            // "nobody" either.
            Ok(_) => panic!(
                "{}: a probe template was made from a poor capture",
                shot.label
            ),
        }
    }
    // No identification took place, so none was logged as a non-match.
    assert_eq!(vault.audit().unwrap().entries.len(), entries);
    // The probe gate is laxer than the enrolment gate: a face 25 px between the eyes is a
    // usable probe but no enrolment photo.
    let (rgb, w, h) = photo_rgb("img2.jpg");
    let middling = Shot::new("25 px", downscale(&rgb, w, h, 7), unchanged);
    let consent = vault.probe_consent::<DoorAccess>(NOTICE).unwrap();
    let probe = engine()
        .probe_template(consent, &middling.view(), &middling.face)
        .unwrap();
    assert_eq!(vault.identify(&probe, 1).unwrap().len(), 1);
    assert!(matches!(
        engine().enrolment_template(&token, &middling.view(), &middling.face),
        Err(Error::Quality(QualityError::Enrolment(
            QualityIssue::TooSmall { .. }
        )))
    ));
}

#[test]
fn several_photos_under_one_consent_match_by_the_best_and_all_go_with_revocation() {
    const PHOTOS: [&str; 3] = ["img1.jpg", "img6.jpg", "img5.jpg"];
    let vault = ScratchVault::new("multi");
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let in_vault = vault
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    let in_ledger = ledger
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    let vault_probe = probe_of(
        vault.probe_consent::<DoorAccess>(NOTICE).unwrap(),
        "img2.jpg",
    );
    let ledger_probe = probe_of(
        ledger.probe_consent::<DoorAccess>(NOTICE).unwrap(),
        "img2.jpg",
    );
    let mut scores = Vec::new();
    for name in PHOTOS {
        let t = template_of(&in_vault, name);
        scores.push(Matcher::default().verify(&vault_probe, &t).unwrap().score);
        vault.enroll(t).unwrap();
        gallery.enroll(template_of(&in_ledger, name)).unwrap();
    }
    // A stranger, so that "the best" is chosen among people.
    let bob = vault
        .grant::<DoorAccess>(subject("bob"), NOTICE, DAY)
        .unwrap();
    vault.enroll(template_of(&bob, "img17.jpg")).unwrap();
    let bob = ledger
        .grant::<DoorAccess>(subject("bob"), NOTICE, DAY)
        .unwrap();
    gallery.enroll(template_of(&bob, "img17.jpg")).unwrap();
    assert_eq!(vault.templates_of(&subject("alice"), DoorAccess::NAME), 3);
    assert_eq!(gallery.len(), 4);

    let best = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let worst = scores.iter().copied().fold(f32::INFINITY, f32::min);
    assert!(best > worst, "the three photos score alike: {scores:?}");
    for found in [
        vault.identify(&vault_probe, 10).unwrap(),
        gallery.identify(&ledger_probe, 10).unwrap(),
    ] {
        let alice: Vec<_> = found
            .iter()
            .filter(|c| c.subject.as_str() == "alice")
            .collect();
        assert_eq!(alice.len(), 1, "one candidate per person, not per photo");
        assert!(
            (alice[0].score - best).abs() < 1e-4,
            "matched by {} rather than the best of {scores:?}",
            alice[0].score
        );
        assert!(alice[0].is_match && found[0].subject.as_str() == "alice");
    }

    // One revocation takes all three.
    vault.revoke(in_vault.id()).unwrap();
    ledger.revoke(in_ledger.id()).unwrap();
    assert_eq!(vault.templates_of(&subject("alice"), DoorAccess::NAME), 0);
    assert_eq!((vault.template_count(), gallery.len()), (1, 1));
    for found in [
        vault.identify(&vault_probe, 10).unwrap(),
        gallery.identify(&ledger_probe, 10).unwrap(),
    ] {
        assert!(
            found.iter().all(|c| c.subject.as_str() != "alice"),
            "{found:?}"
        );
    }
}

/// A payment asks for one false match in ten thousand.
enum Payment {}
impl Purpose for Payment {
    const NAME: &'static str = "payment";
    const TARGET_FMR: f64 = 1e-4;
}

/// Asks for less than any calibration of a few thousand photos can show.
enum Vanishing {}
impl Purpose for Vanishing {
    const NAME: &'static str = "vanishing";
    const TARGET_FMR: f64 = 1e-9;
}

/// Between the two calibrated points below.
enum Halfway {}
impl Purpose for Halfway {
    const NAME: &'static str = "halfway";
    const TARGET_FMR: f64 = 5e-4;
}

/// The bundled embedder under a description with `operating_points` (JSON, or none).
/// A measurement that shows FMRs down to 1e-4: no match in 40,000 impostor pairs.
fn shown() -> String {
    format!(
        r#"[{{"population": "vendor gate photos", "impostor_pairs": 40000, "false_matches": 0,
            "fmr_upper": {:?}, "genuine_pairs": 2000, "false_non_matches": 100}}]"#,
        faceguard::matching::fmr_upper_bound(0, 40_000)
    )
}

/// The bundled embedder's model id, as a description names it.
fn bundled_model() -> String {
    engine().embedder().model_id().to_string()
}

fn engine_with_points(points: Option<&str>) -> Engine {
    let mut spec = serde_json::to_value(EmbedderSpec::fr_feature()).unwrap();
    let map = spec.as_object_mut().unwrap();
    match points {
        Some(p) => map.insert("operating_points".into(), serde_json::from_str(p).unwrap()),
        None => map.remove("operating_points"),
    };
    let spec = EmbedderSpec::from_json(&spec.to_string()).unwrap();
    let dir = models_dir();
    let embedder = Embedder::from_path(dir.join(EMBEDDER_FILE), spec).unwrap();
    let detector = Detector::from_path(dir.join(DETECTOR_FILE), DetectorConfig::default()).unwrap();
    Engine::new(detector, embedder).with_liveness(crate::common::liveness())
}

#[test]
fn a_purpose_with_a_stricter_target_fmr_gets_a_stricter_threshold() {
    // The shipped calibration: the stricter the rate, the higher (or equal) the threshold,
    // and the default purpose gets the default threshold.
    let shipped = EmbedderSpec::fr_feature().operating_points.unwrap();
    for a in &shipped.points {
        for b in shipped.points.iter().filter(|b| b.fmr < a.fmr) {
            assert!(b.threshold >= a.threshold, "{b:?} is laxer than {a:?}");
        }
    }
    let default = engine().matcher::<DoorAccess>().unwrap();
    assert_eq!(default, Matcher::default());
    assert_eq!(default.threshold(), faceguard::DEFAULT_THRESHOLD);
    assert!(matches!(
        engine().matcher::<Vanishing>(),
        Err(MatchError::Uncalibrated { fmr, .. }) if fmr == 1e-9
    ));

    // A vendor's calibration with two points.
    let vendor_points = |model: &str| {
        format!(
            r#"{{"model": "{model}", "default_fmr": 0.001, "data": "vendor gate photos",
                "points": [{{"fmr": 0.001, "threshold": 0.5, "measured": {m}}},
                           {{"fmr": 0.0001, "threshold": 0.6, "measured": {m}}}]}}"#,
            m = shown()
        )
    };
    // Points measured on another ONNX file give this one nothing.
    let elsewhere = engine_with_points(Some(&vendor_points("0123456789abcdef")));
    assert!(matches!(
        elsewhere.matcher::<DoorAccess>(),
        Err(MatchError::ThresholdForAnotherModel { .. })
    ));
    let vendor = engine_with_points(Some(&vendor_points(&bundled_model())));
    let door = vendor.matcher::<DoorAccess>().unwrap();
    let payment = vendor.matcher::<Payment>().unwrap();
    assert_eq!((door.threshold(), payment.threshold()), (0.5, 0.6));
    // A rate between two points gets the stricter one, never the laxer.
    assert_eq!(vendor.matcher::<Halfway>().unwrap().threshold(), 0.6);
    assert!(matches!(
        vendor.matcher::<Vanishing>(),
        Err(MatchError::Uncalibrated { .. })
    ));
    for fmr in [0.0, 1.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(vendor.matcher_at(fmr), Err(MatchError::InvalidFmr(_))),
            "fmr {fmr}"
        );
    }
    // An embedder nobody calibrated promises no rate at all.
    let uncalibrated = engine_with_points(None);
    assert!(matches!(
        uncalibrated.matcher::<DoorAccess>(),
        Err(MatchError::Uncalibrated { .. })
    ));

    // In a vault, a purpose's threshold changes that purpose's decisions only.
    let vault = ScratchVault::new("fmr");
    let door_token = vault
        .grant::<DoorAccess>(subject("alice"), NOTICE, DAY)
        .unwrap();
    vault.enroll(template_of(&door_token, "img1.jpg")).unwrap();
    let attendance_token = vault
        .grant::<Attendance>(subject("alice"), NOTICE, DAY)
        .unwrap();
    vault
        .enroll(template_of(&attendance_token, "img1.jpg"))
        .unwrap();
    let is_match = |door: bool| {
        let found = if door {
            let p = probe_of(
                vault.probe_consent::<DoorAccess>(NOTICE).unwrap(),
                "img2.jpg",
            );
            vault.identify(&p, 1).unwrap()
        } else {
            let p = probe_of(
                vault.probe_consent::<Attendance>(NOTICE).unwrap(),
                "img2.jpg",
            );
            vault.identify(&p, 1).unwrap()
        };
        found[0].is_match
    };
    assert!(is_match(true) && is_match(false));
    // A threshold above her score (cosine similarity never exceeds 1).
    vault
        .set_purpose_matcher(DoorAccess::NAME, Matcher::new(1.0).unwrap())
        .unwrap();
    assert!(!is_match(true), "door access kept the default threshold");
    assert!(is_match(false), "attendance took door access's threshold");
    vault
        .set_purpose_matcher(DoorAccess::NAME, engine().matcher::<DoorAccess>().unwrap())
        .unwrap();
    assert!(is_match(true));
    assert!(vault.set_purpose_matcher("", Matcher::default()).is_err());
}

#[test]
fn a_crafted_operating_point_is_refused_with_the_description() {
    // Spliced in as text: JSON has no NaN, and a crafted file need not be valid JSON.
    let spec_with = |points: &str| {
        let mut spec = serde_json::to_value(EmbedderSpec::fr_feature()).unwrap();
        spec.as_object_mut().unwrap().remove("operating_points");
        let spec = spec.to_string();
        format!(
            "{},\"operating_points\":{points}}}",
            &spec[..spec.len() - 1]
        )
    };
    let point = |fmr: &str, threshold: &str| {
        format!(
            r#"{{"fmr": {fmr}, "threshold": {threshold}, "measured": {}}}"#,
            shown()
        )
    };
    let model = bundled_model();
    let points = |default: &str, list: &[String]| {
        format!(
            r#"{{"model": "{model}", "default_fmr": {default}, "points": [{}]}}"#,
            list.join(",")
        )
    };
    // A well-formed description is taken, so that each refusal below is for its one flaw.
    let good = spec_with(&points(
        "0.001",
        &[point("0.001", "0.5"), point("0.0001", "0.6")],
    ));
    assert!(EmbedderSpec::from_json(&good).is_ok());
    // The valid default point and one more.
    let and = |fmr: &str, threshold: &str| {
        points("0.001", &[point("0.001", "0.5"), point(fmr, threshold)])
    };
    let unknown_field = points(
        "0.001",
        &[r#"{"fmr": 0.001, "threshold": 0.5, "x": 1}"#.to_string()],
    );
    let unmeasured = points(
        "0.001",
        &[r#"{"fmr": 0.001, "threshold": -1.0}"#.to_string()],
    );
    let no_model = format!(
        r#"{{"default_fmr": 0.001, "points": [{}]}}"#,
        point("0.001", "0.5")
    );
    let bad_model = format!(
        r#"{{"model": "not-a-model-id!!", "default_fmr": 0.001, "points": [{}]}}"#,
        point("0.001", "0.5")
    );
    let crafted = [
        (
            "a threshold above 1",
            points("0.001", &[point("0.001", "2.0")]),
        ),
        (
            "a threshold below -1",
            points("0.001", &[point("0.001", "-1.5")]),
        ),
        ("a NaN threshold", points("0.001", &[point("0.001", "NaN")])),
        ("a rate of zero", and("0", "0.9")),
        ("a rate of one", and("1", "0.1")),
        ("a rate above one", and("1.5", "0.1")),
        ("a negative rate", and("-0.001", "0.5")),
        ("a NaN rate", and("NaN", "0.5")),
        ("two thresholds for one rate", and("0.001", "0.2")),
        (
            "a stricter rate with a laxer threshold",
            and("0.0001", "0.3"),
        ),
        (
            "a measurement with more matches than pairs",
            points(
                "0.001",
                &[r#"{"fmr": 0.001, "threshold": 0.5, "measured": [{"population": "p",
                    "impostor_pairs": 10, "false_matches": 11, "fmr_upper": 1.0,
                    "genuine_pairs": 0, "false_non_matches": 0}]}"#.to_string()],
            ),
        ),
        (
            "a measurement claiming a tighter bound than its counts give",
            points(
                "0.001",
                &[r#"{"fmr": 0.001, "threshold": 0.5, "measured": [{"population": "p",
                    "impostor_pairs": 1000, "false_matches": 0, "fmr_upper": 0.0001,
                    "genuine_pairs": 0, "false_non_matches": 0}]}"#.to_string()],
            ),
        ),
        (
            "a point no population measured can show",
            points(
                "0.001",
                &[r#"{"fmr": 0.001, "threshold": 0.5, "measured": [{"population": "p",
                    "impostor_pairs": 1000, "false_matches": 0,
                    "fmr_upper": 0.0029912495450953314, "genuine_pairs": 0, "false_non_matches": 0}]}"#.to_string()],
            ),
        ),
        (
            "a default rate without a point",
            points("0.01", &[point("0.001", "0.5")]),
        ),
        (
            "a default rate of zero",
            points("0", &[point("0.001", "0.5")]),
        ),
        ("no point at all", points("0.001", &[])),
        ("an unknown field", unknown_field),
        ("a point without the measurement that shows it", unmeasured),
        ("points that name no model", no_model),
        ("a model that is no model id", bad_model),
        (
            "a population with the pairs to show the rate that does not",
            points(
                "0.001",
                &[format!(
                    r#"{{"fmr": 0.001, "threshold": 0.5, "measured": [{}, {{"population": "q",
                    "impostor_pairs": 100000, "false_matches": 500, "fmr_upper": {:?},
                    "genuine_pairs": 0, "false_non_matches": 0}}]}}"#,
                    &shown()[1..shown().len() - 1],
                    faceguard::matching::fmr_upper_bound(500, 100_000)
                )],
            ),
        ),
    ];
    for (what, points) in crafted {
        match EmbedderSpec::from_json(&spec_with(&points)) {
            Err(ModelError::Spec(why)) => assert!(!why.is_empty(), "{what}"),
            Err(e) => panic!("{what}: refused as {e:?}, not as a bad description"),
            Ok(spec) => panic!("{what}: accepted: {:?}", spec.operating_points),
        }
    }
}
