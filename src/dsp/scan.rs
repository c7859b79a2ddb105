//! Sample-level facts about a signal, gathered in one pass: flat-topped
//! clipping, DC offset, left-right correlation, silence at the ends and how
//! many samples sit at the peak. The one clip detector lathe has: the
//! premaster scan and the stem mix-down both count with [`ClipDetector`].

use crate::dsp::math;

/// A sample is "full scale" at or above this level (−0.01 dBFS).
pub const FULL_SCALE: f32 = 0.998_85;
/// Silence is below −60 dBFS.
const SILENCE: f32 = 0.001;
/// Runs kept with their position (the rest are only counted).
const KEPT_RUNS: usize = 100;

/// Counts runs of consecutive identical full-scale samples (flat tops) of at
/// least `min_run` samples, one channel at a time, fed block by block.
/// Floating-point audio above full scale is loud, not clipped, unless it is flat.
#[derive(Debug, Clone)]
pub struct ClipDetector {
    min_run: usize,
    /// Per channel: (start frame, length, value) of the run under way.
    open: Vec<Option<(usize, usize, f32)>>,
    /// Frames fed so far.
    pos: usize,
    count: usize,
    runs: Vec<(usize, usize)>,
}

impl ClipDetector {
    pub fn new(channels: usize, min_run: usize) -> Self {
        ClipDetector {
            min_run: min_run.max(1),
            open: vec![None; channels],
            pos: 0,
            count: 0,
            runs: Vec::new(),
        }
    }

    fn close(&mut self, run: (usize, usize, f32)) {
        if run.1 >= self.min_run {
            self.count += 1;
            if self.runs.len() < KEPT_RUNS {
                self.runs.push((run.0, run.1));
            }
        }
    }

    /// Feeds the next block of every channel (blocks of equal length).
    pub fn feed<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        let len = channels.first().map_or(0, |c| c.as_ref().len());
        for (c, ch) in channels.iter().enumerate().take(self.open.len()) {
            // Most blocks hold no full-scale sample: one bound, no runs.
            if self.open[c].is_none() && max_abs(ch.as_ref()) < FULL_SCALE {
                continue;
            }
            for (i, &x) in ch.as_ref().iter().enumerate() {
                let full = x.abs() >= FULL_SCALE;
                match self.open[c] {
                    Some((start, n, v)) if full && x == v => self.open[c] = Some((start, n + 1, v)),
                    open => {
                        if let Some(run) = open {
                            self.close(run);
                        }
                        self.open[c] = full.then_some((self.pos + i, 1, x));
                    }
                }
            }
        }
        self.pos += len;
    }

    /// Closes the runs still open: the number of runs, and where the first
    /// [`KEPT_RUNS`] of them are (start frame, length), in time order.
    pub fn finish(mut self) -> (usize, Vec<(usize, usize)>) {
        for c in 0..self.open.len() {
            if let Some(run) = self.open[c].take() {
                self.close(run);
            }
        }
        self.runs.sort();
        (self.count, self.runs)
    }
}

/// The largest magnitude of `x` (0 for none), in a form that vectorizes.
fn max_abs(x: &[f32]) -> f32 {
    let mut m = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            // A comparison, not `f32::max`, so it vectorizes (samples are finite).
            if c[k].abs() > m[k] {
                m[k] = c[k].abs();
            }
        }
    }
    rest.iter().fold(m.iter().fold(0f32, |a, &b| a.max(b)), |a, v| a.max(v.abs()))
}

/// Sample-level facts about a premaster.
#[derive(Debug, Clone, Default)]
pub struct SampleScan {
    /// Flat-topped runs: (start frame, length), the first [`KEPT_RUNS`].
    pub clip_runs: Vec<(usize, usize)>,
    pub clip_run_count: usize,
    /// DC offset of the worse channel (linear).
    pub dc: f64,
    /// Pearson correlation of left and right (1 for mono).
    pub correlation: f64,
    /// Mono fold-down loss: mono sum energy relative to the stereo energy, dB.
    pub mono_loss_db: f64,
    /// Leading and trailing silence (below -60 dBFS), frames.
    pub leading_silence_frames: usize,
    pub trailing_silence_frames: usize,
    /// Share of samples within 0.1 dB of the sample peak (a limiter leaves many).
    pub peak_density: f64,
    pub frames: usize,
}

/// Scans planar samples for clipping, DC, phase, silence and peak density.
pub fn scan(channels: &[Vec<f32>], min_clip_run: usize) -> SampleScan {
    let mut s = Scanner::new(channels.len(), min_clip_run);
    s.feed(channels);
    s.finish()
}

/// Magnitudes near the peak, counted in bins of their `f32` bits: 2^13 bins
/// an octave, about 0.0007 dB each.
const NEAR_SHIFT: u32 = 10;
/// Bins kept under the peak's: 0.1 dB is about 140 of them.
const NEAR_BINS: u32 = 256;

/// [`scan`] fed a block at a time, with constant memory.
pub struct Scanner {
    clips: ClipDetector,
    frames: usize,
    /// Per channel: sum of samples.
    sums: Vec<f64>,
    /// First and last frame above silence.
    loud: Option<(usize, usize)>,
    /// Sums of l², r², l·r and ((l+r)/2)², for two channels.
    products: [f64; 4],
    peak: f32,
    /// Samples per magnitude bin, for the `NEAR_BINS` bins up to the peak's.
    near: Vec<u64>,
}

