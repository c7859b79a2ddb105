//! Tonal balance: a programme's long-term spectrum in mid and side on a
//! fine log-frequency grid, and the match EQ's correction from one balance
//! toward another (a reference track, or the album's own mean balance);
//! `dsp::match_eq` runs it.
//!
//! A balance is level-free: what is compared is its shape, so each is
//! taken relative to its own mid level (the mean of its mid curve, in dB,
//! over 31.5 Hz to 16 kHz). Side keeps its level against mid, so matching
//! side matches width by frequency too.

use crate::dsp::math;
use crate::dsp::spectrum::{self, SpectrumStream};

/// Grid points per octave, from [`GRID_LO_HZ`] up to 20 kHz.
pub const GRID_PER_OCTAVE: usize = 12;
pub const GRID_LO_HZ: f64 = 20.0;
const GRID_POINTS: usize = 120; // 20 Hz · 2^(119/12) ≈ 19.4 kHz
/// Where a balance's level and a tonal distance are taken: the 1/3-octave
/// bands of 31.5 Hz to 16 kHz.
pub const SPAN_HZ: (f64, f64) = (31.5, 16_000.0);

/// The grid's frequencies, Hz.
pub fn grid() -> Vec<f64> {
    (0..GRID_POINTS).map(|k| GRID_LO_HZ * math::powf(2.0, k as f64 / GRID_PER_OCTAVE as f64)).collect()
}

/// Mid and side levels on [`grid`], dB relative to the mid's mean over
/// [`SPAN_HZ`] (`-inf` where there is nothing, or above Nyquist).
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub mid_db: Vec<f64>,
    pub side_db: Vec<f64>,
}

