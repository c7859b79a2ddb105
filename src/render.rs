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
use crate::dsp::limiter::{self, LimiterSettings, LimiterStats};
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

/// A track's final render.
pub struct Rendered {
    pub gain_db: f64,
    pub passes: usize,
    pub limiter: LimiterStats,
    pub outputs: Vec<RenderedOutput>,
}

/// What to render.
pub struct RenderSpec<'a> {
    pub chain: &'a Chain,
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    pub deliverables: &'a [Deliverable],
    /// Seeds the dither, so a track renders the same on any thread.
    pub seed: u64,
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
            *slot = Some(Envelope { env, floor });
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
        let lim = LimiterSettings {
            ceiling_dbtp: spec.ceiling_dbtp - margin_db,
            lookahead_ms: spec.chain.limiter.lookahead_ms,
            release_ms: spec.chain.limiter.release_ms,
            hold_ms: spec.chain.limiter.hold_ms,
        };
        let env = Envelope::ensure(&mut self.envelope, &self.pre, &lim, gain_db);
        let curve = limiter::gain_curve_db(&lim, self.sample_rate, env, gain_db);
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

/// One pass over every branch: the limiter stats of the first deliverable's
/// branch, and every deliverable's candidate in order.
fn render_pass(
    branches: &mut [Branch],
    spec: &RenderSpec,
    gain_db: f64,
    margin_db: f64,
) -> (LimiterStats, Vec<Candidate>) {
    let mut out: Vec<Option<Candidate>> = spec.deliverables.iter().map(|_| None).collect();
    let mut stats = None;
    for b in branches.iter_mut() {
        let s = b.pass(spec, gain_db, margin_db, &mut out);
        if b.deliverables.contains(&0) {
            stats = Some(s);
        }
    }
    (stats.unwrap_or_default(), out.into_iter().map(|c| c.expect("every deliverable has a branch")).collect())
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
/// deliverable, re-rendering with a corrected gain and a tighter limiter
/// until every output is within [`LOUDNESS_TOLERANCE_LU`] of the target and
/// at or under the ceiling.
///
/// Each pass measures only the integrated loudness of what it would write;
/// the full measurement (true peak included) runs once a pass is on target.
pub fn render(pre: Vec<Vec<f32>>, sample_rate: u32, spec: &RenderSpec) -> Result<Rendered> {
    let pre_lufs = loudness::integrated(&pre, sample_rate);
    if !pre_lufs.is_finite() {
        return Err(Error::Render("the track is silent after the chain; there is nothing to master".into()));
    }
    let mut branches = Branch::for_spec(pre, sample_rate, spec)?;
    let mut gain_db = spec.target_lufs - pre_lufs;
    let mut margin_db = CEILING_MARGIN_DB;
    let mut prev: Option<(f64, f64)> = None; // (gain, loudness) of the previous pass
    let mut best: Option<(f64, f64, f64)> = None; // (score, gain, margin)
    for pass in 1..=MAX_PASSES {
        let (limiter, candidates) = render_pass(&mut branches, spec, gain_db, margin_db);
        let mean = candidates.iter().map(|c| c.lufs).sum::<f64>() / candidates.len() as f64;
        let worst_err = candidates.iter().map(|c| (c.lufs - spec.target_lufs).abs()).fold(0.0, f64::max);
        let mut score = worst_err;
        if worst_err <= LOUDNESS_TOLERANCE_LU {
            let outputs = measure_all(candidates)?;
            let worst_tp =
                outputs.iter().map(|o| o.measurement.true_peak_dbtp).fold(f64::NEG_INFINITY, f64::max);
            if worst_tp <= spec.ceiling_dbtp {
                return Ok(Rendered { gain_db, passes: pass, limiter, outputs });
            }
            score += 100.0 + worst_tp - spec.ceiling_dbtp;
            margin_db += worst_tp - spec.ceiling_dbtp + 0.05;
        } else {
            Branch::recycle(&mut branches, candidates);
        }
        if best.is_none_or(|(s, _, _)| score < s) {
            best = Some((score, gain_db, margin_db));
        }
        // Secant step on loudness against gain; limiting makes the slope < 1.
        let slope = match prev {
            Some((g0, l0)) if (gain_db - g0).abs() > 1e-6 => ((mean - l0) / (gain_db - g0)).clamp(0.1, 1.5),
            _ => 1.0,
        };
        prev = Some((gain_db, mean));
        gain_db += (spec.target_lufs - mean) / slope;
    }
    // No pass met both promises: write the closest one (its checks will say so).
    let (_, gain_db, margin_db) = best.expect("at least one pass ran");
    let (limiter, candidates) = render_pass(&mut branches, spec, gain_db, margin_db);
    Ok(Rendered { gain_db, passes: MAX_PASSES, limiter, outputs: measure_all(candidates)? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::dither::DitherKind;
    use crate::testutil::{db, reference_true_peak};

    fn song(i: usize, seconds: f64, rate: u32) -> Vec<Vec<f32>> {
        let s = crate::synth::Song { seconds, ..crate::synth::sample_album_songs()[i].clone() };
        crate::synth::render(&s, rate).to_vec()
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
        for (i, target) in [(3usize, -8.0), (0, -14.0)] {
            let mut x = song(i, 12.0, 48000);
            pre_gain(&chain, 48000, &mut x);
            let spec = RenderSpec {
                chain: &chain,
                target_lufs: target,
                ceiling_dbtp: -1.0,
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
}
