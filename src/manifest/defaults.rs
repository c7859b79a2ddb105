//! What a manifest gets for a key it leaves out. The chain's defaults are
//! the DSP's own (`dsp::chain::Chain::default`); the checks' thresholds are
//! in `qc`.

use crate::dsp::dither::DitherKind;
use crate::manifest::{AlbumAnchor, Mode};

pub const LOUDNESS_LUFS: f64 = -14.0;
pub const TRUE_PEAK_DBTP: f64 = -1.0;
pub const MODE: Mode = Mode::Album;
pub const ALBUM_ANCHOR: AlbumAnchor = AlbumAnchor::Pooled;
/// The most gain a track gets unless `target.max_gain_db` says otherwise (dB).
pub const MAX_GAIN_DB: f64 = 24.0;
/// Loudness tolerance of `analyze --target`, LU.
pub const TOLERANCE_LU: f64 = 0.5;
/// The deliverable of a manifest (and preset) that names none: 24-bit WAV
/// at the premaster's rate.
pub const DELIVERABLE_NAME: &str = "master";
pub const BIT_DEPTH: u32 = 24;
/// An MP3 deliverable's bit rate when it names none (kbit/s): the highest, for masters.
pub const MP3_KBPS: u16 = 320;
/// Integer deliverables are dithered unless they say otherwise.
pub const DITHER: DitherKind = DitherKind::Tpdf;
/// Silence before each track, seconds: the Red Book's pregap, and a
/// common gap between songs.
pub const GAP_S: f64 = 2.0;
/// What `trim: true` treats as silence (dBFS sample peak), and how much of
/// it is kept before and after the music (ms).
pub const TRIM_THRESHOLD_DB: f64 = -60.0;
pub const TRIM_KEEP_MS: f64 = 10.0;

/// `chain.match`: the whole difference, within 6 dB, smoothed over a third
/// of an octave.
pub const MATCH_AMOUNT: f64 = 1.0;
pub const MATCH_MAX_DB: f64 = 6.0;
pub const MATCH_SMOOTHING_OCT: f64 = 1.0 / 3.0;
