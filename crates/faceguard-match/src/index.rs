//! The index: rows in, hits out.

use std::fmt;
use std::ops::Range;

use zeroize::{Zeroize, Zeroizing};

use crate::kernels::{Kernels, MAX_I8_LEN};
use crate::quant::{quantise, Quantised};
use crate::rotation::SignCoder;
use crate::store::{Layout, Meta, NewRow, Store};
use crate::topk::Hit;

/// The largest dimension an index accepts.
pub const MAX_DIM: usize = 16_384;

/// How far a vector's length may be from 1 and still count as L2-normalised.
pub const UNIT_TOLERANCE: f32 = 1e-3;

/// Sign codes are at least this long (bits).
const MIN_CODE_BITS: usize = 512;

/// Fixed seed of the code rotation: codes depend only on the vector.
const CODE_SEED: u64 = 0x6661_6365_6775_6172; // "faceguar"

/// Why a vector or a row was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The index dimension is zero or above [`MAX_DIM`].
    #[error("dimension {0} is not supported: it must be 1..={MAX_DIM}")]
    BadDimension(usize),
    /// A vector's length is not the index's dimension.
    #[error("vector has {got} values but the index holds {expected}-dimensional vectors")]
    DimensionMismatch {
        /// The index's dimension.
        expected: usize,
        /// The vector's length.
        got: usize,
    },
    /// A vector holds NaN or an infinity.
    #[error("vector holds a NaN or infinite value")]
    NotFinite,
    /// A vector's L2 norm is not 1 (within [`UNIT_TOLERANCE`]).
    #[error("vector is not L2-normalised: its length is {0}")]
    NotUnit(f32),
    /// A row index past the end.
    #[error("row {row} does not exist: the index holds {len} rows")]
    NoSuchRow {
        /// The row asked for.
        row: usize,
        /// Rows held.
        len: usize,
    },
}

/// How a search scores the gallery.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Method {
    /// Every row's `f32` dot product: exact, reads 4 bytes per dimension per row.
    ExactF32,
    /// Every row's `i8` dot product, then the best ones re-scored in `f32`. Returns exactly what
    /// [`Method::ExactF32`] returns (scores included), reading a quarter of the bytes: the
    /// quantisation error of each score is bounded, and every row whose bound reaches the
    /// k-th best exact score is re-scored.
    ExactI8,
    /// Two stages: Hamming distances between sign codes (64 bytes per row), then an exact
    /// re-scoring of the candidates. Not guaranteed exact; see [`FastParams`].
    Fast(FastParams),
}

/// Tuning of [`Method::Fast`].
///
/// The candidate count is decided per query. The `min_candidates` rows with the smallest
/// Hamming distances are re-scored first; the k-th best exact score `t` among them says how
/// close a row must be to matter. Under the SimHash model (independent random hyperplanes), a
/// row with cosine `c ≥ t` to the query (angle `θ ≤ arccos t`) differs from it in each code bit
/// with probability `θ/π`, so its Hamming distance is at most Binomial(`bits`, arccos(t)/π) in
/// distribution. Every row up to that distribution's `1 − miss_probability` quantile is
/// re-scored too, so a row that should be in the top-k is missed with probability about
/// `miss_probability` (the rotation here is one fixed randomised Hadamard transform, not fresh
/// random hyperplanes, so this is a model, checked by measurement: see `bench-match`). At most
/// `max_candidates` rows are re-scored, which bounds the latency; past it the closest codes
/// are kept and [`Outcome::capped`] says so.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FastParams {
    /// Chance of missing a row that belongs in the top-k. Default 1e-4.
    pub miss_probability: f64,
    /// Rows re-scored before the threshold is known. Default 256.
    pub min_candidates: usize,
    /// At most this many rows are re-scored. Default 65,536.
    pub max_candidates: usize,
}

impl Default for FastParams {
    fn default() -> Self {
        FastParams {
            miss_probability: 1e-4,
            min_candidates: 256,
            max_candidates: 1 << 16,
        }
    }
}

