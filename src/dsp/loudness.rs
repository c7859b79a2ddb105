//! Loudness and peak measurement (ITU-R BS.1770-4, EBU R128 / Tech 3341 /
//! Tech 3342): loudness, loudness range and sample peak from the `ebur128`
//! crate; true peak from lathe's own detector ([`crate::dsp::oversample`]),
//! whose long interpolation filter does not under-read peaks near Nyquist
//! the way short 4× filters do; and album loudness pooled over every
//! track's gating blocks.

use ebur128::{EbuR128, Mode};

use crate::dsp::kweight::{self, Blocks};
use crate::dsp::series::{Reduce, Series};

use crate::dsp::math;
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
    /// Short-term loudness every [`HOP_S`] seconds (for plots; a long
    /// programme's at a longer interval), `-inf` until 3 s have passed.
    pub short_term_lufs: Series,
    /// Momentary loudness likewise, `-inf` until 400 ms have passed.
    pub momentary_lufs: Series,
    pub duration_s: f64,
}

impl Measurement {
    /// Peak-to-loudness ratio: true peak minus integrated loudness.
    pub fn plr_db(&self) -> f64 {
        self.true_peak_dbtp - self.integrated_lufs
    }
}

/// K-weighted energy of every [`HOP_S`] block of a programme, fed in any
/// lengths: what momentary, short-term and gated integrated loudness are
/// computed from, each block summed once.
#[derive(Clone)]
pub struct BlockEnergies {
    filter: Blocks,
    hop: usize,
    pending: usize,
    current: f64,
    /// Energy (sum over channels of squared weighted samples) per complete block.
    pub blocks: Vec<f64>,
}

