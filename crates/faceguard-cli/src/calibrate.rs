//! `calibrate`: an embedder's operating points from labelled photos, written into its JSON
//! description.
//!
//! Each input file is a population (named after its directory); each group of an identities
//! file with a `group` column is a population of its own. For each target false-match rate,
//! the threshold is the highest any population needs to keep the 95 % upper confidence bound
//! of its FMR at or below the target ([`faceguard::matching::calibrate`]), so that it holds on
//! every population measured; a target no population has the impostor pairs to show is not
//! claimed.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use faceguard::matching::{self, pairs_needed, PopulationScores};
use faceguard::{
    ConsentLedger, Detector, DetectorConfig, Embedder, EmbedderSpec, Engine, Matcher,
    DEFAULT_TARGET_FMR, DETECTOR_FILE, EMBEDDER_FILE, EMBEDDER_SPEC_FILE,
};

use crate::dataset::{self, Templates};
use crate::metrics::Scores;
use crate::pairs;
use crate::shared::{self, CliError};

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).multiple(true).args(["pairs", "identities"]))]
pub struct CalibrateArgs {
    /// An identities file (`file,identity[,group]`): every pair of its photos is scored. A
    /// population named after the file (or its directory, for `identities.csv`); with a
    /// group column, each group is one too.
    /// Repeat for several populations.
    #[arg(long, value_name = "IDS.csv")]
    pub identities: Vec<PathBuf>,
    /// A pairs file (`a,b,same`): a population named after the file (or its directory, for
    /// `pairs*.csv`). Repeatable.
    #[arg(long, value_name = "PAIRS.csv")]
    pub pairs: Vec<PathBuf>,
    /// Directory the image paths are relative to [default: each input file's directory].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// A target false-match rate to calibrate; repeatable [default: 1e-3, 1e-4, 1e-5].
    #[arg(long = "target-fmr", value_name = "FMR", value_parser = parse_fmr)]
    pub target_fmr: Vec<f64>,
    /// The target of the default operating point.
    #[arg(long, value_name = "FMR", value_parser = parse_fmr, default_value_t = DEFAULT_TARGET_FMR)]
    pub default_fmr: f64,
    /// The embedder description to calibrate: the embedder (the models directory's ONNX file)
    /// is run as it says [default: fr_feature.json in the models directory].
    #[arg(long, value_name = "SPEC.json")]
    pub spec: Option<PathBuf>,
    /// Where to write the description with the new operating points (may be --spec itself).
    #[arg(long, value_name = "OUT.json")]
    pub out: PathBuf,
    /// Calibrate without the probe quality gate (only for an engine run without it).
    #[arg(long)]
    pub no_quality: bool,
}

fn parse_fmr(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!(
            "{v} is not a false-match rate: it must be in (0, 1)"
        ))
    }
}

/// One population's scores.
struct Population {
    name: String,
    photos: usize,
    failed: usize,
    scores: Scores,
}

