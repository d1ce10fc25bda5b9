//! The `faceguard` command line, run as a user runs it: real models, real photos, and the
//! exact output formats scripts rely on.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{faces_dir, root};

/// Runs the built binary from the crate root (so that `./models` is found by default).
fn faceguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faceguard"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("faceguard binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn photo_path(name: &str) -> String {
    faces_dir()
        .join("deepface")
        .join(name)
        .display()
        .to_string()
}

/// A fresh, empty directory under the system temp dir.
fn temp_dir(label: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "faceguard-cli-{label}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir can be created");
    dir
}

/// Asserts a failure: the given exit code, and stderr exactly one `error: ...` line with no
/// panic or backtrace.
fn assert_one_line_error(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "panic: {err}"
    );
    assert!(!err.contains("backtrace"), "backtrace: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

/// The `key=value` fields of the last line of stdout.
fn summary(out: &Output) -> HashMap<String, String> {
    let text = stdout(out);
    let last = text.lines().last().expect("stdout has a last line");
    last.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value field");
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn number(fields: &HashMap<String, String>, key: &str) -> f64 {
    fields
        .get(key)
        .unwrap_or_else(|| panic!("summary has {key}: {fields:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} is a number: {fields:?}"))
}

/// Photos by identity, from `identities.csv` (`file,identity,source`).
fn identities() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(faces_dir().join("identities.csv")).expect("identities");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let file = f.next()?.trim().strip_prefix("deepface/")?.to_string();
            let id = f.next()?.trim().to_string();
            Some((file, id))
        })
        .collect()
}

/// Two photos of one person, and a photo of someone else.
fn same_and_other() -> (String, String, String) {
    let ids = identities();
    let (first, id) = ids
        .iter()
        .find(|(f, _)| f == "img1.jpg")
        .expect("img1.jpg is in identities.csv");
    let same = ids
        .iter()
        .find(|(f, i)| i == id && f != first)
        .expect("img1.jpg's person has another photo");
    let other = ids
        .iter()
        .find(|(_, i)| i != id)
        .expect("someone else is in identities.csv");
    (first.clone(), same.0.clone(), other.0.clone())
}

