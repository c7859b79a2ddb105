//! `lathe analyze`: measure files, check them, and (with a target) say
//! whether they are deliverable: in album mode the album's pooled loudness
//! and every file's ceiling, in track mode each file. Files are judged as
//! masters unless asked to be judged against the premaster brief.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::audio::SourceFormat;
use crate::audio::decode::Reader;
use crate::audio::source::BLOCK;
use crate::dsp::loudness::BlockEnergies;
use crate::dsp::survey::{Findings, Survey};
use crate::error::{Error, Result};
use crate::manifest::{Mode, defaults, preset};
use crate::qc::{self, Check, CheckId, Severity, Thresholds};

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub integrated_lufs: f64,
    pub lra_lu: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub momentary_max_lufs: f64,
    pub short_term_max_lufs: f64,
    pub plr_db: f64,
    pub sample_rate: u32,
    pub bit_depth: Option<u32>,
    pub channels: usize,
    pub duration_s: f64,
    pub codec: String,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlbumLoudness {
    pub integrated_lufs: f64,
    pub lra_lu: f64,
}

/// A delivery target: loudness ± tolerance, and a ceiling, held by the
/// album (pooled) or by each file.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryTarget {
    pub name: String,
    pub loudness_lufs: f64,
    pub tolerance_lu: f64,
    pub true_peak_dbtp: f64,
    pub mode: Mode,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeReport {
    pub files: Vec<FileReport>,
    pub album: AlbumLoudness,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<DeliveryTarget>,
    /// The album gate (album mode): the pooled loudness against the target.
    pub checks: Vec<Check>,
    /// False when the album or a file misses the target.
    pub passed: bool,
}

/// Resolves `--target`: a built-in preset name or a preset file, held in
/// `mode` (else the preset's mode, else album mode, as a manifest's).
pub fn load_target(name_or_path: &str, mode: Option<Mode>) -> Result<DeliveryTarget> {
    let p = preset::load(name_or_path, Path::new(".")).map_err(|e| match e {
        Some(err) => Error::Manifest(err),
        None => Error::Usage(format!(
            "--target {name_or_path}: no such preset or file (built-in presets: {})",
            preset::names().join(", ")
        )),
    })?;
    let t = p.target;
    match (t.loudness_lufs, t.true_peak_dbtp) {
        (Some(l), Some(tp)) => Ok(DeliveryTarget {
            name: name_or_path.to_string(),
            loudness_lufs: l,
            tolerance_lu: t.tolerance_lu.unwrap_or(defaults::TOLERANCE_LU),
            true_peak_dbtp: tp,
            mode: mode.or(t.mode).unwrap_or(defaults::MODE),
        }),
        _ => Err(Error::Usage(format!(
            "--target {name_or_path}: the preset gives no target.loudness_lufs and target.true_peak_dbtp"
        ))),
    }
}

/// `master.loudness` (track mode) and `master.true_peak` of a delivered
/// file: the pipeline's own check, with no gain bound to explain a miss.
fn target_checks(f: &FileReport, t: &DeliveryTarget) -> Vec<Check> {
    let target = qc::master::Target {
        name: &t.name,
        loudness_lufs: t.loudness_lufs,
        tolerance_lu: t.tolerance_lu,
        ceiling_dbtp: t.true_peak_dbtp,
    };
    let mut checks = qc::master::on_target(f.integrated_lufs, f.true_peak_dbtp, &target, None);
    if t.mode == Mode::Album {
        // The album, not each file, is held to the loudness.
        checks.retain(|c| c.id != CheckId::MasterLoudness);
    }
    checks
}

/// `album.loudness` of delivered files in album mode: their pooled loudness against the target.
fn album_gate(pooled_lufs: f64, files: usize, t: &DeliveryTarget) -> Check {
    let dev = pooled_lufs - t.loudness_lufs;
    let what = format!("the album ({files} files, pooled) measures {pooled_lufs:.2} LUFS");
    if dev.is_nan() || dev.abs() > t.tolerance_lu {
        CheckId::AlbumLoudness.found(
            format!(
                "{}: {what}, {dev:+.2} LU from its {:.1} LUFS target (tolerance ±{} LU)",
                t.name, t.loudness_lufs, t.tolerance_lu
            ),
            pooled_lufs,
            Some(t.loudness_lufs),
        )
    } else {
        CheckId::AlbumLoudness.found_as(
            Severity::Info,
            format!("{}: {what}, on its {:.1} LUFS target ({dev:+.2} LU)", t.name, t.loudness_lufs),
            pooled_lufs,
            Some(t.loudness_lufs),
        )
    }
}

