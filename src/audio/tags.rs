//! Tags written into finished masters, in each container's own form:
//! - FLAC and Ogg Vorbis: Vorbis comments, through `lofty`;
//! - MP3: ID3v2.4, through `lofty`;
//! - WAV: a `LIST`/`INFO` chunk appended after the samples, and the `bext`
//!   chunk (EBU Tech 3285 v2) the writer reserved filled in, loudness
//!   fields included.
//!
//! The samples are never touched: a tagged master decodes to what was measured.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use lofty::config::WriteOptions;
use lofty::ogg::tag::VorbisComments;
use lofty::tag::TagExt;

use super::encode::BEXT_BODY_BYTES;
use crate::error::{Error, Result};

/// Writes `comments` (key, value; keys as Vorbis names them) into a FLAC or Ogg Vorbis file.
pub fn write_vorbis(path: &Path, comments: &[(String, String)]) -> Result<()> {
    let mut tag = VorbisComments::new();
    tag.set_vendor(format!("lathe {}", env!("CARGO_PKG_VERSION")));
    for (k, v) in comments {
        tag.push(k.clone(), v.clone());
    }
    tag.save_to_path(path, WriteOptions::default()).map_err(|e| tag_error(path, e))?;
    sync(path)
}

/// A tag that could not be written: an output error (disk full, a file
/// gone), as a failed sample write is.
fn tag_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::output(path, std::io::Error::other(format!("writing its tags: {e}")))
}

/// Writes an ID3v2.4 tag into an MP3 file from the same comments a FLAC
/// master gets (Vorbis names, mapped by `lofty` onto ID3 frames: `TITLE`
/// to `TIT2`, `ISRC` to `TSRC`, `REPLAYGAIN_TRACK_GAIN` to a `TXXX` frame).
/// Returns what the file holds, by frame: `TIT2`, `TXXX:REPLAYGAIN_TRACK_GAIN`.
pub fn write_id3(path: &Path, comments: &[(String, String)]) -> Result<Vec<(String, String)>> {
    use lofty::id3::v2::{Frame, Id3v2Tag};
    use lofty::tag::{Accessor, ItemKey, Tag, TagType};
    let mut tag = Tag::new(TagType::Id3v2);
    for (k, v) in comments {
        match k.as_str() {
            "TRACKNUMBER" => tag.set_track(v.parse().unwrap_or(0)),
            "TRACKTOTAL" => tag.set_track_total(v.parse().unwrap_or(0)),
            _ => {
                let key = ItemKey::from_key(TagType::VorbisComments, k)
                    .ok_or_else(|| Error::Render(format!("{}: no ID3 frame holds {k}", path.display())))?;
                tag.insert_text(key, v.clone());
            }
        }
    }
    let id3 = Id3v2Tag::from(tag);
    let mut written = Vec::new();
    for frame in &id3 {
        let text = match frame {
            Frame::Text(t) => t.value.to_string(),
            Frame::UserText(t) => {
                written.push((format!("TXXX:{}", t.description), t.content.to_string()));
                continue;
            }
            Frame::Timestamp(t) => t.timestamp.to_string(),
            _ => continue,
        };
        written.push((frame.id_str().to_string(), text));
    }
    id3.save_to_path(path, WriteOptions::default()).map_err(|e| tag_error(path, e))?;
    sync(path)?;
    Ok(written)
}

fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| Error::output(path, e))
}

/// The `bext` fields lathe fills in.
pub struct Bext {
    /// Free text, 256 bytes at most: the artist and title.
    pub description: String,
    pub originator: String,
    /// 32 bytes at most: the ISRC, where the track has one.
    pub originator_reference: String,
    /// `yyyy-mm-dd` and `hh:mm:ss`.
    pub date: String,
    pub time: String,
    /// Integrated loudness (LUFS), loudness range (LU), maximum true peak
    /// (dBTP), maximum momentary and short-term loudness (LUFS).
    pub loudness: [f64; 5],
    pub coding_history: String,
}

