//! Rendering one track: the chain, then gain and limiting solved so that the
//! samples that will be written, for every deliverable, land on the loudness
//! target and under the true-peak ceiling.
//!
//! No file I/O happens here: premaster samples in, quantized samples and
//! their measurements out.

use ebur128::EbuR128;

use crate::audio::encode::Pcm;
use crate::audio::resample;
use crate::dsp::compressor::{self, CompressorStats};
use crate::dsp::eq::Eq;
use crate::dsp::limiter::{self, Budget, LimiterSettings, LimiterStats};
use crate::dsp::{dither, stereo};
use crate::error::{Error, Result};
use crate::loudness::{self, Measurement};
use crate::manifest::{Chain, Deliverable, SampleFormat};

/// How close to the target a render must land before it is accepted (LU).
/// Half the ±0.1 LU promise, leaving room for another meter's rounding.
pub const LOUDNESS_TOLERANCE_LU: f64 = 0.05;
/// Extra distance under the ceiling for the first pass (dB). The limiter
/// already keeps its own detector headroom; this grows only when a written
/// file measures over the ceiling.
pub const CEILING_MARGIN_DB: f64 = 0.0;
/// Most render passes per track.
pub const MAX_PASSES: usize = 8;

/// One deliverable's rendered samples and what they measure.
pub struct RenderedOutput {
    pub sample_rate: u32,
    pub pcm: Pcm,
    pub measurement: Measurement,
    pub gating: EbuR128,
    /// Samples at integer full scale.
    pub full_scale_samples: usize,
}

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

/// A track's final render.
pub struct Rendered {
    pub gain_db: f64,
    pub passes: usize,
    pub limiter: LimiterStats,
    /// What stopped the gain: the target, or a bound before it.
    pub bound: Bound,
    /// For a track short of its target: what reaching it would need.
    pub needed: Option<Needed>,
    pub outputs: Vec<RenderedOutput>,
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
        LimiterSettings {
            ceiling_dbtp: self.ceiling_dbtp - margin_db,
            lookahead_ms: self.chain.limiter.lookahead_ms,
            release_ms: self.chain.limiter.release_ms,
            hold_ms: self.chain.limiter.hold_ms,
        }
    }

    fn budget(&self) -> Budget {
        self.chain.limiter.budget
    }
}

/// Runs the part of the chain that comes before the gain: EQ, compressor, width.
pub fn pre_gain(chain: &Chain, sample_rate: u32, channels: &mut [Vec<f32>]) -> Option<CompressorStats> {
    let [left, right] = channels else {
        unreachable!("the renderer works on stereo pairs");
    };
    let mut eq = Eq::new(&chain.eq, sample_rate);
    if !eq.is_empty() {
        eq.process(left, right);
    }
    let stats = chain.compressor.as_ref().map(|c| compressor::process(c, sample_rate, left, right));
    stereo::process(&chain.width, sample_rate, left, right);
    stats
}

/// The samples as the deliverable stores them, quantized in place.
fn quantize(mut channels: Vec<Vec<f32>>, d: &Deliverable, seed: u64) -> Pcm {
    match d.format {
        SampleFormat::Float32 => Pcm::Float(channels),
        f => {
            let bits = f.bits();
            for (c, ch) in channels.iter_mut().enumerate() {
                dither::quantize_in_place(ch, bits, d.dither, seed.wrapping_mul(31).wrapping_add(c as u64));
            }
            Pcm::Int { bits, channels }
        }
    }
}

/// Block energies of the samples as they will be written.
pub fn energies_pcm(pcm: &Pcm, sample_rate: u32) -> loudness::BlockEnergies {
    let mut meter = loudness::BlockEnergies::new(pcm.channel_count(), sample_rate);
    meter.feed(&pcm.channels().iter().map(|c| c.as_slice()).collect::<Vec<_>>());
    meter
}