/// What the premaster brief asks of a mix before mastering, and so says
/// nothing of a master: headroom, a limiter on the bus, rate and depth.
fn brief_only(id: CheckId) -> bool {
    matches!(
        id,
        CheckId::PremasterHeadroom
            | CheckId::PremasterBusLimiting
            | CheckId::PremasterSampleRate
            | CheckId::PremasterBitDepth
    )
}

/// Measures a file as it decodes, a block at a time, in its own channels.
fn survey_file(path: &Path, min_clip_run: usize) -> Result<(Findings, SourceFormat)> {
    let mut reader = Reader::open(path)?;
    let mut block: Vec<Vec<f32>> = Vec::new();
    let mut survey: Option<Survey> = None;
    loop {
        block.iter_mut().for_each(Vec::clear);
        if reader.read(&mut block, BLOCK)? == 0 {
            break;
        }
        let views: Vec<&[f32]> = block.iter().map(|c| c.as_slice()).collect();
        let s =
            survey.get_or_insert_with(|| Survey::new(views.len(), reader.format().sample_rate, min_clip_run));
        s.feed(&views).map_err(|e| Error::audio(path, e.to_string()))?;
    }
    let survey = survey.ok_or_else(|| Error::audio(path, "holds no audio samples"))?;
    let found = survey.finish().map_err(|e| Error::audio(path, e.to_string()))?;
    Ok((found, reader.format().clone()))
}

/// Measures and checks every file (as masters, or with `premaster` against
/// the premaster brief). Files are independent and run in parallel.
pub fn analyze_files(
    files: &[PathBuf],
    target: Option<DeliveryTarget>,
    premaster: bool,
) -> Result<AnalyzeReport> {
    let th = Thresholds::default();
    let results: Vec<Result<(FileReport, BlockEnergies)>> = files
        .par_iter()
        .map(|path| {
            let (found, fmt) = survey_file(path, th.min_clip_run())?;
            let (m, energies, scan) = (found.measurement, found.energies, found.scan);
            let mut report = FileReport {
                path: path.display().to_string(),
                integrated_lufs: m.integrated_lufs,
                lra_lu: m.lra_lu,
                true_peak_dbtp: m.true_peak_dbtp,
                sample_peak_dbfs: m.sample_peak_dbfs,
                momentary_max_lufs: m.momentary_max_lufs,
                short_term_max_lufs: m.short_term_max_lufs,
                plr_db: m.plr_db(),
                sample_rate: fmt.sample_rate,
                bit_depth: fmt.bit_depth,
                channels: fmt.channels,
                duration_s: m.duration_s,
                codec: fmt.codec.clone(),
                checks: qc::premaster::checks(&fmt, &m, &scan, &th),
            };
            if !premaster {
                report.checks.retain(|c| !brief_only(c.id));
            }
            if let Some(t) = &target {
                report.checks.extend(target_checks(&report, t));
            }
            Ok((report, energies))
        })
        .collect();
    let results: Vec<(FileReport, BlockEnergies)> = results.into_iter().collect::<Result<_>>()?;
    let parts: Vec<&BlockEnergies> = results.iter().map(|(_, e)| e).collect();
    let (integrated_lufs, lra_lu) =
        (BlockEnergies::pooled_integrated(&parts), BlockEnergies::pooled_lra(&parts));
    let checks: Vec<Check> = match &target {
        Some(t) if t.mode == Mode::Album => vec![album_gate(integrated_lufs, results.len(), t)],
        _ => Vec::new(),
    };
    let gated = |c: &Check| matches!(c.id.family(), "master" | "album") && c.severity == Severity::Fail;
    let passed = target.is_none()
        || (results.iter().all(|(f, _)| !f.checks.iter().any(gated)) && !checks.iter().any(gated));
    Ok(AnalyzeReport {
        files: results.into_iter().map(|(f, _)| f).collect(),
        album: AlbumLoudness { integrated_lufs, lra_lu },
        target,
        checks,
        passed,
    })
}
