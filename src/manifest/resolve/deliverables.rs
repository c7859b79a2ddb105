//! `deliverables`: names (each a folder), rates, sample formats, dither.

use std::collections::HashSet;

use super::Resolver;
use crate::audio::flac;
use crate::dsp::dither::DitherKind;
use crate::error::ManifestError;
use crate::manifest::schema::{Format, RateSpec, RawDeliverable};
use crate::manifest::{Album, Container, Deliverable, SampleFormat, defaults, limits, template};

/// Report files lathe writes beside the deliverables' folders.
const REPORT_FILES: [&str; 3] = ["report.json", "report.html", "report.md"];

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
                    file_name: None,
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
            let container = match (d.format.unwrap_or(Format::Wav), d.compression) {
                (Format::Wav, Some(_)) => {
                    return Err(self
                        .src
                        .error(&p("compression"), "`compression` is a FLAC setting; WAV is not compressed"));
                }
                (Format::Wav, None) => Container::Wav,
                (Format::Flac, level) => {
                    let level = level.unwrap_or(flac::DEFAULT_LEVEL);
                    if !flac::LEVELS.contains(&level) {
                        return Err(self.src.error(
                            &p("compression"),
                            format!("FLAC compression is 0 (fastest) to 8 (smallest); got {level}"),
                        ));
                    }
                    Container::Flac { level }
                }
            };
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
            let dither = match (d.dither, format) {
                (Some(DitherKind::Tpdf | DitherKind::Shaped), SampleFormat::Float32) => {
                    return Err(self
                        .src
                        .error(&p("dither"), "32-bit float is not dithered; use `dither: none`"));
                }
                (_, SampleFormat::Float32) => DitherKind::None,
                (d, _) => d.unwrap_or(defaults::DITHER),
            };
            if container != Container::Wav && format == SampleFormat::Float32 {
                return Err(self.src.error(&p("bit_depth"), "FLAC stores integers: use bit_depth 16 or 24"));
            }
            let file_name = d.file_name.clone().unwrap_or_else(|| template::DEFAULT.to_string());
            template::validate(&file_name).map_err(|m| self.src.error(&p("file_name"), m))?;
            out.push(Deliverable { name: d.name.clone(), sample_rate, format, dither, container, file_name });
        }
        Ok(out)
    }

    /// No two tracks of a deliverable may get the same file name (a
    /// template without `{number}` can give two titles one name).
    pub(super) fn distinct_file_names(&self, album: &Album) -> Result<(), ManifestError> {
        for (i, d) in album.deliverables.iter().enumerate() {
            let mut seen = std::collections::HashMap::new();
            for t in &album.tracks {
                let name = album.file_name(t, d);
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
