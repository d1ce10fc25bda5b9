//! Synthetic distractor templates for `bench-match` that score against real probes the way
//! real impostors do.
//!
//! Random unit vectors are far easier than faces: in 512-d their cosine with any probe has
//! s.d. 1/√512 ≈ 0.044, while real impostor scores spread about twice as wide (face templates
//! fill a much smaller part of the sphere). A distractor here is drawn around the real
//! templates of *other* people (the basis: identities never used as probes or enrolled):
//!
//! `x = normalise(α·μ + s·Σ_j w_j·(e_j − μ) + β·g/√d)`, with `w_j ~ N(0, 1/m)` over the `m`
//! basis templates `e_j` (mean `μ`), `g ~ N(0, I)` and a per-distractor spread
//! `s = exp(τ·z)`, `z ~ N(0, 1)`,
//!
//! i.e. a scale mixture of Gaussians with the basis's mean and covariance, plus an isotropic
//! part; and, with probability `π`, a *lookalike* instead: one basis template plus isotropic
//! noise, `x = normalise(e_j + 0.6·g/√d)`. Real impostor scores are skewed to the right (some
//! pairs of people look alike), and that upper tail is what makes a search hard; the
//! lookalikes and the spread `τ` can give it. `α`, `β`, `τ` and `π` are chosen on a grid to
//! minimise the Kolmogorov–Smirnov distance between the distractors' scores against real
//! probes and the real impostor scores (probes against the basis people). The far tail is
//! reported, not fitted: the real 99.9 % quantile rests on a handful of lookalike pairs among
//! some 30 × 28 photos, too few to fit.

use faceguard_match::rng::SplitMix64;

pub struct Generator {
    dim: usize,
    mean: Vec<f32>,
    centred: Vec<Vec<f32>>,
    pub alpha: f32,
    pub beta: f32,
    pub tau: f32,
    pub lookalikes: f64,
}

/// Noise added to a lookalike's basis template.
const LOOKALIKE_NOISE: f32 = 0.6;

impl Generator {
    /// A generator around `basis` (unit templates of people who are not probes).
    pub fn fit(basis: &[Vec<f32>]) -> Self {
        let dim = basis[0].len();
        let m = basis.len() as f32;
        let mut mean = vec![0.0f32; dim];
        for e in basis {
            mean.iter_mut().zip(e).for_each(|(a, b)| *a += b / m);
        }
        let centred = basis
            .iter()
            .map(|e| e.iter().zip(&mean).map(|(a, b)| a - b).collect())
            .collect();
        Generator {
            dim,
            mean,
            centred,
            alpha: 1.0,
            beta: 0.0,
            tau: 0.0,
            lookalikes: 0.0,
        }
    }

    /// One distractor (unit length) into `out`.
    pub fn sample(&self, rng: &mut SplitMix64, out: &mut [f32]) {
        if self.lookalikes > 0.0 && rng.next_f64() < self.lookalikes {
            let j = rng.below(self.centred.len());
            let iso = LOOKALIKE_NOISE / (self.dim as f32).sqrt();
            for ((o, c), m) in out.iter_mut().zip(&self.centred[j]).zip(&self.mean) {
                *o = c + m + iso * rng.gaussian() as f32;
            }
            normalise(out);
            return;
        }
        let sd =
            (1.0 / self.centred.len() as f64).sqrt() * (f64::from(self.tau) * rng.gaussian()).exp();
        let iso = self.beta / (self.dim as f32).sqrt();
        for (o, m) in out.iter_mut().zip(&self.mean) {
            *o = self.alpha * m + iso * rng.gaussian() as f32;
        }
        for c in &self.centred {
            let w = (rng.gaussian() * sd) as f32;
            out.iter_mut().zip(c).for_each(|(o, x)| *o += w * x);
        }
        normalise(out);
    }

    /// Scores of `count` fresh distractors against each of `probes`.
    pub fn scores(&self, probes: &[Vec<f32>], count: usize, rng: &mut SplitMix64) -> Vec<f32> {
        let mut x = vec![0.0; self.dim];
        let mut scores = Vec::with_capacity(count * probes.len());
        for _ in 0..count {
            self.sample(rng, &mut x);
            scores.extend(probes.iter().map(|p| dot(p, &x)));
        }
        scores
    }

    /// Picks `alpha`, `beta`, `tau` and `lookalikes` so that distractor scores against
    /// `probes` follow `impostor` (real impostor scores) as closely as the grid allows, by
    /// Kolmogorov–Smirnov distance. Returns that distance.
    pub fn calibrate(&mut self, probes: &[Vec<f32>], impostor: &[f32], seed: u64) -> f64 {
        let mut best = (f64::INFINITY, 1.0, 0.0, 0.0, 0.0);
        for alpha in [0.0, 0.5, 1.0, 1.5, 2.0, 3.0] {
            for beta in [0.0, 0.25, 0.5, 0.75, 1.0] {
                for tau in [0.0, 0.5] {
                    for lookalikes in [0.0, 0.02, 0.05, 0.1, 0.2] {
                        (self.alpha, self.beta, self.tau, self.lookalikes) =
                            (alpha, beta, tau, lookalikes);
                        let scores = self.scores(probes, 400, &mut SplitMix64::new(seed));
                        let gap = ks_distance(scores, impostor.to_vec());
                        if gap < best.0 {
                            best = (gap, alpha, beta, tau, lookalikes);
                        }
                    }
                }
            }
        }
        (_, self.alpha, self.beta, self.tau, self.lookalikes) = best;
        best.0
    }
}

/// The quantiles reported.
pub const QUANTILES: [f64; 6] = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999];

/// `xs` at [`QUANTILES`].
pub fn quantiles(mut xs: Vec<f32>) -> [f32; 6] {
    xs.sort_by(f32::total_cmp);
    QUANTILES.map(|q| xs[((q * xs.len() as f64) as usize).min(xs.len() - 1)])
}

/// Scales `v` to unit length (the zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.iter_mut().for_each(|x| *x /= norm);
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Largest gap between the empirical distribution functions of two samples.
pub fn ks_distance(mut a: Vec<f32>, mut b: Vec<f32>) -> f64 {
    a.sort_by(f32::total_cmp);
    b.sort_by(f32::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Mean and standard deviation.
pub fn mean_sd(xs: &[f32]) -> (f64, f64) {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = xs
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// Share of `xs` in each bin of width `width` from `lo` (the last bin takes everything above).
pub fn histogram(xs: &[f32], lo: f32, width: f32, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    for &x in xs {
        let b = (((x - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[b] += 1;
    }
    counts
        .into_iter()
        .map(|c| c as f64 / xs.len().max(1) as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_distance_of_a_sample_with_itself_is_zero_and_of_disjoint_samples_one() {
        let a = vec![0.1, 0.2, 0.3];
        assert_eq!(ks_distance(a.clone(), a.clone()), 0.0);
        assert_eq!(ks_distance(a, vec![1.0, 2.0]), 1.0);
    }

    #[test]
    fn samples_are_unit_vectors() {
        let mut rng = SplitMix64::new(1);
        let basis: Vec<Vec<f32>> = (0..10).map(|_| rng.unit_vector(32)).collect();
        let mut g = Generator::fit(&basis);
        g.beta = 0.5;
        let mut x = vec![0.0; 32];
        g.sample(&mut rng, &mut x);
        assert!((dot(&x, &x) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn histogram_shares_sum_to_one() {
        let h = histogram(&[-1.0, 0.0, 0.05, 0.5, 2.0], -0.1, 0.1, 5);
        assert!((h.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(h[0], 0.2);
    }
}
