//! Decoding with symphonia to planar f32.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{Audio, SourceFormat};
use crate::error::{Error, Result};

/// Most channels lathe masters (stereo).
pub const MAX_CHANNELS: usize = 2;
/// Sample rates lathe reads: anything a real premaster uses.
pub const RATES_HZ: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// A file being decoded block by block.
pub struct Reader {
    path: std::path::PathBuf,
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::audio::AudioDecoder>,
    track_id: u32,
    info: SourceFormat,
    expected_frames: Option<u64>,
    /// Decoded frames not yet handed out, and how many of them were.
    pending: Vec<Vec<f32>>,
    pending_pos: usize,
    frames_read: u64,
    done: bool,
    file_size: u64,
}

impl Reader {
    /// Opens and probes a file. More than two channels and an empty file are errors.
    pub fn open(path: &Path) -> Result<Reader> {
        let (format, file_size) = probe(path)?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| Error::audio(path, "no audio track in the file"))?;
        let track_id = track.id;
        let expected_frames = track.num_frames;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| Error::audio(path, "no audio codec parameters"))?
            .clone();
        let info = source_format(path, &params)?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match codec_name(params.codec) {
                Some(name) => Error::audio(
                    path,
                    format!("is {name}, which lathe does not decode; convert the premaster to WAV, FLAC, AIFF or ALAC"),
                ),
                None => Error::audio(path, format!("unsupported codec ({})", describe(&e))),
            })?;
        Ok(Reader {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            info,
            expected_frames,
            pending: Vec::new(),
            pending_pos: 0,
            frames_read: 0,
            done: false,
            file_size,
        })
    }

    /// What the file holds. `channels` may be 0 until the first block for
    /// formats that do not say in their header.
    pub fn format(&self) -> &SourceFormat {
        &self.info
    }

    /// Frames the header promises, when it says.
    pub fn expected_frames(&self) -> Option<u64> {
        self.expected_frames
    }

    /// Frames worth reserving up front: what the header promises, but never
    /// more than a file of this size could hold (a damaged header can claim
    /// billions of frames).
    pub fn capacity_hint(&self) -> usize {
        self.expected_frames.unwrap_or(0).min(self.file_size) as usize
    }

    /// Decodes the next packet into `pending`; false at the end of the stream.
    fn refill(&mut self) -> Result<bool> {
        let path = &self.path;
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(false),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(e) => return Err(Error::audio(path, format!("cannot read: {}", describe(&e)))),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buf = self
                .decoder
                .decode(&packet)
                .map_err(|e| Error::audio(path, format!("cannot decode: {}", describe(&e))))?;
            buf.copy_to_vecs_planar::<f32>(&mut self.pending);
            self.pending_pos = 0;
            let n = self.pending.len();
            if n > MAX_CHANNELS {
                return Err(too_many_channels(path, n));
            }
            if self.info.channels == 0 {
                self.info.channels = n;
            } else if n != self.info.channels {
                return Err(Error::audio(path, "the channel count changes inside the stream"));
            }
            if self.pending.first().is_some_and(|c| !c.is_empty()) {
                return Ok(true);
            }
        }
    }

    /// Reads up to `max` frames, appending them to `out` (one vector per
    /// channel). Returns the frames read: 0 only at the end. Checks that the
    /// samples are finite and, at the end, that the file held what its header promised.
    pub fn read(&mut self, out: &mut Vec<Vec<f32>>, max: usize) -> Result<usize> {
        let mut got = 0;
        while got < max && !self.done {
            let avail = self.pending.first().map_or(0, |c| c.len()) - self.pending_pos;
            if avail == 0 {
                if !self.refill()? {
                    self.done = true;
                    self.check_complete()?;
                }
                continue;
            }
            let take = avail.min(max - got);
            if out.len() < self.pending.len() {
                out.resize(self.pending.len(), Vec::new());
            }
            for (c, (dst, src)) in out.iter_mut().zip(&self.pending).enumerate() {
                let block = &src[self.pending_pos..self.pending_pos + take];
                if let Some(i) = block.iter().position(|s| !s.is_finite()) {
                    let frame = self.frames_read + i as u64;
                    return Err(Error::audio(
                        &self.path,
                        format!(
                            "holds a non-finite sample (NaN or Inf) in channel {} at frame {frame} ({:.3} s)",
                            c + 1,
                            frame as f64 / self.info.sample_rate as f64
                        ),
                    ));
                }
                dst.extend_from_slice(block);
            }
            self.pending_pos += take;
            self.frames_read += take as u64;
            got += take;
        }
        Ok(got)
    }

    fn check_complete(&self) -> Result<()> {
        let frames = self.frames_read;
        if frames == 0 {
            return Err(Error::audio(&self.path, "holds no audio samples"));
        }
        if let Some(n) = self.expected_frames
            && frames < n
        {
            let missing = n - frames;
            return Err(Error::audio(
                &self.path,
                format!(
                    "is truncated: the header promises {n} frames but the file holds {frames} ({missing} frames, {:.3} s, missing)",
                    missing as f64 / self.info.sample_rate as f64
                ),
            ));
        }
        Ok(())
    }
}

