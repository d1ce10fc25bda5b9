//! x86-64 kernels: AVX2 + FMA, and AVX-512 F + BW.
//!
//! `f32` rows are read with fused multiply-adds into four independent accumulators (the loop is
//! bound by memory, not by the adds' latency, once there are four). `i8` rows are sign-extended
//! to `i16` and multiplied with `vpmaddwd`, which is exact for every input including -128
//! (the `vpmaddubsw` trick saturates at -128 × -128 + -128 × -128). Hamming distances use
//! `popcnt`, which already outruns memory at these code lengths.

use std::arch::x86_64::*;

use zeroize::Zeroize;

use super::{scalar, Isa, Kernels};

pub(super) const AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    dots_f32: avx2_dots_f32,
    dots_i8: avx2_dots_i8,
    hamming: popcnt_hamming,
    stream_sum: avx2_stream_sum,
};

pub(super) const AVX512: Kernels = Kernels {
    isa: Isa::Avx512,
    dots_f32: avx512_dots_f32,
    dots_i8: avx512_dots_i8,
    hamming: popcnt_hamming,
    stream_sum: avx512_stream_sum,
};

// Entry points. `AVX2` and `AVX512` are only handed out by `Kernels::for_isa` after
// `Isa::is_supported` has found every feature these functions enable, so calling them is sound
// whenever one of these entry points runs.

fn avx2_dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
    // SAFETY: reached only through `AVX2`, i.e. after AVX2 and FMA were detected.
    unsafe { avx2::dots_f32(q, rows, out) }
}

fn avx2_dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
    // SAFETY: reached only through `AVX2`, i.e. after AVX2 was detected.
    unsafe { avx2::dots_i8(q, rows, out) }
}

fn avx2_stream_sum(words: &[u64]) -> u64 {
    // SAFETY: reached only through `AVX2`, i.e. after AVX2 was detected.
    unsafe { avx2::stream_sum(words) }
}

fn avx512_dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
    // SAFETY: reached only through `AVX512`, i.e. after AVX-512 F was detected.
    unsafe { avx512::dots_f32(q, rows, out) }
}

fn avx512_dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
    // SAFETY: reached only through `AVX512`, i.e. after AVX-512 F and BW were detected.
    unsafe { avx512::dots_i8(q, rows, out) }
}

fn avx512_stream_sum(words: &[u64]) -> u64 {
    // SAFETY: reached only through `AVX512`, i.e. after AVX-512 F was detected.
    unsafe { avx512::stream_sum(words) }
}

/// Longest query the `i8` kernels widen into a stack buffer (8 KiB), and the fewest rows for
/// which that pays (clearing the buffer costs about as much as widening a row).
const WIDE_MAX: usize = 4096;
const WIDEN_MIN_ROWS: usize = 8;

fn popcnt_hamming(q: &[u64], codes: &[u64], out: &mut [u16]) {
    // SAFETY: reached only through `AVX2` or `AVX512`, both of which require POPCNT.
    unsafe { popcnt::hamming(q, codes, out) }
}

mod avx2 {
    use super::*;

    #[target_feature(enable = "avx")]
    fn load_ps(s: &[f32; 8]) -> __m256 {
        // SAFETY: `s` is 8 readable f32; `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_ps(s.as_ptr()) }
    }

    #[target_feature(enable = "avx")]
    fn load_i16x16(s: &[i16; 16]) -> __m256i {
        // SAFETY: `s` is 32 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
    }