pub fn run(models: Option<&Path>, args: &CalibrateArgs) -> Result<(), CliError> {
    let spec_path = match &args.spec {
        Some(p) => p.clone(),
        None => shared::models_dir(models)?.join(EMBEDDER_SPEC_FILE),
    };
    let mut spec = EmbedderSpec::from_file(&spec_path)?;
    shared::check_writable(&args.out)?;
    // The embedder as this description says to run it (its normalisation, its alignment),
    // with its operating points to come.
    let dir = shared::models_dir(models)?;
    let detector = Detector::from_path(dir.join(DETECTOR_FILE), DetectorConfig::default())?;
    let embedder = Embedder::from_path(dir.join(EMBEDDER_FILE), spec.clone())?;
    let model = embedder.model_id();
    let mut engine = Engine::new(detector, embedder);
    if args.no_quality {
        engine = dataset::without_quality(engine);
    }
    let ledger = ConsentLedger::new();
    // Any threshold, bound to no model: only the scores are used.
    let matcher = Matcher::new(0.0)?;

    let mut populations: Vec<Population> = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let inputs = args
        .identities
        .iter()
        .map(|p| (p, true))
        .chain(args.pairs.iter().map(|p| (p, false)));
    for (input, is_identities) in inputs {
        let text = std::fs::read_to_string(input)
            .map_err(|e| CliError::new(format!("cannot read {}: {e}", input.display())))?;
        let origin = input.display().to_string();
        let root = shared::data_root(args.root.as_deref(), input)?;
        let mut name = population_name(input);
        let seen = names.entry(name.clone()).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            name = format!("{name}#{seen}");
        }
        let (pairs, groups) = if is_identities {
            let photos = dataset::parse_identities(&text, &origin)?;
            (dataset::all_pairs(&photos), dataset::groups(&photos))
        } else {
            (pairs::parse_pairs(&text, &origin)?, HashMap::new())
        };
        let mut paths: Vec<&str> = Vec::new();
        for p in &pairs {
            paths.push(&p.a);
            paths.push(&p.b);
        }
        let templates = Templates::compute(&engine, &ledger, &root, &paths);
        let (refused, no_face) = templates.failures();
        let mut whole = Scores::default();
        let mut by_group: std::collections::BTreeMap<String, Scores> = Default::default();
        for p in &pairs {
            let (Some(a), Some(b)) = (templates.get(&p.a), templates.get(&p.b)) else {
                continue;
            };
            let s = matcher.verify(a, b)?.score;
            let target = |sc: &mut Scores| {
                if p.same {
                    sc.genuine.push(s);
                } else {
                    sc.impostor.push(s);
                }
            };
            target(&mut whole);
            if let (Some(ga), Some(gb)) = (groups.get(&p.a), groups.get(&p.b)) {
                if ga == gb {
                    target(by_group.entry(ga.clone()).or_default());
                }
            }
        }
        let photos = templates.by_path.len();
        populations.push(Population {
            name: name.clone(),
            photos,
            failed: refused + no_face,
            scores: whole,
        });
        // One group only is the population itself.
        if by_group.len() < 2 {
            by_group.clear();
        }
        for (g, scores) in by_group {
            populations.push(Population {
                name: format!("{name}/{g}"),
                photos: 0,
                failed: 0,
                scores,
            });
        }
    }

    let scores: Vec<PopulationScores> = populations
        .iter()
        .map(|p| PopulationScores {
            name: &p.name,
            genuine: &p.scores.genuine,
            impostor: &p.scores.impostor,
        })
        .collect();
    let targets = if args.target_fmr.is_empty() {
        vec![1e-3, 1e-4, 1e-5]
    } else {
        args.target_fmr.clone()
    };
    let data = describe(&populations, args.no_quality);
    let points = matching::calibrate(model, &scores, &targets, args.default_fmr, &data)?;

    let mut out = String::new();
    for p in &populations {
        let _ = write!(out, "population {}: ", p.name);
        if p.photos > 0 {
            let _ = write!(
                out,
                "{} photos ({} failed to acquire), ",
                p.photos, p.failed
            );
        }
        let _ = writeln!(
            out,
            "{} genuine and {} impostor pairs",
            p.scores.genuine.len(),
            p.scores.impostor.len()
        );
    }
    let mut all_targets = targets.clone();
    all_targets.push(args.default_fmr);
    all_targets.sort_by(|a, b| b.total_cmp(a));
    all_targets.dedup();
    for &target in &all_targets {
        let Some(point) = points.points.iter().find(|p| p.fmr == target) else {
            let largest = scores.iter().map(|s| s.impostor.len()).max().unwrap_or(0);
            let _ = writeln!(
                out,
                "FMR {target:e}: not claimed: showing it needs at least {} impostor pairs in one \
                 population, the largest has {largest}",
                pairs_needed(target)
            );
            continue;
        };
        let setter = scores
            .iter()
            .filter(|s| {
                matching::calibrate(model, std::slice::from_ref(*s), &[target], target, "")
                    .ok()
                    .and_then(|p| p.points.first().map(|q| q.threshold))
                    == Some(point.threshold)
            })
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "FMR {target:e}: threshold {:.4} (set by {setter})",
            point.threshold
        );
        for m in &point.measured {
            let _ = writeln!(
                out,
                "  {:<28} FMR {:>5}/{:<7} = {:.6} (95% upper bound {:.6}{})  FNMR {:>5}/{:<6} = {:.4}",
                m.population,
                m.false_matches,
                m.impostor_pairs,
                m.fmr(),
                m.fmr_upper,
                if m.supports(target) {
                    ""
                } else {
                    ": too few pairs to show the target"
                },
                m.false_non_matches,
                m.genuine_pairs,
                m.fnmr()
            );
        }
    }
    let default = points
        .default_threshold(&spec.name)
        .map_err(CliError::from)?;
    spec.operating_points = Some(points.clone());
    spec.validate()?;
    let json = serde_json::to_string_pretty(&spec)
        .map_err(|e| CliError::new(format!("cannot encode the description: {e}")))?;
    std::fs::write(&args.out, json + "\n")
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", args.out.display())))?;
    let _ = writeln!(out, "wrote {}", args.out.display());
    let _ = writeln!(
        out,
        "calibrated default_fmr={} threshold={} points={}",
        points.default_fmr,
        shared::format_threshold(default),
        points.points.len()
    );
    shared::emit(&out)
}

/// A population's name: the file's stem (`faces-eastasia.csv` → `faces-eastasia`), or its
/// directory's name for the usual generic names (`identities.csv`, `pairs*.csv`).
fn population_name(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let generic = stem.is_empty() || stem == "identities" || stem.starts_with("pairs");
    let dir = input
        .parent()
        .and_then(|d| d.file_name())
        .map(|d| d.to_string_lossy().into_owned());
    match (generic, dir) {
        (true, Some(dir)) => dir,
        _ if !stem.is_empty() => stem,
        _ => "data".into(),
    }
}

/// What the points were measured on, for the description's `data` field.
fn describe(populations: &[Population], no_quality: bool) -> String {
    let parts: Vec<String> = populations
        .iter()
        .map(|p| {
            format!(
                "{} ({} genuine, {} impostor pairs)",
                p.name,
                p.scores.genuine.len(),
                p.scores.impostor.len()
            )
        })
        .collect();
    format!(
        "faceguard {} calibrate, every pair of each set{}: {}",
        env!("CARGO_PKG_VERSION"),
        if no_quality {
            ", no quality gate"
        } else {
            ", probe quality gate on"
        },
        parts.join("; ")
    )
}
