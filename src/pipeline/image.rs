//! Album images (`layout: album`): one file of the whole sequence and its
//! CUE sheet. The image is assembled from the deliverable's per-track
//! masters as written in the staging folder (the same render, written
//! twice), with gaps of digital silence between them. Every position is on
//! the 1/75 s frame grid: each track's master ends on it (the render pads
//! it with silence) and each gap is a whole number of frames.
//!
//! The first track's gap is its pregap: written in the sheet (`PREGAP`),
//! which a CD recorder generates, not in the file.

use std::path::{Path, PathBuf};

use super::commit::{Staging, write_synced};
use crate::audio::cue::{CueSheet, CueTrack};
use crate::audio::decode::Reader;
use crate::audio::encode::MasterFile;
use crate::error::{Error, Result};
use crate::manifest::{Album, Deliverable, Layout};

/// Frames read and written at a time.
const BLOCK: usize = 1 << 15;

/// An album image as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Image {
    pub deliverable: String,
    /// Relative to OUT.
    pub path: PathBuf,
    pub cue_path: PathBuf,
    pub sheet: CueSheet,
    pub sample_rate: u32,
    /// 44.1 kHz, 16-bit: a CD image, held to the Red Book.
    pub cd: bool,
    /// Samples in one CD frame (1/75 s) at the image's rate.
    pub grid: u64,
    /// Per track: the gap before it, its start (INDEX 01) and its length, in samples.
    pub places: Vec<Place>,
    /// The image's length in samples (the first pregap not included).
    pub frames: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Place {
    pub gap: u64,
    pub start: u64,
    pub frames: u64,
}

/// Refuses, before anything is rendered, an album image at the premasters'
/// own rate (`sample_rate: source`) when they come at more than one rate,
/// or at one with no whole number of samples in a CD frame.
pub(super) fn check_rates(album: &Album, rates: &[u32]) -> Result<()> {
    let mut distinct = rates.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    for d in album.deliverables.iter().filter(|d| d.layout == Layout::Album && d.sample_rate.is_none()) {
        let problem = match distinct.as_slice() {
            [one] if one.is_multiple_of(75) => continue,
            [one] => {
                format!("the premasters' {one} Hz has no whole number of samples in a CD frame (1/75 s)")
            }
            many => format!("the premasters come at {many:?} Hz, and one image has one rate"),
        };
        return Err(Error::Usage(format!(
            "deliverable `{}` (an album image at the premasters' rate): {problem}; give it a `sample_rate` of 44100, 48000, 88200 or 96000",
            d.name
        )));
    }
    Ok(())
}

/// Every `layout: album` deliverable's image and sheet, written into the staging folder.
pub(super) fn write_images(album: &Album, paths: &[Vec<PathBuf>], staging: &Staging) -> Result<Vec<Image>> {
    (album.deliverables.iter().enumerate())
        .filter(|(_, d)| d.layout == Layout::Album)
        .map(|(j, d)| {
            let parts: Vec<PathBuf> = paths.iter().map(|p| staging.path(&p[j])).collect::<Result<_>>()?;
            write_image(album, d, &parts, staging)
        })
        .collect()
}

fn write_image(album: &Album, d: &Deliverable, parts: &[PathBuf], staging: &Staging) -> Result<Image> {
    let mut readers: Vec<Reader> = parts.iter().map(|p| Reader::open(p)).collect::<Result<_>>()?;
    // One rate with a whole number of samples in a CD frame: the manifest
    // checked a set rate, `check_rates` the premasters' own.
    let rate = readers[0].format().sample_rate;
    let grid = rate as u64 / 75;
    let mut places = Vec::with_capacity(parts.len());
    let mut at = 0u64;
    for (k, (r, t)) in readers.iter().zip(&album.tracks).enumerate() {
        let frames = r.expected_frames().filter(|f| f.is_multiple_of(grid)).ok_or_else(|| {
            Error::output(
                &parts[k],
                std::io::Error::other("a track of an album image is not a whole number of CD frames"),
            )
        })?;
        let gap = if k == 0 { 0 } else { (t.gap_s * 75.0).round() as u64 * grid };
        places.push(Place { gap, start: at + gap, frames });
        at += gap + frames;
    }
    let (image_name, cue_name) = album.image_file_names(d);
    let (path, cue_path) = (Path::new(&d.name).join(&image_name), Path::new(&d.name).join(&cue_name));
    let file = staging.path(&path)?;
    let mut out = MasterFile::create(&file, rate, 2, d.format, d.container, at)?;
    let mut block = Vec::new();
    for ((reader, place), part) in readers.iter_mut().zip(&places).zip(parts) {
        let zeros = vec![0.0f32; BLOCK];
        let mut gap = place.gap as usize;
        while gap > 0 {
            let n = gap.min(BLOCK);
            out.write(&[&zeros[..n], &zeros[..n]])?;
            gap -= n;
        }
        let mut copied = 0u64;
        loop {
            block.iter_mut().for_each(Vec::clear);
            let n = reader.read(&mut block, BLOCK)?;
            if n == 0 {
                break;
            }
            out.write(&[&block[0], &block[1]])?;
            copied += n as u64;
        }
        if copied != place.frames {
            return Err(Error::output(
                part,
                std::io::Error::other("the track's master changed while the album image was made"),
            ));
        }
    }
    out.finish(true)?;
    let sheet = sheet(album, &image_name, &places, grid);
    write_synced(&staging.path(&cue_path)?, sheet.render().as_bytes())?;
    let cd = rate == 44_100 && d.format.bits() == 16;
    Ok(Image {
        deliverable: d.name.clone(),
        path,
        cue_path,
        sheet,
        sample_rate: rate,
        cd,
        grid,
        places,
        frames: at,
    })
}

/// The sheet of an image: positions in CD frames.
fn sheet(album: &Album, file: &str, places: &[Place], grid: u64) -> CueSheet {
    let tracks = album
        .tracks
        .iter()
        .zip(places)
        .enumerate()
        .map(|(k, (t, p))| CueTrack {
            title: t.title.clone(),
            performer: album.artist_of(t).map(str::to_string),
            songwriter: t.meta.composer.clone(),
            isrc: t.meta.isrc.clone(),
            pregap: if k == 0 { (t.gap_s * 75.0).round() as u64 } else { 0 },
            index00: (p.gap > 0).then(|| (p.start - p.gap) / grid),
            index01: p.start / grid,
        })
        .collect();
    CueSheet {
        // The catalog number is EAN-13: a UPC-A is one with a leading zero.
        catalog: album.meta.upc.as_ref().map(|u| format!("{u:0>13}")),
        title: album.title.clone(),
        performer: album.artist.clone(),
        date: album.meta.date.clone(),
        genre: album.meta.genre.clone(),
        file: file.to_string(),
        tracks,
    }
}
