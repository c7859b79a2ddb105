//! A feed-forward, stereo-linked glue compressor with a soft knee.
//!
//! **Detector: RMS**, calibrated per AES17 so that a sine reads its peak level
//! (a full-scale sine is 0 dB). The mean square of the louder channel is
//! averaged over [`RMS_WINDOW_MS`]; the gain computer works on that level, and
//! the resulting gain reduction (in dB) is smoothed with the attack and
//! release time constants. An optional sidechain high-pass keeps bass from
//! pumping the mix.
//!
//! **Static curve** (Giannoulis, Massberg & Reiss, JAES 2012), for level `x`,
//! threshold `T`, ratio `R`, knee width `W` (all dB):
//! - `x < T - W/2`: unchanged;
//! - `|x - T| <= W/2`: `x + (1/R - 1)(x - T + W/2)² / (2W)` (quadratic knee);
//! - `x > T + W/2`: `T + (x - T)/R`.

use super::biquad::{Biquad, Coefficients, Shape};
use super::db_to_gain;
use crate::dsp::math;

/// Averaging time of the RMS detector.
pub const RMS_WINDOW_MS: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CompressorSettings {
    pub threshold_db: f64,
    pub ratio: f64,
    pub attack_ms: f64,
    pub release_ms: f64,
    pub knee_db: f64,
    pub makeup_db: f64,
    pub sidechain_hpf_hz: Option<f64>,
}

impl Default for CompressorSettings {
    fn default() -> Self {
        CompressorSettings {
            threshold_db: -18.0,
            ratio: 2.0,
            attack_ms: 30.0,
            release_ms: 250.0,
            knee_db: 6.0,
            makeup_db: 0.0,
            sidechain_hpf_hz: None,
        }
    }
}

impl CompressorSettings {
    /// The static curve: output level for an input level, both in dB (no makeup).
    pub fn static_curve_db(&self, x: f64) -> f64 {
        let (t, r, w) = (self.threshold_db, self.ratio, self.knee_db);
        let over = x - t;
        if 2.0 * over < -w {
            x
        } else if w > 0.0 && 2.0 * over.abs() <= w {
            x + (1.0 / r - 1.0) * (over + w / 2.0).powi(2) / (2.0 * w)
        } else {
            t + over / r
        }
    }
}

/// What the compressor did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CompressorStats {
    /// Largest gain reduction, dB (positive).
    pub max_gain_reduction_db: f64,
    /// Mean gain reduction over the track, dB (positive).
    pub mean_gain_reduction_db: f64,
}

fn one_pole(time_ms: f64, sample_rate: f64) -> f64 {
    if time_ms <= 0.0 { 0.0 } else { math::exp(-1.0 / (time_ms * 1e-3 * sample_rate)) }
}

/// Compresses a stereo pair in place.
pub fn process(
    settings: &CompressorSettings,
    sample_rate: u32,
    left: &mut [f32],
    right: &mut [f32],
) -> CompressorStats {
    let mut c = Compressor::new(settings, sample_rate);
    c.process(left, right);
    c.stats()
}

/// The compressor's state, fed a stereo pair a block at a time.
pub struct Compressor {
    settings: CompressorSettings,
    rms_coef: f64,
    attack: f64,
    release: f64,
    hpf: Option<(Biquad, Biquad)>,
    mean_square: f64,
    /// Gain change, <= 0.
    gr_db: f64,
    max_gr: f64,
    sum_gr: f64,
    frames: u64,
}

impl Compressor {
    pub fn new(settings: &CompressorSettings, sample_rate: u32) -> Self {
        let fs = sample_rate as f64;
        Compressor {
            settings: *settings,
            rms_coef: one_pole(RMS_WINDOW_MS, fs),
            attack: one_pole(settings.attack_ms, fs),
            release: one_pole(settings.release_ms, fs),
            hpf: settings.sidechain_hpf_hz.map(|f| {
                let c = Coefficients::design(Shape::Highpass, f, std::f64::consts::FRAC_1_SQRT_2, 0.0, fs);
                (Biquad::new(c), Biquad::new(c))
            }),
            mean_square: 0.0,
            gr_db: 0.0,
            max_gr: 0.0,
            sum_gr: 0.0,
            frames: 0,
        }
    }

