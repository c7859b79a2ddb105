//! The album plan: what loudness each track is rendered to, and the album
//! rule that keeps the tracks' relative levels without crushing any of them.
//!
//! - `track` mode: every track aims at `loudness_lufs + offset_lu`.
//! - `album` mode: one album gain `G` for every track. Each track aims at
//!   its premaster loudness plus `G` (plus its offset), so the tracks keep
//!   the levels they were mixed at. The anchor chooses `G`: `pooled` puts the
//!   album's loudness, pooled over every track's gating blocks, on the target;
//!   `loudest` puts the loudest track on it (AES TD1008).
//!
//! A track makes up what limiting costs it only within its limiting budget.
//! When a track cannot reach its level at `G` within the budget (or the
//! maximum gain), `G` comes down for the whole album until every track fits:
//! relative levels win over the album's loudness, which then lands under the
//! target, and the report names the track that holds the album back.

use std::ops::Range;
use std::path::PathBuf;

use super::analyze::{Analysis, Preparation};
use super::commit::Staging;
use super::master::{Mastered, encode_lossy, master_programme};
use super::schedule::longest_first;
use crate::dsp::loudness::BlockEnergies;
use crate::error::Result;
use crate::manifest::{Album, AlbumAnchor, Mode, Target};
use crate::progress::Progress;
use crate::render::Bound;

/// What the album rule decided.
pub(crate) struct AlbumPlan {
    pub gain_db: f64,
    pub pooled_premaster_lufs: f64,
    pub passes: usize,
    pub held_back: Option<HeldBack>,
}

/// Phase 3 for the album: every programme (a track, or tracks joined
/// without a gap) mastered at the plan's targets. In album mode the album
/// rule may render the album again: with the gain lowered to what every
/// programme fits within its bounds, or corrected onto the pooled target.
/// One [`Mastered`] per track, in track order.
pub(super) fn master_album(
    album: &Album,
    analyses: &[Analysis],
    preparations: &[Preparation],
    paths: &[Vec<PathBuf>],
    staging: &Staging,
    pool: &rayon::ThreadPool,
    progress: &Progress,
) -> Result<(Vec<Mastered>, AlbumPlan)> {
    let programmes = album.programmes();
    let pooled = |r: &Range<usize>| {
        BlockEnergies::pooled_integrated(&analyses[r.clone()].iter().map(|a| &a.energies).collect::<Vec<_>>())
    };
    let pre_lufs: Vec<f64> = programmes.iter().map(pooled).collect();
    let offsets: Vec<f64> = programmes.iter().map(|r| album.tracks[r.start].offset_lu).collect();
    let pooled_pre = pooled(&(0..album.tracks.len()));
    let anchor_gain = initial_gain_db(&album.target, pooled_pre, &pre_lufs, &offsets);
    let durations: Vec<f64> = programmes
        .iter()
        .map(|r| analyses[r.clone()].iter().map(|a| a.measurement.duration_s).sum())
        .collect();
    let (mut album_gain, mut limit, mut fitted, mut passes) = (anchor_gain, f64::INFINITY, None, 0);
    let mut mastered = loop {
        passes += 1;
        let targets = track_targets(&album.target, &pre_lufs, &offsets, album_gain);
        let bar = progress.phase("master", album.tracks.len());
        let results = longest_first(pool, &durations, |k| {
            let r =
                master_programme(album, programmes[k].clone(), &preparations[k], targets[k], paths, staging);
            for t in &album.tracks[programmes[k].clone()] {
                bar.done(&t.title);
            }
            r
        });
        drop(bar);
        let mastered: Vec<Vec<Mastered>> = results.into_iter().collect::<Result<_>>()?;
        if album.target.mode == Mode::Track {
            break mastered;
        }
        if let Some(f) = fit(&programme_passes(&mastered, &pre_lufs, &offsets))
            && f.1 < limit
        {
            (limit, fitted) = (f.1, Some(f));
        }
        let pooled = BlockEnergies::pooled_integrated(
            &mastered.iter().flatten().map(|m| &m.outputs[0].energies).collect::<Vec<_>>(),
        );
        match next(&album.target, album_gain, limit, pooled) {
            Next::Again(g) if passes < MAX_ALBUM_PASSES => album_gain = g,
            _ => break mastered,
        }
    };
    encode_all(album, &programmes, preparations, &mut mastered, paths, staging, pool, progress)?;
    let held_back = match album.target.mode {
        // The programme that holds the album back, named by its first track.
        Mode::Album => held_back(anchor_gain, album_gain, fitted)
            .map(|h| HeldBack { track: programmes[h.track].start, ..h }),
        Mode::Track => None,
    };
    let plan = AlbumPlan { gain_db: album_gain, pooled_premaster_lufs: pooled_pre, passes, held_back };
    Ok((mastered.into_iter().flatten().collect(), plan))
}

