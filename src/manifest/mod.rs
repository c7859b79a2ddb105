//! The album manifest (version 1): parsing, presets, defaults and validation
//! into an [`Album`] plan with resolved paths. Every error names the file,
//! the line and column, and the key path.
//!
//! - `schema`: the YAML exactly as written, every key optional;
//! - `defaults` and `limits`: what a missing key becomes, and the range
//!   every value may take;
//! - `resolve`: presets, album and track keys merged, defaulted and
//!   checked, one part per section.

pub(crate) mod defaults;
pub mod limits;
mod locate;
mod names;
pub(crate) mod preset;
mod read;
mod resolve;
pub(crate) mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use crate::audio::encode::{Deliverable, SampleFormat};
pub use crate::audio::stems::{StemInput, StemMix};
pub use crate::dsp::chain::{Chain, Limiter};
use crate::error::{Error, ManifestError};
use crate::qc::{CheckId, Thresholds};
pub use limits::MAX_TARGET_LUFS;
pub use names::{printable, sanitize_title};
pub use read::{MAX_DEPTH, MAX_MANIFEST_BYTES};
pub use schema::{AlbumAnchor, Mode};

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
}

impl Track {
    /// Every input file of the track.
    pub fn inputs(&self) -> Vec<&Path> {
        match &self.source {
            TrackSource::Mix(p) => vec![p.as_path()],
            TrackSource::Stems(stems) => stems.iter().map(|s| s.file.as_path()).collect(),
        }
    }

    /// `NN - Title.wav`, the title made safe for every file system.
    pub fn file_name(&self) -> String {
        format!("{:02} - {}.wav", self.number, sanitize_title(&self.title))
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
    /// The folder paths are relative to.
    pub root: PathBuf,
    pub title: String,
    pub artist: Option<String>,
    pub target: Target,
    pub deliverables: Vec<Deliverable>,
    pub tracks: Vec<Track>,
    pub qc: QcConfig,
}

/// Reads and validates a manifest file.
pub fn load(path: &Path) -> Result<Album, Error> {
    let text = read::read_yaml_file(path)?;
    Ok(parse(path, &text)?)
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
