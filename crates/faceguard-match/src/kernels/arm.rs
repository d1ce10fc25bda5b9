//! armv7 kernels, for builds for NEON SoCs (Cortex-A7/A9/A15): the `armv7-neon` feature with
//! `-C target-feature=+neon`.
//!
//! Stable Rust has neither the armv7 NEON intrinsics nor runtime detection of NEON on armv7
//! (nor a `cfg` for `+neon`), so this family is chosen by the build and its one loop is
//! written with `asm!`. It pays
//! for `f32`: LLVM does not vectorise float reductions for armv7 NEON (NEON flushes
//! denormals, which is not IEEE 754), so the portable kernel runs on scalar VFP. `i8` dot
//! products, Hamming distances and the streaming read are integer loops that LLVM already
//! vectorises for NEON, so the portable kernels serve for those.

use std::arch::asm;

use super::{scalar, Isa, Kernels};

pub(super) const NEON: Kernels = Kernels {
    isa: Isa::Armv7Neon,
    dots_f32,
    ..Kernels::SCALAR
};

fn dots_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
    for (row, o) in rows.chunks_exact(q.len()).zip(out) {
        *o = dot_f32(q, row);
    }
}

fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let (a4, ra) = a.as_chunks::<4>();
    let (b4, rb) = b.as_chunks::<4>();
    let n = a4.len().min(b4.len());
    let mut lanes = [0.0f32; 4];
    if n > 0 {
        // SAFETY: the loop reads `n` blocks of four f32 from each of `a4` and `b4`, which hold
        // at least `n` blocks each, and writes four f32 into `lanes`; the pointers are only
        // advanced within those arrays. q0, q1 and q8 are declared clobbered; NEON is enabled
        // for this build (the `armv7-neon` feature requires `+neon`, and the SoC has NEON).
        unsafe {
            asm!(
                "vmov.i32 q8, #0",
                "2:",
                "vld1.32 {{d0-d1}}, [{a}]!",
                "vld1.32 {{d2-d3}}, [{b}]!",
                "vmla.f32 q8, q0, q1",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vst1.32 {{d16-d17}}, [{out}]",
                a = inout(reg) a4.as_ptr() => _,
                b = inout(reg) b4.as_ptr() => _,
                n = inout(reg) n => _,
                out = in(reg) lanes.as_mut_ptr(),
                out("q0") _,
                out("q1") _,
                out("q8") _,
                options(nostack),
            );
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + scalar::dot_f32(ra, rb)
}
