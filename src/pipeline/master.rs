//! Phase 3 for one track: decode again (refusing an input that changed),
//! render every deliverable within its bounds, write them into the staging
//! folder, and keep what the report needs.

use std::path::PathBuf;

use ebur128::EbuR128;

use super::analyze::{Analysis, fingerprint, load_track};
use super::commit::Staging;
use crate::audio::encode::write_wav;
use crate::dsp::compressor::CompressorStats;
use crate::dsp::limiter::LimiterStats;
use crate::dsp::loudness::Measurement;
use crate::dsp::spectrum::{self, Spectrum};
use crate::error::{Error, Result};
use crate::manifest::{Album, Track};
use crate::render::{self, Bound, Needed, RenderSpec};

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
    /// The meter of record's state, for album pooling.
    pub gating: EbuR128,
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
    let loaded = load_track(track, &album.qc.thresholds)?;
    if fingerprint(&loaded.audio) != analysis.fingerprint {
        return Err(Error::Changed { path: track.inputs()[0].to_path_buf() });
    }
    let spec = RenderSpec {
        chain: &track.chain,
        target_lufs,
        ceiling_dbtp: album.target.true_peak_dbtp,
        max_gain_db: album.target.max_gain_db,
        deliverables: &album.deliverables,
        seed: track_seed(track),
    };
    let rendered = render::render(loaded.audio, loaded.sample_rate, &spec)?;
    let first = &rendered.outputs[0];
    let spectrum = spectrum::of_channels(first.pcm.channels(), first.sample_rate);
    let mut outputs = Vec::new();
    for (o, rel) in rendered.outputs.into_iter().zip(paths) {
        let path = staging.path(rel)?;
        // An earlier album pass staged this file: only staged files are replaced.
        let _ = std::fs::remove_file(&path);
        write_wav(&path, o.sample_rate, &o.pcm)?;
        outputs.push(MasteredOutput {
            measurement: o.measurement,
            gating: o.gating,
            full_scale_samples: o.full_scale_samples,
            sample_rate: o.sample_rate,
        });
    }
    Ok(Mastered {
        target_lufs,
        gain_db: rendered.gain_db,
        passes: rendered.passes,
        bound: rendered.bound,
        needed: rendered.needed,
        compressor: rendered.compressor,
        limiter: rendered.limiter,
        outputs,
        spectrum,
    })
}
