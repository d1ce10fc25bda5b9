//! `liveness` and `eval-liveness`: presentation-attack detection on image files, and its
//! ISO/IEC 30107-3 metrics on a labelled set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faceguard::{
    decode_file, BoundingBox, DecodedImage, Detector, Face, Liveness, LivenessError, ModelLiveness,
};
use serde::Serialize;

use crate::metrics::{self, Scores};
use crate::plot::{self, DetNames, DetPlot};
use crate::shared::{self, report_warning, CliError};

#[derive(clap::Args)]
pub struct LivenessArgs {
    /// Image file (JPEG, PNG, WebP or BMP, recognised by content).
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
}

#[derive(clap::Args)]
pub struct EvalLivenessArgs {
    /// Labels CSV: header `file,label,attack` (more columns may follow and are ignored);
    /// `label` is `live` or `spoof`, `attack` e.g. print, screen, replay, mask, none, unknown.
    /// The subject of each image is its largest face.
    #[arg(long, value_name = "LABELS.csv")]
    pub labels: PathBuf,
    /// Directory the files are relative to (default: the labels file's directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Writes every image's score: `file,label,attack,score,live`, then each model's
    /// log-odds of "live" (empty for a skipped image).
    #[arg(long, value_name = "OUT.csv")]
    pub scores: Option<PathBuf>,
    /// Writes the DET curve (APCER against BPCER) as a PNG.
    #[arg(long, value_name = "det.png")]
    pub plot: Option<PathBuf>,
}

/// One face's verdict, as `liveness` prints it.
#[derive(Serialize)]
struct Judged {
    #[serde(rename = "box")]
    bbox: BoundingBox,
    /// `live`, `spoof`, `not enough face` (too small or outside the frame to judge) or `no
    /// colour` (a greyscale or infrared face, which RGB models cannot judge).
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// What `liveness` prints.
#[derive(Serialize)]
struct Report {
    image: String,
    threshold: f32,
    faces: Vec<Judged>,
}

/// The detector and the liveness check (no embedder: nothing here makes a template).
fn load(models: Option<&Path>) -> Result<(Detector, ModelLiveness), CliError> {
    let dir = shared::models_dir(models)?;
    let detector = shared::load_detector(Some(&dir))?;
    Ok((detector, ModelLiveness::from_dir(&dir)?))
}

/// Prints `{"image", "threshold", "faces": [{"box", "decision", "score"}...]}`, faces
/// strongest first; exit code 0 whatever the decisions.
pub fn liveness(models: Option<&Path>, args: &LivenessArgs) -> Result<(), CliError> {
    let image = decode_file(&args.image)?;
    let (detector, check) = load(models)?;
    let faces = detector.detect(&image.view())?;
    let mut judged = Vec::with_capacity(faces.len());
    for face in &faces {
        judged.push(match check.check(&image.view(), face) {
            Ok(v) => Judged {
                bbox: face.bbox,
                decision: if v.is_live() { "live" } else { "spoof" },
                score: Some(v.score),
                reason: None,
            },
            Err(e @ (LivenessError::FaceTooSmall { .. } | LivenessError::FaceOutsideFrame)) => {
                Judged {
                    bbox: face.bbox,
                    decision: "not enough face",
                    score: None,
                    reason: Some(e.to_string()),
                }
            }
            Err(e @ LivenessError::NoColour { .. }) => Judged {
                bbox: face.bbox,
                decision: "no colour",
                score: None,
                reason: Some(e.to_string()),
            },
            Err(e) => return Err(faceguard::Error::from(e).into()),
        });
    }
    let report = Report {
        image: args.image.display().to_string(),
        threshold: check.spec().threshold,
        faces: judged,
    };
    shared::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?))
}

/// One row of the labels file.
#[derive(Debug)]
struct Labelled {
    file: String,
    live: bool,
    attack: String,
}

