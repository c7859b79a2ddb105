//! Signals and independent measurements for lathe's unit and integration
//! tests. Nothing here shares code with the processors it checks: this crate
//! does not depend on lathe.

use std::f64::consts::PI;

pub fn sine(freq_hz: f64, amplitude: f64, phase: f64, seconds: f64, rate: u32) -> Vec<f32> {
    let n = (seconds * rate as f64).round() as usize;
    (0..n).map(|i| (amplitude * (2.0 * PI * freq_hz * i as f64 / rate as f64 + phase).sin()) as f32).collect()
}

/// Raised-cosine fade in and out over 20 ms, so a test tone starts and stops without a click.
pub fn fade_ends(x: &mut [f32], rate: u32) {
    let (fade, n) = (rate as usize / 50, x.len());
    for i in 0..fade.min(n / 2) {
        let g = (0.5 - 0.5 * (PI * i as f64 / fade as f64).cos()) as f32;
        x[i] *= g;
        x[n - 1 - i] *= g;
    }
}

/// Deterministic white noise (xorshift), ±0.25.
pub fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32 * 0.5
        })
        .collect()
}

/// |H(f)| in dB of an FIR's `taps` at `f` Hz, by direct summation (no FFT).
pub fn fir_response_db(taps: &[f64], f: f64, fs: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &g) in taps.iter().enumerate() {
        let w = 2.0 * PI * f * n as f64 / fs;
        re += g * w.cos();
        im -= g * w.sin();
    }
    10.0 * (re * re + im * im).log10()
}

pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64).sqrt()
}

pub fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// Amplitude of the `freq_hz` component by least-squares projection on sine and cosine.
pub fn tone_amplitude(x: &[f32], freq_hz: f64, rate: u32) -> f64 {
    let w = 2.0 * PI * freq_hz / rate as f64;
    let (mut s, mut c) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (si, ci) = (w * i as f64).sin_cos();
        s += v as f64 * si;
        c += v as f64 * ci;
    }
    2.0 * (s * s + c * c).sqrt() / x.len() as f64
}

/// Reference true peak (linear): 16× oversampling by direct evaluation of a
/// ±256-tap Kaiser-windowed sinc (β = 12), evaluated only near large samples.
pub fn reference_true_peak(x: &[f32]) -> f64 {
    reference_true_peak_at(x).0
}

/// [`reference_true_peak`] and where it is, in samples.
pub fn reference_true_peak_at(x: &[f32]) -> (f64, f64) {
    const HALF: usize = 256;
    const OVER: usize = 16;
    static KERNELS: std::sync::OnceLock<Vec<Vec<f64>>> = std::sync::OnceLock::new();
    let kernels = KERNELS.get_or_init(|| {
        let beta = 12.0;
        let i0 = |v: f64| {
            let (mut sum, mut term, mut k) = (1.0f64, 1.0f64, 1.0f64);
            while term > sum * 1e-16 {
                term *= (v / (2.0 * k)).powi(2);
                sum += term;
                k += 1.0;
            }
            sum
        };
        (1..OVER)
            .map(|p| {
                // Tap j multiplies x[c + j - HALF + 1], at distance d = p/OVER - (j - HALF + 1).
                (0..2 * HALF)
                    .map(|j| {
                        let d = p as f64 / OVER as f64 - (j as f64 - HALF as f64 + 1.0);
                        let r = d / HALF as f64;
                        let w = if r.abs() >= 1.0 { 0.0 } else { i0(beta * (1.0 - r * r).sqrt()) / i0(beta) };
                        (PI * d).sin() / (PI * d) * w
                    })
                    .collect()
            })
            .collect()
    });
    let peak = x.iter().fold(0f64, |m, &v| m.max(v.abs() as f64));
    let mut best = peak;
    let mut at = x.iter().position(|v| v.abs() as f64 == peak).unwrap_or(0) as f64;
    let mut padded = vec![0f64; x.len() + 2 * HALF];
    for (p, &v) in padded[HALF - 1..].iter_mut().zip(x) {
        *p = v as f64;
    }
    for c in 0..x.len() {
        // Inter-sample overshoot beyond +6 dB needs pathological signals.
        if (x[c].abs() as f64) < peak * 0.5 && (c + 1 >= x.len() || (x[c + 1].abs() as f64) < peak * 0.5) {
            continue;
        }
        let win = &padded[c..c + 2 * HALF];
        for (p, k) in kernels.iter().enumerate() {
            let acc: f64 = k.iter().zip(win).map(|(a, b)| a * b).sum();
            if acc.abs() > best {
                best = acc.abs();
                at = c as f64 + (p + 1) as f64 / OVER as f64;
            }
        }
    }
    (best, at)
}

/// The analog filter shapes of the RBJ cookbook, as prototypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prototype {
    Lowpass,
    Highpass,
    Notch,
    Peak,
    LowShelf,
    HighShelf,
}

/// Magnitude (dB) at `f` Hz of the analog prototype of an RBJ cookbook
/// filter at `f0` Hz, evaluated on the bilinear transform's warped axis
/// (what an exact digital biquad of that design must read at `fs`).
pub fn prototype_db(shape: Prototype, f0: f64, gain_db: f64, q: f64, f: f64, fs: f64) -> f64 {
    let a = 10f64.powf(gain_db / 40.0);
    let w = (PI * f / fs).tan() / (PI * f0 / fs).tan();
    // s = jw; a polynomial c2 s² + c1 s + c0 has |.|² = (c0 - c2 w²)² + (c1 w)².
    let mag2 = |c2: f64, c1: f64, c0: f64| (c0 - c2 * w * w).powi(2) + (c1 * w).powi(2);
    let ratio = match shape {
        Prototype::Lowpass => mag2(0.0, 0.0, 1.0) / mag2(1.0, 1.0 / q, 1.0),
        Prototype::Highpass => mag2(1.0, 0.0, 0.0) / mag2(1.0, 1.0 / q, 1.0),
        Prototype::Notch => mag2(1.0, 0.0, 1.0) / mag2(1.0, 1.0 / q, 1.0),
        Prototype::Peak => mag2(1.0, a / q, 1.0) / mag2(1.0, 1.0 / (a * q), 1.0),
        Prototype::LowShelf => a * a * mag2(1.0, a.sqrt() / q, a) / mag2(a, a.sqrt() / q, 1.0),
        Prototype::HighShelf => a * a * mag2(a, a.sqrt() / q, 1.0) / mag2(1.0, a.sqrt() / q, a),
    };
    10.0 * ratio.log10()
}
