//! `eval`: verification accuracy on labelled photos, as NIST's face recognition tests report
//! it: FNMR at fixed FMRs, failures to acquire and to enrol, and FMR and FNMR per group.
//!
//! Three protocols:
//! * `--pairs`: the pairs of a pairs file (`a,b,same`);
//! * `--identities`: every pair of the photos of an identities file (`file,identity[,group]`);
//! * `--identities --enrol-photos N`: each person enrolled from their first N photos that pass
//!   the enrolment quality gate, as N templates (scored by the best) and fused into one; every
//!   other photo is a probe against every enrolled person. One-photo enrolment (the first of
//!   the N) is reported beside them on the same probes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use faceguard::matching::fmr_upper_bound;
use faceguard::{ConsentLedger, Engine, Matcher, ProbeTemplate};

use crate::dataset::{self, Failure, Photo, Templates};
use crate::metrics::{self, Scores};
use crate::pairs::{self, Pair};
use crate::plot::{self, DetNames, DetPlot};
use crate::shared::{self, report_warning, CliError, CliEvaluation};

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["pairs", "identities"]))]
pub struct EvalArgs {
    /// CSV of pairs with the header `a,b,same` (image paths relative to --root, `same` is
    /// Yes or No).
    #[arg(long, value_name = "PAIRS.csv")]
    pub pairs: Option<PathBuf>,
    /// CSV of photos with a header naming `file` and `identity`, and optionally `group` (other
    /// columns are ignored): every pair of its photos is evaluated, and with a group column
    /// FMR and FNMR are reported per group.
    #[arg(long, value_name = "IDS.csv")]
    pub identities: Option<PathBuf>,
    /// Enrol each person from their first N photos that pass the enrolment quality gate (as
    /// N templates scored by the best, and fused into one template); the other photos are
    /// probes (with --identities). The last line is the fused template's, at the operating
    /// point for the default FMR divided by N.
    #[arg(long, value_name = "N", requires = "identities",
          value_parser = clap::value_parser!(u32).range(1..=faceguard::MAX_FUSED_PHOTOS as i64))]
    pub enrol_photos: Option<u32>,
    /// Directory the image paths are relative to [default: the input file's directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write `a,b,same,score` per pair here (empty score for a skipped pair).
    #[arg(long, value_name = "OUT.csv")]
    pub scores: Option<PathBuf>,
    /// Draw the DET curve (FNMR against FMR on a log scale) into this PNG file.
    #[arg(long, value_name = "DET.png")]
    pub plot: Option<PathBuf>,
    /// Decision threshold on cosine similarity [default: the embedder's default operating
    /// point, from its JSON description].
    #[arg(long, value_name = "T", value_parser = shared::parse_threshold, allow_hyphen_values = true)]
    pub threshold: Option<f32>,
    /// Turn the quality gates off, to measure what they buy (never how a camera runs).
    #[arg(long)]
    pub no_quality: bool,
}

/// The allowed false-accept rate of the TAR metric, as a fraction (1e-3).
const FAR_NUM: usize = 1;
const FAR_DEN: usize = 1000;

/// FMRs at which FNMR is reported, where the data allows.
const REPORTED_FMRS: [f64; 3] = [1e-3, 1e-4, 1e-5];

