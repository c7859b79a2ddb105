//! The album manifest (version 1): parsing, presets, defaults and validation
//! into an [`Album`] plan with resolved paths. Every error names the file,
//! the line and column, and the key path.

mod locate;
pub mod preset;
pub mod raw;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::dsp::biquad::Shape;
use crate::dsp::compressor::CompressorSettings;
use crate::dsp::dither::DitherKind;
use crate::dsp::eq::{Band, BandChannel};
use crate::dsp::limiter::Budget;
use crate::dsp::stereo::WidthSettings;
use crate::error::{Error, ManifestError};
use crate::stems::{StemInput, StemMix};
use raw::*;
pub use raw::{AlbumAnchor, Mode};

/// Default loudness tolerance of `analyze --target`, LU.
pub const DEFAULT_TOLERANCE_LU: f64 = 0.5;

/// The loudest a track's target may be (LUFS): louder than the loudest
/// commercial masters, reachable only by destroying the music.
pub const MAX_TARGET_LUFS: f64 = -5.0;
/// The most gain a track gets unless `target.max_gain_db` says otherwise (dB).
pub const DEFAULT_MAX_GAIN_DB: f64 = 24.0;

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

/// The limiter's timing and budget; the ceiling comes from the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limiter {
    pub lookahead_ms: f64,
    pub release_ms: f64,
    pub hold_ms: f64,
    /// How much the limiter may work: the gain solver stops at it.
    pub budget: Budget,
}

/// A track's mastering chain, all keys merged and defaulted.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub eq: Vec<Band>,
    pub compressor: Option<CompressorSettings>,
    pub width: WidthSettings,
    pub limiter: Limiter,
}

impl Default for Chain {
    /// The chain a track gets when nothing says otherwise: a 20 Hz high-pass
    /// (DC and subsonics) and the limiter with its default timing.
    fn default() -> Self {
        Chain {
            eq: vec![Band {
                shape: Shape::Highpass,
                freq_hz: 20.0,
                gain_db: 0.0,
                q: std::f64::consts::FRAC_1_SQRT_2,
                channel: BandChannel::Stereo,
            }],
            compressor: None,
            width: WidthSettings { width: 1.0, mono_below_hz: None },
            limiter: Limiter { lookahead_ms: 5.0, release_ms: 100.0, hold_ms: 20.0, budget: Budget::DEFAULT },
        }
    }
}

/// How a deliverable stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int16,
    Int24,
    Float32,
}

