//! QC checks: the premaster brief a mastering engineer gives clients, and
//! what a master must meet. Each check measures one thing, compares it with
//! a threshold, and says what it found in the words an engineer would use.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audio::SourceFormat;
use crate::dsp::limiter::Budget;
use crate::loudness::Measurement;
use crate::render::{Bound, Needed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fail,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub id: String,
    pub severity: Severity,
    pub message: String,
    /// The measured value, in the unit the message gives.
    pub value: Option<f64>,
    pub threshold: Option<f64>,
}

fn check(id: &str, severity: Severity, message: String, value: f64, threshold: Option<f64>) -> Check {
    Check { id: id.into(), severity, message, value: value.is_finite().then_some(value), threshold }
}

/// Every check id lathe can report.
pub const ALL_IDS: &[&str] = &[
    "premaster.sample_rate",
    "premaster.bit_depth",
    "premaster.headroom",
    "premaster.clipping",
    "premaster.bus_limiting",
    "premaster.dc_offset",
    "premaster.phase",
    "premaster.silence",
    "premaster.too_short",
    "premaster.nonfinite",
    "premaster.mono",
    "album.sample_rate_mix",
    "stems.length_mismatch",
    "stems.silent",
    "stems.clipping",
    "stems.sum_over",
    "master.loudness",
    "master.true_peak",
    "master.clipping",
    "master.dynamics",
    "album.loudness",
    "album.loudness_spread",
];

/// Tunable thresholds and their defaults (`qc.thresholds` in the manifest).
pub const THRESHOLDS: &[(&str, f64)] = &[
    ("premaster.sample_rate.min_hz", 44100.0),
    ("premaster.bit_depth.min_bits", 16.0),
    ("premaster.headroom.max_peak_dbfs", -3.0),
    ("premaster.headroom.min_peak_dbfs", -10.0),
    ("premaster.clipping.min_run", 3.0),
    ("premaster.bus_limiting.min_plr_db", 9.0),
    ("premaster.bus_limiting.max_peak_density", 0.002),
    ("premaster.dc_offset.max_dbfs", -50.0),
    ("premaster.phase.min_correlation", 0.0),
    ("premaster.silence.max_s", 2.0),
    ("master.loudness.tolerance_lu", 0.1),
    ("master.dynamics.max_lra_loss_lu", 2.0),
    ("master.dynamics.max_limiting_db", 6.0),
    ("album.loudness_spread.max_lu", 6.0),
];

pub fn is_known_id(id: &str) -> bool {
    ALL_IDS.contains(&id)
}

pub fn is_known_threshold(key: &str) -> bool {
    THRESHOLDS.iter().any(|(k, _)| *k == key)
}

/// Threshold values: defaults overridden by the manifest.
#[derive(Debug, Clone, Default)]
pub struct Thresholds(pub BTreeMap<String, f64>);

impl Thresholds {
    pub fn get(&self, key: &str) -> f64 {
        self.0.get(key).copied().unwrap_or_else(|| {
            THRESHOLDS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("no default for threshold {key}"))
        })
    }
}

