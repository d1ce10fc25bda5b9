//! The consent ledger against a hostile caller: purposes with one identity and one retention
//! limit, ids that are not credentials, a clock set back.

use std::sync::Arc;
use std::time::Duration;

use faceguard::{
    ConsentError, ConsentHandle, ConsentLedger, ManualClock, Purpose, SubjectId, Timestamp,
};

use crate::common::{engine, largest, photo, NOTICE};

const DAY: Duration = Duration::from_secs(86_400);

/// Door access whose consent is renewed every 90 days.
enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
    const MAX_VALIDITY: Duration = Duration::from_secs(90 * 86_400);
    const PROBE_VALIDITY: Duration = Duration::from_secs(10);
}

/// Another type that claims the same name.
enum Impostor {}
impl Purpose for Impostor {
    const NAME: &'static str = "door-access";
}

fn alice() -> SubjectId {
    SubjectId::new("alice").unwrap()
}

#[test]
fn named_grant_never_outlives_typed_limit() {
    // Granted at run time before the typed purpose is declared: one year is allowed then...
    let ledger = ConsentLedger::new();
    let named = ledger
        .grant_named("door-access", alice(), NOTICE, 300 * DAY)
        .unwrap();
    // ...but the typed API never hands out a token that outlives DoorAccess's 90 days.
    let typed = ledger.token::<DoorAccess>(&named.handle()).unwrap();
    let granted = ledger.record(named.id()).unwrap().granted_at;
    assert!(typed.expires_at() <= granted.after(DoorAccess::MAX_VALIDITY));
    // The consent itself, and every token of it, now ends at 90 days.
    assert!(named.expires_at() <= granted.after(DoorAccess::MAX_VALIDITY));
    assert_eq!(
        ledger.record(named.id()).unwrap().expires_at,
        granted.after(DoorAccess::MAX_VALIDITY)
    );
    // Once the purpose is declared, a run-time grant gets its limit.
    assert!(matches!(
        ledger.grant_named("door-access", alice(), NOTICE, 300 * DAY),
        Err(ConsentError::InvalidValidity { max_secs, .. }) if max_secs == 90 * 86_400
    ));
    assert!(ledger
        .grant_named("door-access", alice(), NOTICE, 90 * DAY)
        .is_ok());
}

#[test]
fn a_declared_purpose_sets_the_limits_of_its_name_from_the_start() {
    let ledger = ConsentLedger::new();
    ledger.declare::<DoorAccess>().unwrap();
    assert!(matches!(
        ledger.grant_named("door-access", alice(), NOTICE, 91 * DAY),
        Err(ConsentError::InvalidValidity { .. })
    ));
    let probe = ledger.probe_consent_named("door-access", NOTICE).unwrap();
    assert!(probe.expires_at() <= ledger.now().after(DoorAccess::PROBE_VALIDITY));
}

#[test]
fn two_purpose_types_may_not_share_a_name() {
    let ledger = ConsentLedger::new();
    let door = ledger.grant::<DoorAccess>(alice(), NOTICE, DAY).unwrap();
    assert!(matches!(
        ledger.grant::<Impostor>(alice(), NOTICE, DAY),
        Err(ConsentError::PurposeConflict { .. })
    ));
    assert!(matches!(
        ledger.token::<Impostor>(&door.handle()),
        Err(ConsentError::PurposeConflict { .. })
    ));
    assert!(matches!(
        ledger.probe_consent::<Impostor>(NOTICE),
        Err(ConsentError::PurposeConflict { .. })
    ));
}

#[test]
fn a_consent_id_alone_cannot_enrol() {
    let ledger = ConsentLedger::new();
    let token = ledger.grant::<DoorAccess>(alice(), NOTICE, DAY).unwrap();
    // Whoever knows (or guesses) the id, but not the secret, gets "unknown".
    let mut guess = [0u8; ConsentHandle::LEN];
    guess[..8].copy_from_slice(&token.id().get().to_le_bytes());
    let guessed = ConsentHandle::from_bytes(&guess).unwrap();
    assert!(matches!(
        ledger.token::<DoorAccess>(&guessed),
        Err(ConsentError::Unknown(_))
    ));
    assert!(matches!(
        ledger.token_named(&guessed),
        Err(ConsentError::Unknown(_))
    ));
    // The holder of the handle from the grant can.
    let kept = token.handle().to_bytes();
    let handle = ConsentHandle::from_bytes(kept.as_ref()).unwrap();
    let again = ledger.token::<DoorAccess>(&handle).unwrap();
    let img = photo("img1.jpg");
    let face = largest(&engine().detect(&img.view()).unwrap());
    assert!(engine()
        .enrolment_template(&again, &img.view(), &face)
        .is_ok());
    // The handle prints no secret, and dies with the consent.
    assert!(format!("{handle:?}").contains("redacted"));
    ledger.revoke(token.id()).unwrap();
    assert!(matches!(
        ledger.token::<DoorAccess>(&handle),
        Err(ConsentError::Revoked { .. })
    ));
    assert!(matches!(
        ConsentHandle::from_bytes(&guess[..20]),
        Err(ConsentError::InvalidHandle)
    ));
}

#[test]
fn expired_consent_stays_expired_when_clock_goes_back() {
    let clock = ManualClock::new(Timestamp(1_790_000_000));
    let ledger = ConsentLedger::with_clock(Arc::new(clock.clone()));
    let token = ledger.grant::<DoorAccess>(alice(), NOTICE, DAY).unwrap();
    let handle = token.handle();
    clock.advance(2 * DAY);
    assert!(matches!(token.check(), Err(ConsentError::Expired { .. })));
    // A camera without an RTC battery boots in 1970: no decision is made on that clock.
    clock.set(Timestamp(0));
    assert!(matches!(
        token.check(),
        Err(ConsentError::ClockBehind { .. })
    ));
    assert!(matches!(
        ledger.token::<DoorAccess>(&handle),
        Err(ConsentError::ClockBehind { .. })
    ));
    assert!(matches!(
        ledger.probe_consent::<DoorAccess>(NOTICE),
        Err(ConsentError::ClockBehind { .. })
    ));
    assert!(matches!(
        ledger.grant::<DoorAccess>(alice(), NOTICE, DAY),
        Err(ConsentError::ClockBehind { .. })
    ));
    // What is recorded meanwhile is stamped at the latest time seen, never before it...
    assert_eq!(ledger.now(), Timestamp(1_790_000_000 + 2 * 86_400));
    // ...a deletion request still works...
    assert!(ledger.revoke(token.id()).is_ok());
    // ...and once the clock is right again, the consent is what it was: expired (and revoked).
    clock.set(Timestamp(1_790_000_000 + 3 * 86_400));
    assert!(token.check().is_err());
}
