//! Dot-product, Hamming and streaming-read kernels, one family per instruction set, chosen at
//! run time.
//!
//! Every family computes the same functions as [`Isa::Scalar`], the reference: `i8` dot
//! products and Hamming distances bit for bit, `f32` dot products up to rounding (the SIMD
//! families add in a different order). The CPU is probed once, on first use of
//! [`Kernels::detected`]; [`Kernels::for_isa`] forces a family, for tests and benchmarks.
//!
//! This module holds all of the crate's unsafe code: the intrinsics' raw-pointer loads and the
//! calls into `#[target_feature]` functions, which are sound only once the CPU is known to
//! have the feature. That knowledge is carried by the [`Kernels`] value itself: the only way
//! to obtain one for a SIMD family is through a successful runtime check, except armv7 NEON,
//! which the build promises (and which does not assemble without `+neon`).

mod scalar;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(all(target_arch = "arm", feature = "armv7-neon"))]
mod arm;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt;
use std::sync::OnceLock;

/// The largest row length the `i8` kernels accept: beyond it an `i32` sum of products could
/// overflow (each product is at most 128 × 128 = 2^14).
pub const MAX_I8_LEN: usize = 1 << 16;

/// An instruction set that a kernel family is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Portable Rust, the reference (vectorised by the compiler where the target allows).
    Scalar,
    /// x86-64 AVX2 + FMA (+ POPCNT for Hamming distances).
    Avx2,
    /// x86-64 AVX-512 F + BW (+ POPCNT).
    Avx512,
    /// aarch64 Advanced SIMD; `i8` products by widening multiplies.
    Neon,
    /// aarch64 Advanced SIMD with the dot-product extension (`SDOT`, Armv8.2+ cores such as
    /// Cortex-A55/A76).
    NeonDotprod,
    /// armv7 NEON (Cortex-A7/A9/A15), in builds with the `armv7-neon` feature and
    /// `-C target-feature=+neon`: stable Rust cannot detect NEON at run time on armv7, so the
    /// build decides.
    Armv7Neon,
}

impl Isa {
    /// Every family, fastest-preferred last.
    pub const ALL: [Isa; 6] = [
        Isa::Scalar,
        Isa::Armv7Neon,
        Isa::Neon,
        Isa::NeonDotprod,
        Isa::Avx2,
        Isa::Avx512,
    ];

    /// Short lower-case name (`"avx2"`).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
            Isa::NeonDotprod => "neon-dotprod",
            Isa::Armv7Neon => "armv7-neon",
        }
    }

    /// Whether this CPU can run the family (checked at run time).
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
                    && is_x86_feature_detected!("popcnt")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("popcnt")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[cfg(target_arch = "aarch64")]
            Isa::NeonDotprod => {
                std::arch::is_aarch64_feature_detected!("neon")
                    && std::arch::is_aarch64_feature_detected!("dotprod")
            }
            #[cfg(all(target_arch = "arm", feature = "armv7-neon"))]
            Isa::Armv7Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

type DotsF32 = fn(&[f32], &[f32], &mut [f32]);
type DotsI8 = fn(&[i8], &[i8], &mut [i32]);
type Hamming = fn(&[u64], &[u64], &mut [u16]);
type StreamSum = fn(&[u64]) -> u64;

/// One family of kernels. Cheap to copy; obtained from [`Kernels::detected`] or
/// [`Kernels::for_isa`].
///
/// The batch functions take a query of length `d` and `rows` holding `out.len()` rows of `d`
/// elements back to back, and write one result per row. They panic if the lengths disagree
/// (a programming error, like `copy_from_slice`); the search code above never lets that happen.
#[derive(Clone, Copy)]
pub struct Kernels {
    isa: Isa,
    dots_f32: DotsF32,
    dots_i8: DotsI8,
    hamming: Hamming,
    stream_sum: StreamSum,
}

impl fmt::Debug for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernels").field("isa", &self.isa).finish()
    }
}