impl BlockEnergies {
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        BlockEnergies {
            filter: Blocks::new(channels, sample_rate),
            hop: hop_frames(sample_rate),
            pending: 0,
            current: 0.0,
            blocks: Vec::new(),
        }
    }

    pub fn feed(&mut self, channels: &[&[f32]]) {
        let len = channels.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < len {
            let take = (self.hop - self.pending).min(len - start);
            let block: Vec<&[f32]> = channels.iter().map(|c| &c[start..start + take]).collect();
            self.current += self.filter.energy(&block);
            start += take;
            self.pending += take;
            if self.pending == self.hop {
                self.pending = 0;
                self.blocks.push(std::mem::take(&mut self.current));
            }
        }
    }

    /// Feeds two stereo signals at the same rate, fed only together (so
    /// their blocks fall alike), in one four-lane loop: [`feed`](Self::feed)
    /// of each, bit for bit.
    pub fn feed_pair(&mut self, other: &mut BlockEnergies, a: [&[f32]; 2], b: [&[f32]; 2]) {
        if self.hop != other.hop || self.pending != other.pending {
            self.feed(&a);
            other.feed(&b);
            return;
        }
        let len = a[0].len();
        let mut start = 0;
        while start < len {
            let take = (self.hop - self.pending).min(len - start);
            let (pa, pb) = (
                [&a[0][start..start + take], &a[1][start..start + take]],
                [&b[0][start..start + take], &b[1][start..start + take]],
            );
            let (ea, eb) = kweight::energy_pair(&mut self.filter, &mut other.filter, pa, pb);
            self.current += ea;
            other.current += eb;
            start += take;
            for e in [&mut *self, &mut *other] {
                e.pending += take;
                if e.pending == e.hop {
                    e.pending = 0;
                    e.blocks.push(std::mem::take(&mut e.current));
                }
            }
        }
    }

    /// Loudness of the `n` blocks ending with block `k` (`-inf` before there are `n`).
    pub fn window(&self, k: usize, n: usize) -> f64 {
        if k + 1 < n {
            return f64::NEG_INFINITY;
        }
        let e: f64 = self.blocks[k + 1 - n..=k].iter().sum();
        kweight::lufs(e / (n * self.hop) as f64)
    }

    /// Mean-square energies of the 400 ms gating blocks, every 100 ms.
    fn gating_blocks(&self) -> impl Iterator<Item = f64> + '_ {
        let norm = (MOMENTARY_BLOCKS * self.hop) as f64;
        self.blocks.windows(MOMENTARY_BLOCKS).map(move |w| w.iter().sum::<f64>() / norm)
    }

    /// Mean-square energies of the 3 s short-term blocks of the loudness
    /// range: the first at 3 s, then every 100 ms. EBU Tech 3342 (since
    /// 2016) asks for windows overlapping by at least 2.9 s, a reading at
    /// 10 Hz or more; libebur128's 1 s step reads short programmes and
    /// sudden changes up to a few tenths of an LU differently.
    fn short_term_blocks(&self) -> impl Iterator<Item = f64> + '_ {
        let norm = (SHORT_TERM_BLOCKS * self.hop) as f64;
        self.blocks.windows(SHORT_TERM_BLOCKS).map(move |w| w.iter().sum::<f64>() / norm)
    }

    /// Integrated loudness, BS.1770-4: 400 ms gating blocks every 100 ms,
    /// absolute gate at -70 LUFS, relative gate 10 LU under the absolutely
    /// gated loudness.
    pub fn integrated(&self) -> f64 {
        Self::pooled_integrated(&[self])
    }

    /// Loudness range, EBU Tech 3342: short-term blocks gated at -70 LUFS
    /// and 20 LU under their power mean; the spread from the 10th to the
    /// 95th percentile.
    pub fn lra(&self) -> f64 {
        Self::pooled_lra(&[self])
    }

    /// The integrated loudness the programme would have with each block's
    /// energy scaled by `scale(k)` (a prediction: how a gain curve that
    /// scales each block's energy so would move the loudness).
    pub fn integrated_scaled(&self, scale: impl Fn(usize) -> f64) -> f64 {
        let blocks: Vec<f64> = self.blocks.iter().enumerate().map(|(k, &e)| e * scale(k)).collect();
        let norm = (MOMENTARY_BLOCKS * self.hop) as f64;
        gated_integrated(blocks.windows(MOMENTARY_BLOCKS).map(|w| w.iter().sum::<f64>() / norm))
    }

    /// Integrated loudness over the gating blocks of several programmes
    /// (an album: not an average of the tracks' values).
    pub fn pooled_integrated(parts: &[&BlockEnergies]) -> f64 {
        gated_integrated(parts.iter().flat_map(|p| p.gating_blocks()))
    }

    /// Loudness range over the short-term blocks of several programmes.
    pub fn pooled_lra(parts: &[&BlockEnergies]) -> f64 {
        let mut st: Vec<f64> =
            parts.iter().flat_map(|p| p.short_term_blocks()).filter(|&e| e >= absolute_gate()).collect();
        if st.is_empty() {
            return 0.0;
        }
        let relative = st.iter().sum::<f64>() / st.len() as f64 * 0.01;
        st.retain(|&e| e >= relative);
        st.sort_by(f64::total_cmp);
        let last = (st.len() - 1) as f64;
        kweight::lufs(st[(last * 0.95 + 0.5) as usize]) - kweight::lufs(st[(last * 0.1 + 0.5) as usize])
    }
}

/// Integrated loudness of gating-block energies: the absolute gate, then
/// the relative gate 10 LU under the absolutely gated loudness.
fn gated_integrated(blocks: impl Iterator<Item = f64>) -> f64 {
    let gated: Vec<f64> = blocks.filter(|&e| e >= absolute_gate()).collect();
    if gated.is_empty() {
        return f64::NEG_INFINITY;
    }
    let relative = gated.iter().sum::<f64>() / gated.len() as f64 * 0.1;
    let (sum, n) = gated.iter().filter(|&&e| e >= relative).fold((0.0, 0usize), |(s, n), &e| (s + e, n + 1));
    kweight::lufs(sum / n as f64)
}

/// The absolute gate (-70 LUFS) as a mean-square energy.
fn absolute_gate() -> f64 {
    math::powf(10f64, (ABSOLUTE_GATE_LUFS + 0.691) / 10.0)
}

/// The absolute gate of BS.1770-4.
const ABSOLUTE_GATE_LUFS: f64 = -70.0;

fn hop_frames(sample_rate: u32) -> usize {
    (sample_rate as f64 * HOP_S).round() as usize
}

