//! The fast two-stage search: Hamming distances between sign codes pick the candidates, the
//! exact machinery of [`Index::rescore`] settles them. See [`FastParams`] for how many
//! candidates a query gets.

use std::ops::Range;

use crate::index::{par_map, FastParams, Index, Outcome, Prepared, SearchOptions};
use crate::kernels::Kernels;
use crate::topk::TopK;

const BLOCK: usize = 256;

/// First-stage result of one shard.
struct Distances {
    start: usize,
    dist: Vec<u16>,
    histogram: Vec<u32>,
}

impl Index {
    pub(crate) fn search_fast(
        &self,
        q: &Prepared,
        o: &SearchOptions,
        params: FastParams,
        shards: &[Range<usize>],
        kernels: Kernels,
    ) -> Outcome {
        let bits = self.coder.bits();
        let scans = par_map(shards, |range| {
            let mut dist = vec![0u16; range.len()];
            let mut histogram = vec![0u32; bits + 1];
            let start = range.start;
            for block in self.store.spans(range).flat_map(|s| s.blocks(BLOCK)) {
                let out = &mut dist[block.start - start..][..block.meta.len()];
                kernels.hamming(&q.code, block.codes, out);
                out.iter().for_each(|&d| histogram[usize::from(d)] += 1);
            }
            Distances {
                start,
                dist,
                histogram,
            }
        });
        let mut cumulative = vec![0usize; bits + 1];
        let mut total = 0;
        for (h, c) in cumulative.iter_mut().enumerate() {
            total += scans.iter().map(|s| s.histogram[h] as usize).sum::<usize>();
            *c = total;
        }
        // The smallest distance whose cumulative count reaches `n` rows.
        let cutoff = |n: usize| cumulative.partition_point(|&c| c < n).min(bits);

        let bound = self.i8_bound(q);
        let mut top = TopK::new(o.k, o.per_group);
        let max = params.max_candidates.max(1);
        let h0 = cutoff(params.min_candidates.max(o.k).min(max).min(self.len()));
        let mut first = collect(&scans, 0, h0);
        // Ties at `h0` (duplicate templates, say) may overshoot: `max` holds regardless.
        let mut capped = first.len() > max;
        first.truncate(max);
        let mut candidates = first.len();
        let mut rescored = self.rescore(
            q,
            self.estimate(q, &first, kernels),
            bound,
            &mut top,
            kernels,
        );

        let wanted = if top.is_full() {
            binomial_quantile(
                bits,
                angle_fraction(top.threshold()),
                params.miss_probability,
            )
        } else {
            bits
        };
        // The largest distance whose cumulative count stays within `max`.
        let limit = cumulative.partition_point(|&c| c <= max).saturating_sub(1);
        let h1 = if cumulative[wanted] > max {
            capped = true;
            limit
        } else {
            wanted
        };
        if h1 > h0 && !capped {
            let second = collect(&scans, h0 + 1, h1);
            candidates += second.len();
            rescored += self.rescore(
                q,
                self.estimate(q, &second, kernels),
                bound,
                &mut top,
                kernels,
            );
        }
        Outcome {
            hits: top.into_hits(),
            rescored,
            candidates,
            capped,
        }
    }
}

/// Rows whose distance is in `lo..=hi`.
fn collect(scans: &[Distances], lo: usize, hi: usize) -> Vec<usize> {
    let mut rows = Vec::new();
    for s in scans {
        rows.extend(
            s.dist
                .iter()
                .enumerate()
                .filter(|(_, &d)| (lo..=hi).contains(&usize::from(d)))
                .map(|(i, _)| s.start + i),
        );
    }
    rows
}

/// θ/π for cosine `c`: the chance that one random hyperplane separates two vectors at that
/// cosine.
fn angle_fraction(c: f32) -> f64 {
    f64::from(c.clamp(-1.0, 1.0)).acos() / std::f64::consts::PI
}

/// The smallest `h` with `P(X > h) ≤ miss` for `X ~ Binomial(n, p)`.
pub(crate) fn binomial_quantile(n: usize, p: f64, miss: f64) -> usize {
    if p <= 0.0 {
        return 0;
    }
    if p >= 1.0 || miss <= 0.0 {
        return n;
    }
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let mut ln_pmf = n as f64 * ln_q;
    let mut cdf = 0.0;
    for h in 0..=n {
        cdf += ln_pmf.exp();
        if 1.0 - cdf <= miss {
            return h;
        }
        ln_pmf += ((n - h) as f64 / (h + 1) as f64).ln() + ln_p - ln_q;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_quantile_matches_known_values() {
        // Binomial(10, 0.5): P(X > 8) = 11/1024 ≈ 0.0107, P(X > 9) = 1/1024.
        assert_eq!(binomial_quantile(10, 0.5, 0.011), 8);
        assert_eq!(binomial_quantile(10, 0.5, 0.01), 9);
        assert_eq!(binomial_quantile(10, 0.0, 0.01), 0);
        assert_eq!(binomial_quantile(10, 1.0, 0.01), 10);
        // Normal approximation for large n: mean 128, s.d. 9.8; 1e-4 is 3.72 s.d. above.
        let h = binomial_quantile(512, 0.25, 1e-4);
        assert!((160..=168).contains(&h), "{h}");
        // Works where (1-p)^n underflows f64.
        let h = binomial_quantile(4096, 0.4, 1e-4);
        assert!((1700..1800).contains(&h), "{h}");
    }
}
