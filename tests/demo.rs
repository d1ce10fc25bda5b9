//! The main job (`scripts/demo.sh`, `cargo run --release --example demo`) runs to the end on
//! the real photos and says what the README says it does: live faces enrolled, the spoof
//! samples refused with the reason, the deletion honoured, the audit log verified.

use std::path::PathBuf;
use std::process::Command;

/// The demo example `cargo test` has built beside this test's binary.
fn demo() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let path = dir
        .join("examples")
        .join(format!("demo{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: cargo test builds the examples (run the whole suite)",
        path.display()
    );
    path
}

#[test]
fn the_demo_enrols_identifies_refuses_spoofs_and_forgets() {
    let out = Command::new(demo())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    for sample in ["image_F1.jpg", "image_F2.jpg", "inspireface_rgb_fake.jpg"] {
        let line = stdout
            .lines()
            .find(|l| l.contains(sample))
            .unwrap_or_else(|| panic!("no line for {sample}:\n{stdout}"));
        assert!(
            line.contains("refused: presentation attack: liveness score"),
            "{line}"
        );
    }
    assert!(stdout.contains("13 distinct subjects"), "{stdout}");
    assert!(
        stdout.contains("presentation attacks in the journal"),
        "{stdout}"
    );
    assert!(stdout.contains("hash chain verified"), "{stdout}");
    assert!(stdout.contains("no, not any more"), "{stdout}");
}
