//! Phase 1: every track decoded (stems mixed down), measured and checked
//! against the premaster brief, before anything is written.

use crate::audio::SourceFormat;
use crate::audio::decode::decode;
use crate::audio::stems::{StemFacts, mixdown};
use crate::dsp::Stereo;
use crate::dsp::loudness::{self, BlockEnergies, Measurement};
use crate::dsp::scan::scan;
use crate::dsp::spectrum::{self, Spectrum};
use crate::error::{Error, Result};
use crate::manifest::{Album, Track, TrackSource};
use crate::progress::Progress;
use crate::qc::{self, Check, Thresholds};

use super::display_path;
use super::schedule::{input_bytes, longest_first, pool};

/// A premaster as analyzed in phase 1.
pub struct Analysis {
    pub format: SourceFormat,
    pub measurement: Measurement,
    /// For the album's pooled premaster loudness.
    pub energies: BlockEnergies,
    pub checks: Vec<Check>,
    /// For a stems track: what each stem brought.
    pub stems: Option<Vec<StemFacts>>,
    pub spectrum: Spectrum,
    /// Of the decoded samples: the master phase refuses an input that changed.
    pub fingerprint: u64,
}

/// A fingerprint of decoded samples (every bit of every sample counts).
pub(super) fn fingerprint(channels: &[Vec<f32>]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ channels.len() as u64;
    for c in channels {
        h = (h ^ c.len() as u64).wrapping_mul(0x0000_0100_0000_01b3);
        for pair in c.chunks(2) {
            let bits = pair.iter().fold(0u64, |a, v| (a << 32) | v.to_bits() as u64);
            h = (h ^ bits).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        }
    }
    h
}

/// A track's audio as a stereo pair, and for stems, what the mix-down learned.
pub(super) struct Loaded {
    pub sample_rate: u32,
    pub audio: Stereo,
    pub format: SourceFormat,
    pub stems: Option<(Vec<StemFacts>, f64)>,
}

/// Decodes a track's audio as a stereo pair: a mix, or its stems summed.
pub(super) fn load_track(track: &Track, th: &Thresholds) -> Result<Loaded> {
    match &track.source {
        TrackSource::Mix(path) => {
            let (audio, format) = decode(path)?;
            Ok(Loaded { sample_rate: audio.sample_rate, audio: audio.into_stereo(), format, stems: None })
        }
        TrackSource::Stems(stems) => {
            let m = mixdown(stems, th.min_clip_run())?;
            Ok(Loaded {
                sample_rate: m.audio.sample_rate,
                audio: m.audio.into_stereo(),
                format: m.format,
                stems: Some((m.stems, m.sum_peak_dbfs)),
            })
        }
    }
}

/// Phase 1 for one track.
fn analyze_track(album: &Album, track: &Track, th: &Thresholds) -> Result<Analysis> {
    let Loaded { sample_rate, audio, format, stems } = load_track(track, th)?;
    let input = track.inputs()[0];
    let (measurement, energies) = loudness::measure(&audio, sample_rate)
        .map_err(|e| Error::audio(display_path(album, input), e.to_string()))?;
    let scan = scan(&audio, th.min_clip_run());
    let mut checks = qc::premaster::checks(&format, &measurement, &scan, th);
    if let Some((facts, sum_peak)) = &stems {
        checks.extend(qc::stems::checks(facts, *sum_peak, format.sample_rate));
    }
    if let Some(c) = checks.iter().find(|c| qc::premaster::is_unmasterable(c)) {
        let what = match &track.source {
            TrackSource::Mix(_) => display_path(album, input),
            TrackSource::Stems(_) => format!("track {} ({}) stems", track.number, track.title),
        };
        return Err(Error::audio(what, c.message.clone()));
    }
    Ok(Analysis {
        format,
        measurement,
        energies,
        checks,
        stems: stems.map(|(f, _)| f),
        spectrum: spectrum::of_channels(&audio, sample_rate),
        fingerprint: fingerprint(&audio),
    })
}

/// Phase 1: analyze every track. The first error in track order wins.
pub fn analyze(album: &Album, jobs: usize, progress: &Progress) -> Result<Vec<Analysis>> {
    let th = &album.qc.thresholds;
    let bar = progress.phase("analyze", album.tracks.len());
    let weights: Vec<f64> = album.tracks.iter().map(input_bytes).collect();
    let results = longest_first(&pool(jobs)?, &weights, |i| {
        let t = &album.tracks[i];
        let r = analyze_track(album, t, th);
        bar.done(&t.title);
        r
    });
    results.into_iter().collect()
}