impl Bext {
    /// The chunk's body, [`BEXT_BODY_BYTES`] long: text fields NUL-padded
    /// ASCII, the loudness fields in hundredths (Tech 3285 v2).
    fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(BEXT_BODY_BYTES);
        let text = |b: &mut Vec<u8>, s: &str, len: usize| {
            let ascii: Vec<u8> =
                s.chars().map(|c| if c.is_ascii() && !c.is_control() { c as u8 } else { b'?' }).collect();
            let n = ascii.len().min(len);
            b.extend_from_slice(&ascii[..n]);
            b.resize(b.len() + len - n, 0);
        };
        text(&mut b, &self.description, 256);
        text(&mut b, &self.originator, 32);
        text(&mut b, &self.originator_reference, 32);
        text(&mut b, &self.date, 10);
        text(&mut b, &self.time, 8);
        b.extend_from_slice(&0u64.to_le_bytes()); // time reference: the file starts at 0
        b.extend_from_slice(&2u16.to_le_bytes()); // version 2: the loudness fields are set
        b.resize(b.len() + 64, 0); // no UMID
        for v in self.loudness {
            let hundredths =
                if v.is_finite() { (v * 100.0).round().clamp(-32767.0, 32767.0) as i16 } else { 0x7fff };
            b.extend_from_slice(&hundredths.to_le_bytes());
        }
        b.resize(602, 0); // reserved
        let history = self.coding_history.as_bytes();
        let n = history.len().min(BEXT_BODY_BYTES - 602 - 1);
        b.extend_from_slice(&history[..n]);
        b.resize(BEXT_BODY_BYTES, 0);
        b
    }
}

/// A chunk of a WAV file: its id, where its body starts, its size.
type Chunk = ([u8; 4], u64, u64);

/// Whether a WAV file is RF64, and its chunks up to its samples.
fn chunks(file: &mut std::fs::File, path: &Path) -> Result<(bool, Vec<Chunk>)> {
    let io = |e| Error::output(path, e);
    let mut head = [0u8; 12];
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.read_exact(&mut head).map_err(io)?;
    let rf64 = &head[0..4] == b"RF64";
    let mut out = Vec::new();
    let mut at = 12u64;
    loop {
        let mut h = [0u8; 8];
        file.seek(SeekFrom::Start(at)).map_err(io)?;
        if file.read_exact(&mut h).is_err() {
            break;
        }
        let id: [u8; 4] = h[0..4].try_into().expect("4 bytes");
        let size = u32::from_le_bytes(h[4..8].try_into().expect("4 bytes")) as u64;
        out.push((id, at + 8, size));
        if &id == b"data" {
            break;
        }
        at += 8 + size + (size & 1);
    }
    Ok((rf64, out))
}

