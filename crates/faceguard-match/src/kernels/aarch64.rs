//! aarch64 kernels: Advanced SIMD (NEON, on every aarch64 core), and `SDOT` where the core has
//! the dot-product extension (Armv8.2+: Cortex-A55, A76, ...; not Cortex-A53).
//!
//! Stable Rust has no `SDOT` intrinsic, so that one instruction is written with `asm!`. Without
//! it, `i8` products are formed by widening multiplies (`SMULL`, exact for every input including
//! -128) and accumulated pairwise into `i32` lanes (`SADALP`).

use std::arch::aarch64::*;
use std::arch::asm;

use super::{scalar, Isa, Kernels};

pub(super) const NEON: Kernels = Kernels {
    isa: Isa::Neon,
    dots_f32: neon_dots_f32,
    dots_i8: neon_dots_i8,
    hamming: neon_hamming,
    stream_sum: neon_stream_sum,
};

pub(super) const NEON_DOTPROD: Kernels = Kernels {
    isa: Isa::NeonDotprod,
    dots_i8: dotprod_dots_i8,
    ..NEON
};

// Entry points. `NEON` and `NEON_DOTPROD` are only handed out by `Kernels::for_isa` after
// `Isa::is_supported` has found every feature these functions enable.

fn neon_dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
    // SAFETY: reached only through `NEON`, i.e. after NEON was detected.
    unsafe { neon::dots_f32(q, rows, out) }
}

fn neon_dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
    // SAFETY: reached only through `NEON`, i.e. after NEON was detected.
    unsafe { neon::dots_i8(q, rows, out) }
}

fn dotprod_dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
    // SAFETY: reached only through `NEON_DOTPROD`, i.e. after NEON and dotprod were detected.
    unsafe { dotprod::dots_i8(q, rows, out) }
}

fn neon_hamming(q: &[u64], codes: &[u64], out: &mut [u16]) {
    // SAFETY: reached only through `NEON`, i.e. after NEON was detected.
    unsafe { neon::hamming(q, codes, out) }
}

fn neon_stream_sum(words: &[u64]) -> u64 {
    // SAFETY: reached only through `NEON`, i.e. after NEON was detected.
    unsafe { neon::stream_sum(words) }
}

#[target_feature(enable = "neon")]
fn load_f32x4(s: &[f32; 4]) -> float32x4_t {
    // SAFETY: `s` is 4 readable f32; `ld1` has no alignment requirement beyond the element's.
    unsafe { vld1q_f32(s.as_ptr()) }
}

#[target_feature(enable = "neon")]
fn load_i8x16(s: &[i8; 16]) -> int8x16_t {
    // SAFETY: `s` is 16 readable bytes.
    unsafe { vld1q_s8(s.as_ptr()) }
}

#[target_feature(enable = "neon")]
fn load_u64x2(s: &[u64; 2]) -> uint64x2_t {
    // SAFETY: `s` is 2 readable u64.
    unsafe { vld1q_u64(s.as_ptr()) }
}

mod neon {
    use super::*;

