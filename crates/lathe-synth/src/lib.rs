//! A small deterministic synthesizer that makes test music: drums with real
//! transients, a bass line with low end, chords and a melody, each rendered
//! as a stereo stem. The sample album and the tests use it, so no audio has
//! to be committed. Same song and rate in, same samples out, on any machine:
//! its sines and exponentials come from the `libm` crate (pure Rust), not
//! from the platform's C library, whose last bits vary between machines.

use std::path::Path;

mod voices;
use voices::{Rng, Stem, hat, kick, lead_note, midi_hz, saw_note, snare};

/// One song's recipe.
#[derive(Debug, Clone)]
pub struct Song {
    pub seed: u64,
    pub seconds: f64,
    pub tempo_bpm: f64,
    /// MIDI note of the key's root (e.g. 45 = A2).
    pub root: i32,
    /// Minor or major key.
    pub minor: bool,
    /// Overall level of the mix, dB (0 = the synth's nominal level).
    pub level_db: f64,
    /// Stem levels, dB: drums, bass, chords, melody.
    pub stem_db: [f64; 4],
    /// 0..1: how much the drums are accented (quiet ballads use little).
    pub drive: f64,
}

pub const STEM_NAMES: [&str; 4] = ["drums", "bass", "chords", "melody"];

/// Stem gains (drums, bass, chords, melody) of the section a bar falls in:
/// a quiet intro, a verse, a full chorus, a breakdown, and the chorus again.
fn section(bar: usize) -> [f64; 4] {
    match bar % 20 {
        0..=1 => [0.0, 0.0, 0.5, 0.0],
        2..=5 => [0.45, 0.6, 0.6, 0.7],
        6..=11 => [1.0, 1.0, 1.0, 1.0],
        12..=13 => [0.0, 0.5, 0.6, 0.5],
        _ => [1.0, 1.0, 1.0, 1.0],
    }
}

/// One beat of the arrangement: where it starts, its bar's chord and the
/// section's stem gains.
struct Beat {
    index: usize,
    start: usize,
    bar: usize,
    chord: usize,
    /// Drums, bass, chords, melody.
    gains: [f64; 4],
}

/// The four stems being played, with what every beat needs to know.
struct Band<'a> {
    song: &'a Song,
    fs: f64,
    beat_s: f64,
    beat_n: f64,
    scale: [i32; 7],
    snare: Vec<f64>,
    rng: Rng,
    drums: Stem,
    bass: Stem,
    chords: Stem,
    melody: Stem,
}

impl Band<'_> {
    /// The MIDI note of scale degree `d` (wrapping into higher octaves).
    fn degree(&self, d: usize, octave: i32) -> f64 {
        (self.song.root + 12 * (octave + (d / 7) as i32) + self.scale[d % 7]) as f64
    }

    /// Kick on 1 and 3 (and the "and" of 4 when driven), snare on 2 and 4, eighth hats.
    fn drums(&mut self, beat: &Beat) {
        let (fs, b, gd, drive) = (self.fs, beat.index, beat.gains[0], self.song.drive);
        let accent = (0.6 + 0.4 * drive * ((b % 4 == 0) as i32 as f64)) * gd;
        if b % 2 == 0 {
            self.drums.add(beat.start, &kick(fs, accent), 0.9 * accent, 0.0);
        }
        if drive > 0.5 && b % 4 == 3 {
            self.drums.add(beat.start + (self.beat_n * 0.5) as usize, &kick(fs, 0.7), 0.6 * gd, 0.0);
        }
        if b % 2 == 1 {
            self.drums.add(beat.start, &self.snare, (0.55 + 0.25 * drive) * gd, 0.1);
        }
        for e in 0..2 {
            let h = hat(fs, &mut self.rng, e == 1 && b % 4 == 3);
            let vel = (0.5 + 0.3 * self.rng.uniform().abs()) * gd;
            self.drums.add(beat.start + (e as f64 * self.beat_n * 0.5) as usize, &h, vel, 0.35);
        }
    }

    /// Root on the beat, fifth on the off-beat of 4.
    fn bass(&mut self, beat: &Beat) {
        let (fs, gb) = (self.fs, beat.gains[1]);
        let root_hz = midi_hz(self.degree(beat.chord, 0) - 12.0);
        self.bass.add(beat.start, &saw_note(fs, root_hz, self.beat_s * 0.9, 8, 600.0, 0.004), 0.7 * gb, 0.0);
        if beat.index % 4 == 3 {
            let fifth = midi_hz(self.degree(beat.chord + 4, 0) - 12.0);
            let note = saw_note(fs, fifth, self.beat_s * 0.45, 8, 600.0, 0.004);
            self.bass.add(beat.start + (self.beat_n * 0.5) as usize, &note, 0.6 * gb, 0.0);
        }
    }

    /// One chord per bar, the triad spread left-right.
    fn chords(&mut self, beat: &Beat) {
        if beat.index.is_multiple_of(4) {
            for (k, pan) in [(0usize, -0.6), (2, 0.6), (4, -0.2)] {
                let hz = midi_hz(self.degree(beat.chord + k, 1));
                let note = saw_note(self.fs, hz, self.beat_s * 4.0, 12, 2500.0, 0.08);
                self.chords.add(beat.start, &note, 0.22 * beat.gains[2], pan);
            }
        }
    }

    /// A phrase of eighths and quarters walking the scale.
    fn melody(&mut self, beat: &Beat) {
        if beat.bar % 2 == 1 || !beat.index.is_multiple_of(3) {
            let step = (self.rng.next_u64() % 5) as usize;
            let hz = midi_hz(self.degree(beat.chord + [0, 2, 4, 1, 3][step], 2));
            let len =
                if self.rng.next_u64().is_multiple_of(3) { self.beat_s * 0.5 } else { self.beat_s * 0.95 };
            self.melody.add(beat.start, &lead_note(self.fs, hz, len), 0.55 * beat.gains[3], 0.15);
        }
    }
}

