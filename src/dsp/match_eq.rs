//! The match EQ: a tonal match's correction on a stream, as two
//! linear-phase FIRs (mid and side, `dsp::fir`).

use std::collections::VecDeque;

use crate::dsp::fir::{self, Convolver};
use crate::dsp::tonal::{Correction, mid_side};

/// The match EQ on a stream: mid and side through their linear-phase
/// filters and back to left and right, sample-aligned with the input,
/// which it hands back beside the result so a caller can measure the
/// premaster and the matched signal block for block.
pub struct MatchEq {
    conv: Convolver,
    raw: [VecDeque<f32>; 2],
    matched: [VecDeque<f32>; 2],
    ms: [Vec<f32>; 2],
    out: [Vec<f32>; 2],
}

impl MatchEq {
    pub fn new(c: &Correction, sample_rate: u32) -> Self {
        let mid = fir::linear_phase(|f| Correction::at(&c.mid_db, f), sample_rate);
        let side = fir::linear_phase(|f| Correction::at(&c.side_db, f), sample_rate);
        MatchEq {
            conv: Convolver::new(&[mid, side]),
            raw: [VecDeque::new(), VecDeque::new()],
            matched: [VecDeque::new(), VecDeque::new()],
            ms: [Vec::new(), Vec::new()],
            out: [Vec::new(), Vec::new()],
        }
    }

    /// Feeds a block of left and right.
    pub fn push(&mut self, left: &[f32], right: &[f32]) {
        for (q, x) in self.raw.iter_mut().zip([left, right]) {
            q.extend(x);
        }
        mid_side(left, right, &mut self.ms);
        let [m, s] = &self.ms;
        self.conv.process(&[m.as_slice(), s.as_slice()], &mut self.out);
        self.drain();
    }

    /// After the last block: the rest of the matched signal.
    pub fn finish(&mut self) {
        self.conv.finish(&mut self.out);
        self.drain();
    }

    fn drain(&mut self) {
        let [m, s] = &mut self.out;
        let [l, r] = &mut self.matched;
        l.extend(m.iter().zip(s.iter()).map(|(m, s)| m + s));
        r.extend(m.iter().zip(s.iter()).map(|(m, s)| m - s));
        m.clear();
        s.clear();
    }

    /// Moves the frames ready in both (at most `max`) into `raw` and
    /// `matched`, cleared first; how many.
    pub fn pop(&mut self, max: usize, raw: &mut [Vec<f32>; 2], matched: &mut [Vec<f32>; 2]) -> usize {
        let n = self.matched[0].len().min(max);
        for (src, dst) in
            self.raw.iter_mut().chain(self.matched.iter_mut()).zip(raw.iter_mut().chain(matched.iter_mut()))
        {
            dst.clear();
            dst.extend(src.drain(..n));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::tonal;
    use lathe_oracle::noise;

    /// 1 at point `k` of `n`, 0 elsewhere.
    fn indicator(k: usize, n: usize) -> Vec<f64> {
        (0..n).map(|i| if i == k { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn the_realised_filter_keeps_within_the_bound_where_its_curve_turns_sharply() {
        let fs = 8000;
        let grid = tonal::grid();
        // Bounded at ±6 dB with a step between, the sharpest a correction
        // gets, level-free as designed: as many points of the span above as below.
        let in_span: Vec<usize> = (0..grid.len())
            .filter(|&k| grid[k] < fs as f64 / 2.0 && tonal::span_mean(&indicator(k, grid.len())) != 0.0)
            .collect();
        let mid_point = in_span[in_span.len() / 2];
        let step: Vec<f64> = (0..grid.len()).map(|k| if k < mid_point { 6.0 } else { -6.0 }).collect();
        let taps = fir::linear_phase(|f| Correction::at(&step, f), fs);
        let r: Vec<f64> =
            in_span.iter().map(|&k| lathe_oracle::fir_response_db(&taps, grid[k], fs as f64)).collect();
        let level = r.iter().sum::<f64>() / r.len() as f64;
        let worst = r.iter().map(|v| (v - level).abs()).fold(0.0, f64::max);
        assert!(worst <= 6.01, "the realised filter goes {worst:.3} dB from its level");
    }

    #[test]
    fn the_match_eq_hands_back_the_input_beside_its_output_sample_for_sample() {
        let fs = 8000;
        let flat =
            Correction { mid_db: vec![0.0; tonal::grid().len()], side_db: vec![0.0; tonal::grid().len()] };
        let lifted =
            Correction { mid_db: vec![0.0; tonal::grid().len()], side_db: vec![6.0; tonal::grid().len()] };
        let (l, r) = (noise(5000, 7), noise(5000, 8));
        for (c, side_gain) in [(&flat, 1.0), (&lifted, 10f32.powf(6.0 / 20.0))] {
            let mut eq = MatchEq::new(c, fs);
            let (mut raw, mut matched) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
            let (mut got_raw, mut got) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
            let mut take = |eq: &mut MatchEq| {
                while eq.pop(333, &mut raw, &mut matched) > 0 {
                    for k in 0..2 {
                        got_raw[k].extend_from_slice(&raw[k]);
                        got[k].extend_from_slice(&matched[k]);
                    }
                }
            };
            for (a, b) in l.chunks(1234).zip(r.chunks(1234)) {
                eq.push(a, b);
                take(&mut eq);
            }
            eq.finish();
            take(&mut eq);
            assert_eq!((got_raw[0].as_slice(), got_raw[1].as_slice()), (l.as_slice(), r.as_slice()));
            // A flat curve passes the signal; +6 dB on the side lifts it so.
            for i in 0..l.len() {
                let (m, s) = (0.5 * (l[i] + r[i]), 0.5 * (l[i] - r[i]) * side_gain);
                assert!(
                    (got[0][i] - (m + s)).abs() < 1e-4 && (got[1][i] - (m - s)).abs() < 1e-4,
                    "sample {i}"
                );
            }
        }
    }
}
