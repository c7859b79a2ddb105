//! A transparent true-peak lookahead limiter.
//!
//! The whole track is in memory, so the limiter is written in its non-causal
//! form: the gain at sample `n` is computed from the signal up to `n +
//! lookahead`, and applied to sample `n` itself. That is exactly a lookahead
//! limiter with its latency compensated: the master keeps the premaster's
//! length and sample alignment.
//!
//! 1. **Detector**: the 4× oversampled peak envelope of both channels
//!    ([`super::oversample`]), so inter-sample peaks count.
//! 2. **Required gain** `r[n] = min(0, ceiling − peak[n])` (dB).
//! 3. **Hold and lookahead**: `h[n] = min r[j]` for `j` in `[n − hold, n + lookahead + G]`.
//!    The hold keeps the gain still between the peaks of a bass note (a 20 ms hold covers
//!    25 Hz), so the release does not ripple at twice the bass frequency.
//! 4. **Release**: `e[n] = min(h[n], e[n−1]·k)`, an exponential return to 0 dB
//!    with time constant `release_ms`.
//! 5. **Attack**: two cascaded moving averages whose spans add up to the
//!    lookahead: an S-shaped fade into every gain reduction, with no step.
//!    Each averaged value is at most the required gain, because every
//!    value inside the averaging span already holds the peak's requirement.
//!    The fade ends [`GUARD`] samples before the peak and the gain stays flat
//!    for `G` samples after it, so the samples that reconstruct an
//!    inter-sample peak all carry the same gain and the peak scales exactly.
//! 6. The gain is never above 0 dB.

use super::oversample::accumulate_peak_envelope;

/// Samples on each side of a peak that share its gain (`G` above).
pub const GUARD: usize = 8;

/// The limiter aims this far under its ceiling (dB). Where the gain moves,
/// lathe's detector and a much longer reference interpolator can differ by
/// about 0.03 dB on music and up to 0.09 dB on a naive full-scale square wave
/// (energy right up to Nyquist); this keeps the ceiling held as an independent
/// meter sees it.
pub const DETECTOR_HEADROOM_DB: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterSettings {
    /// Ceiling in dBTP.
    pub ceiling_dbtp: f64,
    pub lookahead_ms: f64,
    pub release_ms: f64,
    pub hold_ms: f64,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        LimiterSettings { ceiling_dbtp: -1.0, lookahead_ms: 5.0, release_ms: 100.0, hold_ms: 20.0 }
    }
}

/// What the limiter did, for the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimiterStats {
    /// Largest gain reduction, dB (positive).
    pub max_gain_reduction_db: f64,
    /// Mean gain reduction, dB (positive).
    pub mean_gain_reduction_db: f64,
    /// Time spent with more than 1 dB of gain reduction.
    pub seconds_over_1db: f64,
    /// Largest gain reduction in each [`SERIES_HOP_S`] of the track, dB (positive).
    pub gain_reduction_db: Vec<f32>,
}

/// dB to the natural-log gain: `10^(dB/20) = e^(dB·ln10/20)`.
const DB_TO_LN: f32 = std::f32::consts::LN_10 / 20.0;

/// Interval of [`LimiterStats::gain_reduction_db`], seconds.
pub const SERIES_HOP_S: f64 = 0.1;

/// In place: `x[i]` becomes the minimum of the original `x[j]` over `j` in
/// `[i - back, i + fwd]`, where indices outside `x` hold `0.0`. (Each
/// value is read into the deque before its slot is overwritten.)
fn sliding_min_in_place(x: &mut [f32], back: usize, fwd: usize) {
    let n = x.len() as isize;
    let mut deque: std::collections::VecDeque<(isize, f32)> = std::collections::VecDeque::new();
    let mut next = -(back as isize); // next index to push
    for i in 0..n {
        let hi = i + fwd as isize;
        while next <= hi {
            let v = if next < 0 || next >= n { 0.0 } else { x[next as usize] };
            while deque.back().is_some_and(|&(_, b)| b >= v) {
                deque.pop_back();
            }
            deque.push_back((next, v));
            next += 1;
        }
        let lo = i - back as isize;
        while deque.front().is_some_and(|&(j, _)| j < lo) {
            deque.pop_front();
        }
        x[i as usize] = deque.front().map_or(0.0, |&(_, v)| v);
    }
}

