//! Phase 1: every track decoded (stems mixed down), measured and checked
//! against the premaster brief, before anything is committed. For `master`,
//! the same pass runs the chain's pre-gain stages into scratch files in the
//! staging folder ([`render::Prepare`]), so a track is decoded once.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::audio::SourceFormat;
use crate::audio::source::Source;
use crate::audio::stems::StemFacts;
use crate::dsp::loudness::{BlockEnergies, Measurement};
use crate::dsp::match_eq::MatchEq;
use crate::dsp::spectrum::Spectrum;
use crate::dsp::survey::Survey;
use crate::dsp::tonal::Correction;
use crate::error::{Error, Result};
use crate::manifest::{Album, Track, TrackSource};
use crate::progress::Progress;
use crate::qc::{self, Check, Thresholds};
use crate::render::{self, Prepared};

use super::commit::Staging;
use super::display_path;
use super::edit::{self, Edited};
use super::schedule::{input_bytes, longest_first, pool};

/// The most frames a matched track hands phase 1 at once.
const MATCH_BLOCK: usize = 8192;

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
    /// The track's edit in frames, when it has one: what was measured is
    /// the premaster as edited.
    pub edited: Option<Edited>,
}

/// For `master`: a programme's premaster through the chain's pre-gain
/// stages, spilled at each output rate, what every render reads, and the
/// scratch folder its files are in (removed with it).
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

/// Opens a track's audio as a stream of stereo blocks: a mix, or its stems
/// summed, through the track's edit (and the edit in frames).
pub(super) fn open_source(album: &Album, track: &Track, th: &Thresholds) -> Result<(Source, Option<Edited>)> {
    let open = || match &track.source {
        TrackSource::Mix(path) => Source::mix(path),
        TrackSource::Stems(stems) => Source::stems(stems, th.min_clip_run()),
    };
    if track.edit.is_none() {
        return Ok((open()?, None));
    }
    let threshold = track.edit.trim.map_or(crate::manifest::defaults::TRIM_THRESHOLD_DB, |t| t.threshold_db);
    let scanned = edit::needs_scan(&track.edit).then(|| edit::scan(open()?, threshold)).transpose()?;
    let source = open()?;
    let edited = edit::plan(&track.edit, source.format().sample_rate, scanned.as_ref());
    if edited.plan.is_empty() {
        return Err(Error::audio(
            display_path(album, track.inputs()[0]),
            format!(
                "the edit keeps nothing of track {} ({}): `start_s` is at or past the premaster's end ({:.3} s)",
                track.number,
                track.title,
                edited.frames as f64 / edited.sample_rate as f64
            ),
        ));
    }
    Ok((source.edited(edited.plan), Some(edited)))
}

/// Phase 1 for one track, a block at a time; with `prepare`, fed to the
/// render's preparation too (a programme's tracks to one, in turn).
fn analyze_track(
    album: &Album,
    track: &Track,
    th: &Thresholds,
    mut source: Source,
    edited: Option<Edited>,
    prepare: Option<(&mut render::Prepare, Option<&Correction>)>,
) -> Result<Analysis> {
    let input = track.inputs()[0];
    let rate = source.format().sample_rate;
    let mut survey = Survey::new(2, rate, th.min_clip_run());
    let audio_error = |e: Error| Error::audio(display_path(album, input), e.to_string());
    let (mut prepare, mut matcher) = match prepare {
        Some((p, eq)) => (Some(p), eq.map(|c| MatchEq::new(c, rate))),
        None => (None, None),
    };
    let mut post = [Vec::new(), Vec::new()];
    // One block of the premaster, and of what the chain starts from (the
    // premaster, or the match EQ's output beside it, sample for sample).
    let mut feed = |raw: [&[f32]; 2], start: [&[f32]; 2]| -> Result<()> {
        match prepare.as_mut() {
            None => survey.feed(&raw).map_err(audio_error),
            Some(p) => {
                // The chain's pre-gain stages on a copy; both signals' block
                // energies in one loop.
                for (q, b) in post.iter_mut().zip(start) {
                    q.clear();
                    q.extend_from_slice(b);
                }
                let [l, r] = &mut post;
                p.stage(l, r);
                survey.feed_beside(raw, p.energies(), [l, r]).map_err(audio_error)?;
                p.spill(l, r)
            }
        }
    };
    each_block(&mut source, matcher.as_mut(), &mut feed)?;
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
        edited,
    })
}

