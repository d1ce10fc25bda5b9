//! Every kernel family computes what the scalar reference computes, on random and edge-case
//! inputs, with each family the CPU supports forced in turn.
//!
//! Families this CPU lacks cannot run here; `FACEGUARD_EXPECT_ISAS` (comma-separated names,
//! set by `scripts/test-cross.sh` and CI) makes their absence a failure instead of a note, and
//! `FACEGUARD_EXPECT_NO_ISAS` checks that a family is really switched off (qemu's Cortex-A53
//! has no dotprod).

use faceguard_match::rng::SplitMix64;
use faceguard_match::{Isa, Kernels};

fn families() -> Vec<Kernels> {
    let found: Vec<Kernels> = Isa::ALL
        .iter()
        .filter_map(|&i| Kernels::for_isa(i))
        .collect();
    let names: Vec<&str> = found.iter().map(|k| k.isa().name()).collect();
    eprintln!("kernel families tested on this CPU: {names:?}");
    found
}

/// Lengths around every lane width (4, 8, 16, 32, 64) and typical template sizes.
const LENGTHS: &[usize] = &[
    1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257,
    511, 512, 513, 1000, 1024,
];

fn random_f32(rng: &mut SplitMix64, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| (rng.gaussian() as f32) * scale).collect()
}

fn random_i8(rng: &mut SplitMix64, n: usize) -> Vec<i8> {
    (0..n).map(|_| rng.next_u64() as i8).collect()
}

fn exact_dot(a: &[f32], b: &[f32]) -> (f64, f64) {
    let dot = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let abs = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) * f64::from(y)).abs())
        .sum();
    (dot, abs)
}

#[test]
fn expected_isas_are_detected() {
    let has = |name: &str| {
        Isa::ALL
            .iter()
            .any(|i| i.name() == name && i.is_supported())
    };
    if let Ok(list) = std::env::var("FACEGUARD_EXPECT_ISAS") {
        for name in list.split(',').filter(|s| !s.is_empty()) {
            assert!(
                has(name),
                "kernel family {name} expected but not supported by this CPU"
            );
        }
    }
    if let Ok(list) = std::env::var("FACEGUARD_EXPECT_NO_ISAS") {
        for name in list.split(',').filter(|s| !s.is_empty()) {
            assert!(
                !has(name),
                "kernel family {name} should be unavailable here"
            );
        }
    }
    assert!(Isa::Scalar.is_supported());
    assert_eq!(
        Kernels::detected().isa(),
        *Isa::ALL.iter().rev().find(|i| i.is_supported()).unwrap()
    );
}

#[test]
fn f32_dot_products_agree_with_the_reference_for_every_length() {
    let mut rng = SplitMix64::new(11);
    for k in families() {
        for &n in LENGTHS {
            for scale in [1.0, 1e-20, 1e18] {
                let (a, b) = (
                    random_f32(&mut rng, n, scale),
                    random_f32(&mut rng, n, scale),
                );
                let (exact, abs) = exact_dot(&a, &b);
                for got in [k.dot_f32(&a, &b), Kernels::SCALAR.dot_f32(&a, &b)] {
                    // Any summation order is within n·ε·Σ|a_i b_i| of the exact sum.
                    let tol = n as f64 * f64::from(f32::EPSILON) * abs + 1e-30;
                    assert!(
                        (f64::from(got) - exact).abs() <= tol,
                        "{}: n={n} scale={scale}: {got} vs {exact}",
                        k.isa()
                    );
                }
            }
        }
    }
}

#[test]
fn f32_extremes_behave_like_the_reference() {
    for k in families() {
        for &n in &[7, 64, 129] {
            let max = vec![f32::MAX; n];
            assert_eq!(k.dot_f32(&max, &max), f32::INFINITY, "{}", k.isa());
            let mut with_nan = vec![0.5; n];
            with_nan[n - 1] = f32::NAN;
            assert!(k.dot_f32(&with_nan, &vec![1.0; n]).is_nan(), "{}", k.isa());
            let tiny = vec![f32::MIN_POSITIVE; n];
            assert_eq!(k.dot_f32(&tiny, &tiny), 0.0, "{}", k.isa());
            let zeros = vec![0.0; n];
            assert_eq!(k.dot_f32(&zeros, &max), 0.0, "{}", k.isa());
        }
    }
}