/// Trailing moving average over `len` samples (f64 running sum, exact and deterministic).
fn moving_average(x: &mut [f32], len: usize) {
    if len <= 1 {
        return;
    }
    // The last `len` inputs, for the value leaving the window.
    let mut ring = vec![0f32; len];
    let mut sum = 0.0f64;
    let inv = 1.0 / len as f64;
    for i in 0..x.len() {
        let v = x[i];
        sum += v as f64;
        if i >= len {
            sum -= ring[i % len] as f64;
        }
        ring[i % len] = v;
        x[i] = if i >= len { (sum * inv) as f32 } else { (sum / (i + 1) as f64) as f32 };
    }
}

/// The 4× oversampled peak envelope of a set of channels: `env[n]` is the
/// largest reconstructed value around sample `n`, exact wherever it exceeds
/// `floor` (elsewhere, the sample magnitude). Computed once, it serves any
/// gain: the envelope of `x·g` is `g` times the envelope of `x`.
pub fn peak_envelope(channels: &[&[f32]], floor: f32) -> Vec<f32> {
    let len = channels.first().map_or(0, |c| c.len());
    let mut env = vec![0f32; len];
    for ch in channels {
        for (e, x) in env.iter_mut().zip(ch.iter()) {
            *e = e.max(x.abs());
        }
    }
    for ch in channels {
        accumulate_peak_envelope(ch, &mut env, floor);
    }
    env
}

/// The gain curve (dB, <= 0) that brings a signal whose peak envelope is
/// `env`, raised by `input_gain_db`, under the ceiling.
pub fn gain_curve_db(
    settings: &LimiterSettings,
    sample_rate: u32,
    env: &[f32],
    input_gain_db: f64,
) -> Vec<f32> {
    let fs = sample_rate as f64;
    let lookahead = ((settings.lookahead_ms * 1e-3 * fs).round() as usize).max(2);
    let hold = (settings.hold_ms * 1e-3 * fs).round() as usize;
    let ceiling = (settings.ceiling_dbtp - DETECTOR_HEADROOM_DB) as f32;
    let threshold = 10f32.powf((ceiling - input_gain_db as f32) / 20.0);

    // Required gain (the envelope already counts each interval's peak for both
    // its samples), after `lookahead` leading zeros so the first peaks get
    // their full attack.
    let mut e = vec![0f32; lookahead];
    e.extend(
        env.iter()
            .map(|&v| if v > threshold { ceiling - input_gain_db as f32 - 20.0 * v.log10() } else { 0.0 }),
    );
    // Hold and lookahead.
    sliding_min_in_place(&mut e, (hold + 1).max(GUARD), lookahead + GUARD);
    let k = (-1.0 / (settings.release_ms.max(0.1) * 1e-3 * fs)).exp() as f32;
    let mut state = 0f32;
    for v in e.iter_mut() {
        state = (state * k).min(*v);
        *v = state;
    }
    let first = lookahead / 2 + 1;
    let second = lookahead + 2 - first;
    moving_average(&mut e, first);
    moving_average(&mut e, second);
    e.drain(..lookahead);
    e
}

/// The envelope floor that keeps [`gain_curve_db`] exact for input gains up to `max_gain_db`.
pub fn envelope_floor(settings: &LimiterSettings, max_gain_db: f64) -> f32 {
    10f32.powf(((settings.ceiling_dbtp - DETECTOR_HEADROOM_DB - max_gain_db) / 20.0) as f32)
}

