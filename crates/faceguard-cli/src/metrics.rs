//! Verification metrics over genuine (same person) and impostor (different people) scores.
//!
//! Every decision is `score >= threshold` = accept, as in [`faceguard::Matcher::decide`].

/// Scores of the scored pairs, split by label.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    pub genuine: Vec<f32>,
    pub impostor: Vec<f32>,
}

/// Counts of errors at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errors {
    /// Impostor pairs accepted.
    pub false_accepts: usize,
    /// Genuine pairs rejected.
    pub false_rejects: usize,
}

impl Errors {
    pub fn total(&self) -> usize {
        self.false_accepts + self.false_rejects
    }
}

/// The threshold range that makes the fewest errors on a set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinError {
    pub errors: Errors,
    /// Every threshold in `(above, up_to]` makes exactly these errors; `above` is `None` when
    /// the range is unbounded below, `up_to` is `None` when it is unbounded above (reject all).
    pub above: Option<f32>,
    pub up_to: Option<f32>,
}

impl MinError {
    /// A representative threshold: the middle of the range, or its finite end.
    pub fn threshold(&self) -> f32 {
        match (self.above, self.up_to) {
            (Some(lo), Some(hi)) => lo + (hi - lo) / 2.0,
            (None, Some(hi)) => hi,
            (Some(lo), None) => lo.next_up(),
            (None, None) => f32::NAN,
        }
    }
}