/// The mean of the finite values of `curve` over the 1/3-octave bands of
/// [`SPAN_HZ`]: the grid points from the lowest band's lower edge up to
/// (not including) the highest band's upper edge, four to a band, so it is
/// also the mean of the curve's band averages, the level a measure in those
/// bands takes out.
pub(crate) fn span_mean(curve: &[f64]) -> f64 {
    let edge = math::powf(2.0, 1.0 / 6.0);
    let (lo, hi) = (SPAN_HZ.0 / edge * 0.995, SPAN_HZ.1 * edge * 0.995);
    let in_span = grid().into_iter().zip(curve).filter(|(f, v)| *f >= lo && *f < hi && v.is_finite());
    let (sum, n) = in_span.fold((0.0, 0usize), |(s, n), (_, v)| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

impl Balance {
    /// From per-bin powers (`bin_hz` apart) of mid and side.
    fn from_powers(bin_hz: f64, mid: &[f64], side: &[f64]) -> Balance {
        Balance::level_free(on_grid(bin_hz, mid), on_grid(bin_hz, side))
    }

    /// Mid and side curves taken relative to the mid's level over [`SPAN_HZ`].
    fn level_free(mid: Vec<f64>, side: Vec<f64>) -> Balance {
        let level = span_mean(&mid);
        Balance {
            mid_db: mid.iter().map(|v| v - level).collect(),
            side_db: side.iter().map(|v| v - level).collect(),
        }
    }

    /// The weighted mean of balances (in dB, point by point): the album's
    /// own balance, each track weighted by its energy (level and length).
    pub fn mean(balances: &[(&Balance, f64)]) -> Balance {
        let curves = |pick: fn(&Balance) -> &Vec<f64>| -> Vec<(&[f64], f64)> {
            balances.iter().map(|(b, w)| (pick(b).as_slice(), *w)).collect()
        };
        Balance::level_free(db_mean(&curves(|b| &b.mid_db)), db_mean(&curves(|b| &b.side_db)))
    }
}

/// The weighted mean of dB curves, point by point, over the curves that
/// have a finite value there (equal weights when they are all zero). In
/// dB, not in power: a power mean would take each band from whichever
/// track is strongest in it, a balance no track has.
fn db_mean(curves: &[(&[f64], f64)]) -> Vec<f64> {
    let total: f64 = curves.iter().map(|c| c.1).sum();
    let weight = |w: f64| if total > 0.0 { w } else { 1.0 };
    (0..curves.first().map_or(0, |c| c.0.len()))
        .map(|k| {
            let (sum, w) = curves
                .iter()
                .filter(|(c, _)| c[k].is_finite())
                .fold((0.0, 0.0), |(s, n), (c, w)| (s + weight(*w) * c[k], n + weight(*w)));
            if w > 0.0 { sum / w } else { f64::NEG_INFINITY }
        })
        .collect()
}

/// The weighted mean (in dB) of long-term spectra: the album's own.
pub fn mean_spectrum(spectra: &[(&spectrum::Spectrum, f64)]) -> spectrum::Spectrum {
    let curves: Vec<(&[f64], f64)> = spectra.iter().map(|(s, w)| (s.levels_db.as_slice(), *w)).collect();
    spectrum::Spectrum {
        centres_hz: spectra.first().map_or_else(spectrum::band_centres, |s| s.0.centres_hz.clone()),
        levels_db: db_mean(&curves),
    }
}

/// Per-bin power averaged onto the grid: the bins within 1/24 octave of
/// each point, or where none is that close, the power interpolated at it.
fn on_grid(bin_hz: f64, power: &[f64]) -> Vec<f64> {
    let half = math::powf(2.0, 1.0 / (2.0 * GRID_PER_OCTAVE as f64));
    grid()
        .into_iter()
        .map(|f| {
            let (lo, hi) = ((f / half / bin_hz).ceil() as usize, (f * half / bin_hz).floor() as usize);
            if hi >= power.len() {
                return f64::NEG_INFINITY;
            }
            let p = if lo <= hi {
                power[lo..=hi].iter().sum::<f64>() / (hi - lo + 1) as f64
            } else {
                let x = f / bin_hz;
                let k = x.floor() as usize;
                let t = x - k as f64;
                power[k] * (1.0 - t) + power[k + 1] * t
            };
            10.0 * math::log10(p)
        })
        .collect()
}

/// Left and right into mid and side (`(l + r) / 2`, `(l − r) / 2`), in
/// `into`'s two buffers, cleared first.
pub(crate) fn mid_side(left: &[f32], right: &[f32], into: &mut [Vec<f32>; 2]) {
    let [m, s] = into;
    m.clear();
    s.clear();
    m.extend(left.iter().zip(right).map(|(l, r)| 0.5 * (l + r)));
    s.extend(left.iter().zip(right).map(|(l, r)| 0.5 * (l - r)));
}

/// A programme's balance, fed a block of left and right at a time.
pub struct BalanceStream {
    mid: SpectrumStream,
    side: SpectrumStream,
    block: [Vec<f32>; 2],
}

impl BalanceStream {
    pub fn new(sample_rate: u32) -> Self {
        BalanceStream {
            mid: SpectrumStream::new(1, sample_rate),
            side: SpectrumStream::new(1, sample_rate),
            block: [Vec::new(), Vec::new()],
        }
    }

    pub fn feed(&mut self, left: &[f32], right: &[f32]) {
        mid_side(left, right, &mut self.block);
        let [m, s] = &self.block;
        self.mid.feed(&[m.as_slice()]);
        self.side.feed(&[s.as_slice()]);
    }

    pub fn finish(self) -> Balance {
        self.finish_with_spectrum().0
    }

    /// The balance, and the programme's long-term spectrum in 1/3-octave
    /// bands (left and right's, from mid's and side's powers).
    pub fn finish_with_spectrum(self) -> (Balance, spectrum::Spectrum) {
        let (bin_hz, mid) = self.mid.finish_powers();
        let (_, side) = self.side.finish_powers();
        let stereo: Vec<f64> = mid.iter().zip(&side).map(|(m, s)| m + s).collect();
        (Balance::from_powers(bin_hz, &mid, &side), spectrum::in_bands(bin_hz, &stereo))
    }
}

/// How a track is pulled toward its reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchSettings {
    /// 0 (nothing) to 1 (the whole smoothed difference).
    pub amount: f64,
    /// No point of the correction goes further than this, dB.
    pub max_db: f64,
    /// The width of the smoothing, octaves.
    pub smoothing_oct: f64,
}

/// The match EQ's curves for mid and side on [`grid`], dB.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub mid_db: Vec<f64>,
    pub side_db: Vec<f64>,
}

