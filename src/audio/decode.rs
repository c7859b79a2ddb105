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

/// Decodes a whole file. Mono stays mono here; callers that master turn it into
/// dual mono. More than two channels, an empty stream, a truncated stream and
/// non-finite samples are errors that name the file.
pub fn decode(path: &Path) -> Result<(Audio, SourceFormat)> {
    let file = File::open(path).map_err(|e| Error::audio(path, format!("cannot open: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(Error::audio(path, "the file is empty"));
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| Error::audio(path, format!("not a readable audio file ({})", describe(&e))))?;
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
    let sample_rate =
        params.sample_rate.ok_or_else(|| Error::audio(path, "the stream has no sample rate"))?;
    let channel_count = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    if channel_count > MAX_CHANNELS {
        return Err(Error::audio(
            path,
            format!("has {channel_count} channels; lathe masters mono or stereo premasters only"),
        ));
    }
    let float = matches!(
        params.sample_format,
        Some(
            symphonia::core::audio::sample::SampleFormat::F32
                | symphonia::core::audio::sample::SampleFormat::F64
        )
    );
    let bit_depth = params.bits_per_sample;
    let codec_name = symphonia::default::get_codecs()
        .get_audio_decoder(params.codec)
        .map(|d| d.codec.info.short_name.to_string())
        .unwrap_or_else(|| "unknown".into());
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| Error::audio(path, format!("unsupported codec ({})", describe(&e))))?;

    let mut channels: Vec<Vec<f32>> = Vec::new();
    if let Some(n) = expected_frames {
        let cap = n.min(1 << 31) as usize;
        channels = (0..channel_count.max(1)).map(|_| Vec::with_capacity(cap)).collect();
    }
    let mut scratch: Vec<Vec<f32>> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(Error::audio(path, format!("cannot read: {}", describe(&e)))),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(e) => return Err(Error::audio(path, format!("cannot decode: {}", describe(&e)))),
        };
        buf.copy_to_vecs_planar::<f32>(&mut scratch);
        if channels.is_empty() {
            channels = vec![Vec::new(); scratch.len()];
        }
        if scratch.len() != channels.len() {
            return Err(Error::audio(path, "the channel count changes inside the stream"));
        }
        if scratch.len() > MAX_CHANNELS {
            return Err(Error::audio(
                path,
                format!("has {} channels; lathe masters mono or stereo premasters only", scratch.len()),
            ));
        }
        for (dst, src) in channels.iter_mut().zip(&scratch) {
            dst.extend_from_slice(src);
        }
    }
    let frames = channels.first().map_or(0, |c| c.len());
    if frames == 0 {
        return Err(Error::audio(path, "holds no audio samples"));
    }
    if let Some(n) = expected_frames
        && (frames as u64) < n
    {
        let missing = n - frames as u64;
        return Err(Error::audio(
            path,
            format!(
                "is truncated: the header promises {n} frames but the file holds {frames} ({missing} frames, {:.3} s, missing)",
                missing as f64 / sample_rate as f64
            ),
        ));
    }
    for (c, ch) in channels.iter().enumerate() {
        if let Some(i) = ch.iter().position(|s| !s.is_finite()) {
            return Err(Error::audio(
                path,
                format!(
                    "holds a non-finite sample (NaN or Inf) in channel {} at frame {i} ({:.3} s)",
                    c + 1,
                    i as f64 / sample_rate as f64
                ),
            ));
        }
    }
    let format = SourceFormat { codec: codec_name, sample_rate, channels: channels.len(), bit_depth, float };
    Ok((Audio { sample_rate, channels }, format))
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
