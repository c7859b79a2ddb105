//! Loudness and peak measurement (ITU-R BS.1770-4, EBU R128 / Tech 3341 /
//! Tech 3342): loudness, loudness range and sample peak from the `ebur128`
//! crate; true peak from lathe's own detector ([`crate::dsp::oversample`]),
//! whose long interpolation filter does not under-read peaks near Nyquist
//! the way short 4× filters do; and album loudness pooled over every
//! track's gating blocks.

use ebur128::{EbuR128, Mode};

use crate::error::{Error, Result};

/// Interval of the momentary/short-term readings (EBU Tech 3341 asks for ≥ 10 Hz).
pub const HOP_S: f64 = 0.1;

/// What a meter reads for one programme. Loudness values are `-inf` for
/// silence (below the absolute gate); callers decide how to show that.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub integrated_lufs: f64,
    pub lra_lu: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub momentary_max_lufs: f64,
    pub short_term_max_lufs: f64,
    /// Short-term loudness every [`HOP_S`] seconds (for plots), `-inf` until 3 s have passed.
    pub short_term_lufs: Vec<f32>,
    /// Momentary loudness every [`HOP_S`] seconds, `-inf` until 400 ms have passed.
    pub momentary_lufs: Vec<f32>,
    pub duration_s: f64,
}

impl Measurement {
    /// Peak-to-loudness ratio: true peak minus integrated loudness.
    pub fn plr_db(&self) -> f64 {
        self.true_peak_dbtp - self.integrated_lufs
    }
}

/// A meter fed block by block; keeps the gating blocks for album pooling.
pub struct Meter {
    ebu: EbuR128,
    sample_rate: u32,
    channels: usize,
    frames: u64,
    pending: u64,
    momentary_max: f64,
    short_term_max: f64,
    short_term: Vec<f32>,
    momentary: Vec<f32>,
    integrated_only: bool,
}

fn meter_error(e: ebur128::Error) -> Error {
    Error::Render(format!("loudness meter: {e}"))
}

fn to_db(amplitude: f64) -> f64 {
    20.0 * amplitude.log10()
}

impl Meter {
    pub fn new(channels: usize, sample_rate: u32) -> Result<Self> {
        Self::with_readings(channels, sample_rate, false)
    }

    /// A meter of integrated loudness only (no momentary, short-term or LRA readings).
    pub fn new_integrated(channels: usize, sample_rate: u32) -> Result<Self> {
        Self::with_readings(channels, sample_rate, true)
    }

    fn with_readings(channels: usize, sample_rate: u32, integrated_only: bool) -> Result<Self> {
        let mode = if integrated_only {
            Mode::I
        } else {
            Mode::I | Mode::LRA | Mode::M | Mode::S | Mode::SAMPLE_PEAK
        };
        let ebu = EbuR128::new(channels as u32, sample_rate, mode).map_err(meter_error)?;
        Ok(Meter {
            ebu,
            sample_rate,
            channels,
            frames: 0,
            pending: 0,
            momentary_max: f64::NEG_INFINITY,
            short_term_max: f64::NEG_INFINITY,
            short_term: Vec::new(),
            momentary: Vec::new(),
            integrated_only,
        })
    }

    /// Integrated loudness so far.
    pub fn integrated(&self) -> Result<f64> {
        self.ebu.loudness_global().map_err(meter_error)
    }

    /// Feeds planar audio; any length, readings are taken every [`HOP_S`].
    pub fn feed(&mut self, channels: &[&[f32]]) -> Result<()> {
        let hop = (self.sample_rate as f64 * HOP_S).round() as usize;
        let len = channels.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < len {
            let take = (hop - self.pending as usize).min(len - start);
            let block: Vec<&[f32]> = channels.iter().map(|c| &c[start..start + take]).collect();
            self.ebu.add_frames_planar_f32(&block).map_err(meter_error)?;
            start += take;
            self.pending += take as u64;
            self.frames += take as u64;
            if self.pending as usize == hop {
                self.pending = 0;
                self.take_reading()?;
            }
        }
        Ok(())
    }

    fn take_reading(&mut self) -> Result<()> {
        if self.integrated_only {
            return Ok(());
        }
        let window_full = |s: f64| self.frames as f64 >= s * self.sample_rate as f64 - 0.5;
        let m = if window_full(0.4) {
            let m = self.ebu.loudness_momentary().map_err(meter_error)?;
            self.momentary_max = self.momentary_max.max(m);
            m
        } else {
            f64::NEG_INFINITY
        };
        self.momentary.push(m as f32);
        let st = if window_full(3.0) {
            let s = self.ebu.loudness_shortterm().map_err(meter_error)?;
            self.short_term_max = self.short_term_max.max(s);
            s
        } else {
            f64::NEG_INFINITY
        };
        self.short_term.push(st as f32);
        Ok(())
    }