/// Promotes warnings of the listed ids to failures (a CI job's strictness).
pub fn apply_fail_on(checks: &mut [Check], fail_on: &[String]) {
    for c in checks {
        if c.severity == Severity::Warn && fail_on.contains(&c.id) {
            c.severity = Severity::Fail;
        }
    }
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

fn timestamp(seconds: f64) -> String {
    let m = (seconds / 60.0).floor();
    format!("{}:{:06.3}", m as u64, seconds - m * 60.0)
}

/// Sample-level facts about a premaster, gathered in one pass.
#[derive(Debug, Clone, Default)]
pub struct SampleScan {
    /// Runs of consecutive identical full-scale samples (flat tops): (start frame, length).
    /// Floating-point audio above full scale is not clipped unless it is flat.
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

/// A sample is "full scale" at or above this level (−0.01 dBFS).
pub const FULL_SCALE: f32 = 0.998_85;
const SILENCE: f32 = 0.001; // -60 dBFS

/// Scans planar samples for clipping, DC, phase, silence and peak density.
pub fn scan(channels: &[Vec<f32>], min_clip_run: usize) -> SampleScan {
    let frames = channels.first().map_or(0, |c| c.len());
    let mut s = SampleScan { frames, correlation: 1.0, ..Default::default() };
    if frames == 0 {
        return s;
    }
    let peak = channels.iter().flat_map(|c| c.iter()).fold(0f32, |m, x| m.max(x.abs()));
    let near_peak = peak * 0.988_55; // within 0.1 dB
    let mut near = 0usize;
    for ch in channels {
        let mut run_start = None;
        let mut sum = 0f64;
        let mut prev = 0f32;
        for (i, &x) in ch.iter().enumerate() {
            sum += x as f64;
            if x.abs() >= near_peak && peak > 0.0 {
                near += 1;
            }
            let full = x.abs() >= FULL_SCALE;
            let continues = full && run_start.is_some() && x == prev;
            prev = x;
            if !continues {
                if let Some(start) = run_start.take()
                    && i - start >= min_clip_run
                {
                    s.clip_run_count += 1;
                    if s.clip_runs.len() < 100 {
                        s.clip_runs.push((start, i - start));
                    }
                }
                if full {
                    run_start = Some(i);
                }
            }
        }
        if let Some(start) = run_start
            && frames - start >= min_clip_run
        {
            s.clip_run_count += 1;
            s.clip_runs.push((start, frames - start));
        }
        s.dc = s.dc.max((sum / frames as f64).abs());
    }
    s.clip_runs.sort();
    s.peak_density = near as f64 / (frames * channels.len()) as f64;
    let loud = |i: usize| channels.iter().any(|c| c[i].abs() > SILENCE);
    let first = (0..frames).find(|&i| loud(i));
    let last = (0..frames).rev().find(|&i| loud(i));
    match (first, last) {
        (Some(f), Some(l)) => {
            s.leading_silence_frames = f;
            s.trailing_silence_frames = frames - 1 - l;
        }
        _ => {
            s.leading_silence_frames = frames;
            s.trailing_silence_frames = frames;
        }
    }
    if channels.len() == 2 {
        let (l, r) = (&channels[0], &channels[1]);
        let (mut sl, mut sr, mut slr, mut sm) = (0f64, 0f64, 0f64, 0f64);
        for (&a, &b) in l.iter().zip(r) {
            let (a, b) = (a as f64, b as f64);
            sl += a * a;
            sr += b * b;
            slr += a * b;
            sm += (a + b) * (a + b) * 0.25;
        }
        s.correlation = if sl > 0.0 && sr > 0.0 { slr / (sl * sr).sqrt() } else { 1.0 };
        let stereo = (sl + sr) * 0.5;
        s.mono_loss_db = if stereo > 0.0 && sm > 0.0 { 10.0 * (sm / stereo).log10() } else { 0.0 };
    }
    s
}

/// Converts the scan's silence lengths from frames to seconds.
fn seconds(frames: f64, rate: u32) -> f64 {
    frames / rate as f64
}

/// The premaster brief: at least 16-bit / 44.1 kHz, peaks between −10 and
/// −3 dBFS, nothing on the mix bus, and a signal that is actually there.
pub fn premaster(fmt: &SourceFormat, m: &Measurement, scan: &SampleScan, th: &Thresholds) -> Vec<Check> {
    let mut out = Vec::new();
    let rate = fmt.sample_rate;
    let min_rate = th.get("premaster.sample_rate.min_hz");
    if (rate as f64) < min_rate {
        out.push(check(
            "premaster.sample_rate",
            Severity::Warn,
            format!("exported at {:.1} kHz; ask for at least {:.1} kHz (export at the session's rate, no conversion)", rate as f64 / 1000.0, min_rate / 1000.0),
            rate as f64,
            Some(min_rate),
        ));
    }
    let min_bits = th.get("premaster.bit_depth.min_bits");
    if let Some(bits) = fmt.bit_depth.filter(|_| !fmt.float)
        && (bits as f64) < min_bits
    {
        out.push(check(
            "premaster.bit_depth",
            Severity::Warn,
            format!("exported at {bits}-bit; ask for at least {min_bits:.0}-bit (24-bit or 32-bit float preferred)"),
            bits as f64,
            Some(min_bits),
        ));
    }
    let duration = m.duration_s;
    if duration < 0.4 {
        out.push(check(
            "premaster.too_short",
            Severity::Fail,
            format!("lasts {duration:.3} s, shorter than one 400 ms loudness block: it cannot be measured or mastered"),
            duration,
            Some(0.4),
        ));
    } else if duration < 3.0 {
        out.push(check(
            "premaster.too_short",
            Severity::Warn,
            format!("lasts {duration:.2} s; loudness range needs at least 3 s and is not meaningful"),
            duration,
            Some(3.0),
        ));
    }
    let silent = scan.leading_silence_frames >= scan.frames;
    if silent || !m.integrated_lufs.is_finite() {
        out.push(check(
            "premaster.silence",
            Severity::Fail,
            "is silent (nothing above the −70 LUFS gate): check the export, nothing was printed".into(),
            m.sample_peak_dbfs,
            None,
        ));
        return out;
    }
    let peak = m.sample_peak_dbfs;
    let (hi, lo) = (th.get("premaster.headroom.max_peak_dbfs"), th.get("premaster.headroom.min_peak_dbfs"));
    if peak > hi {
        out.push(check(
            "premaster.headroom",
            Severity::Warn,
            format!("peaks reach {peak:.1} dBFS; leave {:.0}–{:.0} dB of headroom for mastering (pull the master fader down, don't limit)", -hi, -lo),
            peak,
            Some(hi),
        ));
    } else if peak < lo {
        out.push(check(
            "premaster.headroom",
            Severity::Warn,
            format!("peaks only reach {peak:.1} dBFS; a premaster peaking between {lo:.0} and {hi:.0} dBFS keeps the noise floor out of the way"),
            peak,
            Some(lo),
        ));
    }
    if scan.clip_run_count > 0 {
        let times: Vec<String> =
            scan.clip_runs.iter().take(5).map(|(s, _)| timestamp(seconds(*s as f64, rate))).collect();
        let more = if scan.clip_run_count > 5 {
            format!(" and {} more", scan.clip_run_count - 5)
        } else {
            String::new()
        };
        out.push(check(
            "premaster.clipping",
            Severity::Warn,
            format!(
                "clipped: {} run{} of consecutive full-scale samples, at {}{more}; re-export with the master fader lower",
                scan.clip_run_count,
                if scan.clip_run_count == 1 { "" } else { "s" },
                times.join(", ")
            ),
            scan.clip_run_count as f64,
            Some(0.0),
        ));
    }
    let plr = m.plr_db();
    let min_plr = th.get("premaster.bus_limiting.min_plr_db");
    let max_density = th.get("premaster.bus_limiting.max_peak_density");
    if plr < min_plr && scan.peak_density > max_density {
        out.push(check(
            "premaster.bus_limiting",
            Severity::Warn,
            format!(
                "sounds limited or heavily compressed on the mix bus: peak-to-loudness ratio {plr:.1} dB and flat-topped peaks ({:.2}% of samples within 0.1 dB of the peak); bypass bus processing and re-export",
                scan.peak_density * 100.0
            ),
            plr,
            Some(min_plr),
        ));
    }
    let dc_db = db(scan.dc);
    let max_dc = th.get("premaster.dc_offset.max_dbfs");
    if dc_db > max_dc {
        out.push(check(
            "premaster.dc_offset",
            Severity::Warn,
            format!("carries a DC offset of {dc_db:.1} dBFS; it wastes headroom (lathe's 20 Hz high-pass removes it)"),
            dc_db,
            Some(max_dc),
        ));
    }
    let min_corr = th.get("premaster.phase.min_correlation");
    if fmt.channels == 2 && scan.correlation < min_corr {
        out.push(check(
            "premaster.phase",
            Severity::Warn,
            format!(
                "left and right are out of phase (correlation {:.2}); folded to mono it loses {:.1} dB: check for a polarity flip or an over-wide stereo effect",
                scan.correlation, -scan.mono_loss_db
            ),
            scan.correlation,
            Some(min_corr),
        ));
    }
    let max_sil = th.get("premaster.silence.max_s");
    let (lead, trail) = (
        seconds(scan.leading_silence_frames as f64, rate),
        seconds(scan.trailing_silence_frames as f64, rate),
    );
    if lead > max_sil || trail > max_sil {
        out.push(check(
            "premaster.silence",
            Severity::Info,
            format!("{lead:.1} s of silence before the music and {trail:.1} s after; trim or keep as intended spacing"),
            lead.max(trail),
            Some(max_sil),
        ));
    }
    out
}

/// `album.sample_rate_mix`: premasters at different rates.
pub fn album_sample_rates(rates: &[u32]) -> Option<Check> {
    let mut distinct: Vec<u32> = rates.to_vec();
    distinct.sort();
    distinct.dedup();
    (distinct.len() > 1).then(|| {
        check(
            "album.sample_rate_mix",
            Severity::Info,
            format!(
                "premasters come at {} Hz; each deliverable is converted to one rate",
                distinct.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
            ),
            distinct.len() as f64,
            Some(1.0),
        )
    })
}

/// Checks of a stems track: lengths, silent and clipped stems, a hot sum.
pub fn stems(facts: &[crate::stems::StemFacts], sum_peak_dbfs: f64, rate: u32) -> Vec<Check> {
    let mut out = Vec::new();
    // The first longest and first shortest stem, in manifest order.
    let long = facts.iter().reduce(|a, b| if b.frames > a.frames { b } else { a });
    let short = facts.iter().reduce(|a, b| if b.frames < a.frames { b } else { a });
    if let (Some(long), Some(short)) = (long, short)
        && long.frames != short.frames
    {
        let diff = (long.frames - short.frames) as f64 / rate as f64;
        out.push(check(
            "stems.length_mismatch",
            Severity::Warn,
            format!(
                "stem `{}` is {diff:.3} s shorter than `{}`; padded with silence (stems from one session should share a start and length)",
                short.name, long.name
            ),
            diff,
            Some(0.0),
        ));
    }
    for f in facts.iter().filter(|f| !f.mix.mute) {
        if f.file_peak_dbfs < -90.0 {
            out.push(check(
                "stems.silent",
                Severity::Warn,
                format!(
                    "stem `{}` is silent: check the export (mute it in the manifest if that is intended)",
                    f.name
                ),
                f.file_peak_dbfs,
                Some(-90.0),
            ));
        }
        if f.clip_runs > 0 {
            out.push(check(
                "stems.clipping",
                Severity::Warn,
                format!(
                    "stem `{}` is clipped ({} runs of full-scale samples); re-export it with headroom",
                    f.name, f.clip_runs
                ),
                f.clip_runs as f64,
                Some(0.0),
            ));
        }
    }
    if sum_peak_dbfs > 0.0 {
        out.push(check(
            "stems.sum_over",
            Severity::Info,
            format!("the summed stems peak at {sum_peak_dbfs:+.1} dBFS; fine in floating point, the master gain brings it down"),
            sum_peak_dbfs,
            Some(0.0),
        ));
    }
    out
}

/// What a written master measured, for its checks.
#[derive(Debug, Clone)]
pub struct OutputFacts<'a> {
    pub deliverable: &'a str,
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    /// Samples at integer full scale in the written file.
    pub full_scale_samples: usize,
}

/// What stopped a track's gain, for `master.loudness`.
#[derive(Debug, Clone, Copy)]
pub struct GainBound {
    pub bound: Bound,
    pub needed: Option<Needed>,
    pub budget: Budget,
    pub max_gain_db: f64,
}

/// Why a master that stopped at a bound is short, and the remedy, in the
/// words of the engineer who would fix it.
fn shortfall_reason(target_lufs: f64, b: &GainBound) -> String {
    let n = b.needed;
    match b.bound {
        Bound::SustainedBudget => format!(
            "{target_lufs:.1} LUFS would need about {} of sustained limiting, the budget is {:.1} dB. Raise chain.limiter.budget.sustained_db, add glue compression (chain.compressor) so the limiter has less to do, or lower the target",
            n.map_or("more".into(), |n| format!("{:.1} dB", n.sustained_db)),
            b.budget.sustained_db
        ),
        Bound::PeakBudget => format!(
            "{target_lufs:.1} LUFS would need about {} of limiting on the loudest peak, the budget is {:.1} dB. Raise chain.limiter.budget.peak_db, tame the transients with a fast compressor (chain.compressor), or lower the target",
            n.map_or("more".into(), |n| format!("{:.1} dB", n.peak_db)),
            b.budget.peak_db
        ),
        Bound::MaxGain => format!(
            "{target_lufs:.1} LUFS would need {} of gain, past the {:+.1} dB maximum (target.max_gain_db). The premaster is very quiet: check its export level, or raise target.max_gain_db",
            n.map_or("more".into(), |n| format!("about {:+.1} dB", n.gain_db)),
            b.max_gain_db
        ),
        Bound::Target => "it missed its target".into(),
    }
}

/// Checks of one written master against its target and ceiling. `bound`
/// says what stopped the track's gain: a master short of its target because
/// of its limiting budget or the maximum gain is a warning that says why;
/// any other miss fails.
pub fn master_output(
    o: &OutputFacts,
    target_lufs: f64,
    ceiling_dbtp: f64,
    bound: &GainBound,
    th: &Thresholds,
) -> Vec<Check> {
    let mut out = Vec::new();
    let tol = th.get("master.loudness.tolerance_lu");
    let dev = o.integrated_lufs - target_lufs;
    if dev < -tol && bound.bound != Bound::Target {
        out.push(check(
            "master.loudness",
            Severity::Warn,
            format!(
                "{}: reaches {:.1} LUFS, {:.1} LU short of its {target_lufs:.1} LUFS target: {}",
                o.deliverable,
                o.integrated_lufs,
                -dev,
                shortfall_reason(target_lufs, bound)
            ),
            o.integrated_lufs,
            Some(target_lufs),
        ));
    } else if dev.is_nan() || dev.abs() > tol {
        out.push(check(
            "master.loudness",
            Severity::Fail,
            format!(
                "{}: {:.2} LUFS, {:+.2} LU from its target of {target_lufs:.1} LUFS (tolerance ±{tol} LU)",
                o.deliverable, o.integrated_lufs, dev
            ),
            o.integrated_lufs,
            Some(target_lufs),
        ));
    }
    if o.true_peak_dbtp > ceiling_dbtp {
        out.push(check(
            "master.true_peak",
            Severity::Fail,
            format!(
                "{}: true peak {:.2} dBTP is over the {ceiling_dbtp:.1} dBTP ceiling",
                o.deliverable, o.true_peak_dbtp
            ),
            o.true_peak_dbtp,
            Some(ceiling_dbtp),
        ));
    }
    if o.full_scale_samples > 0 {
        out.push(check(
            "master.clipping",
            Severity::Fail,
            format!("{}: {} samples at full scale in the written file", o.deliverable, o.full_scale_samples),
            o.full_scale_samples as f64,
            Some(0.0),
        ));
    }
    out
}

/// `master.dynamics`: how much of the premaster's movement the master kept.
pub fn master_dynamics(
    premaster_lra: f64,
    master_lra: f64,
    max_limiting_db: f64,
    th: &Thresholds,
) -> Option<Check> {
    let max_loss = th.get("master.dynamics.max_lra_loss_lu");
    let max_lim = th.get("master.dynamics.max_limiting_db");
    let loss = premaster_lra - master_lra;
    if loss > max_loss {
        Some(check(
            "master.dynamics",
            Severity::Warn,
            format!(
                "loudness range fell from {premaster_lra:.1} to {master_lra:.1} LU ({loss:.1} LU lost): the master is squashed; lower the target or ease the compressor"
            ),
            loss,
            Some(max_loss),
        ))
    } else if max_limiting_db > max_lim + 0.05 {
        Some(check(
            "master.dynamics",
            Severity::Warn,
            format!(
                "the limiter takes up to {max_limiting_db:.1} dB off the peaks; expect audible crunch on transients"
            ),
            max_limiting_db,
            Some(max_lim),
        ))
    } else {
        None
    }
}

/// The track that holds an album under its target (album mode).
#[derive(Debug, Clone)]
pub struct HeldBackFacts<'a> {
    pub number: usize,
    pub title: &'a str,
    /// The level the anchor alone would give it, and the loudest it reaches within its bounds.
    pub wanted_lufs: f64,
    pub reached_lufs: f64,
    pub by_lu: f64,
}

