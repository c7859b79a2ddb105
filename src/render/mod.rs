//! Rendering one track: the chain, then gain and limiting solved so that the
//! samples that are written, for every deliverable, land on the loudness
//! target and under the true-peak ceiling.
//!
//! The track streams: the premaster is read a block at a time through the
//! chain's pre-gain stages into a spill file (and resampled into one per
//! output rate), and every pass reads those back a block at a time. Memory
//! holds blocks, the limiter's lookahead and the resampler's chunk, whatever
//! the track's length or rate; spill files live in the scratch folder the
//! caller gives (the run's staging folder).

mod branch;
mod budget;
mod lane;
mod predict;
mod prepare;

use std::path::{Path, PathBuf};

use crate::audio::encode::Deliverable;
use crate::dsp::chain::Chain;
use crate::dsp::compressor::CompressorStats;
use crate::dsp::limiter::{Budget, LimiterSettings, LimiterStats};
use crate::dsp::spectrum::Spectrum;
use crate::error::{Error, Result};
use branch::{Branch, curve_work, measure_pass, render_pass};
use budget::sustained_cap;
pub use lane::Written;
use predict::Basis;
pub use prepare::{Prepare, Prepared};

/// How close to the target a render must land before it is accepted (LU).
/// Half the ±0.1 LU promise, leaving room for another meter's rounding.
pub const LOUDNESS_TOLERANCE_LU: f64 = 0.05;
/// Extra distance under the ceiling for the first pass (dB). The limiter
/// already keeps its own detector headroom; this grows only when a written
/// file measures over the ceiling.
pub const CEILING_MARGIN_DB: f64 = 0.0;
/// Frames per block of a pass.
const BLOCK: usize = 1 << 16;
/// Most render passes per track.
pub const MAX_PASSES: usize = 8;
/// Most predictions (gain curves, nothing rendered) before each pass.
const MAX_PREDICTIONS: usize = 3;

/// What decided a track's gain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The loudness target: the master is on it.
    Target,
    /// The sustained limiting budget: more gain would squash the music.
    SustainedBudget,
    /// The peak limiting budget: more gain would crunch the loudest transient.
    PeakBudget,
    /// The maximum gain (`target.max_gain_db`).
    MaxGain,
}

impl Bound {
    /// What held the gain, in words: "the sustained limiting budget".
    pub fn describe(self) -> &'static str {
        match self {
            Bound::Target => "the loudness target",
            Bound::SustainedBudget => "the sustained limiting budget",
            Bound::PeakBudget => "the peak limiting budget",
            Bound::MaxGain => "the maximum gain",
        }
    }
}

/// What the target would have asked of the limiter, for a track that
/// stopped short of it (an estimate: one more gain curve, not a render).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Needed {
    pub gain_db: f64,
    pub sustained_db: f64,
    pub peak_db: f64,
}

/// A track's final render, written.
pub struct Rendered {
    pub gain_db: f64,
    pub passes: usize,
    pub limiter: LimiterStats,
    /// What stopped the gain: the target, or a bound before it.
    pub bound: Bound,
    /// For a track short of its target: what reaching it would need.
    pub needed: Option<Needed>,
    /// What the chain's compressor did, when it has one.
    pub compressor: Option<CompressorStats>,
    /// Per deliverable, in order, one per track of the programme, as written.
    pub outputs: Vec<Vec<Written>>,
    /// Of the first deliverable, one per track, as written.
    pub spectra: Vec<Spectrum>,
}

/// A lossy deliverable, encoded at a gain already solved.
pub struct Encoded {
    /// The decoded files (one per track of the programme), as measured.
    pub output: Vec<Written>,
    /// Encodes until the decoded file held the ceiling.
    pub passes: usize,
    /// How far under the ceiling its limiter ran (dB): what the codec's overs took.
    pub ceiling_lowered_db: f64,
    /// The decoded true peak of every encode that went over (dBTP).
    pub overs_dbtp: Vec<f64>,
}

