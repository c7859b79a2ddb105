//! Writing masters: WAV through hound, into a new file (created
//! exclusively, so never through a link at its name), synced to disk before
//! it is reported written. The pipeline writes into its staging folder and
//! commits the whole run (`pipeline::commit`).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

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

/// The file-name template of a deliverable that names none: `01 - Night Drive.wav`.
pub const DEFAULT_FILE_NAME: &str = "{number:02} - {title}";

/// The file a deliverable's masters are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// WAV (Broadcast Wave, with its `bext` chunk), RF64 past 4 GiB.
    Wav,
    /// FLAC at a compression level, 0 (fastest) to 8 (smallest).
    Flac { level: u8 },
    /// MP3 (LAME), CBR or VBR: lossy, so its ceiling is checked on the decoded file.
    Mp3(super::mp3::Mp3Mode),
    /// Ogg Vorbis at a quality, 0 to 10 (`oggenc -q`): lossy too.
    Ogg { quality: u8 },
}

impl Container {
    pub fn extension(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac { .. } => "flac",
            Container::Mp3(_) => "mp3",
            Container::Ogg { .. } => "ogg",
        }
    }

    /// A lossy codec: what plays back is not what was written.
    pub fn is_lossy(self) -> bool {
        matches!(self, Container::Mp3(_) | Container::Ogg { .. })
    }
}

/// One release format: a folder of masters at one rate and sample format.
#[derive(Debug, Clone, PartialEq)]
pub struct Deliverable {
    pub name: String,
    /// `None`: the premaster's rate.
    pub sample_rate: Option<u32>,
    pub format: SampleFormat,
    pub dither: crate::dsp::dither::DitherKind,
    pub container: Container,
    /// The file-name template (validated; `manifest::template`).
    pub file_name: String,
    pub layout: Layout,
}

/// A deliverable as a folder of tracks, or also as one image of the whole
/// sequence with its CUE sheet (each track then ends on the 1/75 s frame grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    #[default]
    Tracks,
    Album,
}

impl Deliverable {
    /// A WAV deliverable at `sample_rate` (`None`: the premaster's) with the default file names.
    pub fn wav(
        name: &str,
        sample_rate: Option<u32>,
        format: SampleFormat,
        dither: crate::dsp::dither::DitherKind,
    ) -> Self {
        Deliverable {
            name: name.into(),
            sample_rate,
            format,
            dither,
            container: Container::Wav,
            file_name: DEFAULT_FILE_NAME.into(),
            layout: Layout::Tracks,
        }
    }
}

/// Frames packed into bytes at a time when writing samples.
const PACK_FRAMES: usize = 8192;

/// The largest RIFF WAV: its sizes are 32-bit. A larger master is written
/// as RF64 (EBU Tech 3306).
pub const RIFF_MAX_BYTES: u64 = u32::MAX as u64 - TAG_ROOM_BYTES;

/// Room kept under the RIFF limit for the tags appended after the samples
/// (`audio::tags`: a `LIST`/`INFO` chunk of a dozen short texts).
pub const TAG_ROOM_BYTES: u64 = 64 * 1024;

/// The `ds64` chunk RF64 adds after `WAVE`: its header and 28 bytes (RIFF
/// size, data size and sample count, 64-bit each, and an empty table).
const DS64_BYTES: usize = 8 + 28;

/// The `bext` chunk's body (EBU Tech 3285 v2): 602 bytes of fields, then
/// room for the coding history. Every WAV master carries one, reserved
/// (zeros) when the file is made and filled in by the tags
/// (`audio::tags`), once the file's loudness is measured.
pub const BEXT_BODY_BYTES: usize = 602 + 256;

