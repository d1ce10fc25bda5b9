//! The main job, on real photos: detect faces, take consent, enrol into an encrypted vault
//! (live faces only), identify, refuse printed photos and screens, honour a deletion request,
//! reboot, verify the audit log.
//!
//! ```text
//! cargo run --release --example demo -- [FACES_DIR]     # default ../shared/data/faces
//! ```
//! FACES_DIR holds `identities.csv` (`file,identity,source`) and the photos it names; the spoof
//! samples are read from `FACES_DIR/../antispoof`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faceguard::vault::{Event, Vault, VaultKey};
use faceguard::{decode_file, Engine, Error, Face, ImageView, LivenessError, Purpose, SubjectId};

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

    // 2. Consent and enrolment into an encrypted vault: the first photo of each person.
    let vault_dir = root.join("target/demo-vault");
    let _ = std::fs::remove_dir_all(&vault_dir);
    // On a camera the key comes from the secure element; here, a fresh one per run.
    let key = VaultKey::generate()?;
    let key_copy = VaultKey::from_bytes(key.expose_secret())?;
    let vault = Vault::create(&vault_dir, key)?;
    // The embedder's calibrated threshold for the purpose's target false-match rate.
    let matcher = engine.matcher::<DoorAccess>()?;
    vault.set_matcher(matcher);
    let mut consents = BTreeMap::new();
    println!(
        "\n[enrol] one photo per person, each with a separate consent for {:?}, into the vault {}",
        DoorAccess::NAME,
        vault_dir.display()
    );
    let mut enrolled_from = BTreeMap::new();
    for (id, files) in &people {
        let subject = SubjectId::new(id.as_str())?;
        let token =
            vault.grant::<DoorAccess>(subject, ENROL_NOTICE, Duration::from_secs(30 * 86_400))?;
        // The person's photos in turn until one is taken: a live face, good enough. A photo
        // the liveness check refuses is recorded in the journal as an attack.
        for file in files {
            let photo = decode_file(faces_dir.join(file))?;
            let face =
                largest(engine.detect(&photo.view())?).ok_or(format!("no face in {file}"))?;
            match vault.enroll_face(&engine, &token, &photo.view(), &face) {
                Ok(()) => {
                    println!("  {id:<16} consent {} from {file}", token.id());
                    enrolled_from.insert(id.clone(), file.clone());
                    break;
                }
                Err(e @ (Error::Liveness(_) | Error::Quality(_))) => {
                    println!("  {id:<16} {file} not taken: {e}");
                }
                Err(e) => return Err(e.into()),
            }
        }
        if enrolled_from.contains_key(id) {
            consents.insert(id.clone(), token.id());
        } else {
            vault.revoke(token.id())?;
        }
    }
    println!(
        "  vault: {} templates, {} distinct subjects, sealed with AES-256-GCM on disk",
        vault.template_count(),
        vault.subject_count()
    );

    // 3. Identification at the door: every other photo, each under a one-off probe consent.
    println!(
        "\n[identify] the other photos, threshold {:.4} (false-match rate {:e})",
        matcher.threshold(),
        DoorAccess::TARGET_FMR
    );
    let (mut right, mut total, mut refused) = (0, 0, 0);
    let mut timing = Duration::ZERO;
    for (id, files) in &people {
        let taken = enrolled_from.get(id);
        for file in files.iter().filter(|f| Some(*f) != taken) {
            let frame = decode_file(faces_dir.join(file))?;
            let started = Instant::now();
            let Some(face) = largest(engine.detect(&frame.view())?) else {
                println!("  {file:<24} no face");
                continue;
            };
            let answer = at_door(&engine, &vault, &frame.view(), &face)?;
            timing += started.elapsed();
            let (who, score) = match answer {
                Door::Refused(why) => {
                    refused += 1;
                    println!("  shut {file:<24} refused: {why} (truth {id}, a real person)");
                    continue;
                }
                Door::Answer(who, score) => (who, score),
            };
            total += 1;
            if who == *id {
                right += 1;
            }
            let mark = if who == *id { "ok " } else { "MISS" };
            println!("  {mark} {file:<24} -> {who:<16} score {score:.3} (truth {id})");
        }
    }
    println!(
        "  {right}/{total} identified correctly, {refused} real faces refused by the liveness \
         check; detect + liveness + template + identify + audit entry {:.0} ms per frame",
        timing.as_secs_f64() * 1000.0 / (total + refused).max(1) as f64
    );

    // 4. Presentation attacks: a printed photo and phone screens held up to the camera.
    println!("\n[spoof] printed photos and screens held up to the camera");
    let antispoof = faces_dir.join("../antispoof");
    for (sample, what) in [
        ("image_F1.jpg", "a printed photo"),
        ("image_F2.jpg", "a photo on a screen"),
        ("inspireface_rgb_fake.jpg", "a photo on a phone"),
    ] {
        // (The Silent-Face samples are stored on their side; decode_file applies their EXIF
        // orientation, as a photo viewer does.)
        let img = decode_file(antispoof.join(sample))?;
        let frame = img.view();
        let Some(face) = largest(engine.detect(&frame)?) else {
            println!("  {sample:<24} no face");
            continue;
        };
        match at_door(&engine, &vault, &frame, &face)? {
            Door::Refused(why) => println!("  shut {sample:<24} ({what}) refused: {why}"),
            Door::Answer(who, score) => {
                return Err(format!("{sample} ({what}) passed as {who} (score {score:.3})").into())
            }
        }
    }
    let attacks = vault
        .audit()?
        .entries
        .iter()
        .filter(|e| matches!(e.event, Event::PresentationAttack { .. }))
        .count();
    println!("  {attacks} presentation attacks in the journal (purpose, stage, score; no image)");

    // 5. A deletion request: the key of the person's templates is destroyed, the templates are
    //    purged from the files, and the camera reboots.
    if let Some((id, consent)) = consents.iter().next() {
        println!("\n[revoke] {id} asks for deletion");
        vault.revoke(*consent)?;
        let purged = vault.compact()?;
        println!("  data key destroyed; {purged} template purged from the files");
        drop(vault);
        let (vault, report) = Vault::open(&vault_dir, key_copy)?;
        vault.set_matcher(matcher); // kept in memory: set after each open
        println!(
            "\n[reboot] vault reopened: {} templates, {} subjects; {id}'s consent is {:?}",
            report.templates_loaded,
            vault.subject_count(),
            vault
                .consents()
                .iter()
                .find(|r| r.id == *consent)
                .map(|r| r.status_at(vault.now()))
        );
        let file = &people[id][people[id].len() - 1];
        let frame = decode_file(faces_dir.join(file))?;
        if let Some(face) = largest(engine.detect(&frame.view())?) {
            match at_door(&engine, &vault, &frame.view(), &face)? {
                Door::Answer(who, score) => {
                    println!("  {file} now -> {who} (best score {score:.3})")
                }
                Door::Refused(why) => println!("  {file} now: refused: {why}"),
            }
        }
        let log = vault.audit()?;
        let entries = log
            .verify()
            .map_err(|e| format!("audit log does not verify: {e}"))?;
        println!("\n[audit] hash chain verified: {entries} entries; the last three as exported:");
        let mut lines = Vec::new();
        log.write_json_lines(&mut lines)?;
        for line in String::from_utf8_lossy(&lines)
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            println!("  {line}");
        }
        // The log still counts every passage, but names nobody whose consent ended: the
        // deleted person's identifications carry a pseudonym whose link died with the key.
        let text = String::from_utf8_lossy(&lines);
        let named = text.contains(&format!("\"subject\":\"{id}\""));
        let passages = log
            .entries
            .iter()
            .filter(|e| matches!(e.event, faceguard::vault::Event::Identified { .. }))
            .count();
        println!(
            "  {passages} identifications on record; the log names {id}: {}",
            if named {
                "yes (a defect)"
            } else {
                "no, not any more"
            }
        );
    }
    Ok(())
}

