//! The album plan: what loudness each track is rendered to.
//!
//! - `track` mode: every track lands on `loudness_lufs + offset_lu`.
//! - `album` mode: one common gain for the album keeps the tracks' relative
//!   loudness as mixed. Each track's target is its premaster loudness plus
//!   that gain (plus its offset), so limiting never changes how tracks sit
//!   against each other; the gain is chosen so the album's pooled loudness
//!   (over every track's gating blocks) lands on `loudness_lufs`.

use crate::manifest::{Mode, Target};

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

/// The album gain that moves the pooled premaster loudness onto the target.
pub fn album_gain_db(target: &Target, pooled_premaster_lufs: f64) -> f64 {
    target.loudness_lufs - pooled_premaster_lufs
}

/// Most album passes (a pass re-renders every track with a corrected gain).
pub const MAX_ALBUM_PASSES: usize = 3;
/// Album loudness tolerance before another album pass is run (LU).
pub const ALBUM_TOLERANCE_LU: f64 = 0.05;
