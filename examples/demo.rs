//! The main job, on real photos: detect faces, take consent, enrol, identify, honour a
//! deletion request.
//!
//! ```text
//! cargo run --release --example demo -- [FACES_DIR]     # default ../shared/data/faces
//! ```
//! FACES_DIR holds `identities.csv` (`file,identity,source`) and the photos it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faceguard::{decode_file, ConsentLedger, Engine, Face, Purpose, SubjectId};

/// What this demo camera does: opening a door for enrolled staff.
enum DoorAccess {}
impl Purpose for DoorAccess {
    const NAME: &'static str = "door-access";
    const MAX_VALIDITY: Duration = Duration::from_secs(90 * 86_400);
}

const ENROL_NOTICE: &str = "Door access by face: your face template is kept on this device only, \
for 30 days at most, used only to open this door, and deleted when you ask.";
const DOOR_NOTICE: &str = "Face check for door access: your face is compared with enrolled staff \
and the capture is discarded at once.";

fn largest(faces: Vec<Face>) -> Option<Face> {
    faces
        .into_iter()
        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let faces_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/data/faces"));
    let t = Instant::now();
    let engine = Engine::from_dir(root.join("models"))?;
    println!("models loaded in {} ms", t.elapsed().as_millis());

    // identity -> photos, in file order.
    let csv = std::fs::read_to_string(faces_dir.join("identities.csv"))
        .map_err(|e| format!("cannot read {}/identities.csv: {e}", faces_dir.display()))?;
    let mut people: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split(',');
        let (file, id) = (cols.next().unwrap_or(""), cols.next().unwrap_or(""));
        people
            .entry(id.to_string())
            .or_default()
            .push(file.to_string());
    }

    // 1. Detection on a group photo.
    let group = decode_file(faces_dir.join("deepface/selfie-many-people.jpg"))?;
    let faces = engine.detect(&group.view())?;
    println!(
        "\n[detect] selfie-many-people.jpg ({}x{}): {} faces, scores {:.2}..{:.2}",
        group.width(),
        group.height(),
        faces.len(),
        faces.last().map_or(0.0, |f| f.score),
        faces.first().map_or(0.0, |f| f.score)
    );

    // 2. Consent and enrolment: the first photo of each person.
    let ledger = ConsentLedger::new();
    let gallery = ledger.gallery::<DoorAccess>();
    let mut tokens = BTreeMap::new();
    println!(
        "\n[enrol] one photo per person, each with a separate consent for {:?}",
        DoorAccess::NAME
    );
    for (id, files) in &people {
        let subject = SubjectId::new(id.as_str())?;
        let token =
            ledger.grant::<DoorAccess>(subject, ENROL_NOTICE, Duration::from_secs(30 * 86_400))?;
        let photo = decode_file(faces_dir.join(&files[0]))?;
        let face =
            largest(engine.detect(&photo.view())?).ok_or(format!("no face in {}", files[0]))?;
        gallery.enroll(engine.enrolment_template(&token, &photo.view(), &face)?)?;
        println!("  {id:<16} consent {} from {}", token.id(), files[0]);
        tokens.insert(id.clone(), token);
    }
    println!(
        "  gallery: {} templates, {} subjects",
        gallery.len(),
        gallery.subject_count()
    );

    // 3. Identification at the door: every other photo, each under a one-off probe consent.
    println!(
        "\n[identify] the other photos, threshold {:.2}",
        gallery.matcher().threshold()
    );
    let (mut right, mut total) = (0, 0);
    let mut timing = Duration::ZERO;
    for (id, files) in &people {
        for file in files.iter().skip(1) {
            let frame = decode_file(faces_dir.join(file))?;
            let started = Instant::now();
            let Some(face) = largest(engine.detect(&frame.view())?) else {
                println!("  {file:<24} no face");
                continue;
            };
            let consent = ledger.probe_consent::<DoorAccess>(DOOR_NOTICE)?;
            let probe = engine.probe_template(consent, &frame.view(), &face)?;
            let best = gallery.identify(&probe, 1)?.into_iter().next();
            timing += started.elapsed();
            drop(probe); // the capture's consent ends with it
            let (answer, score) = match &best {
                Some(c) if c.is_match => (c.subject.as_str().to_string(), c.score),
                Some(c) => ("(nobody)".to_string(), c.score),
                None => ("(empty gallery)".to_string(), 0.0),
            };
            total += 1;
            if &answer == id {
                right += 1;
            }
            let mark = if &answer == id { "ok " } else { "MISS" };
            println!("  {mark} {file:<24} -> {answer:<16} score {score:.3} (truth {id})");
        }
    }
    println!(
        "  {right}/{total} identified correctly; detect + template + identify {:.0} ms per frame",
        timing.as_secs_f64() * 1000.0 / total.max(1) as f64
    );

    // 4. A deletion request: the person's templates are erased at once.
    if let Some((id, token)) = tokens.iter().next() {
        println!("\n[revoke] {id} asks for deletion");
        ledger.revoke(token.id())?;
        println!(
            "  gallery: {} templates, {} subjects; consent record kept without biometric data: {:?}",
            gallery.len(),
            gallery.subject_count(),
            ledger.record(token.id()).map(|r| r.status_at(ledger.now()))
        );
        let file = &people[id][people[id].len() - 1];
        let frame = decode_file(faces_dir.join(file))?;
        if let Some(face) = largest(engine.detect(&frame.view())?) {
            let consent = ledger.probe_consent::<DoorAccess>(DOOR_NOTICE)?;
            let probe = engine.probe_template(consent, &frame.view(), &face)?;
            let best = gallery.identify(&probe, 1)?.into_iter().next();
            println!(
                "  {file} now -> {}",
                best.filter(|c| c.is_match)
                    .map_or("(nobody)".to_string(), |c| c.subject.to_string())
            );
        }
    }
    Ok(())
}
