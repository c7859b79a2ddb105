//! The deliverables at each output rate ("branches"), and one render pass
//! over them, a block at a time: the pre-gain premaster and its peak
//! envelope read back from spill files, the limiter's gain curve made as
//! they stream, gain and curve applied, each deliverable quantized as it is
//! stored, written to its file (in the staging folder) and its loudness
//! measured. The accepted pass's files are read back and fully measured, so
//! the report's figures are those of the files on disk; a later pass
//! replaces a rejected pass's files.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::lane::{Candidate, Lane, PartedFile, Written};
use super::{BLOCK, Prepared, RenderSpec};
use crate::audio::encode::{Deliverable, Layout};
use crate::audio::spill::{Run, Sparse, SparseReader, SparseWriter, Spill};
use crate::dsp::dither::Quantizer;
use crate::dsp::limiter::curve::{CurveStream, Tally};
use crate::dsp::limiter::{self, LimiterSettings, LimiterStats};
use crate::dsp::loudness::BlockEnergies;
use crate::dsp::math;
use crate::dsp::peaks::EnvelopeStream;
use crate::dsp::spectrum::Spectrum;
use crate::error::{Error, Result};

/// The premaster's peak envelope, spilled and kept across passes. It is
/// exact above `floor`, so it serves every pass whose limiter threshold (in
/// premaster units: ceiling less margin less gain) stays above that floor.
struct Envelope {
    /// Only the values over `floor` are stored: the limiter reads no others.
    spill: Sparse,
    floor: f32,
    /// The premaster's true peak where it is above `floor` (the envelope
    /// is exact there), else `floor`: never under the true peak.
    peak_bound: f32,
}

/// A gain curve spilled, with what it was made for and its tally.
struct Curve {
    gain_db: f64,
    limiter: LimiterSettings,
    spill: Sparse,
    tally: Tally,
}

/// How far below the first pass's threshold the envelope is made exact,
/// so later passes with more gain or a lower ceiling can reuse it (the
/// second pass typically adds well under 1 dB to make up for limiting;
/// a pass that needs more builds the envelope again).
const SPAN_DB: f64 = 2.0;

/// The deliverables at one output rate: the premaster at that rate
/// (spilled once), and its peak envelope. Limiting at the rate that is
/// written holds the ceiling where it is measured, with no second limiter
/// after a resampler.
pub(super) struct Branch<'a> {
    sample_rate: u32,
    pre: &'a Spill,
    envelope: Option<Envelope>,
    /// The last gain curve made without a pass (a prediction's), kept for
    /// the pass that renders at its gain.
    curve: Option<Curve>,
    scratch: std::path::PathBuf,
    /// The premaster's rate, and where its tracks join (premaster frames).
    source_rate: u32,
    splits: Vec<u64>,
    /// Indices into the spec's deliverables.
    deliverables: Vec<usize>,
}