/// What an album pass learned of each programme (its first track speaks for it).
fn programme_passes(mastered: &[Vec<Mastered>], pre_lufs: &[f64], offsets: &[f64]) -> Vec<TrackPass> {
    (mastered.iter().enumerate())
        .map(|(k, m)| TrackPass {
            premaster_lufs: pre_lufs[k],
            offset_lu: offsets[k],
            target_lufs: m[0].target_lufs,
            reached_lufs: m[0].outputs[0].programme_lufs.unwrap_or(m[0].reached_lufs()),
            bounded: m[0].bound != Bound::Target,
        })
        .collect()
}

/// Every programme's lossy deliverables encoded at the gain its lossless
/// masters got, each (programme, deliverable) its own job, longest first.
#[allow(clippy::too_many_arguments)] // the phase's inputs, each used once
fn encode_all(
    album: &Album,
    programmes: &[Range<usize>],
    preparations: &[Preparation],
    mastered: &mut [Vec<Mastered>],
    paths: &[Vec<PathBuf>],
    staging: &Staging,
    pool: &rayon::ThreadPool,
    progress: &Progress,
) -> Result<()> {
    let lossy: Vec<usize> =
        (0..album.deliverables.len()).filter(|&j| album.deliverables[j].container.is_lossy()).collect();
    if lossy.is_empty() {
        return Ok(());
    }
    let jobs: Vec<(usize, usize)> =
        (0..programmes.len()).flat_map(|k| lossy.iter().map(move |&j| (k, j))).collect();
    let weights: Vec<f64> = jobs
        .iter()
        .map(|&(k, _)| mastered[k].iter().map(|m| m.outputs[0].measurement.duration_s).sum())
        .collect();
    let bar = progress.phase("encode", jobs.len());
    let encoded = longest_first(pool, &weights, |n| {
        let (k, j) = jobs[n];
        let r =
            encode_lossy(album, programmes[k].clone(), j, &preparations[k], &mastered[k][0], paths, staging);
        let first = &album.tracks[programmes[k].start];
        bar.done(&format!("{} ({})", first.title, album.deliverables[j].name));
        r
    });
    drop(bar);
    // Each track's outputs are its lossless ones in order; the lossy ones go in at their places.
    for (&(k, j), e) in jobs.iter().zip(encoded) {
        for (m, o) in mastered[k].iter_mut().zip(e?) {
            m.outputs.insert(j, o);
        }
    }
    Ok(())
}

/// Per-track loudness targets, in track order.
pub fn track_targets(
    target: &Target,
    premaster_lufs: &[f64],
    offsets_lu: &[f64],
    album_gain_db: f64,
) -> Vec<f64> {
    premaster_lufs
        .iter()
        .zip(offsets_lu)
        .map(|(&pre, &off)| match target.mode {
            Mode::Track => target.loudness_lufs + off,
            Mode::Album => pre + album_gain_db + off,
        })
        .collect()
}

