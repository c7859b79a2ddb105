//! The edit stage: topping and tailing a premaster, and its fades, in
//! frames. [`Edges`] finds where the music starts and ends (the first and
//! last frame with a sample over a threshold); a [`Plan`] is the kept span
//! and the gain ramps over it; [`Plan::apply`] runs a block through them.
//!
//! Every cut gets a short raised-cosine ramp ([`CUT_FADE_S`]), so a cut in
//! sound never clicks; the premaster's own first and last samples are not
//! cuts. A fade of the manifest's (`fade_in_ms`, `fade_out_ms`) multiplies
//! with it.

use serde::{Deserialize, Serialize};

use super::math;

/// The ramp at a cut, seconds.
pub const CUT_FADE_S: f64 = 0.005;

/// The shape of a fade, over its position `x` from 0 (silent) to 1 (full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FadeCurve {
    /// Gain rises in proportion: `g = x`.
    Linear,
    /// Constant power through a crossfade: `g = sin(x·π/2)`.
    #[default]
    EqualPower,
    /// Even in dB over its first 60 dB: `g = (1000^x − 1) / 999`.
    Exponential,
}

impl FadeCurve {
    /// The gain at `x` in [0, 1].
    pub fn gain(self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        match self {
            FadeCurve::Linear => x,
            FadeCurve::EqualPower => math::sin(x * std::f64::consts::FRAC_PI_2),
            FadeCurve::Exponential => (math::exp(x * 3.0 * std::f64::consts::LN_10) - 1.0) / 999.0,
        }
    }
}

/// The raised-cosine ramp of a cut.
fn cut_gain(x: f64) -> f64 {
    0.5 - 0.5 * math::cos(x.clamp(0.0, 1.0) * std::f64::consts::PI)
}

/// Where the music is: the first and last frame with a sample whose
/// magnitude exceeds a threshold, fed a block at a time.
#[derive(Debug, Clone)]
pub struct Edges {
    threshold: f32,
    frames: u64,
    first: Option<u64>,
    last: Option<u64>,
}

impl Edges {
    /// `threshold_dbfs`: a sample over it is music.
    pub fn new(threshold_dbfs: f64) -> Edges {
        Edges { threshold: super::db_to_gain(threshold_dbfs) as f32, frames: 0, first: None, last: None }
    }

    pub fn feed(&mut self, channels: &[&[f32]]) {
        let n = channels.first().map_or(0, |c| c.len());
        let loud = |i: usize| channels.iter().any(|c| c[i].abs() > self.threshold);
        if self.first.is_none()
            && let Some(i) = (0..n).find(|&i| loud(i))
        {
            self.first = Some(self.frames + i as u64);
        }
        if let Some(i) = (0..n).rev().find(|&i| loud(i)) {
            self.last = Some(self.frames + i as u64);
        }
        self.frames += n as u64;
    }

    /// Frames fed.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The first and last loud frame; `None` when nothing was over the threshold.
    pub fn music(&self) -> Option<(u64, u64)> {
        self.first.zip(self.last)
    }
}

/// A kept span of a premaster and the ramps over it, in frames of its rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// The first kept frame of the premaster.
    pub start: u64,
    /// One past the last kept frame.
    pub end: u64,
    pub fade_in: u64,
    pub fade_out: u64,
    pub curve: FadeCurve,
    /// Ramps at the cuts (0 where the premaster's own edge is kept).
    pub cut_in: u64,
    pub cut_out: u64,
}

impl Plan {
    /// The whole premaster of `frames`, untouched.
    pub fn whole(frames: u64) -> Plan {
        Plan {
            start: 0,
            end: frames,
            fade_in: 0,
            fade_out: 0,
            curve: FadeCurve::default(),
            cut_in: 0,
            cut_out: 0,
        }
    }

    /// Frames kept.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when nothing is cut or faded.
    pub fn is_whole(&self, frames: u64) -> bool {
        self.start == 0 && self.end >= frames && self.fade_in == 0 && self.fade_out == 0
    }

    /// The gain at kept frame `k` (0 = the first kept frame).
    pub fn gain(&self, k: u64) -> f64 {
        let len = self.len();
        let to_end = len - 1 - k.min(len - 1); // frames after k
        let ramp = |n: u64, at: u64, f: &dyn Fn(f64) -> f64| match n {
            0 => 1.0,
            n if at >= n => 1.0,
            n => f((at as f64 + 0.5) / n as f64),
        };
        let curve = self.curve;
        ramp(self.fade_in, k, &|x| curve.gain(x))
            * ramp(self.fade_out, to_end, &|x| curve.gain(x))
            * ramp(self.cut_in, k, &cut_gain)
            * ramp(self.cut_out, to_end, &cut_gain)
    }

