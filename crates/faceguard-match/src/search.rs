//! The exact searches: a full `f32` scan, and an `i8` scan whose best rows are re-scored in
//! `f32` with a proof that nothing was missed.

use std::ops::Range;

use crate::index::{par_map, Index, Outcome, Prepared, SearchOptions};
use crate::kernels::Kernels;
use crate::topk::{Hit, TopK};

/// Rows scored per kernel call: enough to amortise the call, and a small score buffer.
const BLOCK: usize = 64;

/// A row with its `i8` score estimate.
#[derive(Clone, Copy)]
pub(crate) struct Estimate {
    pub(crate) est: f32,
    pub(crate) row: usize,
}

impl Index {
    pub(crate) fn search_f32(
        &self,
        q: &Prepared,
        o: &SearchOptions,
        shards: &[Range<usize>],
        kernels: Kernels,
    ) -> Outcome {
        let mut tops = par_map(shards, |range| {
            let mut top = TopK::new(o.k, o.per_group);
            let mut scores = [0.0f32; BLOCK];
            for block in self.store.spans(range).flat_map(|s| s.blocks(BLOCK)) {
                let scores = &mut scores[..block.meta.len()];
                kernels.dots_f32(&q.f32s, block.f32s, scores);
                for (j, (&score, m)) in scores.iter().zip(block.meta).enumerate() {
                    top.offer(Hit {
                        row: block.start + j,
                        group: m.group,
                        score,
                    });
                }
            }
            top
        });
        let mut top = tops.swap_remove(0);
        tops.into_iter().for_each(|t| top.merge(t));
        Outcome {
            hits: top.into_hits(),
            rescored: self.len(),
            candidates: self.len(),
            capped: false,
        }
    }

    /// Exact top-k through the `i8` column.
    ///
    /// Let `B` bound `|exact − estimate|` for every row ([`Index::i8_bound`]) and `e_k` be the
    /// k-th best estimate. The k rows (groups) estimated at `e_k` or more score at least
    /// `e_k − B` exactly, so the exact k-th best `T ≥ e_k − B`; any row of the exact top-k
    /// therefore has an estimate `≥ T − B ≥ e_k − 2B`. The scan keeps every row above the
    /// running `e_k − 2B` (the running `e_k` only rises, so this keeps a superset), and
    /// [`Index::rescore`] settles them in `f32`.
    pub(crate) fn search_i8(
        &self,
        q: &Prepared,
        o: &SearchOptions,
        shards: &[Range<usize>],
        kernels: Kernels,
    ) -> Outcome {
        let bound = self.i8_bound(q);
        let scans = par_map(shards, |range| {
            let mut top = TopK::new(o.k, o.per_group);
            let mut near: Vec<Estimate> = Vec::new();
            let mut prune_at = 1024;
            let mut dots = [0i32; BLOCK];
            for block in self.store.spans(range).flat_map(|s| s.blocks(BLOCK)) {
                let dots = &mut dots[..block.meta.len()];
                kernels.dots_i8(&q.i8s, block.i8s, dots);
                for (j, (&dot, m)) in dots.iter().zip(block.meta).enumerate() {
                    let est = dot as f32 * (q.quant.scale * m.quant.scale);
                    let row = block.start + j;
                    top.offer(Hit {
                        row,
                        group: m.group,
                        score: est,
                    });
                    if est >= top.threshold() - 2.0 * bound {
                        near.push(Estimate { est, row });
                    }
                }
                if near.len() > prune_at {
                    let gate = top.threshold() - 2.0 * bound;
                    near.retain(|e| e.est >= gate);
                    prune_at = (2 * near.len()).max(1024);
                }
            }
            (top, near)
        });
        let mut top = TopK::new(o.k, o.per_group);
        let mut near = Vec::new();
        for (t, n) in scans {
            top.merge(t);
            near.extend(n);
        }
        let gate = top.threshold() - 2.0 * bound;
        near.retain(|e| e.est >= gate);
        let candidates = near.len();
        let mut exact = TopK::new(o.k, o.per_group);
        let rescored = self.rescore(q, near, bound, &mut exact, kernels);
        Outcome {
            hits: exact.into_hits(),
            rescored,
            candidates,
            capped: false,
        }
    }

    /// `i8` estimates for `rows`.
    pub(crate) fn estimate(&self, q: &Prepared, rows: &[usize], kernels: Kernels) -> Vec<Estimate> {
        rows.iter()
            .map(|&row| {
                let dot = kernels.dot_i8(&q.i8s, self.store.i8_row(row));
                let est = dot as f32 * (q.quant.scale * self.store.meta(row).quant.scale);
                Estimate { est, row }
            })
            .collect()
    }

    /// Offers `candidates` to `top` with their exact `f32` scores, best estimate first, and
    /// stops at the first whose estimate plus `bound` cannot reach the k-th best exact score
    /// (no later one can either). Exact over the candidates; returns how many were re-scored.
    pub(crate) fn rescore(
        &self,
        q: &Prepared,
        mut candidates: Vec<Estimate>,
        bound: f32,
        top: &mut TopK,
        kernels: Kernels,
    ) -> usize {
        candidates.sort_unstable_by(|a, b| b.est.total_cmp(&a.est).then(a.row.cmp(&b.row)));
        let mut rescored = 0;
        for c in candidates {
            if c.est + bound < top.threshold() {
                break;
            }
            let score = kernels.dot_f32(&q.f32s, self.store.f32_row(c.row));
            top.offer(Hit {
                row: c.row,
                group: self.store.meta(c.row).group,
                score,
            });
            rescored += 1;
        }
        rescored
    }
}