/// What to search for and how.
#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    /// Number of hits wanted.
    pub k: usize,
    /// Scoring method.
    pub method: Method,
    /// Threads to scan with (rows are split into contiguous shards; small indexes use fewer).
    pub threads: usize,
    /// At most one hit (the best) per group.
    pub per_group: bool,
    /// Kernel family; `None` for the CPU's best.
    pub kernels: Option<Kernels>,
}

impl SearchOptions {
    /// The `k` best rows by exact `f32` score, on one thread.
    pub fn new(k: usize) -> Self {
        SearchOptions {
            k,
            method: Method::ExactF32,
            threads: 1,
            per_group: false,
            kernels: None,
        }
    }

    /// With `method`.
    pub fn method(self, method: Method) -> Self {
        SearchOptions { method, ..self }
    }

    /// On `threads` threads.
    pub fn threads(self, threads: usize) -> Self {
        SearchOptions { threads, ..self }
    }

    /// One hit per group.
    pub fn per_group(self, per_group: bool) -> Self {
        SearchOptions { per_group, ..self }
    }

    /// With a forced kernel family.
    pub fn kernels(self, kernels: Kernels) -> Self {
        SearchOptions {
            kernels: Some(kernels),
            ..self
        }
    }
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Best first; scores are exact `f32` dot products whatever the method.
    pub hits: Vec<Hit>,
    /// Rows whose exact `f32` score was computed.
    pub rescored: usize,
    /// Rows passed to the exact re-scoring: all rows for [`Method::ExactF32`], those whose
    /// `i8` estimate came near enough for [`Method::ExactI8`], the chosen candidates for
    /// [`Method::Fast`].
    pub candidates: usize,
    /// [`Method::Fast`] only: `max_candidates` cut the candidate list short.
    pub capped: bool,
}

/// A query prepared for every method: padded `f32`, `i8` quantisation and sign code.
pub(crate) struct Prepared {
    pub(crate) f32s: Vec<f32>,
    pub(crate) i8s: Vec<i8>,
    pub(crate) quant: Quantised,
    pub(crate) code: Vec<u64>,
    pub(crate) norm: f32,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        self.f32s.zeroize();
        self.i8s.zeroize();
        self.code.zeroize();
    }
}

/// An in-memory index of L2-normalised vectors for exact and fast 1:N search by dot product.
///
/// Every vector is stored as `f32`, as `i8` with its own scale, and as a sign code; see the
/// crate docs for the layout. Not `Clone` and not printable: its rows are biometric templates.
pub struct Index {
    pub(crate) layout: Layout,
    pub(crate) coder: SignCoder,
    pub(crate) store: Store,
    /// Upper bounds over the rows held (never lowered on removal, so always bounds).
    pub(crate) max_err: f32,
    pub(crate) max_norm: f32,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("dim", &self.layout.dim)
            .field("rows", &self.len())
            .finish_non_exhaustive()
    }
}

impl Index {
    /// An empty index of `dim`-dimensional vectors.
    pub fn new(dim: usize) -> Result<Self, IndexError> {
        if dim == 0 || dim > MAX_DIM || dim > MAX_I8_LEN {
            return Err(IndexError::BadDimension(dim));
        }
        let coder = SignCoder::new(dim, MIN_CODE_BITS, CODE_SEED);
        let layout = Layout::new(dim, coder.words());
        Ok(Index {
            layout,
            coder,
            store: Store::new(layout),
            max_err: 0.0,
            max_norm: 0.0,
        })
    }

