//! The checks' tunable thresholds (`qc.thresholds` in the manifest): typed,
//! with their defaults and the range each may take, in one table.

use std::fmt;

/// A tunable threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Threshold {
    SampleRateMinHz,
    BitDepthMinBits,
    HeadroomMaxPeakDbfs,
    HeadroomMinPeakDbfs,
    ClippingMinRun,
    BusLimitingMinPlrDb,
    BusLimitingMaxPeakDensity,
    DcOffsetMaxDbfs,
    PhaseMinCorrelation,
    SilenceMaxS,
    LoudnessToleranceLu,
    DynamicsMaxLraLossLu,
    DynamicsMaxLimitingDb,
    SpreadMaxLu,
    TonalSpreadMaxDb,
}

use Threshold::*;

/// One threshold: its key, default, the closed range it may take, and
/// whether it counts something (a whole number).
struct Row {
    threshold: Threshold,
    key: &'static str,
    default: f64,
    lo: f64,
    hi: f64,
    whole: bool,
}

const fn row(threshold: Threshold, key: &'static str, default: f64, lo: f64, hi: f64, whole: bool) -> Row {
    Row { threshold, key, default, lo, hi, whole }
}

const COUNT: usize = 15;

const TABLE: [Row; COUNT] = [
    row(SampleRateMinHz, "premaster.sample_rate.min_hz", 44100.0, 8000.0, 384000.0, true),
    row(BitDepthMinBits, "premaster.bit_depth.min_bits", 16.0, 8.0, 32.0, true),
    row(HeadroomMaxPeakDbfs, "premaster.headroom.max_peak_dbfs", -3.0, -60.0, 0.0, false),
    row(HeadroomMinPeakDbfs, "premaster.headroom.min_peak_dbfs", -10.0, -60.0, 0.0, false),
    row(ClippingMinRun, "premaster.clipping.min_run", 3.0, 1.0, 1000.0, true),
    row(BusLimitingMinPlrDb, "premaster.bus_limiting.min_plr_db", 9.0, 0.0, 40.0, false),
    row(BusLimitingMaxPeakDensity, "premaster.bus_limiting.max_peak_density", 0.002, 0.0, 1.0, false),
    row(DcOffsetMaxDbfs, "premaster.dc_offset.max_dbfs", -50.0, -120.0, 0.0, false),
    row(PhaseMinCorrelation, "premaster.phase.min_correlation", 0.0, -1.0, 1.0, false),
    row(SilenceMaxS, "premaster.silence.max_s", 2.0, 0.0, 3600.0, false),
    row(LoudnessToleranceLu, "master.loudness.tolerance_lu", 0.1, 0.05, 10.0, false),
    row(DynamicsMaxLraLossLu, "master.dynamics.max_lra_loss_lu", 2.0, 0.0, 40.0, false),
    row(DynamicsMaxLimitingDb, "master.dynamics.max_limiting_db", 6.0, 0.0, 40.0, false),
    row(SpreadMaxLu, "album.loudness_spread.max_lu", 6.0, 0.0, 40.0, false),
    row(TonalSpreadMaxDb, "album.tonal_spread.max_db", 3.0, 0.0, 30.0, false),
];

impl Threshold {
    pub fn all() -> impl Iterator<Item = Threshold> {
        TABLE.iter().map(|r| r.threshold)
    }

    fn row(self) -> &'static Row {
        let r = &TABLE[self as usize];
        debug_assert_eq!(r.threshold, self, "TABLE is in declaration order");
        r
    }

    /// `premaster.headroom.max_peak_dbfs`.
    pub fn key(self) -> &'static str {
        self.row().key
    }

    pub fn default_value(self) -> f64 {
        self.row().default
    }

    /// The closed range the threshold may take.
    pub fn range(self) -> (f64, f64) {
        (self.row().lo, self.row().hi)
    }

    /// It counts samples or bits: a whole number.
    pub fn whole(self) -> bool {
        self.row().whole
    }

    pub fn from_key(key: &str) -> Option<Threshold> {
        TABLE.iter().find(|r| r.key == key).map(|r| r.threshold)
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Threshold values: the defaults, overridden key by key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds([f64; COUNT]);

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds(TABLE.map(|r| r.default))
    }
}

impl Thresholds {
    pub fn get(&self, t: Threshold) -> f64 {
        self.0[t as usize]
    }

    /// The shortest run of identical full-scale samples that counts as clipping.
    pub fn min_clip_run(&self) -> usize {
        self.get(ClippingMinRun) as usize
    }

    /// Sets one threshold, refusing a value outside its range (NaN included)
    /// or a fraction where it counts samples or bits. The error says why.
    pub fn set(&mut self, t: Threshold, value: f64) -> Result<(), String> {
        let r = t.row();
        if !(value.is_finite() && value >= r.lo && value <= r.hi) {
            return Err(format!("{} must be between {} and {} (got {value})", r.key, r.lo, r.hi));
        }
        if r.whole && value.fract() != 0.0 {
            return Err(format!("{} is a whole number (got {value})", r.key));
        }
        self.0[t as usize] = value;
        Ok(())
    }

    /// The thresholds that must agree with each other: the headroom window
    /// must be a window. Names the threshold at fault.
    pub fn consistent(&self) -> Result<(), (Threshold, String)> {
        let (lo, hi) = (self.get(HeadroomMinPeakDbfs), self.get(HeadroomMaxPeakDbfs));
        if lo > hi {
            return Err((
                HeadroomMinPeakDbfs,
                format!(
                    "{} ({lo}) is above {} ({hi}); the headroom window would be empty",
                    HeadroomMinPeakDbfs.key(),
                    HeadroomMaxPeakDbfs.key()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_order_and_defaults_are_in_range() {
        for (i, t) in Threshold::all().enumerate() {
            assert_eq!(t as usize, i);
            assert_eq!(Threshold::from_key(t.key()), Some(t));
            let (lo, hi) = t.range();
            assert!((lo..=hi).contains(&t.default_value()), "{t}");
        }
        assert!(Thresholds::default().consistent().is_ok());
    }

    #[test]
    fn values_outside_their_range_or_fractional_counts_are_refused() {
        let mut th = Thresholds::default();
        assert!(th.set(LoudnessToleranceLu, f64::NAN).is_err());
        assert!(th.set(ClippingMinRun, -4.0).is_err());
        assert!(th.set(ClippingMinRun, 2.5).is_err());
        assert!(th.set(HeadroomMaxPeakDbfs, 99.0).is_err());
        assert_eq!(th, Thresholds::default(), "a refused value changes nothing");
        th.set(ClippingMinRun, 5.0).unwrap();
        assert_eq!(th.min_clip_run(), 5);
        th.set(HeadroomMinPeakDbfs, -2.0).unwrap();
        assert_eq!(th.consistent().unwrap_err().0, HeadroomMinPeakDbfs);
    }
}