/// Fills in a WAV master's reserved `bext` chunk and appends a `LIST`/`INFO`
/// chunk of `info` (four-character id, text) after its samples.
pub fn write_wav(path: &Path, info: &[([u8; 4], String)], bext: &Bext) -> Result<()> {
    let io = |e| Error::output(path, e);
    let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io)?;
    let (rf64, chunks) = chunks(&mut file, path)?;
    let not_ours = || {
        Error::Render(format!("{}: not a WAV master lathe wrote (no reserved bext chunk)", path.display()))
    };
    let &(_, at, size) = chunks.iter().find(|(id, ..)| id == b"bext").ok_or_else(not_ours)?;
    if size != BEXT_BODY_BYTES as u64 {
        return Err(not_ours());
    }
    file.seek(SeekFrom::Start(at)).map_err(io)?;
    file.write_all(&bext.body()).map_err(io)?;
    if !info.is_empty() {
        let mut list = b"LIST\0\0\0\0INFO".to_vec();
        for (id, text) in info {
            let mut v = text.as_bytes().to_vec();
            v.push(0);
            list.extend_from_slice(id);
            list.extend_from_slice(&(v.len() as u32).to_le_bytes());
            list.extend_from_slice(&v);
            if v.len() % 2 == 1 {
                list.push(0);
            }
        }
        let body = (list.len() - 8) as u32;
        list[4..8].copy_from_slice(&body.to_le_bytes());
        let end = file.seek(SeekFrom::End(0)).map_err(io)?;
        // The samples end on an even byte (the data chunk's pad byte, if any, is there).
        let end = if end % 2 == 1 {
            file.write_all(&[0]).map_err(io)?;
            end + 1
        } else {
            end
        };
        file.write_all(&list).map_err(io)?;
        let riff = end + list.len() as u64 - 8;
        if rf64 {
            file.seek(SeekFrom::Start(20)).map_err(io)?; // the ds64 chunk's RIFF size
            file.write_all(&riff.to_le_bytes()).map_err(io)?;
        } else {
            let riff = u32::try_from(riff).map_err(|_| {
                Error::Render(format!("{}: its tags would take the file past 4 GiB", path.display()))
            })?;
            file.seek(SeekFrom::Start(4)).map_err(io)?;
            file.write_all(&riff.to_le_bytes()).map_err(io)?;
        }
    }
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::encode::{Container, MasterFile, SampleFormat};

    fn master(path: &Path, container: Container) -> Vec<Vec<f32>> {
        let frames = 30_001;
        let x: Vec<Vec<f32>> = (0..2)
            .map(|c| (0..frames).map(|i| ((i * (3 + c) % 1000) as f32 - 500.0) / 32768.0).collect())
            .collect();
        let mut w =
            MasterFile::create(path, 44100, 2, SampleFormat::Int16, container, frames as u64).unwrap();
        w.write(&[&x[0], &x[1]]).unwrap();
        w.finish(true).unwrap();
        x
    }

    fn bext() -> Bext {
        Bext {
            description: "The Examples - Night Drive".into(),
            originator: "lathe".into(),
            originator_reference: "GBABC2400012".into(),
            date: "2026-12-01".into(),
            time: "19:41:17".into(),
            loudness: [-14.004, 6.5, -1.1, -9.87, -11.0],
            coding_history: "A=PCM,F=44100,W=16,M=stereo,T=lathe\r\n".into(),
        }
    }

    #[test]
    fn a_tagged_wav_keeps_its_samples_and_carries_bext_as_tech_3285_lays_it_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wav");
        let x = master(&path, Container::Wav);
        let info = [(*b"INAM", "Night Drive".to_string()), (*b"IART", "The Examples".to_string())];
        write_wav(&path, &info, &bext()).unwrap();
        let (audio, _) = crate::audio::decode::decode(&path).unwrap();
        assert_eq!(audio.channels, x);
        let f = std::fs::read(&path).unwrap();
        let u32_at = |i: usize| u32::from_le_bytes(f[i..i + 4].try_into().unwrap());
        assert_eq!(u32_at(4) as usize, f.len() - 8, "the RIFF size counts the INFO list");
        assert_eq!(&f[12..16], b"bext");
        let b = &f[20..20 + BEXT_BODY_BYTES];
        assert!(b.starts_with(b"The Examples - Night Drive\0"));
        assert_eq!(&b[256..261], b"lathe");
        assert_eq!(&b[288..300], b"GBABC2400012");
        assert_eq!(&b[320..330], b"2026-12-01");
        assert_eq!(&b[330..338], b"19:41:17");
        assert_eq!(u16::from_le_bytes([b[346], b[347]]), 2, "version");
        let field = |k: usize| i16::from_le_bytes([b[412 + 2 * k], b[413 + 2 * k]]);
        assert_eq!([field(0), field(1), field(2), field(3), field(4)], [-1400, 650, -110, -987, -1100]);
        assert!(b[602..].starts_with(b"A=PCM,F=44100"));
        let list = f.len() - (4 + 4 + 4 + (8 + 12) + (8 + 14));
        assert_eq!(&f[list..list + 4], b"LIST");
        assert_eq!(&f[list + 8..list + 16], b"INFOINAM");
    }

    #[test]
    fn a_tagged_rf64_keeps_its_samples_and_its_ds64_size_counts_the_tags() {
        use crate::audio::encode::WavStream;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wav");
        let frames = 20_001;
        let x: Vec<Vec<f32>> =
            (0..2).map(|c| (0..frames).map(|i| ((i + c) % 64) as f32 / 32768.0).collect()).collect();
        let mut w = WavStream::create_switching_at(&path, 48000, 2, SampleFormat::Int24, frames as u64, 1000)
            .unwrap();
        w.write(&[&x[0], &x[1]]).unwrap();
        w.finish(true).unwrap();
        write_wav(&path, &[(*b"INAM", "Night Drive".to_string())], &bext()).unwrap();
        let f = std::fs::read(&path).unwrap();
        assert_eq!(&f[0..4], b"RF64");
        assert_eq!(u64::from_le_bytes(f[20..28].try_into().unwrap()), f.len() as u64 - 8, "ds64 RIFF size");
        assert_eq!(&f[48..52], b"bext", "bext after ds64");
        let (audio, _) = crate::audio::decode::decode(&path).unwrap();
        assert_eq!(audio.channels, x);
        let probe = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format_tags=title:stream=duration_ts", "-of", "csv=p=0"])
            .arg(&path)
            .output()
            .expect("ffprobe (ffmpeg) is needed by the tests; .ci/run installs it");
        let text = String::from_utf8_lossy(&probe.stdout);
        assert!(text.contains("20001") && text.contains("Night Drive"), "ffprobe: {text}");
    }

    #[test]
    fn a_tagged_flac_keeps_its_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.flac");
        let x = master(&path, Container::Flac { level: 5 });
        write_vorbis(
            &path,
            &[("TITLE".into(), "Night Drive".into()), ("ISRC".into(), "GBABC2400012".into())],
        )
        .unwrap();
        let (audio, _) = crate::audio::decode::decode(&path).unwrap();
        assert_eq!(audio.channels, x);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.windows(17).any(|w| w == b"TITLE=Night Drive"));
    }
}
