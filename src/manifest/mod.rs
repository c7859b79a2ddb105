//! The album manifest (version 1): parsing, presets, defaults and validation
//! into an [`Album`] plan with resolved paths. Every error names the file,
//! the line and column, and the key path.
//!
//! - `schema`: the YAML exactly as written, every key optional;
//! - `defaults` and `limits`: what a missing key becomes, and the range
//!   every value may take;
//! - `json_schema`: the JSON Schema of it all, for editors and CI;
//! - `resolve`: presets, album and track keys merged, defaulted and
//!   checked, one part per section.

pub(crate) mod codes;
pub(crate) mod defaults;
pub mod json_schema;
pub mod limits;
mod locate;
mod names;
pub(crate) mod preset;
mod read;
mod resolve;
pub(crate) mod schema;
pub(crate) mod template;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use crate::audio::encode::{Container, Deliverable, Layout, SampleFormat};
pub use crate::audio::stems::{StemInput, StemMix};
pub use crate::dsp::chain::{Chain, Limiter};
pub use crate::dsp::edit::FadeCurve;
use crate::error::{Error, ManifestError};
use crate::qc::{CheckId, Thresholds};
pub use limits::MAX_TARGET_LUFS;
pub use names::{printable, sanitize_title};
pub use read::{MAX_DEPTH, MAX_MANIFEST_BYTES};
pub use schema::{AlbumAnchor, Mode};

/// The manifest format this lathe reads (`version:`).
pub const VERSION: u32 = 1;

/// The loudness target of an album.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub preset: Option<String>,
    pub loudness_lufs: f64,
    pub true_peak_dbtp: f64,
    pub mode: Mode,
    /// Album mode: what the album gain puts on `loudness_lufs`.
    pub album_anchor: AlbumAnchor,
    /// No track gets more gain than this, whatever its target (dB).
    pub max_gain_db: f64,
    pub tolerance_lu: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrackSource {
    Mix(PathBuf),
    Stems(Vec<StemInput>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// 1-based position on the album.
    pub number: usize,
    pub title: String,
    pub source: TrackSource,
    pub offset_lu: f64,
    pub chain: Chain,
    pub meta: TrackMeta,
    /// Top, tail and fades, before anything is measured.
    pub edit: Edit,
    /// Silence before the track in the sequence, seconds (the first track's: its pregap).
    pub gap_s: f64,
    /// The manifest line the track is written on, for CI annotations.
    pub line: usize,
    /// `chain.match`: the balance the track is pulled toward, and how far.
    pub tonal_match: Option<TonalMatch>,
}

/// A tonal match: the reference and the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TonalMatch {
    pub reference: MatchReference,
    pub settings: crate::dsp::tonal::MatchSettings,
    /// The key it was set at (`chain.match` or `tracks[i].chain.match`).
    pub key: String,
}

/// What a track is matched to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MatchReference {
    /// The album's own balance: its tracks' mean, weighted by energy.
    Album,
    /// A reference track.
    File(PathBuf),
}

/// How a track is topped, tailed and faded, in seconds of its premaster
/// (phase 1 turns it into frames, [`crate::dsp::edit::Plan`], once the
/// premaster's rate and length are known).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Edit {
    pub trim: Option<Trim>,
    pub start_s: f64,
    pub end_s: Option<f64>,
    pub fade_in_s: f64,
    pub fade_out_s: f64,
    pub curve: FadeCurve,
}

/// Topping and tailing: what is silence, and how much of it stays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trim {
    pub threshold_db: f64,
    pub keep_s: f64,
}

impl Edit {
    /// True when the premaster is kept as it is.
    pub fn is_none(&self) -> bool {
        self.trim.is_none()
            && self.start_s == 0.0
            && self.end_s.is_none()
            && self.fade_in_s == 0.0
            && self.fade_out_s == 0.0
    }
}

/// What a track says of itself beyond its title: tags in every deliverable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackMeta {
    /// The track's artist, when it is not the album's.
    pub artist: Option<String>,
    pub composer: Option<String>,
    /// 12 characters, no hyphens (validated).
    pub isrc: Option<String>,
    /// The track's genre, when it is not the album's.
    pub genre: Option<String>,
}

/// What the release says of itself: tags in every deliverable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlbumMeta {
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (validated).
    pub date: Option<String>,
    pub genre: Option<String>,
    pub label: Option<String>,
    pub copyright: Option<String>,
    /// UPC-A or EAN-13 digits, check digit verified.
    pub upc: Option<String>,
}