/// Measures samples exactly as a reader of the file will see them, given
/// their block energies (measured already by the pass that made them).
pub fn measure_pcm(
    pcm: &Pcm,
    sample_rate: u32,
    energies: loudness::BlockEnergies,
) -> Result<(Measurement, EbuR128, usize)> {
    let full_scale = match pcm {
        Pcm::Float(ch) => ch.iter().flatten().filter(|x| x.abs() >= 1.0).count(),
        Pcm::Int { bits, channels } => {
            let max = 1.0 - 1.0 / (1u32 << (bits - 1)) as f32; // the largest positive integer
            channels.iter().flatten().filter(|&&q| q.abs() >= max).count()
        }
    };
    let meter = loudness::Meter::with_reference_from(energies, pcm.channel_count(), sample_rate)?;
    let (m, meter) = loudness::read_programme(meter, pcm.channels())?;
    Ok((m, meter.into_reference().expect("made with the reference meter"), full_scale))
}

/// The premaster's peak envelope, kept across passes. It is exact above
/// `floor`, so it serves every pass whose limiter threshold (in premaster
/// units: ceiling less margin less gain) stays above that floor.
struct Envelope {
    env: Vec<f32>,
    floor: f32,
    /// The premaster's true peak where it is above `floor` (the envelope
    /// is exact there), else `floor`: never under the true peak.
    peak_bound: f32,
}

impl Envelope {
    /// How far below the first pass's threshold the envelope is made exact,
    /// so later passes with more gain or a lower ceiling can reuse it (the
    /// second pass typically adds well under 1 dB to make up for limiting;
    /// a pass that needs more builds the envelope again).
    const SPAN_DB: f64 = 2.0;

    fn ensure<'a>(
        slot: &'a mut Option<Envelope>,
        pre: &[Vec<f32>],
        lim: &LimiterSettings,
        gain_db: f64,
    ) -> &'a [f32] {
        let needed = limiter::envelope_floor(lim, gain_db);
        if slot.as_ref().is_none_or(|e| needed < e.floor) {
            let floor = limiter::envelope_floor(lim, gain_db + Self::SPAN_DB);
            let views: Vec<&[f32]> = pre.iter().map(|c| c.as_slice()).collect();
            let env = limiter::peak_envelope(&views, floor);
            let peak_bound = env.iter().fold(floor, |m, &v| m.max(v));
            *slot = Some(Envelope { env, floor, peak_bound });
        }
        &slot.as_ref().expect("just set").env
    }
}

/// One deliverable's samples from a pass, not yet fully measured.
struct Candidate {
    sample_rate: u32,
    pcm: Pcm,
    energies: loudness::BlockEnergies,
    lufs: f64,
}

/// The deliverables at one output rate: the premaster resampled to that
/// rate once, its peak envelope (kept across passes) and a working buffer.
/// Limiting at the rate that is written holds the ceiling where it is
/// measured, with no second limiter after a resampler.
struct Branch {
    sample_rate: u32,
    pre: Vec<Vec<f32>>,
    envelope: Option<Envelope>,
    y: Vec<Vec<f32>>,
    /// Indices into the spec's deliverables.
    deliverables: Vec<usize>,
}

impl Branch {
    /// One branch per distinct output rate (their order does not matter:
    /// each lists the deliverables it makes).
    fn for_spec(pre: Vec<Vec<f32>>, sample_rate: u32, spec: &RenderSpec) -> Result<Vec<Branch>> {
        let mut rates: Vec<(u32, Vec<usize>)> = Vec::new();
        for (i, d) in spec.deliverables.iter().enumerate() {
            let rate = d.sample_rate.unwrap_or(sample_rate);
            match rates.iter_mut().find(|(r, _)| *r == rate) {
                Some((_, list)) => list.push(i),
                None => rates.push((rate, vec![i])),
            }
        }
        // Resampled branches first, while the source-rate premaster is still
        // here to read; the source-rate branch (if any) then takes it over.
        let (own, others): (Vec<_>, Vec<_>) = rates.into_iter().partition(|(r, _)| *r == sample_rate);
        let mut branches = Vec::with_capacity(own.len() + others.len());
        for (rate, deliverables) in others {
            branches.push(Branch::new(rate, resample::resample(&pre, sample_rate, rate)?, deliverables));
        }
        if let Some((rate, deliverables)) = own.into_iter().next() {
            branches.push(Branch::new(rate, pre, deliverables));
        }
        Ok(branches)
    }