/// Applies a gain curve (dB) to every channel; returns what it did.
pub fn apply_curve(curve: &[f32], sample_rate: u32, channels: &mut [Vec<f32>]) -> LimiterStats {
    let mut stats = LimiterStats::default();
    let mut sum = 0f64;
    let mut over = 0usize;
    let hop = ((sample_rate as f64 * SERIES_HOP_S).round() as usize).max(1);
    stats.gain_reduction_db = curve.chunks(hop).map(|c| -c.iter().fold(0f32, |m, &g| m.min(g))).collect();
    for (i, &g_db) in curve.iter().enumerate() {
        if g_db < 0.0 {
            let g = (g_db * DB_TO_LN).exp();
            for ch in channels.iter_mut() {
                ch[i] *= g;
            }
            let gr = -g_db as f64;
            sum += gr;
            stats.max_gain_reduction_db = stats.max_gain_reduction_db.max(gr);
            if gr > 1.0 {
                over += 1;
            }
        }
    }
    if !curve.is_empty() {
        stats.mean_gain_reduction_db = sum / curve.len() as f64;
    }
    stats.seconds_over_1db = over as f64 / sample_rate as f64;
    stats
}

/// `out = pre × gain × curve`, in one pass: the gain into the limiter and
/// the limiter's gain curve (dB) applied together; returns what the limiter did.
pub fn apply_curve_from(
    pre: &[Vec<f32>],
    gain_db: f64,
    curve: &[f32],
    sample_rate: u32,
    out: &mut [Vec<f32>],
) -> LimiterStats {
    let g = 10f64.powf(gain_db / 20.0);
    for (o, p) in out.iter_mut().zip(pre) {
        for (o, &p) in o.iter_mut().zip(p) {
            *o = (p as f64 * g) as f32;
        }
    }
    apply_curve(curve, sample_rate, out)
}

