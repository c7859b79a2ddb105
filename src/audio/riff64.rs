//! Reading WAV past 4 GiB: RF64 (EBU Tech 3306, as lathe itself writes it
//! and broadcast tools do) and Sony Wave64 (W64).
//!
//! Both hold the samples of a WAV file with 64-bit sizes. symphonia's WAV
//! reader reads a RIFF stream whose data size is `0xFFFFFFFF` to its end (as
//! ffmpeg writes to a pipe), so either file is shown to it as such a stream:
//! a RIFF header made from the file's format chunk, then the file's sample
//! bytes, cut at the data size the file gives, so that chunks after the
//! samples are never read as audio.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// W64's chunk ids are GUIDs; these are the ones read here.
const W64_RIFF: [u8; 16] =
    guid(*b"riff", [0x2e, 0x91, 0xcf, 0x11, 0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00]);
const W64_WAVE: [u8; 16] =
    guid(*b"wave", [0xf3, 0xac, 0xd3, 0x11, 0x8c, 0xd1, 0x00, 0xc0, 0x4f, 0x8e, 0xdb, 0x8a]);
const W64_FMT: [u8; 16] =
    guid(*b"fmt ", [0xf3, 0xac, 0xd3, 0x11, 0x8c, 0xd1, 0x00, 0xc0, 0x4f, 0x8e, 0xdb, 0x8a]);
const W64_DATA: [u8; 16] =
    guid(*b"data", [0xf3, 0xac, 0xd3, 0x11, 0x8c, 0xd1, 0x00, 0xc0, 0x4f, 0x8e, 0xdb, 0x8a]);

const fn guid(fourcc: [u8; 4], rest: [u8; 12]) -> [u8; 16] {
    let mut g = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        g[i] = if i < 4 { fourcc[i] } else { rest[i - 4] };
        i += 1;
    }
    g
}

/// A WAV file past 4 GiB read as a streamed RIFF WAVE file.
pub struct RiffView {
    /// `RIFF`, the format chunk, and the data chunk's header.
    header: Vec<u8>,
    file: File,
    /// Where the samples are in the file.
    data_start: u64,
    data_len: u64,
    pos: u64,
    /// Where the file's own position is, when known: reads in sequence
    /// need no seek.
    file_at: Option<u64>,
}

impl RiffView {
    /// The view when `file` is RF64 or W64, else the file back. An error
    /// when it says it is one of them but its sizes do not fit the file.
    pub fn open(mut file: File) -> io::Result<Result<RiffView, File>> {
        let mut head = [0u8; 40];
        let n = read_up_to(&mut file, &mut head)?;
        let found = if n >= 12 && &head[0..4] == b"RF64" && &head[8..12] == b"WAVE" {
            Some(rf64(&mut file)?)
        } else if n >= 40 && head[0..16] == W64_RIFF && head[24..40] == W64_WAVE {
            Some(w64(&mut file)?)
        } else {
            None
        };
        file.seek(SeekFrom::Start(0))?;
        Ok(match found {
            Some((fmt, data_start, data_len)) => {
                if data_start + data_len > file.metadata()?.len() {
                    return Err(damaged("is shorter than the data size it declares (truncated?)"));
                }
                let mut header = Vec::with_capacity(28 + fmt.len());
                header.extend_from_slice(b"RIFF");
                header.extend_from_slice(&u32::MAX.to_le_bytes());
                header.extend_from_slice(b"WAVE");
                header.extend_from_slice(b"fmt ");
                header.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
                header.extend_from_slice(&fmt);
                if fmt.len() % 2 == 1 {
                    header.push(0);
                }
                header.extend_from_slice(b"data");
                header.extend_from_slice(&u32::MAX.to_le_bytes());
                Ok(RiffView { header, file, data_start, data_len, pos: 0, file_at: None })
            }
            None => Err(file),
        })
    }

