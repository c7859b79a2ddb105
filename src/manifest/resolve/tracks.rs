//! `tracks`: title, a mix or stems, the offset, and the chain over the album's.

use std::collections::HashSet;

use super::Resolver;
use crate::error::ManifestError;
use crate::manifest::limits::{self as lim, MAX_TARGET_LUFS};
use crate::manifest::schema::{Polarity, RawChain, RawStem, RawTrack};
use crate::manifest::{StemInput, StemMix, Target, Track, TrackSource};

impl Resolver<'_> {
    pub(super) fn tracks(
        &self,
        raw: &[RawTrack],
        album_chain: &RawChain,
        target: &Target,
    ) -> Result<Vec<Track>, ManifestError> {
        if raw.is_empty() {
            return Err(self.src.error("tracks", "the album has no tracks"));
        }
        let mut tracks = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            let track = self.track(i, t, album_chain)?;
            let level = target.loudness_lufs + track.offset_lu;
            if lim::LOUDNESS_OF_A_TRACK.check(level).is_err() {
                return Err(self.src.error(
                    &format!("tracks[{i}].offset_lu"),
                    format!(
                        "the track's target, {} LUFS {:+} LU = {level:+} LUFS, is {}; a track's target must be between -70 and {MAX_TARGET_LUFS} LUFS (louder is reachable only by crushing the music)",
                        target.loudness_lufs,
                        track.offset_lu,
                        if level > MAX_TARGET_LUFS { "too loud" } else { "below the -70 LUFS gate" }
                    ),
                ));
            }
            tracks.push(track);
        }
        self.distinct_isrcs(&tracks)?;
        Ok(tracks)
    }

    fn track(&self, i: usize, t: &RawTrack, album_chain: &RawChain) -> Result<Track, ManifestError> {
        let p = |k: &str| format!("tracks[{i}].{k}");
        if t.title.trim().is_empty() {
            return Err(self.src.error(&p("title"), "the title is empty"));
        }
        let source = match (&t.mix, &t.stems) {
            (Some(_), Some(_)) => {
                return Err(self.src.error(&p("stems"), "a track has either `mix` or `stems`, not both"));
            }
            (None, None) => {
                return Err(self.src.error(
                    &format!("tracks[{i}]"),
                    "a track needs `mix` (a stereo premaster) or `stems` (a list of stems)",
                ));
            }
            (Some(mix), None) => TrackSource::Mix(self.root.join(mix)),
            (None, Some(stems)) => TrackSource::Stems(self.stems(i, stems)?),
        };
        let merged = t.chain.clone().unwrap_or_default().over(album_chain);
        let chain_path = if t.chain.is_some() { p("chain") } else { "chain".to_string() };
        Ok(Track {
            number: i + 1,
            title: t.title.clone(),
            source,
            offset_lu: self.within(&lim::OFFSET, &p("offset_lu"), t.offset_lu.unwrap_or(0.0))?,
            chain: self.chain(&chain_path, &merged)?,
            meta: self.track_meta(i, t)?,
        })
    }

    fn stems(&self, i: usize, stems: &[RawStem]) -> Result<Vec<StemInput>, ManifestError> {
        if stems.is_empty() {
            return Err(self.src.error(&format!("tracks[{i}].stems"), "the stem list is empty"));
        }
        let mut names = HashSet::new();
        let mut out = Vec::new();
        for (j, s) in stems.iter().enumerate() {
            let sp = |k: &str| format!("tracks[{i}].stems[{j}].{k}");
            if !names.insert(s.name.clone()) {
                return Err(self.src.error(&sp("name"), format!("two stems are named `{}`", s.name)));
            }
            out.push(StemInput {
                name: s.name.clone(),
                file: self.root.join(&s.file),
                mix: StemMix {
                    gain_db: self.within(&lim::STEM_GAIN, &sp("gain_db"), s.gain_db.unwrap_or(0.0))?,
                    pan: self.within(&lim::STEM_PAN, &sp("pan"), s.pan.unwrap_or(0.0))?,
                    mute: s.mute.unwrap_or(false),
                    inverted: s.polarity == Some(Polarity::Inverted),
                    eq: self.bands(&sp("eq"), s.eq.as_deref().unwrap_or(&[]))?,
                },
            });
        }
        Ok(out)
    }
}
