//! `faceguard liveness` and `faceguard eval-liveness`, run as a user runs them.

mod common;

use std::process::{Command, Output};

use common::{data_dir, faces_dir, root};

fn faceguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faceguard"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("faceguard binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn liveness_judges_every_face_of_an_image() {
    let screen = data_dir().join("antispoof/inspireface_rgb_fake.jpg");
    let report = json(&faceguard(&["liveness", screen.to_str().unwrap()]));
    let faces = report["faces"].as_array().unwrap();
    assert!(!faces.is_empty(), "{report}");
    assert_eq!(faces[0]["decision"], "spoof", "{report}");
    assert!(faces[0]["score"].as_f64().unwrap() < report["threshold"].as_f64().unwrap());

    let real = faces_dir().join("deepface/img1.jpg");
    let report = json(&faceguard(&["liveness", real.to_str().unwrap()]));
    assert_eq!(report["faces"][0]["decision"], "live", "{report}");
}

/// The dev set's last line, exactly as BENCHMARKS.md and the README record it.
#[test]
fn eval_liveness_on_the_dev_set_prints_the_recorded_summary() {
    let labels = data_dir().join("antispoof/dev/labels.csv");
    let dir = std::env::temp_dir().join(format!("faceguard-eval-liveness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scores = dir.join("scores.csv");
    let plot = dir.join("det.png");
    let out = faceguard(&[
        "eval-liveness",
        "--labels",
        labels.to_str().unwrap(),
        "--scores",
        scores.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let last = text.lines().last().unwrap();
    let keys: Vec<&str> = last
        .split_whitespace()
        .map(|kv| kv.split_once('=').unwrap().0)
        .collect();
    assert_eq!(
        keys,
        [
            "images",
            "skipped",
            "apcer",
            "bpcer",
            "threshold",
            "bpcer20",
            "bpcer100"
        ],
        "{last}"
    );
    assert!(last.starts_with("images=64 "), "{last}");
    for doc in ["BENCHMARKS.md", "README.md"] {
        let recorded = std::fs::read_to_string(root().join(doc)).unwrap();
        assert!(
            recorded.contains(last),
            "{doc} does not record today's summary line:\n{last}"
        );
    }
    // Every labelled image has its row; the models' columns follow.
    let csv = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(csv.lines().count(), 65, "{csv}");
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("file,label,attack,score,live,"));
    assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_labels_file_with_an_unknown_label_fails_naming_the_line() {
    let dir = std::env::temp_dir().join(format!("faceguard-bad-labels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let labels = dir.join("labels.csv");
    std::fs::write(
        &labels,
        "file,label,attack\na.jpg,live,none\nb.jpg,fake,print\n",
    )
    .unwrap();
    let out = faceguard(&["eval-liveness", "--labels", labels.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("line 3") && err.contains("fake"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
