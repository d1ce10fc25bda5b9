//! Calibration: operating points from genuine and impostor scores.
//!
//! For each target FMR and each population, the threshold is the lowest one whose impostor
//! matches `k` keep the one-sided 95 % Clopper-Pearson upper bound of the FMR at or below the
//! target; the operating point takes the highest of these thresholds, so that it holds on
//! every population measured. A population with too few impostor pairs to support a target
//! (the bound with no match at all is about 3 / N) does not set that point's threshold, and a
//! target no population supports gets no point: no FMR is claimed that the data cannot show.

use super::operating::{check_fmr, Measurement, OperatingPoint, OperatingPoints};
use super::MatchError;
use crate::model::ModelId;

/// The confidence of the upper bounds: one-sided 95 %.
pub const CONFIDENCE: f64 = 0.95;

/// The scores of one population (a data set, or one demographic group of it).
#[derive(Debug, Clone, Copy)]
pub struct PopulationScores<'a> {
    /// Its name in the report, e.g. `faces-eastasia/idol`.
    pub name: &'a str,
    /// Cosine similarities of same-person pairs.
    pub genuine: &'a [f32],
    /// Cosine similarities of different-person pairs.
    pub impostor: &'a [f32],
}

/// One-sided upper confidence bound (Clopper-Pearson, at [`CONFIDENCE`]) of a rate observed
/// as `k` events in `n` trials: the largest rate under which seeing `k` or fewer events is
/// still 5 % likely. With `k = 0` it is `1 - 0.05^(1/n)`, about `3 / n` (the rule of three).
/// 1 when `n = 0` (nothing is known).
pub fn fmr_upper_bound(k: u64, n: u64) -> f64 {
    if n == 0 || k >= n {
        return 1.0;
    }
    let alpha = 1.0 - CONFIDENCE;
    if k == 0 {
        return 1.0 - alpha.powf(1.0 / n as f64);
    }
    // P(X <= k) falls as p rises: bisect for P(X <= k; n, p) = alpha.
    let (mut lo, mut hi) = (k as f64 / n as f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if binomial_cdf(k, n, mid) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= hi * 1e-12 {
            break;
        }
    }
    hi
}

/// P(X <= k) for X ~ Binomial(n, p), summed in log space so that large `n` cannot underflow.
fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    let (ln_p, ln_q) = (p.ln(), (-p).ln_1p());
    let mut log_term = n as f64 * ln_q; // j = 0
                                        // Log-sum-exp kept as it goes (running maximum, sum scaled to it): no allocation.
    let (mut max, mut sum) = (log_term, 1.0f64);
    for j in 0..k.min(n) {
        log_term += ((n - j) as f64 / (j + 1) as f64).ln() + ln_p - ln_q;
        if log_term > max {
            sum = sum * (max - log_term).exp() + 1.0;
            max = log_term;
        } else {
            sum += (log_term - max).exp();
        }
    }
    (max + sum.ln()).exp().min(1.0)
}

