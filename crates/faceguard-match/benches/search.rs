//! 1:N search, one thread, against the memory-bandwidth bound.
//!
//! For every gallery of `n` random unit vectors (n = 10,000, 100,000 and 1,000,000; dim = 512
//! and 128; fixed seed), group `search/{dim}/{n}` measures one top-1 query:
//!
//! * `stream`: [`Index::stream_f32`] on one thread: reads the index's `f32` column and does
//!   nothing else. The streaming-read bound of the bytes that an exact scan reads.
//! * `naive`: a plain loop over the same vectors in one flat `Vec<f32>`: each row's dot
//!   product with a single running sum (`iter().zip().map().sum()`), keeping the best.
//! * `simsimd` (x86-64 only): the same loop calling the `simsimd` crate's `f32` dot per row.
//! * `exact_f32`, `exact_i8`, `fast`: [`Index::search`] with `SearchOptions::new(1)` and
//!   [`Method::ExactF32`], [`Method::ExactI8`] and [`Method::Fast`] (default [`FastParams`]).
//! * `fast_nomate`: `fast` again with a query that has no mate in the gallery (a fresh random
//!   vector), the fast search's worst case: with no close row its threshold stays low and it
//!   takes tens of thousands of candidates to its second stage (up to `max_candidates`).
//!
//! Every entry but `fast_nomate` searches with the same probe: a noisy copy (cosine 0.7) of one
//! gallery row, as a genuine face probe would be. Before timing, every method is checked to
//! find that row. The throughput of every entry is `n · dim · 4` bytes (the `f32` column), so
//! criterion's GiB/s is the `f32`-equivalent scan rate: above the `stream` figure for the
//! methods that read less (`exact_i8` reads a quarter of the bytes, `fast` 64 bytes of sign
//! code per row plus its candidates).
//!
//! Each index is built once per (n, dim) and dropped before the next is built; 1,000,000 ×
//! 512 takes about 4.6 GB (2 GB `f32` column, 0.5 GB `i8`, 64 MB codes, plus the 2 GB flat
//! copy for `naive` and `simsimd`) and about 50 s to generate (2-core dev machine).
//!
//! ```text
//! cargo bench -p faceguard-match --bench search
//! FACEGUARD_BENCH_SIZES=10000,100000 cargo bench -p faceguard-match --bench search
//! taskset -c 0 cargo bench -p faceguard-match --bench search -- search/512   # pinned, 512-d only
//! ```
//!
//! `FACEGUARD_BENCH_SIZES` (comma-separated row counts) picks the gallery sizes; the default
//! is all three (1,000 only when run as a test, by `cargo test --benches`). A gallery is built
//! only if criterion's filter lets one of its entries run.

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use faceguard_match::rng::SplitMix64;
use faceguard_match::{FastParams, Index, Method, SearchOptions};

const DEFAULT_SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Sizes when run as a test (each entry once, possibly unoptimised): just check it works.
const TEST_SIZES: [usize; 1] = [1_000];
const DIMS: [usize; 2] = [512, 128];
const SEED: u64 = 0x7365_6172_6368; // "search"
/// Cosine between the probe and its mate in the gallery.
const PROBE_COSINE: f32 = 0.7;

/// Gallery sizes from `FACEGUARD_BENCH_SIZES`, or [`DEFAULT_SIZES`] ([`TEST_SIZES`] when
/// criterion runs the bench as a test: `cargo test --benches`, or `cargo bench -- --test`).
fn sizes() -> Vec<usize> {
    match std::env::var("FACEGUARD_BENCH_SIZES") {
        Ok(s) if !s.trim().is_empty() => s
            .split(',')
            .map(|n| {
                let n = n.trim().replace('_', "");
                n.parse().unwrap_or_else(|_| {
                    panic!("FACEGUARD_BENCH_SIZES: {n:?} is not a row count (e.g. 10000,100000)")
                })
            })
            .collect(),
        _ if test_mode() => TEST_SIZES.to_vec(),
        _ => DEFAULT_SIZES.to_vec(),
    }
}

/// A gallery: the index, the same rows as one flat `Vec<f32>`, and two queries.
struct Gallery {
    index: Index,
    flat: Vec<f32>,
    /// The row the probe was made from.
    mate: usize,
    /// A noisy copy of row `mate`.
    probe: Vec<f32>,
    /// A random vector, close to no row.
    stranger: Vec<f32>,
}

