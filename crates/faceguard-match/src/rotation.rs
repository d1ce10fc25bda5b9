//! Compact codes for the fast search: the sign bits of randomly rotated templates (SimHash).
//!
//! Two unit vectors at angle θ land on different sides of a random hyperplane with probability
//! θ/π, so the Hamming distance between their `b`-bit codes is close to `b·θ/π` — a cosine
//! estimate from 64 bytes per 512-d template instead of 2048. The rotation is a randomised
//! Hadamard transform (three rounds of random sign flips and a fast Walsh–Hadamard transform):
//! O(n log n) per vector, data-independent, and fixed by a seed, so codes stay valid for the
//! life of an index. Vectors are zero-padded to a power of two `n`; when `n` is below the
//! requested number of bits, independent rotations are stacked.

use zeroize::Zeroize;

use crate::rng::SplitMix64;

const ROUNDS: usize = 3;

/// A fixed random rotation producing `bits()`-bit sign codes.
#[derive(Debug, Clone)]
pub(crate) struct SignCoder {
    dim: usize,
    n: usize,
    /// `signs[copy][round]`: ±1 per coordinate.
    signs: Vec<[Vec<f32>; ROUNDS]>,
}

impl SignCoder {
    /// Codes of at least `min_bits` bits for `dim`-dimensional vectors (a multiple of 64).
    pub(crate) fn new(dim: usize, min_bits: usize, seed: u64) -> Self {
        let n = dim.next_power_of_two().max(64);
        let copies = min_bits.div_ceil(n).max(1);
        let mut rng = SplitMix64::new(seed);
        let signs = (0..copies)
            .map(|_| {
                std::array::from_fn(|_| {
                    (0..n)
                        .map(|_| if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 })
                        .collect()
                })
            })
            .collect();
        SignCoder { dim, n, signs }
    }

    /// Code length in bits.
    pub(crate) fn bits(&self) -> usize {
        self.n * self.signs.len()
    }

    /// Code length in 64-bit words.
    pub(crate) fn words(&self) -> usize {
        self.bits() / 64
    }

    /// Writes the code of `v` (`dim` values) into `out` (`words()` words).
    pub(crate) fn encode(&self, v: &[f32], out: &mut [u64]) {
        debug_assert_eq!(v.len(), self.dim);
        debug_assert_eq!(out.len(), self.words());
        let mut buf = vec![0.0f32; self.n];
        for (copy, words) in self.signs.iter().zip(out.chunks_exact_mut(self.n / 64)) {
            buf[..self.dim].copy_from_slice(v);
            buf[self.dim..].fill(0.0);
            for signs in copy {
                buf.iter_mut().zip(signs).for_each(|(x, s)| *x *= s);
                fwht(&mut buf);
            }
            for (word, xs) in words.iter_mut().zip(buf.chunks_exact(64)) {
                *word = xs
                    .iter()
                    .enumerate()
                    .fold(0u64, |w, (i, &x)| w | (u64::from(x < 0.0) << i));
            }
        }
        // The rotated vector is as revealing as the template itself.
        buf.zeroize();
    }
}

/// In-place unnormalised fast Walsh–Hadamard transform (`x.len()` a power of two). The missing
/// 1/√n factor does not change signs.
fn fwht(x: &mut [f32]) {
    let n = x.len();
    let mut h = 1;
    while h < n {
        for block in x.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (u, v) in a.iter_mut().zip(b.iter_mut()) {
                let (s, d) = (*u + *v, *u - *v);
                *u = s;
                *v = d;
            }
        }
        h *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hamming(a: &[u64], b: &[u64]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
    }

    #[test]
    fn fwht_twice_is_n_times_identity() {
        let mut x: Vec<f32> = (0..16).map(|i| i as f32 - 3.5).collect();
        let orig = x.clone();
        fwht(&mut x);
        fwht(&mut x);
        for (a, b) in x.iter().zip(&orig) {
            assert!((a / 16.0 - b).abs() < 1e-5);
        }
    }

    #[test]
    fn hamming_distance_estimates_the_angle() {
        let mut rng = SplitMix64::new(3);
        for dim in [128, 512, 100] {
            let coder = SignCoder::new(dim, 512, 42);
            let (mut ca, mut cb) = (vec![0; coder.words()], vec![0; coder.words()]);
            let mut total_err = 0.0;
            let trials = 200;
            for _ in 0..trials {
                let a = rng.unit_vector(dim);
                let noise = rng.unit_vector(dim);
                // b at a random angle from a.
                let c = rng.next_f64() as f32;
                let s = (1.0 - c * c).sqrt();
                let mut b: Vec<f32> = a.iter().zip(&noise).map(|(x, y)| c * x + s * y).collect();
                let norm = b.iter().map(|x| x * x).sum::<f32>().sqrt();
                b.iter_mut().for_each(|x| *x /= norm);
                let cos: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
                coder.encode(&a, &mut ca);
                coder.encode(&b, &mut cb);
                let expected = coder.bits() as f64 * f64::from(cos.clamp(-1.0, 1.0)).acos()
                    / std::f64::consts::PI;
                total_err += (f64::from(hamming(&ca, &cb)) - expected).abs();
            }
            // Binomial(512, p) has s.d. at most 11.3 bits, mean absolute deviation ~9.
            let mean_err = total_err / trials as f64;
            assert!(mean_err < 12.0, "dim {dim}: mean |error| {mean_err} bits");
        }
    }
}
