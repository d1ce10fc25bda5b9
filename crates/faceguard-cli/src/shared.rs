//! What the commands share: errors, the models directory, the CLI's purpose and its consents,
//! and turning an image file into the template of its subject.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use faceguard::{
    liveness::LivenessPolicy, ConsentLedger, DecodedImage, Detector, DetectorConfig, Engine, Face,
    ProbeTemplate, Purpose, DETECTOR_FILE, FETCH_HINT,
};

/// The purpose of every template this tool computes: evaluating the pipeline on image files
/// given on the command line.
pub enum CliEvaluation {}

impl Purpose for CliEvaluation {
    const NAME: &'static str = "cli-evaluation";
    /// `eval` holds the probe template of every image until all pairs are scored, which on a
    /// large pairs file takes longer than the default minute. The templates never leave the
    /// process and are wiped when it ends.
    const PROBE_VALIDITY: Duration = Duration::from_secs(24 * 3600);
    /// The images are photo files by nature, never live captures: this purpose measures
    /// recognition on them, and `faceguard liveness` / `eval-liveness` measure liveness.
    const ENROLMENT_LIVENESS: LivenessPolicy = LivenessPolicy::Waived {
        reason: "evaluation of recognition on photo files, which are not live captures",
    };
    /// As for enrolment.
    const PROBE_LIVENESS: LivenessPolicy = LivenessPolicy::Waived {
        reason: "evaluation of recognition on photo files, which are not live captures",
    };
}

/// The notice under which the probe consents of this tool are given: running the command on
/// the images is the person's (the operator's) act of consent for these computations.
pub const NOTICE: &str = "faceguard command line: the faces in the images named on the command \
line are turned into templates only to compute the results printed by this command; the \
templates stay in memory and are wiped when the command ends.";

/// A command's failure: one line of text for `error: <message>`.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Any library or I/O error becomes its message, with the causes that the message does not
/// already quote.
impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        CliError(message)
    }
}

/// Prints `error: <message>` on one line of stderr (newlines in the message are folded).
pub fn report_error(message: &str) {
    let line = one_line(message);
    let _ = writeln!(std::io::stderr().lock(), "error: {line}");
}

/// Prints `warning: <message>` on one line of stderr.
pub fn report_warning(message: &str) {
    let line = one_line(message);
    let _ = writeln!(std::io::stderr().lock(), "warning: {line}");
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes `text` to stdout, reporting a closed pipe as an error instead of panicking.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::new(format!("cannot write to stdout: {e}")))
}

/// The repository this tool was built from (crates/faceguard-cli/../..): where
/// `scripts/fetch-models.sh` puts `models/`, beside `../shared/data`.
pub fn repository() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().and_then(Path::parent).unwrap_or(manifest)
}

/// The models directory: `--models`, else `./models`, else the repository's `models/`.
pub fn models_dir(option: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(dir) = option {
        return if dir.is_dir() {
            Ok(dir.to_path_buf())
        } else {
            Err(CliError::new(format!(
                "models directory {} not found: {FETCH_HINT}",
                dir.display()
            )))
        };
    }
    let local = PathBuf::from("models");
    if local.is_dir() {
        return Ok(local);
    }
    let bundled = repository().join("models");
    if bundled.is_dir() {
        return Ok(bundled);
    }
    Err(CliError::new(format!(
        "no models directory: neither ./models nor {} exists (or pass --models DIR): {FETCH_HINT}",
        bundled.display()
    )))
}

/// Loads the detector and the embedder.
pub fn load_engine(models: Option<&Path>) -> Result<Engine, CliError> {
    let dir = models_dir(models)?;
    Ok(Engine::from_dir(&dir)?)
}

/// Loads the detector only (for `detect`).
pub fn load_detector(models: Option<&Path>) -> Result<Detector, CliError> {
    let dir = models_dir(models)?;
    Ok(Detector::from_path(
        dir.join(DETECTOR_FILE),
        DetectorConfig::default(),
    )?)
}

/// The subject of a photo: its largest face by box area (the strongest of equal ones).
pub fn largest_face(faces: &[Face]) -> Option<&Face> {
    faces.iter().reduce(|best, f| {
        if f.bbox.area() > best.bbox.area() {
            f
        } else {
            best
        }
    })
}

/// The probe template of the subject of an already decoded `image` (read from `path`).
pub fn template_of(
    engine: &Engine,
    ledger: &ConsentLedger,
    image: &DecodedImage,
    path: &Path,
) -> Result<ProbeTemplate<CliEvaluation>, CliError> {
    let face = subject(engine, image, path)?;
    let consent = ledger.probe_consent::<CliEvaluation>(NOTICE)?;
    Ok(engine.probe_template(consent, &image.view(), &face)?)
}

/// The largest face in `image`, or an error naming the file.
pub fn subject(engine: &Engine, image: &DecodedImage, path: &Path) -> Result<Face, CliError> {
    let faces = engine.detect(&image.view())?;
    largest_face(&faces).cloned().ok_or_else(|| {
        CliError::new(format!(
            "no face found in {} ({}x{})",
            path.display(),
            image.width(),
            image.height()
        ))
    })
}

/// The directory image paths are relative to: `root`, else the input file's directory.
pub fn data_root(root: Option<&Path>, input: &Path) -> Result<PathBuf, CliError> {
    let root = match root {
        Some(root) => root.to_path_buf(),
        None => input.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    if !root.as_os_str().is_empty() && !root.is_dir() {
        return Err(CliError::new(format!(
            "root directory {} not found",
            root.display()
        )));
    }
    Ok(root)
}

/// Whether a file can be created at `path`: its directory must exist.
pub fn check_writable(path: &Path) -> Result<(), CliError> {
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

/// Parses a decision threshold for clap: a cosine similarity in -1..=1.
pub fn parse_threshold(text: &str) -> Result<f32, String> {
    let t: f32 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (-1.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "{t} is not a cosine similarity: it must be in -1..=1"
        ))
    }
}

/// A threshold with 4 decimals, or more when 4 would not give it back exactly.
pub fn format_threshold(t: f32) -> String {
    let short = format!("{t:.4}");
    if short.parse::<f32>() == Ok(t) {
        short
    } else {
        format!("{t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_print_with_four_decimals_unless_more_are_needed() {
        assert_eq!(format_threshold(0.42), "0.4200");
        assert_eq!(format_threshold(-1.0), "-1.0000");
        assert_eq!(format_threshold(0.123456), "0.123456");
    }

    #[test]
    fn thresholds_outside_cosine_range_are_refused() {
        assert!(parse_threshold("1.5").is_err());
        assert!(parse_threshold("abc").is_err());
        assert_eq!(parse_threshold(" 0.5 "), Ok(0.5));
    }
}