    #[target_feature(enable = "sse2")]
    fn load_i8x16(s: &[i8; 16]) -> __m128i {
        // SAFETY: `s` is 16 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm_loadu_si128(s.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx")]
    fn load_u64x4(s: &[u64; 4]) -> __m256i {
        // SAFETY: `s` is 32 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx")]
    fn hsum_ps(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
    }

    #[target_feature(enable = "avx2")]
    fn hsum_epi32(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s)))
    }

    #[target_feature(enable = "avx2,fma")]
    fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let (a8, ra) = a.as_chunks::<8>();
        let (b8, rb) = b.as_chunks::<8>();
        let mut acc = [_mm256_setzero_ps(); 4];
        let (a32, b32) = (a8.chunks_exact(4), b8.chunks_exact(4));
        let (a8r, b8r) = (a32.remainder(), b32.remainder());
        for (x, y) in a32.zip(b32) {
            for j in 0..4 {
                acc[j] = _mm256_fmadd_ps(load_ps(&x[j]), load_ps(&y[j]), acc[j]);
            }
        }
        for (x, y) in a8r.iter().zip(b8r) {
            acc[0] = _mm256_fmadd_ps(load_ps(x), load_ps(y), acc[0]);
        }
        let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum_ps(v) + scalar::dot_f32(ra, rb)
    }

    /// One row at a time, front to back, so that the scan is a single sequential stream
    /// for the hardware prefetcher (interleaving rows measured slower from DRAM, though
    /// faster in cache); four accumulators hide the FMA latency.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            *o = dot_f32(q, row);
        }
    }

    /// Few rows: both sides widened as they are read.
    #[target_feature(enable = "avx2")]
    fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let (a16, ra) = a.as_chunks::<16>();
        let (b16, rb) = b.as_chunks::<16>();
        let mut acc = _mm256_setzero_si256();
        for (x, y) in a16.iter().zip(b16) {
            let (x, y) = (
                _mm256_cvtepi8_epi16(load_i8x16(x)),
                _mm256_cvtepi8_epi16(load_i8x16(y)),
            );
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
        }
        hsum_epi32(acc) + scalar::dot_i8(ra, rb)
    }

    /// The query is widened to `i16` once per batch (into a stack buffer), so each row costs
    /// one widening; two accumulators alternate.
    #[target_feature(enable = "avx2")]
    pub(super) fn dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
        if out.len() < WIDEN_MIN_ROWS || q.len() > WIDE_MAX {
            for (row, o) in rows.chunks_exact(q.len()).zip(out) {
                *o = dot_i8(q, row);
            }
            return;
        }
        let mut buf = [0i16; WIDE_MAX];
        let wide = &mut buf[..q.len()];
        wide.iter_mut().zip(q).for_each(|(w, &x)| *w = i16::from(x));
        let (w16, _) = wide.as_chunks::<16>();
        let (_, qr) = q.as_chunks::<16>();
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            let (r16, rest) = row.as_chunks::<16>();
            let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            let (rp, wp) = (r16.chunks_exact(2), w16.chunks_exact(2));
            let (rr, wr) = (rp.remainder(), wp.remainder());
            for (x, y) in rp.zip(wp) {
                let x0 = _mm256_cvtepi8_epi16(load_i8x16(&x[0]));
                let x1 = _mm256_cvtepi8_epi16(load_i8x16(&x[1]));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, load_i16x16(&y[0])));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x1, load_i16x16(&y[1])));
            }
            if let (Some(x), Some(y)) = (rr.first(), wr.first()) {
                let x0 = _mm256_cvtepi8_epi16(load_i8x16(x));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, load_i16x16(y)));
            }
            *o = hsum_epi32(_mm256_add_epi32(a0, a1)) + scalar::dot_i8(rest, qr);
        }
        // The widened copy is the quantised probe template.
        wide.zeroize();
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn stream_sum(words: &[u64]) -> u64 {
        let (c16, rest) = words.as_chunks::<16>();
        let mut acc = [_mm256_setzero_si256(); 4];
        for c in c16 {
            let (q4, _) = c.as_chunks::<4>();
            for j in 0..4 {
                acc[j] = _mm256_add_epi64(acc[j], load_u64x4(&q4[j]));
            }
        }
        let v = _mm256_add_epi64(
            _mm256_add_epi64(acc[0], acc[1]),
            _mm256_add_epi64(acc[2], acc[3]),
        );
        let mut lanes = [0u64; 4];
        for (j, lane) in lanes.iter_mut().enumerate() {
            *lane = match j {
                0 => _mm256_extract_epi64::<0>(v),
                1 => _mm256_extract_epi64::<1>(v),
                2 => _mm256_extract_epi64::<2>(v),
                _ => _mm256_extract_epi64::<3>(v),
            } as u64;
        }
        lanes
            .iter()
            .fold(scalar::stream_sum(rest), |s, &w| s.wrapping_add(w))
    }
}

mod avx512 {
    use super::*;

    #[target_feature(enable = "avx512f")]
    fn load_ps(s: &[f32; 16]) -> __m512 {
        // SAFETY: `s` is 16 readable f32; `loadu` has no alignment requirement.
        unsafe { _mm512_loadu_ps(s.as_ptr()) }
    }

