//! `tracks`: title, a mix or stems, the offset, and the chain over the album's.

use std::collections::HashSet;

use super::Resolver;
use crate::error::ManifestError;
use crate::manifest::defaults;
use crate::manifest::limits::{self as lim, MAX_TARGET_LUFS};
use crate::manifest::schema::{Polarity, RawChain, RawSequence, RawStem, RawTrack, RawTrim};
use crate::manifest::{Edit, StemInput, StemMix, Target, Track, TrackSource, Trim};

impl Resolver<'_> {
    pub(super) fn tracks(
        &self,
        raw: &[RawTrack],
        album_chain: &RawChain,
        sequence: &RawSequence,
        target: &Target,
    ) -> Result<Vec<Track>, ManifestError> {
        if raw.is_empty() {
            return Err(self.src.error("tracks", "the album has no tracks"));
        }
        let mut tracks = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            let track = self.track(i, t, album_chain, sequence)?;
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
        self.gapless_joins(&tracks)?;
        Ok(tracks)
    }

    fn track(
        &self,
        i: usize,
        t: &RawTrack,
        album_chain: &RawChain,
        sequence: &RawSequence,
    ) -> Result<Track, ManifestError> {
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
            tonal_match: merged.tonal_match.as_ref().map(|m| self.tonal_match(&chain_path, m)).transpose()?,
            meta: self.track_meta(i, t)?,
            edit: self.edit(i, t, sequence)?,
            line: self.src.line(&format!("tracks[{i}]")),
            gap_s: match t.gap_s {
                Some(g) => self.within(&lim::GAP, &p("gap_s"), g)?,
                None => {
                    self.within(&lim::GAP, "sequence.gap_s", sequence.gap_s.unwrap_or(defaults::GAP_S))?
                }
            },
        })
    }

    /// Tracks joined without a gap are one continuous stream, mastered with
    /// one chain at one level: they must agree on both.
    fn gapless_joins(&self, tracks: &[Track]) -> Result<(), ManifestError> {
        for (i, pair) in tracks.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            if b.gap_s != 0.0 {
                continue;
            }
            if let Some(m) = a.tonal_match.as_ref().or(b.tonal_match.as_ref()) {
                return Err(self.src.error(
                    &m.key,
                    format!(
                        "track {} runs into track {} without a gap, and a tonal match is not made across a join yet: give the track a gap, or match the tracks before joining them",
                        b.number, a.number
                    ),
                ));
            }
            let differs = if a.chain != b.chain {
                "chain"
            } else if a.offset_lu != b.offset_lu {
                "offset_lu"
            } else {
                continue;
            };
            return Err(self.src.error(
                &format!("tracks[{}].gap_s", i + 1),
                format!(
                    "track {} runs into track {} without a gap, so the two are mastered as one continuous stream, but their `{differs}` differs; give them the same `{differs}`, or a gap",
                    b.number, a.number
                ),
            ));
        }
        Ok(())
    }

    /// Trim, edit points and fades: the track's over the sequence's.
    fn edit(&self, i: usize, t: &RawTrack, sequence: &RawSequence) -> Result<Edit, ManifestError> {
        let p = |k: &str| format!("tracks[{i}].{k}");
        let (raw_trim, trim_path) = match (&t.trim, &sequence.trim) {
            (Some(own), _) => (Some(own), p("trim")),
            (None, album) => (album.as_ref(), "sequence.trim".to_string()),
        };
        let trim = match raw_trim {
            None | Some(RawTrim::Off) => None,
            Some(RawTrim::On { threshold_db, keep_ms }) => Some(Trim {
                threshold_db: self.within(
                    &lim::TRIM_THRESHOLD,
                    &format!("{trim_path}.threshold_db"),
                    threshold_db.unwrap_or(defaults::TRIM_THRESHOLD_DB),
                )?,
                keep_s: self.within(
                    &lim::TRIM_KEEP,
                    &format!("{trim_path}.keep_ms"),
                    keep_ms.unwrap_or(defaults::TRIM_KEEP_MS),
                )? / 1000.0,
            }),
        };
        let start_s = self.within(&lim::EDIT_POINT, &p("start_s"), t.start_s.unwrap_or(0.0))?;
        let end_s = t.end_s.map(|e| self.within(&lim::EDIT_POINT, &p("end_s"), e)).transpose()?;
        if let Some(end) = end_s
            && end <= start_s
        {
            return Err(self.src.error(
                &p("end_s"),
                format!("the track would end at {end} s, before it starts ({start_s} s)"),
            ));
        }
        let fade =
            |k: &str, v: Option<f64>| self.within(&lim::FADE, &p(k), v.unwrap_or(0.0)).map(|ms| ms / 1000.0);
        Ok(Edit {
            trim,
            start_s,
            end_s,
            fade_in_s: fade("fade_in_ms", t.fade_in_ms)?,
            fade_out_s: fade("fade_out_ms", t.fade_out_ms)?,
            curve: t.fade_curve.unwrap_or_default(),
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