impl SampleFormat {
    pub fn bits(self) -> u32 {
        match self {
            SampleFormat::Int16 => 16,
            SampleFormat::Int24 => 24,
            SampleFormat::Float32 => 32,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deliverable {
    pub name: String,
    /// `None`: the premaster's rate.
    pub sample_rate: Option<u32>,
    pub format: SampleFormat,
    pub dither: DitherKind,
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
    /// Check ids whose warnings fail the run.
    pub fail_on: Vec<String>,
    /// Threshold overrides by name.
    pub thresholds: BTreeMap<String, f64>,
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

/// Bidirectional controls: they make a file name read differently from
/// what it is (`U+202E` turns `evil\u{202E}vaw.exe` into `evilexe.wav`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The most bytes of a title in a file name (`NN - ` and `.wav` around it
/// keep the name well under the 255 bytes file systems allow).
const MAX_TITLE_BYTES: usize = 200;

/// Replaces characters that are unsafe in file names on common file
/// systems, drops bidirectional controls, and cuts the result to
/// [`MAX_TITLE_BYTES`] on a character boundary.
pub fn sanitize_title(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .filter(|&c| !is_bidi_control(c))
        .map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim().trim_end_matches(['.', ' ']).trim_start_matches('.');
    let mut end = trimmed.len().min(MAX_TITLE_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let short = trimmed[..end].trim_end_matches(['.', ' ']);
    if short.is_empty() { "Untitled".into() } else { short.to_string() }
}

/// Text for a terminal table or a Markdown line: control characters escaped.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect()
}

/// Makes text from the manifest safe for a one-line error: control characters
/// (a key can span lines in YAML) are escaped, and very long text is cut.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 300 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A YAML text being read, for locating errors.
pub(crate) struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn error(&self, path: &str, message: impl Into<String>) -> ManifestError {
        let (line, column) = locate::Locator::new(self.text).find(path);
        ManifestError {
            file: self.file.to_path_buf(),
            line,
            column,
            path: one_line(path),
            message: one_line(&message.into()),
        }
    }
}

/// Deserializes with serde_yaml_ng, turning its error into a located one.
pub(crate) fn parse_yaml<T: DeserializeOwned>(src: &Source) -> Result<T, ManifestError> {
    serde_yaml_ng::from_str::<T>(src.text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let mut text = e.to_string();
        if let Some(i) = text.rfind(" at line ") {
            text.truncate(i);
        }
        // serde_yaml_ng says "path: message"; the key path goes in its own field.
        let (mut path, mut message) = match text.split_once(": ") {
            Some((p, m)) if !p.contains(' ') => (p.to_string(), m.to_string()),
            _ => (String::new(), text.clone()),
        };
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some((key, expected)) = rest.split_once('`')
        {
            path = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
            message = format!("unknown key `{key}`{}", expected.replacen(", expected", "; expected", 1));
        }
        if message.starts_with("missing field") {
            message = message.replacen("missing field", "missing key", 1);
        }
        ManifestError {
            file: src.file.to_path_buf(),
            line,
            column,
            path: one_line(&path),
            message: one_line(&message),
        }
    })
}

/// The largest manifest or preset file lathe reads (bytes).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The deepest YAML nesting lathe reads (a real manifest needs about 6).
pub const MAX_DEPTH: usize = 32;

/// What a path is, for an error about a file that is not a regular one.
pub fn file_kind(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::metadata(path).ok()?.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

/// Reads a manifest or preset: a regular file of at most
/// [`MAX_MANIFEST_BYTES`], UTF-8 (a byte-order mark is dropped).
pub(crate) fn read_yaml_file(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    if let Some(kind) = file_kind(path) {
        return Err(Error::Usage(format!("{}: is {kind}, not a YAML file", path.display())));
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::Usage(format!(
            "{}: larger than {} KiB; a manifest or preset is a short text file",
            path.display(),
            MAX_MANIFEST_BYTES >> 10
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Usage(format!("{}: not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
    })?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text))
}

/// Reads and validates a manifest file.
pub fn load(path: &Path) -> Result<Album, Error> {
    let text = read_yaml_file(path)?;
    Ok(parse(path, &text)?)
}

/// Refuses text YAML cannot hold as a manifest before any parser sees it:
/// tabs used for indentation, and nesting deeper than [`MAX_DEPTH`]
/// (counted in one pass, so 40,000 levels are refused at once).
fn screen(src: &Source) -> Result<(), ManifestError> {
    let located = |line: usize, column: usize, message: String| ManifestError {
        file: src.file.to_path_buf(),
        line,
        column,
        path: String::new(),
        message,
    };
    let mut depth = 0usize;
    for (n, line) in src.text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(col) = line[..indent].find('\t') {
            return Err(located(
                n + 1,
                col + 1,
                "a tab character in the indentation; YAML indents with spaces only".into(),
            ));
        }
        let mut quote = None;
        for (i, c) in line.char_indices() {
            match (quote, c) {
                (None, '#') if i == 0 || line[..i].ends_with([' ', '\t']) => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth + indent / 2 > MAX_DEPTH {
                return Err(located(
                    n + 1,
                    i + 1,
                    format!("nested more than {MAX_DEPTH} levels deep; a manifest needs a handful"),
                ));
            }
        }
    }
    Ok(())
}

/// Validates manifest text read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Album, ManifestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let src = Source { file: path, text };
    screen(&src)?;
    let raw: RawManifest = parse_yaml(&src)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = if root.as_os_str().is_empty() { PathBuf::from(".") } else { root };
    Resolver { src: &src, root: &root }.album(raw)
}

struct Resolver<'a> {
    src: &'a Source<'a>,
    root: &'a Path,
}

fn check_range(
    r: &Resolver,
    path: &str,
    value: f64,
    lo: f64,
    hi: f64,
    what: &str,
) -> Result<f64, ManifestError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(r.src.error(path, format!("{what} must be between {lo} and {hi} (got {value})")))
    }
}