impl Kernels {
    /// The best family this CPU supports, probed once per process.
    pub fn detected() -> Kernels {
        static BEST: OnceLock<Kernels> = OnceLock::new();
        *BEST.get_or_init(|| {
            Isa::ALL
                .iter()
                .rev()
                .find_map(|&isa| Kernels::for_isa(isa))
                .unwrap_or(Kernels::SCALAR)
        })
    }

    /// The portable reference family.
    pub const SCALAR: Kernels = Kernels {
        isa: Isa::Scalar,
        dots_f32: scalar::dots_f32,
        dots_i8: scalar::dots_i8,
        hamming: scalar::hamming,
        stream_sum: scalar::stream_sum,
    };

    /// The family for `isa`, or `None` if this CPU (or this build's architecture) lacks it.
    pub fn for_isa(isa: Isa) -> Option<Kernels> {
        if !isa.is_supported() {
            return None;
        }
        match isa {
            Isa::Scalar => Some(Kernels::SCALAR),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Some(x86::AVX2),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Some(x86::AVX512),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => Some(aarch64::NEON),
            #[cfg(target_arch = "aarch64")]
            Isa::NeonDotprod => Some(aarch64::NEON_DOTPROD),
            #[cfg(all(target_arch = "arm", feature = "armv7-neon"))]
            Isa::Armv7Neon => Some(arm::NEON),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The instruction set of this family.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// `a · b`.
    ///
    /// # Panics
    /// If the lengths differ.
    pub fn dot_f32(&self, a: &[f32], b: &[f32]) -> f32 {
        let mut out = [0.0];
        self.dots_f32(a, b, &mut out);
        out[0]
    }

    /// `a · b`, exactly, for `len <=` [`MAX_I8_LEN`].
    ///
    /// # Panics
    /// If the lengths differ or exceed [`MAX_I8_LEN`].
    pub fn dot_i8(&self, a: &[i8], b: &[i8]) -> i32 {
        let mut out = [0];
        self.dots_i8(a, b, &mut out);
        out[0]
    }

    /// `out[r] = query · rows[r]` for each of the `out.len()` rows.
    ///
    /// # Panics
    /// If `rows.len() != out.len() * query.len()`.
    pub fn dots_f32(&self, query: &[f32], rows: &[f32], out: &mut [f32]) {
        check_rows(query.len(), rows.len(), out.len());
        if query.is_empty() {
            out.fill(0.0);
            return;
        }
        (self.dots_f32)(query, rows, out)
    }

    /// `out[r] = query · rows[r]`, exactly.
    ///
    /// # Panics
    /// If `rows.len() != out.len() * query.len()` or `query.len() >` [`MAX_I8_LEN`].
    pub fn dots_i8(&self, query: &[i8], rows: &[i8], out: &mut [i32]) {
        check_rows(query.len(), rows.len(), out.len());
        assert!(query.len() <= MAX_I8_LEN, "i8 rows longer than MAX_I8_LEN");
        if query.is_empty() {
            out.fill(0);
            return;
        }
        (self.dots_i8)(query, rows, out)
    }

    /// `out[r]` = number of bits in which `query` and `codes[r]` differ.
    ///
    /// # Panics
    /// If `codes.len() != out.len() * query.len()` or a code is longer than 1023 words (its
    /// distance would not fit `u16`).
    pub fn hamming(&self, query: &[u64], codes: &[u64], out: &mut [u16]) {
        check_rows(query.len(), codes.len(), out.len());
        assert!(query.len() < 1024, "codes longer than 1023 words");
        if query.is_empty() {
            out.fill(0);
            return;
        }
        (self.hamming)(query, codes, out)
    }

    /// Wrapping sum of `words`: reads every byte once, as fast as the family can. Its time is
    /// the streaming-read bound that a scan of the same bytes is measured against.
    pub fn stream_sum(&self, words: &[u64]) -> u64 {
        (self.stream_sum)(words)
    }
}

fn check_rows(d: usize, rows: usize, out: usize) {
    assert!(
        out.checked_mul(d) == Some(rows),
        "{rows} elements are not {out} rows of {d}"
    );
}
