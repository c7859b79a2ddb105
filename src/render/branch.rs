//! The deliverables at each output rate ("branches"), and one render pass
//! over them: gain and limiter, quantized as each deliverable stores it,
//! its loudness measured as a reader of the file will see it.

use ebur128::EbuR128;

use super::{RenderSpec, RenderedOutput};
use crate::audio::encode::{Deliverable, Pcm, SampleFormat};
use crate::audio::resample;
use crate::dsp::dither;
use crate::dsp::limiter::{self, LimiterSettings, LimiterStats};
use crate::dsp::loudness::{self, Measurement};
use crate::dsp::math;
use crate::error::Result;

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
fn energies_pcm(pcm: &Pcm, sample_rate: u32) -> loudness::BlockEnergies {
    let mut meter = loudness::BlockEnergies::new(pcm.channel_count(), sample_rate);
    meter.feed(&pcm.channels().iter().map(|c| c.as_slice()).collect::<Vec<_>>());
    meter
}

/// Measures samples exactly as a reader of the file will see them, given
/// their block energies (measured already by the pass that made them).
fn measure_pcm(
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
pub(super) struct Envelope {
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
pub(super) struct Candidate {
    sample_rate: u32,
    pcm: Pcm,
    energies: loudness::BlockEnergies,
    lufs: f64,
}

/// The deliverables at one output rate: the premaster resampled to that
/// rate once, its peak envelope (kept across passes) and a working buffer.
/// Limiting at the rate that is written holds the ceiling where it is
/// measured, with no second limiter after a resampler.
pub(super) struct Branch {
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
    pub(super) fn for_spec(pre: Vec<Vec<f32>>, sample_rate: u32, spec: &RenderSpec) -> Result<Vec<Branch>> {
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
    pub(super) fn peak_cap_db(&mut self, lim: &LimiterSettings, gain_db: f64, peak_db: f64) -> f64 {
        Envelope::ensure(&mut self.envelope, &self.pre, lim, gain_db);
        let peak = self.envelope.as_ref().expect("just ensured").peak_bound as f64;
        lim.ceiling_dbtp - limiter::DETECTOR_HEADROOM_DB - 20.0 * math::log10(peak) + peak_db
    }

    /// The limiter's gain curve at `gain_db`, without applying it.
    fn curve(&mut self, lim: &LimiterSettings, gain_db: f64) -> Vec<f32> {
        let env = Envelope::ensure(&mut self.envelope, &self.pre, lim, gain_db);
        limiter::gain_curve_db(lim, self.sample_rate, env, gain_db)
    }

    /// Takes back a rejected pass's sample buffers as working buffers.
    pub(super) fn recycle(branches: &mut [Branch], candidates: Vec<Candidate>) {
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
pub(super) struct Pass {
    pub limiter: LimiterStats,
    pub sustained_db: f64,
    pub candidates: Vec<Candidate>,
}

impl Pass {
    /// Mean integrated loudness of the deliverables.
    pub(super) fn loudness(&self) -> f64 {
        self.candidates.iter().map(|c| c.lufs).sum::<f64>() / self.candidates.len() as f64
    }

    /// Largest distance of a deliverable from `target`.
    pub(super) fn worst_error(&self, target: f64) -> f64 {
        self.candidates.iter().map(|c| (c.lufs - target).abs()).fold(0.0, f64::max)
    }
}

pub(super) fn render_pass(branches: &mut [Branch], spec: &RenderSpec, gain_db: f64, margin_db: f64) -> Pass {
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
pub(super) fn curve_work(branches: &mut [Branch], lim: &LimiterSettings, gain_db: f64) -> (f64, f64) {
    branches.iter_mut().fold((0.0, 0.0), |(s, p), b| {
        let curve = b.curve(lim, gain_db);
        (
            s.max(limiter::sustained_gain_reduction_db(&curve, b.sample_rate)),
            p.max(limiter::peak_gain_reduction_db(&curve)),
        )
    })
}

/// The full measurement (readings, LRA, true peak) of a pass's outputs.
pub(super) fn measure_all(candidates: Vec<Candidate>) -> Result<Vec<RenderedOutput>> {
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