impl Resolver<'_> {
    fn album(&self, raw: RawManifest) -> Result<Album, ManifestError> {
        if raw.version != 1 {
            return Err(self.src.error(
                "version",
                format!("manifest version {} is not supported; this lathe reads version 1", raw.version),
            ));
        }
        let preset = match &raw.target.preset {
            Some(name) => preset::load(name, self.root).map_err(|e| {
                e.unwrap_or_else(|| {
                    self.src.error(
                        "target.preset",
                        format!(
                            "no preset `{name}`: built-in presets are {}, or give a path to a preset file",
                            preset::names().join(", ")
                        ),
                    )
                })
            })?,
            None => RawPreset::default(),
        };
        let t = raw.target.over(&preset.target);
        let target = Target {
            preset: raw.target.preset.clone(),
            loudness_lufs: check_range(
                self,
                "target.loudness_lufs",
                t.loudness_lufs.unwrap_or(-14.0),
                -70.0,
                MAX_TARGET_LUFS,
                "the loudness target",
            )?,
            true_peak_dbtp: {
                let v = t.true_peak_dbtp.unwrap_or(-1.0);
                if !(v.is_finite() && v <= 0.0) {
                    return Err(self.src.error(
                        "target.true_peak_dbtp",
                        format!("the true-peak ceiling must be at or below 0 dBTP (got {v})"),
                    ));
                }
                check_range(self, "target.true_peak_dbtp", v, -20.0, 0.0, "the true-peak ceiling")?
            },
            mode: t.mode.unwrap_or(Mode::Album),
            album_anchor: t.album_anchor.unwrap_or(AlbumAnchor::Pooled),
            max_gain_db: check_range(
                self,
                "target.max_gain_db",
                t.max_gain_db.unwrap_or(DEFAULT_MAX_GAIN_DB),
                0.0,
                40.0,
                "the maximum gain",
            )?,
            tolerance_lu: check_range(
                self,
                "target.tolerance_lu",
                t.tolerance_lu.unwrap_or(DEFAULT_TOLERANCE_LU),
                0.05,
                10.0,
                "the loudness tolerance",
            )?,
        };

        let defaults = RawChain {
            eq: Some(vec![RawBand {
                kind: BandType::Highpass,
                freq_hz: 20.0,
                gain_db: None,
                q: Some(std::f64::consts::FRAC_1_SQRT_2),
                channel: None,
            }]),
            ..RawChain::default()
        };
        let album_chain = raw
            .chain
            .clone()
            .unwrap_or_default()
            .over(&preset.chain.clone().unwrap_or_default().over(&defaults));

        let (deliverables, dpath) = match (&raw.deliverables, &preset.deliverables) {
            (Some(d), _) => (d.clone(), "deliverables"),
            (None, Some(d)) => (d.clone(), "target.preset"),
            (None, None) => (
                vec![RawDeliverable {
                    name: "master".into(),
                    format: Some(Format::Wav),
                    sample_rate: Some(RateSpec::Source),
                    bit_depth: Some(24),
                    dither: None,
                }],
                "deliverables",
            ),
        };
        let deliverables = self.deliverables(&deliverables, dpath)?;

        if raw.tracks.is_empty() {
            return Err(self.src.error("tracks", "the album has no tracks"));
        }
        let mut tracks = Vec::new();
        for (i, t) in raw.tracks.iter().enumerate() {
            let track = self.track(i, t, &album_chain)?;
            let level = target.loudness_lufs + track.offset_lu;
            if !(-70.0..=MAX_TARGET_LUFS).contains(&level) {
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

        let qc_raw = raw.qc.clone().unwrap_or_default();
        let preset_qc = preset.qc.clone().unwrap_or_default();
        let mut thresholds = preset_qc.thresholds.unwrap_or_default();
        thresholds.extend(qc_raw.thresholds.unwrap_or_default());
        let qc = QcConfig { fail_on: qc_raw.fail_on.or(preset_qc.fail_on).unwrap_or_default(), thresholds };
        for (i, id) in qc.fail_on.iter().enumerate() {
            if !crate::qc::checks::is_known_id(id) {
                return Err(self.src.error(
                    &format!("qc.fail_on[{i}]"),
                    format!("unknown check id `{id}`; known ids: {}", crate::qc::checks::ALL_IDS.join(", ")),
                ));
            }
        }
        for key in qc.thresholds.keys() {
            if !crate::qc::checks::is_known_threshold(key) {
                return Err(self.src.error(
                    &format!("qc.thresholds.{key}"),
                    format!(
                        "unknown threshold `{key}`; known thresholds: {}",
                        crate::qc::checks::THRESHOLDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }

        Ok(Album {
            manifest: self.src.file.to_path_buf(),
            root: self.root.to_path_buf(),
            title: raw.album.title.clone(),
            artist: raw.album.artist.clone(),
            target,
            deliverables,
            tracks,
            qc,
        })
    }

    fn deliverables(&self, list: &[RawDeliverable], base: &str) -> Result<Vec<Deliverable>, ManifestError> {
        if list.is_empty() {
            return Err(self.src.error(base, "at least one deliverable is needed"));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, d) in list.iter().enumerate() {
            let p = |k: &str| {
                if base == "deliverables" { format!("deliverables[{i}].{k}") } else { base.to_string() }
            };
            let name_ok = !d.name.is_empty()
                && d.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !d.name.starts_with('.');
            if !name_ok {
                return Err(self.src.error(
                    &p("name"),
                    format!(
                        "deliverable name `{}` must be letters, digits, `-`, `_` or `.` (it names a folder)",
                        d.name
                    ),
                ));
            }
            if ["report.json", "report.html", "report.md"].contains(&d.name.to_ascii_lowercase().as_str()) {
                return Err(self.src.error(
                    &p("name"),
                    format!(
                        "deliverable name `{}` is the name of a report file lathe writes in the same folder",
                        d.name
                    ),
                ));
            }
            if !seen.insert(d.name.to_ascii_lowercase()) {
                return Err(self.src.error(
                    &p("name"),
                    format!("two deliverables are named `{}`; they would write the same files", d.name),
                ));
            }
            let sample_rate = match d.sample_rate.unwrap_or(RateSpec::Source) {
                RateSpec::Source => None,
                RateSpec::Hz(hz) => {
                    check_range(self, &p("sample_rate"), hz as f64, 8000.0, 384000.0, "the sample rate")?;
                    Some(hz)
                }
            };
            let format = match d.bit_depth.unwrap_or(24) {
                16 => SampleFormat::Int16,
                24 => SampleFormat::Int24,
                32 => SampleFormat::Float32,
                b => {
                    return Err(self.src.error(
                        &p("bit_depth"),
                        format!("bit depth must be 16, 24 (integer) or 32 (float); got {b}"),
                    ));
                }
            };
            let dither = match (d.dither, format) {
                (Some(Dither::Tpdf | Dither::Shaped), SampleFormat::Float32) => {
                    return Err(self
                        .src
                        .error(&p("dither"), "32-bit float is not dithered; use `dither: none`"));
                }
                (_, SampleFormat::Float32) | (Some(Dither::None), _) => DitherKind::None,
                (Some(Dither::Shaped), _) => DitherKind::Shaped,
                (Some(Dither::Tpdf) | None, _) => DitherKind::Tpdf,
            };
            out.push(Deliverable { name: d.name.clone(), sample_rate, format, dither });
        }
        Ok(out)
    }

    fn bands(&self, path: &str, raw: &[RawBand]) -> Result<Vec<Band>, ManifestError> {
        raw.iter()
            .enumerate()
            .map(|(i, b)| {
                let p = |k: &str| format!("{path}[{i}].{k}");
                let shape = match b.kind {
                    BandType::Highpass => Shape::Highpass,
                    BandType::Lowpass => Shape::Lowpass,
                    BandType::LowShelf => Shape::LowShelf,
                    BandType::HighShelf => Shape::HighShelf,
                    BandType::Peak => Shape::Peak,
                    BandType::Notch => Shape::Notch,
                };
                let freq_hz = check_range(self, &p("freq_hz"), b.freq_hz, 10.0, 20000.0, "the frequency")?;
                let q = check_range(
                    self,
                    &p("q"),
                    b.q.unwrap_or(std::f64::consts::FRAC_1_SQRT_2),
                    0.1,
                    20.0,
                    "Q",
                )?;
                let gain_db =
                    check_range(self, &p("gain_db"), b.gain_db.unwrap_or(0.0), -24.0, 24.0, "the gain")?;
                if b.gain_db.is_some() && matches!(shape, Shape::Highpass | Shape::Lowpass | Shape::Notch) {
                    return Err(self
                        .src
                        .error(&p("gain_db"), "high-pass, low-pass and notch bands take no gain"));
                }
                let channel = match b.channel.unwrap_or(raw::BandChannel::Stereo) {
                    raw::BandChannel::Stereo => BandChannel::Stereo,
                    raw::BandChannel::Mid => BandChannel::Mid,
                    raw::BandChannel::Side => BandChannel::Side,
                };
                Ok(Band { shape, freq_hz, gain_db, q, channel })
            })
            .collect()
    }

    fn chain(&self, path: &str, raw: &RawChain) -> Result<Chain, ManifestError> {
        let p = |k: &str| format!("{path}.{k}");
        let eq = self.bands(&p("eq"), raw.eq.as_deref().unwrap_or(&[]))?;
        let compressor = match &raw.compressor {
            None => None,
            Some(c) => {
                let d = CompressorSettings::default();
                let cp = |k: &str| format!("{path}.compressor.{k}");
                Some(CompressorSettings {
                    threshold_db: check_range(
                        self,
                        &cp("threshold_db"),
                        c.threshold_db.unwrap_or(d.threshold_db),
                        -60.0,
                        0.0,
                        "the threshold",
                    )?,
                    ratio: check_range(
                        self,
                        &cp("ratio"),
                        c.ratio.unwrap_or(d.ratio),
                        1.0,
                        20.0,
                        "the ratio",
                    )?,
                    attack_ms: check_range(
                        self,
                        &cp("attack_ms"),
                        c.attack_ms.unwrap_or(d.attack_ms),
                        0.1,
                        500.0,
                        "the attack",
                    )?,
                    release_ms: check_range(
                        self,
                        &cp("release_ms"),
                        c.release_ms.unwrap_or(d.release_ms),
                        1.0,
                        5000.0,
                        "the release",
                    )?,
                    knee_db: check_range(
                        self,
                        &cp("knee_db"),
                        c.knee_db.unwrap_or(d.knee_db),
                        0.0,
                        24.0,
                        "the knee",
                    )?,
                    makeup_db: check_range(
                        self,
                        &cp("makeup_db"),
                        c.makeup_db.unwrap_or(0.0),
                        -24.0,
                        24.0,
                        "the makeup gain",
                    )?,
                    sidechain_hpf_hz: c
                        .sidechain_hpf_hz
                        .map(|f| {
                            check_range(
                                self,
                                &cp("sidechain_hpf_hz"),
                                f,
                                10.0,
                                1000.0,
                                "the sidechain high-pass",
                            )
                        })
                        .transpose()?,
                })
            }
        };
        let width = WidthSettings {
            width: check_range(self, &p("width"), raw.width.unwrap_or(1.0), 0.0, 4.0, "the width")?,
            mono_below_hz: raw
                .mono_below_hz
                .map(|f| check_range(self, &p("mono_below_hz"), f, 10.0, 1000.0, "the mono crossover"))
                .transpose()?,
        };
        let l = raw.limiter.clone().unwrap_or_default();
        let lp = |k: &str| format!("{path}.limiter.{k}");
        let b = l.budget.clone().unwrap_or_default();
        let bp = |k: &str| format!("{path}.limiter.budget.{k}");
        let budget = Budget {
            sustained_db: check_range(
                self,
                &bp("sustained_db"),
                b.sustained_db.unwrap_or(Budget::DEFAULT.sustained_db),
                0.0,
                20.0,
                "the sustained limiting budget",
            )?,
            peak_db: check_range(
                self,
                &bp("peak_db"),
                b.peak_db.unwrap_or(Budget::DEFAULT.peak_db),
                0.0,
                30.0,
                "the peak limiting budget",
            )?,
        };
        if budget.peak_db < budget.sustained_db {
            return Err(self.src.error(
                &bp("peak_db"),
                format!(
                    "the peak budget ({} dB) is below the sustained budget ({} dB); a peak always takes at least the sustained gain reduction",
                    budget.peak_db, budget.sustained_db
                ),
            ));
        }
        let limiter = Limiter {
            lookahead_ms: check_range(
                self,
                &lp("lookahead_ms"),
                l.lookahead_ms.unwrap_or(5.0),
                0.5,
                20.0,
                "the lookahead",
            )?,
            release_ms: check_range(
                self,
                &lp("release_ms"),
                l.release_ms.unwrap_or(100.0),
                1.0,
                2000.0,
                "the release",
            )?,
            hold_ms: check_range(self, &lp("hold_ms"), l.hold_ms.unwrap_or(20.0), 0.0, 200.0, "the hold")?,
            budget,
        };
        Ok(Chain { eq, compressor, width, limiter })
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
            (None, Some(stems)) => {
                if stems.is_empty() {
                    return Err(self.src.error(&p("stems"), "the stem list is empty"));
                }
                let mut names = HashSet::new();
                let mut out = Vec::new();
                for (j, s) in stems.iter().enumerate() {
                    let sp = |k: &str| format!("tracks[{i}].stems[{j}].{k}");
                    if !names.insert(s.name.clone()) {
                        return Err(self.src.error(&sp("name"), format!("two stems are named `{}`", s.name)));
                    }
                    let gain_db = check_range(
                        self,
                        &sp("gain_db"),
                        s.gain_db.unwrap_or(0.0),
                        -60.0,
                        24.0,
                        "the stem gain",
                    )?;
                    out.push(StemInput {
                        name: s.name.clone(),
                        file: self.root.join(&s.file),
                        mix: StemMix {
                            gain_db,
                            pan: check_range(self, &sp("pan"), s.pan.unwrap_or(0.0), -1.0, 1.0, "pan")?,
                            mute: s.mute.unwrap_or(false),
                            inverted: s.polarity == Some(Polarity::Inverted),
                            eq: self.bands(&sp("eq"), s.eq.as_deref().unwrap_or(&[]))?,
                        },
                    });
                }
                TrackSource::Stems(out)
            }
        };
        let merged = t.chain.clone().unwrap_or_default().over(album_chain);
        let chain_path = if t.chain.is_some() { p("chain") } else { "chain".to_string() };
        Ok(Track {
            number: i + 1,
            title: t.title.clone(),
            source,
            offset_lu: check_range(
                self,
                &p("offset_lu"),
                t.offset_lu.unwrap_or(0.0),
                -20.0,
                20.0,
                "the offset",
            )?,
            chain: self.chain(&chain_path, &merged)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Album, ManifestError> {
        parse(Path::new("album.yaml"), text)
    }

    fn err(text: &str) -> ManifestError {
        parse_str(text).expect_err("the manifest should be rejected")
    }

    const MINIMAL: &str = "version: 1\nalbum: {title: T}\ntracks:\n  - {title: One, mix: one.wav}\n";

    #[test]
    fn defaults_fill_a_minimal_manifest() {
        let a = parse_str(MINIMAL).unwrap();
        assert_eq!(a.target.loudness_lufs, -14.0);
        assert_eq!(a.target.true_peak_dbtp, -1.0);
        assert_eq!(a.target.mode, Mode::Album);
        assert_eq!(a.target.album_anchor, AlbumAnchor::Pooled);
        assert_eq!(a.target.max_gain_db, DEFAULT_MAX_GAIN_DB);
        assert_eq!(a.tracks[0].chain.limiter.budget, Budget::DEFAULT);
        assert_eq!(a.deliverables.len(), 1);
        assert_eq!(a.deliverables[0].name, "master");
        assert_eq!(a.deliverables[0].sample_rate, None);
        assert_eq!(a.deliverables[0].format, SampleFormat::Int24);
        let chain = &a.tracks[0].chain;
        assert_eq!(chain, &Chain::default());
        assert_eq!(chain.eq.len(), 1, "the default chain is a 20 Hz high-pass and the limiter");
        assert_eq!(chain.eq[0].shape, Shape::Highpass);
        assert_eq!(chain.eq[0].freq_hz, 20.0);
        assert!(chain.compressor.is_none());
        assert_eq!(a.tracks[0].source, TrackSource::Mix(PathBuf::from("./one.wav")));
        assert_eq!(a.tracks[0].file_name(), "01 - One.wav");
    }

    #[test]
    fn presets_merge_under_explicit_keys() {
        let a = parse_str("version: 1\nalbum: {title: T}\ntarget: {preset: cd, loudness_lufs: -9}\ntracks:\n  - {title: One, mix: a.wav}\n").unwrap();
        assert_eq!(a.target.loudness_lufs, -9.0, "the manifest's key wins");
        assert_eq!(a.target.true_peak_dbtp, -0.3, "the preset fills the rest");
        assert_eq!(a.deliverables[0].name, "cd");
        assert_eq!(a.deliverables[0].format, SampleFormat::Int16);
        assert_eq!(a.deliverables[0].sample_rate, Some(44100));
        assert_eq!(a.deliverables[0].dither, DitherKind::Tpdf);
        let b = parse_str("version: 1\nalbum: {title: T}\ntarget: {preset: broadcast-r128}\ntracks:\n  - {title: One, mix: a.wav}\n").unwrap();
        assert_eq!((b.target.loudness_lufs, b.target.mode), (-23.0, Mode::Track));
    }

    #[test]
    fn a_track_chain_overrides_album_keys_one_by_one() {
        let a = parse_str(
            "version: 1\nalbum: {title: T}\nchain:\n  compressor: {threshold_db: -20, ratio: 3}\n  width: 1.2\ntracks:\n  - {title: A, mix: a.wav}\n  - title: B\n    mix: b.wav\n    chain: {compressor: {ratio: 1.5}}\n",
        )
        .unwrap();
        let (ca, cb) = (a.tracks[0].chain.compressor.unwrap(), a.tracks[1].chain.compressor.unwrap());
        assert_eq!((ca.threshold_db, ca.ratio), (-20.0, 3.0));
        assert_eq!((cb.threshold_db, cb.ratio), (-20.0, 1.5));
        assert_eq!(a.tracks[1].chain.width.width, 1.2);
    }

    #[test]
    fn the_limiting_budget_merges_key_by_key() {
        let a = parse_str(
            "version: 1\nalbum: {title: T}\ntarget: {album_anchor: loudest, max_gain_db: 12}\nchain:\n  limiter: {budget: {sustained_db: 3, peak_db: 9}}\ntracks:\n  - {title: A, mix: a.wav}\n  - title: B\n    mix: b.wav\n    chain: {limiter: {release_ms: 200, budget: {peak_db: 12}}}\n",
        )
        .unwrap();
        assert_eq!(a.target.album_anchor, AlbumAnchor::Loudest);
        assert_eq!(a.target.max_gain_db, 12.0);
        assert_eq!(a.tracks[0].chain.limiter.budget, Budget { sustained_db: 3.0, peak_db: 9.0 });
        let b = a.tracks[1].chain.limiter;
        assert_eq!((b.release_ms, b.budget), (200.0, Budget { sustained_db: 3.0, peak_db: 12.0 }));
    }

    #[test]
    fn unknown_keys_name_line_column_and_path() {
        let e = err(
            "version: 1\nalbum: {title: T}\ntracks:\n  - title: S\n    stems:\n      - {name: v, file: v.wav, gian_db: 1}\n",
        );
        assert_eq!(e.path, "tracks[0].stems[0].gian_db");
        assert_eq!((e.line, e.column), (6, 32));
        assert!(e.message.contains("unknown key `gian_db`"), "{}", e.message);
        assert!(e.to_string().starts_with("album.yaml:6:32: tracks[0].stems[0].gian_db: unknown key"), "{e}");
    }

    #[test]
    fn each_invalid_manifest_gets_a_located_error() {
        let cases: &[(&str, &str, (usize, usize), &str)] = &[
            (
                "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: loud}\ntracks: []\n",
                "target.loudness_lufs",
                (3, 25),
                "invalid type",
            ),
            ("version: 1\nalbum: {title: T\n", "", (3, 1), "did not find expected"),
            (
                "version: 1\nalbum: {title: T}\ntracks:\n  - {title: A, mix: a.wav, stems: []}\n",
                "tracks[0].stems",
                (4, 28),
                "either `mix` or `stems`",
            ),
            ("version: 1\nalbum: {title: T}\ntracks: []\n", "tracks", (3, 1), "no tracks"),
            (
                "version: 1\nalbum: {title: T}\ntarget: {mode: loud}\ntracks: []\n",
                "target.mode",
                (3, 16),
                "unknown variant `loud`",
            ),
            (
                "version: 1\nalbum: {title: T}\ntarget: {true_peak_dbtp: 0.5}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "target.true_peak_dbtp",
                (3, 10),
                "at or below 0 dBTP",
            ),
            (
                "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: -80}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "target.loudness_lufs",
                (3, 10),
                "between -70 and -5",
            ),
            (
                "version: 1\nalbum: {title: T}\ntarget: {loudness_lufs: -14}\ntracks:\n  - {title: A, mix: a.wav}\n  - {title: B, mix: b.wav, offset_lu: 20}\n",
                "tracks[1].offset_lu",
                (6, 28),
                "-14 LUFS +20 LU = +6 LUFS, is too loud",
            ),
            (
                "version: 1\nalbum: {title: T}\nchain: {limiter: {budget: {sustained_db: 4, peak_db: 2}}}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "chain.limiter.budget.peak_db",
                (3, 45),
                "below the sustained budget",
            ),
            (
                "version: 1\nalbum: {title: T}\ntarget: {max_gain_db: 60}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "target.max_gain_db",
                (3, 10),
                "between 0 and 40",
            ),
            (
                "version: 2\nalbum: {title: T}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "version",
                (1, 1),
                "version 2 is not supported",
            ),
            ("version: 1\nalbum: {title: T}\ntracks:\n  - {title: A}\n", "tracks[0]", (4, 5), "needs `mix`"),
            (
                "version: 1\nalbum: {title: T}\ndeliverables:\n  - {name: a}\n  - {name: A}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "deliverables[1].name",
                (5, 6),
                "same files",
            ),
            (
                "version: 1\nalbum: {title: T}\ntarget: {preset: nope}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "target.preset",
                (3, 10),
                "no preset `nope`",
            ),
            (
                "version: 1\nalbum: {title: T}\nqc: {fail_on: [master.lufs]}\ntracks:\n  - {title: A, mix: a.wav}\n",
                "qc.fail_on[0]",
                (3, 16),
                "unknown check id",
            ),
        ];
        for (text, path, pos, words) in cases {
            let e = err(text);
            assert_eq!(&e.path, path, "{e}");
            assert_eq!((e.line, e.column), *pos, "{e}");
            assert!(e.message.contains(words), "{e}");
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn a_key_spanning_lines_still_gives_a_one_line_error() {
        // Found by fuzzing: a plain-scalar key folded over several lines.
        let e = err(
            "version: 1\nalbum: {title: T}\nchain:\n  eq:\n    - {type: peak, fre\n\n\n  S: 1, freq_hz: 100}\ntracks: []\n",
        );
        assert!(!e.to_string().contains('\n'), "{e}");
        assert!(e.message.contains("unknown key"), "{e}");
    }

    #[test]
    fn titles_become_safe_file_names() {
        assert_eq!(sanitize_title("AC/DC: Live?"), "AC_DC_ Live_");
        assert_eq!(sanitize_title("  ..hidden. "), "hidden");
        assert_eq!(sanitize_title("///"), "___");
        assert_eq!(sanitize_title(""), "Untitled");
        assert_eq!(sanitize_title("evil\u{202E}vaw.exe"), "evilvaw.exe");
        let long = "é".repeat(300);
        let cut = sanitize_title(&long);
        assert!(cut.len() <= MAX_TITLE_BYTES && cut.chars().all(|c| c == 'é'), "{}", cut.len());
        assert_eq!(printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
    }
}