impl Scanner {
    pub fn new(channels: usize, min_clip_run: usize) -> Self {
        Scanner {
            clips: ClipDetector::new(channels, min_clip_run),
            frames: 0,
            sums: vec![0.0; channels],
            loud: None,
            products: [0.0; 4],
            peak: 0.0,
            near: vec![0; NEAR_BINS as usize],
        }
    }

    fn top_bin(&self) -> u32 {
        self.peak.to_bits() >> NEAR_SHIFT
    }

    /// Raises the peak to `a` (if higher), moving the bins down under it.
    fn raise_peak(&mut self, a: f32) {
        if a > self.peak {
            let shift = ((a.to_bits() >> NEAR_SHIFT) - self.top_bin()).min(NEAR_BINS) as usize;
            self.near.drain(..shift);
            self.near.resize(NEAR_BINS as usize, 0);
            self.peak = a;
        }
    }

    fn count_near(&mut self, x: f32) {
        let a = x.abs();
        self.raise_peak(a);
        let below = self.top_bin() - (a.to_bits() >> NEAR_SHIFT);
        if below < NEAR_BINS {
            self.near[(NEAR_BINS - 1 - below) as usize] += 1;
        }
    }

    /// Feeds the next block of every channel (blocks of equal length).
    pub fn feed<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        let len = channels.first().map_or(0, |c| c.as_ref().len());
        self.clips.feed(channels);
        for (sum, ch) in self.sums.iter_mut().zip(channels) {
            *sum += ch.as_ref().iter().map(|&x| x as f64).sum::<f64>();
        }
        // The peak is raised to the block's first: the counts are of the
        // final peak's bins whatever the order, and samples under the lowest
        // bin are passed by on one comparison.
        let block_peak = channels.iter().fold(0f32, |m, c| m.max(max_abs(c.as_ref())));
        self.raise_peak(block_peak);
        let lowest = f32::from_bits((self.top_bin().saturating_sub(NEAR_BINS - 1)) << NEAR_SHIFT);
        for ch in channels {
            for &x in ch.as_ref() {
                if x.abs() >= lowest {
                    self.count_near(x);
                }
            }
        }
        let loud = |i: usize| channels.iter().any(|c| c.as_ref()[i].abs() > SILENCE);
        if let Some(first) = (0..len).find(|&i| loud(i)) {
            let last = (first..len).rev().find(|&i| loud(i)).expect("first is loud");
            let (first, last) = (self.frames + first, self.frames + last);
            self.loud = Some(self.loud.map_or((first, last), |(f, _)| (f, last)));
        }
        if let [l, r] = channels {
            let p = &mut self.products;
            for (&a, &b) in l.as_ref().iter().zip(r.as_ref()) {
                let (a, b) = (a as f64, b as f64);
                p[0] += a * a;
                p[1] += b * b;
                p[2] += a * b;
                p[3] += (a + b) * (a + b) * 0.25;
            }
        }
        self.frames += len;
    }

    pub fn finish(self) -> SampleScan {
        let frames = self.frames;
        let mut s = SampleScan { frames, correlation: 1.0, ..Default::default() };
        if frames == 0 {
            return s;
        }
        let two = self.sums.len() == 2;
        (s.clip_run_count, s.clip_runs) = self.clips.finish();
        // Within 0.1 dB of the peak.
        let near_peak = (self.peak * 0.988_55).to_bits() >> NEAR_SHIFT;
        let top = self.peak.to_bits() >> NEAR_SHIFT;
        let near: u64 = (0..NEAR_BINS)
            .filter(|&k| self.peak > 0.0 && top >= k && top - k >= near_peak)
            .map(|k| self.near[(NEAR_BINS - 1 - k) as usize])
            .sum();
        s.peak_density = near as f64 / (frames * self.sums.len()) as f64;
        s.dc = self.sums.iter().fold(0f64, |m, &sum| m.max((sum / frames as f64).abs()));
        (s.leading_silence_frames, s.trailing_silence_frames) =
            self.loud.map_or((frames, frames), |(f, l)| (f, frames - 1 - l));
        if two {
            (s.correlation, s.mono_loss_db) = correlation(self.products);
        }
        s
    }
}

/// Pearson correlation of two channels (1 when either is silent), and the
/// mono fold-down's energy relative to the stereo energy, dB, from their
/// sums of l², r², l·r and ((l+r)/2)².
fn correlation([sl, sr, slr, sm]: [f64; 4]) -> (f64, f64) {
    let corr = if sl > 0.0 && sr > 0.0 { slr / (sl * sr).sqrt() } else { 1.0 };
    let stereo = (sl + sr) * 0.5;
    (corr, if stereo > 0.0 && sm > 0.0 { 10.0 * math::log10(sm / stereo) } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_counted_across_blocks_and_at_the_end() {
        let mut x = vec![0.1f32; 64];
        x[10..14].fill(1.0); // a run of 4
        x[30] = 1.0; // alone
        x[31] = 1.0;
        x[60..].fill(-1.0); // a run of 4 at the end
        let whole = scan(&[x.clone()], 3);
        assert_eq!((whole.clip_run_count, whole.clip_runs.clone()), (2, vec![(10, 4), (60, 4)]));
        let mut blocks = ClipDetector::new(1, 3);
        for b in x.chunks(7) {
            blocks.feed(&[b]);
        }
        assert_eq!(blocks.finish(), (2, vec![(10, 4), (60, 4)]), "block boundaries change nothing");
        // Full scale that is not flat is not a run.
        let ramp: Vec<f32> = (0..8).map(|i| 1.0 + i as f32 * 0.01).collect();
        assert_eq!(scan(&[ramp], 3).clip_run_count, 0);
    }
}
