//! Stem mix-down: a track's stems decoded in lockstep blocks, each stem's
//! EQ, gain, polarity and pan applied, and summed in f64 into the track's
//! stereo buffer. Memory is one stereo track plus a block per stem, never N
//! whole stems.
//!
//! Pan law (constant power, unity at centre):
//! left × √2·cos((pan+1)·π/4), right × √2·sin((pan+1)·π/4); applied to both
//! channels of a stereo stem (a balance control) and to a mono stem before it
//! becomes stereo.

use std::path::PathBuf;

use crate::audio::decode::Reader;
use crate::audio::{Audio, SourceFormat};
use crate::dsp::db_to_gain;
use crate::dsp::eq::{Band, Eq};
use crate::error::{Error, Result};
use crate::loudness::BlockEnergies;

/// Frames decoded from every stem per step.
pub const BLOCK: usize = 1 << 15;

/// Mixing settings of one stem.
#[derive(Debug, Clone, PartialEq)]
pub struct StemMix {
    pub gain_db: f64,
    pub pan: f64,
    pub mute: bool,
    pub inverted: bool,
    pub eq: Vec<Band>,
}

/// A stem to mix: its name, file and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StemInput {
    pub name: String,
    pub file: PathBuf,
    pub mix: StemMix,
}

/// What the mix-down learned about one stem.
#[derive(Debug, Clone, PartialEq)]
pub struct StemFacts {
    pub name: String,
    pub file: PathBuf,
    pub mix: StemMix,
    pub channels: usize,
    pub frames: u64,
    /// Loudness of the stem as it sits in the mix (after EQ, gain and pan), LUFS.
    pub mixed_lufs: f64,
    /// Sample peak of the stem file as delivered, dBFS.
    pub file_peak_dbfs: f64,
    /// Runs of 3 or more consecutive full-scale samples in the file.
    pub clip_runs: usize,
    /// Share of the summed stems' loudness energy, percent.
    pub share_pct: f64,
}

/// A mixed stems track.
pub struct Mixdown {
    pub audio: Audio,
    /// The first stem's format (channels: 2).
    pub format: SourceFormat,
    pub stems: Vec<StemFacts>,
    /// Sample peak of the sum before any gain, dBFS (over 0 is fine in float).
    pub sum_peak_dbfs: f64,
}

/// Left and right gains of the pan law.
pub fn pan_gains(pan: f64) -> (f64, f64) {
    let a = (pan + 1.0) * std::f64::consts::FRAC_PI_4;
    (std::f64::consts::SQRT_2 * a.cos(), std::f64::consts::SQRT_2 * a.sin())
}

/// Counts runs of consecutive identical full-scale samples (flat tops) across blocks.
#[derive(Default)]
struct ClipCounter {
    run: [usize; 2],
    last: [f32; 2],
    runs: usize,
}

impl ClipCounter {
    const MIN_RUN: usize = 3;
    const FULL_SCALE: f32 = crate::qc::checks::FULL_SCALE;

    fn feed(&mut self, channels: &[Vec<f32>]) {
        for (c, ch) in channels.iter().enumerate().take(2) {
            for &x in ch {
                if x.abs() >= Self::FULL_SCALE && (self.run[c] == 0 || x == self.last[c]) {
                    self.run[c] += 1;
                    if self.run[c] == Self::MIN_RUN {
                        self.runs += 1;
                    }
                } else {
                    self.run[c] = usize::from(x.abs() >= Self::FULL_SCALE);
                }
                self.last[c] = x;
            }
        }
    }
}

/// One stem's decoding state.
struct Lane {
    input: StemInput,
    reader: Reader,
    eq: Option<Eq>,
    meter: BlockEnergies,
    clips: ClipCounter,
    peak: f32,
    frames: u64,
    buf: Vec<Vec<f32>>,
}

