//! Phase 3 for one track: render the premaster phase 1 prepared to every
//! deliverable within its bounds, write them into the staging folder, and
//! keep what the report needs.

use std::path::PathBuf;

use super::analyze::Analysis;
use super::commit::Staging;
use crate::dsp::compressor::CompressorStats;
use crate::dsp::limiter::LimiterStats;
use crate::dsp::loudness::{BlockEnergies, Measurement};
use crate::dsp::spectrum::Spectrum;
use crate::error::Result;
use crate::manifest::{Album, Track};
use crate::render::{self, Bound, Needed, RenderFiles, RenderSpec};

/// What phase 3 keeps of a mastered track (the samples are already written).
pub(crate) struct Mastered {
    pub target_lufs: f64,
    pub gain_db: f64,
    pub passes: usize,
    pub bound: Bound,
    pub needed: Option<Needed>,
    pub compressor: Option<CompressorStats>,
    pub limiter: LimiterStats,
    /// One per deliverable, in manifest order.
    pub outputs: Vec<MasteredOutput>,
    /// Of the first deliverable, as written.
    pub spectrum: Spectrum,
}

/// What was measured on one written master.
pub(crate) struct MasteredOutput {
    pub measurement: Measurement,
    /// Its K-weighted block energies, for album pooling.
    pub energies: BlockEnergies,
    pub full_scale_samples: usize,
    pub sample_rate: u32,
}

impl Mastered {
    /// The first deliverable's loudness: what the album rule steers by.
    pub fn reached_lufs(&self) -> f64 {
        self.outputs[0].measurement.integrated_lufs
    }
}

/// Seeds a track's dither, so it renders the same on any thread.
fn track_seed(track: &Track) -> u64 {
    0x6C61_7468_6500_0000 ^ track.number as u64
}

pub(super) fn master_track(
    album: &Album,
    track: &Track,
    analysis: &Analysis,
    target_lufs: f64,
    paths: &[PathBuf],
    staging: &Staging,
) -> Result<Mastered> {
    let prep = analysis.prepared.as_ref().expect("phase 1 prepared every track for the render");
    let spec = RenderSpec {
        chain: &track.chain,
        target_lufs,
        ceiling_dbtp: album.target.true_peak_dbtp,
        max_gain_db: album.target.max_gain_db,
        deliverables: &album.deliverables,
        seed: track_seed(track),
    };
    let outputs: Vec<PathBuf> = paths.iter().map(|rel| staging.path(rel)).collect::<Result<_>>()?;
    let files = RenderFiles { scratch: &prep.scratch.0, outputs: &outputs };
    let rendered = render::render(&prep.prepared, &spec, &files);
    let rendered = rendered?;
    Ok(Mastered {
        target_lufs,
        gain_db: rendered.gain_db,
        passes: rendered.passes,
        bound: rendered.bound,
        needed: rendered.needed,
        compressor: rendered.compressor,
        limiter: rendered.limiter,
        outputs: rendered
            .outputs
            .into_iter()
            .map(|o| MasteredOutput {
                measurement: o.measurement,
                energies: o.energies,
                full_scale_samples: o.full_scale_samples,
                sample_rate: o.sample_rate,
            })
            .collect(),
        spectrum: rendered.spectrum,
    })
}