/// Parses `file,label,attack[,...]` with its header; errors name the line.
fn parse_labels(text: &str, origin: &str) -> Result<Vec<Labelled>, CliError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => return Err(CliError::new(format!("{origin} is empty"))),
    };
    if header.len() < 3 || header[..3] != ["file", "label", "attack"] {
        return Err(CliError::new(format!(
            "{origin}: the header must begin with `file,label,attack`, found `{}`",
            header.join(",")
        )));
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |why: &str| CliError::new(format!("{origin} line {}: {why}", i + 1));
        if cols.len() < 3 || cols[0].is_empty() {
            return Err(bad("expected file,label,attack"));
        }
        let live = match cols[1] {
            "live" => true,
            "spoof" => false,
            other => return Err(bad(&format!("label `{other}` is neither live nor spoof"))),
        };
        let attack = if cols[2].is_empty() {
            "unknown"
        } else {
            cols[2]
        };
        rows.push(Labelled {
            file: cols[0].to_string(),
            live,
            attack: if live {
                "none".into()
            } else {
                attack.to_string()
            },
        });
    }
    if rows.is_empty() {
        return Err(CliError::new(format!("{origin} has no rows")));
    }
    Ok(rows)
}

/// An image's outcome: its fused score and each model's log-odds, or why it was skipped.
type Outcome = Result<(f32, Vec<f32>), String>;

/// Judges the largest face of one image; adds the time the liveness check took to `spent`.
fn judge(detector: &Detector, check: &ModelLiveness, path: &Path, spent: &mut Duration) -> Outcome {
    let image: DecodedImage = decode_file(path).map_err(|e| e.to_string())?;
    let faces = detector.detect(&image.view()).map_err(|e| e.to_string())?;
    let face: &Face = shared::largest_face(&faces).ok_or("no face found")?;
    let started = Instant::now();
    let odds = check
        .model_log_odds(&image.view(), face)
        .map_err(|e| e.to_string())?;
    *spent += started.elapsed();
    Ok((check.fuse(&odds).score, odds))
}

