//! Phase 1: every track decoded (stems mixed down), measured and checked
//! against the premaster brief, before anything is written.

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
    /// Of the decoded samples: the master phase refuses an input that changed.
    pub fingerprint: u64,
}

/// Opens a track's audio as a stream of stereo blocks: a mix, or its stems summed.
pub(super) fn open_source(track: &Track, th: &Thresholds) -> Result<Source> {
    match &track.source {
        TrackSource::Mix(path) => Source::mix(path),
        TrackSource::Stems(stems) => Source::stems(stems, th.min_clip_run()),
    }
}

/// Phase 1 for one track, a block at a time.
fn analyze_track(album: &Album, track: &Track, th: &Thresholds) -> Result<Analysis> {
    let input = track.inputs()[0];
    let mut source = open_source(track, th)?;
    let mut survey = Survey::new(2, source.format().sample_rate, th.min_clip_run());
    let mut block = [Vec::new(), Vec::new()];
    while source.read(&mut block)? > 0 {
        survey
            .feed(&[&block[0], &block[1]])
            .map_err(|e| Error::audio(display_path(album, input), e.to_string()))?;
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
    Ok(Analysis {
        format,
        measurement: found.measurement,
        energies: found.energies,
        checks,
        stems: stems.map(|(f, _)| f),
        spectrum: found.spectrum,
        fingerprint: found.fingerprint,
    })
}

/// Phase 1: analyze every track. The first error in track order wins.
pub fn analyze(album: &Album, jobs: usize, progress: &Progress) -> Result<Vec<Analysis>> {
    let th = &album.qc.thresholds;
    let bar = progress.phase("analyze", album.tracks.len());
    let weights: Vec<f64> = album.tracks.iter().map(input_bytes).collect();
    let results = longest_first(&pool(jobs)?, &weights, |i| {
        let t = &album.tracks[i];
        let r = analyze_track(album, t, th);
        bar.done(&t.title);
        r
    });
    results.into_iter().collect()
}
