//! A time series of readings kept to a bounded length as it is made: when
//! it is full, neighbouring values are merged in pairs and its interval
//! doubles, so a three-hour programme's plot data is the size of a
//! twenty-minute one's. It reads as a slice of its values.

use crate::dsp::math;

/// Most values a series keeps: four times what a report's plot draws.
pub const CAPACITY: usize = 2048;

/// How readings are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    /// The largest value (gain reduction: never hide a peak of limiting).
    Max,
    /// The energy mean of loudness readings in dB (`-inf` readings ignored).
    PowerMean,
}

impl Reduce {
    /// Two values merged as one.
    fn merge(self, a: f32, b: f32) -> f32 {
        match self {
            Reduce::Max => a.max(b),
            Reduce::PowerMean => match (a.is_finite(), b.is_finite()) {
                (true, true) => {
                    let p = (math::powf(10f64, a as f64 / 10.0) + math::powf(10f64, b as f64 / 10.0)) / 2.0;
                    (10.0 * math::log10(p)) as f32
                }
                (true, false) => a,
                _ => b,
            },
        }
    }
}

/// Readings every `hop_s` seconds, at most [`CAPACITY`] of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    values: Vec<f32>,
    reduce: Reduce,
    /// Seconds per reading pushed.
    base_hop_s: f64,
    /// Readings per value (a power of two).
    per: usize,
    /// The value being filled and its readings so far.
    pending: Option<(f32, usize)>,
}

impl Series {
    pub fn new(hop_s: f64, reduce: Reduce) -> Self {
        Series { values: Vec::new(), reduce, base_hop_s: hop_s, per: 1, pending: None }
    }

    /// Interval of the values, seconds.
    pub fn hop_s(&self) -> f64 {
        self.base_hop_s * self.per as f64
    }

    pub fn push(&mut self, v: f32) {
        let (acc, n) = match self.pending.take() {
            Some((acc, n)) => (self.reduce.merge(acc, v), n + 1),
            None => (v, 1),
        };
        if n < self.per {
            self.pending = Some((acc, n));
            return;
        }
        if self.values.len() == CAPACITY {
            let r = self.reduce;
            self.values = self.values.chunks(2).map(|c| r.merge(c[0], c[1])).collect();
            self.per *= 2;
            // The value just completed covers half of a new interval.
            self.pending = Some((acc, n));
            return;
        }
        self.values.push(acc);
    }

    /// The values, with a last partial one.
    pub fn finished(mut self) -> Series {
        if let Some((acc, _)) = self.pending.take() {
            self.values.push(acc);
        }
        self
    }
}

impl Default for Series {
    fn default() -> Self {
        Series::new(0.1, Reduce::Max)
    }
}

impl std::ops::Deref for Series {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.values
    }
}

impl From<Vec<f32>> for Series {
    /// A series of these readings, 0.1 s apart, for tests and reports made by hand.
    fn from(values: Vec<f32>) -> Series {
        let mut s = Series::new(0.1, Reduce::PowerMean);
        values.into_iter().for_each(|v| s.push(v));
        s.finished()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_series_stays_bounded_and_keeps_its_peak_and_span() {
        let mut s = Series::new(0.1, Reduce::Max);
        let n = 108_000; // three hours of 100 ms readings
        for k in 0..n {
            s.push(if k == 77_777 { 9.0 } else { (k % 10) as f32 * 0.1 });
        }
        let s = s.finished();
        assert!(s.len() <= CAPACITY && s.len() > CAPACITY / 2, "{} values", s.len());
        assert_eq!(s.iter().fold(0f32, |m, &v| m.max(v)), 9.0, "the peak survives");
        let span = s.len() as f64 * s.hop_s();
        assert!((span - n as f64 * 0.1).abs() <= s.hop_s(), "{span} s");
        let short: Series = vec![1.0, 2.0, 3.0].into();
        assert_eq!((&short[..], short.hop_s()), (&[1.0, 2.0, 3.0][..], 0.1));
    }

    #[test]
    fn loudness_merges_as_energy() {
        let m = Reduce::PowerMean.merge(-20.0, -20.0);
        assert!((m + 20.0).abs() < 1e-5);
        assert!((Reduce::PowerMean.merge(-10.0, f32::NEG_INFINITY) + 10.0).abs() < 1e-6);
        let m = Reduce::PowerMean.merge(-10.0, -20.0) as f64;
        assert!((m - 10.0 * ((0.1 + 0.01) / 2.0f64).log10()).abs() < 1e-4);
    }
}
