//! Dither and quantization to integer PCM: the last stage before a file.
//!
//! - `tpdf`: triangular-PDF dither of ±1 LSB peak (the sum of two independent
//!   uniform values of ±0.5 LSB), white.
//! - `shaped`: the same TPDF dither with first-order error-feedback noise
//!   shaping, `E(z) = 1 − z⁻¹`: the requantization error is pushed up in
//!   frequency (−∞ at DC, +6 dB at Nyquist), away from where the ear is
//!   most sensitive to it in the bass and mids.
//! - `none`: rounding only.
//!
//! The random sequence comes from a seeded SplitMix64 generator, so a track
//! always gets the same dither whatever thread renders it.

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DitherKind {
    None,
    #[default]
    Tpdf,
    Shaped,
}

/// SplitMix64: small, fast, and good enough for dither.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-0.5, 0.5).
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        // 53 bits convert exactly, and a signed conversion is one instruction.
        (self.next_u64() >> 11) as i64 as f64 * (1.0 / (1u64 << 53) as f64) - 0.5
    }
}

/// Quantizes one channel of float samples (full scale ±1.0) to signed integers
/// of `bits` bits, with dither, saturating at full scale.
pub fn quantize(samples: &[f32], bits: u32, kind: DitherKind, seed: u64) -> Vec<i32> {
    let mut q = samples.to_vec();
    quantize_in_place(&mut q, bits, kind, seed);
    let scale = (1u64 << (bits - 1)) as f32;
    q.iter().map(|&v| (v * scale) as i32).collect()
}

/// [`quantize`] in place: each sample becomes the float its integer stands
/// for (`q / 2^(bits-1)`), which an `f32` holds exactly for `bits <= 24`.
pub fn quantize_in_place(samples: &mut [f32], bits: u32, kind: DitherKind, seed: u64) {
    Quantizer::new(bits, kind, seed).process(samples);
}

/// One channel's quantizer, fed a block at a time: its dither sequence and
/// noise-shaping error carry over from block to block, so a channel
/// quantized in blocks is the channel quantized whole.
#[derive(Debug, Clone)]
pub struct Quantizer {
    kind: DitherKind,
    rng: Rng,
    scale: f64,
    err: f64,
}

impl Quantizer {
    pub fn new(bits: u32, kind: DitherKind, seed: u64) -> Self {
        assert!((2..=24).contains(&bits), "an f32 holds integers of up to 24 bits exactly");
        Quantizer { kind, rng: Rng::new(seed), scale: (1u64 << (bits - 1)) as f64, err: 0.0 }
    }

    /// Quantizes the channel's next samples in place.
    pub fn process(&mut self, samples: &mut [f32]) {
        let (scale, step) = (self.scale, 1.0 / self.scale); // a power of two: exact
        let (lo, hi) = (-scale, scale - 1.0);
        let rng = &mut self.rng;
        let out = |q: f64| (q.clamp(lo, hi) * step) as f32;
        // One loop per kind: no per-sample branching on it.
        match self.kind {
            DitherKind::None => {
                for s in samples.iter_mut() {
                    *s = out(round_nearest(*s as f64 * scale));
                }
            }
            DitherKind::Tpdf => {
                for s in samples.iter_mut() {
                    let d = rng.uniform() + rng.uniform();
                    *s = out(round_nearest(*s as f64 * scale + d));
                }
            }
            DitherKind::Shaped => {
                let mut err = self.err;
                for s in samples.iter_mut() {
                    let shaped = *s as f64 * scale - err;
                    let d = rng.uniform() + rng.uniform();
                    let q = round_nearest(shaped + d).clamp(lo, hi);
                    err = q - shaped;
                    *s = (q * step) as f32;
                }
                self.err = err;
            }
        }
    }
}

/// Rounds to the nearest integer (ties to even) for |x| < 2^51, inline:
/// adding and removing 1.5·2^52 leaves no fraction bits, and the FPU rounds.
/// (`f64::round` is a libm call on x86-64 without SSE4.1.)
#[inline(always)]
fn round_nearest(x: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    (x + MAGIC) - MAGIC
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounding_is_to_the_nearest_integer() {
        for (x, want) in
            [(0.4, 0.0), (0.6, 1.0), (-0.6, -1.0), (2.5, 2.0), (3.5, 4.0), (8388607.4, 8388607.0)]
        {
            assert_eq!(super::round_nearest(x), want, "{x}");
        }
    }

    use super::*;

    #[test]
    fn tpdf_error_is_triangular_within_one_lsb_and_has_the_right_power() {
        // A constant half-way between codes: every output is within ±1 LSB of it
        // plus rounding, and the total error power is the TPDF figure 1/12 + 1/6 = 1/4 LSB².
        let x = vec![(1000.5 / 32768.0) as f32; 200_000];
        let q = quantize(&x, 16, DitherKind::Tpdf, 42);
        let errors: Vec<f64> = q.iter().map(|&v| v as f64 - 1000.5).collect();
        assert!(errors.iter().all(|e| e.abs() <= 1.5));
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        let power = errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64;
        assert!(mean.abs() < 0.01, "dither adds no DC: mean error {mean}");
        assert!((power - 0.25).abs() < 0.01, "error power {power} LSB²");
    }

    #[test]
    fn undithered_rounding_and_saturation() {
        let q = quantize(&[0.0, 0.25, -1.0, 1.5, -2.0], 16, DitherKind::None, 0);
        assert_eq!(q, vec![0, 8192, -32768, 32767, -32768]);
        let q24 = quantize(&[0.5], 24, DitherKind::None, 0);
        assert_eq!(q24, vec![1 << 22]);
    }

    #[test]
    fn same_seed_same_dither_different_seed_different_dither() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
        assert_eq!(quantize(&x, 16, DitherKind::Tpdf, 9), quantize(&x, 16, DitherKind::Tpdf, 9));
        assert_ne!(quantize(&x, 16, DitherKind::Tpdf, 9), quantize(&x, 16, DitherKind::Tpdf, 10));
    }

    #[test]
    fn shaped_dither_moves_noise_out_of_the_low_band() {
        // Requantization error spectrum: shaped has less energy at low frequencies than flat TPDF.
        let n = 1 << 16;
        let x: Vec<f32> = (0..n).map(|i| ((i as f64 * 0.001).sin() * 0.3) as f32).collect();
        let low_band_power = |kind| {
            let q = quantize(&x, 16, kind, 5);
            let e: Vec<f64> = q.iter().zip(&x).map(|(&q, &s)| q as f64 - s as f64 * 32768.0).collect();
            // A crude low-pass (moving average of 32) keeps roughly the bottom 1/32 of the band.
            let lp: Vec<f64> = e.windows(32).map(|w| w.iter().sum::<f64>() / 32.0).collect();
            lp.iter().map(|v| v * v).sum::<f64>() / lp.len() as f64
        };
        let flat = low_band_power(DitherKind::Tpdf);
        let shaped = low_band_power(DitherKind::Shaped);
        assert!(shaped < flat * 0.25, "low-band error power: shaped {shaped:.2e}, flat {flat:.2e}");
    }
}
