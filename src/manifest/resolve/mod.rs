//! From the schema to an [`Album`]: the preset under the manifest, album
//! keys under track keys, defaults under both, and every value checked
//! against its limit. One part per section of the manifest.

mod chain;
mod deliverables;
mod metadata;
mod qc;
mod target;
mod tracks;

use std::path::Path;

use super::limits::Limit;
use super::locate::Source;
use super::schema::{RawChain, RawManifest, RawPreset};
use super::{Album, preset};
use crate::error::ManifestError;

pub(super) struct Resolver<'a> {
    pub src: &'a Source<'a>,
    pub root: &'a Path,
}

impl Resolver<'_> {
    /// `value` if it is within `limit`; else an error located at `path`.
    fn within(&self, limit: &Limit, path: &str, value: f64) -> Result<f64, ManifestError> {
        limit.check(value).map_err(|m| self.src.error(path, m))
    }

    pub fn album(&self, raw: RawManifest) -> Result<Album, ManifestError> {
        if raw.version != crate::manifest::VERSION {
            return Err(self.src.error(
                "version",
                format!(
                    "manifest version {} is not supported; this lathe reads version {}",
                    raw.version,
                    crate::manifest::VERSION
                ),
            ));
        }
        let preset = self.preset(raw.target.preset.as_deref())?;
        let target = self.target(&raw.target, &preset)?;
        let album_chain = raw
            .chain
            .clone()
            .unwrap_or_default()
            .over(&preset.chain.clone().unwrap_or_default().over(&RawChain::defaults()));
        let deliverables =
            self.deliverables_of(raw.deliverables.as_deref(), preset.deliverables.as_deref())?;
        let tracks =
            self.tracks(&raw.tracks, &album_chain, &raw.sequence.clone().unwrap_or_default(), &target)?;
        let qc = self.qc(raw.qc.as_ref(), preset.qc.as_ref())?;
        let album = Album {
            manifest: self.src.file.to_path_buf(),
            line: self.src.line("album"),
            root: self.root.to_path_buf(),
            title: raw.album.title.clone(),
            artist: raw.album.artist.clone(),
            meta: self.album_meta(&raw.album)?,
            target,
            deliverables,
            tracks,
            qc,
        };
        self.distinct_file_names(&album)?;
        Ok(album)
    }

    fn preset(&self, name: Option<&str>) -> Result<RawPreset, ManifestError> {
        let Some(name) = name else { return Ok(RawPreset::default()) };
        preset::load(name, self.root).map_err(|e| {
            e.unwrap_or_else(|| {
                self.src.error(
                    "target.preset",
                    format!(
                        "no preset `{name}`:{} built-in presets are {}, or give a path to a preset file",
                        super::names::did_you_mean(name, preset::names().iter().map(|n| n.as_ref())),
                        preset::names().join(", ")
                    ),
                )
            })
        })
    }
}
