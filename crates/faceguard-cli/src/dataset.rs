//! Labelled photo sets for `eval` and `calibrate`: the identities file (`file,identity`, an
//! optional `group`), and the template of each photo, or why there is none.
//!
//! Every photo is turned into a template once, through the engine's probe quality gate as a
//! camera would: a photo the gate refuses, or with no usable face, is a failure to acquire
//! (ISO/IEC 19795-1), counted and reported, never silently dropped.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use faceguard::{ConsentLedger, Engine, Error, ProbeTemplate, QualityError, QualityPolicy};
use indicatif::{ProgressBar, ProgressStyle};

use crate::pairs::{line_error, read_table, Pair};
use crate::shared::{self, report_warning, CliError, CliEvaluation};

/// One row of an identities file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub file: String,
    pub identity: String,
    /// The demographic (or any other) group, when the file has a `group` column.
    pub group: Option<String>,
}

/// Parses an identities file: a header naming at least `file` and `identity` (in any order,
/// any case; a `group` column is used when present, other columns are ignored), then one
/// photo per line. `origin` names it in errors.
pub fn parse_identities(text: &str, origin: &str) -> Result<Vec<Photo>, CliError> {
    let table = read_table(
        text,
        origin,
        "a header line `file,identity[,group]` and one photo per line",
    )?;
    let err = |line: usize, what: String| line_error(origin, line, what);
    let (Some(ifile), Some(iid)) = (table.column("file"), table.column("identity")) else {
        return Err(err(
            table.header_line,
            format!(
                "the header must name the columns file,identity (and optionally group), found \
                 `{}`",
                table.header
            ),
        ));
    };
    let igroup = table.column("group");
    let mut photos = Vec::with_capacity(table.rows.len());
    let mut seen = HashMap::new();
    for (n, fields) in &table.rows {
        let n = *n;
        let field = |i: usize, name: &str| {
            let v = fields[i].trim();
            if v.is_empty() {
                Err(err(n, format!("column `{name}` is empty")))
            } else {
                Ok(v.to_string())
            }
        };
        let photo = Photo {
            file: field(ifile, "file")?,
            identity: field(iid, "identity")?,
            group: igroup.map(|i| field(i, "group")).transpose()?,
        };
        if let Some(first) = seen.insert(photo.file.clone(), n) {
            return Err(err(
                n,
                format!("{} is listed twice (first on line {first})", photo.file),
            ));
        }
        photos.push(photo);
    }
    if photos.is_empty() {
        return Err(CliError::new(format!("{origin} lists no photo")));
    }
    Ok(photos)
}

/// Every pair of `photos`, in file order, labelled by identity.
pub fn all_pairs(photos: &[Photo]) -> Vec<Pair> {
    let mut pairs = Vec::with_capacity(photos.len() * photos.len().saturating_sub(1) / 2);
    for (i, a) in photos.iter().enumerate() {
        for b in &photos[i + 1..] {
            pairs.push(Pair {
                a: a.file.clone(),
                b: b.file.clone(),
                same: a.identity == b.identity,
            });
        }
    }
    pairs
}

/// The group of each photo, for files with a group column.
pub fn groups(photos: &[Photo]) -> HashMap<String, String> {
    photos
        .iter()
        .filter_map(|p| p.group.clone().map(|g| (p.file.clone(), g)))
        .collect()
}

/// Why a photo has no template.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The probe quality gate refused the face (a failure to acquire).
    Quality(String),
    /// No usable face, or an unreadable file.
    NoFace(String),
}

/// The templates of a set of photos, each computed once.
pub struct Templates {
    pub by_path: HashMap<String, Result<ProbeTemplate<CliEvaluation>, Failure>>,
    /// Photos whose face fails the enrolment gate (its reason), for enrolment protocols.
    pub enrolment_refusals: HashMap<String, String>,
}