    #[target_feature(enable = "avx512f")]
    fn load_u64x8(s: &[u64; 8]) -> __m512i {
        // SAFETY: `s` is 64 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx512f")]
    fn load_i16x32(s: &[i16; 32]) -> __m512i {
        // SAFETY: `s` is 64 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx")]
    fn load_i8x32(s: &[i8; 32]) -> __m256i {
        // SAFETY: `s` is 32 readable bytes; `loadu` has no alignment requirement.
        unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx512f")]
    fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let (a16, ra) = a.as_chunks::<16>();
        let (b16, rb) = b.as_chunks::<16>();
        let mut acc = [_mm512_setzero_ps(); 4];
        let (a64, b64) = (a16.chunks_exact(4), b16.chunks_exact(4));
        let (a16r, b16r) = (a64.remainder(), b64.remainder());
        for (x, y) in a64.zip(b64) {
            for j in 0..4 {
                acc[j] = _mm512_fmadd_ps(load_ps(&x[j]), load_ps(&y[j]), acc[j]);
            }
        }
        for (x, y) in a16r.iter().zip(b16r) {
            acc[0] = _mm512_fmadd_ps(load_ps(x), load_ps(y), acc[0]);
        }
        let v = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        _mm512_reduce_add_ps(v) + scalar::dot_f32(ra, rb)
    }

    /// One row at a time, as in the AVX2 kernel.
    #[target_feature(enable = "avx512f")]
    pub(super) fn dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            *o = dot_f32(q, row);
        }
    }

    /// Few rows: both sides widened as they are read.
    #[target_feature(enable = "avx512f,avx512bw")]
    fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let (a32, ra) = a.as_chunks::<32>();
        let (b32, rb) = b.as_chunks::<32>();
        let mut acc = _mm512_setzero_si512();
        for (x, y) in a32.iter().zip(b32) {
            let (x, y) = (
                _mm512_cvtepi8_epi16(load_i8x32(x)),
                _mm512_cvtepi8_epi16(load_i8x32(y)),
            );
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
        }
        _mm512_reduce_add_epi32(acc) + scalar::dot_i8(ra, rb)
    }

    /// As the AVX2 kernel, 32 elements per step.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
        if out.len() < WIDEN_MIN_ROWS || q.len() > WIDE_MAX {
            for (row, o) in rows.chunks_exact(q.len()).zip(out) {
                *o = dot_i8(q, row);
            }
            return;
        }
        let mut buf = [0i16; WIDE_MAX];
        let wide = &mut buf[..q.len()];
        wide.iter_mut().zip(q).for_each(|(w, &x)| *w = i16::from(x));
        let (w32, _) = wide.as_chunks::<32>();
        let (_, qr) = q.as_chunks::<32>();
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            let (r32, rest) = row.as_chunks::<32>();
            let (mut a0, mut a1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
            let (rp, wp) = (r32.chunks_exact(2), w32.chunks_exact(2));
            let (rr, wr) = (rp.remainder(), wp.remainder());
            for (x, y) in rp.zip(wp) {
                let x0 = _mm512_cvtepi8_epi16(load_i8x32(&x[0]));
                let x1 = _mm512_cvtepi8_epi16(load_i8x32(&x[1]));
                a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(x0, load_i16x32(&y[0])));
                a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(x1, load_i16x32(&y[1])));
            }
            if let (Some(x), Some(y)) = (rr.first(), wr.first()) {
                let x0 = _mm512_cvtepi8_epi16(load_i8x32(x));
                a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(x0, load_i16x32(y)));
            }
            *o = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1)) + scalar::dot_i8(rest, qr);
        }
        // The widened copy is the quantised probe template.
        wide.zeroize();
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn stream_sum(words: &[u64]) -> u64 {
        let (c32, rest) = words.as_chunks::<32>();
        let mut acc = [_mm512_setzero_si512(); 4];
        for c in c32 {
            let (q8, _) = c.as_chunks::<8>();
            for j in 0..4 {
                acc[j] = _mm512_add_epi64(acc[j], load_u64x8(&q8[j]));
            }
        }
        let v = _mm512_add_epi64(
            _mm512_add_epi64(acc[0], acc[1]),
            _mm512_add_epi64(acc[2], acc[3]),
        );
        (_mm512_reduce_add_epi64(v) as u64).wrapping_add(scalar::stream_sum(rest))
    }
}

mod popcnt {
    #[target_feature(enable = "popcnt")]
    pub(super) fn hamming(q: &[u64], codes: &[u64], out: &mut [u16]) {
        for (code, o) in codes.chunks_exact(q.len()).zip(out) {
            *o = q
                .iter()
                .zip(code)
                .map(|(x, y)| (x ^ y).count_ones() as u16)
                .sum();
        }
    }
}