    fn new(sample_rate: u32, pre: Vec<Vec<f32>>, deliverables: Vec<usize>) -> Branch {
        Branch { sample_rate, pre, envelope: None, y: Vec::new(), deliverables }
    }

    /// The most gain that keeps the largest gain reduction within `peak_db`,
    /// as far as it matters at `gain_db`: exact where that gain limits at
    /// all, and otherwise above `gain_db` (from the envelope's bound).
    fn peak_cap_db(&mut self, lim: &LimiterSettings, gain_db: f64, peak_db: f64) -> f64 {
        Envelope::ensure(&mut self.envelope, &self.pre, lim, gain_db);
        let peak = self.envelope.as_ref().expect("just ensured").peak_bound as f64;
        lim.ceiling_dbtp - limiter::DETECTOR_HEADROOM_DB - 20.0 * peak.log10() + peak_db
    }

    /// The limiter's gain curve at `gain_db`, without applying it.
    fn curve(&mut self, lim: &LimiterSettings, gain_db: f64) -> Vec<f32> {
        let env = Envelope::ensure(&mut self.envelope, &self.pre, lim, gain_db);
        limiter::gain_curve_db(lim, self.sample_rate, env, gain_db)
    }

    /// Takes back a rejected pass's sample buffers as working buffers.
    fn recycle(branches: &mut [Branch], candidates: Vec<Candidate>) {
        for (i, c) in candidates.into_iter().enumerate() {
            if let Some(b) = branches.iter_mut().find(|b| b.deliverables.contains(&i) && b.y.is_empty()) {
                b.y = c.pcm.into_channels();
            }
        }
    }

    /// Gain and limiter into the working buffer, then each deliverable
    /// quantized and its integrated loudness measured.
    fn pass(
        &mut self,
        spec: &RenderSpec,
        gain_db: f64,
        margin_db: f64,
        out: &mut [Option<Candidate>],
    ) -> LimiterStats {
        let curve = self.curve(&spec.limiter(margin_db), gain_db);
        // The working buffer becomes the last deliverable's samples (a rejected
        // pass gives it back through `recycle`).
        let mut y = std::mem::take(&mut self.y);
        if y.is_empty() {
            y = self.pre.iter().map(|c| vec![0f32; c.len()]).collect();
        }
        let stats = limiter::apply_curve_from(&self.pre, gain_db, &curve, self.sample_rate, &mut y);
        drop(curve);
        let last = self.deliverables.len() - 1;
        for (k, &i) in self.deliverables.iter().enumerate() {
            let samples = if k == last { std::mem::take(&mut y) } else { y.clone() };
            let pcm = quantize(samples, &spec.deliverables[i], spec.seed.wrapping_add(i as u64));
            let energies = energies_pcm(&pcm, self.sample_rate);
            let lufs = energies.integrated();
            out[i] = Some(Candidate { sample_rate: self.sample_rate, pcm, energies, lufs });
        }
        stats
    }
}

/// What one pass did: the limiter stats of the first deliverable's branch,
/// the most sustained limiting any branch did (what the budget is held
/// against; the peak budget is held in closed form), and
/// every deliverable's candidate in order.
struct Pass {
    limiter: LimiterStats,
    sustained_db: f64,
    candidates: Vec<Candidate>,
}

impl Pass {
    /// Mean integrated loudness of the deliverables.
    fn loudness(&self) -> f64 {
        self.candidates.iter().map(|c| c.lufs).sum::<f64>() / self.candidates.len() as f64
    }

    /// Largest distance of a deliverable from `target`.
    fn worst_error(&self, target: f64) -> f64 {
        self.candidates.iter().map(|c| (c.lufs - target).abs()).fold(0.0, f64::max)
    }
}

