//! faceguard's matching engine: 1:N search of L2-normalised templates by dot product (cosine
//! similarity), close to the memory-bandwidth limit, on x86-64 and ARM.
//!
//! * [`kernels`]: `f32` and `i8` dot products and Hamming distances for AVX2+FMA, AVX-512,
//!   aarch64 NEON (with `SDOT` where the core has it) and a portable reference, picked at run
//!   time. All the unsafe code of the crate is there.
//! * [`Index`]: rows kept as `f32`, `i8` (one scale per row) and sign codes (512 bits, more
//!   above 512 dimensions), in
//!   64-byte-aligned chunks that never move; removal zeroizes.
//! * Three [`Method`]s: exact `f32` scan; exact `i8` scan with a proven-exact `f32` re-score
//!   (same answer, a quarter of the bytes); and a fast two-stage search (sign codes, then exact
//!   re-scoring of a per-query number of candidates) for million-row galleries.
//!
//! Applications use `faceguard::Gallery`, which ties every row to a consent; this crate knows
//! nothing of consent and holds only vectors.
//!
//! ```
//! use faceguard_match::{Index, Method, SearchOptions, FastParams};
//! use faceguard_match::rng::SplitMix64;
//!
//! let mut rng = SplitMix64::new(1);
//! let mut index = Index::new(128)?;
//! let rows: Vec<Vec<f32>> = (0..1000).map(|_| rng.unit_vector(128)).collect();
//! for (i, row) in rows.iter().enumerate() {
//!     index.push(row, i as u32)?;
//! }
//! let exact = index.search(&rows[42], &SearchOptions::new(5))?;
//! assert_eq!(exact.hits[0].row, 42);
//! let fast = index.search(&rows[42], &SearchOptions::new(5).method(Method::Fast(FastParams::default())))?;
//! assert_eq!(fast.hits[0], exact.hits[0]);
//! # Ok::<(), faceguard_match::IndexError>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod fast;
mod index;
pub mod kernels;
mod quant;
pub mod rng;
mod rotation;
mod search;
mod store;
mod topk;

pub use index::{
    FastParams, Index, IndexError, Method, Outcome, SearchOptions, MAX_DIM, UNIT_TOLERANCE,
};
pub use kernels::{Isa, Kernels};
pub use topk::Hit;