    /// The readings so far, with the true peak measured separately (it needs the whole signal).
    pub fn measurement(&self, true_peak_dbtp: f64) -> Result<Measurement> {
        let mut sp = 0f64;
        for c in 0..self.channels as u32 {
            sp = sp.max(self.ebu.sample_peak(c).map_err(meter_error)?);
        }
        Ok(Measurement {
            integrated_lufs: self.ebu.loudness_global().map_err(meter_error)?,
            lra_lu: self.ebu.loudness_range().map_err(meter_error)?,
            true_peak_dbtp,
            sample_peak_dbfs: to_db(sp),
            momentary_max_lufs: self.momentary_max,
            short_term_max_lufs: self.short_term_max,
            short_term_lufs: self.short_term.clone(),
            momentary_lufs: self.momentary.clone(),
            duration_s: self.frames as f64 / self.sample_rate as f64,
        })
    }

    /// The gating state, for [`pooled_loudness`].
    pub fn state(&self) -> &EbuR128 {
        &self.ebu
    }

    pub fn into_state(self) -> EbuR128 {
        self.ebu
    }
}

/// Measures a whole programme; returns the readings and the gating state.
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Result<(Measurement, EbuR128)> {
    // The BS.1770 meter and the true-peak detector read the same samples independently.
    let (meter, tp) = rayon::join(
        || -> Result<Meter> {
            let mut meter = Meter::new(channels.len(), sample_rate)?;
            let views: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
            meter.feed(&views)?;
            Ok(meter)
        },
        || crate::dsp::oversample::true_peak_dbtp(channels),
    );
    let meter = meter?;
    Ok((meter.measurement(tp)?, meter.into_state()))
}

/// Integrated loudness only (no peak or LRA work): for the renderer's inner loop.
pub fn integrated(channels: &[Vec<f32>], sample_rate: u32) -> Result<f64> {
    let mut meter = Meter::new_integrated(channels.len(), sample_rate)?;
    let views: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    meter.feed(&views)?;
    meter.integrated()
}