impl<'a> Branch<'a> {
    /// One branch per distinct output rate, each reading the premaster
    /// prepared at its rate.
    pub(super) fn for_spec(
        prepared: &'a Prepared,
        spec: &RenderSpec,
        scratch: &Path,
    ) -> Result<Vec<Branch<'a>>> {
        let rate_of = |d: &Deliverable| d.sample_rate.unwrap_or(prepared.sample_rate);
        if let Some(d) = spec.deliverables.iter().find(|d| prepared.spill(rate_of(d)).is_none()) {
            let rate = rate_of(d);
            return Err(Error::Render(format!("the premaster was not prepared at {rate} Hz")));
        }
        Ok(prepared
            .spills
            .iter()
            .map(|(rate, pre)| {
                let deliverables: Vec<usize> = (spec.deliverables.iter().enumerate())
                    .filter(|(_, d)| rate_of(d) == *rate)
                    .map(|(i, _)| i)
                    .collect();
                Branch {
                    sample_rate: *rate,
                    source_rate: prepared.sample_rate,
                    splits: prepared.splits.clone(),
                    pre,
                    envelope: None,
                    curve: None,
                    scratch: scratch.to_path_buf(),
                    deliverables,
                }
            })
            .filter(|b| !b.deliverables.is_empty())
            .collect())
    }

    /// The envelope, exact wherever a limiter at `gain_db` reads it.
    fn envelope(&mut self, lim: &LimiterSettings, gain_db: f64) -> Result<&Envelope> {
        let needed = limiter::envelope_floor(lim, gain_db);
        if self.envelope.as_ref().is_none_or(|e| needed < e.floor) {
            self.envelope = None; // its file's name is reused
            let floor = limiter::envelope_floor(lim, gain_db + SPAN_DB);
            let path = self.scratch.join(format!("envelope-{}", self.sample_rate));
            let mut out = SparseWriter::create(&path, floor)?;
            let mut stream = EnvelopeStream::new(2, floor);
            let (mut reader, mut block, mut env) =
                (self.pre.reader()?, vec![Vec::new(), Vec::new()], Vec::new());
            let mut peak_bound = floor;
            while reader.read(&mut block, BLOCK)? > 0 {
                env.clear();
                stream.feed(&[&block[0], &block[1]], &mut env);
                peak_bound = env.iter().fold(peak_bound, |m, &v| m.max(v));
                out.write(&env)?;
            }
            env.clear();
            stream.finish(&mut env);
            peak_bound = env.iter().fold(peak_bound, |m, &v| m.max(v));
            out.write(&env)?;
            self.envelope = Some(Envelope { spill: out.finish()?, floor, peak_bound });
        }
        Ok(self.envelope.as_ref().expect("just made"))
    }

    /// The most gain that keeps the largest gain reduction within `peak_db`,
    /// as far as it matters at `gain_db`: exact where that gain limits at
    /// all, and otherwise above `gain_db` (from the envelope's bound).
    pub(super) fn peak_cap_db(&mut self, lim: &LimiterSettings, gain_db: f64, peak_db: f64) -> Result<f64> {
        let peak = self.envelope(lim, gain_db)?.peak_bound as f64;
        Ok(lim.ceiling_dbtp - limiter::DETECTOR_HEADROOM_DB - 20.0 * math::log10(peak) + peak_db)
    }

    /// What the limiter's gain curve at `gain_db` does (sustained, peak, and
    /// each block's power), without applying it. The curve is kept
    /// (spilled), for a pass at the same gain to apply.
    fn curve_work(&mut self, lim: &LimiterSettings, gain_db: f64) -> Result<(f64, f64, Vec<f64>)> {
        let rate = self.sample_rate;
        self.curve = None; // its file's name is reused
        let path = self.scratch.join(format!("curve-{rate}"));
        let env = self.envelope(lim, gain_db)?;
        let (mut curve, mut tally) = (CurveStream::new(lim, rate, gain_db), Tally::new(rate));
        let (mut reader, mut out, mut spill) =
            (env.spill.reader()?, Vec::new(), SparseWriter::create_exact(&path)?);
        loop {
            out.clear();
            if reader.read(BLOCK, |run| feed_curve(&mut curve, run, &mut out))? == 0 {
                break;
            }
            tally.feed(&out);
            spill.write(&out)?;
        }
        out.clear();
        curve.finish(&mut out);
        tally.feed(&out);
        spill.write(&out)?;
        let kept = tally.clone();
        let work = (tally.sustained_db(), tally.peak_db(), tally.take_powers());
        self.curve = Some(Curve { gain_db, limiter: *lim, spill: spill.finish()?, tally: kept });
        Ok(work)
    }

    /// The kept curve, if it was made for this gain and limiter.
    fn kept_curve(&mut self, lim: &LimiterSettings, gain_db: f64) -> Option<Curve> {
        let matches = |c: &Curve| c.gain_db.to_bits() == gain_db.to_bits() && c.limiter == *lim;
        self.curve.take_if(|c| matches(c))
    }

    /// Each track's frames in a deliverable of this branch: the programme
    /// split where its tracks join (rounded to this rate; for an album
    /// image, to its 1/75 s frame grid, the last track padded onto it).
    fn part_frames(&self, frames: u64, d: &Deliverable) -> Vec<u64> {
        let grid = match d.layout {
            Layout::Album => self.sample_rate as u64 / 75,
            Layout::Tracks => 1,
        };
        let ratio = self.sample_rate as f64 / self.source_rate as f64;
        let mut ends: Vec<u64> = (self.splits.iter())
            .map(|&s| (((s as f64 * ratio) / grid as f64).round() as u64 * grid).min(frames))
            .collect();
        ends.push(frames.div_ceil(grid) * grid);
        let mut at = 0;
        ends.into_iter()
            .map(|e| {
                let n = e.saturating_sub(at);
                at = at.max(e);
                n
            })
            .collect()
    }

    fn lanes(&self, spec: &RenderSpec, paths: &[Vec<PathBuf>]) -> Result<Vec<Lane>> {
        let mut lanes = Vec::new();
        for &i in &self.deliverables {
            let d = &spec.deliverables[i];
            // Deliverables that store the same samples (one rate, as every
            // deliverable of a branch, one format and dither: a WAV and a
            // FLAC of one master) share one dither, so
            // they hold the very same samples.
            let same = |j: &usize| {
                (spec.deliverables[*j].format, spec.deliverables[*j].dither) == (d.format, d.dither)
            };
            let first = self.deliverables.iter().copied().find(same).unwrap_or(i);
            let seed = spec.seed.wrapping_add(first as u64);
            let quantizers = (0..2u64)
                .map(|c| {
                    Quantizer::new(d.format.bits().min(24), d.dither, seed.wrapping_mul(31).wrapping_add(c))
                })
                .collect();
            let frames = self.pre.frames() as u64;
            let files: Vec<(PathBuf, u64)> =
                paths[i].iter().cloned().zip(self.part_frames(frames, d)).collect();
            lanes.push(Lane {
                index: i,
                format: d.format,
                quantizers,
                energies: BlockEnergies::new(2, self.sample_rate),
                file: PartedFile::create(files, self.sample_rate, d.format, d.container)?,
                lossy: d.container.is_lossy(),
                samples: [Vec::new(), Vec::new()],
            });
        }
        Ok(lanes)
    }

    /// Gain and limiter, then each deliverable quantized, measured and (when
    /// writing) written, a block at a time.
    fn pass(
        &mut self,
        spec: &RenderSpec,
        gain_db: f64,
        margin_db: f64,
        paths: &[Vec<PathBuf>],
    ) -> Result<(LimiterStats, Vec<(usize, Candidate)>)> {
        let lim = spec.limiter(margin_db);
        let rate = self.sample_rate;
        let mut lanes = self.lanes(spec, paths)?;
        let kept = self.kept_curve(&lim, gain_db);
        self.envelope(&lim, gain_db)?;
        let env = self.envelope.as_ref().expect("just made");
        let mut source = match &kept {
            // The prediction made this very curve: it is read back, not made again.
            Some(c) => Gains::Kept { spill: c.spill.reader()?, tally: c.tally.clone() },
            None => Gains::Made {
                env: env.spill.reader()?,
                curve: Some(Box::new(CurveStream::new(&lim, rate, gain_db))),
                tally: Tally::new(rate),
            },
        };
        let mut pre_reader = self.pre.reader()?;
        let mut pre = vec![Vec::new(), Vec::new()];
        // Premaster frames waiting for their curve (the limiter's latency).
        let mut waiting: [Vec<f32>; 2] = [Vec::new(), Vec::new()];
        let (mut gains, mut y) = (Vec::new(), [Vec::new(), Vec::new()]);
        let g = math::powf(10f64, gain_db / 20.0);
        loop {
            let n = pre_reader.read(&mut pre, BLOCK)?;
            gains.clear();
            source.next(n == 0, &mut gains)?;
            if n > 0 {
                for (w, p) in waiting.iter_mut().zip(&pre) {
                    w.extend_from_slice(p);
                }
            }
            let k = gains.len();
            for (yc, w) in y.iter_mut().zip(&mut waiting) {
                yc.clear();
                yc.extend(w.drain(..k).map(|p| (p as f64 * g) as f32));
            }
            {
                let [l, r] = &mut y;
                limiter::apply_gain(&gains, &mut [l.as_mut_slice(), r.as_mut_slice()]);
            }
            for lane in &mut lanes {
                lane.feed(&y)?;
            }
            if n == 0 {
                break;
            }
        }
        let mut tally = source.into_tally();
        let powers = Rc::new(tally.take_powers());
        let candidates = lanes
            .into_iter()
            .map(|l| Ok((l.index, l.candidate(rate, powers.clone())?)))
            .collect::<Result<_>>()?;
        Ok((tally.finish(), candidates))
    }
}

