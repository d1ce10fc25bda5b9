//! One engine, several camera streams: the engine and galleries are shared between threads
//! and give the same results as one thread.

mod common;

use common::*;
use faceguard::{ConsentLedger, Engine, Gallery};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn engine_ledger_and_gallery_are_send_and_sync() {
    assert_send_sync::<Engine>();
    assert_send_sync::<ConsentLedger>();
    assert_send_sync::<Gallery<DoorAccess>>();
}

#[test]
fn concurrent_streams_get_the_same_templates_as_one_stream() {
    let names = [
        "img1.jpg",
        "img5.jpg",
        "img10.jpg",
        "img17.jpg",
        "img22.jpg",
        "img30.jpg",
    ];
    let ledger = ConsentLedger::new();
    let run = |name: &str| {
        probe::<DoorAccess>(&ledger, name)
            .expose_secret()
            .unwrap()
            .to_vec()
    };
    let sequential: Vec<Vec<f32>> = names.iter().map(|n| run(n)).collect();
    let concurrent: Vec<Vec<f32>> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                s.spawn(move || {
                    let (first, second) = (run(n), run(n));
                    assert_eq!(first, second, "{n}: repeated runs differ");
                    second
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sequential, concurrent);
}

#[test]
fn enrolment_and_identification_can_run_on_different_threads() {
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    std::thread::scope(|s| {
        for (subject, photo) in [
            ("alice", "img1.jpg"),
            ("bob", "img17.jpg"),
            ("carol", "img22.jpg"),
        ] {
            let (ledger, gallery) = (&ledger, &gallery);
            s.spawn(move || enrol(ledger, gallery, subject, photo));
        }
    });
    assert_eq!(gallery.subject_count(), 3);
}
