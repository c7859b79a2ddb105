//! Phase 4, before the report is written: every master tagged in the
//! staging folder with what the manifest says of the release and the track,
//! and with loudness measured on the written file (ReplayGain 2.0 on FLAC,
//! MP3 and Ogg, the `bext` loudness fields on WAV). No audio is read here: the figures
//! are the report's, which were read from the files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::commit::Staging;
use crate::audio::tags::{self, Bext};
use crate::error::Result;
use crate::manifest::{Album, Container, Track};
use crate::report::{DeliverableReport, OutputReport, Report};

/// ReplayGain 2.0's reference loudness (LUFS).
pub const REPLAYGAIN_REFERENCE_LUFS: f64 = -18.0;

/// A release's longest INFO text kept (bytes): a file's tags stay small.
const MAX_INFO_BYTES: usize = 1024;

/// When the masters were made, as `bext` dates them: UTC, from
/// `SOURCE_DATE_EPOCH` when it is set (reproducible runs), else the clock.
pub struct Stamp {
    pub date: String,
    pub time: String,
}

impl Stamp {
    pub fn now() -> Stamp {
        let secs = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64)
            });
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        Stamp {
            date: format!("{y:04}-{m:02}-{d:02}"),
            time: format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60),
        }
    }
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// A gain as ReplayGain writes it: `-4.21 dB`.
fn rg_gain(lufs: f64) -> String {
    format!("{:.2} dB", REPLAYGAIN_REFERENCE_LUFS - lufs)
}

/// A peak as ReplayGain writes it: linear, full scale 1.0 (the true peak).
fn rg_peak(dbtp: f64) -> String {
    format!("{:.6}", 10f64.powf(dbtp / 20.0))
}

