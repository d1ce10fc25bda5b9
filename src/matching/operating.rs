//! Operating points: the decision threshold for a target false-match rate, measured on
//! labelled data and carried in the embedder's description.
//!
//! A cosine threshold means nothing by itself: the same 0.41 that mistakes one stranger in
//! 1,700 on one population mistakes one in a hundred on another. What a deployment can
//! promise is a false-match rate (FMR), so a purpose asks for one
//! ([`Purpose::TARGET_FMR`](crate::Purpose::TARGET_FMR)) and the embedder's calibration
//! answers with the threshold that keeps it on every population it was measured on
//! ([`OperatingPoints::threshold_for`]). [`calibrate`](super::calibrate()) makes these entries
//! from scores; `faceguard calibrate` from photos.

use serde::{Deserialize, Serialize};

use super::MatchError;

/// The false-match rate a purpose asks for unless it says otherwise: one impostor in a
/// thousand accepted.
pub const DEFAULT_TARGET_FMR: f64 = 1e-3;

/// How one population scored at an operating point's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// The population (a data set, or one group of it, e.g. `faces-eastasia/idol`).
    pub population: String,
    /// Impostor (different-person) pairs scored.
    pub impostor_pairs: u64,
    /// Impostor pairs at or above the threshold.
    pub false_matches: u64,
    /// One-sided 95 % upper confidence bound of the FMR (Clopper-Pearson): what the data
    /// can promise, never less than about 3 / `impostor_pairs`.
    pub fmr_upper: f64,
    /// Genuine (same-person) pairs scored.
    pub genuine_pairs: u64,
    /// Genuine pairs below the threshold.
    pub false_non_matches: u64,
}

impl Measurement {
    /// The measured false-match rate (`NaN` without impostor pairs).
    pub fn fmr(&self) -> f64 {
        ratio(self.false_matches, self.impostor_pairs)
    }

    /// The measured false-non-match rate (`NaN` without genuine pairs).
    pub fn fnmr(&self) -> f64 {
        ratio(self.false_non_matches, self.genuine_pairs)
    }

    /// Whether this population's data can support `target`: its upper bound is at most
    /// `target`.
    pub fn supports(&self, target: f64) -> bool {
        self.fmr_upper <= target
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        f64::NAN
    } else {
        n as f64 / d as f64
    }
}

/// The threshold for one target FMR, with what it gave on each population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingPoint {
    /// The target false-match rate, e.g. `0.001`.
    pub fmr: f64,
    /// The decision threshold on cosine similarity: the highest any population needed to
    /// keep its FMR's upper confidence bound at or below `fmr`.
    pub threshold: f32,
    /// Each population at `threshold`.
    #[serde(default)]
    pub measured: Vec<Measurement>,
}

/// An embedder's operating points, as its JSON description carries them under
/// `"operating_points"`.
///
/// ```
/// use faceguard::{OperatingPoint, OperatingPoints};
/// use faceguard::matching::{fmr_upper_bound, Measurement};
/// // What a vendor's calibration showed on 40,000 impostor pairs of its gate photos.
/// let shown = |false_matches: u64| vec![Measurement {
///     population: "gate photos".into(),
///     impostor_pairs: 40_000,
///     false_matches,
///     fmr_upper: fmr_upper_bound(false_matches, 40_000),
///     genuine_pairs: 2_000,
///     false_non_matches: 90,
/// }];
/// let points = OperatingPoints {
///     model: "0123456789abcdef".into(),
///     default_fmr: 1e-3,
///     data: "vendor gate photos, 2026-11".into(),
///     points: vec![
///         OperatingPoint { fmr: 1e-3, threshold: 0.52, measured: shown(20) },
///         OperatingPoint { fmr: 1e-4, threshold: 0.61, measured: shown(0) },
///     ],
/// };
/// points.validate().unwrap();
/// // A purpose asking for 1e-3 gets 0.52; one asking for 5e-4 gets the stricter 1e-4 point.
/// assert_eq!(points.threshold_for(1e-3, "vendor").unwrap(), 0.52);
/// assert_eq!(points.threshold_for(5e-4, "vendor").unwrap(), 0.61);
/// // Nothing here promises 1e-5.
/// assert!(points.threshold_for(1e-5, "vendor").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingPoints {
    /// The model the points were measured on: its [`ModelId`](crate::ModelId) in hex (the
    /// first 8 bytes of the ONNX file's SHA-256). [`Engine::matcher`](crate::Engine::matcher)
    /// uses the points only for that model: another ONNX file under the same description
    /// gets no threshold from them.
    pub model: String,
    /// The FMR of the default operating point (what [`Matcher::default`](super::Matcher)
    /// uses for the bundled embedder).
    pub default_fmr: f64,
    /// What the points were measured on (data sets, sizes, quality gate).
    #[serde(default)]
    pub data: String,
    /// One entry per target FMR.
    pub points: Vec<OperatingPoint>,
}

impl OperatingPoints {
    /// The threshold for a purpose asking for false-match rate `fmr` or less: the point with
    /// the largest target that is still at most `fmr` (a stricter point serves a laxer
    /// request; a laxer one never serves a stricter request). `model` names the embedder in
    /// the error.
    pub fn threshold_for(&self, fmr: f64, model: &str) -> Result<f32, MatchError> {
        Ok(self.point_for(fmr, model)?.threshold)
    }

