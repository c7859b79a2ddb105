//! The manifest and preset schema exactly as written in YAML. Every key is
//! optional here so that presets, album defaults and track overrides can be
//! merged key by key before defaults fill the rest.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::dsp::biquad::Shape;
use crate::dsp::dither::DitherKind;
pub use crate::dsp::eq::BandChannel;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    pub version: u32,
    pub album: RawAlbumInfo,
    #[serde(default)]
    pub target: RawTarget,
    pub chain: Option<RawChain>,
    pub deliverables: Option<Vec<RawDeliverable>>,
    pub sequence: Option<RawSequence>,
    pub tracks: Vec<RawTrack>,
    pub qc: Option<RawQc>,
}

/// The album as a sequence: defaults a track may override.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSequence {
    /// Silence before each track, seconds (before the first: its pregap).
    pub gap_s: Option<f64>,
    pub trim: Option<RawTrim>,
}

/// `trim: true`, `false`, or its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum RawTrim {
    Off,
    On { threshold_db: Option<f64>, keep_ms: Option<f64> },
}

impl JsonSchema for RawTrim {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Trim".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Cut the silence at the ends: `true` (at -60 dBFS sample peak, keeping 10 ms), `false`, or the settings.",
            "anyOf": [
                { "type": "boolean" },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "threshold_db": { "type": ["number", "null"], "description": "Silence is below this sample peak, dBFS." },
                        "keep_ms": { "type": ["number", "null"], "description": "The silence kept before the first sound and after the last, ms." }
                    }
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for RawTrim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Settings {
            threshold_db: Option<f64>,
            keep_ms: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Switch(bool),
            Settings(Settings),
        }
        match Either::deserialize(d) {
            Ok(Either::Switch(false)) => Ok(RawTrim::Off),
            Ok(Either::Switch(true)) => Ok(RawTrim::On { threshold_db: None, keep_ms: None }),
            Ok(Either::Settings(s)) => Ok(RawTrim::On { threshold_db: s.threshold_db, keep_ms: s.keep_ms }),
            Err(_) => Err(serde::de::Error::custom(
                "expected `true`, `false` or `{threshold_db: -60, keep_ms: 10}`",
            )),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlbumInfo {
    pub title: String,
    pub artist: Option<String>,
    #[serde(default, deserialize_with = "text_or_number")]
    #[schemars(schema_with = "text_or_number_schema")]
    pub date: Option<String>,
    pub genre: Option<String>,
    pub label: Option<String>,
    pub copyright: Option<String>,
    #[serde(default, deserialize_with = "text_or_number")]
    #[schemars(schema_with = "text_or_number_schema")]
    pub upc: Option<String>,
}

fn text_or_number_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "integer", "null"] })
}

/// Text, or a number written without quotes (`date: 2026`, `upc: 036000291452`) taken as its digits.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(u64),
    }
    Ok(Option::<TextOrNumber>::deserialize(d)?.map(|v| match v {
        TextOrNumber::Text(t) => t,
        TextOrNumber::Number(n) => n.to_string(),
    }))
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub preset: Option<String>,
    pub loudness_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub mode: Option<Mode>,
    /// How far from the loudness target a delivered file may be (`analyze --target`).
    pub tolerance_lu: Option<f64>,
    /// Album mode: what the album gain puts on the target.
    pub album_anchor: Option<AlbumAnchor>,
    /// The most gain any track gets, dB.
    pub max_gain_db: Option<f64>,
}

/// Album mode: what the one album gain puts on `loudness_lufs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlbumAnchor {
    /// The album's loudness pooled over every track's gating blocks.
    Pooled,
    /// The loudest track (AES TD1008 album normalization).
    Loudest,
}

/// How tracks are matched: all at the target, or the album as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Album,
    Track,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChain {
    pub eq: Option<Vec<RawBand>>,
    pub compressor: Option<RawCompressor>,
    pub width: Option<f64>,
    pub mono_below_hz: Option<f64>,
    pub limiter: Option<RawLimiter>,
    /// Tonal match: the track's balance pulled toward a reference's.
    #[serde(rename = "match")]
    pub tonal_match: Option<RawMatch>,
}

/// `chain.match`: toward which balance, and how far.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    /// A reference track (a path, relative to the manifest), or `album`:
    /// the album's own mean balance.
    pub reference: String,
    /// 0 (nothing) to 1 (the whole difference).
    pub amount: Option<f64>,
    /// No band moves more than this, dB.
    pub max_db: Option<f64>,
    /// How broad the correction's smallest feature is, octaves.
    pub smoothing_oct: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBand {
    #[serde(rename = "type")]
    pub kind: Shape,
    pub freq_hz: f64,
    pub gain_db: Option<f64>,
    pub q: Option<f64>,
    pub channel: Option<BandChannel>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCompressor {
    pub threshold_db: Option<f64>,
    pub ratio: Option<f64>,
    pub attack_ms: Option<f64>,
    pub release_ms: Option<f64>,
    pub knee_db: Option<f64>,
    pub makeup_db: Option<f64>,
    pub sidechain_hpf_hz: Option<f64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimiter {
    pub lookahead_ms: Option<f64>,
    pub release_ms: Option<f64>,
    pub hold_ms: Option<f64>,
    pub budget: Option<RawBudget>,
}

/// How much the limiter may work on a track.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub sustained_db: Option<f64>,
    pub peak_db: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Wav,
    Flac,
    Mp3,
    Ogg,
}

/// `sample_rate: source` or a rate in Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSpec {
    Source,
    Hz(u32),
}