/// The Vorbis comments of a FLAC master.
fn vorbis(album: &Album, track: &Track, out: &OutputReport, d: &DeliverableReport) -> Vec<(String, String)> {
    let mut c: Vec<(&str, String)> = vec![("TITLE", track.title.clone())];
    let m = &album.meta;
    let optional = [
        ("ARTIST", album.artist_of(track).map(str::to_string)),
        ("ALBUM", Some(album.title.clone())),
        ("ALBUMARTIST", album.artist.clone()),
        ("DATE", m.date.clone()),
        ("GENRE", track.meta.genre.clone().or_else(|| m.genre.clone())),
        ("LABEL", m.label.clone()),
        ("COPYRIGHT", m.copyright.clone()),
        ("BARCODE", m.upc.clone()),
        ("ISRC", track.meta.isrc.clone()),
        ("COMPOSER", track.meta.composer.clone()),
        ("TRACKNUMBER", Some(track.number.to_string())),
        ("TRACKTOTAL", Some(album.tracks.len().to_string())),
        ("REPLAYGAIN_TRACK_GAIN", Some(rg_gain(out.integrated_lufs))),
        ("REPLAYGAIN_TRACK_PEAK", Some(rg_peak(out.true_peak_dbtp))),
        ("REPLAYGAIN_ALBUM_GAIN", Some(rg_gain(d.integrated_lufs))),
        ("REPLAYGAIN_ALBUM_PEAK", Some(rg_peak(d.true_peak_dbtp))),
    ];
    c.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    c.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A WAV master's `INFO` list and `bext` fields.
fn riff(album: &Album, track: &Track, out: &OutputReport, stamp: &Stamp) -> (Vec<([u8; 4], String)>, Bext) {
    let m = &album.meta;
    let artist = album.artist_of(track).map(str::to_string);
    let fields = [
        (*b"INAM", Some(track.title.clone())),
        (*b"IART", artist.clone()),
        (*b"IPRD", Some(album.title.clone())),
        (*b"ICRD", m.date.clone()),
        (*b"IGNR", track.meta.genre.clone().or_else(|| m.genre.clone())),
        (*b"ICOP", m.copyright.clone()),
        (*b"IMUS", track.meta.composer.clone()),
        (*b"ITRK", Some(track.number.to_string())),
        (*b"ISRC", track.meta.isrc.clone()),
        (*b"ISFT", Some(format!("lathe {}", env!("CARGO_PKG_VERSION")))),
    ];
    let info = fields
        .into_iter()
        .filter_map(|(id, v)| {
            v.map(|mut v| {
                let mut end = v.len().min(MAX_INFO_BYTES);
                while !v.is_char_boundary(end) {
                    end -= 1;
                }
                v.truncate(end);
                (id, v)
            })
        })
        .collect();
    let bits = out.bit_depth;
    let bext = Bext {
        description: match artist {
            Some(a) => format!("{a} - {}", track.title),
            None => track.title.clone(),
        },
        originator: "lathe".into(),
        originator_reference: track.meta.isrc.clone().unwrap_or_default(),
        date: stamp.date.clone(),
        time: stamp.time.clone(),
        loudness: [
            out.integrated_lufs,
            out.lra_lu,
            out.true_peak_dbtp,
            out.momentary_max_lufs,
            out.short_term_max_lufs,
        ],
        coding_history: format!(
            "A=PCM,F={},W={bits},M=stereo,T=lathe {}\r\n",
            out.sample_rate,
            env!("CARGO_PKG_VERSION")
        ),
    };
    (info, bext)
}

/// What the report says of a WAV master's tags.
fn riff_report(info: &[([u8; 4], String)], bext: &Bext) -> BTreeMap<String, String> {
    let mut t: BTreeMap<String, String> =
        info.iter().map(|(id, v)| (String::from_utf8_lossy(id).into_owned(), v.clone())).collect();
    let names = [
        "loudness_value",
        "loudness_range",
        "max_true_peak_level",
        "max_momentary_loudness",
        "max_short_term_loudness",
    ];
    for (name, v) in names.iter().zip(bext.loudness) {
        t.insert(format!("bext.{name}"), format!("{v:.2}"));
    }
    for (name, v) in [
        ("description", &bext.description),
        ("originator", &bext.originator),
        ("originator_reference", &bext.originator_reference),
        ("origination_date", &bext.date),
        ("origination_time", &bext.time),
        ("coding_history", &bext.coding_history),
    ] {
        t.insert(format!("bext.{name}"), v.trim_end().to_string());
    }
    t
}

/// Tags every master in `staging`, and records in the report what each holds.
pub(super) fn tag_all(
    album: &Album,
    staging: &Staging,
    paths: &[Vec<PathBuf>],
    report: &mut Report,
) -> Result<()> {
    let stamp = Stamp::now();
    for ((track, tr), tpaths) in album.tracks.iter().zip(&mut report.tracks).zip(paths) {
        for (((d, out), rel), dr) in
            album.deliverables.iter().zip(&mut tr.outputs).zip(tpaths).zip(&report.album.deliverables)
        {
            let path = staging.path(rel)?;
            out.tags = match d.container {
                Container::Flac { .. } | Container::Ogg { .. } => {
                    let comments = vorbis(album, track, out, dr);
                    tags::write_vorbis(&path, &comments)?;
                    comments.into_iter().collect()
                }
                Container::Mp3(_) => {
                    tags::write_id3(&path, &vorbis(album, track, out, dr))?.into_iter().collect()
                }
                Container::Wav => {
                    let (info, bext) = riff(album, track, out, &stamp);
                    tags::write_wav(&path, &info, &bext)?;
                    riff_report(&info, &bext)
                }
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_788), (2026, 12, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn replaygain_is_the_distance_to_minus_18() {
        assert_eq!(rg_gain(-14.0), "-4.00 dB");
        assert_eq!(rg_gain(-23.456), "5.46 dB");
        assert_eq!(rg_peak(0.0), "1.000000");
        assert_eq!(rg_peak(-6.0206), "0.500000");
    }
}
