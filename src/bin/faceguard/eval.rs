//! `eval`: verification accuracy on a labelled pairs file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use faceguard::{ConsentLedger, Matcher, ProbeTemplate};
use indicatif::{ProgressBar, ProgressStyle};

use crate::metrics::{self, Scores};
use crate::pairs::{self, Pair};
use crate::plot::{self, RocPlot};
use crate::shared::{self, report_warning, CliError, CliEvaluation};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// CSV of pairs with the header `a,b,same` (image paths relative to --root, `same` is
    /// Yes or No).
    #[arg(long, value_name = "PAIRS.csv")]
    pub pairs: PathBuf,
    /// Directory the image paths are relative to [default: the pairs file's directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write `a,b,same,score` per pair here (empty score for a skipped pair).
    #[arg(long, value_name = "OUT.csv")]
    pub scores: Option<PathBuf>,
    /// Draw the ROC curve into this PNG file.
    #[arg(long, value_name = "ROC.png")]
    pub plot: Option<PathBuf>,
    /// Decision threshold on cosine similarity [default: the library's DEFAULT_THRESHOLD].
    #[arg(long, value_name = "T", value_parser = shared::parse_threshold, allow_hyphen_values = true)]
    pub threshold: Option<f32>,
}

/// The allowed false-accept rate of the TAR metric, as a fraction (1e-3).
const FAR_NUM: usize = 1;
const FAR_DEN: usize = 1000;