fn verify_json(a: &str, b: &str) -> serde_json::Value {
    let out = faceguard(&["verify", &photo_path(a), &photo_path(b)]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("verify prints JSON");
    assert!(v["score"].is_f64(), "{v}");
    assert!(v["threshold"].is_f64(), "{v}");
    v
}

#[test]
fn detect_prints_the_faces_of_a_photo_as_json() {
    let path = photo_path("img1.jpg");
    let out = faceguard(&["detect", &path]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("detect prints JSON");
    assert_eq!(v["image"], path.as_str());
    assert!(v["width"].as_u64().unwrap() > 0 && v["height"].as_u64().unwrap() > 0);
    let faces = v["faces"].as_array().expect("faces array");
    assert!(!faces.is_empty(), "{v}");
    let face = &faces[0];
    for key in ["x", "y", "width", "height"] {
        assert!(face["box"][key].is_f64(), "{face}");
    }
    let score = face["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{face}");
    let landmarks = face["landmarks"].as_array().unwrap();
    assert_eq!(landmarks.len(), 5);
    assert!(landmarks.iter().all(|p| p["x"].is_f64() && p["y"].is_f64()));
}

#[test]
fn verify_accepts_two_photos_of_the_same_person() {
    let (a, same, _) = same_and_other();
    let v = verify_json(&a, &same);
    assert_eq!(v["is_match"], true, "{a} vs {same}: {v}");
}

#[test]
fn verify_rejects_photos_of_two_different_people() {
    let (a, _, other) = same_and_other();
    let v = verify_json(&a, &other);
    assert_eq!(v["is_match"], false, "{a} vs {other}: {v}");
}

#[test]
fn verify_with_an_image_without_a_face_fails_saying_so() {
    let dir = temp_dir("noface");
    let blank = dir.join("blank.png");
    image::RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]))
        .save(&blank)
        .expect("blank PNG written");
    let out = faceguard(&["verify", &photo_path("img1.jpg"), blank.to_str().unwrap()]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("no face"), "{line}");
    assert!(line.contains("blank.png"), "{line}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn eval_on_dev_pairs_meets_accuracy_targets_at_the_default_operating_point() {
    let dir = temp_dir("eval");
    let scores = dir.join("scores.csv");
    let plot = dir.join("det.png");
    let pairs = root().join("../shared/data/faces/pairs_dev.csv");
    let data = root().join("../shared/data/faces");
    let out = faceguard(&[
        "eval",
        "--pairs",
        pairs.to_str().unwrap(),
        "--root",
        data.to_str().unwrap(),
        "--scores",
        scores.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines().count() > 1,
        "human lines come before the summary"
    );
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("pairs=1830 skipped=0 auc="),
        "last line: {last}"
    );
    let fields = summary(&out);
    let keys: Vec<&str> = last
        .split_whitespace()
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "pairs",
            "skipped",
            "auc",
            "accuracy",
            "threshold",
            "tar_at_far_1e-3",
            "fmr",
            "fnmr"
        ]
    );
    // The shipped operating point on Western faces: no stranger in 1690 matches, at most
    // 15 % of genuine pairs are lost to the threshold that East Asian faces need.
    assert!(number(&fields, "auc") >= 0.9995, "{last}");
    assert!(number(&fields, "fmr") <= 1e-3, "{last}");
    assert!(number(&fields, "fnmr") <= 0.15, "{last}");
    assert!(number(&fields, "accuracy") >= 0.99, "{last}");
    assert_eq!(
        number(&fields, "threshold") as f32,
        faceguard::DEFAULT_THRESHOLD
    );
    let tar = number(&fields, "tar_at_far_1e-3");
    assert!((0.0..=1.0).contains(&tar), "{last}");

    let csv = std::fs::read_to_string(&scores).expect("scores file written");
    assert_eq!(csv.lines().count(), 1831);
    assert_eq!(csv.lines().next(), Some("a,b,same,score"));
    let first = csv.lines().nth(1).unwrap();
    assert!(first.starts_with("deepface/img1.jpg,deepface/img2.jpg,Yes,"));
    let png = image::open(&plot).expect("DET plot is a decodable PNG");
    assert!(png.width() >= 400 && png.height() >= 300);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn eval_counts_pairs_with_a_missing_image_as_skipped() {
    let dir = temp_dir("skipped");
    let pairs = dir.join("pairs.csv");
    std::fs::write(
        &pairs,
        "a,b,same\n\
         deepface/img1.jpg,deepface/img2.jpg,Yes\n\
         deepface/img1.jpg,deepface/img3.jpg,No\n\
         deepface/no-such-photo.jpg,deepface/img2.jpg,Yes\n",
    )
    .unwrap();
    let scores = dir.join("scores.csv");
    let out = faceguard(&[
        "eval",
        "--pairs",
        pairs.to_str().unwrap(),
        "--root",
        faces_dir().to_str().unwrap(),
        "--scores",
        scores.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let fields = summary(&out);
    assert_eq!(fields["pairs"], "3");
    assert_eq!(fields["skipped"], "1");
    assert_eq!(number(&fields, "accuracy"), 1.0);
    assert!(stderr(&out).contains("no-such-photo.jpg"));
    let csv = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(csv.ends_with("deepface/no-such-photo.jpg,deepface/img2.jpg,Yes,\n"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn eval_reports_a_malformed_pairs_file_with_its_line_number() {
    let dir = temp_dir("malformed");
    let pairs = dir.join("pairs.csv");
    std::fs::write(
        &pairs,
        "a,b,same\ndeepface/img1.jpg,deepface/img2.jpg,Yes\ndeepface/img1.jpg,deepface/img3.jpg,perhaps\n",
    )
    .unwrap();
    let out = faceguard(&["eval", "--pairs", pairs.to_str().unwrap()]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("line 3"), "{line}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn detect_on_a_non_image_file_fails_with_a_one_line_error() {
    let out = faceguard(&["detect", "Cargo.toml"]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("Cargo.toml"), "{line}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_missing_models_dir_fails_with_the_fetch_hint() {
    let parent = temp_dir("models");
    let missing = parent.join("not-there");
    let out = faceguard(&[
        "--models",
        missing.to_str().unwrap(),
        "detect",
        &photo_path("img1.jpg"),
    ]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("fetch-models.sh"), "{line}");
    let _ = std::fs::remove_dir_all(parent);
}

#[test]
fn an_empty_models_dir_fails_with_the_fetch_hint() {
    let empty = temp_dir("empty-models");
    let out = faceguard(&[
        "verify",
        "--models",
        empty.to_str().unwrap(),
        &photo_path("img1.jpg"),
        &photo_path("img2.jpg"),
    ]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("fetch-models.sh"), "{line}");
    let _ = std::fs::remove_dir_all(empty);
}

#[test]
fn bad_arguments_are_a_usage_error_with_exit_code_2() {
    let out = faceguard(&["eval", "--pairs", "p.csv", "--threshold", "3"]);
    let line = assert_one_line_error(&out, 2);
    assert!(line.contains("--threshold"), "{line}");
    let out = faceguard(&["detect"]);
    assert_one_line_error(&out, 2);
}

#[test]
fn bench_reports_every_stage_on_its_last_line() {
    let out = faceguard(&["bench", &photo_path("img1.jpg"), "--iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let fields = summary(&out);
    let (w, h) = fields["image"].split_once('x').expect("image=WxH");
    assert!(w.parse::<u32>().unwrap() > 0 && h.parse::<u32>().unwrap() > 0);
    for key in ["load_ms", "detect_ms", "align_ms", "embed_ms"] {
        assert!(number(&fields, key) >= 0.0, "{fields:?}");
    }
    if cfg!(target_os = "linux") {
        assert!(number(&fields, "peak_rss_mib") > 0.0, "{fields:?}");
    }
    assert!(stdout(&out).contains("detection_first"));
}

#[test]
fn bench_match_reports_speed_and_agreement_on_its_last_line() {
    let identities = faces_dir().join("identities.csv");
    let out = faceguard(&[
        "bench-match",
        "--n",
        "20000",
        "--dim",
        "128",
        "--threads",
        "2",
        "--probes",
        "40",
        "--identities",
        identities.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let last = stdout(&out).lines().last().unwrap_or_default().to_string();
    let keys: Vec<&str> = last
        .split_whitespace()
        .map(|kv| kv.split_once('=').expect("key=value").0)
        .collect();
    assert_eq!(
        keys,
        [
            "n",
            "dim",
            "threads",
            "stream_bound_ms",
            "exact_f32_ms",
            "exact_i8_ms",
            "fast_ms",
            "f32_bound_ratio",
            "top1_agreement"
        ]
    );
    let fields = summary(&out);
    assert_eq!(
        (&fields["n"][..], &fields["dim"][..], &fields["threads"][..]),
        ("20000", "128", "2")
    );
    for key in ["stream_bound_ms", "exact_f32_ms", "exact_i8_ms", "fast_ms"] {
        assert!(number(&fields, key) > 0.0, "{fields:?}");
    }
    let ratio = number(&fields, "f32_bound_ratio");
    let expected = number(&fields, "stream_bound_ms") / number(&fields, "exact_f32_ms");
    assert!((ratio - expected).abs() < 0.01, "{fields:?}");
    // 40 probes: the fast search must agree with exact on all of them but at most one.
    assert!(
        number(&fields, "top1_agreement") >= 39.0 / 40.0,
        "{fields:?}"
    );
    // The distractors' histogram against the real impostors' is printed for the record.
    assert!(stderr(&out).contains("bin_low,real_impostor_share,synthetic_share"));
}

#[test]
fn bench_match_below_the_enrolled_count_fails_saying_why() {
    let out = faceguard(&["bench-match", "--n", "3", "--probes", "1"]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("below the"), "{line}");
}

/// A data set's `identities.csv` rewritten as `out` with a `group` column (first, to show
/// columns are found by name) from `group_of(identity)`, and absolute paths.
fn with_groups(set: &Path, out: &Path, group_of: fn(&str) -> &'static str) -> PathBuf {
    let text = std::fs::read_to_string(set.join("identities.csv")).unwrap();
    let mut csv = String::from("group,file,identity\n");
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (file, identity) = (set.join(cols[0]), cols[1]);
        csv.push_str(&format!(
            "{},{},{identity}\n",
            group_of(identity),
            file.display()
        ));
    }
    std::fs::write(out, csv).unwrap();
    out.to_path_buf()
}

/// `faces/identities.csv` with two groups, by identity number parity.
fn grouped_identities(dir: &Path) -> PathBuf {
    with_groups(&faces_dir(), &dir.join("grouped.csv"), |identity| {
        if identity.bytes().last().unwrap() % 2 == 1 {
            "odd"
        } else {
            "even"
        }
    })
}

#[test]
fn eval_on_identities_reports_per_group_and_several_photo_enrolment() {
    let dir = temp_dir("identities");
    let ids = grouped_identities(&dir);
    let root = faces_dir();
    let out = faceguard(&[
        "eval",
        "--identities",
        ids.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    // Every pair of the 61 photos, as in pairs_dev.csv.
    assert_eq!(summary(&out)["pairs"], "1830");
    for needle in [
        "by group",
        "  even ",
        "  odd ",
        "across groups",
        "FNMR at FMR 1e-3",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    assert!(text.contains("failures to acquire"), "{text}");

    let out = faceguard(&[
        "eval",
        "--identities",
        ids.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--enrol-photos",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("enrolled from 1 photo"), "{text}");
    assert!(text.contains("enrolled from up to 3 photos"), "{text}");
    assert!(text.contains("failed to enrol"), "{text}");
    let fields = summary(&out);
    assert!(number(&fields, "fmr") <= 1e-3, "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn calibrate_writes_operating_points_that_eval_then_applies() {
    let dir = temp_dir("calibrate");
    let ids = faces_dir().join("identities.csv");
    let spec = dir.join("models").join("fr_feature.json");
    std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
    // 1690 impostor pairs cannot show 1e-3 (that needs 2995): refused, nothing written.
    let out = faceguard(&[
        "calibrate",
        "--identities",
        ids.to_str().unwrap(),
        "--out",
        spec.to_str().unwrap(),
    ]);
    let line = assert_one_line_error(&out, 1);
    assert!(line.contains("2995"), "{line}");
    assert!(!spec.exists());
    // They can show 1e-2.
    let out = faceguard(&[
        "calibrate",
        "--identities",
        ids.to_str().unwrap(),
        "--target-fmr",
        "1e-2",
        "--default-fmr",
        "1e-2",
        "--out",
        spec.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let last = stdout(&out).lines().last().unwrap().to_string();
    assert!(
        last.starts_with("calibrated default_fmr=0.01 threshold="),
        "{last}"
    );
    let written = faceguard::EmbedderSpec::from_file(&spec).unwrap();
    let points = written.operating_points.unwrap();
    let threshold = points.default_threshold("fr_feature").unwrap();
    let m = &points.points[0].measured[0];
    assert_eq!((m.population.as_str(), m.impostor_pairs), ("faces", 1690));
    assert!(m.fmr_upper <= 1e-2);
    // eval with that description uses its default operating point (the engine loads the
    // liveness check too, though evaluation on photo files waives it).
    let liveness = faceguard::LivenessSpec::bundled();
    let pad = liveness.models.iter().map(|m| m.file.as_str());
    let files = [
        faceguard::DETECTOR_FILE,
        faceguard::EMBEDDER_FILE,
        faceguard::liveness::LIVENESS_SPEC_FILE,
    ];
    for file in files.into_iter().chain(pad) {
        std::fs::copy(
            root().join("models").join(file),
            dir.join("models").join(file),
        )
        .unwrap();
    }
    let out = faceguard(&[
        "--models",
        dir.join("models").to_str().unwrap(),
        "eval",
        "--pairs",
        faces_dir().join("pairs_dev.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let fields = summary(&out);
    assert_eq!(number(&fields, "threshold") as f32, threshold);
    let _ = std::fs::remove_dir_all(dir);
}

/// `faces-eastasia/identities.csv` with the groups `scripts/accuracy.sh` gives it (LFW press
/// photos, idols).
fn eastasia_with_groups(dir: &Path) -> PathBuf {
    let set = common::data_dir().join("faces-eastasia");
    with_groups(&set, &dir.join("faces-eastasia.csv"), |identity| {
        if identity.starts_with("lfw_") {
            "eastasia-lfw"
        } else {
            "eastasia-idol"
        }
    })
}

#[test]
fn the_committed_operating_points_are_what_calibrate_measures_today() {
    // A change anywhere in the pipeline (decoding, detection, alignment, quality gates) moves
    // the scores; the thresholds in models/fr_feature.json must move with them
    // (`scripts/accuracy.sh calibrate`), or they promise a false-match rate nobody measured.
    let dir = temp_dir("recalibrate");
    let out_spec = dir.join("fr_feature.json");
    let out = faceguard(&[
        "calibrate",
        "--identities",
        faces_dir().join("identities.csv").to_str().unwrap(),
        "--identities",
        eastasia_with_groups(&dir).to_str().unwrap(),
        "--out",
        out_spec.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let measured = faceguard::EmbedderSpec::from_file(&out_spec)
        .unwrap()
        .operating_points
        .unwrap();
    let committed = faceguard::EmbedderSpec::from_file(root().join("models/fr_feature.json"))
        .unwrap()
        .operating_points
        .unwrap();
    let thresholds = |p: &faceguard::OperatingPoints| -> Vec<(f64, f32)> {
        p.points.iter().map(|q| (q.fmr, q.threshold)).collect()
    };
    assert_eq!(
        thresholds(&measured),
        thresholds(&committed),
        "models/fr_feature.json is stale: run scripts/accuracy.sh calibrate and copy \
         target/accuracy/fr_feature.json over it"
    );
    assert_eq!(measured.default_fmr, committed.default_fmr);
    let _ = std::fs::remove_dir_all(dir);
}