/// `album.loudness`: the album's loudness (pooled, or its loudest track's
/// for the `loudest` anchor) against the target. An album held back by a
/// track that cannot take the album gain is a warning naming that track and
/// the remedy; any other miss fails.
pub fn album_loudness(
    deliverable: &str,
    what: &str,
    measured_lufs: f64,
    target_lufs: f64,
    held_back: Option<&HeldBackFacts>,
    th: &Thresholds,
) -> Option<Check> {
    let tol = th.get("master.loudness.tolerance_lu");
    let dev = measured_lufs - target_lufs;
    match held_back {
        Some(h) if dev < -tol => Some(check(
            "album.loudness",
            Severity::Warn,
            format!(
                "{deliverable}: {what} measures {measured_lufs:.2} LUFS, {:.2} LU under its {target_lufs:.1} LUFS target: track {} `{}` holds it back. At the album's gain it would need {:.1} LUFS, and within its limiting budget it reaches {:.1} LUFS, so the whole album comes down {:.1} LU to keep the tracks' relative levels. Give that track `offset_lu: {:.1}` so the rest can reach the target, raise its limiting budget, or add glue compression to it",
                -dev, h.number, h.title, h.wanted_lufs, h.reached_lufs, h.by_lu, -h.by_lu
            ),
            measured_lufs,
            Some(target_lufs),
        )),
        _ if dev.is_nan() || dev.abs() > tol => Some(check(
            "album.loudness",
            Severity::Fail,
            format!(
                "{deliverable}: {what} measures {measured_lufs:.2} LUFS, {dev:+.2} LU from its {target_lufs:.1} LUFS target"
            ),
            measured_lufs,
            Some(target_lufs),
        )),
        _ => None,
    }
}