    /// The operating point [`threshold_for`](Self::threshold_for) takes its threshold from.
    pub fn point_for(&self, fmr: f64, model: &str) -> Result<&OperatingPoint, MatchError> {
        check_fmr(fmr)?;
        self.points
            .iter()
            .filter(|p| p.fmr <= fmr)
            .max_by(|a, b| a.fmr.total_cmp(&b.fmr))
            .ok_or_else(|| MatchError::Uncalibrated {
                model: model.to_string(),
                fmr,
            })
    }

    /// The threshold of the default operating point.
    pub fn default_threshold(&self, model: &str) -> Result<f32, MatchError> {
        self.threshold_for(self.default_fmr, model)
    }

    /// Checks the entries: a model id of 16 hex digits; targets in (0, 1), thresholds in
    /// -1..=1, one point per target, a stricter target never with a laxer threshold, a point
    /// for the default target; and each point's measurements: they add up (counts within
    /// their totals, the upper bound the one the counts give), at least one population shows
    /// the target (its upper bound at or below it), and so does every population with the
    /// pairs to show it.
    pub fn validate(&self) -> Result<(), String> {
        if self.model.len() != 16 || !self.model.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "model `{}` is not a model id (16 hex digits: the first 8 bytes of the ONNX \
                 file's SHA-256)",
                self.model
            ));
        }
        if check_fmr(self.default_fmr).is_err() {
            return Err(format!(
                "default_fmr {} is not a rate in (0, 1)",
                self.default_fmr
            ));
        }
        for (i, p) in self.points.iter().enumerate() {
            if check_fmr(p.fmr).is_err() {
                return Err(format!(
                    "operating point fmr {} is not a rate in (0, 1)",
                    p.fmr
                ));
            }
            if !(-1.0..=1.0).contains(&p.threshold) {
                return Err(format!(
                    "operating point threshold {} is not a cosine similarity",
                    p.threshold
                ));
            }
            if self.points[..i].iter().any(|q| q.fmr == p.fmr) {
                return Err(format!("two operating points for fmr {}", p.fmr));
            }
            let laxer_when_stricter =
                |a: &OperatingPoint, b: &OperatingPoint| a.fmr < b.fmr && a.threshold < b.threshold;
            if let Some(q) = self.points[..i]
                .iter()
                .find(|q| laxer_when_stricter(q, p) || laxer_when_stricter(p, q))
            {
                return Err(format!(
                    "operating points disagree: fmr {} has threshold {} but fmr {} has {}; a \
                     stricter rate needs a higher threshold",
                    q.fmr, q.threshold, p.fmr, p.threshold
                ));
            }
            check_measured(p)?;
        }
        if !self.points.iter().any(|p| p.fmr == self.default_fmr) {
            return Err(format!(
                "no operating point for default_fmr {}",
                self.default_fmr
            ));
        }
        Ok(())
    }
}

/// The most impostor pairs a measurement may claim.
const MAX_PAIRS: u64 = 1_000_000_000_000;
/// The most false matches a measurement may claim (its bound costs one term per match).
const MAX_FALSE_MATCHES: u64 = 1_000_000;

/// A point's measurements add up, and they show its target.
fn check_measured(p: &OperatingPoint) -> Result<(), String> {
    for m in &p.measured {
        // Beyond these, checking the bound would take minutes: no calibration needs them.
        if m.impostor_pairs > MAX_PAIRS || m.false_matches > MAX_FALSE_MATCHES {
            return Err(format!(
                "population {} of the fmr {} point claims {} impostor pairs with {} matches: \
                 at most {MAX_PAIRS} pairs and {MAX_FALSE_MATCHES} matches are taken",
                m.population, p.fmr, m.impostor_pairs, m.false_matches
            ));
        }
        if m.false_matches > m.impostor_pairs || m.false_non_matches > m.genuine_pairs {
            return Err(format!(
                "population {} of the fmr {} point counts more errors than pairs",
                m.population, p.fmr
            ));
        }
        let bound = super::fmr_upper_bound(m.false_matches, m.impostor_pairs);
        // A NaN claim fails this too: it is not within any distance of the bound.
        let close = (m.fmr_upper - bound).abs() <= 1e-6 * bound.max(1e-9);
        if !close {
            return Err(format!(
                "population {} of the fmr {} point claims an upper bound {} where {} matches in \
                 {} pairs give {bound}",
                m.population, p.fmr, m.fmr_upper, m.false_matches, m.impostor_pairs
            ));
        }
    }
    if !p.measured.iter().any(|m| m.supports(p.fmr)) {
        return Err(format!(
            "no population measured for the fmr {} point shows that rate (an operating point \
             needs the measurement that supports it: `faceguard calibrate` writes them)",
            p.fmr
        ));
    }
    // The threshold is the highest any population needed: every population with the pairs
    // to show the target shows it there.
    if let Some(m) = p
        .measured
        .iter()
        .find(|m| m.impostor_pairs >= super::pairs_needed(p.fmr) && !m.supports(p.fmr))
    {
        return Err(format!(
            "population {} has the pairs to show fmr {} but its upper bound is {}: the \
             threshold {} does not hold there",
            m.population, p.fmr, m.fmr_upper, p.threshold
        ));
    }
    Ok(())
}

/// A false-match rate must be a number in (0, 1).
pub(crate) fn check_fmr(fmr: f64) -> Result<(), MatchError> {
    if fmr > 0.0 && fmr < 1.0 {
        Ok(())
    } else {
        Err(MatchError::InvalidFmr(fmr))
    }
}
