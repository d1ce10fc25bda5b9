//! `bench`: time per stage on one image, decoding excluded, on one thread.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faceguard::{decode_file, ConsentLedger, Engine};

use crate::shared::{self, CliError, CliEvaluation, NOTICE};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Image file to time the pipeline on; its largest face is aligned and embedded.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// Timed runs of each stage (after the first detection, reported apart).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub iterations: u32,
}

/// Milliseconds of a list of runs.
struct Timing {
    runs: Vec<f64>,
}

impl Timing {
    fn mean(&self) -> f64 {
        self.runs.iter().sum::<f64>() / self.runs.len().max(1) as f64
    }

    fn median(&self) -> f64 {
        median(&self.runs)
    }

    fn min(&self) -> f64 {
        self.runs.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Runs `f` `n` times, timing each run.
fn time_runs(n: u32, mut f: impl FnMut() -> Result<f64, CliError>) -> Result<Timing, CliError> {
    let runs = (0..n)
        .map(|_| f())
        .collect::<Result<Vec<f64>, CliError>>()?;
    Ok(Timing { runs })
}

pub fn run(models: Option<&Path>, args: &BenchArgs) -> Result<(), CliError> {
    let image = decode_file(&args.image)?;
    let view = image.view();
    let dir = shared::models_dir(models)?;
    let n = args.iterations;

    let start = Instant::now();
    let engine = Engine::from_dir(&dir)?;
    let load_ms = ms(start);

    // The first detection at a new size also prepares the model for that size.
    let start = Instant::now();
    let faces = engine.detect(&view)?;
    let detect_first_ms = ms(start);
    let face = shared::largest_face(&faces).cloned().ok_or_else(|| {
        CliError::new(format!(
            "no face found in {}: alignment and embedding need one",
            args.image.display()
        ))
    })?;

    let detect = time_runs(n, || {
        let start = Instant::now();
        engine.detect(&view)?;
        Ok(ms(start))
    })?;
    let align = time_runs(n, || {
        let start = Instant::now();
        engine.align(&view, &face)?;
        Ok(ms(start))
    })?;
    let ledger = ConsentLedger::new();
    // `probe_template` = consent check + alignment + embedding; the consent is issued outside
    // the timed part. Embedding alone is not public API: it is reported as template - align.
    let template = time_runs(n, || {
        let consent = ledger.probe_consent::<CliEvaluation>(NOTICE)?;
        let start = Instant::now();
        let t = engine.probe_template(consent, &view, &face)?;
        let elapsed = ms(start);
        drop(t);
        Ok(elapsed)
    })?;
    let embed_median = (template.median() - align.median()).max(0.0);
    let embed_mean = (template.mean() - align.mean()).max(0.0);
    let peak = peak_rss_mib();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "image {} ({}x{}), {} face(s), {n} iteration(s), single-threaded, decode excluded",
        args.image.display(),
        image.width(),
        image.height(),
        faces.len()
    );
    let _ = writeln!(
        out,
        "{:<34} {:>10} {:>10} {:>10}",
        "stage", "mean ms", "median ms", "min ms"
    );
    let once = |out: &mut String, name: &str, v: f64| {
        let _ = writeln!(out, "{name:<34} {v:>10.2} {:>10} {:>10}", "-", "-");
    };
    let row = |out: &mut String, name: &str, t: &Timing| {
        let _ = writeln!(
            out,
            "{name:<34} {:>10.2} {:>10.2} {:>10.2}",
            t.mean(),
            t.median(),
            t.min()
        );
    };
    once(&mut out, "model load (once)", load_ms);
    once(&mut out, "detection_first (prepares size)", detect_first_ms);
    row(&mut out, "detection", &detect);
    row(&mut out, "alignment", &align);
    row(&mut out, "template (align + embed)", &template);
    let _ = writeln!(
        out,
        "{:<34} {embed_mean:>10.2} {embed_median:>10.2} {:>10}",
        "embedding (template - alignment)", "-"
    );
    let peak_text = peak.map_or("unavailable".to_string(), |m| format!("{m:.1}"));
    let _ = writeln!(out, "peak resident memory: {peak_text} MiB");
    let _ = writeln!(
        out,
        "image={}x{} load_ms={load_ms:.2} detect_ms={:.2} align_ms={:.2} embed_ms={embed_median:.2} peak_rss_mib={peak_text}",
        image.width(),
        image.height(),
        detect.median(),
        align.median(),
    );
    shared::emit(&out)
}

/// Peak resident set size (VmHWM) of this process, in MiB; `None` where unknown.
fn peak_rss_mib() -> Option<f64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