/// Renders a lossy deliverable (the only one of `spec`) at `gain_db`, the
/// gain the lossless masters were solved to, so it is as loud as they are.
/// A codec adds inter-sample overs; the decoded file is measured, and while
/// it is over the ceiling its limiter's ceiling is lowered by the overshoot
/// and it is encoded again (the limiter takes the peaks, the loudness stays).
pub fn encode(prepared: &Prepared, spec: &RenderSpec, gain_db: f64, files: &RenderFiles) -> Result<Encoded> {
    assert_eq!(spec.deliverables.len(), 1, "one lossy deliverable at a time");
    let mut branches = Branch::for_spec(prepared, spec, files.scratch)?;
    let (mut margin, mut overs_dbtp) = (CEILING_MARGIN_DB, Vec::new());
    for pass in 1..=MAX_PASSES {
        let p = render_pass(&mut branches, spec, gain_db, margin, files.outputs)?;
        let (_, mut outputs, _) = measure_pass(p)?;
        let tp = outputs[0].iter().map(|o| o.measurement.true_peak_dbtp).fold(f64::NEG_INFINITY, f64::max);
        if tp <= spec.ceiling_dbtp || pass == MAX_PASSES {
            let output = outputs.remove(0);
            return Ok(Encoded { output, passes: pass, ceiling_lowered_db: margin, overs_dbtp });
        }
        overs_dbtp.push(tp);
        margin += tp - spec.ceiling_dbtp + 0.05;
    }
    unreachable!("the last pass returns")
}

/// What to render.
pub struct RenderSpec<'a> {
    pub chain: &'a Chain,
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    /// The most gain the track may get (dB).
    pub max_gain_db: f64,
    pub deliverables: &'a [Deliverable],
    /// Seeds the dither, so a track renders the same on any thread.
    pub seed: u64,
}

impl RenderSpec<'_> {
    fn limiter(&self, margin_db: f64) -> LimiterSettings {
        self.chain.limiter.settings(self.ceiling_dbtp - margin_db)
    }

    fn budget(&self) -> Budget {
        self.chain.limiter.budget
    }
}

/// Where a render reads and writes: a folder of its own for scratch files,
/// and each deliverable's files, one per track of the programme (which must
/// not exist, or be the render's own).
pub struct RenderFiles<'a> {
    pub scratch: &'a Path,
    pub outputs: &'a [Vec<PathBuf>],
}

/// Renders a prepared premaster to every deliverable (which must be those
/// it was prepared for): the gain solved into the limiter, then each
/// deliverable written.
///
/// The gain is the one that puts every output within
/// [`LOUDNESS_TOLERANCE_LU`] of the target, unless one of three bounds comes
/// first: the sustained limiting budget, the peak limiting budget, or the
/// maximum gain. A bounded track lands at the loudest level its bound allows
/// (`Rendered::bound` says which, `Rendered::needed` what the target would
/// have taken). Every output is at or under the ceiling.
///
/// Each pass writes every deliverable's file and measures its integrated
/// loudness; the accepted pass's files are read back and fully measured
/// (true peak included). The sustained budget is solved on gain curves alone.
pub fn render(prepared: &Prepared, spec: &RenderSpec, files: &RenderFiles) -> Result<Rendered> {
    let pre_lufs = prepared.energies.integrated();
    if !pre_lufs.is_finite() {
        return Err(Error::Render("the track is silent after the chain; there is nothing to master".into()));
    }
    let mut solver = Solver {
        basis: Basis::premaster(prepared.energies.clone(), spec.deliverables.len()),
        branches: Branch::for_spec(prepared, spec, files.scratch)?,
        spec,
        outputs: files.outputs,
        margin_db: CEILING_MARGIN_DB,
        sustained: None,
        history: Vec::new(),
        best: None,
    };
    let compressor = prepared.compressor;
    let mut gain_db = spec.target_lufs - pre_lufs;
    for pass in 1..=MAX_PASSES {
        match solver.pass(gain_db, pass)? {
            Step::Done(rendered) => return Ok(Rendered { compressor, ..*rendered }),
            Step::Next(g) => gain_db = g,
        }
    }
    Ok(Rendered { compressor, ..solver.closest(gain_db)? })
}

/// What a pass decided: the render is done, or the next gain to try.
enum Step {
    Done(Box<Rendered>),
    Next(f64),
}

/// The solver's state across passes.
struct Solver<'a> {
    branches: Vec<Branch<'a>>,
    /// What the next prediction starts from: the premaster, then the last pass.
    basis: Basis,
    spec: &'a RenderSpec<'a>,
    outputs: &'a [Vec<PathBuf>],
    /// Distance kept under the ceiling; grows when a written file measures over it.
    margin_db: f64,
    /// The sustained budget's cap, once a pass went over it.
    sustained: Option<f64>,
    /// (gain, loudness) of every rendered pass.
    history: Vec<(f64, f64)>,
    /// (score, gain, margin) of the closest pass so far.
    best: Option<(f64, f64, f64)>,
}

