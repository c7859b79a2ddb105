//! Phase 3 for one programme (one track, or tracks joined without a gap):
//! render the premaster phase 1 prepared to every
//! deliverable within its bounds, write them into the staging folder, and
//! keep what the report needs.

use std::ops::Range;
use std::path::PathBuf;

use super::analyze::Preparation;
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
    /// For a track of a programme (tracks joined without a gap): the first
    /// and last track numbers of it. The gain, limiting and target are the programme's.
    pub programme: Option<(usize, usize)>,
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
    /// For a track of a programme: the whole programme's loudness in this
    /// (lossless) deliverable, what its target is held against.
    pub programme_lufs: Option<f64>,
}

impl MasteredOutput {
    fn of(o: render::Written, codec: Option<CodecFinding>) -> Self {
        MasteredOutput {
            measurement: o.measurement,
            energies: o.energies,
            full_scale_samples: o.full_scale_samples,
            sample_rate: o.sample_rate,
            codec,
            programme_lufs: None,
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

/// Renders a programme's lossless deliverables (its lossy ones are encoded
/// once the album's gains are settled: [`encode_lossy`]): one render of
/// its tracks as one stream, split into each track's files. One
/// [`Mastered`] per track; `outputs` holds the lossless ones, in manifest order.
pub(super) fn master_programme(
    album: &Album,
    tracks: Range<usize>,
    prep: &Preparation,
    target_lufs: f64,
    paths: &[Vec<PathBuf>],
    staging: &Staging,
) -> Result<Vec<Mastered>> {
    let first = &album.tracks[tracks.start];
    let lossless: Vec<usize> =
        (0..album.deliverables.len()).filter(|&i| !album.deliverables[i].container.is_lossy()).collect();
    let deliverables: Vec<Deliverable> = lossless.iter().map(|&i| album.deliverables[i].clone()).collect();
    let outputs = programme_paths(&tracks, &lossless, paths, staging)?;
    let files = RenderFiles { scratch: &prep.scratch.0, outputs: &outputs };
    let rendered = render::render(&prep.prepared, &spec(album, first, target_lufs, &deliverables), &files)?;
    let joined = tracks.len() > 1;
    let programme = joined.then_some((tracks.start + 1, tracks.end));
    let mut per_deliverable: Vec<(Option<f64>, std::vec::IntoIter<render::Written>)> = (rendered.outputs)
        .into_iter()
        .map(|parts| {
            let pooled =
                BlockEnergies::pooled_integrated(&parts.iter().map(|w| &w.energies).collect::<Vec<_>>());
            (joined.then_some(pooled), parts.into_iter())
        })
        .collect();
    let mut spectra = rendered.spectra.into_iter();
    Ok(tracks
        .map(|_| Mastered {
            target_lufs,
            gain_db: rendered.gain_db,
            passes: rendered.passes,
            bound: rendered.bound,
            needed: rendered.needed,
            compressor: rendered.compressor,
            limiter: rendered.limiter.clone(),
            outputs: (per_deliverable.iter_mut())
                .map(|(lufs, parts)| {
                    let mut o = MasteredOutput::of(parts.next().expect("a file per track"), None);
                    o.programme_lufs = *lufs;
                    o
                })
                .collect(),
            spectrum: spectra.next().unwrap_or_default(),
            programme,
        })
        .collect())
}

/// Each of `deliverables`' files for the programme's tracks, in the staging folder.
fn programme_paths(
    tracks: &Range<usize>,
    deliverables: &[usize],
    paths: &[Vec<PathBuf>],
    staging: &Staging,
) -> Result<Vec<Vec<PathBuf>>> {
    (deliverables.iter())
        .map(|&j| tracks.clone().map(|i| staging.path(&paths[i][j])).collect::<Result<Vec<_>>>())
        .collect()
}

/// Encodes one of a mastered programme's lossy deliverables (index `j`) at
/// the gain its lossless masters got: one file per track.
pub(super) fn encode_lossy(
    album: &Album,
    tracks: Range<usize>,
    j: usize,
    prep: &Preparation,
    mastered: &Mastered,
    paths: &[Vec<PathBuf>],
    staging: &Staging,
) -> Result<Vec<MasteredOutput>> {
    let first = &album.tracks[tracks.start];
    let outputs = programme_paths(&tracks, &[j], paths, staging)?;
    // A folder of its own for the pass's scratch files: a programme's lossy
    // deliverables encode side by side.
    let scratch = prep.scratch.0.join(format!("encode-{j}"));
    std::fs::create_dir_all(&scratch).map_err(|e| crate::error::Error::output(&scratch, e))?;
    let files = RenderFiles { scratch: &scratch, outputs: &outputs };
    let one = [album.deliverables[j].clone()];
    let spec = spec(album, first, mastered.target_lufs, &one);
    let e = render::encode(&prep.prepared, &spec, mastered.gain_db, &files)?;
    let _ = std::fs::remove_dir_all(&scratch);
    let facts =
        CodecFinding { passes: e.passes, ceiling_lowered_db: e.ceiling_lowered_db, overs_dbtp: e.overs_dbtp };
    Ok(e.output.into_iter().map(|w| MasteredOutput::of(w, Some(facts.clone()))).collect())
}