impl Templates {
    /// Computes the template of every path in `paths` (relative to `root`), in order, with a
    /// progress bar. The engine's probe gate applies; the enrolment gate is only assessed.
    pub fn compute(
        engine: &Engine,
        ledger: &ConsentLedger,
        root: &Path,
        paths: &[&str],
    ) -> Templates {
        let progress = ProgressBar::new(paths.len() as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} templates {pos}/{len} [{bar:40}] {elapsed_precise} eta {eta} {wide_msg}",
        ) {
            progress.set_style(style.progress_chars("=> "));
        }
        let (enrolment, _) = engine.quality_policies();
        let mut by_path = HashMap::new();
        let mut enrolment_refusals = HashMap::new();
        for path in paths {
            if by_path.contains_key(*path) {
                continue;
            }
            progress.set_message(path.to_string());
            let result = one(engine, ledger, &root.join(path), enrolment);
            let result = match result {
                Ok((t, refusal)) => {
                    if let Some(r) = refusal {
                        enrolment_refusals.insert(path.to_string(), r);
                    }
                    Ok(t)
                }
                Err(f) => {
                    let why = match &f {
                        Failure::Quality(m) | Failure::NoFace(m) => m.clone(),
                    };
                    progress.suspend(|| report_warning(&format!("no template for {path}: {why}")));
                    Err(f)
                }
            };
            by_path.insert(path.to_string(), result);
            progress.inc(1);
        }
        progress.finish_and_clear();
        Templates {
            by_path,
            enrolment_refusals,
        }
    }

    pub fn get(&self, path: &str) -> Option<&ProbeTemplate<CliEvaluation>> {
        self.by_path.get(path).and_then(|r| r.as_ref().ok())
    }

    /// Counts of photos without a template: (refused by the quality gate, without a face).
    pub fn failures(&self) -> (usize, usize) {
        let mut quality = 0;
        let mut no_face = 0;
        for r in self.by_path.values() {
            match r {
                Err(Failure::Quality(_)) => quality += 1,
                Err(Failure::NoFace(_)) => no_face += 1,
                Ok(_) => {}
            }
        }
        (quality, no_face)
    }

    /// How the quality gate's refusals break down by reason (the message up to its colon).
    pub fn quality_reasons(&self) -> BTreeMap<String, usize> {
        let mut reasons = BTreeMap::new();
        for r in self.by_path.values() {
            if let Err(Failure::Quality(m)) = r {
                let reason = m.split(':').next().unwrap_or(m).trim().to_string();
                *reasons.entry(reason).or_insert(0) += 1;
            }
        }
        reasons
    }
}

/// The template of the subject of one photo, and the enrolment gate's reason to refuse it.
fn one(
    engine: &Engine,
    ledger: &ConsentLedger,
    path: &Path,
    enrolment: QualityPolicy,
) -> Result<(ProbeTemplate<CliEvaluation>, Option<String>), Failure> {
    let image = faceguard::decode_file(path).map_err(|e| Failure::NoFace(e.to_string()))?;
    let face =
        shared::subject(engine, &image, path).map_err(|e| Failure::NoFace(e.message().into()))?;
    let refusal = match engine.assess(&image.view(), &face) {
        Ok(q) => enrolment.check(&q).err().map(|i| i.to_string()),
        Err(e) => Some(e.to_string()),
    };
    let consent = ledger
        .probe_consent::<CliEvaluation>(shared::NOTICE)
        .map_err(|e| Failure::NoFace(e.to_string()))?;
    match engine.probe_template(consent, &image.view(), &face) {
        Ok(t) => Ok((t, refusal)),
        Err(Error::Quality(QualityError::Probe(issue))) => Err(Failure::Quality(issue.to_string())),
        Err(e) => Err(Failure::NoFace(CliError::from(e).message().to_string())),
    }
}

/// The engine as `--no-quality` asks: every measurable face accepted.
pub fn without_quality(engine: Engine) -> Engine {
    engine.with_quality(QualityPolicy::accept_all(), QualityPolicy::accept_all())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_take_file_identity_and_an_optional_group_by_header_name() {
        let p = parse_identities(
            "identity,source,File\nalice,x,a.jpg\nbob,y,\"b,1.jpg\"\n",
            "ids.csv",
        )
        .unwrap();
        assert_eq!(p[1].file, "b,1.jpg");
        assert_eq!(p[0].group, None);
        let p = parse_identities("file,identity,group\na.jpg,alice,g1\n", "ids.csv").unwrap();
        assert_eq!(p[0].group.as_deref(), Some("g1"));
    }

    #[test]
    fn identities_errors_name_the_line() {
        let e = parse_identities("file,who\na,b\n", "ids.csv").unwrap_err();
        assert!(e.message().contains("line 1"), "{}", e.message());
        let e = parse_identities("file,identity\na.jpg,\n", "ids.csv").unwrap_err();
        assert!(e.message().contains("line 2"), "{}", e.message());
        let e = parse_identities("file,identity\na.jpg,x\na.jpg,y\n", "ids.csv").unwrap_err();
        assert!(e.message().contains("twice"), "{}", e.message());
        assert!(parse_identities("file,identity\n", "ids.csv").is_err());
    }
}
