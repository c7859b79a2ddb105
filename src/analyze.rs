//! `lathe analyze`: measure files, check them, and (with a target) say
//! whether each one is deliverable.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::audio::decode::decode;
use crate::error::{Error, Result};
use crate::loudness::{self, BlockEnergies};
use crate::manifest::preset;
use crate::qc::checks::{self, Check, Severity, Thresholds};
use crate::qc::report::num;

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

/// A delivery target: loudness ± tolerance, and a ceiling.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryTarget {
    pub name: String,
    pub loudness_lufs: f64,
    pub tolerance_lu: f64,
    pub true_peak_dbtp: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeReport {
    pub files: Vec<FileReport>,
    pub album: AlbumLoudness,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<DeliveryTarget>,
    /// False when a file misses the target.
    pub passed: bool,
}

/// Resolves `--target`: a built-in preset name or a preset file.
pub fn load_target(name_or_path: &str) -> Result<DeliveryTarget> {
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
            tolerance_lu: t.tolerance_lu.unwrap_or(crate::manifest::DEFAULT_TOLERANCE_LU),
            true_peak_dbtp: tp,
        }),
        _ => Err(Error::Usage(format!(
            "--target {name_or_path}: the preset gives no target.loudness_lufs and target.true_peak_dbtp"
        ))),
    }
}

fn target_checks(f: &FileReport, t: &DeliveryTarget) -> Vec<Check> {
    let mut out = Vec::new();
    let dev = f.integrated_lufs - t.loudness_lufs;
    if dev.is_nan() || dev.abs() > t.tolerance_lu {
        out.push(Check {
            id: "master.loudness".into(),
            severity: Severity::Fail,
            message: format!(
                "{:.2} LUFS is {dev:+.2} LU from the {} target of {:.1} LUFS (±{} LU)",
                f.integrated_lufs, t.name, t.loudness_lufs, t.tolerance_lu
            ),
            value: f.integrated_lufs.is_finite().then_some(f.integrated_lufs),
            threshold: Some(t.loudness_lufs),
        });
    }
    if f.true_peak_dbtp > t.true_peak_dbtp {
        out.push(Check {
            id: "master.true_peak".into(),
            severity: Severity::Fail,
            message: format!(
                "true peak {:.2} dBTP is over the {} ceiling of {:.1} dBTP",
                f.true_peak_dbtp, t.name, t.true_peak_dbtp
            ),
            value: Some(f.true_peak_dbtp),
            threshold: Some(t.true_peak_dbtp),
        });
    }
    out
}

/// Measures and checks every file. Files are independent and run in parallel.
pub fn analyze(files: &[PathBuf], target: Option<DeliveryTarget>) -> Result<AnalyzeReport> {
    let th = Thresholds::default();
    let results: Vec<Result<(FileReport, BlockEnergies)>> = files
        .par_iter()
        .map(|path| {
            let (audio, fmt) = decode(path)?;
            let (m, energies) = loudness::measure(&audio.channels, audio.sample_rate)
                .map_err(|e| Error::audio(path, e.to_string()))?;
            let scan = checks::scan(&audio.channels, th.get("premaster.clipping.min_run") as usize);
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
                checks: checks::premaster(&fmt, &m, &scan, &th),
            };
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
    let passed = target.is_none()
        || results.iter().all(|(f, _)| {
            !f.checks.iter().any(|c| c.id.starts_with("master.") && c.severity == Severity::Fail)
        });
    Ok(AnalyzeReport {
        files: results.into_iter().map(|(f, _)| f).collect(),
        album: AlbumLoudness { integrated_lufs, lra_lu },
        target,
        passed,
    })
}

/// The readable table of `lathe analyze` without `--json`.
pub fn table(r: &AnalyzeReport) -> String {
    let mut s = format!(
        "{:>8} {:>6} {:>7} {:>7} {:>7} {:>6} {:>7} {:>9}  file\n",
        "LUFS", "LRA", "dBTP", "dBFS", "M max", "PLR", "rate", "bits/ch"
    );
    for f in &r.files {
        s.push_str(&format!(
            "{:>8} {:>6} {:>7} {:>7} {:>7} {:>6} {:>7} {:>9}  {}\n",
            num(f.integrated_lufs, 2),
            num(f.lra_lu, 1),
            num(f.true_peak_dbtp, 2),
            num(f.sample_peak_dbfs, 2),
            num(f.momentary_max_lufs, 1),
            num(f.plr_db, 1),
            f.sample_rate,
            format!("{}/{}", f.bit_depth.map_or("-".into(), |b| b.to_string()), f.channels),
            f.path
        ));
        for c in &f.checks {
            s.push_str(&format!("         {:>4} {}: {}\n", c.severity.label(), c.id, c.message));
        }
    }
    if r.files.len() > 1 {
        s.push_str(&format!(
            "album (pooled): {} LUFS, LRA {} LU\n",
            num(r.album.integrated_lufs, 2),
            num(r.album.lra_lu, 1)
        ));
    }
    if let Some(t) = &r.target {
        s.push_str(&format!(
            "target {}: {:.1} LUFS ±{} LU, ceiling {:.1} dBTP: {}\n",
            t.name,
            t.loudness_lufs,
            t.tolerance_lu,
            t.true_peak_dbtp,
            if r.passed { "all files pass" } else { "FAILED" }
        ));
    }
    s
}