/// Rate `n / d`, 0 when `d` is 0.
fn rate(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Judges every labelled image and prints ISO/IEC 30107-3 metrics; the last line is
/// `images=N skipped=K apcer=A bpcer=B threshold=T bpcer20=X bpcer100=Y`.
pub fn eval(models: Option<&Path>, args: &EvalLivenessArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.labels).map_err(|e| {
        CliError::new(format!(
            "cannot read labels file {}: {e}",
            args.labels.display()
        ))
    })?;
    let rows = parse_labels(&text, &args.labels.display().to_string())?;
    let root = shared::data_root(args.root.as_deref(), &args.labels)?;
    for out in args.scores.iter().chain(&args.plot) {
        shared::check_writable(out)?;
    }
    let (detector, check) = load(models)?;
    let threshold = check.spec().threshold;

    let mut outcomes: Vec<Outcome> = Vec::with_capacity(rows.len());
    let mut judging = Duration::ZERO;
    let mut judged = 0usize;
    for row in &rows {
        let outcome = judge(&detector, &check, &root.join(&row.file), &mut judging);
        match &outcome {
            Ok(_) => judged += 1,
            Err(why) => report_warning(&format!("{}: skipped: {why}", row.file)),
        }
        outcomes.push(outcome);
    }

    // Bona fide scores, and attack scores by attack type.
    let mut live = Vec::new();
    let mut attacks: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    for (row, outcome) in rows.iter().zip(&outcomes) {
        if let Ok((score, _)) = outcome {
            if row.live {
                live.push(*score);
            } else {
                attacks.entry(row.attack.as_str()).or_default().push(*score);
            }
        }
    }
    let all_attacks: Vec<f32> = attacks.values().flatten().copied().collect();
    let scores = Scores {
        genuine: live.clone(),
        impostor: all_attacks.clone(),
    };
    let errors = metrics::errors_at(&scores, threshold);
    let apcer = rate(errors.false_accepts, all_attacks.len());
    let bpcer = rate(errors.false_rejects, live.len());
    let skipped = outcomes.iter().filter(|o| o.is_err()).count();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "liveness: {} ({} models), threshold {threshold:.4} (log-odds of live)",
        check.spec().name,
        check.models().len()
    );
    let _ = writeln!(
        out,
        "images {}: {} live, {} attacks judged; {skipped} skipped (unreadable, no face, or not judgeable: too small, no colour)",
        rows.len(),
        live.len(),
        all_attacks.len()
    );
    let mut worst = (0.0f64, "none");
    for (attack, s) in &attacks {
        let accepted = s.iter().filter(|&&v| v >= threshold).count();
        let a = rate(accepted, s.len());
        if a >= worst.0 {
            worst = (a, attack);
        }
        let _ = writeln!(
            out,
            "  APCER {attack:<10} {a:.4} ({accepted}/{} accepted)",
            s.len()
        );
    }
    let _ = writeln!(
        out,
        "APCER (all attacks) {apcer:.4}; worst attack type: {} {:.4}",
        worst.1, worst.0
    );
    let _ = writeln!(
        out,
        "BPCER {bpcer:.4} ({}/{} live faces refused)",
        errors.false_rejects,
        live.len()
    );
    let at = |target: f64| metrics::fnmr_at_fmr(&scores, target);
    let show = |v: Option<(f64, f32)>| match v {
        Some((b, t)) => (format!("{b:.4}"), format!(" (threshold {t:.4})")),
        None => (
            "nan".to_string(),
            " (too few attacks to show it)".to_string(),
        ),
    };
    let (b20, t20) = show(at(0.05));
    let (b100, t100) = show(at(0.01));
    let _ = writeln!(out, "BPCER20 {b20}{t20}; BPCER100 {b100}{t100}");
    let _ = writeln!(
        out,
        "time: {:.1} ms per judged face for the liveness check (crops and {} models; tract, 1 thread)",
        judging.as_secs_f64() * 1000.0 / judged.max(1) as f64,
        check.models().len()
    );
    let _ = writeln!(
        out,
        "images={} skipped={skipped} apcer={apcer:.4} bpcer={bpcer:.4} threshold={} bpcer20={b20} bpcer100={b100}",
        rows.len(),
        shared::format_threshold(threshold)
    );

    if let Some(path) = &args.scores {
        let mut csv = String::from("file,label,attack,score,live");
        for m in check.models() {
            let _ = write!(csv, ",{}", m.spec().name);
        }
        csv.push('\n');
        for (row, outcome) in rows.iter().zip(&outcomes) {
            let label = if row.live { "live" } else { "spoof" };
            let _ = write!(csv, "{},{label},{}", row.file, row.attack);
            match outcome {
                Ok((score, odds)) => {
                    let _ = write!(csv, ",{score:.6},{}", *score >= threshold);
                    for o in odds {
                        let _ = write!(csv, ",{o:.6}");
                    }
                }
                Err(_) => csv.push_str(&",".repeat(2 + check.models().len())),
            }
            csv.push('\n');
        }
        std::fs::write(path, csv)
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.plot {
        if live.is_empty() || all_attacks.is_empty() {
            return Err(CliError::new(
                "a DET plot needs live and attack images that were judged",
            ));
        }
        plot::write_det_png(
            path,
            &DetPlot {
                det: &metrics::det_curve(&scores),
                auc: metrics::auc(&scores),
                genuine: live.len(),
                impostor: all_attacks.len(),
                threshold,
                operating_point: (apcer, bpcer),
                names: DetNames::LIVENESS,
            },
        )?;
    }
    shared::emit(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_need_the_header_and_known_labels() {
        let rows = parse_labels(
            "file,label,attack,source\na.jpg,live,none,x\nb.png,spoof,screen,y\nc.png,spoof,,z\n",
            "l.csv",
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].live && !rows[1].live);
        assert_eq!(
            (rows[1].attack.as_str(), rows[2].attack.as_str()),
            ("screen", "unknown")
        );
        let e = parse_labels("file,attack,label\na,none,live\n", "l.csv").unwrap_err();
        assert!(e.message().contains("header"), "{e}");
        let e = parse_labels("file,label,attack\na.jpg,alive,none\n", "l.csv").unwrap_err();
        assert!(e.message().contains("l.csv line 2"), "{e}");
        assert!(parse_labels("file,label,attack\n", "l.csv").is_err());
    }
}