impl JsonSchema for RateSpec {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SampleRate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`source` (each premaster's own rate) or a rate in Hz.",
            "anyOf": [{ "const": "source" }, { "type": "integer" }]
        })
    }
}

impl<'de> Deserialize<'de> for RateSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Hz(u32),
            Word(String),
        }
        match Either::deserialize(d) {
            Ok(Either::Hz(hz)) => Ok(RateSpec::Hz(hz)),
            Ok(Either::Word(w)) if w == "source" => Ok(RateSpec::Source),
            _ => Err(serde::de::Error::custom("expected `source` or a sample rate in Hz")),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDeliverable {
    pub name: String,
    pub format: Option<Format>,
    pub sample_rate: Option<RateSpec>,
    pub bit_depth: Option<u32>,
    pub dither: Option<DitherKind>,
    /// FLAC: 0 (fastest) to 8 (smallest).
    pub compression: Option<u8>,
    /// MP3: a constant bit rate (kbit/s)...
    pub bitrate_kbps: Option<u16>,
    /// ...or a VBR quality, 0 (best) to 9; Ogg Vorbis: 0 to 10 (best), as `oggenc -q`.
    pub quality: Option<u8>,
    pub file_name: Option<String>,
    /// `album`: one image of the whole sequence and its CUE sheet too.
    pub layout: Option<crate::audio::encode::Layout>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTrack {
    pub title: String,
    pub mix: Option<String>,
    pub stems: Option<Vec<RawStem>>,
    pub offset_lu: Option<f64>,
    pub chain: Option<RawChain>,
    pub artist: Option<String>,
    pub composer: Option<String>,
    pub isrc: Option<String>,
    pub genre: Option<String>,
    pub trim: Option<RawTrim>,
    /// Explicit edit points in the premaster, seconds.
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
    pub fade_in_ms: Option<f64>,
    pub fade_out_ms: Option<f64>,
    pub fade_curve: Option<crate::dsp::edit::FadeCurve>,
    pub gap_s: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Normal,
    Inverted,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStem {
    pub name: String,
    pub file: String,
    pub gain_db: Option<f64>,
    pub pan: Option<f64>,
    pub mute: Option<bool>,
    pub polarity: Option<Polarity>,
    pub eq: Option<Vec<RawBand>>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQc {
    pub fail_on: Option<Vec<String>>,
    pub thresholds: Option<BTreeMap<String, f64>>,
}

/// A preset file in `configs/`.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPreset {
    /// For people reading `configs/`; lathe does not use it.
    #[serde(rename = "description")]
    pub _description: Option<String>,
    #[serde(default)]
    pub target: RawTarget,
    pub chain: Option<RawChain>,
    pub deliverables: Option<Vec<RawDeliverable>>,
    pub qc: Option<RawQc>,
}

fn or<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
    over.clone().or_else(|| base.clone())
}

impl RawTarget {
    /// `self`'s keys over `base`'s.
    pub fn over(&self, base: &RawTarget) -> RawTarget {
        RawTarget {
            preset: or(&self.preset, &base.preset),
            loudness_lufs: or(&self.loudness_lufs, &base.loudness_lufs),
            true_peak_dbtp: or(&self.true_peak_dbtp, &base.true_peak_dbtp),
            mode: or(&self.mode, &base.mode),
            tolerance_lu: or(&self.tolerance_lu, &base.tolerance_lu),
            album_anchor: or(&self.album_anchor, &base.album_anchor),
            max_gain_db: or(&self.max_gain_db, &base.max_gain_db),
        }
    }
}

impl RawChain {
    /// `self`'s keys over `base`'s; compressor and limiter merge key by key,
    /// an `eq` list replaces the whole list.
    pub fn over(&self, base: &RawChain) -> RawChain {
        RawChain {
            eq: or(&self.eq, &base.eq),
            compressor: match (&self.compressor, &base.compressor) {
                (Some(o), Some(b)) => Some(RawCompressor {
                    threshold_db: or(&o.threshold_db, &b.threshold_db),
                    ratio: or(&o.ratio, &b.ratio),
                    attack_ms: or(&o.attack_ms, &b.attack_ms),
                    release_ms: or(&o.release_ms, &b.release_ms),
                    knee_db: or(&o.knee_db, &b.knee_db),
                    makeup_db: or(&o.makeup_db, &b.makeup_db),
                    sidechain_hpf_hz: or(&o.sidechain_hpf_hz, &b.sidechain_hpf_hz),
                }),
                (o, b) => or(o, b),
            },
            width: or(&self.width, &base.width),
            mono_below_hz: or(&self.mono_below_hz, &base.mono_below_hz),
            tonal_match: or(&self.tonal_match, &base.tonal_match),
            limiter: match (&self.limiter, &base.limiter) {
                (Some(o), Some(b)) => Some(RawLimiter {
                    lookahead_ms: or(&o.lookahead_ms, &b.lookahead_ms),
                    release_ms: or(&o.release_ms, &b.release_ms),
                    hold_ms: or(&o.hold_ms, &b.hold_ms),
                    budget: match (&o.budget, &b.budget) {
                        (Some(o), Some(b)) => Some(RawBudget {
                            sustained_db: or(&o.sustained_db, &b.sustained_db),
                            peak_db: or(&o.peak_db, &b.peak_db),
                        }),
                        (o, b) => or(o, b),
                    },
                }),
                (o, b) => or(o, b),
            },
        }
    }
}