    #[target_feature(enable = "neon")]
    fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let (a4, ra) = a.as_chunks::<4>();
        let (b4, rb) = b.as_chunks::<4>();
        let mut acc = [vdupq_n_f32(0.0); 4];
        let (a16, b16) = (a4.chunks_exact(4), b4.chunks_exact(4));
        let (a4r, b4r) = (a16.remainder(), b16.remainder());
        for (x, y) in a16.zip(b16) {
            for j in 0..4 {
                acc[j] = vfmaq_f32(acc[j], load_f32x4(&x[j]), load_f32x4(&y[j]));
            }
        }
        for (x, y) in a4r.iter().zip(b4r) {
            acc[0] = vfmaq_f32(acc[0], load_f32x4(x), load_f32x4(y));
        }
        let v = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
        vaddvq_f32(v) + scalar::dot_f32(ra, rb)
    }

    #[target_feature(enable = "neon")]
    pub(super) fn dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            *o = dot_f32(q, row);
        }
    }

    #[target_feature(enable = "neon")]
    fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let (a16, ra) = a.as_chunks::<16>();
        let (b16, rb) = b.as_chunks::<16>();
        let mut acc = [vdupq_n_s32(0); 2];
        for (x, y) in a16.iter().zip(b16) {
            let (x, y) = (load_i8x16(x), load_i8x16(y));
            acc[0] = vpadalq_s16(acc[0], vmull_s8(vget_low_s8(x), vget_low_s8(y)));
            acc[1] = vpadalq_s16(acc[1], vmull_high_s8(x, y));
        }
        vaddvq_s32(vaddq_s32(acc[0], acc[1])) + scalar::dot_i8(ra, rb)
    }

    #[target_feature(enable = "neon")]
    pub(super) fn dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            *o = dot_i8(q, row);
        }
    }

    #[target_feature(enable = "neon")]
    pub(super) fn hamming(q: &[u64], codes: &[u64], out: &mut [u16]) {
        let (q2, qr) = q.as_chunks::<2>();
        for (code, o) in codes.chunks_exact(q.len()).zip(out) {
            let (c2, cr) = code.as_chunks::<2>();
            let mut acc = vdupq_n_u16(0);
            for (x, y) in q2.iter().zip(c2) {
                let diff = vreinterpretq_u8_u64(veorq_u64(load_u64x2(x), load_u64x2(y)));
                // At most 16 per lane per pair of words: codes of up to 1023 words fit u16 lanes.
                acc = vpadalq_u8(acc, vcntq_u8(diff));
            }
            *o = vaddlvq_u16(acc) as u16 + scalar::hamming1(qr, cr);
        }
    }

    #[target_feature(enable = "neon")]
    pub(super) fn stream_sum(words: &[u64]) -> u64 {
        let (c8, rest) = words.as_chunks::<8>();
        let mut acc = [vdupq_n_u64(0); 4];
        for c in c8 {
            let (p, _) = c.as_chunks::<2>();
            for j in 0..4 {
                acc[j] = vaddq_u64(acc[j], load_u64x2(&p[j]));
            }
        }
        let v = vaddq_u64(vaddq_u64(acc[0], acc[1]), vaddq_u64(acc[2], acc[3]));
        vaddvq_u64(v).wrapping_add(scalar::stream_sum(rest))
    }
}

mod dotprod {
    use super::*;

    /// `acc[i] += a[4i..4i+4] · b[4i..4i+4]` for the four `i32` lanes.
    #[target_feature(enable = "neon,dotprod")]
    fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        let mut acc = acc;
        // SAFETY: `sdot` reads two vector registers and updates a third; it touches no memory,
        // the stack or flags, and the enclosing function requires the dotprod extension.
        unsafe {
            asm!(
                "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
                acc = inout(vreg) acc,
                a = in(vreg) a,
                b = in(vreg) b,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        acc
    }

    #[target_feature(enable = "neon,dotprod")]
    fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let (a16, ra) = a.as_chunks::<16>();
        let (b16, rb) = b.as_chunks::<16>();
        let (mut a0, mut a1) = (vdupq_n_s32(0), vdupq_n_s32(0));
        let (ap, bp) = (a16.chunks_exact(2), b16.chunks_exact(2));
        let (ar, br) = (ap.remainder(), bp.remainder());
        for (x, y) in ap.zip(bp) {
            a0 = sdot(a0, load_i8x16(&x[0]), load_i8x16(&y[0]));
            a1 = sdot(a1, load_i8x16(&x[1]), load_i8x16(&y[1]));
        }
        if let (Some(x), Some(y)) = (ar.first(), br.first()) {
            a0 = sdot(a0, load_i8x16(x), load_i8x16(y));
        }
        vaddvq_s32(vaddq_s32(a0, a1)) + scalar::dot_i8(ra, rb)
    }

    #[target_feature(enable = "neon,dotprod")]
    pub(super) fn dots_i8(q: &[i8], rows: &[i8], out: &mut [i32]) {
        for (row, o) in rows.chunks_exact(q.len()).zip(out) {
            *o = dot_i8(q, row);
        }
    }
}