/// Renders the song's four stems at `rate`: stereo planar, in [`STEM_NAMES`] order.
pub fn render_stems(song: &Song, rate: u32) -> Vec<[Vec<f32>; 2]> {
    let fs = rate as f64;
    let n = (song.seconds * fs) as usize;
    let beat_s = 60.0 / song.tempo_bpm;
    let mut rng = Rng::new(song.seed);
    let snare = snare(fs, &mut rng);
    let mut band = Band {
        song,
        fs,
        beat_s,
        beat_n: beat_s * fs,
        scale: if song.minor { [0, 2, 3, 5, 7, 8, 10] } else { [0, 2, 4, 5, 7, 9, 11] },
        snare,
        rng,
        drums: Stem::new(n),
        bass: Stem::new(n),
        chords: Stem::new(n),
        melody: Stem::new(n),
    };
    // i - VI - III - VII in minor, I - V - vi - IV in major.
    let progression: [usize; 4] = if song.minor { [0, 5, 2, 6] } else { [0, 4, 5, 3] };
    for index in 0..(song.seconds / beat_s).ceil() as usize {
        let bar = index / 4;
        // Arrangement, as stem gains per section: intro, verse, chorus, breakdown, chorus.
        let beat = Beat {
            index,
            start: (index as f64 * band.beat_n) as usize,
            bar,
            chord: progression[bar % 4],
            gains: section(bar),
        };
        band.drums(&beat);
        band.bass(&beat);
        band.chords(&beat);
        band.melody(&beat);
    }
    let level = libm::pow(10f64, song.level_db / 20.0);
    [band.drums, band.bass, band.chords, band.melody]
        .into_iter()
        .zip(song.stem_db)
        .map(|(st, db)| {
            let g = (level * libm::pow(10f64, db / 20.0)) as f32;
            [st.l.into_iter().map(|x| x * g).collect(), st.r.into_iter().map(|x| x * g).collect()]
        })
        .collect()
}

/// Renders the song's mix: the sum of its stems.
pub fn render(song: &Song, rate: u32) -> [Vec<f32>; 2] {
    let stems = render_stems(song, rate);
    let n = stems[0][0].len();
    let mut mix = [vec![0f32; n], vec![0f32; n]];
    for st in &stems {
        for c in 0..2 {
            for (m, s) in mix[c].iter_mut().zip(&st[c]) {
                *m += s;
            }
        }
    }
    mix
}

