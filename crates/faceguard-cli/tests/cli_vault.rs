//! `faceguard vault`, run as an integrator runs it: real models and photos, JSON on stdout,
//! one-line errors with exit code 1 for a wrong key, a tampered file, an unknown subject or an
//! expired consent.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{faces_dir, root};

struct Vault {
    dir: PathBuf,
    key: PathBuf,
}

impl Vault {
    fn new(label: &str) -> Vault {
        let base = std::env::temp_dir().join(format!(
            "faceguard-cli-vault-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        Vault {
            dir: base.join("vault"),
            key: base.join("vault.key"),
        }
    }

    /// Runs `faceguard vault <args> --vault DIR --key-file KEY`.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with_key(args, &self.key)
    }

    fn run_with_key(&self, args: &[&str], key: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_faceguard"))
            .arg("vault")
            .args(args)
            .arg("--vault")
            .arg(&self.dir)
            .arg("--key-file")
            .arg(key)
            .current_dir(root())
            .output()
            .unwrap()
    }
}

fn photo(name: &str) -> String {
    faces_dir()
        .join("deepface")
        .join(name)
        .display()
        .to_string()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Exit code 1 and exactly one `error: ...` line, which is returned.
fn one_line_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
    lines[0].to_string()
}

fn enrol(v: &Vault, subject: &str, image: &str) -> serde_json::Value {
    json(&v.run(&[
        "enroll",
        "--subject",
        subject,
        "--purpose",
        "door-access",
        &photo(image),
    ]))
}

#[test]
fn enrol_identify_revoke_and_audit_from_the_command_line() {
    let v = Vault::new("flow");
    let created = json(&v.run(&["init"]));
    assert_eq!(created["key_fingerprint"].as_str().unwrap().len(), 16);
    assert!(v.key.exists(), "init creates the key file");
    enrol(&v, "badge-1", "img1.jpg");
    let second = enrol(&v, "badge-2", "img3.jpg");
    assert_eq!(second["subjects_enrolled"], 2);

    // img2 shows the person of img1.
    let found = json(&v.run(&["identify", "--purpose", "door-access", &photo("img2.jpg")]));
    assert_eq!(found["candidates"][0]["subject"], "badge-1");
    assert_eq!(found["candidates"][0]["is_match"], true);

    let listing = json(&v.run(&["list"]));
    assert_eq!(listing["subjects_enrolled"], 2);
    let text = listing.to_string();
    assert!(
        !text.contains("vector") && !text.contains("template\""),
        "{text}"
    );

    let revoked = json(&v.run(&["revoke", "--subject", "badge-1"]));
    assert_eq!(revoked["templates_purged"], 1);
    let found = json(&v.run(&["identify", "--purpose", "door-access", &photo("img2.jpg")]));
    assert_ne!(found["candidates"][0]["subject"], "badge-1");
    let err = one_line_error(&v.run(&["revoke", "--subject", "badge-1"]));
    assert!(err.contains("no active consent"), "{err}");

    let verified = json(&v.run(&["audit", "verify"]));
    assert_eq!(verified["verified"], true);
    let export = v.run(&["audit", "export"]);
    assert!(export.status.success());
    let events: Vec<String> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            e["event"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        events,
        [
            "created",
            "granted",
            "enrolled",
            "granted",
            "enrolled",
            "identified",
            "subject-revoked",
            "compacted",
            "identified"
        ]
    );
}

#[test]
fn wrong_key_tampering_and_expired_consent_fail_with_one_line() {
    let v = Vault::new("errors");
    json(&v.run(&["init"]));
    enrol(&v, "badge-1", "img1.jpg");

    let other_key = v.dir.with_file_name("other.key");
    std::fs::write(&other_key, [7u8; 32]).unwrap();
    let err = one_line_error(&v.run_with_key(&["list"], &other_key));
    assert!(err.contains("wrong vault key"), "{err}");

    let err = one_line_error(&v.run(&[
        "enroll",
        "--subject",
        "badge-2",
        "--purpose",
        "door-access",
        "--expires",
        "2001-01-01T00:00:00Z",
        &photo("img3.jpg"),
    ]));
    assert!(err.contains("in the past"), "{err}");

    let err = one_line_error(&v.run(&["revoke", "--subject", "badge-9"]));
    assert!(err.contains("badge-9"), "{err}");

    // A flipped bit in the journal.
    let journal = v.dir.join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x04;
    std::fs::write(&journal, &bytes).unwrap();
    let err = one_line_error(&v.run(&["list"]));
    assert!(err.contains("journal"), "{err}");
    let err = one_line_error(&v.run(&["audit", "verify"]));
    assert!(err.contains("audit log broken after"), "{err}");
}

#[test]
fn rotate_key_retires_the_old_key() {
    let v = Vault::new("rotate");
    json(&v.run(&["init"]));
    enrol(&v, "badge-1", "img1.jpg");
    let new_key = v.dir.with_file_name("new.key");
    let rotated = json(&v.run(&["rotate-key", "--new-key-file", new_key.to_str().unwrap()]));
    assert_eq!(rotated["key_fingerprint"].as_str().unwrap().len(), 16);
    let err = one_line_error(&v.run(&["list"]));
    assert!(err.contains("wrong vault key"), "{err}");
    let listing = json(&v.run_with_key(&["list"], &new_key));
    assert_eq!(listing["subjects_enrolled"], 1);
}

#[test]
fn a_spoof_neither_enrols_nor_opens_the_door_and_the_journal_records_it() {
    let v = Vault::new("spoof");
    json(&v.run(&["init"]));
    enrol(&v, "badge-1", "img1.jpg");
    // A phone screen showing a face (InspireFace's sample).
    let screen = common::data_dir()
        .join("antispoof/inspireface_rgb_fake.jpg")
        .display()
        .to_string();
    let err = one_line_error(&v.run(&[
        "enroll",
        "--subject",
        "badge-2",
        "--purpose",
        "door-access",
        &screen,
    ]));
    assert!(err.contains("presentation attack"), "{err}");
    let err = one_line_error(&v.run(&["identify", "--purpose", "door-access", &screen]));
    assert!(err.contains("presentation attack"), "{err}");
    // Nothing enrolled for badge-2, and its consent did not outlive the refusal.
    let listing = json(&v.run(&["list"]));
    assert_eq!(listing["subjects_enrolled"], 1, "{listing}");
    let export = v.run(&["audit", "export"]);
    let text = String::from_utf8_lossy(&export.stdout).into_owned();
    let attacks: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "presentation-attack")
        .collect();
    assert_eq!(attacks.len(), 2, "{text}");
    assert_eq!(attacks[0]["stage"], "enrolment");
    assert_eq!(attacks[1]["stage"], "probe");
    for a in &attacks {
        assert_eq!(a["purpose"], "door-access");
        assert!(a["score"].as_f64().unwrap() < a["threshold"].as_f64().unwrap());
        assert!(a.get("subject").is_none(), "{a}");
    }
}