/// A meter fed block by block: integrated loudness, loudness range,
/// momentary and short-term readings and sample peak, keeping what album
/// pooling needs.
///
/// Every reading comes from lathe's own K-weighted [`BlockEnergies`], each
/// sample filtered and summed once (asking the `ebur128` crate for
/// momentary and short-term loudness every 100 ms re-sums the whole window
/// each time: 30 passes over every sample for short-term). A meter made
/// [`with_reference`](Meter::with_reference) also runs `ebur128`, the meter
/// of record for the written masters and the album's loudness: their
/// integrated loudness, loudness range, sample peak and pooling. The two
/// agree to 0.001 LU (tested).
pub struct Meter {
    ebu: Option<EbuR128>,
    sample_rate: u32,
    frames: u64,
    energies: BlockEnergies,
    sample_peak: f32,
    /// Blocks already turned into readings.
    read: usize,
    momentary_max: f64,
    short_term_max: f64,
    short_term: Series,
    momentary: Series,
    /// The block energies came measured already: feed only the reference.
    prefilled: bool,
}

/// Blocks in the short-term (3 s) and momentary (400 ms) windows.
const SHORT_TERM_BLOCKS: usize = 30;
const MOMENTARY_BLOCKS: usize = 4;

fn meter_error(e: ebur128::Error) -> Error {
    Error::Render(format!("loudness meter: {e}"))
}

fn to_db(amplitude: f64) -> f64 {
    20.0 * math::log10(amplitude)
}

impl Meter {
    /// lathe's block meter alone (premasters, `lathe analyze`).
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        Meter {
            ebu: None,
            sample_rate,
            frames: 0,
            energies: BlockEnergies::new(channels, sample_rate),
            sample_peak: 0.0,
            read: 0,
            momentary_max: f64::NEG_INFINITY,
            short_term_max: f64::NEG_INFINITY,
            short_term: Series::new(HOP_S, Reduce::PowerMean),
            momentary: Series::new(HOP_S, Reduce::PowerMean),
            prefilled: false,
        }
    }

    /// The reference meter for samples whose block energies were measured
    /// already, as they were made (a render pass measures them to steer its
    /// gain): only `ebur128` reads the samples again.
    pub fn with_reference_from(energies: BlockEnergies, channels: usize, sample_rate: u32) -> Result<Self> {
        let mut m = Meter::with_reference(channels, sample_rate)?;
        m.energies = energies;
        m.prefilled = true;
        m.take_readings();
        Ok(m)
    }

    /// The block meter with `ebur128` beside it as the meter of record.
    pub fn with_reference(channels: usize, sample_rate: u32) -> Result<Self> {
        let mode = Mode::I | Mode::SAMPLE_PEAK;
        let ebu = EbuR128::new(channels as u32, sample_rate, mode).map_err(meter_error)?;
        Ok(Meter { ebu: Some(ebu), ..Meter::new(channels, sample_rate) })
    }

    /// Feeds planar audio of any length; readings are taken every [`HOP_S`].
    pub fn feed(&mut self, channels: &[&[f32]]) -> Result<()> {
        self.feed_with(channels, |e| e.feed(channels))
    }

    /// [`feed`](Self::feed), with a second stereo signal's block energies
    /// (`other`, fed only here) measured in the same loop.
    pub fn feed_beside(
        &mut self,
        channels: [&[f32]; 2],
        other: &mut BlockEnergies,
        b: [&[f32]; 2],
    ) -> Result<()> {
        if self.prefilled {
            other.feed(&b);
        }
        self.feed_with(&channels, |e| e.feed_pair(other, channels, b))
    }

    /// Feeds the reference (or counts the sample peak), then, unless the
    /// energies came measured, `measure`s them and takes the readings.
    fn feed_with(&mut self, channels: &[&[f32]], measure: impl FnOnce(&mut BlockEnergies)) -> Result<()> {
        if let Some(ebu) = self.ebu.as_mut() {
            ebu.add_frames_planar_f32(channels).map_err(meter_error)?;
        } else {
            for c in channels {
                self.sample_peak = c.iter().fold(self.sample_peak, |m, v| m.max(v.abs()));
            }
        }
        self.frames += channels.first().map_or(0, |c| c.len()) as u64;
        if !self.prefilled {
            measure(&mut self.energies);
            self.take_readings();
        }
        Ok(())
    }

    /// Readings for the blocks measured since the last call.
    fn take_readings(&mut self) {
        for k in self.read..self.energies.blocks.len() {
            let m = self.energies.window(k, MOMENTARY_BLOCKS);
            let st = self.energies.window(k, SHORT_TERM_BLOCKS);
            self.momentary_max = self.momentary_max.max(m);
            self.short_term_max = self.short_term_max.max(st);
            self.momentary.push(m as f32);
            self.short_term.push(st as f32);
        }
        self.read = self.energies.blocks.len();
    }

    /// The readings so far, with the true peak measured separately (it needs the whole signal).
    pub fn measurement(&self, true_peak_dbtp: f64) -> Result<Measurement> {
        let (integrated, lra, sp) = match &self.ebu {
            Some(ebu) => {
                let mut sp = 0f64;
                for c in 0..ebu.channels() {
                    sp = sp.max(ebu.sample_peak(c).map_err(meter_error)?);
                }
                (ebu.loudness_global().map_err(meter_error)?, self.energies.lra(), sp)
            }
            None => (self.energies.integrated(), self.energies.lra(), self.sample_peak as f64),
        };
        Ok(Measurement {
            integrated_lufs: integrated,
            lra_lu: lra,
            true_peak_dbtp,
            sample_peak_dbfs: to_db(sp),
            momentary_max_lufs: self.momentary_max,
            short_term_max_lufs: self.short_term_max,
            short_term_lufs: self.short_term.clone().finished(),
            momentary_lufs: self.momentary.clone().finished(),
            duration_s: self.frames as f64 / self.sample_rate as f64,
        })
    }

    /// The block energies, for [`BlockEnergies::pooled_integrated`].
    pub fn into_energies(self) -> BlockEnergies {
        self.energies
    }

    /// The reference meter's gating state, for [`pooled_loudness`]
    /// (`None` unless made [`with_reference`](Meter::with_reference)).
    #[cfg(test)]
    pub fn into_reference(self) -> Option<EbuR128> {
        self.ebu
    }
}

