//! Phase 3 for one track: decode again (refusing an input that changed),
//! render every deliverable within its bounds, write them into the staging
//! folder, and keep what the report needs.

use std::path::{Path, PathBuf};

use super::analyze::{Analysis, open_source};
use super::commit::Staging;
use crate::dsp::compressor::CompressorStats;
use crate::dsp::limiter::LimiterStats;
use crate::dsp::loudness::{BlockEnergies, Measurement};
use crate::dsp::spectrum::Spectrum;
use crate::dsp::survey::Fingerprint;
use crate::error::{Error, Result};
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
    let mut source = open_source(track, &album.qc.thresholds)?;
    let sample_rate = source.format().sample_rate;
    let spec = RenderSpec {
        chain: &track.chain,
        target_lufs,
        ceiling_dbtp: album.target.true_peak_dbtp,
        max_gain_db: album.target.max_gain_db,
        deliverables: &album.deliverables,
        seed: track_seed(track),
    };
    let outputs: Vec<PathBuf> = paths.iter().map(|rel| staging.path(rel)).collect::<Result<_>>()?;
    let scratch = staging.path(Path::new(&format!(".render-{:03}", track.number)))?;
    std::fs::create_dir_all(&scratch).map_err(|e| Error::output(&scratch, e))?;
    // The samples must be the ones phase 1 analyzed: checked at the end of the stream.
    let (mut fingerprint, mut frames) = (Fingerprint::new(2), 0u64);
    let mut read = |block: &mut [Vec<f32>; 2]| -> Result<usize> {
        let n = source.read(block)?;
        fingerprint.feed(block);
        frames += n as u64;
        if n == 0 && fingerprint.finish(frames) != analysis.fingerprint {
            return Err(Error::Changed { path: track.inputs()[0].to_path_buf() });
        }
        Ok(n)
    };
    let rendered =
        render::render(&mut read, sample_rate, &spec, &RenderFiles { scratch: &scratch, outputs: &outputs });
    let _ = std::fs::remove_dir_all(&scratch);
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