impl Track {
    /// Every input file of the track.
    pub fn inputs(&self) -> Vec<&Path> {
        match &self.source {
            TrackSource::Mix(p) => vec![p.as_path()],
            TrackSource::Stems(stems) => stems.iter().map(|s| s.file.as_path()).collect(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.source {
            TrackSource::Mix(_) => "mix",
            TrackSource::Stems(_) => "stems",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct QcConfig {
    /// Checks whose warnings fail the run.
    pub fail_on: Vec<CheckId>,
    /// The defaults with the manifest's (and its preset's) overrides.
    pub thresholds: Thresholds,
}

/// A validated album: what `lathe master` renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Album {
    pub manifest: PathBuf,
    /// The manifest line of its `album:` key, for CI annotations of album checks.
    pub line: usize,
    /// The folder paths are relative to.
    pub root: PathBuf,
    pub title: String,
    pub artist: Option<String>,
    pub meta: AlbumMeta,
    pub target: Target,
    pub deliverables: Vec<Deliverable>,
    pub tracks: Vec<Track>,
    pub qc: QcConfig,
}

impl Album {
    /// The track's artist: its own, else the album's.
    pub fn artist_of<'a>(&'a self, track: &'a Track) -> Option<&'a str> {
        track.meta.artist.as_deref().or(self.artist.as_deref())
    }

    /// A track's file name in a deliverable: its template filled in, made
    /// safe for every file system, with the container's extension
    /// (`01 - Night Drive.wav` by default).
    pub fn file_name(&self, track: &Track, deliverable: &Deliverable) -> String {
        let year = self.meta.date.as_deref().map_or("", |d| &d[..4.min(d.len())]);
        let fields = template::Fields {
            number: track.number,
            title: &track.title,
            artist: self.artist_of(track).unwrap_or(""),
            album: &self.title,
            isrc: track.meta.isrc.as_deref().unwrap_or(""),
            year,
        };
        format!("{}.{}", template::render(&deliverable.file_name, &fields), deliverable.container.extension())
    }

    /// The album's programmes: runs of tracks joined without a gap (each
    /// track after the first with `gap_s: 0`), mastered as one continuous
    /// stream and split again; most are one track. In track order.
    pub fn programmes(&self) -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, t) in self.tracks.iter().enumerate() {
            match out.last_mut() {
                Some(last) if i > 0 && t.gap_s == 0.0 => last.end = i + 1,
                _ => out.push(i..i + 1),
            }
        }
        out
    }

    /// An album image's file name (`layout: album`): the album's title, made
    /// safe, with the container's extension; its CUE sheet's is the same with `.cue`.
    pub fn image_file_names(&self, deliverable: &Deliverable) -> (String, String) {
        let stem = sanitize_title(&self.title);
        (format!("{stem}.{}", deliverable.container.extension()), format!("{stem}.cue"))
    }
}

/// Reads and validates a manifest file.
pub fn load(path: &Path) -> Result<Album, Error> {
    let text = read::read_yaml_file(path)?;
    let album = parse(path, &text)?;
    missing_inputs(path, &text, &album)?;
    Ok(album)
}

/// Every input file the manifest names that is not there, all at once,
/// each at the line and column that names it.
fn missing_inputs(path: &Path, text: &str, album: &Album) -> Result<(), Error> {
    let src = locate::Source { file: path, text: text.strip_prefix('\u{feff}').unwrap_or(text) };
    let mut missing = Vec::new();
    for (i, t) in album.tracks.iter().enumerate() {
        let files: Vec<(String, &Path)> = match &t.source {
            TrackSource::Mix(p) => vec![(format!("tracks[{i}].mix"), p.as_path())],
            TrackSource::Stems(stems) => (stems.iter().enumerate())
                .map(|(j, s)| (format!("tracks[{i}].stems[{j}].file"), s.file.as_path()))
                .collect(),
        };
        for (key, file) in files.into_iter().filter(|(_, f)| !f.exists()) {
            let shown = file.strip_prefix(&album.root).unwrap_or(file).display().to_string();
            missing.push(src.error(&key, format!("no such file: {shown} (track {}, {})", t.number, t.title)));
        }
    }
    // A match reference, once per key that names it.
    let mut named = std::collections::BTreeSet::new();
    for m in album.tracks.iter().filter_map(|t| t.tonal_match.as_ref()) {
        if let MatchReference::File(file) = &m.reference
            && !file.exists()
            && named.insert(m.key.as_str())
        {
            let shown = file.strip_prefix(&album.root).unwrap_or(file).display().to_string();
            missing.push(src.error(
                &format!("{}.reference", m.key),
                format!("no such file: {shown} (the match reference)"),
            ));
        }
    }
    match missing.len() {
        0 => Ok(()),
        1 => Err(Error::Manifest(missing.remove(0))),
        _ => Err(Error::Manifests(missing)),
    }
}

/// Validates manifest text read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Album, ManifestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let src = locate::Source { file: path, text };
    read::screen(&src)?;
    let raw: schema::RawManifest = locate::parse_yaml(&src)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    resolve::Resolver { src: &src, root: &root }.album(raw)
}
