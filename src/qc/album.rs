//! Checks of the album as a whole: premaster rates, the album's loudness in
//! album mode, and how far apart the masters sit.

use super::{Check, CheckId, Severity, Threshold as T, Thresholds};

/// `album.sample_rate_mix`: premasters at different rates.
pub fn sample_rates(rates: &[u32]) -> Option<Check> {
    let mut distinct: Vec<u32> = rates.to_vec();
    distinct.sort();
    distinct.dedup();
    (distinct.len() > 1).then(|| {
        CheckId::AlbumSampleRateMix.found(
            format!(
                "premasters come at {} Hz; each deliverable is converted to one rate",
                distinct.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
            ),
            distinct.len() as f64,
            Some(1.0),
        )
    })
}

/// The track that holds an album under its target (album mode).
#[derive(Debug, Clone)]
pub struct HeldBackFacts<'a> {
    pub number: usize,
    pub title: &'a str,
    /// The level the anchor alone would give it, and the loudest it reaches within its bounds.
    pub wanted_lufs: f64,
    pub reached_lufs: f64,
    pub by_lu: f64,
}

/// `album.loudness`: the album's loudness (pooled, or its loudest track's
/// for the `loudest` anchor; `what` says which) against the target. An
/// album held back by a track that cannot take the album gain is a warning
/// naming that track and the remedy; any other miss fails.
pub fn loudness(
    deliverable: &str,
    what: &str,
    measured_lufs: f64,
    target_lufs: f64,
    held_back: Option<&HeldBackFacts>,
    th: &Thresholds,
) -> Option<Check> {
    let tol = th.get(T::LoudnessToleranceLu);
    let dev = measured_lufs - target_lufs;
    match held_back {
        Some(h) if dev < -tol => Some(CheckId::AlbumLoudness.found_as(
            Severity::Warn,
            format!(
                "{deliverable}: {what} measures {measured_lufs:.2} LUFS, {:.2} LU under its {target_lufs:.1} LUFS target: track {} `{}` holds it back. At the album's gain it would need {:.1} LUFS, and within its limiting budget it reaches {:.1} LUFS, so the whole album comes down {:.1} LU to keep the tracks' relative levels. Give that track `offset_lu: {:.1}` so the rest can reach the target, raise its limiting budget, or add glue compression to it",
                -dev, h.number, h.title, h.wanted_lufs, h.reached_lufs, h.by_lu, -h.by_lu
            ),
            measured_lufs,
            Some(target_lufs),
        )),
        _ if dev.is_nan() || dev.abs() > tol => Some(CheckId::AlbumLoudness.found(
            format!(
                "{deliverable}: {what} measures {measured_lufs:.2} LUFS, {dev:+.2} LU from its {target_lufs:.1} LUFS target"
            ),
            measured_lufs,
            Some(target_lufs),
        )),
        _ => None,
    }
}

/// How far apart the masters sit once each track's `offset_lu` is taken
/// out: a track meant to sit 2 LU under the album counts at its place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub lu: f64,
    /// The loudest and the quietest track (index from 0) and their level
    /// with the offset taken out, LUFS.
    pub loudest: (usize, f64),
    pub quietest: (usize, f64),
}

impl Spread {
    /// Of the masters' loudness and the tracks' offsets, in track order
    /// (silent masters do not count).
    pub fn of(master_lufs: &[f64], offsets_lu: &[f64]) -> Spread {
        let levels =
            master_lufs.iter().zip(offsets_lu).map(|(l, o)| l - o).enumerate().filter(|l| l.1.is_finite());
        let (loudest, quietest) = levels.fold(((0, f64::NEG_INFINITY), (0, f64::INFINITY)), |(hi, lo), l| {
            (if l.1 > hi.1 { l } else { hi }, if l.1 < lo.1 { l } else { lo })
        });
        let lu = if loudest.1.is_finite() { loudest.1 - quietest.1 } else { 0.0 };
        Spread { lu, loudest, quietest }
    }
}