fn render_pass(branches: &mut [Branch], spec: &RenderSpec, gain_db: f64, margin_db: f64) -> Pass {
    let mut out: Vec<Option<Candidate>> = spec.deliverables.iter().map(|_| None).collect();
    let (mut first, mut sustained_db) = (None, 0f64);
    for b in branches.iter_mut() {
        let s = b.pass(spec, gain_db, margin_db, &mut out);
        sustained_db = sustained_db.max(s.sustained_gain_reduction_db);
        if b.deliverables.contains(&0) {
            first = Some(s);
        }
    }
    Pass {
        limiter: first.unwrap_or_default(),
        sustained_db,
        candidates: out.into_iter().map(|c| c.expect("every deliverable has a branch")).collect(),
    }
}

/// The most limiting any branch's gain curve does at `gain_db` (sustained,
/// peak), from the curves alone: nothing is applied or measured.
fn curve_work(branches: &mut [Branch], lim: &LimiterSettings, gain_db: f64) -> (f64, f64) {
    branches.iter_mut().fold((0.0, 0.0), |(s, p), b| {
        let curve = b.curve(lim, gain_db);
        (
            s.max(limiter::sustained_gain_reduction_db(&curve, b.sample_rate)),
            p.max(limiter::peak_gain_reduction_db(&curve)),
        )
    })
}

/// How far under the sustained budget a capped track may land (dB): the
/// budget is met from below, within this.
const BUDGET_TOLERANCE_DB: f64 = 0.1;
/// Most gain-curve evaluations when solving for the sustained budget.
const MAX_BUDGET_STEPS: usize = 12;

/// The most gain (at most `above`, where the sustained limiting is
/// `sustained_above`, over budget) whose sustained limiting is within the
/// budget, found on gain curves alone: the result's sustained limiting is in
/// `[budget - BUDGET_TOLERANCE_DB, budget]`, or the largest gain found within
/// budget when the curve is too steep to land in that window.
fn sustained_cap(
    branches: &mut [Branch],
    lim: &LimiterSettings,
    budget_db: f64,
    above: f64,
    sustained_above: f64,
) -> f64 {
    // Sustained limiting grows at most 1 dB per dB of gain, so stepping down
    // by the excess lands at or over the aim: the secant then closes in.
    let aim = (budget_db - BUDGET_TOLERANCE_DB / 2.0).max(0.0);
    let (mut hi, mut s_hi) = (above, sustained_above);
    let mut lo: Option<(f64, f64)> = None;
    let mut g = above - (sustained_above - aim).max(BUDGET_TOLERANCE_DB);
    for _ in 0..MAX_BUDGET_STEPS {
        let (s, _) = curve_work(branches, lim, g);
        if s <= budget_db && s >= budget_db - BUDGET_TOLERANCE_DB {
            return g;
        }
        if s > budget_db {
            (hi, s_hi) = (g, s);
        } else {
            lo = Some((g, s));
        }
        g = match lo {
            // Regula falsi inside the bracket, kept off its ends.
            Some((gl, sl)) if s_hi > sl => {
                let t = ((aim - sl) / (s_hi - sl)).clamp(0.1, 0.9);
                gl + t * (hi - gl)
            }
            Some((gl, _)) => (gl + hi) / 2.0,
            None => g - (s - aim).max(BUDGET_TOLERANCE_DB),
        };
        if lo.is_some_and(|(gl, _)| hi - gl < 0.01) {
            break;
        }
    }
    lo.map_or(g, |(gl, _)| gl)
}

/// The full measurement (readings, LRA, true peak) of a pass's outputs.
fn measure_all(candidates: Vec<Candidate>) -> Result<Vec<RenderedOutput>> {
    candidates
        .into_iter()
        .map(|c| {
            let (measurement, gating, full_scale_samples) = measure_pcm(&c.pcm, c.sample_rate, c.energies)?;
            Ok(RenderedOutput {
                sample_rate: c.sample_rate,
                pcm: c.pcm,
                measurement,
                gating,
                full_scale_samples,
            })
        })
        .collect()
}

