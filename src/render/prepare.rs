//! Preparing a premaster for its render, as it streams by in phase 1: the
//! chain's pre-gain stages, their output's block energies, and a spill of
//! it at every output rate (resampled on the way), which every pass reads.

use std::path::Path;

use crate::audio::encode::Deliverable;
use crate::audio::resample;
use crate::audio::spill::{Spill, SpillWriter};
use crate::dsp::chain::{Chain, PreGain};
use crate::dsp::compressor::CompressorStats;
use crate::dsp::loudness::BlockEnergies;
use crate::error::Result;

/// The premaster as every pass reads it: the chain's pre-gain stages run
/// once, their output spilled at each output rate, and its K-weighted block
/// energies (what the first gain and the first prediction start from).
/// Made as the premaster streams by ([`Prepare`]), in phase 1, so a track is
/// decoded once; rendered as many times as the album rule asks.
pub struct Prepared {
    pub(super) sample_rate: u32,
    /// One spill per distinct output rate, in the order deliverables first use it.
    pub(super) spills: Vec<(u32, Spill)>,
    pub(super) energies: BlockEnergies,
    pub(super) compressor: Option<CompressorStats>,
    /// Where one track ends and the next begins, in premaster frames, for
    /// a programme of tracks joined without a gap (empty for one track).
    pub(super) splits: Vec<u64>,
}

/// The pre-gain stages and the resamplers, fed a block at a time.
pub struct Prepare {
    sample_rate: u32,
    stages: PreGain,
    energies: BlockEnergies,
    /// Per output rate: its resampler (none at the premaster's own rate) and spill.
    lanes: Vec<(u32, Option<resample::Stream>, SpillWriter)>,
    resampled: [Vec<f32>; 2],
    frames: u64,
    splits: Vec<u64>,
}

/// The distinct output rates of `deliverables`, in the order they first appear.
fn output_rates(deliverables: &[Deliverable], sample_rate: u32) -> Vec<u32> {
    let mut rates = Vec::new();
    for d in deliverables {
        let rate = d.sample_rate.unwrap_or(sample_rate);
        if !rates.contains(&rate) {
            rates.push(rate);
        }
    }
    rates
}

impl Prepare {
    /// Spills into `scratch` (a folder of the render's own) for every rate
    /// `deliverables` are written at.
    pub fn new(
        chain: &Chain,
        sample_rate: u32,
        deliverables: &[Deliverable],
        scratch: &Path,
    ) -> Result<Prepare> {
        let lanes = output_rates(deliverables, sample_rate)
            .into_iter()
            .map(|rate| {
                let rs =
                    (rate != sample_rate).then(|| resample::Stream::new(2, sample_rate, rate)).transpose()?;
                let spill = SpillWriter::create(&scratch.join(format!("premaster-{rate}")), 2)?;
                Ok((rate, rs, spill))
            })
            .collect::<Result<_>>()?;
        Ok(Prepare {
            sample_rate,
            stages: PreGain::new(chain, sample_rate),
            energies: BlockEnergies::new(2, sample_rate),
            lanes,
            resampled: [Vec::new(), Vec::new()],
            frames: 0,
            splits: Vec::new(),
        })
    }

    /// The premaster's next frames (changed in place by the pre-gain stages).
    pub fn feed(&mut self, left: &mut [f32], right: &mut [f32]) -> Result<()> {
        self.stage(left, right);
        self.energies.feed(&[left, right]);
        self.spill(left, right)
    }

    /// [`feed`](Self::feed) in three steps, for a caller that measures the
    /// block energies itself, beside another signal's: the pre-gain stages
    /// (in place), then [`energies`](Self::energies) fed, then the spill.
    pub fn stage(&mut self, left: &mut [f32], right: &mut [f32]) {
        self.stages.process(left, right);
    }

    /// What the staged frames' block energies are fed to.
    pub fn energies(&mut self) -> &mut BlockEnergies {
        &mut self.energies
    }

    /// The premaster's rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Marks the end of one track of a programme (tracks joined without a
    /// gap stream through one `Prepare`, and are split again when written).
    pub fn end_of_track(&mut self) {
        self.splits.push(self.frames);
    }

    /// Spills staged frames (and resamples them for the other rates).
    pub fn spill(&mut self, left: &[f32], right: &[f32]) -> Result<()> {
        self.frames += left.len() as u64;
        for (_, rs, spill) in &mut self.lanes {
            match rs {
                None => spill.write(&[left, right])?,
                Some(rs) => {
                    self.resampled.iter_mut().for_each(Vec::clear);
                    rs.feed(&[left, right], &mut self.resampled)?;
                    spill.write(&[&self.resampled[0], &self.resampled[1]])?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Prepared> {
        let mut spills = Vec::with_capacity(self.lanes.len());
        for (rate, rs, mut spill) in self.lanes {
            if let Some(rs) = rs {
                self.resampled.iter_mut().for_each(Vec::clear);
                rs.finish(&mut self.resampled)?;
                spill.write(&[&self.resampled[0], &self.resampled[1]])?;
            }
            spills.push((rate, spill.finish()?));
        }
        Ok(Prepared {
            sample_rate: self.sample_rate,
            spills,
            compressor: self.stages.compressor_stats(),
            energies: self.energies,
            splits: self.splits,
        })
    }
}

impl Prepared {
    /// Prepares a premaster read a block at a time from `read` (which
    /// replaces its argument with the next block and returns its frames, 0
    /// at the end).
    pub fn from_reader(
        read: &mut dyn FnMut(&mut [Vec<f32>; 2]) -> Result<usize>,
        sample_rate: u32,
        chain: &Chain,
        deliverables: &[Deliverable],
        scratch: &Path,
    ) -> Result<Prepared> {
        let mut prepare = Prepare::new(chain, sample_rate, deliverables, scratch)?;
        let mut block = [Vec::new(), Vec::new()];
        while read(&mut block)? > 0 {
            let [l, r] = &mut block;
            prepare.feed(l, r)?;
        }
        prepare.finish()
    }

    /// Tracks in the programme.
    pub fn parts(&self) -> usize {
        self.splits.len() + 1
    }

    /// The premaster at `rate`, pre-gain.
    pub(super) fn spill(&self, rate: u32) -> Option<&Spill> {
        self.spills.iter().find(|(r, _)| *r == rate).map(|(_, s)| s)
    }
}