    /// Dimension of the vectors.
    pub fn dim(&self) -> usize {
        self.layout.dim
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the index holds no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bits per sign code.
    pub fn code_bits(&self) -> usize {
        self.coder.bits()
    }

    /// Bytes an exact `f32` scan reads.
    pub fn f32_bytes(&self) -> usize {
        self.store.f32_bytes()
    }

    /// The group of `row`.
    pub fn group(&self, row: usize) -> Result<u32, IndexError> {
        self.check_row(row)?;
        Ok(self.store.meta(row).group)
    }

    /// Adds `vector` (unit length) under `group`; returns its row. Rows are numbered in the
    /// order they are added, until a removal moves the last row.
    pub fn push(&mut self, vector: &[f32], group: u32) -> Result<usize, IndexError> {
        let q = self.prepare(vector)?;
        self.max_err = self.max_err.max(q.quant.err);
        self.max_norm = self.max_norm.max(q.quant.norm);
        Ok(self.store.push(NewRow {
            f32s: &q.f32s,
            i8s: &q.i8s,
            code: &q.code,
            meta: Meta {
                quant: q.quant,
                group,
            },
        }))
    }

    /// Removes `row`, moving the last row into its place (so the last row's index becomes
    /// `row`), and zeroizes the vacated memory.
    pub fn swap_remove(&mut self, row: usize) -> Result<(), IndexError> {
        self.check_row(row)?;
        self.store.swap_remove(row);
        Ok(())
    }

    /// The best `options.k` rows for `query` (unit length).
    pub fn search(&self, query: &[f32], options: &SearchOptions) -> Result<Outcome, IndexError> {
        let q = self.prepare(query)?;
        if options.k == 0 || self.is_empty() {
            return Ok(Outcome {
                hits: Vec::new(),
                rescored: 0,
                candidates: 0,
                capped: false,
            });
        }
        let kernels = options.kernels.unwrap_or_else(Kernels::detected);
        let shards = shards(self.len(), options.threads);
        Ok(match options.method {
            Method::ExactF32 => self.search_f32(&q, options, &shards, kernels),
            Method::ExactI8 => self.search_i8(&q, options, &shards, kernels),
            Method::Fast(params) => self.search_fast(&q, options, params, &shards, kernels),
        })
    }

    /// The best exact `f32` score of `query` (unit length) among `rows`, with its row and
    /// group; `None` if `rows` is empty. Ties go to the lower row, as in [`search`](Self::search).
    ///
    /// For 1:1 verification against the rows of one claimed identity: it costs a check of
    /// the query (`O(dim)`) plus one `f32` dot product per row asked for (`O(rows.len() ·
    /// dim)`), whatever the size of the index, and scores exactly as the exact searches do.
    /// The query is checked (length, finite, unit length) even when `rows` is empty.
    pub fn best_among(
        &self,
        query: &[f32],
        rows: &[usize],
        kernels: Option<Kernels>,
    ) -> Result<Option<Hit>, IndexError> {
        for &row in rows {
            self.check_row(row)?;
        }
        self.check_query(query)?;
        // Padded as the rows are, for the kernels; wiped on drop (it is a probe template).
        let mut padded = Zeroizing::new(vec![0.0f32; self.layout.f32_stride]);
        padded[..self.layout.dim].copy_from_slice(query);
        let kernels = kernels.unwrap_or_else(Kernels::detected);
        let mut best: Option<Hit> = None;
        for &row in rows {
            let hit = Hit {
                row,
                group: self.store.meta(row).group,
                score: kernels.dot_f32(&padded, self.store.f32_row(row)),
            };
            if best.is_none_or(|b| hit.score > b.score || (hit.score == b.score && row < b.row)) {
                best = Some(hit);
            }
        }
        Ok(best)
    }

    /// Reads the whole `f32` column (the bytes an exact scan reads) with `threads` threads
    /// and nothing else: the streaming-read bound that an exact scan is measured against.
    pub fn stream_f32(&self, threads: usize, kernels: Option<Kernels>) -> u64 {
        let kernels = kernels.unwrap_or_else(Kernels::detected);
        par_map(&shards(self.len(), threads), |range| {
            self.store.spans(range).fold(0u64, |acc, span| {
                acc.wrapping_add(kernels.stream_sum(bytemuck::cast_slice(span.f32s)))
            })
        })
        .into_iter()
        .fold(0, u64::wrapping_add)
    }

    fn check_row(&self, row: usize) -> Result<(), IndexError> {
        if row < self.len() {
            Ok(())
        } else {
            Err(IndexError::NoSuchRow {
                row,
                len: self.len(),
            })
        }
    }

    /// Checks that `v` has the index's dimension, is finite and has unit length; returns
    /// its norm.
    fn check_query(&self, v: &[f32]) -> Result<f32, IndexError> {
        let dim = self.layout.dim;
        if v.len() != dim {
            return Err(IndexError::DimensionMismatch {
                expected: dim,
                got: v.len(),
            });
        }
        if !v.iter().all(|x| x.is_finite()) {
            return Err(IndexError::NotFinite);
        }
        let norm = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt() as f32;
        if (norm - 1.0).abs() > UNIT_TOLERANCE {
            return Err(IndexError::NotUnit(norm));
        }
        Ok(norm)
    }

    /// Validates `v` and computes its three forms.
    pub(crate) fn prepare(&self, v: &[f32]) -> Result<Prepared, IndexError> {
        let l = self.layout;
        let norm = self.check_query(v)?;
        let mut q = Prepared {
            f32s: vec![0.0; l.f32_stride],
            i8s: vec![0; l.i8_stride],
            quant: Quantised::default(),
            code: vec![0; l.code_words],
            norm,
        };
        q.f32s[..l.dim].copy_from_slice(v);
        q.quant = quantise(v, &mut q.i8s[..l.dim]);
        self.coder.encode(v, &mut q.code);
        Ok(q)
    }

    /// Bound on `|exact − i8 estimate|` for every row against query `q`:
    /// `q·x − q̂·x̂ = q·(x − x̂) + (q − q̂)·x̂`, so at most `‖q‖·‖e_x‖ + ‖e_q‖·‖x̂‖`, plus the
    /// rounding of both computations in `f32`: a sum of `d` products in any order is within
    /// `d·ε·Σ|q_i x_i| ≤ d·ε·‖q‖‖x‖` of the real one (ε = `f32::EPSILON`, twice the unit
    /// roundoff), and the estimate's two multiplications add a few ε more.
    pub(crate) fn i8_bound(&self, q: &Prepared) -> f32 {
        let unit = 1.0 + UNIT_TOLERANCE;
        let rounding = (self.layout.f32_stride as f32 + 8.0) * f32::EPSILON * unit * unit;
        q.norm * self.max_err + q.quant.err * self.max_norm + rounding
    }
}

/// Below this many rows per thread, extra threads cost more to start than they save.
const MIN_SHARD_ROWS: usize = 16_384;

/// `len` rows split into at most `threads` contiguous shards of near-equal size.
pub(crate) fn shards(len: usize, threads: usize) -> Vec<Range<usize>> {
    let n = threads.max(1).min(len.div_ceil(MIN_SHARD_ROWS)).max(1);
    (0..n).map(|i| len * i / n..len * (i + 1) / n).collect()
}

/// Runs `f` on every shard, each on its own thread (the first on the caller's).
pub(crate) fn par_map<T: Send>(
    shards: &[Range<usize>],
    f: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    match shards {
        [] => Vec::new(),
        [only] => vec![f(only.clone())],
        [first, rest @ ..] => std::thread::scope(|s| {
            let handles: Vec<_> = rest
                .iter()
                .map(|r| {
                    let f = &f;
                    s.spawn(move || f(r.clone()))
                })
                .collect();
            let mut out = vec![f(first.clone())];
            out.extend(handles.into_iter().map(|h| match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            }));
            out
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_row_once() {
        for (len, threads) in [(0, 4), (10, 4), (100_000, 3), (1_000_000, 16)] {
            let s = shards(len, threads);
            assert!(s.len() <= threads.max(1));
            assert_eq!(s.first().map(|r| r.start), Some(0));
            assert_eq!(s.last().map(|r| r.end), Some(len));
            assert!(s.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