/// All scores with their label, sorted from highest to lowest, grouped by equal score:
/// `(score, genuine in group, impostors in group)`.
fn groups_descending(s: &Scores) -> Vec<(f32, usize, usize)> {
    let mut all: Vec<(f32, bool)> = s
        .genuine
        .iter()
        .map(|&v| (v, true))
        .chain(s.impostor.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut groups: Vec<(f32, usize, usize)> = Vec::new();
    for (v, genuine) in all {
        match groups.last_mut() {
            Some(last) if last.0 == v => {}
            _ => groups.push((v, 0, 0)),
        }
        if let Some(last) = groups.last_mut() {
            if genuine {
                last.1 += 1;
            } else {
                last.2 += 1;
            }
        }
    }
    groups
}

/// Exact ROC AUC: the probability that a random genuine pair scores above a random impostor
/// pair, ties counting one half (the Mann-Whitney U statistic over `G × I`). NaN without
/// genuine or without impostor pairs.
pub fn auc(s: &Scores) -> f64 {
    let (g, i) = (s.genuine.len(), s.impostor.len());
    if g == 0 || i == 0 {
        return f64::NAN;
    }
    // Walking from the highest score down: each impostor pair is beaten by every genuine pair
    // strictly above it, and ties with the genuine pairs of its own group.
    let mut genuine_above = 0usize;
    let mut wins = 0.0f64;
    for (_, gen, imp) in groups_descending(s) {
        wins += imp as f64 * (genuine_above as f64 + 0.5 * gen as f64);
        genuine_above += gen;
    }
    wins / (g as f64 * i as f64)
}

/// Errors at `threshold` (accept when `score >= threshold`).
pub fn errors_at(s: &Scores, threshold: f32) -> Errors {
    Errors {
        false_accepts: s.impostor.iter().filter(|&&v| v >= threshold).count(),
        false_rejects: s.genuine.iter().filter(|&&v| v < threshold).count(),
    }
}

/// TAR at FAR <= `far_num / far_den`: the largest fraction of genuine pairs accepted by any
/// threshold on the scores whose false-accept rate is at most `far_num / far_den`.
///
/// With `I` impostor pairs, that FAR allows at most `k = floor(I · far_num / far_den)` false
/// accepts (integer arithmetic, so that e.g. 1690 impostors at 1e-3 allow exactly 1). The best
/// such threshold lies just above the `(k+1)`-th highest impostor score `c`, so the TAR is the
/// fraction of genuine scores strictly above `c` (a genuine score equal to `c` cannot be
/// accepted without accepting that impostor too). When `k >= I` every pair may be accepted
/// and the TAR is 1. NaN without genuine pairs.
pub fn tar_at_far(s: &Scores, far_num: usize, far_den: usize) -> f64 {
    if s.genuine.is_empty() {
        return f64::NAN;
    }
    let allowed = s.impostor.len().saturating_mul(far_num) / far_den.max(1);
    if allowed >= s.impostor.len() {
        return 1.0;
    }
    let mut impostor = s.impostor.clone();
    impostor.sort_by(|x, y| y.total_cmp(x));
    let cutoff = impostor[allowed];
    let accepted = s.genuine.iter().filter(|&&v| v > cutoff).count();
    accepted as f64 / s.genuine.len() as f64
}

/// FNMR at FMR `fmr`, with the threshold that gives it: `1 - TAR` at that FAR
/// ([`tar_at_far`]), and the lowest threshold accepting no more impostors than allowed. `None`
/// where the data cannot show that FMR: fewer than `1 / fmr` impostor pairs, or no genuine
/// pair.
pub fn fnmr_at_fmr(s: &Scores, fmr: f64) -> Option<(f64, f32)> {
    let n = s.impostor.len();
    if s.genuine.is_empty() || (n as f64) * fmr < 1.0 - 1e-9 {
        return None;
    }
    let allowed = ((n as f64) * fmr + 1e-9).floor() as usize;
    let mut impostor = s.impostor.clone();
    impostor.sort_by(|x, y| y.total_cmp(x));
    let threshold = match impostor.get(allowed) {
        Some(c) => c.next_up(),
        None => f32::NEG_INFINITY,
    };
    let rejected = s.genuine.iter().filter(|&&v| v < threshold).count();
    Some((rejected as f64 / s.genuine.len() as f64, threshold))
}

/// DET curve points `(FMR, FNMR)`, one per distinct score, from (0, 1) to (1, 0). Empty
/// without genuine or without impostor pairs.
pub fn det_curve(s: &Scores) -> Vec<(f64, f64)> {
    roc_curve(s)
        .into_iter()
        .map(|(far, tar)| (far, 1.0 - tar))
        .collect()
}

/// The threshold range with the fewest errors on this set; ties go to fewer false accepts,
/// then to the widest range. `None` without any score.
pub fn min_error(s: &Scores) -> Option<MinError> {
    let groups = groups_descending(s);
    if groups.is_empty() {
        return None;
    }
    // Start by rejecting everything: threshold above the highest score.
    let mut current = Errors {
        false_accepts: 0,
        false_rejects: s.genuine.len(),
    };
    let mut best = MinError {
        errors: current,
        above: Some(groups[0].0),
        up_to: None,
    };
    let width = |m: &MinError| match (m.above, m.up_to) {
        (Some(lo), Some(hi)) => f64::from(hi) - f64::from(lo),
        _ => f64::INFINITY,
    };
    for (k, &(v, gen, imp)) in groups.iter().enumerate() {
        // Thresholds in (next lower score, v] accept everything down to v.
        current.false_accepts += imp;
        current.false_rejects -= gen;
        let candidate = MinError {
            errors: current,
            above: groups.get(k + 1).map(|g| g.0),
            up_to: Some(v),
        };
        let key = |m: &MinError| (m.errors.total(), m.errors.false_accepts);
        if key(&candidate) < key(&best)
            || (key(&candidate) == key(&best) && width(&candidate) > width(&best))
        {
            best = candidate;
        }
    }
    Some(best)
}

/// ROC curve points `(FAR, TAR)`, from (0, 0) (reject all) to (1, 1) (accept all), one per
/// distinct score. Empty without genuine or without impostor pairs.
pub fn roc_curve(s: &Scores) -> Vec<(f64, f64)> {
    let (g, i) = (s.genuine.len() as f64, s.impostor.len() as f64);
    if s.genuine.is_empty() || s.impostor.is_empty() {
        return Vec::new();
    }
    let mut points = vec![(0.0, 0.0)];
    let (mut ta, mut fa) = (0usize, 0usize);
    for (_, gen, imp) in groups_descending(s) {
        ta += gen;
        fa += imp;
        points.push((fa as f64 / i, ta as f64 / g));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(genuine: &[f32], impostor: &[f32]) -> Scores {
        Scores {
            genuine: genuine.to_vec(),
            impostor: impostor.to_vec(),
        }
    }

    /// Brute-force Mann-Whitney over all genuine × impostor pairs.
    fn auc_brute(s: &Scores) -> f64 {
        let mut wins = 0.0;
        for g in &s.genuine {
            for i in &s.impostor {
                wins += if g > i {
                    1.0
                } else if g == i {
                    0.5
                } else {
                    0.0
                };
            }
        }
        wins / (s.genuine.len() * s.impostor.len()) as f64
    }

    #[test]
    fn auc_counts_ties_as_half_and_matches_brute_force() {
        assert_eq!(auc(&scores(&[0.9, 0.8], &[0.1, 0.2])), 1.0);
        assert_eq!(auc(&scores(&[0.1], &[0.9])), 0.0);
        assert_eq!(auc(&scores(&[0.5], &[0.5])), 0.5);
        let s = scores(
            &[0.9, 0.5, 0.5, 0.3, 0.7, 0.2],
            &[0.5, 0.1, 0.3, 0.3, 0.8, 0.0, 0.5],
        );
        assert!((auc(&s) - auc_brute(&s)).abs() < 1e-12);
        assert!(auc(&scores(&[], &[0.1])).is_nan());
    }

    #[test]
    fn tar_at_far_allows_floor_of_far_times_impostors_false_accepts() {
        // 1690 impostors at FAR 1e-3: one false accept allowed, so the cutoff is the second
        // highest impostor score.
        let mut impostor = vec![0.0f32; 1690];
        impostor[0] = 0.9;
        impostor[1] = 0.5;
        let s = scores(&[0.95, 0.6, 0.5, 0.4], &impostor);
        assert_eq!(tar_at_far(&s, 1, 1000), 0.5);
        // 999 impostors: no false accept allowed; the cutoff is the highest impostor.
        let s = scores(&[0.95, 0.6, 0.5, 0.4], &impostor[..999]);
        assert_eq!(tar_at_far(&s, 1, 1000), 0.25);
        // Exactly 1000 impostors: one allowed.
        let s = scores(&[0.95, 0.6, 0.5, 0.4], &impostor[..1000]);
        assert_eq!(tar_at_far(&s, 1, 1000), 0.5);
        // FAR 1: everything may be accepted.
        assert_eq!(tar_at_far(&s, 1, 1), 1.0);
    }

    #[test]
    fn errors_use_score_at_or_above_threshold_as_accept() {
        let s = scores(&[0.5, 0.4], &[0.5, 0.3]);
        assert_eq!(
            errors_at(&s, 0.5),
            Errors {
                false_accepts: 1,
                false_rejects: 1
            }
        );
    }

    #[test]
    fn min_error_finds_the_separating_gap() {
        let s = scores(&[0.9, 0.7, 0.45], &[0.1, 0.3, 0.4]);
        let m = min_error(&s).unwrap();
        assert_eq!(m.errors.total(), 0);
        assert_eq!((m.above, m.up_to), (Some(0.4), Some(0.45)));
        assert!(m.threshold() > 0.4 && m.threshold() <= 0.45);
        assert_eq!(errors_at(&s, m.threshold()).total(), 0);
        // Overlap: one error is unavoidable; fewer false accepts win the tie.
        let s = scores(&[0.9, 0.35], &[0.4, 0.1]);
        let m = min_error(&s).unwrap();
        assert_eq!(
            m.errors,
            Errors {
                false_accepts: 0,
                false_rejects: 1
            }
        );
        assert_eq!(errors_at(&s, m.threshold()), m.errors);
    }

    #[test]
    fn fnmr_at_fmr_is_one_minus_tar_and_needs_enough_impostors() {
        let mut impostor = vec![0.0f32; 2000];
        impostor[0] = 0.9;
        impostor[1] = 0.8;
        impostor[2] = 0.5;
        let s = scores(&[0.95, 0.85, 0.6, 0.4], &impostor);
        // 2000 impostors at 1e-3: two false matches allowed; the cutoff is the third, 0.5.
        let (fnmr, t) = fnmr_at_fmr(&s, 1e-3).unwrap();
        assert_eq!(fnmr, 0.25);
        assert_eq!(fnmr, 1.0 - tar_at_far(&s, 1, 1000));
        assert!(t > 0.5 && t < 0.5001);
        assert_eq!(errors_at(&s, t).false_accepts, 2);
        // 2000 pairs cannot show 1e-4.
        assert_eq!(fnmr_at_fmr(&s, 1e-4), None);
    }

    #[test]
    fn det_is_the_roc_turned_into_errors() {
        let s = scores(&[0.9, 0.5], &[0.5, 0.1]);
        assert_eq!(
            det_curve(&s),
            vec![(0.0, 1.0), (0.0, 0.5), (0.5, 0.0), (1.0, 0.0)]
        );
    }

    #[test]
    fn roc_runs_from_origin_to_one_one() {
        let s = scores(&[0.9, 0.5], &[0.5, 0.1]);
        assert_eq!(
            roc_curve(&s),
            vec![(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
    }
}
