//! Writes deterministic test music for lathe: the sample album's premasters
//! and stems, or a long album for benchmarks.
//!
//! ```text
//! lathe-synth sample-album DIR          # DIR/mixes/*.wav, DIR/stems/05/*.wav
//! lathe-synth album DIR TRACKS SECONDS  # DIR/NN.wav + DIR/album.yaml, for benchmarks
//! lathe-synth stems DIR COUNT SECONDS   # one track of COUNT 48 kHz stems + DIR/album.yaml
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lathe::synth::{STEM_NAMES, Song, render, render_stems, sample_album_songs};

#[derive(Clone, Copy)]
enum Fmt {
    I16,
    I24,
    F32,
}

fn write(path: &Path, rate: u32, ch: &[Vec<f32>], fmt: Fmt) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let (bits, sf) = match fmt {
        Fmt::I16 => (16, hound::SampleFormat::Int),
        Fmt::I24 => (24, hound::SampleFormat::Int),
        Fmt::F32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: ch.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: sf,
    };
    let err = |e: hound::Error| format!("{}: {e}", path.display());
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    let scale = (1i64 << (bits - 1)) as f64;
    for i in 0..ch[0].len() {
        for c in ch {
            let x = c[i];
            match fmt {
                Fmt::F32 => w.write_sample(x).map_err(err)?,
                _ => w
                    .write_sample((x as f64 * scale).round().clamp(-scale, scale - 1.0) as i32)
                    .map_err(err)?,
            }
        }
    }
    w.finalize().map_err(err)
}

fn sample_album(dir: &Path) -> Result<(), String> {
    let songs = sample_album_songs();
    // Formats a real album arrives in: 24-bit, 16-bit, float, 48 kHz.
    let plan: [(&str, u32, Fmt); 4] = [
        ("01-night-drive.wav", 44100, Fmt::I24),
        ("02-slow-bloom.wav", 44100, Fmt::I16),
        ("03-underpass.wav", 48000, Fmt::F32),
        ("04-hot-wire.wav", 44100, Fmt::I24),
    ];
    for ((name, rate, fmt), song) in plan.iter().zip(&songs) {
        let mix = render(song, *rate);
        write(&dir.join("mixes").join(name), *rate, &mix, *fmt)?;
    }
    let stems = render_stems(&songs[4], 48000);
    for (name, st) in STEM_NAMES.iter().zip(&stems) {
        write(&dir.join("stems/05").join(format!("{name}.wav")), 48000, st, Fmt::I24)?;
    }
    Ok(())
}

fn long_album(dir: &Path, tracks: usize, seconds: f64) -> Result<(), String> {
    let base = sample_album_songs();
    let mut yaml = String::from(
        "version: 1\nalbum: {title: Benchmark Album, artist: lathe-synth}\ntarget: {preset: streaming, mode: album}\ndeliverables:\n  - {name: streaming, format: wav, sample_rate: 44100, bit_depth: 24}\ntracks:\n",
    );
    for i in 0..tracks {
        let song = Song { seed: 100 + i as u64, seconds, ..base[i % base.len()].clone() };
        // The formats premasters arrive in: 24-bit, 16-bit and float, at 44.1 and 48 kHz.
        let (rate, fmt) = [(44100, Fmt::I24), (48000, Fmt::I16), (44100, Fmt::F32), (48000, Fmt::I24)][i % 4];
        let name = format!("{:02}.wav", i + 1);
        write(&dir.join(&name), rate, &render(&song, rate), fmt)?;
        yaml.push_str(&format!("  - {{title: Track {}, mix: {name}}}\n", i + 1));
    }
    std::fs::write(dir.join("album.yaml"), yaml).map_err(|e| e.to_string())
}

fn stems_track(dir: &Path, count: usize, seconds: f64) -> Result<(), String> {
    let base = sample_album_songs();
    let mut yaml = String::from(
        "version: 1\nalbum: {title: Stems Benchmark, artist: lathe-synth}\ntarget: {preset: streaming, mode: track}\ndeliverables:\n  - {name: streaming, format: wav, sample_rate: 44100, bit_depth: 24}\ntracks:\n  - title: Many Stems\n    stems:\n",
    );
    let mut written = 0;
    let mut song_index = 0;
    while written < count {
        let song = Song { seed: 500 + song_index as u64, seconds, ..base[song_index % base.len()].clone() };
        for (name, st) in STEM_NAMES.iter().zip(render_stems(&song, 48000)) {
            if written == count {
                break;
            }
            let file = format!("{:02}-{name}.wav", written + 1);
            write(&dir.join(&file), 48000, &st, Fmt::I24)?;
            yaml.push_str(&format!("      - {{name: {name}-{}, file: {file}, gain_db: -6}}\n", written + 1));
            written += 1;
        }
        song_index += 1;
    }
    std::fs::write(dir.join("album.yaml"), yaml).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["sample-album", dir] => sample_album(&PathBuf::from(dir)),
        ["album", dir, tracks, seconds] => match (tracks.parse(), seconds.parse()) {
            (Ok(t), Ok(s)) => long_album(&PathBuf::from(dir), t, s),
            _ => Err("TRACKS and SECONDS must be numbers".into()),
        },
        ["stems", dir, count, seconds] => match (count.parse(), seconds.parse()) {
            (Ok(c), Ok(s)) => stems_track(&PathBuf::from(dir), c, s),
            _ => Err("COUNT and SECONDS must be numbers".into()),
        },
        _ => {
            Err("usage: lathe-synth sample-album DIR | album DIR TRACKS SECONDS | stems DIR COUNT SECONDS"
                .into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lathe-synth: error: {e}");
            ExitCode::from(2)
        }
    }
}