    /// The frames of a block that starts at premaster frame `at` which are
    /// kept, and their gains applied: returns the kept range of the block.
    pub fn apply(&self, at: u64, channels: &mut [&mut [f32]]) -> std::ops::Range<usize> {
        let n = channels.first().map_or(0, |c| c.len()) as u64;
        let from = self.start.clamp(at, at + n);
        let to = self.end.clamp(at, at + n);
        let ramped = |k: u64| {
            let i = k - self.start;
            i < self.fade_in.max(self.cut_in) || self.len() - i <= self.fade_out.max(self.cut_out)
        };
        for f in from..to {
            if ramped(f) {
                let g = self.gain(f - self.start) as f32;
                for c in channels.iter_mut() {
                    c[(f - at) as usize] *= g;
                }
            }
        }
        (from - at) as usize..(to - at) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_run_from_silence_to_unity_as_their_formulas_say() {
        for c in [FadeCurve::Linear, FadeCurve::EqualPower, FadeCurve::Exponential] {
            assert_eq!(c.gain(0.0), 0.0, "{c:?}");
            assert!((c.gain(1.0) - 1.0).abs() < 1e-12, "{c:?}");
        }
        assert!((FadeCurve::Linear.gain(0.25) - 0.25).abs() < 1e-12);
        // Equal power: the two halves of a crossfade sum to unit power.
        let (a, b) = (FadeCurve::EqualPower.gain(0.3), FadeCurve::EqualPower.gain(0.7));
        assert!((a * a + b * b - 1.0).abs() < 1e-12);
        // Exponential: 20 dB a third of the way (the −1 bends it only near silence).
        let db = |x: f64| 20.0 * FadeCurve::Exponential.gain(x).log10();
        assert!((db(1.0) - db(2.0 / 3.0) - 20.0).abs() < 0.1);
        assert!((db(2.0 / 3.0) - db(1.0 / 3.0) - 20.0).abs() < 1.0);
    }

    #[test]
    fn edges_find_the_first_and_last_frame_over_the_threshold_across_blocks() {
        let mut x = vec![0.0f32; 10_000];
        x[1234] = 0.002; // -54 dBFS: over -60
        x[3000] = 0.0005; // -66 dBFS: under
        x[8765] = -0.01;
        let mut e = Edges::new(-60.0);
        for (l, r) in x.chunks(777).zip(vec![0.0f32; 10_000].chunks(777)) {
            e.feed(&[l, r]);
        }
        assert_eq!(e.music(), Some((1234, 8765)));
        assert_eq!(e.frames(), 10_000);
        let mut quiet = Edges::new(-60.0);
        quiet.feed(&[&[0.0005f32; 100], &[0.0; 100]]);
        assert_eq!(quiet.music(), None);
    }

    #[test]
    fn a_block_keeps_the_planned_span_and_ramps_as_the_plan_says() {
        let plan = Plan {
            start: 100,
            end: 1100,
            fade_in: 0,
            fade_out: 400,
            curve: FadeCurve::Linear,
            cut_in: 10,
            cut_out: 0,
        };
        let mut got = Vec::new();
        for at in (0..1500u64).step_by(256) {
            let mut l = vec![1.0f32; 256.min(1500 - at as usize)];
            let mut r = l.clone();
            let kept = plan.apply(at, &mut [&mut l, &mut r]);
            got.extend_from_slice(&l[kept]);
        }
        assert_eq!(got.len(), 1000);
        // The cut ramp: raised cosine over 10 frames, at frame centres.
        assert!((got[0] as f64 - cut_gain(0.05)).abs() < 1e-6);
        assert!((got[9] as f64 - cut_gain(0.95)).abs() < 1e-6);
        assert_eq!(got[10], 1.0);
        assert_eq!(got[599], 1.0);
        // The linear fade-out: the last frame at 0.5/400, the one 200 before the end at about a half.
        assert!((got[999] as f64 - 0.5 / 400.0).abs() < 1e-6);
        assert!((got[799] as f64 - 200.5 / 400.0).abs() < 1e-6);
    }
}
