//! The true-peak detector ([`super::oversample`]) fed a block at a time: a
//! meter's true peak and the limiter's peak envelope, the same readings as
//! over the whole signal, with memory of one block and the filter's reach.
//!
//! An interval `[n, n+1]` is read from `x[n-HALF ..= n+HALF]`, so it is
//! read once its right-hand context has arrived (or the signal has ended,
//! when what lies beyond is silence, as it is for the whole signal).

use super::oversample::{HALF, for_each_peak_in};
use crate::dsp::math;

/// A multichannel signal's recent samples and the intervals read so far.
struct Window {
    /// Each channel's samples from frame `base` on.
    channels: Vec<Vec<f32>>,
    base: usize,
    /// The next interval to read (a frame index).
    next: usize,
}

impl Window {
    fn new(channels: usize) -> Self {
        Window { channels: vec![Vec::new(); channels], base: 0, next: 0 }
    }

    fn end(&self) -> usize {
        self.base + self.channels.first().map_or(0, |c| c.len())
    }

    fn push(&mut self, block: &[&[f32]]) {
        for (c, b) in self.channels.iter_mut().zip(block) {
            c.extend_from_slice(b);
        }
    }

    /// Reads every interval whose context is complete (all of them when
    /// `last`), channel by channel: `f(frame, peak)` returns the floor for
    /// what follows. Returns the intervals read.
    fn read(
        &mut self,
        last: bool,
        mut floor: f32,
        mut f: impl FnMut(usize, f32) -> f32,
    ) -> std::ops::Range<usize> {
        let end = self.end();
        let stop = if last { end } else { end.saturating_sub(HALF) };
        let read = self.next..stop.max(self.next);
        if stop > self.next {
            let (lo, hi) = (self.next - self.base, stop - self.base);
            for c in &self.channels {
                for_each_peak_in(c, lo..hi, floor, |n, p| {
                    floor = f(self.base + n, p);
                    floor
                });
            }
            self.next = stop;
        }
        // Keep the left-hand context of the next interval.
        let keep = self.next.saturating_sub(HALF).max(self.base);
        for c in &mut self.channels {
            c.drain(..keep - self.base);
        }
        self.base = keep;
        read
    }
}

/// True peak of a signal fed in blocks: [`super::oversample::true_peak_dbtp`]
/// of the whole, bit for bit.
pub struct TruePeakMeter {
    window: Window,
    best: f32,
}

impl TruePeakMeter {
    pub fn new(channels: usize) -> Self {
        TruePeakMeter { window: Window::new(channels), best: 0.0 }
    }

    pub fn feed(&mut self, block: &[&[f32]]) {
        // Only intervals that could beat the largest peak so far (from the
        // sample peak up) are interpolated.
        self.best = block.iter().flat_map(|c| c.iter()).fold(self.best, |m, v| m.max(v.abs()));
        self.window.push(block);
        self.read(false);
    }

    fn read(&mut self, last: bool) {
        let best = &mut self.best;
        self.window.read(last, *best, |_, p| {
            *best = best.max(p);
            *best
        });
    }

    /// The true peak, dBTP.
    pub fn finish(mut self) -> f64 {
        self.read(true);
        20.0 * math::log10(self.best as f64)
    }
}

/// The limiter's peak envelope made a block at a time:
/// [`super::limiter::peak_envelope`] of the whole, value for value wherever
/// it is above `floor` (the only values the limiter reads).
pub struct EnvelopeStream {
    window: Window,
    floor: f32,
    /// The envelope of frames `window.next - env.len() ..`, not yet handed out
    /// or still open to the next interval's peak.
    env: Vec<f32>,
    env_base: usize,
}

impl EnvelopeStream {
    pub fn new(channels: usize, floor: f32) -> Self {
        EnvelopeStream { window: Window::new(channels), floor, env: Vec::new(), env_base: 0 }
    }

    /// Feeds a block; appends to `out` the envelope of every frame now final.
    pub fn feed(&mut self, block: &[&[f32]], out: &mut Vec<f32>) {
        let frames = block.first().map_or(0, |c| c.len());
        let at = self.env.len();
        self.env.resize(at + frames, 0.0);
        for c in block {
            for (e, x) in self.env[at..].iter_mut().zip(c.iter()) {
                *e = e.max(x.abs());
            }
        }
        self.window.push(block);
        self.read(false, out);
    }

    fn read(&mut self, last: bool, out: &mut Vec<f32>) {
        let (env, base, total) = (&mut self.env, self.env_base, self.window.end());
        let read = self.window.read(last, self.floor, |n, p| {
            let i = n - base;
            env[i] = env[i].max(p);
            // The interval [n, n+1] also borders frame n+1.
            if n + 1 < total {
                env[i + 1] = env[i + 1].max(p);
            }
            self.floor
        });
        // A frame is final once the intervals on both its sides are read.
        let done = if last { total } else { read.end.max(base) };
        out.extend(self.env.drain(..done - base));
        self.env_base = done;
    }

    /// The envelope of the frames still held.
    pub fn finish(mut self, out: &mut Vec<f32>) {
        self.read(true, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::limiter::peak_envelope;
    use crate::dsp::oversample::true_peak_dbtp;

    fn music(seconds: f64) -> Vec<Vec<f32>> {
        let s = lathe_synth::Song { seconds, ..lathe_synth::sample_album_songs()[3].clone() };
        lathe_synth::render(&s, 44100).to_vec()
    }

    fn blocks(x: &[Vec<f32>], len: usize) -> Vec<Vec<&[f32]>> {
        let n = x[0].len();
        (0..n).step_by(len).map(|s| x.iter().map(|c| &c[s..(s + len).min(n)]).collect()).collect()
    }

    #[test]
    fn blocks_of_any_length_read_the_true_peak_of_the_whole() {
        let x = music(3.0);
        let whole = true_peak_dbtp(&x);
        for len in [1, 63, 64, 65, 1000, 4096, 1 << 20] {
            let mut m = TruePeakMeter::new(2);
            for b in blocks(&x, len) {
                m.feed(&b);
            }
            assert_eq!(m.finish().to_bits(), whole.to_bits(), "blocks of {len}");
        }
    }

    #[test]
    fn blocks_of_any_length_make_the_envelope_of_the_whole_above_its_floor() {
        let x = music(3.0);
        let floor = 0.05;
        let views: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
        let whole = peak_envelope(&views, floor);
        for len in [1, 64, 129, 4096, 100_000] {
            let mut s = EnvelopeStream::new(2, floor);
            let mut env = Vec::new();
            for b in blocks(&x, len) {
                s.feed(&b, &mut env);
            }
            s.finish(&mut env);
            assert_eq!(env.len(), whole.len(), "blocks of {len}");
            let differ =
                env.iter().zip(&whole).filter(|&(&a, &b)| (a > floor || b > floor) && a != b).count();
            assert_eq!(differ, 0, "blocks of {len}: {differ} values above the floor differ");
        }
    }
}