impl Gallery {
    fn new(n: usize, dim: usize) -> Self {
        let mut rng = SplitMix64::new(SEED ^ ((n as u64) << 16) ^ dim as u64);
        let mut index = Index::new(dim).expect("dimension");
        let mut flat = Vec::with_capacity(n * dim);
        for i in 0..n {
            let row = rng.unit_vector(dim);
            index.push(&row, i as u32).expect("unit vector");
            flat.extend_from_slice(&row);
        }
        let mate = n / 2;
        let noise = rng.unit_vector(dim);
        let mut probe: Vec<f32> = flat[mate * dim..][..dim]
            .iter()
            .zip(&noise)
            .map(|(x, e)| PROBE_COSINE * x + (1.0 - PROBE_COSINE * PROBE_COSINE).sqrt() * e)
            .collect();
        let norm = probe.iter().map(|x| x * x).sum::<f32>().sqrt();
        probe.iter_mut().for_each(|x| *x /= norm);
        let stranger = rng.unit_vector(dim);
        Gallery {
            index,
            flat,
            mate,
            probe,
            stranger,
        }
    }
}

/// Best row by a plain loop: one running sum per row.
fn naive(flat: &[f32], query: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, row) in flat.chunks_exact(query.len()).enumerate() {
        let s = row.iter().zip(query).map(|(x, y)| x * y).sum::<f32>();
        if s > best.1 {
            best = (i, s);
        }
    }
    best
}

/// Best row by `simsimd`'s `f32` dot product.
#[cfg(target_arch = "x86_64")]
fn simsimd(flat: &[f32], query: &[f32]) -> (usize, f64) {
    use simsimd::SpatialSimilarity;
    let mut best = (0, f64::NEG_INFINITY);
    for (i, row) in flat.chunks_exact(query.len()).enumerate() {
        let s = f32::dot(row, query).expect("same length");
        if s > best.1 {
            best = (i, s);
        }
    }
    best
}

/// Whether criterion runs in test mode (as it decides: without `--bench`, or with `--test`).
fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test")
}

fn options(method: Method) -> SearchOptions {
    SearchOptions::new(1).method(method)
}

/// [`Method::Fast`] with its default parameters.
fn fast() -> Method {
    Method::Fast(FastParams::default())
}

/// The index's methods, by entry name.
fn methods() -> [(&'static str, Method); 3] {
    [
        ("exact_f32", Method::ExactF32),
        ("exact_i8", Method::ExactI8),
        ("fast", fast()),
    ]
}

/// Every method finds the probe's mate; the fast search's work is reported for both queries.
fn check(g: &Gallery, name: &str) {
    assert_eq!(naive(&g.flat, &g.probe).0, g.mate, "{name}: naive");
    #[cfg(target_arch = "x86_64")]
    assert_eq!(simsimd(&g.flat, &g.probe).0, g.mate, "{name}: simsimd");
    for (method_name, method) in methods() {
        let out = g.index.search(&g.probe, &options(method)).expect("search");
        assert_eq!(out.hits[0].row, g.mate, "{name}: {method_name}");
    }
    for (query, label) in [(&g.probe, "probe"), (&g.stranger, "no mate")] {
        let out = g.index.search(query, &options(fast())).expect("search");
        eprintln!(
            "{name}: fast, {label}: {} candidates, {} re-scored{}",
            out.candidates,
            out.rescored,
            if out.capped { " (capped)" } else { "" }
        );
    }
}

fn search(c: &mut Criterion) {
    for dim in DIMS {
        for n in sizes() {
            let name = format!("search/{dim}/{n}");
            // Built on first use, inside the first entry that criterion's filter lets run (so
            // a filtered-out gallery is never built), and dropped at the end of this iteration,
            // before the next one is built.
            let gallery = OnceCell::new();
            let g = || {
                gallery.get_or_init(|| {
                    let start = Instant::now();
                    let g = Gallery::new(n, dim);
                    eprintln!("{name}: built in {:.1} s", start.elapsed().as_secs_f64());
                    check(&g, &name);
                    g
                })
            };

            let mut group = c.benchmark_group(&name);
            group
                .throughput(Throughput::Bytes((n * dim * size_of::<f32>()) as u64))
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10);
            group.bench_function("stream", |b| {
                let index = &g().index;
                b.iter(|| index.stream_f32(black_box(1), None))
            });
            group.bench_function("naive", |b| {
                let g = g();
                b.iter(|| naive(black_box(&g.flat), black_box(&g.probe)))
            });
            #[cfg(target_arch = "x86_64")]
            group.bench_function("simsimd", |b| {
                let g = g();
                b.iter(|| simsimd(black_box(&g.flat), black_box(&g.probe)))
            });
            for (method_name, method) in methods() {
                let o = options(method);
                group.bench_function(method_name, |b| {
                    let g = g();
                    b.iter(|| g.index.search(black_box(&g.probe), &o).expect("search"))
                });
            }
            let o = options(fast());
            group.bench_function("fast_nomate", |b| {
                let g = g();
                b.iter(|| g.index.search(black_box(&g.stranger), &o).expect("search"))
            });
            group.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = search
}
criterion_main!(benches);