/// Mixes a track's stems. Stems must share a sample rate; shorter stems are
/// padded with silence.
pub fn mixdown(inputs: &[StemInput]) -> Result<Mixdown> {
    let mut lanes = Vec::with_capacity(inputs.len());
    let mut first: Option<(PathBuf, SourceFormat)> = None;
    for input in inputs {
        let reader = Reader::open(&input.file)?;
        let fmt = reader.format().clone();
        if let Some((p0, f0)) = &first
            && f0.sample_rate != fmt.sample_rate
        {
            return Err(Error::audio(
                &input.file,
                format!(
                    "is at {} Hz but {} is at {} Hz; stems of one track must share a sample rate",
                    fmt.sample_rate,
                    p0.display(),
                    f0.sample_rate
                ),
            ));
        }
        first.get_or_insert((input.file.clone(), fmt.clone()));
        lanes.push(Lane {
            eq: (!input.mix.eq.is_empty()).then(|| Eq::new(&input.mix.eq, fmt.sample_rate)),
            meter: BlockEnergies::new(2, fmt.sample_rate),
            input: input.clone(),
            reader,
            clips: ClipCounter::default(),
            peak: 0.0,
            frames: 0,
            buf: Vec::new(),
        });
    }
    let (_, format) = first.ok_or_else(|| Error::Render("a stems track needs at least one stem".into()))?;
    let rate = format.sample_rate;
    let longest = lanes.iter().map(|l| l.reader.capacity_hint()).max().unwrap_or(0);
    let mut out = [Vec::with_capacity(longest), Vec::with_capacity(longest)];
    let mut acc = [vec![0f64; BLOCK], vec![0f64; BLOCK]];
    let mut stereo = [Vec::with_capacity(BLOCK), Vec::with_capacity(BLOCK)];
    loop {
        acc.iter_mut().for_each(|a| a.fill(0.0));
        let mut block_len = 0;
        for lane in &mut lanes {
            lane.buf.iter_mut().for_each(Vec::clear);
            let n = lane.reader.read(&mut lane.buf, BLOCK)?;
            if n == 0 {
                continue;
            }
            block_len = block_len.max(n);
            lane.frames += n as u64;
            lane.clips.feed(&lane.buf);
            lane.peak = lane.buf.iter().flatten().fold(lane.peak, |m, x| m.max(x.abs()));
            if lane.input.mix.mute {
                continue;
            }
            // The stem as a stereo pair, through its EQ.
            stereo[0].clear();
            stereo[1].clear();
            stereo[0].extend_from_slice(&lane.buf[0]);
            stereo[1].extend_from_slice(lane.buf.get(1).unwrap_or(&lane.buf[0]));
            if let Some(eq) = lane.eq.as_mut() {
                let [l, r] = &mut stereo;
                eq.process(l, r);
            }
            let g = db_to_gain(lane.input.mix.gain_db) * if lane.input.mix.inverted { -1.0 } else { 1.0 };
            let (gl, gr) = pan_gains(lane.input.mix.pan);
            for (c, pg) in [gl, gr].into_iter().enumerate() {
                let k = g * pg;
                for (a, s) in acc[c].iter_mut().zip(stereo[c].iter_mut()) {
                    let v = *s as f64 * k;
                    *a += v;
                    *s = v as f32;
                }
            }
            lane.meter.feed(&[&stereo[0], &stereo[1]]);
        }
        if block_len == 0 {
            break;
        }
        for (o, a) in out.iter_mut().zip(&acc) {
            o.extend(a[..block_len].iter().map(|&x| x as f32));
        }
    }
    let sum_peak = out.iter().flatten().fold(0f32, |m, x| m.max(x.abs()));
    let mut stems: Vec<StemFacts> = lanes
        .into_iter()
        .map(|lane| {
            Ok(StemFacts {
                name: lane.input.name.clone(),
                file: lane.input.file.clone(),
                channels: lane.reader.format().channels,
                frames: lane.frames,
                mixed_lufs: if lane.input.mix.mute { f64::NEG_INFINITY } else { lane.meter.integrated() },
                file_peak_dbfs: 20.0 * (lane.peak as f64).log10(),
                clip_runs: lane.clips.runs,
                share_pct: 0.0,
                mix: lane.input.mix,
            })
        })
        .collect::<Result<_>>()?;
    let energy = |l: f64| if l.is_finite() { 10f64.powf(l / 10.0) } else { 0.0 };
    let total: f64 = stems.iter().map(|s| energy(s.mixed_lufs)).sum();
    for s in &mut stems {
        s.share_pct = if total > 0.0 { 100.0 * energy(s.mixed_lufs) / total } else { 0.0 };
    }
    Ok(Mixdown {
        audio: Audio { sample_rate: rate, channels: out.into_iter().collect() },
        format: SourceFormat { channels: 2, ..format },
        stems,
        sum_peak_dbfs: 20.0 * (sum_peak as f64).log10(),
    })
}