/// The header of a WAV file holding `frames` frames of `spec`: RIFF up to
/// `rf64_above` bytes in all, RF64 past it. It is hound's (`fmt`, `data`)
/// with a `bext` chunk (reserved, [`BEXT_BODY_BYTES`]) after `WAVE`; RF64
/// is the same with `RF64`, a `ds64` chunk first after `WAVE`, and the
/// 32-bit sizes set to `0xFFFFFFFF` as Tech 3306 asks.
fn wav_header(
    spec: hound::WavSpec,
    frames: u64,
    rf64_above: u64,
) -> std::result::Result<Vec<u8>, hound::Error> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    hound::WavWriter::new(&mut cursor, spec)?.finalize()?;
    let mut header = cursor.into_inner();
    let mut bext = Vec::with_capacity(8 + BEXT_BODY_BYTES);
    bext.extend_from_slice(b"bext");
    bext.extend_from_slice(&(BEXT_BODY_BYTES as u32).to_le_bytes());
    bext.resize(8 + BEXT_BODY_BYTES, 0);
    header.splice(12..12, bext);
    let data_bytes = frames * spec.channels as u64 * (spec.bits_per_sample as u64 / 8);
    let riff_bytes = header.len() as u64 + data_bytes;
    let len = header.len();
    if riff_bytes <= rf64_above {
        header[4..8].copy_from_slice(&((riff_bytes - 8) as u32).to_le_bytes());
        header[len - 4..].copy_from_slice(&(data_bytes as u32).to_le_bytes());
        return Ok(header);
    }
    let riff_bytes = riff_bytes + DS64_BYTES as u64;
    let mut ds64 = Vec::with_capacity(DS64_BYTES);
    ds64.extend_from_slice(b"ds64");
    ds64.extend_from_slice(&28u32.to_le_bytes());
    ds64.extend_from_slice(&(riff_bytes - 8).to_le_bytes());
    ds64.extend_from_slice(&data_bytes.to_le_bytes());
    ds64.extend_from_slice(&frames.to_le_bytes());
    ds64.extend_from_slice(&0u32.to_le_bytes());
    header[0..4].copy_from_slice(b"RF64");
    header[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    header[len - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    header.splice(12..12, ds64);
    Ok(header)
}

/// A WAV master written a block at a time: its length is known up front, so
/// the header (RIFF, or RF64 past 4 GiB) is final from the first byte.
pub struct WavStream {
    path: std::path::PathBuf,
    out: BufWriter<fs::File>,
    format: SampleFormat,
    bytes: Vec<u8>,
    frames_left: u64,
}

impl WavStream {
    /// Creates `path` (which must not exist) for `frames` frames.
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        format: SampleFormat,
        frames: u64,
    ) -> Result<WavStream> {
        Self::create_switching_at(path, sample_rate, channels, format, frames, RIFF_MAX_BYTES)
    }

    pub(crate) fn create_switching_at(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        format: SampleFormat,
        frames: u64,
        rf64_above: u64,
    ) -> Result<WavStream> {
        let spec = hound::WavSpec {
            channels: channels as u16,
            sample_rate,
            bits_per_sample: format.bits() as u16,
            sample_format: match format {
                SampleFormat::Float32 => hound::SampleFormat::Float,
                _ => hound::SampleFormat::Int,
            },
        };
        let header = wav_header(spec, frames, rf64_above).map_err(|e| match e {
            hound::Error::IoError(io) => Error::output(path, io),
            other => Error::Render(format!("{}: {other}", path.display())),
        })?;
        let mut out = super::create_new(path, 1 << 20)?;
        out.write_all(&header).map_err(|e| Error::output(path, e))?;
        Ok(WavStream { path: path.to_path_buf(), out, format, bytes: Vec::new(), frames_left: frames })
    }

    /// Appends a block: one slice per channel, samples already on the
    /// format's integer grid (or floats).
    pub fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        let frames = block.first().map_or(0, |c| c.len());
        assert!(frames as u64 <= self.frames_left, "more frames than the header promises");
        self.frames_left -= frames as u64;
        let width = self.format.bits() as usize / 8;
        // The samples are packed here a block at a time (hound's per-sample
        // writer costs more than the rest of the write).
        for start in (0..frames).step_by(PACK_FRAMES) {
            self.bytes.clear();
            let range = start..(start + PACK_FRAMES).min(frames);
            match self.format {
                SampleFormat::Float32 => {
                    for i in range {
                        for ch in block {
                            self.bytes.extend_from_slice(&ch[i].to_le_bytes());
                        }
                    }
                }
                f => {
                    let scale = (1u32 << (f.bits() - 1)) as f32;
                    for i in range {
                        for ch in block {
                            let q = (ch[i] * scale) as i32; // exact: the sample is on the integer grid
                            self.bytes.extend_from_slice(&q.to_le_bytes()[..width]);
                        }
                    }
                }
            }
            self.out.write_all(&self.bytes).map_err(|e| Error::output(&self.path, e))?;
        }
        Ok(())
    }

    /// Flushes the file, and with `sync` syncs it to disk; every promised
    /// frame must have been written.
    pub fn finish(self, sync: bool) -> Result<()> {
        assert_eq!(self.frames_left, 0, "fewer frames than the header promises");
        let io = |e| Error::output(&self.path, e);
        let file = self.out.into_inner().map_err(|e| e.into_error()).map_err(io)?;
        if sync { file.sync_all().map_err(io) } else { Ok(()) }
    }
}

