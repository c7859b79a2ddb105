//! The tonal match's first look, before phase 1: each matched track, and
//! each reference, decoded once (decoding only) for its balance and its
//! long-term spectrum, so that phase 1 can run the match EQ ahead of the
//! chain. With `reference: album`, every track is looked at: the album's
//! balance is their mean, each weighted by its energy (level and length).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::audio::source::Source;
use crate::dsp::spectrum::Spectrum;
use crate::dsp::tonal::{self, Balance, BalanceStream, Correction};
use crate::error::{Error, Result};
use crate::manifest::{Album, MatchReference};
use crate::progress::Progress;

use super::analyze::open_source;
use super::display_path;
use super::schedule::{input_bytes, longest_first};

/// A reference shorter than this has no long-term balance to speak of.
pub const MIN_REFERENCE_S: f64 = 10.0;

/// What phase 1 and the report need of a matched track.
pub struct TrackMatch {
    pub settings: tonal::MatchSettings,
    pub correction: Correction,
    /// The reference's long-term spectrum, for the tonal distances.
    pub reference: Spectrum,
    /// The reference as the report names it: its path, or `album`.
    pub reference_name: String,
}

/// One programme's balance, spectrum and energy (mean square × seconds).
struct Look {
    balance: Balance,
    spectrum: Spectrum,
    energy: f64,
    seconds: f64,
}

fn look(mut source: Source) -> Result<Look> {
    let rate = source.format().sample_rate;
    let mut balance = BalanceStream::new(rate);
    let (mut block, mut squares, mut frames) = ([Vec::new(), Vec::new()], 0.0f64, 0u64);
    while source.read(&mut block)? > 0 {
        balance.feed(&block[0], &block[1]);
        squares += block.iter().flatten().map(|&x| (x as f64) * (x as f64)).sum::<f64>() / 2.0;
        frames += block[0].len() as u64;
    }
    source.finish();
    let seconds = frames as f64 / rate as f64;
    let (balance, spectrum) = balance.finish_with_spectrum();
    Ok(Look { balance, spectrum, energy: squares / rate as f64, seconds })
}

/// Per track, its match (None for a track without `chain.match`).
pub(super) fn plan(
    album: &Album,
    pool: &rayon::ThreadPool,
    progress: &Progress,
) -> Result<Vec<Option<TrackMatch>>> {
    let matched: Vec<bool> = album.tracks.iter().map(|t| t.tonal_match.is_some()).collect();
    if !matched.contains(&true) {
        return Ok(album.tracks.iter().map(|_| None).collect());
    }
    let by_album = album
        .tracks
        .iter()
        .any(|t| t.tonal_match.as_ref().is_some_and(|m| m.reference == MatchReference::Album));
    let files: Vec<PathBuf> = album
        .tracks
        .iter()
        .filter_map(|t| match &t.tonal_match.as_ref()?.reference {
            MatchReference::File(p) => Some(p.clone()),
            MatchReference::Album => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let tracks: Vec<usize> = (0..album.tracks.len()).filter(|&i| by_album || matched[i]).collect();
    let (of_track, of_file) = look_all(album, &tracks, &files, pool, progress)?;
    let of_album = by_album.then(|| album_look(&of_track));
    Ok((0..album.tracks.len())
        .map(|i| {
            let m = album.tracks[i].tonal_match.as_ref()?;
            let (target, name) = match &m.reference {
                MatchReference::Album => {
                    (of_album.as_ref().expect("looked at with the album"), "album".to_string())
                }
                MatchReference::File(f) => (&of_file[f], display_path(album, f)),
            };
            let own = &of_track[&i];
            Some(TrackMatch {
                settings: m.settings,
                correction: Correction::design(&own.balance, &target.balance, &m.settings),
                reference: target.spectrum.clone(),
                reference_name: name,
            })
        })
        .collect())
}

/// A look per track and per reference, by track number and by file.
type Looks = (BTreeMap<usize, Look>, BTreeMap<PathBuf, Look>);

/// The looks at `tracks` and `files`, longest first on the pool.
fn look_all(
    album: &Album,
    tracks: &[usize],
    files: &[PathBuf],
    pool: &rayon::ThreadPool,
    progress: &Progress,
) -> Result<Looks> {
    let th = &album.qc.thresholds;
    let bar = progress.phase("balance", tracks.len() + files.len());
    let weights: Vec<f64> = tracks
        .iter()
        .map(|&i| input_bytes(&album.tracks[i]))
        .chain(files.iter().map(|f| std::fs::metadata(f).map_or(0.0, |m| m.len() as f64)))
        .collect();
    let looks = longest_first(pool, &weights, |k| {
        let (r, name) = match tracks.get(k) {
            Some(&i) => {
                let t = &album.tracks[i];
                (open_source(album, t, th).and_then(|(s, _)| look(s)), t.title.clone())
            }
            None => {
                let f = &files[k - tracks.len()];
                (reference(album, f), display_path(album, f))
            }
        };
        bar.done(&name);
        r
    });
    drop(bar);
    let mut looks = looks.into_iter();
    let mut of_track = BTreeMap::new();
    for &i in tracks {
        of_track.insert(i, looks.next().expect("one look per job")?);
    }
    let mut of_file = BTreeMap::new();
    for f in files {
        of_file.insert(f.clone(), looks.next().expect("one look per job")?);
    }
    Ok((of_track, of_file))
}

/// A reference track: long enough, and not silent.
fn reference(album: &Album, file: &std::path::Path) -> Result<Look> {
    let look = look(Source::mix(file)?)?;
    let wrong = if look.seconds < MIN_REFERENCE_S {
        Some(format!(
            "the match reference is {:.1} s long; a balance needs at least {MIN_REFERENCE_S:.0} s",
            look.seconds
        ))
    } else if look.energy <= 0.0 {
        Some("the match reference is silent".to_string())
    } else {
        None
    };
    match wrong {
        Some(w) => Err(Error::audio(display_path(album, file), w)),
        None => Ok(look),
    }
}

/// The album's own balance and spectrum: its tracks' mean, by energy.
fn album_look(tracks: &BTreeMap<usize, Look>) -> Look {
    let weighted: Vec<(&Balance, f64)> = tracks.values().map(|l| (&l.balance, l.energy)).collect();
    let spectra: Vec<(&Spectrum, f64)> = tracks.values().map(|l| (&l.spectrum, l.energy)).collect();
    Look {
        balance: Balance::mean(&weighted),
        spectrum: tonal::mean_spectrum(&spectra),
        energy: tracks.values().map(|l| l.energy).sum(),
        seconds: tracks.values().map(|l| l.seconds).sum(),
    }
}