/// How far below its mid a side must sit to be left alone: a mono or
/// nearly mono premaster has no side worth matching.
const SIDE_FLOOR_DB: f64 = -40.0;

impl Correction {
    /// From `track` toward `reference`: the difference, smoothed twice over
    /// `smoothing_oct` (a triangle), its level taken out (level is the
    /// loudness solver's job) and bounded by `max_db` so that the bounded
    /// curve's mean over [`SPAN_HZ`] is 0 (no band then moves further than
    /// `max_db` against the track's own level), then scaled by `amount` (so
    /// `amount` is that share of the whole match).
    /// Matched over [`SPAN_HZ`], held flat beyond it. Where either side is
    /// under [`SIDE_FLOOR_DB`] the side is left as it is.
    pub fn design(track: &Balance, reference: &Balance, s: &MatchSettings) -> Correction {
        // Matched over SPAN_HZ only, the difference held flat beyond it: below
        // 31.5 Hz and above 16 kHz a reference's level says more about its
        // high-pass or its codec's low-pass than about its balance.
        let diff = |a: &[f64], b: &[f64]| -> Vec<f64> {
            let d: Vec<f64> = a
                .iter()
                .zip(b)
                .map(|(t, r)| if t.is_finite() && r.is_finite() { r - t } else { 0.0 })
                .collect();
            let g = grid();
            let first = g.iter().position(|&f| f >= SPAN_HZ.0).unwrap_or(0);
            let last = g.iter().rposition(|&f| f <= SPAN_HZ.1).unwrap_or(d.len() - 1);
            (0..d.len()).map(|k| d[k.clamp(first, last)]).collect()
        };
        let width = (s.smoothing_oct * GRID_PER_OCTAVE as f64).round().max(1.0) as usize;
        let mid = smooth(&smooth(&diff(&track.mid_db, &reference.mid_db), width), width);
        let offset = level_under_bound(&mid, s.max_db);
        let side_wanted = |k: usize| {
            track.side_db[k] - track.mid_db[k] > SIDE_FLOOR_DB
                && reference.side_db[k] - reference.mid_db[k] > SIDE_FLOOR_DB
        };
        let side_diff: Vec<f64> = diff(&track.side_db, &reference.side_db)
            .into_iter()
            .enumerate()
            .map(|(k, d)| if side_wanted(k) { d } else { offset })
            .collect();
        let side = smooth(&smooth(&side_diff, width), width);
        let shape = |c: Vec<f64>| -> Vec<f64> {
            c.into_iter().map(|d| (d - offset).clamp(-s.max_db, s.max_db) * s.amount).collect()
        };
        Correction { mid_db: shape(mid), side_db: shape(side) }
    }

    /// `curve`'s gain at `f` Hz: linear in log frequency between grid
    /// points, held beyond them.
    pub fn at(curve: &[f64], f: f64) -> f64 {
        let x = if f > 0.0 {
            math::log10(f / GRID_LO_HZ) / std::f64::consts::LOG10_2 * GRID_PER_OCTAVE as f64
        } else {
            0.0
        };
        if x <= 0.0 {
            return curve[0];
        }
        let k = x.floor() as usize;
        if k + 1 >= curve.len() {
            return curve[curve.len() - 1];
        }
        let t = x - k as f64;
        curve[k] * (1.0 - t) + curve[k + 1] * t
    }
}

