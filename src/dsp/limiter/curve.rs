//! The limiter's gain curve and its tally, made a block at a time.
//!
//! [`CurveStream`] turns the peak envelope into the gain curve of
//! [`super::limiter`]'s steps 2-5 (required gain, hold and lookahead,
//! release, attack) in one pass with constant memory: the curve of frame `n`
//! comes out once the envelope up to `n + lookahead + GUARD` is in, which is
//! the limiter's latency, compensated (curve and samples keep their frames).
//! [`Tally`] keeps what the report and the budget read of a curve.

use std::collections::VecDeque;

use super::{DETECTOR_HEADROOM_DB, GUARD, LimiterSettings, LimiterStats, SERIES_HOP_S};
use crate::dsp::math;
use crate::dsp::series::{Reduce, Series};

/// Trailing moving average over `len` values (f64 running sum, exact and deterministic).
struct MovingAverage {
    ring: Vec<f32>,
    sum: f64,
    /// The ring's slot for the next value.
    slot: usize,
    /// Values in so far, up to the ring's length.
    filled: usize,
    /// Nonzero values in the ring: at none, the sum is exactly 0 again
    /// (adding and removing the same values can leave a rounding residue).
    nonzero: usize,
    inv: f64,
}

impl MovingAverage {
    fn new(len: usize) -> Self {
        let len = len.max(1);
        MovingAverage {
            ring: vec![0.0; len],
            sum: 0.0,
            slot: 0,
            filled: 0,
            nonzero: 0,
            inv: 1.0 / len as f64,
        }
    }

    /// Full of zeros: its output is 0 while zeros come in.
    #[inline]
    fn at_rest(&self) -> bool {
        self.ring.len() == 1 || (self.filled == self.ring.len() && self.nonzero == 0)
    }

    #[inline]
    fn next(&mut self, v: f32) -> f32 {
        let len = self.ring.len();
        if len == 1 {
            return v;
        }
        self.sum += v as f64;
        let full = self.filled == len;
        if full {
            let leaving = self.ring[self.slot];
            self.sum -= leaving as f64;
            self.nonzero -= (leaving != 0.0) as usize;
        } else {
            self.filled += 1;
        }
        self.nonzero += (v != 0.0) as usize;
        if self.nonzero == 0 {
            self.sum = 0.0;
        }
        self.ring[self.slot] = v;
        self.slot += 1;
        if self.slot == len {
            self.slot = 0;
        }
        if full { (self.sum * self.inv) as f32 } else { (self.sum / self.filled as f64) as f32 }
    }
}

/// Gain reduction under which the release has returned to 0 dB (dB).
const RELEASED_DB: f32 = 1e-30;

/// The gain curve (dB, <= 0) that brings a signal whose peak envelope is
/// fed in, raised by `input_gain_db`, under the ceiling.
pub struct CurveStream {
    /// The envelope level above which gain is required, and the required
    /// gain's offset: `r = offset - 20·log10(v)`.
    threshold: f32,
    offset: f32,
    lookahead: usize,
    back: usize,
    fwd: usize,
    /// The sliding minimum's window: (index, value), values increasing.
    deque: VecDeque<(isize, f32)>,
    /// Index of the next required-gain value (the curve's own index plus `lookahead`).
    pushed: isize,
    /// Index of the next value out of the sliding minimum.
    out: isize,
    release: f32,
    state: f32,
    first: MovingAverage,
    second: MovingAverage,
}

impl CurveStream {
    pub fn new(settings: &LimiterSettings, sample_rate: u32, input_gain_db: f64) -> Self {
        let fs = sample_rate as f64;
        let lookahead = ((settings.lookahead_ms * 1e-3 * fs).round() as usize).max(2);
        let hold = (settings.hold_ms * 1e-3 * fs).round() as usize;
        let ceiling = (settings.ceiling_dbtp - DETECTOR_HEADROOM_DB) as f32;
        let first = lookahead / 2 + 1;
        let mut s = CurveStream {
            threshold: math::powf(10f32, (ceiling - input_gain_db as f32) / 20.0),
            offset: ceiling - input_gain_db as f32,
            lookahead,
            back: (hold + 1).max(GUARD),
            fwd: lookahead + GUARD,
            deque: VecDeque::new(),
            pushed: 0,
            out: 0,
            release: math::exp(-1.0 / (settings.release_ms.max(0.1) * 1e-3 * fs)) as f32,
            state: 0.0,
            first: MovingAverage::new(first),
            second: MovingAverage::new(lookahead + 2 - first),
        };
        // Out of range, the required gain is 0: before the signal, and for
        // `lookahead` leading frames so the first peaks get their full attack.
        for _ in 0..s.back + lookahead {
            s.push_required(0.0, &mut Vec::new());
        }
        s
    }

