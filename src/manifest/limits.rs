//! Every range a manifest value may take, in one table: validation reads
//! it, and so can a schema or the docs. Keys are written as the album-level
//! path; the same limit holds under `tracks[i].chain` and `tracks[i].stems[j]`.

/// The loudest a track's target may be (LUFS): louder than the loudest
/// commercial masters, reachable only by destroying the music.
pub const MAX_TARGET_LUFS: f64 = -5.0;

/// A closed range for one value, and what the value is called in an error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub key: &'static str,
    pub what: &'static str,
    pub lo: f64,
    pub hi: f64,
}

impl Limit {
    /// The value if it is within the range, else the error's text.
    pub fn check(&self, value: f64) -> Result<f64, String> {
        if value.is_finite() && value >= self.lo && value <= self.hi {
            Ok(value)
        } else {
            Err(format!("{} must be between {} and {} (got {value})", self.what, self.lo, self.hi))
        }
    }
}

const fn limit(key: &'static str, what: &'static str, lo: f64, hi: f64) -> Limit {
    Limit { key, what, lo, hi }
}

pub const LOUDNESS: Limit = limit("target.loudness_lufs", "the loudness target", -70.0, MAX_TARGET_LUFS);
pub const TRUE_PEAK: Limit = limit("target.true_peak_dbtp", "the true-peak ceiling", -20.0, 0.0);
pub const MAX_GAIN: Limit = limit("target.max_gain_db", "the maximum gain", 0.0, 40.0);
pub const TOLERANCE: Limit = limit("target.tolerance_lu", "the loudness tolerance", 0.05, 10.0);
pub const SAMPLE_RATE: Limit = limit("deliverables[].sample_rate", "the sample rate", 8000.0, 384000.0);
pub const EQ_FREQ: Limit = limit("chain.eq[].freq_hz", "the frequency", 10.0, 20000.0);
pub const EQ_Q: Limit = limit("chain.eq[].q", "Q", 0.1, 20.0);
pub const EQ_GAIN: Limit = limit("chain.eq[].gain_db", "the gain", -24.0, 24.0);
pub const COMP_THRESHOLD: Limit = limit("chain.compressor.threshold_db", "the threshold", -60.0, 0.0);
pub const COMP_RATIO: Limit = limit("chain.compressor.ratio", "the ratio", 1.0, 20.0);
pub const COMP_ATTACK: Limit = limit("chain.compressor.attack_ms", "the attack", 0.1, 500.0);
pub const COMP_RELEASE: Limit = limit("chain.compressor.release_ms", "the release", 1.0, 5000.0);
pub const COMP_KNEE: Limit = limit("chain.compressor.knee_db", "the knee", 0.0, 24.0);
pub const COMP_MAKEUP: Limit = limit("chain.compressor.makeup_db", "the makeup gain", -24.0, 24.0);
pub const COMP_SIDECHAIN_HPF: Limit =
    limit("chain.compressor.sidechain_hpf_hz", "the sidechain high-pass", 10.0, 1000.0);
pub const WIDTH: Limit = limit("chain.width", "the width", 0.0, 4.0);
pub const MONO_BELOW: Limit = limit("chain.mono_below_hz", "the mono crossover", 10.0, 1000.0);
pub const LOOKAHEAD: Limit = limit("chain.limiter.lookahead_ms", "the lookahead", 0.5, 20.0);
pub const LIMITER_RELEASE: Limit = limit("chain.limiter.release_ms", "the release", 1.0, 2000.0);
pub const HOLD: Limit = limit("chain.limiter.hold_ms", "the hold", 0.0, 200.0);
pub const BUDGET_SUSTAINED: Limit =
    limit("chain.limiter.budget.sustained_db", "the sustained limiting budget", 0.0, 20.0);
pub const BUDGET_PEAK: Limit = limit("chain.limiter.budget.peak_db", "the peak limiting budget", 0.0, 30.0);
pub const STEM_GAIN: Limit = limit("tracks[].stems[].gain_db", "the stem gain", -60.0, 24.0);
pub const STEM_PAN: Limit = limit("tracks[].stems[].pan", "pan", -1.0, 1.0);
pub const OFFSET: Limit = limit("tracks[].offset_lu", "the offset", -20.0, 20.0);
pub const GAP: Limit = limit("sequence.gap_s", "the gap", 0.0, 60.0);
pub const TRIM_THRESHOLD: Limit = limit("sequence.trim.threshold_db", "the trim threshold", -120.0, -20.0);
pub const TRIM_KEEP: Limit = limit("sequence.trim.keep_ms", "the silence kept at a trim", 0.0, 1000.0);
pub const EDIT_POINT: Limit = limit("tracks[].start_s, end_s", "an edit point", 0.0, 86400.0);
pub const MATCH_AMOUNT: Limit = limit("chain.match.amount", "the match amount", 0.0, 1.0);
pub const MATCH_MAX: Limit = limit("chain.match.max_db", "the largest match correction", 0.5, 12.0);
pub const MATCH_SMOOTHING: Limit = limit("chain.match.smoothing_oct", "the match smoothing", 0.1, 3.0);
pub const FADE: Limit = limit("tracks[].fade_in_ms, fade_out_ms", "a fade", 0.0, 600000.0);

/// Every limit, in manifest order: the README's table of ranges is made
/// from it (a test keeps the two in step).
pub const ALL: [&Limit; 34] = [
    &LOUDNESS,
    &TRUE_PEAK,
    &MAX_GAIN,
    &TOLERANCE,
    &SAMPLE_RATE,
    &EQ_FREQ,
    &EQ_Q,
    &EQ_GAIN,
    &COMP_THRESHOLD,
    &COMP_RATIO,
    &COMP_ATTACK,
    &COMP_RELEASE,
    &COMP_KNEE,
    &COMP_MAKEUP,
    &COMP_SIDECHAIN_HPF,
    &WIDTH,
    &MONO_BELOW,
    &LOOKAHEAD,
    &LIMITER_RELEASE,
    &HOLD,
    &BUDGET_SUSTAINED,
    &BUDGET_PEAK,
    &MATCH_AMOUNT,
    &MATCH_MAX,
    &MATCH_SMOOTHING,
    &STEM_GAIN,
    &STEM_PAN,
    &OFFSET,
    &GAP,
    &TRIM_THRESHOLD,
    &TRIM_KEEP,
    &EDIT_POINT,
    &FADE,
    &LOUDNESS_OF_A_TRACK,
];

/// A track's own target: the album's target plus its offset.
pub const LOUDNESS_OF_A_TRACK: Limit = limit(
    "loudness_lufs + tracks[].offset_lu",
    "a track's target (the album's plus its offset)",
    -70.0,
    MAX_TARGET_LUFS,
);
