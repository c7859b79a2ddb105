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
use crate::manifest::{Album, Deliverable, Track};
use crate::qc::master::CodecFinding;
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
    /// A lossy deliverable's encodes (its figures are the decoded file's).
    pub codec: Option<CodecFinding>,
}

impl MasteredOutput {
    fn of(o: render::Written, codec: Option<CodecFinding>) -> Self {
        MasteredOutput {
            measurement: o.measurement,
            energies: o.energies,
            full_scale_samples: o.full_scale_samples,
            sample_rate: o.sample_rate,
            codec,
        }
    }
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

fn spec<'a>(
    album: &'a Album,
    track: &'a Track,
    target_lufs: f64,
    deliverables: &'a [Deliverable],
) -> RenderSpec<'a> {
    RenderSpec {
        chain: &track.chain,
        target_lufs,
        ceiling_dbtp: album.target.true_peak_dbtp,
        max_gain_db: album.target.max_gain_db,
        deliverables,
        seed: track_seed(track),
    }
}

/// Renders a track's lossless deliverables (its lossy ones are encoded
/// once the album's gains are settled: [`encode_lossy`]); `outputs` holds
/// the lossless ones, in manifest order.
pub(super) fn master_track(
    album: &Album,
    track: &Track,
    analysis: &Analysis,
    target_lufs: f64,
    paths: &[PathBuf],
    staging: &Staging,
) -> Result<Mastered> {
    let prep = analysis.prepared.as_ref().expect("phase 1 prepared every track for the render");
    let lossless: Vec<usize> =
        (0..album.deliverables.len()).filter(|&i| !album.deliverables[i].container.is_lossy()).collect();
    let deliverables: Vec<Deliverable> = lossless.iter().map(|&i| album.deliverables[i].clone()).collect();
    let outputs: Vec<PathBuf> = lossless.iter().map(|&i| staging.path(&paths[i])).collect::<Result<_>>()?;
    let files = RenderFiles { scratch: &prep.scratch.0, outputs: &outputs };
    let rendered = render::render(&prep.prepared, &spec(album, track, target_lufs, &deliverables), &files)?;
    Ok(Mastered {
        target_lufs,
        gain_db: rendered.gain_db,
        passes: rendered.passes,
        bound: rendered.bound,
        needed: rendered.needed,
        compressor: rendered.compressor,
        limiter: rendered.limiter,
        outputs: rendered.outputs.into_iter().map(|o| MasteredOutput::of(o, None)).collect(),
        spectrum: rendered.spectrum,
    })
}

/// Encodes one of a mastered track's lossy deliverables (index `j`) at the
/// gain its lossless masters got.
pub(super) fn encode_lossy(
    album: &Album,
    track: &Track,
    j: usize,
    analysis: &Analysis,
    mastered: &Mastered,
    paths: &[PathBuf],
    staging: &Staging,
) -> Result<MasteredOutput> {
    let prep = analysis.prepared.as_ref().expect("phase 1 prepared every track for the render");
    let path = [staging.path(&paths[j])?];
    // A folder of its own for the pass's scratch files: a track's lossy
    // deliverables encode side by side.
    let scratch = prep.scratch.0.join(format!("encode-{j}"));
    std::fs::create_dir_all(&scratch).map_err(|e| crate::error::Error::output(&scratch, e))?;
    let files = RenderFiles { scratch: &scratch, outputs: &path };
    let one = [album.deliverables[j].clone()];
    let spec = spec(album, track, mastered.target_lufs, &one);
    let e = render::encode(&prep.prepared, &spec, mastered.gain_db, &files)?;
    let _ = std::fs::remove_dir_all(&scratch);
    let facts =
        CodecFinding { passes: e.passes, ceiling_lowered_db: e.ceiling_lowered_db, overs_dbtp: e.overs_dbtp };
    Ok(MasteredOutput::of(e.output, Some(facts)))
}