    /// The envelope of the next frames in; the curve of every frame now known appended to `out`.
    pub fn feed(&mut self, env: &[f32], out: &mut Vec<f32>) {
        out.reserve(env.len());
        for &v in env {
            if v <= self.threshold && self.at_rest() {
                // Nothing required, held, releasing or averaging: 0 dB, as the
                // full computation gives (it moves only the window's one zero).
                self.deque[0].0 = self.pushed - self.back as isize;
                self.pushed += 1;
                self.out += 1;
                out.push(0.0);
                continue;
            }
            let r = if v > self.threshold { self.offset - 20.0 * math::log10(v) } else { 0.0 };
            self.push_required(r, out);
        }
    }

    /// `n` frames of an envelope at zero (under any threshold): after the
    /// frames that bring the curve to rest, 0 dB without per-frame work.
    pub fn feed_zeros(&mut self, mut n: usize, out: &mut Vec<f32>) {
        while n > 0 && !self.at_rest() {
            self.push_required(0.0, out);
            n -= 1;
        }
        if n > 0 {
            self.pushed += n as isize;
            self.out += n as isize;
            self.deque[0].0 = self.pushed - 1 - self.back as isize;
            out.resize(out.len() + n, 0.0);
        }
    }

    /// The steady state between gain reductions: outputs are being made
    /// (past the padding), the window holds only a zero, and the release and
    /// both averages are at 0.
    #[inline]
    fn at_rest(&self) -> bool {
        self.state == 0.0
            && self.out >= self.lookahead as isize
            && self.pushed - (self.back + self.fwd) as isize == self.out
            && self.deque.len() == 1
            && self.deque[0].1 == 0.0
            && self.first.at_rest()
            && self.second.at_rest()
    }

    /// The curve of the frames still held: the envelope ends here.
    pub fn finish(mut self, out: &mut Vec<f32>) {
        for _ in 0..self.fwd {
            self.push_required(0.0, out);
        }
    }

    #[inline]
    fn push_required(&mut self, v: f32, out: &mut Vec<f32>) {
        let j = self.pushed - self.back as isize;
        while self.deque.back().is_some_and(|&(_, b)| b >= v) {
            self.deque.pop_back();
        }
        self.deque.push_back((j, v));
        self.pushed += 1;
        // Sliding-minimum output `i` covers [i - back, i + fwd].
        let i = j - self.fwd as isize;
        if i < self.out {
            return;
        }
        let lo = i - self.back as isize;
        while self.deque.front().is_some_and(|&(k, _)| k < lo) {
            self.deque.pop_front();
        }
        let h = self.deque.front().map_or(0.0, |&(_, v)| v);
        self.out += 1;
        // A release that has decayed to nothing is 0 dB: left to decay on, it
        // would sink into subnormal floats, which cost a hundred times more
        // per multiply. (Under 1e-30 dB no gain, sum or figure moves: e^x is
        // exactly 1 in f32 for |x| < 6e-8.)
        let decayed = self.state * self.release;
        self.state = if decayed > -RELEASED_DB { 0.0 } else { decayed }.min(h);
        let g = self.second.next(self.first.next(self.state));
        // The leading `lookahead` frames were padding.
        if i >= self.lookahead as isize {
            out.push(g);
        }
    }
}

fn hop_len(sample_rate: u32) -> usize {
    ((sample_rate as f64 * SERIES_HOP_S).round() as usize).max(1)
}

/// What a gain curve does, tallied as it is made: the limiter's stats and
/// the per-hop sums the sustained gain reduction is read from.
#[derive(Clone)]
pub struct Tally {
    sample_rate: u32,
    hop: usize,
    in_hop: usize,
    hop_sum: f64,
    hop_min: f32,
    hop_power: f64,
    /// Sum of gain reduction (positive dB) of every complete hop.
    sums: Vec<f64>,
    /// Mean power gain (`10^(g/10)`) of every complete hop.
    powers: Vec<f64>,
    series: Series,
    sum: f64,
    max: f64,
    over: [usize; 3],
    frames: usize,
}

/// Sustained gain reduction: windows of this many hops (400 ms, the
/// momentary loudness window), one starting every 100 ms.
const SUSTAINED_HOPS: usize = 4;
/// Sustained gain reduction: the share of windows allowed to exceed it.
const SUSTAINED_EXCEEDED: f64 = 0.05;

impl Tally {
    pub fn new(sample_rate: u32) -> Self {
        Tally {
            sample_rate,
            hop: hop_len(sample_rate),
            in_hop: 0,
            hop_sum: 0.0,
            hop_min: 0.0,
            hop_power: 0.0,
            sums: Vec::new(),
            powers: Vec::new(),
            series: Series::new(SERIES_HOP_S, Reduce::Max),
            sum: 0.0,
            max: 0.0,
            over: [0; 3],
            frames: 0,
        }
    }