#[test]
fn i8_dot_products_are_exact_including_minus_128() {
    let mut rng = SplitMix64::new(12);
    for k in families() {
        for &n in LENGTHS {
            let (a, b) = (random_i8(&mut rng, n), random_i8(&mut rng, n));
            let exact: i64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| i64::from(x) * i64::from(y))
                .sum();
            assert_eq!(i64::from(k.dot_i8(&a, &b)), exact, "{} n={n}", k.isa());
            let low = vec![-128i8; n];
            assert_eq!(
                i64::from(k.dot_i8(&low, &low)),
                16384 * n as i64,
                "{} n={n}",
                k.isa()
            );
            let high = vec![127i8; n];
            assert_eq!(
                i64::from(k.dot_i8(&low, &high)),
                -16256 * n as i64,
                "{} n={n}",
                k.isa()
            );
        }
        // The longest rows allowed cannot overflow.
        let n = faceguard_match::kernels::MAX_I8_LEN;
        let low = vec![-128i8; n];
        assert_eq!(
            i64::from(k.dot_i8(&low, &low)),
            16384 * n as i64,
            "{}",
            k.isa()
        );
    }
}

#[test]
fn batch_kernels_score_every_row() {
    let mut rng = SplitMix64::new(13);
    for k in families() {
        for &d in &[1, 17, 128, 512] {
            let rows = 37;
            let q = random_f32(&mut rng, d, 1.0);
            let data = random_f32(&mut rng, d * rows, 1.0);
            let mut out = vec![0.0; rows];
            k.dots_f32(&q, &data, &mut out);
            for (r, &got) in out.iter().enumerate() {
                assert_eq!(
                    got,
                    k.dot_f32(&q, &data[r * d..(r + 1) * d]),
                    "{} d={d}",
                    k.isa()
                );
            }
            let qi = random_i8(&mut rng, d);
            let di = random_i8(&mut rng, d * rows);
            let mut outi = vec![0; rows];
            k.dots_i8(&qi, &di, &mut outi);
            for (r, &got) in outi.iter().enumerate() {
                assert_eq!(got, Kernels::SCALAR.dot_i8(&qi, &di[r * d..(r + 1) * d]));
            }
        }
    }
}

#[test]
fn hamming_distances_are_exact() {
    let mut rng = SplitMix64::new(14);
    for k in families() {
        for &words in &[1, 2, 3, 7, 8, 9, 16, 64, 1023] {
            let rows = 9;
            let q: Vec<u64> = (0..words).map(|_| rng.next_u64()).collect();
            let mut codes: Vec<u64> = (0..words * rows).map(|_| rng.next_u64()).collect();
            codes[..words].copy_from_slice(&q); // distance 0
            codes[words..2 * words]
                .iter_mut()
                .zip(&q)
                .for_each(|(c, x)| *c = !x); // all bits
            let mut out = vec![0; rows];
            k.hamming(&q, &codes, &mut out);
            assert_eq!(out[0], 0);
            assert_eq!(usize::from(out[1]), 64 * words);
            for (r, &got) in out.iter().enumerate() {
                let exact: u32 = q
                    .iter()
                    .zip(&codes[r * words..])
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum();
                assert_eq!(u32::from(got), exact, "{} words={words}", k.isa());
            }
        }
    }
}

#[test]
fn stream_sum_reads_every_word() {
    let mut rng = SplitMix64::new(15);
    for k in families() {
        for n in [0, 1, 15, 16, 17, 31, 33, 1000, 4099] {
            let w: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
            let exact = w.iter().fold(0u64, |s, &x| s.wrapping_add(x));
            assert_eq!(k.stream_sum(&w), exact, "{} n={n}", k.isa());
        }
    }
}

#[test]
#[should_panic(expected = "are not")]
fn mismatched_batch_lengths_are_refused() {
    Kernels::detected().dots_f32(&[1.0; 4], &[1.0; 7], &mut [0.0; 2]);
}
