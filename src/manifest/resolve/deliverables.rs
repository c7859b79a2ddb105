//! `deliverables`: names (each a folder), rates, sample formats, dither.

use std::collections::HashSet;

use super::Resolver;
use crate::audio::encode::Layout;
use crate::audio::mp3::{self, Mp3Mode};
use crate::audio::{flac, ogg};
use crate::dsp::dither::DitherKind;
use crate::error::ManifestError;
use crate::manifest::schema::{Format, RateSpec, RawDeliverable};
use crate::manifest::{Album, Container, Deliverable, SampleFormat, defaults, limits, template};

/// Report files lathe writes beside the deliverables' folders.
const REPORT_FILES: [&str; 4] = ["report.json", "report.html", "report.md", "report.junit.xml"];

impl Resolver<'_> {
    /// The manifest's deliverables, else the preset's, else one 24-bit WAV
    /// at the premaster's rate.
    pub(super) fn deliverables_of(
        &self,
        manifest: Option<&[RawDeliverable]>,
        preset: Option<&[RawDeliverable]>,
    ) -> Result<Vec<Deliverable>, ManifestError> {
        match (manifest, preset) {
            (Some(d), _) => self.deliverables(d, "deliverables"),
            (None, Some(d)) => self.deliverables(d, "target.preset"),
            (None, None) => self.deliverables(
                &[RawDeliverable {
                    name: defaults::DELIVERABLE_NAME.into(),
                    format: Some(Format::Wav),
                    sample_rate: Some(RateSpec::Source),
                    bit_depth: Some(defaults::BIT_DEPTH),
                    dither: None,
                    compression: None,
                    bitrate_kbps: None,
                    quality: None,
                    file_name: None,
                    layout: None,
                }],
                "deliverables",
            ),
        }
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
            self.deliverable_name(&d.name, &p("name"))?;
            if !seen.insert(d.name.to_ascii_lowercase()) {
                return Err(self.src.error(
                    &p("name"),
                    format!("two deliverables are named `{}`; they would write the same files", d.name),
                ));
            }
            let sample_rate = match d.sample_rate.unwrap_or(RateSpec::Source) {
                RateSpec::Source => None,
                RateSpec::Hz(hz) => {
                    Some(self.within(&limits::SAMPLE_RATE, &p("sample_rate"), hz as f64)? as u32)
                }
            };
            let container = self.container(d, &p)?;
            let (format, dither) = if container.is_lossy() {
                if let Container::Mp3(_) = container {
                    self.lossy_rate(sample_rate, &p)?;
                }
                for (key, set) in [("bit_depth", d.bit_depth.is_some()), ("dither", d.dither.is_some())] {
                    if set {
                        return Err(self.src.error(
                            &p(key),
                            format!(
                                "`{key}` is not a setting of a lossy codec: the encoder takes the limiter's float samples"
                            ),
                        ));
                    }
                }
                (SampleFormat::Float32, DitherKind::None)
            } else {
                self.sample_format(d, container, &p)?
            };
            let file_name = d.file_name.clone().unwrap_or_else(|| template::DEFAULT.to_string());
            template::validate(&file_name).map_err(|m| self.src.error(&p("file_name"), m))?;
            let layout = d.layout.unwrap_or_default();
            if layout == Layout::Album {
                self.image_settings(container, sample_rate, &p)?;
            }
            out.push(Deliverable {
                name: d.name.clone(),
                sample_rate,
                format,
                dither,
                container,
                file_name,
                layout,
            });
        }
        if out[0].container.is_lossy() {
            let path = if base == "deliverables" { "deliverables[0].format" } else { base };
            return Err(self.src.error(
                path,
                "the first deliverable is the master the report and the album rule read, and a lossy one is made from it: put a WAV or FLAC deliverable first",
            ));
        }
        Ok(out)
    }

    /// The container and its settings.
    fn container(&self, d: &RawDeliverable, p: &dyn Fn(&str) -> String) -> Result<Container, ManifestError> {
        let format = d.format.unwrap_or(Format::Wav);
        let not_for = |key: &str, set: bool, of: &str| {
            if set {
                Err(self.src.error(
                    &p(key),
                    format!(
                        "`{key}` is {of} setting; this deliverable is {}",
                        match format {
                            Format::Wav => "WAV",
                            Format::Flac => "FLAC",
                            Format::Mp3 => "MP3",
                            Format::Ogg => "Ogg Vorbis",
                        }
                    ),
                ))
            } else {
                Ok(())
            }
        };
        if format != Format::Flac {
            not_for("compression", d.compression.is_some(), "a FLAC")?;
        }
        if format != Format::Mp3 {
            not_for("bitrate_kbps", d.bitrate_kbps.is_some(), "an MP3")?;
        }
        if !matches!(format, Format::Mp3 | Format::Ogg) {
            not_for("quality", d.quality.is_some(), "an MP3 or Ogg Vorbis")?;
        }
        Ok(match format {
            Format::Wav => Container::Wav,
            Format::Flac => {
                let level = d.compression.unwrap_or(flac::DEFAULT_LEVEL);
                if !flac::LEVELS.contains(&level) {
                    return Err(self.src.error(
                        &p("compression"),
                        format!("FLAC compression is 0 (fastest) to 8 (smallest); got {level}"),
                    ));
                }
                Container::Flac { level }
            }
            Format::Ogg => {
                let quality = d.quality.unwrap_or(ogg::DEFAULT_QUALITY);
                if !ogg::QUALITIES.contains(&quality) {
                    return Err(self.src.error(
                        &p("quality"),
                        format!("Ogg Vorbis quality is 0 to 10 (best), as oggenc -q; got {quality}"),
                    ));
                }
                Container::Ogg { quality }
            }
            Format::Mp3 => Container::Mp3(self.mp3_mode(d, p)?),
        })
    }

    /// An MP3's bit rate (CBR) or quality (VBR).
    fn mp3_mode(&self, d: &RawDeliverable, p: &dyn Fn(&str) -> String) -> Result<Mp3Mode, ManifestError> {
        Ok(match (d.bitrate_kbps, d.quality) {
            (Some(_), Some(_)) => {
                return Err(self.src.error(
                    &p("quality"),
                    "an MP3 has `bitrate_kbps` (constant bit rate) or `quality` (VBR), not both",
                ));
            }
            (None, Some(q)) if q > 9 => {
                return Err(self
                    .src
                    .error(&p("quality"), format!("MP3 VBR quality is 0 (best) to 9; got {q}")));
            }
            (None, Some(q)) => Mp3Mode::Vbr(q),
            (kbps, None) => {
                let kbps = kbps.unwrap_or(defaults::MP3_KBPS);
                if !mp3::BITRATES.contains(&kbps) {
                    return Err(self.src.error(
                        &p("bitrate_kbps"),
                        format!("an MP3 bit rate is one of {:?} kbit/s; got {kbps}", mp3::BITRATES),
                    ));
                }
                Mp3Mode::Cbr(kbps)
            }
        })
    }

    /// An album image is lossless, at a rate with a whole number of samples
    /// in a CD frame (1/75 s), so its CUE positions are exact.
    fn image_settings(
        &self,
        container: Container,
        rate: Option<u32>,
        p: &dyn Fn(&str) -> String,
    ) -> Result<(), ManifestError> {
        if container.is_lossy() {
            return Err(self.src.error(
                &p("layout"),
                "an album image (`layout: album`) is lossless: make it a WAV or FLAC deliverable",
            ));
        }
        match rate {
            Some(r) if !r.is_multiple_of(75) => Err(self.src.error(
                &p("sample_rate"),
                format!("an album image's CUE positions are 1/75 s frames, and {r} Hz has no whole number of samples in one; use 44100, 48000, 88200 or 96000"),
            )),
            _ => Ok(()),
        }
    }

    /// An MP3 (MPEG-1 Layer III) stream is at 32, 44.1 or 48 kHz.
    fn lossy_rate(&self, rate: Option<u32>, p: &dyn Fn(&str) -> String) -> Result<(), ManifestError> {
        match rate {
            Some(r) if mp3::SAMPLE_RATES.contains(&r) => Ok(()),
            _ => Err(self.src.error(
                &p("sample_rate"),
                "an MP3 deliverable needs `sample_rate` 32000, 44100 or 48000 (MPEG-1 Layer III)",
            )),
        }
    }

    /// The sample format and dither of a lossless deliverable.
    fn sample_format(
        &self,
        d: &RawDeliverable,
        container: Container,
        p: &dyn Fn(&str) -> String,
    ) -> Result<(SampleFormat, DitherKind), ManifestError> {
        let format = match d.bit_depth.unwrap_or(defaults::BIT_DEPTH) {
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
        if container != Container::Wav && format == SampleFormat::Float32 {
            return Err(self.src.error(&p("bit_depth"), "FLAC stores integers: use bit_depth 16 or 24"));
        }
        let dither = match (d.dither, format) {
            (Some(DitherKind::Tpdf | DitherKind::Shaped), SampleFormat::Float32) => {
                return Err(self.src.error(&p("dither"), "32-bit float is not dithered; use `dither: none`"));
            }
            (_, SampleFormat::Float32) => DitherKind::None,
            (d, _) => d.unwrap_or(defaults::DITHER),
        };
        Ok((format, dither))
    }

    /// No two tracks of a deliverable may get the same file name (a
    /// template without `{number}` can give two titles one name).
    pub(super) fn distinct_file_names(&self, album: &Album) -> Result<(), ManifestError> {
        for (i, d) in album.deliverables.iter().enumerate() {
            let mut seen = std::collections::HashMap::new();
            if d.layout == Layout::Album {
                let (image, cue) = album.image_file_names(d);
                seen.insert(image.to_lowercase(), 0);
                seen.insert(cue.to_lowercase(), 0);
            }
            for t in &album.tracks {
                let name = album.file_name(t, d);
                if seen.get(&name.to_lowercase()) == Some(&0) {
                    return Err(self.src.error(
                        &format!("deliverables[{i}].file_name"),
                        format!("track {} would be written as `{}/{name}`, the album image's name; change the file-name template", t.number, d.name),
                    ));
                }
                if let Some(first) = seen.insert(name.to_lowercase(), t.number) {
                    let path = if d.file_name == template::DEFAULT {
                        "tracks".to_string()
                    } else {
                        format!("deliverables[{i}].file_name")
                    };
                    return Err(self.src.error(
                        &path,
                        format!("tracks {first} and {} would both be written as `{}/{name}`; name them apart (add {{number}} to the template)", t.number, d.name),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A deliverable's name names a folder beside the report files.
    fn deliverable_name(&self, name: &str, path: &str) -> Result<(), ManifestError> {
        let ok = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.');
        if !ok {
            return Err(self.src.error(
                path,
                format!(
                    "deliverable name `{name}` must be letters, digits, `-`, `_` or `.` (it names a folder)"
                ),
            ));
        }
        if REPORT_FILES.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(self.src.error(
                path,
                format!(
                    "deliverable name `{name}` is the name of a report file lathe writes in the same folder"
                ),
            ));
        }
        Ok(())
    }
}