/// The most impostor matches `n` pairs may show while the FMR's upper bound stays at or
/// below `target`; `None` when even none is too many (fewer than about `3 / target` pairs).
pub fn allowed_false_matches(n: u64, target: f64) -> Option<u64> {
    if fmr_upper_bound(0, n) > target {
        return None;
    }
    // The bound rises with k; the answer lies in 0..=floor(target · n).
    let (mut lo, mut hi) = (0u64, (target * n as f64).floor() as u64);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fmr_upper_bound(mid, n) <= target {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// The lowest threshold with four decimals (accepting `score >= threshold`) at which at most
/// `allowed` of `sorted` (impostor scores, highest first) match: just above the
/// `(allowed + 1)`-th highest, rounded up (stricter, never laxer) so that people can read and
/// type it. `None` when no cosine threshold can do it (that score is 1: a duplicate photo
/// under two identities).
fn threshold_allowing(sorted: &[f32], allowed: u64) -> Option<f32> {
    let exact = match sorted.get(allowed as usize) {
        Some(&s) => s.next_up(),
        None => return Some(-1.0),
    };
    let rounded = ((f64::from(exact) * 1e4).ceil() / 1e4) as f32;
    let t = rounded.max(exact);
    (t <= 1.0).then_some(t)
}

/// The finite scores, highest first (a NaN or infinite score is no evidence either way).
fn finite_descending(scores: &[f32]) -> Vec<f32> {
    let mut sorted: Vec<f32> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted
}

/// How `population` scores at `threshold` (finite scores only).
pub fn measure(population: &PopulationScores, threshold: f32) -> Measurement {
    let impostor_pairs = population.impostor.iter().filter(|s| s.is_finite()).count() as u64;
    let false_matches = population
        .impostor
        .iter()
        .filter(|&&s| s >= threshold)
        .count() as u64;
    Measurement {
        population: population.name.to_string(),
        impostor_pairs,
        false_matches,
        fmr_upper: fmr_upper_bound(false_matches, impostor_pairs),
        genuine_pairs: population.genuine.iter().filter(|s| s.is_finite()).count() as u64,
        false_non_matches: population
            .genuine
            .iter()
            .filter(|&&s| s.is_finite() && s < threshold)
            .count() as u64,
    }
}

/// Operating points for `targets` (false-match rates) from the scores `model` gave
/// `populations`, with `default_fmr` as the default. Targets that no population has the impostor pairs
/// to support are left out; the default must be supported
/// ([`MatchError::TooFewImpostors`] otherwise).
///
/// ```
/// use faceguard::matching::{calibrate, PopulationScores};
/// // The id of the model that gave the scores (`engine.embedder().model_id()`).
/// let model: faceguard::ModelId = "87aacdfe57510db2".parse().unwrap();
/// // 10,000 impostor scores 0.0000, 0.0001, ..., 0.9999 and a few genuine ones.
/// let impostor: Vec<f32> = (0..10_000).map(|i| i as f32 / 10_000.0).collect();
/// let genuine = [0.95, 0.999, 0.5];
/// let points = calibrate(
///     model,
///     &[PopulationScores { name: "synthetic", genuine: &genuine, impostor: &impostor }],
///     &[1e-3, 1e-5],
///     1e-3,
///     "synthetic uniform scores",
/// )?;
/// // At 1e-3, 10,000 pairs allow 4 matches (the bound for 5 would exceed 1e-3)...
/// assert_eq!(points.points[0].measured[0].false_matches, 4);
/// // ...and 1e-5 is not claimed: 10,000 pairs cannot show it.
/// assert_eq!(points.points.len(), 1);
/// # Ok::<(), faceguard::MatchError>(())
/// ```
pub fn calibrate(
    model: ModelId,
    populations: &[PopulationScores],
    targets: &[f64],
    default_fmr: f64,
    data: &str,
) -> Result<OperatingPoints, MatchError> {
    check_fmr(default_fmr)?;
    let mut targets: Vec<f64> = targets.to_vec();
    if !targets.contains(&default_fmr) {
        targets.push(default_fmr);
    }
    for &t in &targets {
        check_fmr(t)?;
    }
    targets.sort_by(|a, b| b.total_cmp(a));
    targets.dedup();
    let sorted: Vec<Vec<f32>> = populations
        .iter()
        .map(|p| finite_descending(p.impostor))
        .collect();
    let mut points = Vec::new();
    for &target in &targets {
        let threshold = sorted
            .iter()
            .filter_map(|s| {
                allowed_false_matches(s.len() as u64, target).and_then(|k| threshold_allowing(s, k))
            })
            .reduce(f32::max);
        let Some(threshold) = threshold else {
            if target == default_fmr {
                let largest = sorted.iter().map(|s| s.len() as u64).max().unwrap_or(0);
                return Err(MatchError::TooFewImpostors {
                    fmr: target,
                    needed: pairs_needed(target),
                    largest,
                });
            }
            continue;
        };
        points.push(OperatingPoint {
            fmr: target,
            threshold,
            measured: populations.iter().map(|p| measure(p, threshold)).collect(),
        });
    }
    Ok(OperatingPoints {
        model: model.to_string(),
        default_fmr,
        data: data.to_string(),
        points,
    })
}

/// The fewest impostor pairs that can support `target` at all (with no match among them).
pub fn pairs_needed(target: f64) -> u64 {
    let mut n = (2.9957 / target).floor().max(1.0) as u64;
    while fmr_upper_bound(0, n) > target {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: ModelId = ModelId::from_bytes([1, 2, 3, 4, 5, 6, 7, 8]);

    #[test]
    fn upper_bound_with_no_event_is_the_rule_of_three() {
        for n in [1690u64, 174_814, 10_000_000] {
            let b = fmr_upper_bound(0, n);
            assert!((b * n as f64 - 2.9957).abs() < 0.01, "n={n}: {b}");
        }
        assert_eq!(fmr_upper_bound(0, 0), 1.0);
        assert_eq!(fmr_upper_bound(5, 5), 1.0);
    }

    #[test]
    fn upper_bound_matches_tabulated_clopper_pearson_values() {
        // One-sided 95 % upper limits (Poisson-like regime: n large, k small): 4.744 for
        // k = 1, 6.296 for k = 2, 15.71 for k = 9, as the chi-square table gives.
        for (k, expected) in [(1u64, 4.7439), (2, 6.2958), (9, 15.7052)] {
            let n = 1_000_000u64;
            let b = fmr_upper_bound(k, n) * n as f64;
            assert!((b - expected).abs() < 0.01, "k={k}: {b}");
        }
        // A small-n exact value: k = 1, n = 10 gives 0.3942.
        assert!((fmr_upper_bound(1, 10) - 0.3942).abs() < 1e-3);
    }

    #[test]
    fn calibration_on_known_quantiles_picks_the_threshold_above_the_allowed_matches() {
        // Impostor scores 0.0000, 0.0001, ..., 0.9999 in shuffled order: at 1e-3, 10,000 pairs
        // allow 4 matches (the bound for 5 exceeds 1e-3), so the threshold lies just above the
        // fifth highest score, 0.9995, and rounds up to 0.9996.
        let mut impostor: Vec<f32> = (0..10_000).map(|i| i as f32 / 10_000.0).collect();
        impostor.reverse();
        impostor.swap(17, 9_000);
        let genuine: Vec<f32> = (0..100).map(|i| 0.99 + i as f32 / 10_000.0).collect();
        let pop = PopulationScores {
            name: "uniform",
            genuine: &genuine,
            impostor: &impostor,
        };
        let points = calibrate(MODEL, &[pop], &[1e-3, 1e-4], 1e-3, "test").unwrap();
        assert_eq!(points.points.len(), 1, "10,000 pairs cannot show 1e-4");
        let p = &points.points[0];
        assert_eq!(p.threshold, 0.9996);
        let m = &p.measured[0];
        assert_eq!(m.false_matches, 4);
        assert!(m.fmr_upper <= 1e-3);
        // Genuine scores 0.9900..0.9999: those below 0.9996 are false non-matches.
        assert_eq!(m.false_non_matches, 96);
    }

    #[test]
    fn the_operating_point_holds_on_every_population_and_the_hardest_sets_it() {
        // An easy population (impostors up to 0.3) and a hard one (impostors up to 0.7).
        let easy: Vec<f32> = (0..20_000).map(|i| 0.3 * i as f32 / 20_000.0).collect();
        let hard: Vec<f32> = (0..20_000).map(|i| 0.7 * i as f32 / 20_000.0).collect();
        let points = calibrate(
            MODEL,
            &[
                PopulationScores {
                    name: "easy",
                    genuine: &[0.9],
                    impostor: &easy,
                },
                PopulationScores {
                    name: "hard",
                    genuine: &[0.9],
                    impostor: &hard,
                },
            ],
            &[1e-3],
            1e-3,
            "",
        )
        .unwrap();
        let p = &points.points[0];
        assert!(p.threshold > 0.69, "{}", p.threshold);
        for m in &p.measured {
            assert!(m.fmr_upper <= 1e-3, "{m:?}");
        }
        // A population too small to show the target never sets a point; if none can, the
        // default is refused.
        let small = [0.1f32; 100];
        let err = calibrate(
            MODEL,
            &[PopulationScores {
                name: "small",
                genuine: &[0.9],
                impostor: &small,
            }],
            &[1e-3],
            1e-3,
            "",
        )
        .unwrap_err();
        assert!(matches!(
            err,
            MatchError::TooFewImpostors {
                needed: 2995,
                largest: 100,
                ..
            }
        ));
    }

    #[test]
    fn allowed_matches_are_the_largest_count_whose_bound_holds() {
        for (n, target) in [
            (174_814u64, 1e-3),
            (75_000, 1e-3),
            (40_000, 1e-4),
            (3_000, 1e-3),
        ] {
            let k = allowed_false_matches(n, target).unwrap();
            assert!(fmr_upper_bound(k, n) <= target);
            assert!(fmr_upper_bound(k + 1, n) > target);
        }
        assert_eq!(allowed_false_matches(1690, 1e-3), None);
        // 1 - 0.05^(1/n) <= 1e-3 from n = ln 0.05 / ln 0.999 = 2994.2 on.
        assert_eq!(allowed_false_matches(2994, 1e-3), None);
        assert_eq!(allowed_false_matches(2995, 1e-3), Some(0));
        assert_eq!(pairs_needed(1e-3), 2995);
    }
}
