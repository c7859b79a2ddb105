//! Stem mix-down: a track's stems decoded in lockstep blocks, each stem's
//! EQ, gain, polarity and pan applied, and summed in f64 into the track's
//! stereo block. Memory is a block per stem, never a whole stem or track.
//!
//! Pan law (constant power, unity at centre):
//! left × √2·cos((pan+1)·π/4), right × √2·sin((pan+1)·π/4); applied to both
//! channels of a stereo stem (a balance control) and to a mono stem before it
//! becomes stereo.

use std::path::PathBuf;

use crate::audio::SourceFormat;
use crate::audio::decode::Reader;
use crate::dsp::eq::{Band, Eq};
use crate::dsp::loudness::BlockEnergies;
use crate::dsp::math;
use crate::dsp::scan::ClipDetector;
use crate::dsp::{db_to_gain, gain_to_db};
use crate::error::{Error, Result};

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

/// Left and right gains of the pan law.
pub fn pan_gains(pan: f64) -> (f64, f64) {
    let a = (pan + 1.0) * std::f64::consts::FRAC_PI_4;
    (std::f64::consts::SQRT_2 * math::cos(a), std::f64::consts::SQRT_2 * math::sin(a))
}

/// One stem's decoding state.
struct Lane {
    input: StemInput,
    reader: Reader,
    eq: Option<Eq>,
    meter: BlockEnergies,
    clips: ClipDetector,
    peak: f32,
    frames: u64,
    buf: Vec<Vec<f32>>,
}

/// A track's stems mixed a block at a time.
pub struct StemMixer {
    lanes: Vec<Lane>,
    format: SourceFormat,
    acc: [Vec<f64>; 2],
    stereo: [Vec<f32>; 2],
    sum_peak: f32,
}

impl StemMixer {
    pub fn open(inputs: &[StemInput], min_clip_run: usize) -> Result<StemMixer> {
        let (lanes, format) = open_lanes(inputs, min_clip_run)?;
        Ok(StemMixer {
            lanes,
            format: SourceFormat { channels: 2, ..format },
            acc: [vec![0f64; BLOCK], vec![0f64; BLOCK]],
            stereo: [Vec::with_capacity(BLOCK), Vec::with_capacity(BLOCK)],
            sum_peak: 0.0,
        })
    }

    /// The first stem's format (channels: 2).
    pub fn format(&self) -> &SourceFormat {
        &self.format
    }

    /// Replaces `out` with the mix's next block; returns its frames (0 at the end).
    pub fn read(&mut self, out: &mut [Vec<f32>; 2]) -> Result<usize> {
        self.acc.iter_mut().for_each(|a| a.fill(0.0));
        let mut block_len = 0;
        for lane in &mut self.lanes {
            block_len = block_len.max(lane.mix_into(&mut self.acc, &mut self.stereo)?);
        }
        for (o, a) in out.iter_mut().zip(&self.acc) {
            o.clear();
            o.extend(a[..block_len].iter().map(|&x| x as f32));
        }
        self.sum_peak = out.iter().flatten().fold(self.sum_peak, |m, x| m.max(x.abs()));
        Ok(block_len)
    }

    /// What each stem brought, and the sum's sample peak before any gain (dBFS).
    pub fn finish(self) -> (Vec<StemFacts>, f64) {
        let mut stems: Vec<StemFacts> = self.lanes.into_iter().map(Lane::facts).collect();
        let energy = |l: f64| if l.is_finite() { math::powf(10f64, l / 10.0) } else { 0.0 };
        let total: f64 = stems.iter().map(|s| energy(s.mixed_lufs)).sum();
        for s in &mut stems {
            s.share_pct = if total > 0.0 { 100.0 * energy(s.mixed_lufs) / total } else { 0.0 };
        }
        (stems, gain_to_db(self.sum_peak as f64))
    }
}

/// Opens every stem, refusing stems at different rates; the first stem's format.
fn open_lanes(inputs: &[StemInput], min_clip_run: usize) -> Result<(Vec<Lane>, SourceFormat)> {
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
            clips: ClipDetector::new(fmt.channels, min_clip_run),
            input: input.clone(),
            reader,
            peak: 0.0,
            frames: 0,
            buf: Vec::new(),
        });
    }
    let (_, format) = first.ok_or_else(|| Error::Render("a stems track needs at least one stem".into()))?;
    Ok((lanes, format))
}

impl Lane {
    /// Reads the stem's next block, and unless it is muted adds it, through
    /// its EQ, gain, polarity and pan, into `acc`. Returns the frames read.
    fn mix_into(&mut self, acc: &mut [Vec<f64>; 2], stereo: &mut [Vec<f32>; 2]) -> Result<usize> {
        self.buf.iter_mut().for_each(Vec::clear);
        let n = self.reader.read(&mut self.buf, BLOCK)?;
        if n == 0 {
            return Ok(0);
        }
        self.frames += n as u64;
        self.clips.feed(&self.buf);
        self.peak = self.buf.iter().flatten().fold(self.peak, |m, x| m.max(x.abs()));
        if self.input.mix.mute {
            return Ok(n);
        }
        // The stem as a stereo pair, through its EQ.
        stereo[0].clear();
        stereo[1].clear();
        stereo[0].extend_from_slice(&self.buf[0]);
        stereo[1].extend_from_slice(self.buf.get(1).unwrap_or(&self.buf[0]));
        if let Some(eq) = self.eq.as_mut() {
            let [l, r] = stereo;
            eq.process(l, r);
        }
        let g = db_to_gain(self.input.mix.gain_db) * if self.input.mix.inverted { -1.0 } else { 1.0 };
        let (gl, gr) = pan_gains(self.input.mix.pan);
        for (c, pg) in [gl, gr].into_iter().enumerate() {
            let k = g * pg;
            for (a, s) in acc[c].iter_mut().zip(stereo[c].iter_mut()) {
                let v = *s as f64 * k;
                *a += v;
                *s = v as f32;
            }
        }
        self.meter.feed(&[&stereo[0], &stereo[1]]);
        Ok(n)
    }

    fn facts(self) -> StemFacts {
        StemFacts {
            name: self.input.name.clone(),
            file: self.input.file.clone(),
            channels: self.reader.format().channels,
            frames: self.frames,
            mixed_lufs: if self.input.mix.mute { f64::NEG_INFINITY } else { self.meter.integrated() },
            file_peak_dbfs: gain_to_db(self.peak as f64),
            clip_runs: self.clips.finish().0,
            share_pct: 0.0,
            mix: self.input.mix,
        }
    }
}