/// A master being written a block at a time, in its deliverable's container.
pub enum MasterFile {
    Wav(WavStream),
    Flac(Box<super::flac::FlacStream>),
    Mp3(Box<super::mp3::Mp3Stream>),
    Ogg(Box<super::ogg::OggStream>),
}

impl MasterFile {
    /// Creates `path` (which must not exist) for `frames` frames.
    pub fn create(
        path: &Path,
        sample_rate: u32,
        channels: usize,
        format: SampleFormat,
        container: Container,
        frames: u64,
    ) -> Result<MasterFile> {
        Ok(match container {
            Container::Wav => {
                MasterFile::Wav(WavStream::create(path, sample_rate, channels, format, frames)?)
            }
            Container::Flac { level } => {
                let flac =
                    super::flac::FlacStream::create(path, sample_rate, channels, format.bits(), level)?;
                MasterFile::Flac(Box::new(flac))
            }
            Container::Mp3(mode) => {
                assert_eq!(channels, 2, "MP3 masters are stereo");
                MasterFile::Mp3(Box::new(super::mp3::Mp3Stream::create(path, sample_rate, mode)?))
            }
            Container::Ogg { quality } => {
                assert_eq!(channels, 2, "Ogg Vorbis masters are stereo");
                MasterFile::Ogg(Box::new(super::ogg::OggStream::create(path, sample_rate, quality)?))
            }
        })
    }

    /// Appends a block: one slice per channel, samples on the format's integer grid (or floats).
    pub fn write(&mut self, block: &[&[f32]]) -> Result<()> {
        match self {
            MasterFile::Wav(w) => w.write(block),
            MasterFile::Flac(f) => f.write(block),
            MasterFile::Mp3(m) => m.write(block),
            MasterFile::Ogg(o) => o.write(block),
        }
    }