/// Where a pass's gain curve comes from: made from the envelope as it
/// streams, or read back as a prediction kept it.
enum Gains<'a> {
    Made { env: SparseReader<'a>, curve: Option<Box<CurveStream>>, tally: Tally },
    Kept { spill: SparseReader<'a>, tally: Tally },
}

impl Gains<'_> {
    /// The curve of the next block's frames (and, `last`, of every frame
    /// still held) appended to `out`.
    fn next(&mut self, last: bool, out: &mut Vec<f32>) -> Result<()> {
        match self {
            Gains::Made { env, curve, tally } => {
                let c = curve.as_mut().expect("not finished");
                env.read(BLOCK, |run| feed_curve(c, run, out))?;
                if last {
                    curve.take().expect("not finished").finish(out);
                }
                tally.feed(out);
            }
            Gains::Kept { spill, .. } => {
                spill.read(BLOCK, |run| match run {
                    Run::Zeros(z) => out.resize(out.len() + z, 0.0),
                    Run::Values(v) => out.extend_from_slice(v),
                })?;
            }
        }
        Ok(())
    }

    fn into_tally(self) -> Tally {
        match self {
            Gains::Made { tally, .. } | Gains::Kept { tally, .. } => tally,
        }
    }
}

/// A run of the spilled envelope into the curve.
fn feed_curve(curve: &mut CurveStream, run: Run, out: &mut Vec<f32>) {
    match run {
        Run::Zeros(n) => curve.feed_zeros(n, out),
        Run::Values(v) => curve.feed(v, out),
    }
}