    fn len(&self) -> u64 {
        self.header.len() as u64 + self.data_len
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn damaged(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("WAV file {what}"))
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as u64
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

/// Reads `len` bytes at `at`, refusing a chunk larger than a format chunk can be.
fn read_fmt(file: &mut File, at: u64, len: u64) -> io::Result<Vec<u8>> {
    if !(16..=1024).contains(&len) {
        return Err(damaged("has a format chunk of an impossible size"));
    }
    file.seek(SeekFrom::Start(at))?;
    let mut fmt = vec![0u8; len as usize];
    file.read_exact(&mut fmt).map_err(|_| damaged("ends inside its format chunk"))?;
    Ok(fmt)
}

/// RF64: `ds64` first (its data size is the real one), then RIFF chunks
/// with 32-bit sizes. Returns the format chunk and where the samples are.
fn rf64(file: &mut File) -> io::Result<(Vec<u8>, u64, u64)> {
    let file_len = file.metadata()?.len();
    let mut chunk = [0u8; 8 + 16];
    file.seek(SeekFrom::Start(12))?;
    file.read_exact(&mut chunk).map_err(|_| damaged("(RF64) ends before its ds64 chunk"))?;
    if &chunk[0..4] != b"ds64" || u32_at(&chunk, 4) < 24 {
        return Err(damaged("(RF64) has no ds64 chunk after WAVE"));
    }
    let data_len = u64_at(&chunk, 16);
    let mut at = 12 + 8 + u32_at(&chunk, 4);
    let mut fmt = None;
    while at + 8 <= file_len {
        let mut h = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut h)?;
        let len = u32_at(&h, 4);
        match &h[0..4] {
            b"fmt " => fmt = Some(read_fmt(file, at + 8, len)?),
            b"data" => {
                let fmt = fmt.ok_or_else(|| damaged("(RF64) has no format chunk before its data"))?;
                return Ok((fmt, at + 8, data_len));
            }
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    Err(damaged("(RF64) has no data chunk"))
}

/// W64: chunks of a 16-byte GUID and a 64-bit size that counts the 24-byte
/// header, each padded to 8 bytes.
fn w64(file: &mut File) -> io::Result<(Vec<u8>, u64, u64)> {
    let file_len = file.metadata()?.len();
    let mut at = 40;
    let mut fmt = None;
    while at + 24 <= file_len {
        let mut h = [0u8; 24];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut h)?;
        let len = u64_at(&h, 16);
        if len < 24 {
            return Err(damaged("(W64) has a chunk shorter than its header"));
        }
        if h[0..16] == W64_FMT {
            fmt = Some(read_fmt(file, at + 24, len - 24)?);
        } else if h[0..16] == W64_DATA {
            let fmt = fmt.ok_or_else(|| damaged("(W64) has no format chunk before its data"))?;
            return Ok((fmt, at + 24, len - 24));
        }
        at += len.div_ceil(8) * 8;
    }
    Err(damaged("(W64) has no data chunk"))
}

impl Read for RiffView {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let head = self.header.len() as u64;
        if self.pos < head {
            let from = &self.header[self.pos as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let room = self.len().saturating_sub(self.pos).min(buf.len() as u64) as usize;
        let at = self.data_start + self.pos - head;
        if self.file_at != Some(at) {
            self.file.seek(SeekFrom::Start(at))?;
        }
        let n = self.file.read(&mut buf[..room])?;
        self.pos += n as u64;
        self.file_at = Some(at + n as u64);
        Ok(n)
    }
}

impl Seek for RiffView {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| damaged("seek before its start"))?;
        Ok(self.pos)
    }
}

impl symphonia::core::io::MediaSource for RiffView {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    /// A 16, 24-bit or float stereo WAV through hound.
    fn write_riff(path: &Path, bits: u16) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 88200,
            bits_per_sample: bits,
            sample_format: if bits == 32 { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..40_000i32 {
            for c in 0..2 {
                let v = ((i * 37 + c * 1001) % 2000 - 1000) * if bits == 16 { 1 } else { 200 };
                if bits == 32 { w.write_sample(v as f32 / 300_000.0) } else { w.write_sample(v) }.unwrap();
            }
        }
        w.finalize().unwrap();
    }

    /// ffmpeg, a writer that shares no code with lathe, makes the RF64 and
    /// W64 files; lathe must read the same samples as from the RIFF file.
    #[test]
    fn rf64_and_w64_from_ffmpeg_read_as_their_riff_originals() {
        let dir = tempfile::tempdir().unwrap();
        for (bits, codec) in [(16, "pcm_s16le"), (24, "pcm_s24le"), (32, "pcm_f32le")] {
            let riff = dir.path().join(format!("{bits}.wav"));
            write_riff(&riff, bits);
            let (want, _) = crate::audio::decode::decode(&riff).unwrap();
            for (name, args) in [("rf64.wav", vec!["-rf64", "always"]), ("w64.w64", vec!["-f", "w64"])] {
                let out = dir.path().join(format!("{bits}-{name}"));
                let ok = Command::new("ffmpeg")
                    .args(["-v", "error", "-i"])
                    .arg(&riff)
                    .args(["-c:a", codec])
                    .args(&args)
                    .arg(&out)
                    .status()
                    .expect("ffmpeg is needed by the tests; .ci/run installs it");
                assert!(ok.success());
                let head = std::fs::read(&out).unwrap();
                assert!(
                    head.starts_with(b"RF64") || head.starts_with(b"riff"),
                    "{name}: ffmpeg wrote another container"
                );
                let (got, format) =
                    crate::audio::decode::decode(&out).unwrap_or_else(|e| panic!("{bits}-bit {name}: {e}"));
                assert_eq!((format.sample_rate, format.channels), (88200, 2), "{bits}-bit {name}");
                assert_eq!(got.channels, want.channels, "{bits}-bit {name}");
            }
        }
    }
}