/// Renders a stereo premaster (already through [`pre_gain`]) to every
/// deliverable, solving the gain into the limiter.
///
/// The gain is the one that puts every output within
/// [`LOUDNESS_TOLERANCE_LU`] of the target, unless one of three bounds comes
/// first: the sustained limiting budget, the peak limiting budget, or the
/// maximum gain. A bounded track lands at the loudest level its bound allows
/// (`Rendered::bound` says which, `Rendered::needed` what the target would
/// have taken). Every output is at or under the ceiling.
///
/// Each pass measures only the integrated loudness of what it would write;
/// the full measurement (true peak included) runs once a pass is accepted.
/// The sustained budget is solved on gain curves alone, without rendering.
pub fn render(pre: Vec<Vec<f32>>, sample_rate: u32, spec: &RenderSpec) -> Result<Rendered> {
    let pre_lufs = loudness::integrated(&pre, sample_rate);
    if !pre_lufs.is_finite() {
        return Err(Error::Render("the track is silent after the chain; there is nothing to master".into()));
    }
    let budget = spec.budget();
    let mut branches = Branch::for_spec(pre, sample_rate, spec)?;
    let mut margin_db = CEILING_MARGIN_DB;
    // The gain caps other than the sustained budget at a gain: the maximum
    // gain and (in closed form, from each branch's envelope) the peak budget.
    let caps = |branches: &mut [Branch], margin_db: f64, gain_db: f64| {
        let lim = spec.limiter(margin_db);
        let peak = branches
            .iter_mut()
            .map(|b| b.peak_cap_db(&lim, gain_db, budget.peak_db))
            .fold(f64::INFINITY, f64::min);
        if peak < spec.max_gain_db { (peak, Bound::PeakBudget) } else { (spec.max_gain_db, Bound::MaxGain) }
    };
    let mut sustained: Option<f64> = None; // the sustained budget's cap, once a pass went over it
    let mut gain_db = spec.target_lufs - pre_lufs;
    let mut history: Vec<(f64, f64)> = Vec::new(); // (gain, loudness) of every rendered pass
    let mut best: Option<(f64, f64, f64)> = None; // (score, gain, margin)
    for pass in 1..=MAX_PASSES {
        let (cap, cap_bound) = caps(&mut branches, margin_db, gain_db.min(spec.max_gain_db));
        let (cap, cap_bound) = match sustained {
            Some(s) if s < cap => (s, Bound::SustainedBudget),
            _ => (cap, cap_bound),
        };
        let capped = gain_db >= cap;
        gain_db = gain_db.min(cap);
        let p = render_pass(&mut branches, spec, gain_db, margin_db);
        if p.sustained_db > budget.sustained_db + 1e-9 {
            // Over the sustained budget: find its cap on curves, render there.
            let lim = spec.limiter(margin_db);
            let cap = sustained_cap(&mut branches, &lim, budget.sustained_db, gain_db, p.sustained_db);
            sustained = Some(cap);
            gain_db = cap;
            Branch::recycle(&mut branches, p.candidates);
            continue;
        }
        let lufs = p.loudness();
        history.push((gain_db, lufs));
        let worst_err = p.worst_error(spec.target_lufs);
        let on_target = worst_err <= LOUDNESS_TOLERANCE_LU;
        let short = capped && lufs < spec.target_lufs;
        let mut score = if short { 0.0 } else { worst_err };
        if on_target || short {
            let outputs = measure_all(p.candidates)?;
            let worst_tp =
                outputs.iter().map(|o| o.measurement.true_peak_dbtp).fold(f64::NEG_INFINITY, f64::max);
            if worst_tp <= spec.ceiling_dbtp {
                let (bound, needed) = if on_target {
                    (Bound::Target, None)
                } else {
                    (cap_bound, Some(needed(&mut branches, spec, margin_db, &history)))
                };
                return Ok(Rendered { gain_db, passes: pass, limiter: p.limiter, bound, needed, outputs });
            }
            score += 100.0 + worst_tp - spec.ceiling_dbtp;
            margin_db += worst_tp - spec.ceiling_dbtp + 0.05;
            sustained = None; // a lower ceiling moves the budget's cap: found again when met
        } else {
            Branch::recycle(&mut branches, p.candidates);
        }
        if best.is_none_or(|(s, _, _)| score < s) {
            best = Some((score, gain_db, margin_db));
        }
        gain_db += (spec.target_lufs - lufs) / slope(&history);
    }
    // No pass met every promise: write the closest one (its checks will say so).
    let (_, gain_db, margin_db) = best.unwrap_or((0.0, gain_db, margin_db));
    let p = render_pass(&mut branches, spec, gain_db, margin_db);
    let bound = if p.worst_error(spec.target_lufs) <= LOUDNESS_TOLERANCE_LU {
        Bound::Target
    } else {
        caps(&mut branches, margin_db, gain_db).1
    };
    Ok(Rendered {
        gain_db,
        passes: MAX_PASSES,
        limiter: p.limiter,
        bound,
        needed: None,
        outputs: measure_all(p.candidates)?,
    })
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
fn needed(branches: &mut [Branch], spec: &RenderSpec, margin_db: f64, history: &[(f64, f64)]) -> Needed {
    let &(g, l) = history.last().expect("a pass was rendered");
    let slope = slope(history).clamp(0.25, 1.0);
    let gain_db = g + (spec.target_lufs - l).max(0.0) / slope;
    let (sustained_db, peak_db) = curve_work(branches, &spec.limiter(margin_db), gain_db);
    Needed { gain_db, sustained_db, peak_db }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::dither::DitherKind;
    use lathe_oracle::{db, fade_ends, reference_true_peak};
    use std::f64::consts::PI;

    fn song(i: usize, seconds: f64, rate: u32) -> Vec<Vec<f32>> {
        let s = lathe_synth::Song { seconds, ..lathe_synth::sample_album_songs()[i].clone() };
        lathe_synth::render(&s, rate).to_vec()
    }

    #[test]
    fn ceiling_and_loudness_hold_after_48k_to_44k1_and_16_bit_dither() {
        let chain = Chain::default();
        let deliverables = [
            Deliverable {
                name: "cd".into(),
                sample_rate: Some(44100),
                format: SampleFormat::Int16,
                dither: DitherKind::Tpdf,
            },
            Deliverable {
                name: "hires".into(),
                sample_rate: None,
                format: SampleFormat::Int24,
                dither: DitherKind::Shaped,
            },
        ];
        // A budget wide enough for -8 LUFS: this is about the ceiling.
        let mut chain = chain;
        chain.limiter.budget = Budget { sustained_db: 20.0, peak_db: 30.0 };
        for (i, target) in [(3usize, -8.0), (0, -14.0)] {
            let mut x = song(i, 12.0, 48000);
            pre_gain(&chain, 48000, &mut x);
            let spec = RenderSpec {
                chain: &chain,
                target_lufs: target,
                ceiling_dbtp: -1.0,
                max_gain_db: 24.0,
                deliverables: &deliverables,
                seed: 3,
            };
            let r = render(x.clone(), 48000, &spec).unwrap();
            for (o, d) in r.outputs.iter().zip(&deliverables) {
                let written = o.pcm.channels();
                let tp = written.iter().map(|c| db(reference_true_peak(c))).fold(f64::NEG_INFINITY, f64::max);
                assert!(tp <= -1.0, "{} at {target} LUFS: true peak {tp:.3} dBTP", d.name);
                let lufs = crate::loudness::integrated(written, o.sample_rate);
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
        let deliverables = [Deliverable {
            name: "m".into(),
            sample_rate: None,
            format: SampleFormat::Float32,
            dither: DitherKind::None,
        }];
        let mut losses: Vec<f64> = (0..5)
            .map(|i| {
                let mut x = song(i, 30.0, 44100);
                let (before, _) = crate::loudness::measure(&x, 44100).unwrap();
                pre_gain(&chain, 44100, &mut x);
                let spec = RenderSpec {
                    chain: &chain,
                    target_lufs: -14.0,
                    ceiling_dbtp: -1.0,
                    max_gain_db: 24.0,
                    deliverables: &deliverables,
                    seed: 1,
                };
                let r = render(x, 44100, &spec).unwrap();
                before.lra_lu - r.outputs[0].measurement.lra_lu
            })
            .collect();
        losses.sort_by(f64::total_cmp);
        assert!(losses[2] <= 1.0, "median loudness-range loss {:.2} LU ({losses:?})", losses[2]);
    }

    fn float_master() -> [Deliverable; 1] {
        [Deliverable {
            name: "m".into(),
            sample_rate: None,
            format: SampleFormat::Float32,
            dither: DitherKind::None,
        }]
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

    fn worst_reference_tp(r: &Rendered) -> f64 {
        r.outputs
            .iter()
            .flat_map(|o| o.pcm.channels().iter().map(|c| db(reference_true_peak(c))))
            .fold(f64::NEG_INFINITY, f64::max)
    }

    #[test]
    fn a_target_past_the_budget_stops_at_the_budget() {
        let chain = Chain::default();
        let deliverables = float_master();
        let mut x = song(3, 20.0, 44100);
        let (before, _) = crate::loudness::measure(&x, 44100).unwrap();
        pre_gain(&chain, 44100, &mut x);
        let r = render(x, 44100, &spec(&chain, -8.0, &deliverables)).unwrap();
        let o = &r.outputs[0];
        let budget = Budget::DEFAULT;
        assert_ne!(r.bound, Bound::Target, "-8 LUFS is past the default budget on this song");
        assert!(o.measurement.integrated_lufs < -8.1, "{} LUFS", o.measurement.integrated_lufs);
        assert!(r.limiter.sustained_gain_reduction_db <= budget.sustained_db + 1e-6, "{:?}", r.limiter);
        assert!(r.limiter.max_gain_reduction_db <= budget.peak_db + 0.01, "{:?}", r.limiter);
        if r.bound == Bound::SustainedBudget {
            assert!(r.limiter.sustained_gain_reduction_db >= budget.sustained_db - BUDGET_TOLERANCE_DB);
        }
        let n = r.needed.expect("a bounded track says what the target needs");
        assert!(n.gain_db > r.gain_db && n.sustained_db > budget.sustained_db, "{n:?}");
        // The music survives: its loudness range, measured by ebur128 on the written samples.
        let lra = o.gating.loudness_range().unwrap();
        assert!(before.lra_lu - lra <= 2.0, "LRA {:.1} -> {lra:.1}", before.lra_lu);
        assert!(worst_reference_tp(&r) <= -1.0);
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
        let mut x: Vec<Vec<f32>> = (0..2).map(|_| (0..44100 * 5).map(|_| noise()).collect()).collect();
        pre_gain(&chain, 44100, &mut x);
        let r = render(x, 44100, &spec(&chain, -14.0, &deliverables)).unwrap();
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
            Deliverable {
                name: "f".into(),
                sample_rate: None,
                format: SampleFormat::Float32,
                dither: DitherKind::None,
            },
            Deliverable {
                name: "cd".into(),
                sample_rate: Some(44100),
                format: SampleFormat::Int16,
                dither: DitherKind::Tpdf,
            },
        ];
        let mut x = pathological(4, 0.0, 0.0, 48000);
        pre_gain(&chain, 48000, &mut x);
        let spec = RenderSpec { ceiling_dbtp: -4.592, ..spec(&chain, -5.0, &deliverables) };
        let r = render(x, 48000, &spec).unwrap();
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
                Deliverable { name: "f".into(), sample_rate: None, format: SampleFormat::Float32, dither: DitherKind::None },
                Deliverable { name: "cd".into(), sample_rate: Some(44100), format: SampleFormat::Int16, dither: DitherKind::Tpdf },
            ];
            let mut x = pathological(kind, level_db, at, 48000);
            pre_gain(&chain, 48000, &mut x);
            let spec = RenderSpec { ceiling_dbtp: ceiling, ..spec(&chain, target, &deliverables) };
            match render(x, 48000, &spec) {
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
