//! Long-term spectrum in 1/3-octave bands (IEC 61260 base-10 centres,
//! 20 Hz … 20 kHz), for the report's plots.
//!
//! Hann-windowed FFT frames of [`FRAME`] samples are taken every
//! [`STRIDE`] frames across the programme (about one a second at 44.1 kHz),
//! their power averaged over frames and channels, then summed per band.
//! Levels are calibrated so that a sine of amplitude `a` reads `20·log10(a)`
//! dBFS in its band, and a band of noise reads its mean-square power + 3 dB
//! (the same full-scale-sine convention as dBFS RMS in AES17).

use std::sync::Arc;

use crate::dsp::math;
use realfft::{RealFftPlanner, RealToComplex};

/// FFT length: 2.7 Hz bins at 44.1 kHz, narrow enough for the 20 Hz band.
pub const FRAME: usize = 16384;
/// One frame is analysed out of every `STRIDE` (the rest are skipped).
pub const STRIDE: usize = 3;

/// Nominal centres of the 31 bands, Hz.
pub fn band_centres() -> Vec<f64> {
    (-17..=13).map(|k| 1000.0 * math::powf(10f64, k as f64 / 10.0)).collect()
}

/// A long-term spectrum: one level per band of [`band_centres`], dBFS
/// (`-inf` for a band with no energy or above the Nyquist frequency).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spectrum {
    pub centres_hz: Vec<f64>,
    pub levels_db: Vec<f64>,
}

/// The analysis window: Hann, [`FRAME`] long.
fn hann() -> Vec<f32> {
    (0..FRAME)
        .map(|i| (0.5 - 0.5 * math::cos(2.0 * std::f64::consts::PI * i as f64 / FRAME as f64)) as f32)
        .collect()
}

/// Accumulates frame power spectra; feed it whole frames.
pub struct Analyzer {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    input: Vec<f32>,
    output: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    power: Vec<f64>,
    frames: usize,
    sample_rate: u32,
}

impl Analyzer {
    pub fn new(sample_rate: u32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FRAME);
        let window = hann();
        Analyzer {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            power: vec![0.0; FRAME / 2 + 1],
            frames: 0,
            sample_rate,
        }
    }

    /// Adds one frame of one channel; `sample(i)` gives its `i`-th sample, `i < FRAME`.
    pub fn add_frame(&mut self, sample: impl Fn(usize) -> f32) {
        for (i, (x, w)) in self.input.iter_mut().zip(&self.window).enumerate() {
            *x = sample(i) * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .expect("buffers come from the plan");
        for (p, c) in self.power.iter_mut().zip(&self.output) {
            *p += c.norm_sqr() as f64;
        }
        self.frames += 1;
    }

    /// The spacing of the FFT bins (Hz) and each bin's power averaged over
    /// the frames (uncalibrated: for shapes, not levels).
    pub fn powers(&self) -> (f64, Vec<f64>) {
        let frames = self.frames.max(1) as f64;
        (self.sample_rate as f64 / FRAME as f64, self.power.iter().map(|p| p / frames).collect())
    }

    /// The averaged spectrum in bands.
    pub fn finish(&self) -> Spectrum {
        // With no frame every power is 0: every band reads -inf.
        let (bin_hz, mean) = self.powers();
        in_bands(bin_hz, &mean)
    }
}

/// A spectrum in bands from per-bin powers averaged over frames, the bins
/// `bin_hz` apart (as [`Analyzer::powers`] gives them): the mean over channels of a stereo
/// pair is, bin for bin, the sum of its mid's and its side's
/// (`|L|² + |R|² = 2(|M|² + |S|²)` for `M = (L + R)/2`, `S = (L − R)/2`).
pub fn in_bands(bin_hz: f64, mean_power: &[f64]) -> Spectrum {
    let centres = band_centres();
    let fs = bin_hz * FRAME as f64;
    // Parseval with the window's energy: a bin's share of the mean square
    // is 2|X|²/(N·Σw²) (one-sided); ×2 more reads a sine at its peak level.
    let sum_w2: f64 = hann().iter().map(|&w| (w as f64).powi(2)).sum();
    let scale = 4.0 / (FRAME as f64 * sum_w2);
    let edge = math::powf(10f64, 0.05); // band edges at centre·10^(±1/20)
    let levels_db = centres
        .iter()
        .map(|&fc| {
            let (lo, hi) = (fc / edge, fc * edge);
            if lo >= fs / 2.0 {
                return f64::NEG_INFINITY;
            }
            let p: f64 = mean_power
                .iter()
                .enumerate()
                .filter(|&(k, _)| {
                    let f = k as f64 * bin_hz;
                    f >= lo && f < hi
                })
                .map(|(_, &p)| p)
                .sum();
            10.0 * math::log10(p * scale)
        })
        .collect();
    Spectrum { centres_hz: centres, levels_db }
}