pub fn run(models: Option<&Path>, args: &EvalArgs) -> Result<(), CliError> {
    let input = args
        .pairs
        .as_ref()
        .or(args.identities.as_ref())
        .ok_or_else(|| CliError::new("give --pairs or --identities"))?;
    let text = std::fs::read_to_string(input)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", input.display())))?;
    let origin = input.display().to_string();
    let root = shared::data_root(args.root.as_deref(), input)?;
    if args.scores.is_some() && args.enrol_photos.is_some() {
        return Err(CliError::new(
            "--scores lists pairs: it does not go with --enrol-photos",
        ));
    }
    // Fail before the long part if an output could not be written.
    for out in [&args.scores, &args.plot].into_iter().flatten() {
        shared::check_writable(out)?;
    }
    let mut engine = shared::load_engine(models)?;
    if args.no_quality {
        engine = dataset::without_quality(engine);
    }
    let (matcher, source) = operating_matcher(&engine, args.threshold)?;
    let ledger = ConsentLedger::new();

    if let Some(n) = args.enrol_photos {
        let photos = dataset::parse_identities(&text, &origin)?;
        // Before the long part: the fused template's operating point must exist.
        let point = fused_matcher(&engine, n as usize, matcher, &source, args.threshold)?;
        let paths: Vec<&str> = photos.iter().map(|p| p.file.as_str()).collect();
        let templates = Templates::compute(&engine, &ledger, &root, &paths);
        return enrolment_protocol(
            &photos, &templates, n as usize, matcher, &source, point, args,
        );
    }

    let (pairs, groups) = match &args.pairs {
        Some(_) => (pairs::parse_pairs(&text, &origin)?, HashMap::new()),
        None => {
            let photos = dataset::parse_identities(&text, &origin)?;
            (dataset::all_pairs(&photos), dataset::groups(&photos))
        }
    };
    let mut paths: Vec<&str> = Vec::new();
    for p in &pairs {
        paths.push(&p.a);
        paths.push(&p.b);
    }
    let templates = Templates::compute(&engine, &ledger, &root, &paths);
    let scored = score_pairs(&pairs, &templates, matcher)?;

    if let Some(path) = &args.scores {
        std::fs::write(path, pairs::scores_csv(&pairs, &scored.per_pair)).map_err(|e| {
            CliError::new(format!("cannot write scores file {}: {e}", path.display()))
        })?;
    }
    let threshold = matcher.threshold();
    if let Some(path) = &args.plot {
        det_plot(path, &scored.scores, threshold)?;
    }
    let mut out = String::new();
    let (refused, no_face) = templates.failures();
    let _ = writeln!(
        out,
        "photos: {}; failures to acquire: {} refused by the probe quality gate{}, {} without a \
         usable face",
        templates.by_path.len(),
        refused,
        reasons(&templates),
        no_face
    );
    let _ = writeln!(
        out,
        "pairs: {} ({} genuine, {} impostor scored; {} skipped: {} lost to quality refusals, {} \
         to photos without a usable face)",
        pairs.len(),
        scored.scores.genuine.len(),
        scored.scores.impostor.len(),
        scored.skipped(),
        scored.lost_to_quality,
        scored.lost_to_no_face
    );
    report_scores(&mut out, &scored.scores, threshold, &source);
    let distinct: std::collections::HashSet<&String> = groups.values().collect();
    if distinct.len() > 1 {
        report_groups(&mut out, &pairs, &scored.per_pair, &groups, threshold);
    }
    summary_line(
        &mut out,
        pairs.len(),
        scored.skipped(),
        &scored.scores,
        threshold,
    );
    shared::emit(&out)
}

/// The matcher and a description of where its threshold comes from.
fn operating_matcher(
    engine: &Engine,
    threshold: Option<f32>,
) -> Result<(Matcher, String), CliError> {
    if let Some(t) = threshold {
        return Ok((Matcher::new(t)?, "given with --threshold".into()));
    }
    let spec = engine.embedder().spec();
    let Some(points) = &spec.operating_points else {
        return Err(CliError::new(format!(
            "embedder `{}` has no operating points in its JSON description: pass --threshold, \
             or calibrate it first with `faceguard calibrate`",
            spec.name
        )));
    };
    Ok((
        Matcher::new(engine.matcher_at(points.default_fmr)?.threshold())?,
        format!(
            "the default operating point of {}: FMR {:e}",
            spec.name, points.default_fmr
        ),
    ))
}

struct Scored {
    per_pair: Vec<Option<f32>>,
    scores: Scores,
    lost_to_quality: usize,
    lost_to_no_face: usize,
}

impl Scored {
    fn skipped(&self) -> usize {
        self.lost_to_quality + self.lost_to_no_face
    }
}

fn score_pairs(
    pairs: &[Pair],
    templates: &Templates,
    matcher: Matcher,
) -> Result<Scored, CliError> {
    let mut scored = Scored {
        per_pair: Vec::with_capacity(pairs.len()),
        scores: Scores::default(),
        lost_to_quality: 0,
        lost_to_no_face: 0,
    };
    for p in pairs {
        let (Some(a), Some(b)) = (templates.get(&p.a), templates.get(&p.b)) else {
            let refused =
                |path: &str| matches!(templates.by_path.get(path), Some(Err(Failure::Quality(_))));
            if refused(&p.a) || refused(&p.b) {
                scored.lost_to_quality += 1;
            } else {
                scored.lost_to_no_face += 1;
            }
            scored.per_pair.push(None);
            continue;
        };
        let score = matcher.verify(a, b)?.score;
        scored.per_pair.push(Some(score));
        if p.same {
            scored.scores.genuine.push(score);
        } else {
            scored.scores.impostor.push(score);
        }
    }
    if scored.scores.genuine.is_empty() && scored.scores.impostor.is_empty() && !pairs.is_empty() {
        report_warning("no pair could be scored: the metrics are undefined (nan)");
    }
    Ok(scored)
}

