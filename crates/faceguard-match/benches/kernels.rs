//! Single dot products, in cache: the per-call cost of each kernel family.
//!
//! Groups `dot_f32/{dim}` and `dot_i8/{dim}` for `dim` = 128 and 512 (the usual face-template
//! sizes), one entry per kernel family this CPU supports ([`Isa::ALL`] filtered by
//! [`Kernels::for_isa`]: `scalar`, `avx2`, `avx512`, `neon`, `neon-dotprod`), measured through
//! the public [`Kernels::dot_f32`] / [`Kernels::dot_i8`] (so the length checks are included),
//! plus two references:
//!
//! * `naive`: `a.iter().zip(b).map(|(x, y)| x * y).sum()`, the loop anyone would write. In `f32`
//!   it is a single running sum, which the compiler may not reorder, so it runs at the latency
//!   of one add per element; in `i8` (summed as `i32`) the compiler is free to vectorise it.
//! * `simsimd` (x86-64 only): the `simsimd` crate's `dot` for the same type, a peer library with
//!   hand-written kernels picked at run time (it returns `f64`).
//!
//! Inputs are random (seeded) and passed through `black_box`; the throughput is the bytes of
//! both operands (`2 · dim · size_of::<T>()`), so criterion prints GiB/s. Both vectors stay in
//! L1, so these figures are compute-bound, not memory-bound: see the `search` bench for scans.
//!
//! ```text
//! cargo bench -p faceguard-match --bench kernels
//! cargo bench -p faceguard-match --bench kernels -- dot_f32/512   # one group
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faceguard_match::rng::SplitMix64;
use faceguard_match::{Isa, Kernels};

const DIMS: [usize; 2] = [128, 512];
const SEED: u64 = 0x006b_6572_6e65_6c73; // "kernels"

/// Every kernel family this CPU can run, in [`Isa::ALL`] order.
fn families() -> Vec<Kernels> {
    Isa::ALL
        .iter()
        .filter_map(|&isa| Kernels::for_isa(isa))
        .collect()
}

fn random_i8(rng: &mut SplitMix64, dim: usize) -> Vec<i8> {
    // -127..=127: the range the index's quantisation produces.
    (0..dim)
        .map(|_| (rng.below(255) as i32 - 127) as i8)
        .collect()
}

fn dot_f32(c: &mut Criterion) {
    let mut rng = SplitMix64::new(SEED);
    for dim in DIMS {
        let a = rng.unit_vector(dim);
        let b = rng.unit_vector(dim);
        let mut group = c.benchmark_group(format!("dot_f32/{dim}"));
        group.throughput(Throughput::Bytes((2 * dim * size_of::<f32>()) as u64));
        for k in families() {
            group.bench_function(k.isa().name(), |bench| {
                bench.iter(|| k.dot_f32(black_box(&a), black_box(&b)))
            });
        }
        group.bench_function("naive", |bench| {
            bench.iter(|| {
                let (a, b) = (black_box(&a), black_box(&b));
                a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()
            })
        });
        #[cfg(target_arch = "x86_64")]
        group.bench_function("simsimd", |bench| {
            use simsimd::SpatialSimilarity;
            bench.iter(|| f32::dot(black_box(&a), black_box(&b)))
        });
        group.finish();
    }
}

fn dot_i8(c: &mut Criterion) {
    let mut rng = SplitMix64::new(SEED ^ 1);
    for dim in DIMS {
        let a = random_i8(&mut rng, dim);
        let b = random_i8(&mut rng, dim);
        let mut group = c.benchmark_group(format!("dot_i8/{dim}"));
        group.throughput(Throughput::Bytes((2 * dim) as u64));
        for k in families() {
            group.bench_function(k.isa().name(), |bench| {
                bench.iter(|| k.dot_i8(black_box(&a), black_box(&b)))
            });
        }
        group.bench_function("naive", |bench| {
            bench.iter(|| {
                let (a, b) = (black_box(&a), black_box(&b));
                a.iter()
                    .zip(b)
                    .map(|(&x, &y)| i32::from(x) * i32::from(y))
                    .sum::<i32>()
            })
        });
        #[cfg(target_arch = "x86_64")]
        group.bench_function("simsimd", |bench| {
            use simsimd::SpatialSimilarity;
            bench.iter(|| i8::dot(black_box(&a), black_box(&b)))
        });
        group.finish();
    }
}

/// Sanity check before timing: every family agrees with the naive loops.
fn check() {
    let mut rng = SplitMix64::new(SEED ^ 2);
    for dim in DIMS {
        let (a, b) = (rng.unit_vector(dim), rng.unit_vector(dim));
        let (p, q) = (random_i8(&mut rng, dim), random_i8(&mut rng, dim));
        let want_f32: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let want_i8: i32 = p
            .iter()
            .zip(&q)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum();
        for k in families() {
            assert!((k.dot_f32(&a, &b) - want_f32).abs() < 1e-5, "{:?}", k.isa());
            assert_eq!(k.dot_i8(&p, &q), want_i8, "{:?}", k.isa());
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn benches(c: &mut Criterion) {
    check();
    dot_f32(c);
    dot_i8(c);
}

criterion_group! {
    name = kernels;
    config = config();
    targets = benches
}
criterion_main!(kernels);