impl Solver<'_> {
    /// The gain caps other than the sustained budget at a gain: the maximum
    /// gain and (in closed form, from each branch's envelope) the peak budget.
    fn caps(&mut self, gain_db: f64) -> Result<(f64, Bound)> {
        let (spec, lim) = (self.spec, self.spec.limiter(self.margin_db));
        let mut peak = f64::INFINITY;
        for b in self.branches.iter_mut() {
            peak = peak.min(b.peak_cap_db(&lim, gain_db, spec.budget().peak_db)?);
        }
        Ok(if peak < spec.max_gain_db {
            (peak, Bound::PeakBudget)
        } else {
            (spec.max_gain_db, Bound::MaxGain)
        })
    }

    fn pass(&mut self, gain_db: f64, pass: usize) -> Result<Step> {
        let spec = self.spec;
        let (cap, cap_bound) = self.caps(gain_db.min(spec.max_gain_db))?;
        let (cap, cap_bound) = match self.sustained {
            Some(s) if s < cap => (s, Bound::SustainedBudget),
            _ => (cap, cap_bound),
        };
        let gain_db = self.predict(gain_db.min(cap), cap)?;
        let capped = gain_db >= cap;
        let p = render_pass(&mut self.branches, spec, gain_db, self.margin_db, self.outputs)?;
        let budget = spec.budget().sustained_db;
        if p.sustained_db > budget + 1e-9 {
            // Over the sustained budget: find its cap on curves, render there.
            let lim = spec.limiter(self.margin_db);
            let cap = sustained_cap(&mut self.branches, &lim, budget, gain_db, p.sustained_db)?;
            self.sustained = Some(cap);
            self.basis = Basis::from_pass(gain_db, p.candidates);
            return Ok(Step::Next(cap));
        }
        let lufs = p.loudness();
        self.history.push((gain_db, lufs));
        let worst_err = p.worst_error(spec.target_lufs);
        let on_target = worst_err <= LOUDNESS_TOLERANCE_LU;
        let short = capped && lufs < spec.target_lufs;
        let mut score = if short { 0.0 } else { worst_err };
        if on_target || short {
            let (limiter, outputs, spectra) = measure_pass(p)?;
            let worst_tp = (outputs.iter().flatten())
                .map(|o| o.measurement.true_peak_dbtp)
                .fold(f64::NEG_INFINITY, f64::max);
            if worst_tp <= spec.ceiling_dbtp {
                let (bound, needed) = if on_target {
                    (Bound::Target, None)
                } else {
                    (cap_bound, Some(needed(&mut self.branches, spec, self.margin_db, &self.history)?))
                };
                return Ok(Step::Done(Box::new(Rendered {
                    gain_db,
                    passes: pass,
                    limiter,
                    bound,
                    needed,
                    compressor: None,
                    outputs,
                    spectra,
                })));
            }
            score += 100.0 + worst_tp - spec.ceiling_dbtp;
            self.margin_db += worst_tp - spec.ceiling_dbtp + 0.05;
            self.sustained = None; // a lower ceiling moves the budget's cap: found again when met
        } else {
            self.basis = Basis::from_pass(gain_db, p.candidates);
        }
        if self.best.is_none_or(|(s, _, _)| score < s) {
            self.best = Some((score, gain_db, self.margin_db));
        }
        Ok(Step::Next(gain_db + (spec.target_lufs - lufs) / slope(&self.history)))
    }

    /// The gain to render, from `guess` (at most `cap`), moved onto the
    /// target by predictions from gain curves alone: a secant on predicted
    /// loudness, stopping once a prediction is within half the tolerance, or
    /// once the curves would go over the sustained budget (where the budget's
    /// own solve takes over after the pass).
    fn predict(&mut self, guess: f64, cap: f64) -> Result<f64> {
        let spec = self.spec;
        let lim = spec.limiter(self.margin_db);
        let (mut g, mut last): (f64, Option<(f64, f64)>) = (guess, None);
        for _ in 0..MAX_PREDICTIONS {
            let work = curve_work(&mut self.branches, &lim, g)?;
            if work.sustained_db > spec.budget().sustained_db {
                return Ok(g);
            }
            let l = self.basis.loudness(g, &work.powers);
            let miss = spec.target_lufs - l;
            if !l.is_finite() || miss.abs() <= LOUDNESS_TOLERANCE_LU / 2.0 {
                return Ok(g);
            }
            let slope = match last {
                Some((g0, l0)) if (g - g0).abs() > 1e-6 => ((l - l0) / (g - g0)).clamp(0.1, 1.5),
                _ => 1.0,
            };
            let next = (g + miss / slope).min(cap);
            if (next - g).abs() < 0.005 {
                return Ok(next);
            }
            (last, g) = (Some((g, l)), next);
        }
        Ok(g)
    }

    /// No pass met every promise: the closest one (its checks will say so).
    fn closest(mut self, gain_db: f64) -> Result<Rendered> {
        let (_, gain_db, margin_db) = self.best.unwrap_or((0.0, gain_db, self.margin_db));
        self.margin_db = margin_db;
        let p = render_pass(&mut self.branches, self.spec, gain_db, margin_db, self.outputs)?;
        let bound = if p.worst_error(self.spec.target_lufs) <= LOUDNESS_TOLERANCE_LU {
            Bound::Target
        } else {
            self.caps(gain_db)?.1
        };
        let (limiter, outputs, spectra) = measure_pass(p)?;
        Ok(Rendered {
            gain_db,
            passes: MAX_PASSES,
            limiter,
            bound,
            needed: None,
            compressor: None,
            outputs,
            spectra,
        })
    }
}