/// Reads `source` to its end, handing `feed` each block of the premaster
/// and, beside it, what the chain starts from: the same block, or with a
/// match EQ its output, sample-aligned.
fn each_block(
    source: &mut Source,
    mut matcher: Option<&mut MatchEq>,
    feed: &mut impl FnMut([&[f32]; 2], [&[f32]; 2]) -> Result<()>,
) -> Result<()> {
    let (mut block, mut raw, mut matched) =
        ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    loop {
        let ended = source.read(&mut block)? == 0;
        let Some(m) = matcher.as_mut() else {
            if ended {
                return Ok(());
            }
            let b = [block[0].as_slice(), block[1].as_slice()];
            feed(b, b)?;
            continue;
        };
        if ended {
            m.finish();
        } else {
            m.push(&block[0], &block[1]);
        }
        while m.pop(MATCH_BLOCK, &mut raw, &mut matched) > 0 {
            feed([&raw[0], &raw[1]], [&matched[0], &matched[1]])?;
        }
        if ended {
            return Ok(());
        }
    }
}

/// Phase 1 for one programme (tracks joined without a gap; most are one
/// track): each track analyzed in turn and, with `staging`, all of them
/// prepared for the render as one continuous stream.
fn analyze_programme(
    album: &Album,
    tracks: Range<usize>,
    th: &Thresholds,
    staging: Option<(&Staging, &[Option<&Correction>])>,
) -> Result<(Vec<Analysis>, Option<Preparation>)> {
    let first = &album.tracks[tracks.start];
    let mut prepare: Option<(render::Prepare, ScratchDir)> = None;
    let mut analyses = Vec::with_capacity(tracks.len());
    for i in tracks {
        let track = &album.tracks[i];
        let (source, edited) = open_source(album, track, th)?;
        let rate = source.format().sample_rate;
        match (&mut prepare, staging) {
            (Some((p, _)), _) => {
                if p.sample_rate() != rate {
                    return Err(Error::audio(
                        display_path(album, track.inputs()[0]),
                        format!(
                            "track {} runs into track {} without a gap, so the two are mastered as one stream, but this premaster is at {rate} Hz and the other at {} Hz; give the track a gap, or deliver both at one rate",
                            track.number,
                            track.number - 1,
                            p.sample_rate()
                        ),
                    ));
                }
                p.end_of_track();
            }
            (None, Some((staging, _))) => {
                let scratch = ScratchDir::create(staging, first)?;
                prepare = Some((
                    render::Prepare::new(&first.chain, rate, &album.deliverables, &scratch.0)?,
                    scratch,
                ));
            }
            (None, None) => {}
        }
        let eq = staging.and_then(|(_, eqs)| eqs[i]);
        let prepare = prepare.as_mut().map(|(p, _)| p);
        analyses.push(analyze_track(album, track, th, source, edited, prepare.map(|p| (p, eq)))?);
    }
    let prepared = match prepare {
        Some((p, scratch)) => Some(Preparation { prepared: p.finish()?, scratch }),
        None => None,
    };
    Ok((analyses, prepared))
}

/// Phase 1: analyze every track. The first error in track order wins.
pub fn analyze(album: &Album, jobs: usize, progress: &Progress) -> Result<Vec<Analysis>> {
    Ok(analyze_into(album, jobs, progress, None)?.0)
}

/// Phase 1, with every programme prepared for the render in `staging`
/// when given: the tracks' analyses in track order, and each programme's
/// preparation in programme order.
pub(super) fn analyze_into(
    album: &Album,
    jobs: usize,
    progress: &Progress,
    staging: Option<(&Staging, &[Option<&Correction>])>,
) -> Result<(Vec<Analysis>, Vec<Preparation>)> {
    let th = &album.qc.thresholds;
    let programmes = album.programmes();
    let bar = progress.phase("analyze", album.tracks.len());
    let weights: Vec<f64> =
        programmes.iter().map(|p| album.tracks[p.clone()].iter().map(input_bytes).sum()).collect();
    let results = longest_first(&pool(jobs)?, &weights, |k| {
        let r = analyze_programme(album, programmes[k].clone(), th, staging);
        for t in &album.tracks[programmes[k].clone()] {
            bar.done(&t.title);
        }
        r
    });
    let (mut analyses, mut preparations) = (Vec::new(), Vec::new());
    for r in results {
        let (a, p) = r?;
        analyses.extend(a);
        preparations.extend(p);
    }
    Ok((analyses, preparations))
}