/// Opens the file and probes its container, with its size in bytes. A FIFO
/// or a device would block or never end: refused before it is opened.
fn probe(path: &Path) -> Result<(Box<dyn symphonia::core::formats::FormatReader>, u64)> {
    if let Some(kind) = crate::error::file_kind(path) {
        return Err(Error::audio(path, format!("is {kind}, not an audio file")));
    }
    let file = File::open(path).map_err(|e| Error::audio(path, format!("cannot open: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(Error::audio(path, "the file is empty"));
    }
    // RF64 and W64 (WAV past 4 GiB) are shown to symphonia's WAV reader as RIFF.
    let source: Box<dyn symphonia::core::io::MediaSource> = match super::riff64::RiffView::open(file) {
        Ok(Ok(view)) => Box::new(view),
        Ok(Err(file)) => Box::new(file),
        Err(e) => return Err(Error::audio(path, format!("not a readable audio file ({e})"))),
    };
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| Error::audio(path, format!("not a readable audio file ({})", describe(&e))))?;
    Ok((format, size))
}

/// The stream's format as the header declares it, refusing rates and channel
/// counts lathe does not master.
fn source_format(
    path: &Path,
    params: &symphonia::core::codecs::audio::AudioCodecParameters,
) -> Result<SourceFormat> {
    let sample_rate =
        params.sample_rate.ok_or_else(|| Error::audio(path, "the stream has no sample rate"))?;
    if !RATES_HZ.contains(&sample_rate) {
        return Err(Error::audio(
            path,
            format!(
                "declares a sample rate of {sample_rate} Hz; lathe reads 1 kHz to 768 kHz (is the header damaged?)"
            ),
        ));
    }
    let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    if channels > MAX_CHANNELS {
        return Err(too_many_channels(path, channels));
    }
    use symphonia::core::audio::sample::SampleFormat as Sf;
    let float = matches!(params.sample_format, Some(Sf::F32 | Sf::F64));
    let codec = symphonia::default::get_codecs()
        .get_audio_decoder(params.codec)
        .map(|d| d.codec.info.short_name.to_string())
        .unwrap_or_else(|| "unknown".into());
    Ok(SourceFormat { codec, sample_rate, channels, bit_depth: params.bits_per_sample, float })
}

fn too_many_channels(path: &Path, n: usize) -> Error {
    Error::audio(path, format!("has {n} channels; lathe masters mono or stereo premasters only"))
}

/// Decodes a whole file. Mono stays mono here; callers that master turn it into
/// dual mono. More than two channels, an empty stream, a truncated stream and
/// non-finite samples are errors that name the file.
pub fn decode(path: &Path) -> Result<(Audio, SourceFormat)> {
    let mut reader = Reader::open(path)?;
    let cap = reader.capacity_hint();
    let mut channels: Vec<Vec<f32>> =
        (0..reader.format().channels.max(1)).map(|_| Vec::with_capacity(cap)).collect();
    while reader.read(&mut channels, 1 << 16)? > 0 {}
    channels.truncate(reader.format().channels.max(1));
    let format = reader.format().clone();
    Ok((Audio { sample_rate: format.sample_rate, channels }, format))
}

/// The name of a codec symphonia knows of but lathe does not decode.
fn codec_name(id: symphonia::core::codecs::audio::AudioCodecId) -> Option<&'static str> {
    use symphonia::core::codecs::audio::well_known::*;
    let known = [
        (CODEC_ID_OPUS, "Opus"),
        (CODEC_ID_AAC, "AAC"),
        (CODEC_ID_AC3, "AC-3 (Dolby Digital)"),
        (CODEC_ID_EAC3, "E-AC-3 (Dolby Digital Plus)"),
        (CODEC_ID_AC4, "AC-4"),
        (CODEC_ID_DCA, "DTS"),
        (CODEC_ID_TRUEHD, "Dolby TrueHD"),
        (CODEC_ID_WMA, "WMA"),
        (CODEC_ID_SPEEX, "Speex"),
        (CODEC_ID_MUSEPACK, "Musepack"),
        (CODEC_ID_MP1, "MPEG-1 Layer I"),
        (CODEC_ID_MP2, "MPEG-1 Layer II"),
        (CODEC_ID_WAVPACK, "WavPack"),
        (CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (CODEC_ID_TTA, "TTA"),
        (CODEC_ID_ATRAC3, "ATRAC3"),
        (CODEC_ID_ADPCM_MS, "Microsoft ADPCM"),
        (CODEC_ID_ADPCM_IMA_WAV, "IMA ADPCM"),
    ];
    known.iter().find(|(k, _)| *k == id).map(|(_, n)| *n)
}

fn describe(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends early".into()
        }
        SymError::Unsupported(what) => format!("unsupported: {what}"),
        other => other.to_string(),
    }
}
