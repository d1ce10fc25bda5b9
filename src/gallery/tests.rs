//! Specifications of the gallery's bookkeeping: 1:1 scoring of one subject's rows, and what an
//! emptied gallery forgets.

use std::sync::Arc;
use std::time::Duration;

use faceguard_match::rng::SplitMix64;

use super::Gallery;
use crate::consent::{ConsentLedger, ConsentToken, ManualClock, Purpose, SubjectId, Timestamp};
use crate::matching::{same_model, MatchError};
use crate::model::ModelId;
use crate::template::{ProbeTemplate, SecretVector, Template};

enum Door {}
impl Purpose for Door {
    const NAME: &'static str = "door-access";
}

const NOTICE: &str = "Your face template opens the staff door. Ask reception to delete it.";
const DAY: Duration = Duration::from_secs(86_400);

fn model(tag: &[u8; 8]) -> ModelId {
    ModelId::from_bytes(*tag)
}

fn subject(n: u64) -> SubjectId {
    SubjectId::new(format!("badge-{n}")).unwrap()
}

/// A unit vector standing in for one capture.
fn face(seed: u64, dim: usize) -> Vec<f32> {
    SplitMix64::new(seed).unit_vector(dim)
}

fn ledger() -> (ConsentLedger, ManualClock) {
    let clock = ManualClock::new(Timestamp(1_790_000_000));
    (ConsentLedger::with_clock(Arc::new(clock.clone())), clock)
}

fn grant(ledger: &ConsentLedger, who: u64, valid_for: Duration) -> ConsentToken<Door> {
    ledger
        .grant::<Door>(subject(who), NOTICE, valid_for)
        .unwrap()
}

fn template(token: &ConsentToken<Door>, v: &[f32], m: ModelId) -> Template<Door> {
    Template::new(SecretVector::normalized(v).unwrap(), m, token.cell.clone())
}

fn probe(ledger: &ConsentLedger, v: &[f32], m: ModelId) -> ProbeTemplate<Door> {
    let consent = ledger.probe_consent::<Door>(NOTICE).unwrap();
    Template::new(SecretVector::normalized(v).unwrap(), m, consent.cell)
}