    pub fn feed(&mut self, curve: &[f32]) {
        for &g in curve {
            self.hop_sum += -g as f64;
            self.hop_min = self.hop_min.min(g);
            if g >= 0.0 {
                self.hop_power += 1.0;
            } else {
                self.hop_power += math::exp(g as f64 * (std::f64::consts::LN_10 / 10.0));
                let gr = -g as f64;
                self.sum += gr;
                self.max = self.max.max(gr);
                for (n, limit) in self.over.iter_mut().zip([1.0, 3.0, 6.0]) {
                    *n += (gr > limit) as usize;
                }
            }
            self.in_hop += 1;
            if self.in_hop == self.hop {
                self.close_hop();
            }
        }
        self.frames += curve.len();
    }

    fn close_hop(&mut self) {
        self.sums.push(self.hop_sum);
        self.powers.push(self.hop_power / self.in_hop as f64);
        self.series.push(-self.hop_min);
        (self.in_hop, self.hop_sum, self.hop_min, self.hop_power) = (0, 0.0, 0.0, 0.0);
    }

    /// The gain reduction held over 400 ms windows, exceeded in only 5% of them (dB, positive).
    pub fn sustained_db(&mut self) -> f64 {
        if self.in_hop > 0 {
            self.close_hop();
        }
        let sums = &self.sums;
        if sums.is_empty() {
            return 0.0;
        }
        let n = SUSTAINED_HOPS.min(sums.len());
        let mut windows: Vec<f64> = (0..=sums.len() - n)
            .map(|i| {
                let frames = self.frames.min((i + n) * self.hop) - i * self.hop;
                sums[i..i + n].iter().sum::<f64>() / frames as f64
            })
            .collect();
        let rank = ((1.0 - SUSTAINED_EXCEEDED) * windows.len() as f64).ceil() as usize;
        let k = rank.clamp(1, windows.len()) - 1;
        let (_, v, _) = windows.select_nth_unstable_by(k, f64::total_cmp);
        v.max(0.0)
    }

    /// The mean power gain (1 at 0 dB) of every 100 ms hop so far: what
    /// the curve does to each hop's energy, near enough to predict loudness.
    pub fn take_powers(&mut self) -> Vec<f64> {
        if self.in_hop > 0 {
            self.close_hop();
        }
        std::mem::take(&mut self.powers)
    }

    /// The largest gain reduction (dB, positive).
    pub fn peak_db(&self) -> f64 {
        self.max.max(-self.hop_min as f64)
    }

    pub fn finish(mut self) -> LimiterStats {
        let sustained = self.sustained_db();
        let seconds = |n: usize| n as f64 / self.sample_rate as f64;
        LimiterStats {
            max_gain_reduction_db: self.max,
            sustained_gain_reduction_db: sustained,
            mean_gain_reduction_db: if self.frames > 0 { self.sum / self.frames as f64 } else { 0.0 },
            seconds_over_1db: seconds(self.over[0]),
            seconds_over_3db: seconds(self.over[1]),
            seconds_over_6db: seconds(self.over[2]),
            gain_reduction_db: self.series.finished(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::limiter::{envelope_floor, gain_curve_db, peak_envelope};

    #[test]
    fn an_envelope_fed_in_blocks_and_runs_of_zeros_makes_the_curve_of_the_whole() {
        let song = lathe_synth::Song { seconds: 6.0, ..lathe_synth::sample_album_songs()[3].clone() };
        let x = lathe_synth::render(&song, 44100).to_vec();
        let settings = LimiterSettings::default();
        let gain = 16.0;
        let floor = envelope_floor(&settings, gain + 2.0);
        let env = peak_envelope(&[&x[0], &x[1]], floor);
        let whole = gain_curve_db(&settings, 44100, &env, gain);
        assert!(whole.iter().any(|&g| g < -1.0), "the song is limited at +{gain} dB");
        for block in [1000, 4096, 65536] {
            let mut s = CurveStream::new(&settings, 44100, gain);
            let mut out = Vec::new();
            for b in env.chunks(block) {
                // Under the floor as zeros, in runs, as the sparse spill gives them back.
                let mut run = Vec::new();
                for &v in b {
                    if v <= floor {
                        if !run.is_empty() {
                            s.feed(&run, &mut out);
                            run.clear();
                        }
                        s.feed_zeros(1, &mut out);
                    } else {
                        run.push(v);
                    }
                }
                s.feed(&run, &mut out);
            }
            s.finish(&mut out);
            assert_eq!(out.len(), whole.len());
            let differ = out.iter().zip(&whole).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert_eq!(differ, 0, "blocks of {block}: {differ} values differ");
        }
    }
}