/// Limits a stereo (or mono) set of channels in place.
pub fn process(settings: &LimiterSettings, sample_rate: u32, channels: &mut [Vec<f32>]) -> LimiterStats {
    let curve = {
        let views: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
        let env = peak_envelope(&views, envelope_floor(settings, 0.0));
        gain_curve_db(settings, sample_rate, &env, 0.0)
    };
    apply_curve(&curve, sample_rate, channels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{db, reference_true_peak, sine, tone_amplitude};

    fn limit(channels: &mut [Vec<f32>], rate: u32, ceiling: f64) -> LimiterStats {
        process(&LimiterSettings { ceiling_dbtp: ceiling, ..Default::default() }, rate, channels)
    }

    fn torture_set(rate: u32) -> Vec<(&'static str, Vec<Vec<f32>>)> {
        let fs = rate as f64;
        let boost = |x: Vec<f32>, g: f32| x.into_iter().map(|v| v * g).collect::<Vec<f32>>();
        let song = crate::synth::Song { seconds: 4.0, ..crate::synth::sample_album_songs()[0].clone() };
        let music = crate::synth::render(&song, rate);
        let music_gain = 10f32.powf(12.0 / 20.0); // about -8 LUFS
        let mut set = vec![
            ("tp fs/4 45deg +6 dB", vec![boost(sine(fs / 4.0, 1.0, 0.785, 1.0, rate), 2.0); 2]),
            ("tp fs/6 60deg", vec![sine(fs / 6.0, 1.0, 1.047, 1.0, rate); 2]),
            ("tp fs/8 67.5deg", vec![sine(fs / 8.0, 1.0, 1.178, 1.0, rate); 2]),
            ("full-scale square 1 kHz", {
                let sq: Vec<f32> = (0..rate as usize)
                    .map(|i| if (i * 2000 / rate as usize).is_multiple_of(2) { 1.0 } else { -1.0 })
                    .collect();
                vec![sq.clone(), sq]
            }),
            ("40 Hz +10 dB", vec![sine(40.0, 10f64.powf(9.0 / 20.0), 0.0, 1.0, rate); 2]),
            ("60 Hz +10 dB", vec![sine(60.0, 10f64.powf(9.0 / 20.0), 0.3, 1.0, rate); 2]),
            (
                "music at -8 LUFS",
                vec![boost(music[0].clone(), music_gain), boost(music[1].clone(), music_gain)],
            ),
        ];
        let drums = crate::synth::render_stems(&song, rate).remove(0);
        let g = 4.0 / drums[0].iter().fold(0f32, |m, v| m.max(v.abs()));
        set.push(("drum hits +12 dB", vec![boost(drums[0].clone(), g), boost(drums[1].clone(), g)]));
        set
    }

    #[test]
    fn ceiling_holds_on_the_torture_set_by_an_independent_meter() {
        for rate in [44100, 48000] {
            for (name, mut x) in torture_set(rate) {
                let len = x[0].len();
                limit(&mut x, rate, -1.0);
                assert_eq!(x[0].len(), len);
                let tp = x.iter().map(|c| db(reference_true_peak(c))).fold(f64::NEG_INFINITY, f64::max);
                assert!(tp <= -1.0, "{name} at {rate}: true peak {tp:.3} dBTP over -1.0");
            }
        }
    }

    #[test]
    fn gain_never_rises_above_unity_and_alignment_is_kept() {
        let rate = 48000;
        let x = sine(100.0, 0.2, 0.0, 1.0, rate); // well under the ceiling: untouched
        let mut y = vec![x.clone(), x.clone()];
        let stats = limit(&mut y, rate, -1.0);
        assert_eq!(y[0], x, "a signal under the ceiling passes bit-exact, with no delay");
        assert_eq!(stats.max_gain_reduction_db, 0.0);

        let mut loud = crate::synth::render(
            &crate::synth::Song { seconds: 3.0, ..crate::synth::sample_album_songs()[3].clone() },
            rate,
        );
        for c in loud.iter_mut() {
            c.iter_mut().for_each(|v| *v *= 3.0);
        }
        let before = loud.clone();
        let mut after = loud.to_vec();
        limit(&mut after, rate, -1.0);
        for (a, b) in after.iter().zip(&before) {
            for (y, x) in a.iter().zip(b) {
                assert!(y.abs() <= x.abs() + 1e-7, "gain above unity");
            }
        }
    }

    #[test]
    fn gain_reduction_series_shows_where_the_limiter_worked() {
        let rate = 44100;
        let quiet = sine(1000.0, 0.1, 0.0, 1.0, rate);
        let loud = sine(1000.0, 10f64.powf(5.0 / 20.0), 0.0, 1.0, rate); // 6 dB over -1 dBTP
        let x: Vec<f32> = quiet.into_iter().chain(loud).collect();
        let mut y = vec![x.clone(), x];
        let stats = limit(&mut y, rate, -1.0);
        assert_eq!(stats.gain_reduction_db.len(), 20, "one value per 100 ms");
        let want = 6.0 + DETECTOR_HEADROOM_DB;
        for (k, &gr) in stats.gain_reduction_db.iter().enumerate() {
            match k {
                0..=8 => assert_eq!(gr, 0.0, "block {k} is under the ceiling"),
                11..=19 => assert!((gr as f64 - want).abs() < 0.05, "block {k}: {gr:.2} dB, want {want:.2}"),
                _ => {} // the lookahead fade reaches back into block 9
            }
        }
        let max = stats.gain_reduction_db.iter().fold(0f32, |m, &v| m.max(v));
        assert_eq!(max as f64, (stats.max_gain_reduction_db as f32) as f64);
    }

    #[test]
    fn bass_pushed_6db_in_stays_clean() {
        let rate = 48000;
        let ceiling = -1.0;
        let amp = 10f64.powf((ceiling + 6.0) / 20.0);
        let x = sine(50.0, amp, 0.0, 3.0, rate);
        let mut y = vec![x.clone(), x];
        limit(&mut y, rate, ceiling);
        let tail = &y[0][rate as usize * 2..];
        let fundamental = tone_amplitude(tail, 50.0, rate);
        let harmonics: f64 = (2..=40).map(|k| tone_amplitude(tail, 50.0 * k as f64, rate).powi(2)).sum();
        let thd_db = 10.0 * (harmonics / fundamental.powi(2)).log10();
        assert!(thd_db <= -40.0, "THD {thd_db:.1} dB");
    }
}