/// Loudness gained per dB of gain, from the last two passes (limiting makes
/// it < 1); 1 before there are two.
fn slope(history: &[(f64, f64)]) -> f64 {
    match history {
        [.., (g0, l0), (g1, l1)] if (g1 - g0).abs() > 1e-6 => ((l1 - l0) / (g1 - g0)).clamp(0.1, 1.5),
        _ => 1.0,
    }
}

/// What the target would need of a track that stopped short of it: the gain
/// extrapolated along the last passes' slope (at least 1 dB of gain per LU
/// missing, less where limiting costs loudness), and the limiting its gain
/// curve would do there.
fn needed(
    branches: &mut [Branch<'_>],
    spec: &RenderSpec,
    margin_db: f64,
    history: &[(f64, f64)],
) -> Result<Needed> {
    let &(g, l) = history.last().expect("a pass was rendered");
    let slope = slope(history).clamp(0.25, 1.0);
    let gain_db = g + (spec.target_lufs - l).max(0.0) / slope;
    let work = curve_work(branches, &spec.limiter(margin_db), gain_db)?;
    Ok(Needed { gain_db, sustained_db: work.sustained_db, peak_db: work.peak_db })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::encode::SampleFormat;
    use crate::dsp::Stereo;
    use crate::dsp::dither::DitherKind;
    use crate::dsp::loudness::Measurement;
    use lathe_oracle::{db, fade_ends, reference_true_peak};
    use std::f64::consts::PI;

    /// A deliverable's file, read back.
    struct Output {
        sample_rate: u32,
        measurement: Measurement,
        pcm: Samples,
    }

    struct Samples(Vec<Vec<f32>>);

    impl Samples {
        fn channels(&self) -> &[Vec<f32>] {
            &self.0
        }
    }

    /// A render and its files, read back by the decoder.
    struct Done {
        gain_db: f64,
        passes: usize,
        bound: Bound,
        needed: Option<Needed>,
        limiter: LimiterStats,
        outputs: Vec<Output>,
    }

    /// Renders samples held in memory, a block at a time, into files in a
    /// temporary folder, and reads them back.
    fn render(x: Stereo, rate: u32, spec: &RenderSpec) -> Result<Done> {
        let dir = tempfile::tempdir().unwrap();
        let outputs: Vec<Vec<PathBuf>> =
            (0..spec.deliverables.len()).map(|i| vec![dir.path().join(format!("{i}.wav"))]).collect();
        let [l, r] = x.0;
        let mut at = 0;
        let mut read = |b: &mut [Vec<f32>; 2]| {
            let end = (at + 40_000).min(l.len());
            b[0] = l[at..end].to_vec();
            b[1] = r[at..end].to_vec();
            let n = end - at;
            at = end;
            Ok(n)
        };
        let prepared = Prepared::from_reader(&mut read, rate, spec.chain, spec.deliverables, dir.path())?;
        let done = super::render(&prepared, spec, &RenderFiles { scratch: dir.path(), outputs: &outputs })?;
        drop(prepared);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), outputs.len(), "only the deliverables are left: {left:?}");
        Ok(Done {
            gain_db: done.gain_db,
            passes: done.passes,
            bound: done.bound,
            needed: done.needed,
            limiter: done.limiter,
            outputs: done
                .outputs
                .into_iter()
                .zip(&outputs)
                .map(|(mut o, p)| {
                    let o = o.remove(0);
                    Output {
                        sample_rate: o.sample_rate,
                        measurement: o.measurement,
                        pcm: Samples(crate::audio::decode::decode(&p[0]).unwrap().0.channels),
                    }
                })
                .collect(),
        })
    }

    fn song(i: usize, seconds: f64, rate: u32) -> Vec<Vec<f32>> {
        let s = lathe_synth::Song { seconds, ..lathe_synth::sample_album_songs()[i].clone() };
        lathe_synth::render(&s, rate).to_vec()
    }

    #[test]
    fn ceiling_and_loudness_hold_after_48k_to_44k1_and_16_bit_dither() {
        let chain = Chain::default();
        let deliverables = [
            Deliverable::wav("cd", Some(44100), SampleFormat::Int16, DitherKind::Tpdf),
            Deliverable::wav("hires", None, SampleFormat::Int24, DitherKind::Shaped),
        ];
        // A budget wide enough for -8 LUFS: this is about the ceiling.
        let mut chain = chain;
        chain.limiter.budget = Budget { sustained_db: 20.0, peak_db: 30.0 };
        for (i, target) in [(3usize, -8.0), (0, -14.0)] {
            let x = song(i, 12.0, 48000);
            let spec = RenderSpec {
                chain: &chain,
                target_lufs: target,
                ceiling_dbtp: -1.0,
                max_gain_db: 24.0,
                deliverables: &deliverables,
                seed: 3,
            };
            let r = render(Stereo::from_channels(x.clone()), 48000, &spec).unwrap();
            for (o, d) in r.outputs.iter().zip(&deliverables) {
                let written = o.pcm.channels();
                let tp = written.iter().map(|c| db(reference_true_peak(c))).fold(f64::NEG_INFINITY, f64::max);
                assert!(tp <= -1.0, "{} at {target} LUFS: true peak {tp:.3} dBTP", d.name);
                let lufs = crate::dsp::loudness::integrated(written, o.sample_rate);
                assert!((lufs - target).abs() <= 0.1, "{}: {lufs:.3} LUFS, target {target}", d.name);
                assert_eq!(
                    written[0].len(),
                    crate::audio::resample::output_len(x[0].len(), 48000, o.sample_rate)
                );
            }
        }
    }

    #[test]
    fn the_default_chain_at_minus_14_keeps_the_loudness_range() {
        let chain = Chain::default();
        let deliverables = [Deliverable::wav("m", None, SampleFormat::Float32, DitherKind::None)];
        let mut losses: Vec<f64> = (0..5)
            .map(|i| {
                let x = song(i, 30.0, 44100);
                let (before, _) = crate::dsp::loudness::measure(&x, 44100).unwrap();
                let spec = RenderSpec {
                    chain: &chain,
                    target_lufs: -14.0,
                    ceiling_dbtp: -1.0,
                    max_gain_db: 24.0,
                    deliverables: &deliverables,
                    seed: 1,
                };
                let r = render(Stereo::from_channels(x), 44100, &spec).unwrap();
                before.lra_lu - r.outputs[0].measurement.lra_lu
            })
            .collect();
        losses.sort_by(f64::total_cmp);
        assert!(losses[2] <= 1.0, "median loudness-range loss {:.2} LU ({losses:?})", losses[2]);
    }

    fn float_master() -> [Deliverable; 1] {
        [Deliverable::wav("m", None, SampleFormat::Float32, DitherKind::None)]
    }

    fn spec<'a>(chain: &'a Chain, target: f64, deliverables: &'a [Deliverable]) -> RenderSpec<'a> {
        RenderSpec {
            chain,
            target_lufs: target,
            ceiling_dbtp: -1.0,
            max_gain_db: 24.0,
            deliverables,
            seed: 1,
        }
    }

    fn worst_reference_tp(r: &Done) -> f64 {
        r.outputs
            .iter()
            .flat_map(|o| o.pcm.channels().iter().map(|c| db(reference_true_peak(c))))
            .fold(f64::NEG_INFINITY, f64::max)
    }

    #[test]
    fn a_target_past_the_budget_stops_at_the_budget() {
        let chain = Chain::default();
        let deliverables = float_master();
        let x = song(3, 20.0, 44100);
        let (before, _) = crate::dsp::loudness::measure(&x, 44100).unwrap();
        let r = render(Stereo::from_channels(x), 44100, &spec(&chain, -8.0, &deliverables)).unwrap();
        let o = &r.outputs[0];
        let budget = Budget::DEFAULT;
        assert_ne!(r.bound, Bound::Target, "-8 LUFS is past the default budget on this song");
        assert!(o.measurement.integrated_lufs < -8.1, "{} LUFS", o.measurement.integrated_lufs);
        assert!(r.limiter.sustained_gain_reduction_db <= budget.sustained_db + 1e-6, "{:?}", r.limiter);
        assert!(r.limiter.max_gain_reduction_db <= budget.peak_db + 0.01, "{:?}", r.limiter);
        if r.bound == Bound::SustainedBudget {
            assert!(
                r.limiter.sustained_gain_reduction_db >= budget.sustained_db - budget::BUDGET_TOLERANCE_DB
            );
        }
        let n = r.needed.expect("a bounded track says what the target needs");
        assert!(n.gain_db > r.gain_db && n.sustained_db > budget.sustained_db, "{n:?}");
        // The music survives: its loudness range, measured by ebur128 on the written samples.
        let lra = o.measurement.lra_lu;
        assert!(before.lra_lu - lra <= 2.0, "LRA {:.1} -> {lra:.1}", before.lra_lu);
        assert!(worst_reference_tp(&r) <= -1.0);
    }

    #[test]
    fn predicted_limiting_lands_tracks_on_target_in_one_pass() {
        // Five songs pushed to -12 LUFS, where the limiter costs loudness.
        let chain = Chain::default();
        let deliverables = float_master();
        let mut passes = Vec::new();
        for i in 0..5 {
            let r = render(
                Stereo::from_channels(song(i, 20.0, 44100)),
                44100,
                &spec(&chain, -12.0, &deliverables),
            )
            .unwrap();
            if r.bound == Bound::Target {
                let lufs = r.outputs[0].measurement.integrated_lufs;
                assert!((lufs + 12.0).abs() <= LOUDNESS_TOLERANCE_LU, "song {i}: {lufs:.3} LUFS");
                passes.push(r.passes);
            }
        }
        assert!(passes.len() >= 3, "most songs reach -12 LUFS within the budget: {passes:?}");
        assert!(
            passes.iter().all(|&p| p <= 2) && passes.iter().filter(|&&p| p == 1).count() * 2 > passes.len(),
            "{passes:?}"
        );
    }

    #[test]
    fn gain_stops_at_the_maximum() {
        // Noise at about -60 dBFS: -14 LUFS needs far more than +24 dB.
        let chain = Chain::default();
        let deliverables = float_master();
        let mut state = 1u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state as f32 / u32::MAX as f32 - 0.5) * 0.002
        };
        let x: Vec<Vec<f32>> = (0..2).map(|_| (0..44100 * 5).map(|_| noise()).collect()).collect();
        let r = render(Stereo::from_channels(x), 44100, &spec(&chain, -14.0, &deliverables)).unwrap();
        assert_eq!((r.bound, r.gain_db), (Bound::MaxGain, 24.0));
        assert!(r.needed.unwrap().gain_db > 24.0);
    }

    /// The signals that break gain solvers: each family at a level and a
    /// position drawn by proptest.
    fn pathological(kind: u8, level_db: f64, at: f64, rate: u32) -> Vec<Vec<f32>> {
        let n = rate as usize * 2;
        let a = 10f64.powf(level_db / 20.0) as f32;
        let at = ((n - 1) as f64 * at) as usize;
        let mut state = 7u32;
        let mut rand = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state as f32 / u32::MAX as f32 * 2.0 - 1.0
        };
        let x: Vec<f32> = match kind {
            0 => (0..n).map(|i| if i == at { a } else { 0.0 }).collect(), // a click in silence
            1 => vec![a; n],                                              // DC
            2 => (0..n).map(|i| if (i / 22) % 2 == 0 { a } else { -a }).collect(), // a square wave
            // A tone at Nyquist, faded in and out: where such a tone stops dead,
            // the reconstruction rings by an amount that grows without bound
            // with the reconstruction filter's length (the sum of
            // (-1)^k sinc(t-k) is a harmonic series), so no meter agrees on it.
            3 => {
                let mut x: Vec<f32> = (0..n).map(|i| if i % 2 == 0 { a } else { -a }).collect();
                fade_ends(&mut x, rate);
                x
            }
            // Noise, band-limited to 20 kHz as a converter's anti-aliasing filter
            // leaves it. (Full-band noise, as loud at Nyquist as anywhere, is
            // where true-peak meters part: limited to a ceiling, a 16x
            // reference reads it up to 0.8 dB over lathe's 4x detector; band-
            // limited to 21 kHz at 44.1 kHz, within 0.09 dB.)
            4 => {
                let white: Vec<f32> = (0..n + 64).map(|_| rand()).collect();
                let fc = 20000.0 / rate as f64;
                let taps: Vec<f64> = (-32i32..=32)
                    .map(|k| {
                        let t = k as f64;
                        let sinc = if k == 0 { 2.0 * fc } else { (2.0 * PI * fc * t).sin() / (PI * t) };
                        sinc * (0.42 + 0.5 * (PI * t / 32.0).cos() + 0.08 * (2.0 * PI * t / 32.0).cos())
                    })
                    .collect();
                (0..n)
                    .map(|i| a * taps.iter().zip(&white[i..]).map(|(h, &w)| h * w as f64).sum::<f64>() as f32)
                    .collect()
            }
            _ => (0..n).map(|i| a * 1e-3 * rand() + if i == at { a } else { 0.0 }).collect(), // near-silence and a click
        };
        vec![x.clone(), x]
    }

    #[test]
    fn full_scale_band_limited_noise_far_past_its_budget() {
        let chain = Chain::default();
        let deliverables = [
            Deliverable::wav("f", None, SampleFormat::Float32, DitherKind::None),
            Deliverable::wav("cd", Some(44100), SampleFormat::Int16, DitherKind::Tpdf),
        ];
        let x = pathological(4, 0.0, 0.0, 48000);
        let spec = RenderSpec { ceiling_dbtp: -4.592, ..spec(&chain, -5.0, &deliverables) };
        let r = render(Stereo::from_channels(x), 48000, &spec).unwrap();
        for o in &r.outputs {
            let tp =
                o.pcm.channels().iter().map(|c| db(reference_true_peak(c))).fold(f64::NEG_INFINITY, f64::max);
            assert!(
                tp <= -4.592,
                "{} Hz: {tp:.3} dBTP (lathe reads {:.3})",
                o.sample_rate,
                o.measurement.true_peak_dbtp
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

        /// Whatever the input and the target, every written file is at or
        /// under the ceiling (by the 16x reference meter), and the gain is bounded.
        #[test]
        fn the_ceiling_holds_on_pathological_signals(
            kind in 0u8..6,
            level_db in -60.0f64..12.0,
            at in 0.0f64..1.0,
            target in -30.0f64..-5.0,
            ceiling in -6.0f64..-0.1,
        ) {
            let chain = Chain::default();
            let deliverables = [
                Deliverable::wav("f", None, SampleFormat::Float32, DitherKind::None),
                Deliverable::wav("cd", Some(44100), SampleFormat::Int16, DitherKind::Tpdf),
            ];
            let x = pathological(kind, level_db, at, 48000);
            let spec = RenderSpec { ceiling_dbtp: ceiling, ..spec(&chain, target, &deliverables) };
            match render(Stereo::from_channels(x), 48000, &spec) {
                Err(Error::Render(msg)) => proptest::prop_assert!(msg.contains("silent"), "{msg}"),
                Err(e) => proptest::prop_assert!(false, "{e}"),
                Ok(r) => {
                    proptest::prop_assert!(r.gain_db <= spec.max_gain_db, "gain {}", r.gain_db);
                    let tp = worst_reference_tp(&r);
                    proptest::prop_assert!(tp <= ceiling, "kind {kind}: {tp:.3} dBTP over {ceiling:.2}");
                    for o in &r.outputs {
                        proptest::prop_assert!(o.pcm.channels().iter().flatten().all(|v| v.is_finite()));
                    }
                }
            }
        }
    }
}