    /// Finishes the file, and with `sync` syncs it to disk.
    pub fn finish(self, sync: bool) -> Result<()> {
        match self {
            MasterFile::Wav(w) => w.finish(sync),
            MasterFile::Flac(f) => (*f).finish(sync),
            MasterFile::Mp3(m) => (*m).finish(sync),
            MasterFile::Ogg(o) => (*o).finish(sync),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples ready for a file: integers already dithered and quantized, or floats.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Pcm {
        /// `bits`-bit integers (16 or 24), each held as the float it stands for,
        /// `q / 2^(bits-1)`: exact in an `f32`, read by meters with no conversion.
        Int {
            bits: u32,
            channels: Vec<Vec<f32>>,
        },
        Float(Vec<Vec<f32>>),
    }

    impl Pcm {
        pub fn frames(&self) -> usize {
            self.channels().first().map_or(0, |c| c.len())
        }

        pub fn channel_count(&self) -> usize {
            self.channels().len()
        }

        pub fn bits(&self) -> u32 {
            match self {
                Pcm::Int { bits, .. } => *bits,
                Pcm::Float(_) => 32,
            }
        }

        /// The samples as floats, exactly as a reader of the file will see them.
        pub fn channels(&self) -> &[Vec<f32>] {
            match self {
                Pcm::Int { channels, .. } | Pcm::Float(channels) => channels,
            }
        }
    }

    /// Writes `pcm` as a new WAV file at `path` (which must not exist), synced:
    /// RIFF WAV up to 4 GiB, RF64 past it.
    pub fn write_wav(path: &Path, sample_rate: u32, pcm: &Pcm) -> Result<()> {
        write_wav_switching_at(path, sample_rate, pcm, RIFF_MAX_BYTES)
    }

    fn write_wav_switching_at(path: &Path, sample_rate: u32, pcm: &Pcm, rf64_above: u64) -> Result<()> {
        let format = match pcm {
            Pcm::Int { bits: 16, .. } => SampleFormat::Int16,
            Pcm::Int { .. } => SampleFormat::Int24,
            Pcm::Float(_) => SampleFormat::Float32,
        };
        let mut w = WavStream::create_switching_at(
            path,
            sample_rate,
            pcm.channel_count(),
            format,
            pcm.frames() as u64,
            rf64_above,
        )?;
        let views: Vec<&[f32]> = pcm.channels().iter().map(|c| c.as_slice()).collect();
        w.write(&views)?;
        w.finish(true)
    }

    fn pcm(bits: u32, frames: usize) -> Pcm {
        let lsb = 1.0 / (1u32 << (bits - 1)) as f32;
        let ch = |k: usize| (0..frames).map(|i| ((i * 7 + k * 3) % 200) as f32 * lsb - 100.0 * lsb).collect();
        if bits == 32 {
            Pcm::Float(vec![ch(0), ch(1)])
        } else {
            Pcm::Int { bits, channels: vec![ch(0), ch(1)] }
        }
    }

    /// What hound itself writes, sample by sample.
    fn hound_bytes(pcm: &Pcm, rate: u32) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: pcm.bits() as u16,
            sample_format: if pcm.bits() == 32 {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        let scale = (1u32 << (pcm.bits() - 1)) as f32;
        for i in 0..pcm.frames() {
            for ch in pcm.channels() {
                match pcm {
                    Pcm::Float(_) => w.write_sample(ch[i]).unwrap(),
                    Pcm::Int { .. } => w.write_sample((ch[i] * scale) as i32).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
        cursor.into_inner()
    }

    /// hound's file with a reserved `bext` chunk after `WAVE`, and the RIFF size grown by it.
    fn with_bext(mut riff: Vec<u8>) -> Vec<u8> {
        let mut bext = b"bext".to_vec();
        bext.extend_from_slice(&(BEXT_BODY_BYTES as u32).to_le_bytes());
        bext.resize(8 + BEXT_BODY_BYTES, 0);
        riff.splice(12..12, bext);
        let size = (riff.len() - 8) as u32;
        riff[4..8].copy_from_slice(&size.to_le_bytes());
        riff
    }

    #[test]
    fn a_riff_master_is_byte_for_byte_what_hound_writes_with_a_bext_chunk() {
        let dir = tempfile::tempdir().unwrap();
        for bits in [16, 24, 32] {
            let p = pcm(bits, 20_001);
            let path = dir.path().join(format!("{bits}.wav"));
            write_wav(&path, 44100, &p).unwrap();
            assert_eq!(fs::read(&path).unwrap(), with_bext(hound_bytes(&p, 44100)), "{bits}-bit");
        }
    }

    /// An RF64 file as Tech 3306 lays it out, read field by field, and by
    /// ffprobe, which shares no code with lathe.
    #[test]
    fn past_the_riff_limit_a_master_is_rf64_with_its_ds64_sizes() {
        let dir = tempfile::tempdir().unwrap();
        for bits in [16, 24, 32] {
            let (frames, rate) = (30_000usize, 96_000);
            let p = pcm(bits, frames);
            let path = dir.path().join(format!("{bits}.wav"));
            write_wav_switching_at(&path, rate, &p, 1000).unwrap();
            let f = fs::read(&path).unwrap();
            let u32_at = |i: usize| u32::from_le_bytes(f[i..i + 4].try_into().unwrap());
            let u64_at = |i: usize| u64::from_le_bytes(f[i..i + 8].try_into().unwrap());
            let data_bytes = (frames * 2 * bits as usize / 8) as u64;
            assert_eq!(&f[0..4], b"RF64");
            assert_eq!(u32_at(4), u32::MAX);
            assert_eq!(&f[8..16], b"WAVEds64");
            assert_eq!(u32_at(16), 28);
            assert_eq!(u64_at(20), f.len() as u64 - 8, "riff size");
            assert_eq!(u64_at(28), data_bytes, "data size");
            assert_eq!(u64_at(36), frames as u64, "sample count");
            assert_eq!(u32_at(44), 0, "table length");
            let data = f.len() - data_bytes as usize;
            assert_eq!(&f[data - 8..data - 4], b"data");
            assert_eq!(u32_at(data - 4), u32::MAX);
            // The samples are the RIFF file's, after the longer header.
            let riff = hound_bytes(&p, rate);
            assert_eq!(&f[data..], &riff[riff.len() - data_bytes as usize..]);
            let probe = std::process::Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-count_packets",
                    "-show_entries",
                    "stream=codec_name,sample_rate,channels,duration_ts",
                ])
                .args(["-of", "csv=p=0"])
                .arg(&path)
                .output()
                .expect("ffprobe (ffmpeg) is needed by the tests; .ci/run installs it");
            let text = String::from_utf8_lossy(&probe.stdout);
            let codec = match bits {
                16 => "pcm_s16le",
                24 => "pcm_s24le",
                _ => "pcm_f32le",
            };
            assert_eq!(
                text.trim(),
                format!("{codec},96000,2,{frames}"),
                "{bits}-bit: {}",
                String::from_utf8_lossy(&probe.stderr)
            );
        }
    }

    /// lathe reads back what it writes: RF64 decodes to the RIFF file's
    /// samples, a chunk after the samples is not read as audio, and a
    /// truncated file is an error that names it.
    #[test]
    fn rf64_reads_back_as_its_samples() {
        let dir = tempfile::tempdir().unwrap();
        for bits in [16, 24, 32] {
            let p = pcm(bits, 12_345);
            let (riff, rf64) =
                (dir.path().join(format!("{bits}.wav")), dir.path().join(format!("{bits}-rf64.wav")));
            write_wav(&riff, 48000, &p).unwrap();
            write_wav_switching_at(&rf64, 48000, &p, 1000).unwrap();
            let (want, _) = crate::audio::decode::decode(&riff).unwrap();
            let (got, format) = crate::audio::decode::decode(&rf64).unwrap();
            assert_eq!(format.sample_rate, 48000);
            assert_eq!(got.channels, want.channels, "{bits}-bit");
            // A LIST chunk after the samples, as broadcast files carry.
            let mut bytes = fs::read(&rf64).unwrap();
            bytes.extend_from_slice(b"LIST\x04\0\0\0INFO");
            let trailing = dir.path().join(format!("{bits}-trailing.wav"));
            fs::write(&trailing, &bytes).unwrap();
            assert_eq!(crate::audio::decode::decode(&trailing).unwrap().0.channels, want.channels);
            let cut = dir.path().join(format!("{bits}-cut.wav"));
            fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
            let e = crate::audio::decode::decode(&cut).unwrap_err().to_string();
            assert!(e.contains(&format!("{bits}-cut.wav")) && e.contains("truncated"), "{e}");
        }
    }
}