/// `album.loudness_spread`: how far apart the masters sit (offsets
/// removed); `album_mode` when one gain kept the premasters' levels.
pub fn spread(s: &Spread, album_mode: bool, th: &Thresholds) -> Check {
    let (spread_lu, max) = (s.lu, th.get(T::SpreadMaxLu));
    if spread_lu > max {
        let advice = if album_mode {
            format!(
                "album mode keeps the premasters' levels: raise track {} with `offset_lu`, or master in track mode",
                s.quietest.0 + 1
            )
        } else {
            "set the tracks' `offset_lu` nearer each other".to_string()
        };
        CheckId::AlbumLoudnessSpread.found(
            format!(
                "tracks sit {spread_lu:.1} LU apart with their offsets taken out (track {} at {:.1} LUFS, track {} at {:.1}); on shuffle, listeners will reach for the volume; {advice}",
                s.loudest.0 + 1,
                s.loudest.1,
                s.quietest.0 + 1,
                s.quietest.1
            ),
            spread_lu,
            Some(max),
        )
    } else {
        CheckId::AlbumLoudnessSpread.found_as(
            Severity::Info,
            format!("tracks sit within {spread_lu:.1} LU of each other"),
            spread_lu,
            Some(max),
        )
    }
}

/// `album.tonal_spread`: the masters' mean tonal distance to the album's
/// own balance, dB; `worst` the track (from 0) furthest from it, and how far.
pub fn tonal_spread(spread_db: f64, worst: (usize, f64), th: &Thresholds) -> Check {
    let max = th.get(T::TonalSpreadMaxDb);
    if spread_db > max {
        CheckId::AlbumTonalSpread.found(
            format!(
                "the tracks sit {spread_db:.1} dB on average from the album's own tonal balance (track {} the furthest, {:.1} dB); `chain.match: {{reference: album}}` pulls them together",
                worst.0 + 1,
                worst.1
            ),
            spread_db,
            Some(max),
        )
    } else {
        CheckId::AlbumTonalSpread.found_as(
            Severity::Info,
            format!("the tracks sit {spread_db:.1} dB on average from the album's own tonal balance"),
            spread_db,
            Some(max),
        )
    }
}

/// The Red Book's limits on a CD: tracks, the shortest track, the whole disc.
pub const RED_BOOK_MAX_TRACKS: usize = 99;
pub const RED_BOOK_MIN_TRACK_S: f64 = 4.0;
pub const RED_BOOK_MAX_DISC_S: f64 = 79.0 * 60.0 + 57.0;

/// `album.red_book`: a CD image `image` whose tracks last `tracks_s` (each
/// song, gaps aside) and whose disc lasts `disc_s` (pregap and gaps in).
/// One failure per rule broken, else one finding that it holds. (ISRCs and
/// the catalog number were checked when the manifest was read.)
pub fn red_book(image: &str, tracks_s: &[(usize, &str, f64)], disc_s: f64) -> Vec<Check> {
    let id = CheckId::AlbumRedBook;
    let mut found = Vec::new();
    if tracks_s.len() > RED_BOOK_MAX_TRACKS {
        found.push(id.found(
            format!("{image}: {} tracks; a CD holds at most {RED_BOOK_MAX_TRACKS}: split the album over two discs", tracks_s.len()),
            tracks_s.len() as f64,
            Some(RED_BOOK_MAX_TRACKS as f64),
        ));
    }
    for &(number, title, s) in tracks_s.iter().filter(|t| t.2 < RED_BOOK_MIN_TRACK_S) {
        found.push(id.found(
            format!("{image}: track {number} ({title}) lasts {s:.2} s; on a CD tracks must be at least 4 s: join it to its neighbour or lengthen it"),
            s,
            Some(RED_BOOK_MIN_TRACK_S),
        ));
    }
    let clock = |s: f64| format!("{}:{:05.2}", (s / 60.0).floor(), s % 60.0);
    if disc_s > RED_BOOK_MAX_DISC_S {
        found.push(id.found(
            format!("{image}: the disc runs {} with its gaps; a CD holds at most 79:57: shorten gaps or move a track off the disc", clock(disc_s)),
            disc_s,
            Some(RED_BOOK_MAX_DISC_S),
        ));
    }
    if found.is_empty() {
        found.push(id.found_as(
            Severity::Info,
            format!("{image}: {} tracks, {} with gaps: within the Red Book", tracks_s.len(), clock(disc_s)),
            disc_s,
            Some(RED_BOOK_MAX_DISC_S),
        ));
    }
    found
}
