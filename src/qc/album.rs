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