/// The level `c` for which `curve − c`, clamped to ±`bound`, has a mean of
/// 0 over [`SPAN_HZ`]: taking out the unclamped mean instead would leave
/// the clamped curve off centre, and a band that far from its level once
/// the loudness is matched. The clamped mean falls as `c` rises; bisected.
fn level_under_bound(curve: &[f64], bound: f64) -> f64 {
    let mean_at = |c: f64| -> f64 {
        let clamped: Vec<f64> = curve.iter().map(|v| (v - c).clamp(-bound, bound)).collect();
        span_mean(&clamped)
    };
    let finite = curve.iter().filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 0.0;
    }
    (lo, hi) = (lo - bound, hi + bound);
    for _ in 0..64 {
        let c = 0.5 * (lo + hi);
        if mean_at(c) > 0.0 {
            lo = c;
        } else {
            hi = c;
        }
    }
    0.5 * (lo + hi)
}

/// A centred moving average over `width` points, shortened at the ends.
fn smooth(curve: &[f64], width: usize) -> Vec<f64> {
    let h = width / 2;
    (0..curve.len())
        .map(|k| {
            let window = &curve[k.saturating_sub(h)..(k + h + 1).min(curve.len())];
            window.iter().sum::<f64>() / window.len() as f64
        })
        .collect()
}

/// Whether a 1/3-octave band centred at `f` Hz (nominal or exact) is one
/// of [`SPAN_HZ`]'s, the bands a tonal distance is taken over.
pub fn in_span(f: f64) -> bool {
    f >= SPAN_HZ.0 * 0.99 && f <= SPAN_HZ.1 * 1.01
}