/// The first album gain: the anchor on the target, before any rendering.
pub fn initial_gain_db(
    target: &Target,
    pooled_premaster_lufs: f64,
    premaster_lufs: &[f64],
    offsets_lu: &[f64],
) -> f64 {
    match target.album_anchor {
        AlbumAnchor::Pooled => target.loudness_lufs - pooled_premaster_lufs,
        AlbumAnchor::Loudest => target.loudness_lufs - loudest(premaster_lufs, offsets_lu).1,
    }
}

/// The loudest track as planned (premaster loudness plus offset): its index and level.
pub fn loudest(premaster_lufs: &[f64], offsets_lu: &[f64]) -> (usize, f64) {
    premaster_lufs
        .iter()
        .zip(offsets_lu)
        .map(|(p, o)| p + o)
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, l)| if l > best.1 { (i, l) } else { best })
}

/// What one album pass learned of a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPass {
    pub premaster_lufs: f64,
    pub offset_lu: f64,
    /// The loudness the track aimed at and the loudness it reached.
    pub target_lufs: f64,
    pub reached_lufs: f64,
    /// True when a bound (limiting budget, maximum gain) stopped its gain.
    pub bounded: bool,
}

impl TrackPass {
    /// The most album gain this track can take at its relative level: its
    /// loudest within its bounds, less its premaster loudness and offset.
    /// Unbounded for a track that reached its target.
    pub fn fit_db(&self) -> f64 {
        if self.bounded { self.reached_lufs - self.premaster_lufs - self.offset_lu } else { f64::INFINITY }
    }
}

/// The track that holds the album back, and by how much (LU).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldBack {
    pub track: usize,
    pub by_lu: f64,
}

/// What to do after an album pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// The album is done at this gain.
    Done,
    /// Render every track again at this album gain.
    Again(f64),
}

/// How far a bounded track may fall short of its level before the album
/// gain comes down for it (LU): relative levels are promised to 0.1 LU.
pub const FIT_TOLERANCE_LU: f64 = 0.1;
/// Most album passes (a pass renders every track).
pub const MAX_ALBUM_PASSES: usize = 4;
/// Album loudness tolerance before another album pass is run (LU).
pub const ALBUM_TOLERANCE_LU: f64 = 0.05;

/// The largest album gain every track fits, and the track that sets it
/// (`None` when no track is bounded).
pub fn fit(passes: &[TrackPass]) -> Option<(usize, f64)> {
    passes.iter().map(TrackPass::fit_db).enumerate().filter(|(_, f)| f.is_finite()).fold(
        None,
        |best: Option<(usize, f64)>, (i, f)| match best {
            Some((_, b)) if b <= f => best,
            _ => Some((i, f)),
        },
    )
}

/// The album rule after a pass at `gain_db`, `limit_db` being the lowest fit
/// found so far (the album gain never goes back over it), `pooled_lufs` the
/// album's pooled loudness as rendered.
pub fn next(target: &Target, gain_db: f64, limit_db: f64, pooled_lufs: f64) -> Next {
    if limit_db < gain_db - FIT_TOLERANCE_LU {
        return Next::Again(limit_db);
    }
    match target.album_anchor {
        // The loudest track was aimed at the target: nothing moves the anchor.
        AlbumAnchor::Loudest => Next::Done,
        AlbumAnchor::Pooled => {
            let miss = target.loudness_lufs - pooled_lufs;
            let wanted = (gain_db + miss).min(limit_db);
            if miss.abs() <= ALBUM_TOLERANCE_LU || (wanted - gain_db).abs() < 0.01 {
                Next::Done
            } else {
                Next::Again(wanted)
            }
        }
    }
}