/// Album loudness: integrated loudness gated over the union of every track's
/// gating blocks (not an average of the tracks' values), and the pooled LRA.
pub fn pooled_loudness<'a>(states: impl IntoIterator<Item = &'a EbuR128> + Clone) -> Result<(f64, f64)> {
    let i = EbuR128::loudness_global_multiple(states.clone().into_iter()).map_err(meter_error)?;
    let lra = EbuR128::loudness_range_multiple(states).map_err(meter_error)?;
    Ok((i, lra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sine;

    /// A 1 kHz stereo tone at `dbfs` (per channel, sine peak), as EBU Tech 3341 specifies them.
    fn tone(dbfs: f64, seconds: f64, rate: u32) -> Vec<Vec<f32>> {
        let x = sine(1000.0, 10f64.powf(dbfs / 20.0), 0.0, seconds, rate);
        vec![x.clone(), x]
    }

    fn concat(parts: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
        (0..2).map(|c| parts.iter().flat_map(|p| p[c].iter().copied()).collect()).collect()
    }

    #[test]
    fn ebu_tech_3341_cases_1_to_4() {
        for rate in [44100, 48000] {
            // Case 1: -23 dBFS for 20 s reads -23.0 LUFS; case 2: -33 dBFS reads -33.0.
            for (level, want) in [(-23.0, -23.0), (-33.0, -33.0)] {
                let (m, _) = measure(&tone(level, 20.0, rate), rate).unwrap();
                assert!(
                    (m.integrated_lufs - want).abs() <= 0.1,
                    "{rate}: {level} dBFS read {}",
                    m.integrated_lufs
                );
                assert!((m.short_term_max_lufs - want).abs() <= 0.1);
                assert!((m.momentary_max_lufs - want).abs() <= 0.1);
            }
            // Case 3: -36 / -23 / -36 dBFS for 10 / 60 / 10 s reads -23.0.
            let x = concat(&[tone(-36.0, 10.0, rate), tone(-23.0, 60.0, rate), tone(-36.0, 10.0, rate)]);
            let (m, _) = measure(&x, rate).unwrap();
            assert!((m.integrated_lufs + 23.0).abs() <= 0.1, "case 3: {}", m.integrated_lufs);
            // Case 4: -72 / -36 / -23 / -36 / -72 dBFS for 10 / 10 / 60 / 10 / 10 s reads -23.0.
            let x = concat(&[
                tone(-72.0, 10.0, rate),
                tone(-36.0, 10.0, rate),
                tone(-23.0, 60.0, rate),
                tone(-36.0, 10.0, rate),
                tone(-72.0, 10.0, rate),
            ]);
            let (m, _) = measure(&x, rate).unwrap();
            assert!((m.integrated_lufs + 23.0).abs() <= 0.1, "case 4: {}", m.integrated_lufs);
        }
    }

    #[test]
    fn ebu_tech_3341_case_5() {
        for rate in [44100, 48000] {
            let x = concat(&[tone(-26.0, 20.0, rate), tone(-20.0, 20.1, rate), tone(-26.0, 20.0, rate)]);
            let (m, _) = measure(&x, rate).unwrap();
            assert!((m.integrated_lufs + 23.0).abs() <= 0.1, "{rate}: case 5 read {}", m.integrated_lufs);
        }
    }

    /// Alternating tone bursts whose windowed loudness is constant.
    fn alternating(hi: (f64, f64), lo: (f64, f64), cycles: usize, rate: u32) -> Vec<Vec<f32>> {
        let parts: Vec<_> =
            (0..cycles).flat_map(|_| [tone(hi.0, hi.1, rate), tone(lo.0, lo.1, rate)]).collect();
        concat(&parts)
    }

    #[test]
    fn ebu_tech_3341_case_9_short_term_is_constant() {
        // 1.34 s at -20 dBFS, 1.66 s at -30 dBFS: every 3 s window reads -23.0.
        for rate in [44100, 48000] {
            let (m, _) = measure(&alternating((-20.0, 1.34), (-30.0, 1.66), 5, rate), rate).unwrap();
            let readings: Vec<f32> = m.short_term_lufs.iter().copied().filter(|v| v.is_finite()).collect();
            assert!(readings.len() > 100);
            for s in readings {
                assert!((s + 23.0).abs() <= 0.1, "{rate}: short-term {s}");
            }
        }
    }

    #[test]
    fn ebu_tech_3341_case_12_momentary_is_constant() {
        // 0.18 s at -20 dBFS, 0.22 s at -30 dBFS: every 400 ms window reads -23.0.
        for rate in [44100, 48000] {
            let (m, _) = measure(&alternating((-20.0, 0.18), (-30.0, 0.22), 25, rate), rate).unwrap();
            let readings: Vec<f32> = m.momentary_lufs.iter().copied().filter(|v| v.is_finite()).collect();
            assert!(readings.len() > 80);
            for v in readings {
                assert!((v + 23.0).abs() <= 0.1, "{rate}: momentary {v}");
            }
        }
    }

    #[test]
    fn ebu_tech_3341_cases_15_to_19_true_peak() {
        // (frequency as a fraction of fs, phase in degrees, peak amplitude in dBFS = expected dBTP).
        // The tones fade in and out over 20 ms: cutting a tone on at full level is a click whose
        // band-limited reconstruction really does ring up to 0.4 dB over the tone, and that is
        // not what these cases measure.
        let cases = [
            (0.25, 0.0, -6.0),
            (0.25, 45.0, -6.0),
            (1.0 / 6.0, 60.0, -6.0),
            (0.125, 67.5, -6.0),
            (0.25, 45.0, 0.0),
        ];
        for rate in [44100u32, 48000] {
            for (frac, phase, level) in cases {
                let amp = 10f64.powf(level / 20.0);
                let mut x = sine(rate as f64 * frac, amp, f64::to_radians(phase), 1.0, rate);
                crate::testutil::fade_ends(&mut x, rate);
                let (m, _) = measure(&[x.clone(), x], rate).unwrap();
                let err = m.true_peak_dbtp - level;
                assert!(
                    (-0.4..=0.2).contains(&err),
                    "{rate} Hz, fs*{frac:.3} at {phase} deg: {:.3} dBTP",
                    m.true_peak_dbtp
                );
            }
        }
    }

    #[test]
    fn ebu_tech_3342_cases_1_to_4_loudness_range() {
        let cases: [(&[(f64, f64)], f64); 4] = [
            (&[(-20.0, 20.0), (-30.0, 20.0)], 10.0),
            (&[(-20.0, 20.0), (-15.0, 20.0)], 5.0),
            (&[(-40.0, 20.0), (-20.0, 20.0)], 20.0),
            (&[(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)], 15.0),
        ];
        for rate in [44100, 48000] {
            for (i, (parts, want)) in cases.iter().enumerate() {
                let x = concat(&parts.iter().map(|&(l, s)| tone(l, s, rate)).collect::<Vec<_>>());
                let (m, _) = measure(&x, rate).unwrap();
                assert!(
                    (m.lra_lu - want).abs() <= 1.0,
                    "{rate}: case {}: LRA {:.2}, want {want}",
                    i + 1,
                    m.lra_lu
                );
            }
        }
    }

    #[test]
    fn album_loudness_pools_gating_blocks_instead_of_averaging_tracks() {
        let rate = 48000;
        let (a, ga) = measure(&tone(-23.0, 20.0, rate), rate).unwrap();
        let (b, gb) = measure(&tone(-40.0, 20.0, rate), rate).unwrap();
        let (pooled, _) = pooled_loudness([&ga, &gb]).unwrap();
        assert!(
            (pooled + 23.0).abs() <= 0.1,
            "pooled {pooled}: the quiet track falls under the relative gate"
        );
        // Averaging the tracks' energies instead gives about -25.9: not what the album measures.
        let averaged = 10.0
            * ((10f64.powf(a.integrated_lufs / 10.0) + 10f64.powf(b.integrated_lufs / 10.0)) / 2.0).log10();
        assert!((averaged + 25.9).abs() < 0.2);
        assert!((pooled - averaged).abs() > 2.5);
    }
}
