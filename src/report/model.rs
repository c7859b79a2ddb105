//! The report as plain data: what `lathe master` found and wrote, built
//! by the pipeline's last phase and turned into files by the exporters.

use serde::Serialize;

use crate::dsp::series::Series;
use crate::dsp::spectrum::Spectrum;
use crate::manifest::Mode;
use crate::qc::{Check, Severity};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub lathe_version: &'static str,
    pub passed: bool,
    pub album: AlbumReport,
    pub tracks: Vec<TrackReport>,
    /// The album as a sequence: each track's place, gap and edit.
    pub sequence: Vec<SequenceEntry>,
    /// Each `layout: album` deliverable's image and its CUE sheet.
    pub images: Vec<ImageReport>,
    /// Album-level checks.
    pub checks: Vec<Check>,
}

/// Tracks mastered as one gapless programme.
#[derive(Debug, Clone, Serialize)]
pub struct ProgrammeReport {
    /// The first and last track number.
    pub tracks: [usize; 2],
    /// The whole programme's loudness, on the first deliverable: what its target is held against.
    pub integrated_lufs: f64,
}

/// One track in the sequence, in seconds of the first deliverable.
#[derive(Debug, Clone, Serialize)]
pub struct SequenceEntry {
    pub index: usize,
    /// Silence before the track (the first track's: its pregap).
    pub gap_s: f64,
    /// Where the track starts on the album, gaps included (the first after its pregap).
    pub start_s: f64,
    pub duration_s: f64,
    /// The track's edit, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditReport>,
}

/// What the edit kept of a premaster and how it faded it.
#[derive(Debug, Clone, Serialize)]
pub struct EditReport {
    /// The kept span, in seconds of the premaster.
    pub start_s: f64,
    pub end_s: f64,
    pub premaster_duration_s: f64,
    pub trimmed: bool,
    pub fade_in_s: f64,
    pub fade_out_s: f64,
    pub fade_curve: crate::dsp::edit::FadeCurve,
}