/// Feeds a whole programme to `meter` while the true-peak detector reads
/// the same samples beside it; returns the readings and the meter.
pub fn read_programme(mut meter: Meter, channels: &[Vec<f32>]) -> Result<(Measurement, Meter)> {
    let views: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    let (fed, tp) = rayon::join(
        || meter.feed(&views).map(|()| meter),
        || crate::dsp::oversample::true_peak_dbtp(channels),
    );
    let meter = fed?;
    Ok((meter.measurement(tp)?, meter))
}

/// Measures a whole programme with lathe's block meter; returns the
/// readings and the block energies (for album pooling).
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Result<(Measurement, BlockEnergies)> {
    let (m, meter) = read_programme(Meter::new(channels.len(), sample_rate), channels)?;
    Ok((m, meter.into_energies()))
}

/// Integrated loudness only, from lathe's own K-weighted block energies
/// (no peak, LRA or readings): for the renderer's inner loop and the stems.
pub fn integrated(channels: &[Vec<f32>], sample_rate: u32) -> f64 {
    let mut e = BlockEnergies::new(channels.len(), sample_rate);
    let views: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    e.feed(&views);
    e.integrated()
}

/// Album loudness by `ebur128`, pooled over every track's gating state: the
/// reference the tests hold [`BlockEnergies::pooled_integrated`] (which
/// steers the album pass) against.
#[cfg(test)]
pub fn pooled_loudness<'a>(states: impl IntoIterator<Item = &'a EbuR128>) -> Result<f64> {
    EbuR128::loudness_global_multiple(states.into_iter()).map_err(meter_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::sine;

    #[test]
    fn scaled_block_energies_predict_a_gain() {
        let x = tone(-20.0, 5.0, 48000);
        let (_, e) = measure(&x, 48000).unwrap();
        assert_eq!(e.integrated_scaled(|_| 1.0), e.integrated());
        let up = e.integrated_scaled(|_| 10f64.powf(0.35));
        assert!((up - e.integrated() - 3.5).abs() < 1e-9, "{up}");
        // Half the blocks 6 dB down: their energy a quarter.
        let half = e.integrated_scaled(|k| if k % 2 == 0 { 1.0 } else { 0.25 });
        assert!((half - (e.integrated() + 10.0 * (0.625f64).log10())).abs() < 0.01, "{half}");
    }

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
                lathe_oracle::fade_ends(&mut x, rate);
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
    fn block_energy_meter_agrees_with_ebur128() {
        // Gating (EBU case 4's quiet ends), music, and the readings of a whole song.
        for rate in [44100, 48000] {
            let gated = concat(&[tone(-72.0, 5.0, rate), tone(-23.0, 10.0, rate), tone(-36.0, 5.0, rate)]);
            let song = lathe_synth::Song { seconds: 20.0, ..lathe_synth::sample_album_songs()[2].clone() };
            let music = lathe_synth::render(&song, rate).to_vec();
            for x in [gated, music] {
                let (m, _) = measure(&x, rate).unwrap();
                let mut r = Meter::with_reference(2, rate).unwrap();
                r.feed(&[&x[0], &x[1]]).unwrap();
                let reference = r.measurement(0.0).unwrap();
                for (what, mine, theirs) in [
                    ("integrated", m.integrated_lufs, reference.integrated_lufs),
                    ("fast integrated", integrated(&x, rate), reference.integrated_lufs),
                    ("sample peak", m.sample_peak_dbfs, reference.sample_peak_dbfs),
                ] {
                    assert!((mine - theirs).abs() < 0.001, "{rate} {what}: {mine:.4} vs ebur128 {theirs:.4}");
                }
                let mut e = EbuR128::new(2, rate, Mode::S).unwrap();
                let hop = hop_frames(rate);
                let mut short_terms = Vec::new();
                for (k, (&st, &mo)) in m.short_term_lufs.iter().zip(m.momentary_lufs.iter()).enumerate() {
                    let end = (k + 1) * hop;
                    e.add_frames_planar_f32(&[&x[0][end - hop..end], &x[1][end - hop..end]]).unwrap();
                    let (es, em) = (e.loudness_shortterm().unwrap(), e.loudness_momentary().unwrap());
                    if k >= 29 {
                        short_terms.push(es);
                    }
                    if k >= 29 && k % 37 == 0 {
                        assert!((st as f64 - es).abs() < 0.001 || es < -70.0, "short-term {st} vs {es}");
                        assert!((mo as f64 - em).abs() < 0.001 || em < -70.0, "momentary {mo} vs {em}");
                    }
                }
                // Tech 3342 on ebur128's short-term readings every 100 ms.
                let power = |l: f64| 10f64.powf(l / 10.0);
                let mut st: Vec<f64> = short_terms.into_iter().filter(|&l| l >= -70.0).collect();
                let gate =
                    10.0 * (st.iter().map(|&l| power(l)).sum::<f64>() / st.len() as f64).log10() - 20.0;
                st.retain(|&l| l >= gate);
                st.sort_by(f64::total_cmp);
                let last = (st.len() - 1) as f64;
                let lra = st[(last * 0.95 + 0.5) as usize] - st[(last * 0.1 + 0.5) as usize];
                assert!(
                    (m.lra_lu - lra).abs() < 0.001,
                    "{rate} LRA: {:.4} vs Tech 3342 on ebur128's readings {lra:.4}",
                    m.lra_lu
                );
                assert_eq!(m.lra_lu, reference.lra_lu, "the reference meter reads the block meter's LRA");
            }
        }
    }

    #[test]
    fn album_loudness_pools_gating_blocks_instead_of_averaging_tracks() {
        let rate = 48000;
        let (a, ga) = measure(&tone(-23.0, 20.0, rate), rate).unwrap();
        let (b, gb) = measure(&tone(-40.0, 20.0, rate), rate).unwrap();
        let pooled = BlockEnergies::pooled_integrated(&[&ga, &gb]);
        // The reference meter pools the same way.
        let reference = |x: &[Vec<f32>]| {
            let mut m = Meter::with_reference(2, rate).unwrap();
            m.feed(&[&x[0], &x[1]]).unwrap();
            m.into_reference().unwrap()
        };
        let (ra, rb) = (reference(&tone(-23.0, 20.0, rate)), reference(&tone(-40.0, 20.0, rate)));
        let by_ebur128 = pooled_loudness([&ra, &rb]).unwrap();
        assert!((pooled - by_ebur128).abs() < 0.001, "{pooled} vs ebur128 {by_ebur128}");
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