/// What the door does with a face.
enum Door {
    /// Who the vault says the face is (or "(nobody)"), and the best score.
    Answer(String, f32),
    /// No decision: a presentation attack, or a capture too poor to judge; why.
    Refused(String),
}

/// Identifies `face` at the door under a one-off probe consent; the vault runs the liveness
/// check first and records a refused attack.
fn at_door(
    engine: &Engine,
    vault: &Vault,
    frame: &ImageView,
    face: &Face,
) -> Result<Door, Box<dyn std::error::Error>> {
    let consent = vault.probe_consent::<DoorAccess>(DOOR_NOTICE)?;
    // The probe, and the capture's consent with it, ends inside.
    match vault.identify_face(engine, consent, frame, face, 1) {
        Ok(found) => Ok(match found.into_iter().next() {
            Some(c) if c.is_match => Door::Answer(c.subject.as_str().to_string(), c.score),
            Some(c) => Door::Answer("(nobody)".to_string(), c.score),
            None => Door::Answer("(empty vault)".to_string(), 0.0),
        }),
        Err(e @ Error::Liveness(LivenessError::PresentationAttack { .. })) => {
            Ok(Door::Refused(e.to_string()))
        }
        Err(e @ Error::Quality(_)) => Ok(Door::Refused(e.to_string())),
        Err(e) => Err(e.into()),
    }
}
