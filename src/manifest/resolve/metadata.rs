//! `album` and `tracks[]` metadata: what the tags say, the identifiers
//! checked as a distributor checks them.

use super::Resolver;
use crate::error::ManifestError;
use crate::manifest::schema::{RawAlbumInfo, RawTrack};
use crate::manifest::{AlbumMeta, Track, TrackMeta, codes};

impl Resolver<'_> {
    /// Text that is not blank, trimmed.
    fn text(&self, path: &str, value: &Option<String>) -> Result<Option<String>, ManifestError> {
        match value.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Err(self.src.error(path, "is empty; leave the key out instead")),
            Some(t) if t.chars().any(|c| c.is_control()) => {
                Err(self.src.error(path, "holds a control character (a tab or a line break?)"))
            }
            Some(t) => Ok(Some(t.to_string())),
        }
    }

    pub(super) fn album_meta(&self, a: &RawAlbumInfo) -> Result<AlbumMeta, ManifestError> {
        let checked = |key: &str, check: fn(&str) -> Result<String, String>| {
            let path = format!("album.{key}");
            let raw = match key {
                "date" => &a.date,
                _ => &a.upc,
            };
            self.text(&path, raw)?.map(|t| check(&t).map_err(|m| self.src.error(&path, m))).transpose()
        };
        Ok(AlbumMeta {
            date: checked("date", codes::date)?,
            genre: self.text("album.genre", &a.genre)?,
            label: self.text("album.label", &a.label)?,
            copyright: self.text("album.copyright", &a.copyright)?,
            upc: checked("upc", codes::barcode)?,
        })
    }

    pub(super) fn track_meta(&self, i: usize, t: &RawTrack) -> Result<TrackMeta, ManifestError> {
        let p = |k: &str| format!("tracks[{i}].{k}");
        let isrc = self.text(&p("isrc"), &t.isrc)?;
        Ok(TrackMeta {
            artist: self.text(&p("artist"), &t.artist)?,
            composer: self.text(&p("composer"), &t.composer)?,
            isrc: isrc.map(|c| codes::isrc(&c).map_err(|m| self.src.error(&p("isrc"), m))).transpose()?,
            genre: self.text(&p("genre"), &t.genre)?,
        })
    }

    /// An ISRC names one recording: two tracks with one are a typo.
    pub(super) fn distinct_isrcs(&self, tracks: &[Track]) -> Result<(), ManifestError> {
        for (i, t) in tracks.iter().enumerate() {
            let Some(code) = &t.meta.isrc else { continue };
            if let Some(first) = tracks[..i].iter().find(|o| o.meta.isrc.as_ref() == Some(code)) {
                return Err(self.src.error(
                    &format!("tracks[{i}].isrc"),
                    format!("ISRC {code} is track {}'s too; each recording has its own", first.number),
                ));
            }
        }
        Ok(())
    }
}
