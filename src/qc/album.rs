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

/// `album.loudness_spread`: how far apart the masters sit (offsets removed).
pub fn spread(spread_lu: f64, th: &Thresholds) -> Check {
    let max = th.get(T::SpreadMaxLu);
    if spread_lu > max {
        CheckId::AlbumLoudnessSpread.found(
            format!("tracks sit {spread_lu:.1} LU apart; on shuffle, listeners will reach for the volume"),
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
