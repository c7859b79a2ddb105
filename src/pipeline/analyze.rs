//! Phase 1: every track decoded (stems mixed down), measured and checked
//! against the premaster brief, before anything is committed. For `master`,
//! the same pass runs the chain's pre-gain stages into scratch files in the
//! staging folder ([`render::Prepare`]), so a track is decoded once.

use std::path::{Path, PathBuf};

use crate::audio::SourceFormat;
use crate::audio::source::Source;
use crate::audio::stems::StemFacts;
use crate::dsp::loudness::{BlockEnergies, Measurement};
use crate::dsp::spectrum::Spectrum;
use crate::dsp::survey::Survey;
use crate::error::{Error, Result};
use crate::manifest::{Album, Track, TrackSource};
use crate::progress::Progress;
use crate::qc::{self, Check, Thresholds};
use crate::render::{self, Prepared};

use super::commit::Staging;
use super::display_path;
use super::schedule::{input_bytes, longest_first, pool};

/// A premaster as analyzed in phase 1.
pub struct Analysis {
    pub format: SourceFormat,
    pub measurement: Measurement,
    /// For the album's pooled premaster loudness.
    pub energies: BlockEnergies,
    pub checks: Vec<Check>,
    /// For a stems track: what each stem brought.
    pub stems: Option<Vec<StemFacts>>,
    pub spectrum: Spectrum,
    /// For `master`: the premaster through the chain's pre-gain stages,
    /// spilled at each output rate, what every render reads.
    pub(super) prepared: Option<Preparation>,
}

/// A track's prepared premaster and the scratch folder its files are in
/// (removed with it).
pub(super) struct Preparation {
    pub prepared: Prepared,
    pub scratch: ScratchDir,
}

/// A track's scratch folder in the staging folder, removed when dropped.
pub(super) struct ScratchDir(pub PathBuf);

impl ScratchDir {
    fn create(staging: &Staging, track: &Track) -> Result<ScratchDir> {
        let dir = staging.path(Path::new(&format!(".render-{:03}", track.number)))?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens a track's audio as a stream of stereo blocks: a mix, or its stems summed.
pub(super) fn open_source(track: &Track, th: &Thresholds) -> Result<Source> {
    match &track.source {
        TrackSource::Mix(path) => Source::mix(path),
        TrackSource::Stems(stems) => Source::stems(stems, th.min_clip_run()),
    }
}

/// Phase 1 for one track, a block at a time; with `staging`, prepared for
/// the render too.
fn analyze_track(
    album: &Album,
    track: &Track,
    th: &Thresholds,
    staging: Option<&Staging>,
) -> Result<Analysis> {
    let input = track.inputs()[0];
    let mut source = open_source(track, th)?;
    let rate = source.format().sample_rate;
    let mut survey = Survey::new(2, rate, th.min_clip_run());
    let mut prepare = match staging {
        Some(staging) => {
            let scratch = ScratchDir::create(staging, track)?;
            Some((render::Prepare::new(&track.chain, rate, &album.deliverables, &scratch.0)?, scratch))
        }
        None => None,
    };
    let audio_error = |e: Error| Error::audio(display_path(album, input), e.to_string());
    let (mut block, mut post) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    while source.read(&mut block)? > 0 {
        let raw = [block[0].as_slice(), block[1].as_slice()];
        match prepare.as_mut() {
            None => survey.feed(&raw).map_err(audio_error)?,
            Some((p, _)) => {
                // The chain's pre-gain stages on a copy; both signals' block
                // energies in one loop.
                for (q, b) in post.iter_mut().zip(raw) {
                    q.clear();
                    q.extend_from_slice(b);
                }
                let [l, r] = &mut post;
                p.stage(l, r);
                survey.feed_beside(raw, p.energies(), [l, r]).map_err(audio_error)?;
                p.spill(l, r)?;
            }
        }
    }
    let format = source.format().clone();
    let stems = source.finish();
    let found = survey.finish().map_err(|e| Error::audio(display_path(album, input), e.to_string()))?;
    let mut checks = qc::premaster::checks(&format, &found.measurement, &found.scan, th);
    if let Some((facts, sum_peak)) = &stems {
        checks.extend(qc::stems::checks(facts, *sum_peak, format.sample_rate));
    }
    if let Some(c) = checks.iter().find(|c| qc::premaster::is_unmasterable(c)) {
        let what = match &track.source {
            TrackSource::Mix(_) => display_path(album, input),
            TrackSource::Stems(_) => format!("track {} ({}) stems", track.number, track.title),
        };
        return Err(Error::audio(what, c.message.clone()));
    }
    let prepared = match prepare {
        Some((p, scratch)) => Some(Preparation { prepared: p.finish()?, scratch }),
        None => None,
    };
    Ok(Analysis {
        format,
        measurement: found.measurement,
        energies: found.energies,
        checks,
        stems: stems.map(|(f, _)| f),
        spectrum: found.spectrum,
        prepared,
    })
}

/// Phase 1: analyze every track. The first error in track order wins.
pub fn analyze(album: &Album, jobs: usize, progress: &Progress) -> Result<Vec<Analysis>> {
    analyze_into(album, jobs, progress, None)
}

/// Phase 1, with every track prepared for the render in `staging` when given.
pub(super) fn analyze_into(
    album: &Album,
    jobs: usize,
    progress: &Progress,
    staging: Option<&Staging>,
) -> Result<Vec<Analysis>> {
    let th = &album.qc.thresholds;
    let bar = progress.phase("analyze", album.tracks.len());
    let weights: Vec<f64> = album.tracks.iter().map(input_bytes).collect();
    let results = longest_first(&pool(jobs)?, &weights, |i| {
        let t = &album.tracks[i];
        let r = analyze_track(album, t, th, staging);
        bar.done(&t.title);
        r
    });
    results.into_iter().collect()
}