/// The tonal distance between two long-term spectra: the RMS, in dB, of
/// their difference over the 1/3-octave bands of [`SPAN_HZ`], with its mean
/// (the level) taken out.
pub fn distance_db(a: &spectrum::Spectrum, b: &spectrum::Spectrum) -> f64 {
    let d: Vec<f64> = a
        .centres_hz
        .iter()
        .zip(a.levels_db.iter().zip(&b.levels_db))
        .filter(|(f, (x, y))| in_span(**f) && x.is_finite() && y.is_finite())
        .map(|(_, (x, y))| x - y)
        .collect();
    if d.is_empty() {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    math::powf(d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / d.len() as f64, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::noise;

    fn balance(l: &[f32], r: &[f32], fs: u32) -> Balance {
        let mut b = BalanceStream::new(fs);
        for (l, r) in l.chunks(4096).zip(r.chunks(4096)) {
            b.feed(l, r);
        }
        b.finish()
    }

    const FULL: MatchSettings = MatchSettings { amount: 1.0, max_db: 12.0, smoothing_oct: 1.0 / 3.0 };

    #[test]
    fn the_correction_is_the_difference_of_the_balances() {
        let fs = 44_100;
        let (l, r) = (noise(fs as usize * 20, 1), noise(fs as usize * 20, 2));
        // The reference: the same noise through y[n] = x[n] + 0.5 x[n−1],
        // whose gain is |1 + 0.5 e^(−jω)| (+3.5 dB at DC, −6 dB at Nyquist).
        let tilt = |x: &[f32]| -> Vec<f32> {
            (0..x.len()).map(|i| x[i] + if i > 0 { 0.5 * x[i - 1] } else { 0.0 }).collect()
        };
        let (track, reference) = (balance(&l, &r, fs), balance(&tilt(&l), &tilt(&r), fs));
        let c = Correction::design(&track, &reference, &FULL);
        let want = |f: f64| {
            let w = 2.0 * std::f64::consts::PI * f / fs as f64;
            10.0 * ((1.0 + 0.5 * w.cos()).powi(2) + (0.5 * w.sin()).powi(2)).log10()
        };
        let g = grid();
        let offset = span_mean(&g.iter().map(|&f| want(f)).collect::<Vec<_>>());
        for (k, &f) in g.iter().enumerate().filter(|(_, f)| **f >= 100.0 && **f <= 12_000.0) {
            let w = want(f) - offset;
            assert!((c.mid_db[k] - w).abs() < 0.5, "mid at {f:.0} Hz: {:.2} dB, want {w:.2}", c.mid_db[k]);
            assert!((c.side_db[k] - w).abs() < 0.5, "side at {f:.0} Hz: {:.2} dB, want {w:.2}", c.side_db[k]);
        }
        // Toward itself: nothing.
        let none = Correction::design(&track, &track, &FULL);
        assert!(none.mid_db.iter().chain(&none.side_db).all(|d| d.abs() < 1e-9));
    }

    #[test]
    fn amount_scales_max_db_bounds_and_a_mono_side_is_left_alone() {
        let fs = 44_100;
        let l = noise(fs as usize * 10, 3);
        let bright: Vec<f32> =
            (0..l.len()).map(|i| l[i] - if i > 0 { 0.9 * l[i - 1] } else { 0.0 }).collect();
        // Dual mono: no side at all.
        let (track, reference) = (balance(&l, &l, fs), balance(&bright, &bright, fs));
        let full = Correction::design(&track, &reference, &FULL);
        let half = Correction::design(&track, &reference, &MatchSettings { amount: 0.5, ..FULL });
        // The shape halves (each keeps its own level): between any two
        // points that neither bound reached, half the step.
        let free: Vec<usize> = (0..GRID_POINTS)
            .filter(|&k| {
                full.mid_db[k].abs() < FULL.max_db - 1e-6 && half.mid_db[k].abs() < FULL.max_db - 1e-6
            })
            .collect();
        assert!(free.len() > GRID_POINTS / 2, "{} free points", free.len());
        for &k in &free {
            let (a, b) = (full.mid_db[k] - full.mid_db[free[0]], half.mid_db[k] - half.mid_db[free[0]]);
            assert!((a / 2.0 - b).abs() < 1e-9, "point {k}: {a} / 2 vs {b}");
        }
        let bounded = Correction::design(&track, &reference, &MatchSettings { max_db: 3.0, ..FULL });
        assert!(bounded.mid_db.iter().all(|d| d.abs() <= 3.0));
        assert!(bounded.mid_db.iter().any(|d| d.abs() == 3.0), "the bound is reached: the tilt is steeper");
        // Bounded about its own level: once the loudness solver has taken the
        // mean out, no point is further than max_db from where it was.
        let level = span_mean(&bounded.mid_db);
        assert!(level.abs() < 1e-9, "the bounded curve's level is {level} dB");
        assert!(full.side_db.iter().all(|d| d.abs() < 1e-9), "a mono side is not matched");
    }

    #[test]
    fn the_balance_streams_spectrum_is_left_and_rights() {
        let fs = 44_100;
        let l = noise(fs as usize * 4, 11);
        let r: Vec<f32> = l.iter().zip(noise(l.len(), 12)).map(|(a, b)| 0.7 * a + 0.3 * b).collect();
        let mut b = BalanceStream::new(fs);
        for (l, r) in l.chunks(3000).zip(r.chunks(3000)) {
            b.feed(l, r);
        }
        let (_, got) = b.finish_with_spectrum();
        let want = spectrum::of_channels(&[l, r], fs);
        for (k, (g, w)) in got.levels_db.iter().zip(&want.levels_db).enumerate() {
            assert!((g - w).abs() < 0.01 || (g.is_infinite() && w.is_infinite()), "band {k}: {g} vs {w}");
        }
    }

    #[test]
    fn distance_takes_the_level_out() {
        let centres = spectrum::band_centres();
        let flat = spectrum::Spectrum { centres_hz: centres.clone(), levels_db: vec![-20.0; centres.len()] };
        let louder =
            spectrum::Spectrum { centres_hz: centres.clone(), levels_db: vec![-14.0; centres.len()] };
        assert_eq!(distance_db(&flat, &louder), 0.0);
        // ±1 dB alternating over the bands of the span: 1 dB RMS.
        let ripple = spectrum::Spectrum {
            centres_hz: centres.clone(),
            levels_db: (0..centres.len()).map(|k| if k % 2 == 0 { -19.0 } else { -21.0 }).collect(),
        };
        let d = distance_db(&flat, &ripple);
        assert!((d - 1.0).abs() < 0.02, "{d}");
    }
}
