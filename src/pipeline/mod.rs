//! The phases of `lathe master` and `lathe check`, one module each:
//!
//! 1. [`analyze`] (rayon, per track): decode, mix stems, measure, premaster
//!    QC; [`preflight`] first: bad input stops the run before anything is
//!    committed. For `master` the analysis also prepares the render (the
//!    chain's pre-gain stages, spilled into the staging folder at each
//!    output rate), so a track is decoded once.
//! 2. [`album`]: per-track loudness targets from the mode (the plan), and
//! 3. [`master`] (rayon, per track, longest first: [`schedule`]): render
//!    every deliverable from the prepared spills within its bounds, write
//!    into the staging folder. In album mode the album rule may render the
//!    album again.
//! 4. [`image`]: each `layout: album` deliverable's image of the whole
//!    sequence and its CUE sheet, from the per-track masters as written.
//! 5. [`report`] and [`commit`]: album stats, checks, report files, then the
//!    whole run committed into OUT at once.
//!
//! Each phase hands plain values to the next. Memory stays at blocks per job.

mod album;
mod analyze;
pub(crate) mod commit;
mod edit;
mod image;
mod master;
mod preflight;
mod report;
mod schedule;
mod sequence;
mod tags;
mod tonal;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::manifest::Album;
use crate::progress::Progress;
use crate::report::{Report, ReportFormat};

pub use crate::render::{Bound, Needed, Prepared, RenderFiles, RenderSpec, Rendered, render};
pub use analyze::{Analysis, analyze};
pub use commit::abandon_live_staging;
pub use preflight::preflight;

/// Options of `lathe master`.
#[derive(Debug, Clone)]
pub struct MasterOptions {
    /// Output folder; `masters/` beside the manifest when `None`.
    pub out_dir: Option<PathBuf>,
    /// Tracks rendered at once.
    pub jobs: usize,
    /// Report files to write.
    pub reports: Vec<ReportFormat>,
}

/// A path as the report shows it: relative to the manifest's folder.
pub(crate) fn display_path(album: &Album, p: &Path) -> String {
    p.strip_prefix(&album.root).unwrap_or(p).display().to_string()
}

/// The output folder for `album`.
pub fn out_dir(album: &Album, opts: &MasterOptions) -> PathBuf {
    opts.out_dir.clone().unwrap_or_else(|| album.root.join("masters"))
}

/// Masters the album: phases 1-5. Returns the report and the output folder.
pub fn master(album: &Album, opts: &MasterOptions, progress: &Progress) -> Result<(Report, PathBuf)> {
    let out = out_dir(album, opts);
    let paths = preflight::output_paths(album);
    preflight(album, &out, &opts.reports)?;
    let staging = commit::Staging::begin(&out)?;
    let pool = schedule::pool(opts.jobs)?;
    let matches = tonal::plan(album, &pool, progress)?;
    let eqs: Vec<_> = matches.iter().map(|m| m.as_ref().map(|m| &m.correction)).collect();
    let (analyses, preparations) = analyze::analyze_into(album, opts.jobs, progress, Some((&staging, &eqs)))?;
    image::check_rates(album, &analyses.iter().map(|a| a.format.sample_rate).collect::<Vec<_>>())?;
    let (mastered, plan) =
        album::master_album(album, &analyses, &preparations, &paths, &staging, &pool, progress)?;
    drop(preparations); // the scratch spills go before the images are made
    let images = image::write_images(album, &paths, &staging)?;
    let mut report = report::build(album, &paths, &analyses, &mastered, &plan, &images, &matches)?;
    tags::tag_all(album, &staging, &paths, &mut report)?;
    let mut files: Vec<PathBuf> = paths.into_iter().flatten().collect();
    files.extend(images.into_iter().flat_map(|i| [i.path, i.cue_path]));
    for e in opts.reports.iter().map(|f| f.exporter()) {
        let rel = PathBuf::from(e.file_name());
        commit::write_synced(&staging.path(&rel)?, e.render(&report).as_bytes())?;
        files.push(rel);
    }
    staging.commit(&files)?;
    Ok((report, out))
}