/// `" (2 face blurred, 1 face too small)"`, or nothing without refusals.
fn reasons(templates: &Templates) -> String {
    let reasons = templates.quality_reasons();
    if reasons.is_empty() {
        return String::new();
    }
    let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    format!(" ({})", list.join(", "))
}

fn rate(n: usize, d: usize) -> f64 {
    if d == 0 {
        f64::NAN
    } else {
        n as f64 / d as f64
    }
}

/// The lines every protocol prints about one score set.
fn report_scores(out: &mut String, s: &Scores, threshold: f32, source: &str) {
    let (g, i) = (s.genuine.len(), s.impostor.len());
    let t = shared::format_threshold(threshold);
    let errors = metrics::errors_at(s, threshold);
    let show = |v: Option<f32>| v.map_or("n/a".to_string(), |v| format!("{v:.6}"));
    let _ = writeln!(
        out,
        "min genuine score: {}  max impostor score: {}",
        show(s.genuine.iter().copied().reduce(f32::min)),
        show(s.impostor.iter().copied().reduce(f32::max))
    );
    let _ = writeln!(
        out,
        "at threshold {t} ({source}): FMR {}/{i} = {:.6} (95% upper bound {:.6})  FNMR {}/{g} = \
         {:.6}",
        errors.false_accepts,
        rate(errors.false_accepts, i),
        fmr_upper_bound(errors.false_accepts as u64, i as u64),
        errors.false_rejects,
        rate(errors.false_rejects, g)
    );
    let at: Vec<String> = REPORTED_FMRS
        .iter()
        .map(|&f| match metrics::fnmr_at_fmr(s, f) {
            Some((fnmr, t)) => format!("FMR {f:e}: {fnmr:.4} (threshold {t:.4})"),
            None => format!(
                "FMR {f:e}: n/a (needs {} impostor pairs)",
                (1.0 / f).round() as u64
            ),
        })
        .collect();
    let _ = writeln!(out, "FNMR at {}", at.join("; "));
    let _ = writeln!(
        out,
        "ROC AUC {:.6}  TAR at FAR<=1e-3 {:.6} (at most {} false accept(s) of {i})",
        metrics::auc(s),
        metrics::tar_at_far(s, FAR_NUM, FAR_DEN),
        i * FAR_NUM / FAR_DEN
    );
    if let Some(m) = metrics::min_error(s) {
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
}

/// The machine-readable last line: the fields other tools read, then `fmr` and `fnmr` at the
/// threshold.
fn summary_line(out: &mut String, pairs: usize, skipped: usize, s: &Scores, threshold: f32) {
    let errors = metrics::errors_at(s, threshold);
    let (g, i) = (s.genuine.len(), s.impostor.len());
    let accuracy = rate(g + i - errors.total(), g + i);
    let _ = writeln!(
        out,
        "pairs={pairs} skipped={skipped} auc={:.6} accuracy={accuracy:.6} threshold={} \
         tar_at_far_1e-3={:.6} fmr={:.6} fnmr={:.6}",
        metrics::auc(s),
        shared::format_threshold(threshold),
        metrics::tar_at_far(s, FAR_NUM, FAR_DEN),
        rate(errors.false_accepts, i),
        rate(errors.false_rejects, g)
    );
}

/// FMR and FNMR within each group and across groups: a demographic differential report.
fn report_groups(
    out: &mut String,
    pairs: &[Pair],
    scores: &[Option<f32>],
    groups: &HashMap<String, String>,
    threshold: f32,
) {
    #[derive(Default)]
    struct Tally {
        genuine: usize,
        false_non_matches: usize,
        impostor: usize,
        false_matches: usize,
    }
    let mut within: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut across = Tally::default();
    for (p, s) in pairs.iter().zip(scores) {
        let (Some(s), Some(ga), Some(gb)) = (s, groups.get(&p.a), groups.get(&p.b)) else {
            continue;
        };
        let tally = if ga == gb {
            within.entry(ga.as_str()).or_default()
        } else {
            &mut across
        };
        if p.same {
            tally.genuine += 1;
            tally.false_non_matches += usize::from(*s < threshold);
        } else {
            tally.impostor += 1;
            tally.false_matches += usize::from(*s >= threshold);
        }
    }
    let _ = writeln!(
        out,
        "by group at threshold {} (pairs within a group; \"across groups\" = impostor pairs of two \
         groups):",
        shared::format_threshold(threshold)
    );
    let mut line = |name: &str, t: &Tally| {
        let fnmr = if t.genuine == 0 {
            String::new()
        } else {
            format!(
                "  FNMR {:>5}/{:<6} = {:.4}",
                t.false_non_matches,
                t.genuine,
                rate(t.false_non_matches, t.genuine)
            )
        };
        let _ = writeln!(
            out,
            "  {name:<24} FMR {:>6}/{:<8} = {:.6} (95% upper bound {:.6}){fnmr}",
            t.false_matches,
            t.impostor,
            rate(t.false_matches, t.impostor),
            fmr_upper_bound(t.false_matches as u64, t.impostor as u64),
        );
    };
    for (g, t) in &within {
        line(g, t);
    }
    if across.impostor > 0 {
        line("across groups", &across);
    }
    let fmrs: Vec<f64> = within
        .values()
        .filter(|t| t.impostor > 0)
        .map(|t| rate(t.false_matches, t.impostor))
        .collect();
    let fnmrs: Vec<f64> = within
        .values()
        .filter(|t| t.genuine > 0)
        .map(|t| rate(t.false_non_matches, t.genuine))
        .collect();
    let spread = |v: &[f64]| {
        let max = v.iter().copied().fold(f64::NAN, f64::max);
        let min = v.iter().copied().fold(f64::NAN, f64::min);
        format!("highest {max:.6}, lowest {min:.6}")
    };
    let _ = writeln!(
        out,
        "  differential: FMR {}; FNMR {}",
        spread(&fmrs),
        spread(&fnmrs)
    );
}

fn det_plot(path: &Path, s: &Scores, threshold: f32) -> Result<(), CliError> {
    let (g, i) = (s.genuine.len(), s.impostor.len());
    if g == 0 || i == 0 {
        report_warning(&format!(
            "no DET plot written to {}: it needs both genuine and impostor pairs",
            path.display()
        ));
        return Ok(());
    }
    let errors = metrics::errors_at(s, threshold);
    plot::write_det_png(
        path,
        &DetPlot {
            det: &metrics::det_curve(s),
            auc: metrics::auc(s),
            genuine: g,
            impostor: i,
            threshold,
            operating_point: (rate(errors.false_accepts, i), rate(errors.false_rejects, g)),
            names: DetNames::RECOGNITION,
        },
    )
}

/// The fused template's operating point: the default FMR divided by the photos fused (the
/// rule of `Engine::fused_enrolment_template`), unless a threshold was given.
fn fused_matcher(
    engine: &Engine,
    n: usize,
    matcher: Matcher,
    source: &str,
    threshold: Option<f32>,
) -> Result<(Matcher, String), CliError> {
    match (threshold, &engine.embedder().spec().operating_points) {
        (None, Some(points)) if n > 1 => {
            let fmr = points.default_fmr / n as f64;
            Ok((
                Matcher::new(engine.matcher_at(fmr)?.threshold())?,
                format!("the point for FMR {:e} / {n} photos", points.default_fmr),
            ))
        }
        _ => Ok((matcher, source.to_string())),
    }
}

/// `--enrol-photos N`: enrolment from several photos against enrolment from one.
///
/// Three ways to enrol, on the same probes: the first photo alone; N photos as N templates,
/// a person scored by the best of them (what a gallery does with several templates of one
/// person); N photos fused into one template (their unit-length mean, as
/// `Engine::fused_enrolment_template` makes it), whose score is computed here from the
/// pairwise scores: `probe · Σt / |Σt|`.
fn enrolment_protocol(
    photos: &[Photo],
    templates: &Templates,
    n: usize,
    matcher: Matcher,
    source: &str,
    point: (Matcher, String),
    args: &EvalArgs,
) -> Result<(), CliError> {
    // Each identity's photos in file order.
    let mut by_identity: BTreeMap<&str, Vec<&Photo>> = BTreeMap::new();
    for p in photos {
        by_identity.entry(p.identity.as_str()).or_default().push(p);
    }
    // Enrolled: the first n photos with a template that pass the enrolment gate; every photo
    // up to the last of them was offered for enrolment and is no probe.
    let mut enrolled: Vec<(&str, Vec<&ProbeTemplate<CliEvaluation>>, f32)> = Vec::new();
    let mut offered: HashSet<&str> = HashSet::new();
    let mut failed_to_enrol = Vec::new();
    for (identity, list) in &by_identity {
        let mut chosen = Vec::new();
        for p in list {
            if chosen.len() == n {
                break;
            }
            offered.insert(p.file.as_str());
            if let Some(t) = templates.get(&p.file) {
                if !templates.enrolment_refusals.contains_key(&p.file) {
                    chosen.push(t);
                }
            }
        }
        if chosen.is_empty() {
            failed_to_enrol.push(*identity);
            continue;
        }
        // |Σt|² = Σ_i Σ_j t_i · t_j.
        let mut norm2 = 0.0f32;
        for a in &chosen {
            for b in &chosen {
                norm2 += matcher.verify(*a, *b)?.score;
            }
        }
        enrolled.push((identity, chosen, norm2.max(f32::MIN_POSITIVE).sqrt()));
    }
    let mut single = Scores::default();
    let mut best = Scores::default();
    let mut fused = Scores::default();
    let (mut probes, mut lost_probes) = (0usize, 0usize);
    for p in photos.iter().filter(|p| !offered.contains(p.file.as_str())) {
        let Some(probe) = templates.get(&p.file) else {
            lost_probes += 1;
            continue;
        };
        probes += 1;
        for (identity, chosen, norm) in &enrolled {
            let mut scores = Vec::with_capacity(chosen.len());
            for t in chosen {
                scores.push(matcher.verify(*t, probe)?.score);
            }
            let same = *identity == p.identity.as_str();
            let fused_score = (scores.iter().sum::<f32>() / norm).clamp(-1.0, 1.0);
            let best_score = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            for (set, score) in [
                (&mut single, scores[0]),
                (&mut best, best_score),
                (&mut fused, fused_score),
            ] {
                if same {
                    set.genuine.push(score);
                } else {
                    set.impostor.push(score);
                }
            }
        }
    }
    let threshold = matcher.threshold();
    let (fused_matcher, fused_source) = point;
    if let Some(path) = &args.plot {
        det_plot(path, &fused, fused_matcher.threshold())?;
    }
    let mut out = String::new();
    let (refused, no_face) = templates.failures();
    let _ = writeln!(
        out,
        "photos: {}; failures to acquire: {} refused by the probe quality gate{}, {} without a \
         usable face; {} below the enrolment gate",
        templates.by_path.len(),
        refused,
        reasons(templates),
        no_face,
        templates.enrolment_refusals.len()
    );
    let _ = writeln!(
        out,
        "enrolled: {} of {} people from up to {n} photo(s) each ({} failed to enrol{}); probes: {} \
         scored, {} failed to acquire",
        enrolled.len(),
        by_identity.len(),
        failed_to_enrol.len(),
        if failed_to_enrol.is_empty() {
            String::new()
        } else {
            format!(": {}", failed_to_enrol.join(", "))
        },
        probes,
        lost_probes
    );
    let _ = writeln!(
        out,
        "-- enrolled from 1 photo (the first of each person's):"
    );
    report_scores(&mut out, &single, threshold, source);
    let _ = writeln!(
        out,
        "-- enrolled from up to {n} photos as {n} templates, scored by the best of them:"
    );
    report_scores(&mut out, &best, threshold, source);
    let _ = writeln!(
        out,
        "-- enrolled from up to {n} photos fused into one template:"
    );
    report_scores(&mut out, &fused, threshold, source);
    if fused_matcher != matcher {
        let e = metrics::errors_at(&fused, fused_matcher.threshold());
        let _ = writeln!(
            out,
            "at threshold {} ({fused_source}): FMR {}/{} = {:.6} (95% upper bound {:.6})  FNMR \
             {}/{} = {:.6}",
            shared::format_threshold(fused_matcher.threshold()),
            e.false_accepts,
            fused.impostor.len(),
            rate(e.false_accepts, fused.impostor.len()),
            fmr_upper_bound(e.false_accepts as u64, fused.impostor.len() as u64),
            e.false_rejects,
            fused.genuine.len(),
            rate(e.false_rejects, fused.genuine.len())
        );
    }
    let comparisons = (probes + lost_probes) * enrolled.len();
    summary_line(
        &mut out,
        comparisons,
        lost_probes * enrolled.len(),
        &fused,
        fused_matcher.threshold(),
    );
    shared::emit(&out)
}