/// When the album is held back: the track whose fit set the album gain,
/// and how far the album gain is under what the anchor alone asks.
pub fn held_back(anchor_gain_db: f64, gain_db: f64, fit: Option<(usize, f64)>) -> Option<HeldBack> {
    let (track, f) = fit?;
    let by_lu = anchor_gain_db - gain_db;
    (f <= gain_db + FIT_TOLERANCE_LU && by_lu > ALBUM_TOLERANCE_LU).then_some(HeldBack { track, by_lu })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(anchor: AlbumAnchor) -> Target {
        Target {
            preset: None,
            loudness_lufs: -14.0,
            true_peak_dbtp: -1.0,
            mode: Mode::Album,
            album_anchor: anchor,
            max_gain_db: 24.0,
            tolerance_lu: 0.5,
        }
    }

    fn pass(pre: f64, off: f64, target: f64, reached: f64, bounded: bool) -> TrackPass {
        TrackPass { premaster_lufs: pre, offset_lu: off, target_lufs: target, reached_lufs: reached, bounded }
    }

    #[test]
    fn targets_keep_relative_levels_in_album_mode() {
        let t = target(AlbumAnchor::Pooled);
        assert_eq!(track_targets(&t, &[-20.0, -24.0], &[0.0, -2.0], 5.0), vec![-15.0, -21.0]);
        let track = Target { mode: Mode::Track, ..t };
        assert_eq!(track_targets(&track, &[-20.0, -24.0], &[0.0, -2.0], 5.0), vec![-14.0, -16.0]);
    }

    #[test]
    fn anchors_choose_the_first_gain() {
        let pre = [-20.0, -16.0, -24.0];
        let off = [0.0, -1.0, 0.0];
        assert_eq!(initial_gain_db(&target(AlbumAnchor::Pooled), -18.0, &pre, &off), 4.0);
        // The loudest as planned is track 2 at -17 LUFS (its offset counts).
        assert_eq!(loudest(&pre, &off), (1, -17.0));
        assert_eq!(initial_gain_db(&target(AlbumAnchor::Loudest), -18.0, &pre, &off), 3.0);
    }

    #[test]
    fn a_bounded_track_brings_the_album_gain_down_to_its_fit() {
        // Track 2 needed -8 LUFS at +3 dB; its budget stops it at -8.8.
        let passes = [pass(-18.0, 0.0, -15.0, -15.0, false), pass(-11.0, 0.0, -8.0, -8.8, true)];
        let f = fit(&passes).unwrap();
        assert_eq!(f.0, 1);
        assert!((f.1 - 2.2).abs() < 1e-12);
        assert_eq!(next(&target(AlbumAnchor::Pooled), 3.0, f.1, -14.0), Next::Again(f.1));
        // At the fit the pooled album is short, but the gain cannot rise past it.
        assert_eq!(next(&target(AlbumAnchor::Pooled), f.1, f.1, -14.7), Next::Done);
        let hb = held_back(3.0, f.1, Some(f)).unwrap();
        assert_eq!(hb.track, 1);
        assert!((hb.by_lu - 0.8).abs() < 1e-12);
    }

    #[test]
    fn pooled_anchor_corrects_for_limiting_within_the_fit() {
        let t = target(AlbumAnchor::Pooled);
        let Next::Again(g) = next(&t, 3.0, f64::INFINITY, -14.3) else { panic!("another pass") };
        assert!((g - 3.3).abs() < 1e-12);
        assert_eq!(next(&t, 3.0, f64::INFINITY, -14.03), Next::Done);
        assert_eq!(next(&t, 3.0, 3.1, -14.3), Next::Again(3.1));
        // A shortfall within the fit tolerance keeps the gain.
        assert_eq!(next(&target(AlbumAnchor::Loudest), 3.0, 2.95, -17.0), Next::Done);
        assert!(held_back(3.0, 3.0, fit(&[pass(-18.0, 0.0, -15.0, -15.05, true)])).is_none());
    }

    #[test]
    fn unbounded_tracks_never_limit_the_album() {
        assert!(fit(&[pass(-18.0, 0.0, -15.0, -15.0, false)]).is_none());
        assert!(held_back(3.0, 3.0, None).is_none());
    }
}
