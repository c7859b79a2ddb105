//! Everything `master` checks before it writes anything, and `check`
//! checks too, with the same messages: outputs that would land on an
//! input, an output folder lathe cannot write into.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::Album;
use crate::report::ReportFormat;

/// Every validation that needs the analyses but writes nothing.
pub fn preflight(album: &Album, out: &Path, reports: &[ReportFormat]) -> Result<()> {
    guard_inputs(album, out, reports)?;
    // OUT itself may be a link the user made (to a share, say); nothing in it may.
    if out.exists() && !out.is_dir() {
        return Err(Error::output(out, std::io::Error::other("is not a folder")));
    }
    for d in &album.deliverables {
        super::commit::check_folder(&out.join(&d.name))?;
    }
    Ok(())
}

fn canonical_target(path: &Path) -> PathBuf {
    // The output may not exist yet: canonicalize the deepest existing ancestor.
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut p = existing.canonicalize().unwrap_or(existing);
    for n in rest.into_iter().rev() {
        p.push(n);
    }
    p
}

/// Where each track's deliverables go, relative to OUT: `<deliverable>/NN - Title.wav`.
pub fn output_paths(album: &Album) -> Vec<Vec<PathBuf>> {
    album
        .tracks
        .iter()
        .map(|t| album.deliverables.iter().map(|d| Path::new(&d.name).join(album.file_name(t, d))).collect())
        .collect()
}

/// Refuses any output that would land on an input file.
fn guard_inputs(album: &Album, out: &Path, reports: &[ReportFormat]) -> Result<()> {
    let images =
        album.deliverables.iter().filter(|d| d.layout == crate::manifest::Layout::Album).flat_map(|d| {
            let (image, cue) = album.image_file_names(d);
            [Path::new(&d.name).join(image), Path::new(&d.name).join(cue)]
        });
    let outputs: Vec<PathBuf> =
        output_paths(album).into_iter().flatten().chain(images).map(|p| out.join(p)).collect();
    let inputs: Vec<PathBuf> = album
        .tracks
        .iter()
        .flat_map(|t| t.inputs().into_iter().map(canonical_target))
        .chain(std::iter::once(canonical_target(&album.manifest)))
        .collect();
    let reports = reports.iter().map(|f| out.join(f.exporter().file_name()));
    for o in outputs.into_iter().chain(reports) {
        // The output's folder resolved, its own name not: a link at a final
        // name is replaced by the commit, never written through.
        let c = match (o.parent(), o.file_name()) {
            (Some(dir), Some(name)) => canonical_target(dir).join(name),
            _ => canonical_target(&o),
        };
        if inputs.contains(&c) {
            return Err(Error::Usage(format!(
                "{}: an output would overwrite this input file; choose another --out folder",
                o.display()
            )));
        }
    }
    Ok(())
}