/// An album image and its CUE sheet as written.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub deliverable: String,
    pub path: String,
    pub cue_path: String,
    pub sample_rate: u32,
    /// 44.1 kHz, 16-bit: held to the Red Book.
    pub cd: bool,
    pub frames: u64,
    pub duration_s: f64,
    /// Per track: INDEX 00 and INDEX 01 as the sheet writes them, and in samples of the image.
    pub tracks: Vec<CueEntry>,
    /// The sheet's text, as written.
    pub cue: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CueEntry {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pregap: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index00: Option<String>,
    pub index01: String,
    pub start_frame: u64,
    pub frames: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlbumReport {
    pub title: String,
    pub artist: Option<String>,
    pub mode: Mode,
    pub preset: Option<String>,
    pub target_lufs: f64,
    pub ceiling_dbtp: f64,
    /// Pooled over every track's gating blocks, on the first deliverable.
    pub integrated_lufs: f64,
    pub lra_lu: f64,
    pub true_peak_dbtp: f64,
    /// Largest minus smallest track loudness, offsets removed.
    pub loudness_spread_lu: f64,
    /// The tracks' mean tonal distance to the album's own balance (the
    /// masters' mean long-term spectrum), dB.
    pub tonal_spread_db: f64,
    pub premaster_integrated_lufs: f64,
    /// Album mode: what the album gain puts on the target (`pooled` or `loudest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album_anchor: Option<crate::manifest::AlbumAnchor>,
    /// Album-mode gain before per-track limiting compensation, dB.
    pub album_gain_db: Option<f64>,
    /// Album mode: the track whose limiting budget (or the maximum gain)
    /// brought the album gain down, and by how much.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_back_by: Option<HeldBackReport>,
    /// How many times the whole album was rendered to land on target.
    pub album_passes: usize,
    pub deliverables: Vec<DeliverableReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldBackReport {
    /// 1-based track number.
    pub track: usize,
    pub title: String,
    /// How far the album gain is under what the anchor alone asks, LU.
    pub by_lu: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliverableReport {
    pub name: String,
    pub format: &'static str,
    /// FLAC: its compression level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<u8>,
    /// MP3 CBR: its bit rate (kbit/s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u16>,
    /// MP3 VBR: LAME's quality, 0 (best) to 9; Ogg Vorbis: `oggenc -q`, 0 to 10 (best).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vbr_quality: Option<u8>,
    pub sample_rate: Option<u32>,
    pub bit_depth: u32,
    pub dither: &'static str,
    /// Pooled album loudness of this deliverable's files.
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
}

impl DeliverableReport {
    /// Its format for a table: `wav`, `flac (level 8)`, `mp3 320 kbit/s`, `mp3 VBR V0`.
    pub fn format_label(&self) -> String {
        match (self.compression, self.bitrate_kbps, self.vbr_quality) {
            (Some(level), _, _) => format!("{} (level {level})", self.format),
            (_, Some(kbps), _) => format!("{} {kbps} kbit/s", self.format),
            (_, _, Some(q)) if self.format == "ogg" => format!("ogg vorbis q{q}"),
            (_, _, Some(q)) => format!("{} VBR V{q}", self.format),
            _ => self.format.to_string(),
        }
    }

    /// Its bit depth for a table: none for a lossy codec (it takes floats).
    pub fn bits_label(&self) -> String {
        if self.bitrate_kbps.is_some() || self.vbr_quality.is_some() {
            "–".into()
        } else {
            self.bit_depth.to_string()
        }
    }

    /// Its sample rate for a table: `44100 Hz`, or `source`.
    pub fn rate_label(&self) -> String {
        self.sample_rate.map_or("source".to_string(), |r| format!("{r} Hz"))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TrackReport {
    pub index: usize,
    pub title: String,
    pub kind: &'static str,
    pub premaster: PremasterReport,
    pub master: MasterReport,
    pub outputs: Vec<OutputReport>,
    pub checks: Vec<Check>,
    /// The chain it was mastered with, every key merged and defaulted, as
    /// the manifest writes it.
    pub chain: crate::dsp::chain::Chain,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tonal: Option<TonalReport>,
    /// For a stems track, each stem's settings and what it brings to the mix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stems: Option<Vec<StemReport>>,
    /// What the HTML report draws (kept out of report.json).
    #[serde(skip)]
    pub plots: TrackPlots,
}

/// A track's plot data: readings the pipeline already took, never a second decode.
#[derive(Debug, Clone, Default)]
pub struct TrackPlots {
    pub premaster_short_term_lufs: Series,
    /// Of the first deliverable, as written.
    pub master_short_term_lufs: Series,
    /// Largest limiter gain reduction in each interval, dB (positive).
    pub limiter_gain_reduction_db: Series,
    pub premaster_spectrum: Spectrum,
    pub master_spectrum: Spectrum,
    /// A matched track's reference.
    pub reference_spectrum: Option<Spectrum>,
}

/// `chain.match` on a track: the reference, the tonal distance to it
/// before and after, and the correction the match EQ made.
#[derive(Debug, Clone, Serialize)]
pub struct TonalReport {
    /// Its path (relative to the manifest), or `album`.
    pub reference: String,
    pub amount: f64,
    pub max_db: f64,
    pub smoothing_oct: f64,
    /// The premaster's and the master's tonal distance to the reference:
    /// the RMS, in dB, of the 1/3-octave band differences from 31.5 Hz to
    /// 16 kHz, their mean taken out.
    pub distance_before_db: f64,
    pub distance_after_db: f64,
    /// The correction on its grid (Hz), mid and side, dB.
    pub correction_hz: Vec<f64>,
    pub correction_mid_db: Vec<f64>,
    pub correction_side_db: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StemReport {
    pub name: String,
    pub file: String,
    pub gain_db: f64,
    pub pan: f64,
    pub mute: bool,
    pub polarity: &'static str,
    pub eq_bands: usize,
    pub channels: usize,
    pub frames: u64,
    /// Loudness of the stem as it sits in the premix (after EQ, gain, pan).
    pub integrated_lufs: f64,
    /// Sample peak of the stem file.
    pub file_peak_dbfs: f64,
    /// Share of the summed stems' loudness energy, percent.
    pub share_pct: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PremasterReport {
    pub path: String,
    pub codec: String,
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub lra_lu: f64,
    pub plr_db: f64,
    pub momentary_max_lufs: f64,
    pub short_term_max_lufs: f64,
    pub sample_rate: u32,
    pub bit_depth: Option<u32>,
    pub channels: usize,
    pub duration_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MasterReport {
    pub target_lufs: f64,
    /// Of the first deliverable, as written: the loudness reached.
    pub integrated_lufs: f64,
    /// Target minus reached, LU (positive when short, 0 on target): of the
    /// programme, for a track of one.
    pub short_of_target_lu: f64,
    /// For a track joined to its neighbours without a gap: the programme it
    /// was mastered in (one stream, one gain, one limiter), and its loudness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programme: Option<ProgrammeReport>,
    /// What set the gain: `target`, `sustained_budget`, `peak_budget` or `max_gain`.
    pub limited_by: crate::render::Bound,
    pub true_peak_dbtp: f64,
    pub lra_lu: f64,
    /// Premaster LRA minus master LRA, LU.
    pub lra_loss_lu: f64,
    /// Gain into the limiter, dB.
    pub gain_db: f64,
    /// Album mode: the track's own part of `gain_db`, on top of the album
    /// gain both modes' reports name: its `offset_lu` plus what the chain
    /// (EQ, compressor, limiter) takes from or adds to its loudness, dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trim_db: Option<f64>,
    /// Largest gain reduction (the peak), dB.
    pub max_limiting_db: f64,
    /// Gain reduction held over 400 ms windows, exceeded in 5% of them, dB.
    pub sustained_limiting_db: f64,
    pub mean_limiting_db: f64,
    pub limiting_seconds_over_1db: f64,
    pub limiting_seconds_over_3db: f64,
    pub limiting_seconds_over_6db: f64,
    /// The limiting budget the gain stayed within.
    pub limiting_budget: BudgetReport,
    /// For a track short of its target: what the target would have needed (an estimate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needed: Option<NeededReport>,
    pub compressor_max_gain_reduction_db: Option<f64>,
    pub compressor_mean_gain_reduction_db: Option<f64>,
    /// Render passes until every output was on target.
    pub passes: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct BudgetReport {
    pub sustained_db: f64,
    pub peak_db: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct NeededReport {
    pub gain_db: f64,
    pub sustained_limiting_db: f64,
    pub max_limiting_db: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputReport {
    pub deliverable: String,
    /// Relative to the output folder.
    pub path: String,
    /// The container: `wav` or `flac`.
    pub format: &'static str,
    pub sample_rate: u32,
    pub bit_depth: u32,
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub lra_lu: f64,
    pub momentary_max_lufs: f64,
    pub short_term_max_lufs: f64,
    pub duration_s: f64,
    pub frames: usize,
    /// The tags written into the file, by the container's own names
    /// (Vorbis comments; ID3v2.4 frames; RIFF `INFO` ids and `bext.*` fields).
    pub tags: std::collections::BTreeMap<String, String>,
    /// A lossy file: its figures above are the decoded file's; how its
    /// ceiling was held after the codec.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<crate::qc::master::CodecFinding>,
}

impl Report {
    /// Every check, album first, with the track it belongs to.
    pub fn all_checks(&self) -> impl Iterator<Item = (Option<&TrackReport>, &Check)> {
        self.checks
            .iter()
            .map(|c| (None, c))
            .chain(self.tracks.iter().flat_map(|t| t.checks.iter().map(move |c| (Some(t), c))))
    }

    pub fn worst(&self) -> Option<Severity> {
        self.all_checks().map(|(_, c)| c.severity).max()
    }
}