/// The long-term spectrum of planar float channels. Programmes shorter
/// than one frame are analysed zero-padded.
pub fn of_channels(channels: &[Vec<f32>], sample_rate: u32) -> Spectrum {
    let mut s = SpectrumStream::new(channels.len(), sample_rate);
    s.feed(channels);
    s.finish()
}

/// [`of_channels`] fed a block at a time: only the frame being filled is kept.
pub struct SpectrumStream {
    analyzer: Analyzer,
    /// Per channel, the frame being filled.
    frame: Vec<Vec<f32>>,
    /// Frames fed so far.
    pos: usize,
}

impl SpectrumStream {
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        SpectrumStream {
            analyzer: Analyzer::new(sample_rate),
            frame: vec![Vec::with_capacity(FRAME); channels],
            pos: 0,
        }
    }

    pub fn feed<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        let len = channels.first().map_or(0, |c| c.as_ref().len());
        let mut i = 0;
        while i < len {
            // Frames start every FRAME·STRIDE samples.
            let phase = (self.pos + i) % (FRAME * STRIDE);
            if phase >= FRAME {
                i += FRAME * STRIDE - phase;
                continue;
            }
            let take = (FRAME - phase).min(len - i);
            for (f, c) in self.frame.iter_mut().zip(channels) {
                f.extend_from_slice(&c.as_ref()[i..i + take]);
            }
            i += take;
            if self.frame[0].len() == FRAME {
                self.add();
            }
        }
        self.pos += len;
    }

    fn add(&mut self) {
        for f in &mut self.frame {
            self.analyzer.add_frame(|i| f.get(i).copied().unwrap_or(0.0));
            f.clear();
        }
    }

    /// [`Analyzer::powers`] of everything fed.
    pub fn finish_powers(mut self) -> (f64, Vec<f64>) {
        if self.analyzer.frames == 0 {
            self.add();
        }
        self.analyzer.powers()
    }

    pub fn finish(mut self) -> Spectrum {
        // A programme shorter than a frame is analysed zero-padded.
        if self.analyzer.frames == 0 {
            self.add();
        }
        self.analyzer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::sine;

    fn band_of(s: &Spectrum, hz: f64) -> usize {
        s.centres_hz
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1.ln() - hz.ln()).abs().total_cmp(&(b.1.ln() - hz.ln()).abs()))
            .unwrap()
            .0
    }

    #[test]
    fn a_sine_reads_its_peak_level_in_its_band_only() {
        for (hz, amp) in [(1000.0, 0.5), (63.0, 0.1), (8000.0, 1.0)] {
            let x = sine(hz, amp, 0.0, 5.0, 48000);
            let s = of_channels(&[x.clone(), x], 48000);
            let b = band_of(&s, hz);
            let want = 20.0 * f64::log10(amp);
            assert!((s.levels_db[b] - want).abs() < 0.1, "{hz} Hz: {:.2} dB, want {want:.2}", s.levels_db[b]);
            for (k, &l) in s.levels_db.iter().enumerate() {
                // Hann side lobes fall 18 dB/octave: 50 dB down two bands away.
                if k.abs_diff(b) >= 2 {
                    assert!(l < want - 50.0, "{hz} Hz leaks {l:.1} dB into band {k}");
                }
            }
        }
    }

    #[test]
    fn white_noise_band_levels_follow_their_bandwidths() {
        // Uniform noise in ±a has mean square a²/3, spread evenly to fs/2:
        // a band of width B holds a²/3 · B/(fs/2); reading +3 dB by convention.
        let fs = 44100u32;
        let mut state = 1u64;
        let mut noise = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let x: Vec<Vec<f32>> =
            (0..2).map(|_| (0..fs as usize * 60).map(|_| noise() * 0.25).collect()).collect();
        let s = of_channels(&x, fs);
        for (k, (&fc, &l)) in s.centres_hz.iter().zip(&s.levels_db).enumerate() {
            if fc < 100.0 {
                continue; // too few bins (and frames) for a steady estimate
            }
            let width = fc * (10f64.powf(0.05) - 10f64.powf(-0.05));
            let want = 10.0 * (0.25f64.powi(2) / 3.0 * width / (fs as f64 / 2.0)).log10() + 3.0103;
            assert!((l - want).abs() < 0.5, "band {k} ({fc:.0} Hz): {l:.2} dB, want {want:.2}");
        }
    }

    #[test]
    fn bands_above_nyquist_are_empty() {
        let x = sine(8000.0, 0.5, 0.0, 1.0, 22050);
        let s = of_channels(&[x], 22050);
        assert!((s.levels_db[band_of(&s, 8000.0)] - 20.0 * 0.5f64.log10()).abs() < 0.1);
        assert_eq!(s.levels_db[band_of(&s, 16000.0)], f64::NEG_INFINITY);
        assert_eq!(*s.levels_db.last().unwrap(), f64::NEG_INFINITY);
    }
}
