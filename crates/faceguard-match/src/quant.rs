//! Symmetric `i8` quantisation with one scale per vector, and what it costs in accuracy.

/// How a vector was quantised: `x ≈ scale · q` with `q` in `-127..=127`.
#[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(crate) struct Quantised {
    /// `max |x_i| / 127` (0 for the zero vector).
    pub(crate) scale: f32,
    /// `‖x − scale·q‖`, the quantisation error's length.
    pub(crate) err: f32,
    /// `‖scale·q‖`, the dequantised vector's length.
    pub(crate) norm: f32,
}

/// Quantises `x` into `out` (same length; -128 is never produced, so negation is exact).
pub(crate) fn quantise(x: &[f32], out: &mut [i8]) -> Quantised {
    debug_assert_eq!(x.len(), out.len());
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 {
        out.fill(0);
        return Quantised::default();
    }
    let scale = max / 127.0;
    let (mut err2, mut norm2) = (0.0f64, 0.0f64);
    for (o, &v) in out.iter_mut().zip(x) {
        let q = (v / scale).round().clamp(-127.0, 127.0);
        *o = q as i8;
        let back = q * scale;
        err2 += f64::from(v - back).powi(2);
        norm2 += f64::from(back).powi(2);
    }
    Quantised {
        scale,
        err: err2.sqrt() as f32,
        norm: norm2.sqrt() as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantisation_error_is_what_it_claims() {
        let x: Vec<f32> = (0..100)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 300.0)
            .collect();
        let mut q = vec![0i8; 100];
        let r = quantise(&x, &mut q);
        let err: f32 = x
            .iter()
            .zip(&q)
            .map(|(a, &b)| (a - r.scale * f32::from(b)).powi(2))
            .sum::<f32>()
            .sqrt();
        assert!((err - r.err).abs() < 1e-5);
        assert!(q.iter().all(|&v| v > -128));
        assert_eq!(q.iter().map(|v| v.unsigned_abs()).max(), Some(127));
    }

    #[test]
    fn zero_vector_quantises_to_zero() {
        let mut q = [5i8; 4];
        assert_eq!(quantise(&[0.0; 4], &mut q), Quantised::default());
        assert_eq!(q, [0; 4]);
    }
}