/// `best_score_of` for `who`, through the gallery's store.
fn score_of(gallery: &Gallery<Door>, who: u64, p: &ProbeTemplate<Door>) -> Option<f32> {
    gallery
        .shared
        .best_score_of(&subject(who), p.vector.as_slice(), p.model, &p.consent)
        .unwrap()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn one_subject_scores_as_identify_ranks_it_after_any_erasures() {
    const DIM: usize = 64;
    let m = crate::matching::FR_FEATURE_MODEL;
    let (ledger, _) = ledger();
    let gallery = ledger.gallery::<Door>();
    // Up to four consents (so four templates) per subject, interleaved in the index.
    let mut rng = SplitMix64::new(5);
    let mut live: Vec<(u64, ConsentToken<Door>, Vec<f32>)> = Vec::new();
    for n in 0..120u64 {
        let who = n % 30;
        let token = grant(&ledger, who, DAY);
        let v = face(1_000 + n, DIM);
        gallery.enroll(template(&token, &v, m)).unwrap();
        live.push((who, token, v));
    }
    // Revocations move rows around (swap_remove): the per-subject rows must follow.
    for _ in 0..50 {
        let at = (rng.next_u64() % live.len() as u64) as usize;
        let (_, token, _) = live.swap_remove(at);
        ledger.revoke(token.id()).unwrap();
    }
    assert_eq!(gallery.len(), live.len());
    for seed in 0..8 {
        let q = face(9_000 + seed, DIM);
        let p = probe(&ledger, &q, m);
        let ranked = gallery.identify(&p, 30).unwrap();
        for who in 0..30u64 {
            let mine: Vec<f32> = live
                .iter()
                .filter(|(w, _, _)| *w == who)
                .map(|(_, _, v)| dot(&q, SecretVector::normalized(v).unwrap().as_slice()))
                .collect();
            let got = score_of(&gallery, who, &p);
            let from_identify = ranked.iter().find(|c| c.subject == subject(who));
            match (got, from_identify) {
                (None, None) => assert!(mine.is_empty(), "subject {who} has templates"),
                (Some(score), Some(c)) => {
                    let brute = mine.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    assert!((score - c.score).abs() <= 1e-6, "{score} vs {}", c.score);
                    assert!((score - brute).abs() <= 1e-5, "{score} vs {brute}");
                    let matcher = gallery.matcher();
                    assert_eq!(matcher.decide(score).is_match, c.is_match);
                }
                other => panic!("subject {who}: best_score_of and identify disagree: {other:?}"),
            }
        }
    }
    assert_eq!(
        score_of(&gallery, 999, &probe(&ledger, &face(1, DIM), m)),
        None
    );
}

#[test]
fn an_expired_template_never_scores_in_one_to_one() {
    const DIM: usize = 32;
    let m = crate::matching::FR_FEATURE_MODEL;
    let (ledger, clock) = ledger();
    let gallery = ledger.gallery::<Door>();
    let v = face(7, DIM);
    // Subject 1: a template that expires tomorrow and a weaker one that lasts.
    let short = grant(&ledger, 1, DAY);
    let long = grant(&ledger, 1, 30 * DAY);
    gallery.enroll(template(&short, &v, m)).unwrap();
    let other = face(8, DIM);
    gallery.enroll(template(&long, &other, m)).unwrap();
    // Subject 2: only a template that expires tomorrow.
    let only = grant(&ledger, 2, DAY);
    gallery.enroll(template(&only, &v, m)).unwrap();

    let before = score_of(&gallery, 1, &probe(&ledger, &v, m)).unwrap();
    assert!((before - 1.0).abs() < 1e-5, "{before}");
    clock.advance(2 * DAY);
    let p = probe(&ledger, &v, m);
    let after = score_of(&gallery, 1, &p).unwrap();
    let want = dot(
        SecretVector::normalized(&v).unwrap().as_slice(),
        SecretVector::normalized(&other).unwrap().as_slice(),
    );
    assert!((after - want).abs() < 1e-5, "{after} vs {want}");
    assert_eq!(score_of(&gallery, 2, &p), None);
    // Met by the 1:1 check, the expired templates are erased.
    assert_eq!(gallery.len(), 1);
}

#[test]
fn one_to_one_refuses_what_identify_refuses() {
    const DIM: usize = 16;
    let (ledger, _) = ledger();
    let gallery = ledger.gallery::<Door>();
    let token = grant(&ledger, 1, DAY);
    gallery
        .enroll(template(&token, &face(1, DIM), model(b"model--a")))
        .unwrap();
    let p = probe(&ledger, &face(1, DIM), model(b"model--b"));
    let err = gallery
        .shared
        .best_score_of(&subject(1), p.vector.as_slice(), p.model, &p.consent)
        .unwrap_err();
    let want = same_model(model(b"model--a"), model(b"model--b")).unwrap_err();
    assert_eq!(err.to_string(), want.to_string());
    // Another ledger's probe.
    let (elsewhere, _) = self::ledger();
    let p = probe(&elsewhere, &face(1, DIM), model(b"model--a"));
    let err = gallery
        .shared
        .best_score_of(&subject(1), p.vector.as_slice(), p.model, &p.consent)
        .unwrap_err();
    assert!(
        matches!(
            err,
            MatchError::Consent(crate::ConsentError::ForeignLedger { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn an_emptied_gallery_takes_a_new_model() {
    let (ledger, _) = ledger();
    let gallery = ledger.gallery::<Door>();
    // Two stand-in models: a threshold bound to neither.
    gallery.set_matcher(crate::Matcher::new(crate::DEFAULT_THRESHOLD).unwrap());
    let old = grant(&ledger, 1, DAY);
    gallery
        .enroll(template(&old, &face(1, 128), model(b"model--a")))
        .unwrap();
    // While a template of model A is held, model B is refused.
    let new = grant(&ledger, 2, DAY);
    assert!(matches!(
        gallery.enroll(template(&new, &face(2, 64), model(b"model--b"))),
        Err(MatchError::ModelMismatch { .. })
    ));
    ledger.revoke(old.id()).unwrap();
    assert!(gallery.is_empty());
    assert_eq!(gallery.dim(), 0);
    // Every template of model A is gone: the upgraded embedder (another dimension too)
    // enrols, and the gallery now holds model B's templates only.
    gallery
        .enroll(template(&new, &face(2, 64), model(b"model--b")))
        .unwrap();
    assert_eq!((gallery.len(), gallery.dim()), (1, 64));
    let p = probe(&ledger, &face(2, 64), model(b"model--b"));
    let found = gallery.identify(&p, 1).unwrap();
    assert_eq!(found[0].subject, subject(2));
    assert!(matches!(
        gallery.identify(&probe(&ledger, &face(2, 128), model(b"model--a")), 1),
        Err(MatchError::ModelMismatch { .. })
    ));
}

#[test]
fn one_to_one_reads_only_the_claimed_subjects_rows() {
    // The proof that nothing else is scanned: another subject's expired template, which any
    // search over the gallery would meet and erase, stays untouched by a 1:1 check.
    const DIM: usize = 32;
    let m = crate::matching::FR_FEATURE_MODEL;
    let (ledger, clock) = ledger();
    let gallery = ledger.gallery::<Door>();
    for who in 0..50u64 {
        let valid_for = if who == 17 { DAY } else { 30 * DAY };
        let token = grant(&ledger, who, valid_for);
        gallery
            .enroll(template(&token, &face(who, DIM), m))
            .unwrap();
    }
    clock.advance(2 * DAY);
    let p = probe(&ledger, &face(3, DIM), m);
    let score = score_of(&gallery, 3, &p).unwrap();
    assert!((score - 1.0).abs() < 1e-5, "{score}");
    assert_eq!(gallery.len(), 50, "subject 17's row was not read");
    // identify reads every row: it meets the expired one and erases it.
    let found = gallery.identify(&p, 50).unwrap();
    assert_eq!((found.len(), gallery.len()), (49, 49));
}