pub fn run(models: Option<&Path>, args: &EvalArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.pairs).map_err(|e| {
        CliError::new(format!(
            "cannot read pairs file {}: {e}",
            args.pairs.display()
        ))
    })?;
    let pairs = pairs::parse_pairs(&text, &args.pairs.display().to_string())?;
    let root = match &args.root {
        Some(root) => root.clone(),
        None => args
            .pairs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    if !root.as_os_str().is_empty() && !root.is_dir() {
        return Err(CliError::new(format!(
            "root directory {} not found",
            root.display()
        )));
    }
    // Fail before the long part if an output could not be written.
    for out in [&args.scores, &args.plot].into_iter().flatten() {
        check_writable(out)?;
    }
    let matcher = match args.threshold {
        Some(t) => Matcher::new(t)?,
        None => Matcher::default(),
    };
    let engine = shared::load_engine(models)?;
    let ledger = ConsentLedger::new();

    // Each distinct image once, in order of first appearance.
    let mut order: Vec<&str> = Vec::new();
    let mut templates: HashMap<&str, Option<ProbeTemplate<CliEvaluation>>> = HashMap::new();
    for p in &pairs {
        for path in [p.a.as_str(), p.b.as_str()] {
            if !templates.contains_key(path) {
                templates.insert(path, None);
                order.push(path);
            }
        }
    }
    let progress = ProgressBar::new(order.len() as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} templates {pos}/{len} [{bar:40}] {elapsed_precise} eta {eta} {wide_msg}",
    ) {
        progress.set_style(style.progress_chars("=> "));
    }
    let mut failed_images = 0usize;
    for path in &order {
        progress.set_message(path.to_string());
        match shared::subject_template(&engine, &ledger, &root.join(path)) {
            Ok(t) => {
                templates.insert(path, Some(t));
            }
            Err(e) => {
                failed_images += 1;
                progress.suspend(|| {
                    report_warning(&format!("skipping the pairs of {path}: {}", e.message()))
                });
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    let mut per_pair: Vec<Option<f32>> = Vec::with_capacity(pairs.len());
    let mut scores = Scores::default();
    let mut correct = 0usize;
    for p in &pairs {
        let (Some(Some(a)), Some(Some(b))) =
            (templates.get(p.a.as_str()), templates.get(p.b.as_str()))
        else {
            per_pair.push(None);
            continue;
        };
        let decision = matcher.verify(a, b)?;
        if decision.is_match == p.same {
            correct += 1;
        }
        per_pair.push(Some(decision.score));
        if p.same {
            scores.genuine.push(decision.score);
        } else {
            scores.impostor.push(decision.score);
        }
    }
    let skipped = per_pair.iter().filter(|s| s.is_none()).count();
    let scored = pairs.len() - skipped;
    if scored == 0 && !pairs.is_empty() {
        report_warning("no pair could be scored: the metrics are undefined (nan)");
    }

    let threshold = matcher.threshold();
    let auc = metrics::auc(&scores);
    let accuracy = if scored == 0 {
        f64::NAN
    } else {
        correct as f64 / scored as f64
    };
    let tar = metrics::tar_at_far(&scores, FAR_NUM, FAR_DEN);
    let errors = metrics::errors_at(&scores, threshold);
    let (g, i) = (scores.genuine.len(), scores.impostor.len());
    let rate = |n: usize, d: usize| {
        if d == 0 {
            f64::NAN
        } else {
            n as f64 / d as f64
        }
    };
    let far = rate(errors.false_accepts, i);
    let frr = rate(errors.false_rejects, g);

    if let Some(path) = &args.scores {
        std::fs::write(path, pairs::scores_csv(&pairs, &per_pair)).map_err(|e| {
            CliError::new(format!("cannot write scores file {}: {e}", path.display()))
        })?;
    }
    if let Some(path) = &args.plot {
        if g == 0 || i == 0 {
            report_warning(&format!(
                "no ROC plot written to {}: it needs both genuine and impostor pairs",
                path.display()
            ));
        } else {
            let roc = metrics::roc_curve(&scores);
            plot::write_roc_png(
                path,
                &RocPlot {
                    roc: &roc,
                    auc,
                    genuine: g,
                    impostor: i,
                    threshold,
                    operating_point: (far, 1.0 - frr),
                },
            )?;
        }
    }

    let report = report(&Report {
        pairs: &pairs,
        skipped,
        failed_images,
        scores: &scores,
        threshold,
        auc,
        accuracy,
        tar,
        far,
        frr,
        errors,
    });
    shared::emit(&report)
}

struct Report<'a> {
    pairs: &'a [Pair],
    skipped: usize,
    failed_images: usize,
    scores: &'a Scores,
    threshold: f32,
    auc: f64,
    accuracy: f64,
    tar: f64,
    far: f64,
    frr: f64,
    errors: metrics::Errors,
}

/// Human-readable lines, then the machine-readable summary as the last line.
fn report(r: &Report) -> String {
    let (g, i) = (r.scores.genuine.len(), r.scores.impostor.len());
    let t = shared::format_threshold(r.threshold);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pairs: {} ({g} genuine, {i} impostor scored; {} skipped, {} image(s) without a usable face)",
        r.pairs.len(),
        r.skipped,
        r.failed_images
    );
    let min_genuine = r.scores.genuine.iter().copied().reduce(f32::min);
    let max_impostor = r.scores.impostor.iter().copied().reduce(f32::max);
    let show = |v: Option<f32>| v.map_or("n/a".to_string(), |v| format!("{v:.6}"));
    let _ = writeln!(
        out,
        "min genuine score: {}  max impostor score: {}",
        show(min_genuine),
        show(max_impostor)
    );
    let _ = writeln!(
        out,
        "at threshold {t}: FAR {}/{i} = {:.6}  FRR {}/{g} = {:.6}  accuracy {:.6}",
        r.errors.false_accepts, r.far, r.errors.false_rejects, r.frr, r.accuracy
    );
    let _ = writeln!(
        out,
        "ROC AUC {:.6}  TAR at FAR<=1e-3 {:.6} (at most {} false accept(s) of {i})",
        r.auc,
        r.tar,
        i * FAR_NUM / FAR_DEN
    );
    if let Some(m) = metrics::min_error(r.scores) {
        let bound = |v: Option<f32>, inf: &str| v.map_or(inf.to_string(), |v| format!("{v:.6}"));
        let _ = writeln!(
            out,
            "fewest errors on this set: {} ({} FA, {} FR) for any threshold in ({}, {}], e.g. {:.4} \
             (informational: calibrate on other data)",
            m.errors.total(),
            m.errors.false_accepts,
            m.errors.false_rejects,
            bound(m.above, "-inf"),
            bound(m.up_to, "+inf"),
            m.threshold()
        );
    }
    let _ = writeln!(
        out,
        "pairs={} skipped={} auc={:.6} accuracy={:.6} threshold={t} tar_at_far_1e-3={:.6}",
        r.pairs.len(),
        r.skipped,
        r.auc,
        r.accuracy,
        r.tar
    );
    out
}

/// Whether a file can be created at `path`: its directory must exist.
fn check_writable(path: &Path) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(CliError::new(format!(
            "cannot write {}: it is a directory",
            path.display()
        )));
    }
    if !dir.is_dir() {
        return Err(CliError::new(format!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}