    /// Compresses the pair's next frames in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let s = self.settings;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (mut dl, mut dr) = (*l as f64, *r as f64);
            if let Some((fl, fr)) = self.hpf.as_mut() {
                dl = fl.tick(dl);
                dr = fr.tick(dr);
            }
            let sq = (dl * dl).max(dr * dr);
            self.mean_square = sq + self.rms_coef * (self.mean_square - sq);
            // AES17: a sine of peak A has mean square A²/2 and reads 20·log10(A).
            let level_db = (10.0 / std::f64::consts::LN_10) * math::ln((2.0 * self.mean_square).max(1e-30));
            let target = s.static_curve_db(level_db) - level_db;
            let coef = if target < self.gr_db { self.attack } else { self.release };
            self.gr_db = target + coef * (self.gr_db - target);
            self.max_gr = self.max_gr.max(-self.gr_db);
            self.sum_gr -= self.gr_db;
            let g = db_to_gain(self.gr_db + s.makeup_db);
            *l = (*l as f64 * g) as f32;
            *r = (*r as f64 * g) as f32;
        }
        self.frames += left.len() as u64;
    }

    /// What it did so far.
    pub fn stats(&self) -> CompressorStats {
        CompressorStats {
            max_gain_reduction_db: self.max_gr,
            mean_gain_reduction_db: if self.frames == 0 { 0.0 } else { self.sum_gr / self.frames as f64 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::{db, sine, tone_amplitude};

    /// The documented curve, written out again independently.
    fn expected_db(x: f64, t: f64, r: f64, w: f64) -> f64 {
        if x <= t - w / 2.0 {
            x
        } else if x >= t + w / 2.0 {
            t + (x - t) / r
        } else {
            x + (1.0 / r - 1.0) * (x - t + w / 2.0).powi(2) / (2.0 * w)
        }
    }

    fn steady_state_out_db(s: &CompressorSettings, level_db: f64) -> f64 {
        let rate = 48000;
        let amp = 10f64.powf(level_db / 20.0);
        let x = sine(1000.0, amp, 0.0, 3.0, rate);
        let (mut l, mut r) = (x.clone(), x);
        process(s, rate, &mut l, &mut r);
        db(tone_amplitude(&l[rate as usize * 2..], 1000.0, rate))
    }

    #[test]
    fn static_curve_slope_one_below_threshold_and_one_over_ratio_above() {
        let s = CompressorSettings { threshold_db: -20.0, ratio: 4.0, knee_db: 0.0, ..Default::default() };
        for level in [-40.0, -30.0, -25.0, -20.0, -15.0, -10.0, -5.0, -1.0] {
            let out = steady_state_out_db(&s, level);
            let want = expected_db(level, -20.0, 4.0, 0.0);
            assert!((out - want).abs() <= 0.2, "in {level} dB: out {out:.2}, curve {want:.2}");
        }
    }

    #[test]
    fn soft_knee_follows_the_documented_quadratic() {
        let s = CompressorSettings { threshold_db: -18.0, ratio: 3.0, knee_db: 12.0, ..Default::default() };
        for level in [-26.0, -22.0, -18.0, -14.0, -12.0, -6.0] {
            let out = steady_state_out_db(&s, level);
            let want = expected_db(level, -18.0, 3.0, 12.0);
            assert!((out - want).abs() <= 0.2, "in {level} dB: out {out:.2}, curve {want:.2}");
        }
        assert_eq!(s.static_curve_db(-30.0), -30.0);
    }

    #[test]
    fn makeup_and_stats() {
        let s = CompressorSettings {
            threshold_db: -20.0,
            ratio: 2.0,
            knee_db: 0.0,
            makeup_db: 3.0,
            ..Default::default()
        };
        let rate = 48000;
        let x = sine(1000.0, 10f64.powf(-10.0 / 20.0), 0.0, 3.0, rate);
        let (mut l, mut r) = (x.clone(), x);
        let stats = process(&s, rate, &mut l, &mut r);
        // -10 dB in: 5 dB of gain reduction, then +3 dB makeup.
        let out = db(tone_amplitude(&l[rate as usize * 2..], 1000.0, rate));
        assert!((out - (-12.0)).abs() < 0.2, "out {out:.2}");
        assert!((stats.max_gain_reduction_db - 5.0).abs() < 0.3, "{stats:?}");
    }
}