/// The songs of `sample_album/`: different tempos, keys, levels and dynamics.
pub fn sample_album_songs() -> Vec<Song> {
    vec![
        Song {
            seed: 1,
            seconds: 30.0,
            tempo_bpm: 124.0,
            root: 45,
            minor: true,
            level_db: -6.0,
            stem_db: [0.0, 0.0, -2.0, -1.0],
            drive: 0.9,
        },
        Song {
            seed: 2,
            seconds: 28.0,
            tempo_bpm: 76.0,
            root: 48,
            minor: false,
            level_db: -16.0,
            stem_db: [-6.0, -1.0, 1.0, 1.0],
            drive: 0.2,
        },
        Song {
            seed: 3,
            seconds: 32.0,
            tempo_bpm: 100.0,
            root: 43,
            minor: true,
            level_db: -11.0,
            stem_db: [0.0, 0.0, 0.0, 0.0],
            drive: 0.6,
        },
        Song {
            seed: 4,
            seconds: 26.0,
            tempo_bpm: 140.0,
            root: 50,
            minor: false,
            level_db: -9.0,
            stem_db: [1.0, 0.0, -1.0, -1.0],
            drive: 1.0,
        },
        Song {
            seed: 5,
            seconds: 30.0,
            tempo_bpm: 90.0,
            root: 46,
            minor: true,
            level_db: -12.0,
            stem_db: [-1.0, 0.0, 0.0, 0.0],
            drive: 0.5,
        },
    ]
}

// Writing the music as WAV files.

#[derive(Clone, Copy)]
enum Fmt {
    I16,
    I24,
    F32,
}

fn write_wav(path: &Path, rate: u32, ch: &[Vec<f32>], fmt: Fmt) -> Result<(), String> {
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

/// The sample album's premasters (`DIR/mixes/*.wav`) and the stems of its
/// fifth track (`DIR/stems/05/*.wav`).
pub fn write_sample_album(dir: &Path) -> Result<(), String> {
    let songs = sample_album_songs();
    // Formats a real album arrives in: 24-bit, 16-bit, float, 48 kHz.
    let plan: [(&str, u32, Fmt); 4] = [
        ("01-night-drive.wav", 44100, Fmt::I24),
        ("02-slow-bloom.wav", 44100, Fmt::I16),
        ("03-underpass.wav", 48000, Fmt::F32),
        ("04-hot-wire.wav", 44100, Fmt::I24),
    ];
    for ((name, rate, fmt), song) in plan.iter().zip(&songs) {
        let mut mix = render(song, *rate);
        if name.starts_with("02") {
            // Bounced with handles, as mixes often arrive: 1.5 s of silence
            // before the music and 2.5 s after it, for the manifest's trim.
            let (lead, tail) = ((1.5 * *rate as f64) as usize, (2.5 * *rate as f64) as usize);
            for c in &mut mix {
                c.splice(0..0, std::iter::repeat_n(0.0, lead));
                c.extend(std::iter::repeat_n(0.0, tail));
            }
        }
        write_wav(&dir.join("mixes").join(name), *rate, &mix, *fmt)?;
    }
    let stems = render_stems(&songs[4], 48000);
    for (name, st) in STEM_NAMES.iter().zip(&stems) {
        write_wav(&dir.join("stems/05").join(format!("{name}.wav")), 48000, st, Fmt::I24)?;
    }
    Ok(())
}

/// `tracks` premasters of `seconds` each (`DIR/NN.wav`) and their `DIR/album.yaml`, for benchmarks.
pub fn write_long_album(dir: &Path, tracks: usize, seconds: f64) -> Result<(), String> {
    let base = sample_album_songs();
    let mut yaml = String::from(
        "version: 1\nalbum: {title: Benchmark Album, artist: lathe-synth}\ntarget: {preset: streaming, mode: album}\ndeliverables:\n  - {name: streaming, format: wav, sample_rate: 44100, bit_depth: 24}\ntracks:\n",
    );
    for i in 0..tracks {
        let song = Song { seed: 100 + i as u64, seconds, ..base[i % base.len()].clone() };
        // The formats premasters arrive in: 24-bit, 16-bit and float, at 44.1 and 48 kHz.
        let (rate, fmt) = [(44100, Fmt::I24), (48000, Fmt::I16), (44100, Fmt::F32), (48000, Fmt::I24)][i % 4];
        let name = format!("{:02}.wav", i + 1);
        write_wav(&dir.join(&name), rate, &render(&song, rate), fmt)?;
        yaml.push_str(&format!("  - {{title: Track {}, mix: {name}}}\n", i + 1));
    }
    std::fs::write(dir.join("album.yaml"), yaml).map_err(|e| e.to_string())
}

/// One track of `count` 48 kHz stems of `seconds` each and its `DIR/album.yaml`.
pub fn write_stems_track(dir: &Path, count: usize, seconds: f64) -> Result<(), String> {
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
            write_wav(&dir.join(&file), 48000, &st, Fmt::I24)?;
            yaml.push_str(&format!("      - {{name: {name}-{}, file: {file}, gain_db: -6}}\n", written + 1));
            written += 1;
        }
        song_index += 1;
    }
    std::fs::write(dir.join("album.yaml"), yaml).map_err(|e| e.to_string())
}
