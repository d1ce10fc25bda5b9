//! The portable reference kernels. Several independent partial sums let the compiler vectorise
//! them (a single running sum could not be reordered).

const LANES: usize = 8;

pub(super) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A plain sum: integer addition is exact in any order, so LLVM vectorises this form freely
/// (NEON `vmlal.s16` on armv7, for instance), which it does not with explicit partial sums.
pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

pub(super) fn hamming1(a: &[u64], b: &[u64]) -> u16 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x ^ y).count_ones() as u16)
        .sum()
}

pub(super) fn dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(q.len()).zip(out) {
        *o = dot_f32(q, row);
    }
}

pub(super) fn dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
    for (row, o) in rows.chunks_exact(q.len()).zip(out) {
        *o = dot_i8(q, row);
    }
}

pub(super) fn hamming(q: &[u64], codes: &[u64], out: &mut [u16]) {
    for (code, o) in codes.chunks_exact(q.len()).zip(out) {
        *o = hamming1(q, code);
    }
}

pub(super) fn stream_sum(words: &[u64]) -> u64 {
    let mut acc = [0u64; LANES];
    let chunks = words.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(0u64, |s, &w| s.wrapping_add(w));
    for c in chunks {
        for i in 0..LANES {
            acc[i] = acc[i].wrapping_add(c[i]);
        }
    }
    acc.iter().fold(tail, |s, &w| s.wrapping_add(w))
}