/// `premaster.mono`: a one-channel premaster is measured as dual mono.
pub fn mono(channels: usize) -> Option<Check> {
    (channels == 1).then(|| {
        check(
            "premaster.mono",
            Severity::Info,
            "mono premaster: measured and mastered as dual mono (the EBU convention for a mono signal on two speakers; it reads 3 LU louder than one channel alone), and written as two identical channels".into(),
            1.0,
            None,
        )
    })
}

/// `album.loudness_spread`: how far apart the masters sit (offsets removed).
pub fn album_spread(spread_lu: f64, th: &Thresholds) -> Check {
    let max = th.get("album.loudness_spread.max_lu");
    let (severity, message) = if spread_lu > max {
        (
            Severity::Warn,
            format!("tracks sit {spread_lu:.1} LU apart; on shuffle, listeners will reach for the volume"),
        )
    } else {
        (Severity::Info, format!("tracks sit within {spread_lu:.1} LU of each other"))
    };
    check("album.loudness_spread", severity, message, spread_lu, Some(max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::sine;

    const RATE: u32 = 48000;

    fn fmt(rate: u32, bits: u32) -> SourceFormat {
        SourceFormat {
            codec: "pcm".into(),
            sample_rate: rate,
            channels: 2,
            bit_depth: Some(bits),
            float: false,
        }
    }

    /// A premaster-like signal: a few tones at `peak_dbfs`, left and right slightly different.
    fn music(peak_dbfs: f64, seconds: f64, rate: u32) -> Vec<Vec<f32>> {
        let a = 10f64.powf(peak_dbfs / 20.0) / 2.2;
        let l: Vec<f32> = sine(110.0, a, 0.0, seconds, rate)
            .iter()
            .zip(sine(440.0, a, 0.3, seconds, rate))
            .zip(sine(1250.0, a * 0.2, 0.1, seconds, rate))
            .map(|((x, y), z)| x + y + z)
            .collect();
        let r: Vec<f32> =
            l.iter().zip(sine(660.0, a * 0.2, 0.0, seconds, rate)).map(|(x, y)| x * 0.9 + y).collect();
        vec![l, r]
    }

    fn ids(f: &SourceFormat, x: &[Vec<f32>]) -> Vec<String> {
        let (m, _) = crate::loudness::measure(x, f.sample_rate).unwrap();
        let th = Thresholds::default();
        let s = scan(x, th.get("premaster.clipping.min_run") as usize);
        premaster(f, &m, &s, &th).into_iter().map(|c| c.id).collect()
    }

    fn has(f: &SourceFormat, x: &[Vec<f32>], id: &str) -> bool {
        ids(f, x).iter().any(|i| i == id)
    }

    #[test]
    fn a_good_premaster_raises_nothing() {
        let x = music(-6.0, 10.0, RATE);
        assert_eq!(ids(&fmt(RATE, 24), &x), Vec::<String>::new());
    }

    #[test]
    fn sample_rate_and_bit_depth() {
        let x = music(-6.0, 5.0, 22050);
        assert!(has(&fmt(22050, 24), &x, "premaster.sample_rate"));
        assert!(!has(&fmt(44100, 24), &music(-6.0, 5.0, 44100), "premaster.sample_rate"));
        let x = music(-6.0, 5.0, RATE);
        assert!(has(&fmt(RATE, 8), &x, "premaster.bit_depth"));
        assert!(!has(&fmt(RATE, 16), &x, "premaster.bit_depth"));
    }

    #[test]
    fn headroom_too_hot_and_too_quiet() {
        let f = fmt(RATE, 24);
        assert!(has(&f, &music(-1.0, 5.0, RATE), "premaster.headroom"));
        assert!(has(&f, &music(-14.0, 5.0, RATE), "premaster.headroom"));
        assert!(!has(&f, &music(-4.0, 5.0, RATE), "premaster.headroom"));
        let (m, _) = crate::loudness::measure(&music(-1.0, 5.0, RATE), RATE).unwrap();
        let s = scan(&music(-1.0, 5.0, RATE), 3);
        let c = premaster(&f, &m, &s, &Thresholds::default());
        let msg = &c.iter().find(|c| c.id == "premaster.headroom").unwrap().message;
        let peak = m.sample_peak_dbfs;
        assert!(msg.starts_with(&format!("peaks reach {peak:.1} dBFS; leave 3–10 dB of headroom")), "{msg}");
    }

    #[test]
    fn clipping_counts_runs_of_full_scale_samples() {
        let f = fmt(RATE, 24);
        let mut x = music(-6.0, 5.0, RATE);
        x[0][1000..1010].fill(1.0);
        x[1][96000..96004].fill(-1.0);
        let th = Thresholds::default();
        let s = scan(&x, 3);
        assert_eq!(s.clip_run_count, 2);
        let (m, _) = crate::loudness::measure(&x, RATE).unwrap();
        let c = premaster(&f, &m, &s, &th);
        let clip = c.iter().find(|c| c.id == "premaster.clipping").unwrap();
        assert!(clip.message.contains("2 runs") && clip.message.contains("0:02.000"), "{}", clip.message);
        // Floating-point audio over full scale is loud, not clipped, unless it is flat.
        let hot: Vec<Vec<f32>> =
            music(-6.0, 5.0, RATE).iter().map(|c| c.iter().map(|v| v * 4.0).collect()).collect();
        assert_eq!(scan(&hot, 3).clip_run_count, 0);
        // Two isolated full-scale samples are not a run of three.
        let mut y = music(-6.0, 5.0, RATE);
        y[0][500] = 1.0;
        y[0][502] = 1.0;
        assert!(!has(&f, &y, "premaster.clipping"));
    }

    #[test]
    fn bus_limiting_needs_low_plr_and_flat_tops() {
        let f = fmt(RATE, 24);
        // A square-ish wave: every peak at the same level, loud for its peak.
        let sq: Vec<f32> =
            sine(100.0, 1.0, 0.0, 5.0, RATE).iter().map(|v| (v * 4.0).clamp(-0.7, 0.7)).collect();
        assert!(has(&f, &[sq.clone(), sq], "premaster.bus_limiting"));
        assert!(!has(&f, &music(-4.0, 5.0, RATE), "premaster.bus_limiting"));
    }

    #[test]
    fn dc_offset() {
        let f = fmt(RATE, 24);
        let mut x = music(-6.0, 5.0, RATE);
        x.iter_mut().for_each(|c| c.iter_mut().for_each(|v| *v += 0.01));
        assert!(has(&f, &x, "premaster.dc_offset"));
        assert!(!has(&f, &music(-6.0, 5.0, RATE), "premaster.dc_offset"));
    }

    #[test]
    fn phase_flags_an_inverted_channel() {
        let f = fmt(RATE, 24);
        let mut x = music(-6.0, 5.0, RATE);
        x[1] = x[0].iter().map(|v| -v).collect();
        assert!(has(&f, &x, "premaster.phase"));
        assert!(!has(&f, &music(-6.0, 5.0, RATE), "premaster.phase"));
    }

    #[test]
    fn silence_all_and_at_the_ends() {
        let f = fmt(RATE, 24);
        let silent = vec![vec![0f32; RATE as usize * 5]; 2];
        let c = ids(&f, &silent);
        assert!(c.contains(&"premaster.silence".to_string()));
        let mut x = music(-6.0, 10.0, RATE);
        x.iter_mut().for_each(|c| c[..RATE as usize * 3].fill(0.0));
        assert!(has(&f, &x, "premaster.silence"));
        assert!(!has(&f, &music(-6.0, 10.0, RATE), "premaster.silence"));
    }

    #[test]
    fn too_short_for_a_block_and_for_lra() {
        let f = fmt(RATE, 24);
        let (m, _) = crate::loudness::measure(&music(-6.0, 0.3, RATE), RATE).unwrap();
        let s = scan(&music(-6.0, 0.3, RATE), 3);
        let c = premaster(&f, &m, &s, &Thresholds::default());
        assert!(c.iter().any(|c| c.id == "premaster.too_short" && c.severity == Severity::Fail));
        assert!(has(&f, &music(-6.0, 2.0, RATE), "premaster.too_short"));
        assert!(!has(&f, &music(-6.0, 4.0, RATE), "premaster.too_short"));
    }

    #[test]
    fn album_sample_rate_mix() {
        assert!(album_sample_rates(&[44100, 48000]).is_some());
        assert!(album_sample_rates(&[48000, 48000]).is_none());
    }

    #[test]
    fn master_checks() {
        let th = Thresholds::default();
        let good = OutputFacts {
            deliverable: "d",
            integrated_lufs: -14.04,
            true_peak_dbtp: -1.02,
            full_scale_samples: 0,
        };
        let on = GainBound { bound: Bound::Target, needed: None, budget: Budget::DEFAULT, max_gain_db: 24.0 };
        assert!(master_output(&good, -14.0, -1.0, &on, &th).is_empty());
        let off = OutputFacts { integrated_lufs: -14.2, ..good.clone() };
        let c = &master_output(&off, -14.0, -1.0, &on, &th)[0];
        assert_eq!((c.id.as_str(), c.severity), ("master.loudness", Severity::Fail));
        let hot = OutputFacts { true_peak_dbtp: -0.9, ..good.clone() };
        assert_eq!(master_output(&hot, -14.0, -1.0, &on, &th)[0].id, "master.true_peak");
        let clipped = OutputFacts { full_scale_samples: 3, ..good.clone() };
        assert_eq!(master_output(&clipped, -14.0, -1.0, &on, &th)[0].id, "master.clipping");
        let silent = OutputFacts { integrated_lufs: f64::NEG_INFINITY, ..good.clone() };
        assert_eq!(master_output(&silent, -14.0, -1.0, &on, &th)[0].id, "master.loudness");

        // Short of the target because of the budget: a warning that says why and what to do.
        let short = OutputFacts { integrated_lufs: -15.8, ..good.clone() };
        let needed = Needed { gain_db: 9.0, sustained_db: 4.3, peak_db: 9.5 };
        let budget = GainBound { bound: Bound::SustainedBudget, needed: Some(needed), ..on };
        let c = &master_output(&short, -14.0, -1.0, &budget, &th)[0];
        assert_eq!(c.severity, Severity::Warn);
        assert!(c.message.starts_with("d: reaches -15.8 LUFS, 1.8 LU short of its -14.0 LUFS target: -14.0 LUFS would need about 4.3 dB of sustained limiting, the budget is 1.5 dB"), "{}", c.message);
        assert!(c.message.contains("glue compression"), "{}", c.message);
        let peak = GainBound { bound: Bound::PeakBudget, ..budget };
        assert!(
            master_output(&short, -14.0, -1.0, &peak, &th)[0]
                .message
                .contains("9.5 dB of limiting on the loudest peak, the budget is 6.0 dB")
        );
        let gain = GainBound { bound: Bound::MaxGain, ..budget };
        assert!(
            master_output(&short, -14.0, -1.0, &gain, &th)[0]
                .message
                .contains("about +9.0 dB of gain, past the +24.0 dB maximum")
        );
        // A bounded track over its target still fails: no bound makes a master too loud.
        let loud = OutputFacts { integrated_lufs: -13.5, ..good };
        assert_eq!(master_output(&loud, -14.0, -1.0, &budget, &th)[0].severity, Severity::Fail);

        assert!(master_dynamics(10.0, 9.0, 2.0, &th).is_none());
        assert!(master_dynamics(10.0, 6.0, 2.0, &th).is_some());
        assert!(master_dynamics(10.0, 9.5, 8.0, &th).is_some());
        assert_eq!(album_spread(8.0, &th).severity, Severity::Warn);
        assert_eq!(album_spread(2.0, &th).severity, Severity::Info);
    }

    #[test]
    fn fail_on_promotes_warnings_only() {
        let mut c = vec![
            check("premaster.headroom", Severity::Warn, "m".into(), 1.0, None),
            check("premaster.silence", Severity::Info, "m".into(), 1.0, None),
        ];
        apply_fail_on(&mut c, &["premaster.headroom".into(), "premaster.silence".into()]);
        assert_eq!(c[0].severity, Severity::Fail);
        assert_eq!(c[1].severity, Severity::Info);
    }

    #[test]
    fn thresholds_override_defaults() {
        let mut t = Thresholds::default();
        assert_eq!(t.get("premaster.headroom.max_peak_dbfs"), -3.0);
        t.0.insert("premaster.headroom.max_peak_dbfs".into(), -1.0);
        assert_eq!(t.get("premaster.headroom.max_peak_dbfs"), -1.0);
        assert!(THRESHOLDS.iter().all(|(k, _)| ALL_IDS.iter().any(|id| k.starts_with(id))));
    }
}