/// What one pass did: the limiter stats of the first deliverable's branch,
/// the most sustained limiting any branch did (what the budget is held
/// against; the peak budget is held in closed form), and every
/// deliverable's loudness in order.
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

/// A pass over every branch: each deliverable quantized, written to its
/// file and its integrated loudness measured.
pub(super) fn render_pass(
    branches: &mut [Branch<'_>],
    spec: &RenderSpec,
    gain_db: f64,
    margin_db: f64,
    paths: &[Vec<PathBuf>],
) -> Result<Pass> {
    let mut out: Vec<Option<Candidate>> = spec.deliverables.iter().map(|_| None).collect();
    let (mut first, mut sustained_db) = (None, 0f64);
    for b in branches.iter_mut() {
        let (s, candidates) = b.pass(spec, gain_db, margin_db, paths)?;
        sustained_db = sustained_db.max(s.sustained_gain_reduction_db);
        if b.deliverables.contains(&0) {
            first = Some(s);
        }
        for (i, c) in candidates {
            out[i] = Some(c);
        }
    }
    Ok(Pass {
        limiter: first.unwrap_or_default(),
        sustained_db,
        candidates: out.into_iter().map(|c| c.expect("every deliverable has a branch")).collect(),
    })
}

/// An accepted pass's files read back and fully measured (per deliverable,
/// one per track of the programme), and the first deliverable's spectra.
pub(super) fn measure_pass(pass: Pass) -> Result<(LimiterStats, Vec<Vec<Written>>, Vec<Spectrum>)> {
    let mut spectra = Vec::new();
    let mut written = Vec::with_capacity(pass.candidates.len());
    for (i, c) in pass.candidates.into_iter().enumerate() {
        written.push(c.measure((i == 0).then_some(&mut spectra))?);
    }
    Ok((pass.limiter, written, spectra))
}

/// What the gain curves at one gain do, from the curves alone (nothing is
/// applied or measured): the most limiting any branch does, and each
/// deliverable's per-block power.
pub(super) struct CurveWork {
    pub sustained_db: f64,
    pub peak_db: f64,
    pub powers: Vec<Rc<Vec<f64>>>,
}

pub(super) fn curve_work(
    branches: &mut [Branch<'_>],
    lim: &LimiterSettings,
    gain_db: f64,
) -> Result<CurveWork> {
    let n = branches.iter().map(|b| b.deliverables.len()).sum();
    let mut work =
        CurveWork { sustained_db: 0.0, peak_db: 0.0, powers: (0..n).map(|_| Rc::new(Vec::new())).collect() };
    for b in branches.iter_mut() {
        let (s, p, powers) = b.curve_work(lim, gain_db)?;
        (work.sustained_db, work.peak_db) = (work.sustained_db.max(s), work.peak_db.max(p));
        let powers = Rc::new(powers);
        for &i in &b.deliverables {
            work.powers[i] = powers.clone();
        }
    }
    Ok(work)
}
