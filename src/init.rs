//! `lathe init DIR`: an album manifest from a folder of premasters, for a
//! newcomer to edit. Audio files in the folder are stereo premasters; each
//! sub-folder of audio files is one track's stems. Tracks go in file-name
//! order, titled from their names; the manifest is commented key by key.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::preset;

/// What a folder entry becomes.
enum Found {
    Mix(String),
    Stems(String, Vec<String>),
}

const AUDIO: [&str; 9] = ["wav", "wave", "flac", "aif", "aiff", "w64", "rf64", "mp3", "ogg"];

fn is_audio(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO.contains(&e.to_ascii_lowercase().as_str()))
}

fn names_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    entries.sort();
    Ok(entries)
}

/// "01 - night_drive.wav" → "night drive": the leading number and separators
/// dropped, underscores as spaces.
fn title_of(name: &str) -> String {
    let stem = Path::new(name).file_stem().map_or(name.into(), |s| s.to_string_lossy().into_owned());
    let t = stem.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches([' ', '-', '_', '.']);
    let t = if t.is_empty() { stem.as_str() } else { t };
    t.replace('_', " ").trim().to_string()
}

/// A YAML string: double-quoted, escaped as JSON (which YAML reads).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn found_in(dir: &Path) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for p in names_in(dir)? {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if is_audio(&p) {
            found.push(Found::Mix(name));
        } else if p.is_dir() {
            let stems: Vec<String> = (names_in(&p)?.iter())
                .filter(|s| is_audio(s))
                .filter_map(|s| s.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            if !stems.is_empty() {
                found.push(Found::Stems(name, stems));
            }
        }
    }
    Ok(found)
}

/// The manifest text for `dir`'s premasters, mastered to `preset`.
pub fn manifest_for(dir: &Path, preset_name: &str) -> Result<(String, usize)> {
    if !preset::names().contains(&preset_name) {
        return Err(Error::Usage(format!(
            "--preset {preset_name}: no such built-in preset ({})",
            preset::names().join(", ")
        )));
    }
    let found = found_in(dir)?;
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no audio files (WAV, FLAC, AIFF, MP3, Ogg) and no folders of stems in it",
            dir.display()
        )));
    }
    let folder =
        dir.canonicalize().ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    let title = folder.as_deref().map_or("My Album".to_string(), title_of);
    let mut y = String::new();
    // Editors with yaml-language-server complete and check the keys with it.
    y.push_str(&format!("# yaml-language-server: $schema={SCHEMA_FILE}\n"));
    y.push_str("# An album for lathe, written by `lathe init`. Check it with\n");
    y.push_str("# `lathe check album.yaml`, then master it with `lathe master album.yaml`.\n");
    y.push_str("# Paths are relative to this file. Every key is in the README's manifest section.\n");
    y.push_str("version: 1\n");
    y.push_str(&format!(
        "album:\n  title: {}\n  # artist: \"…\"              # also date, genre, label, copyright, upc\n",
        quoted(&title)
    ));
    y.push_str(&format!(
        "target:\n  preset: {preset_name}          # the loudness and ceiling (configs/{preset_name}.yaml)\n  mode: album                # one gain for the album: the tracks keep their levels (or: track)\n"
    ));
    y.push_str("# chain:                       # the mastering chain; the default is a 20 Hz high-pass and the limiter\n");
    y.push_str("#   compressor: {threshold_db: -18, ratio: 1.5}\n");
    y.push_str("sequence:\n  gap_s: 2                   # silence before each track; 0 runs a track into the one before\n");
    y.push_str("deliverables:\n  - {name: master, format: wav, bit_depth: 24}            # at the premasters' rate\n");
    y.push_str("  # - {name: cd, format: wav, sample_rate: 44100, bit_depth: 16, layout: album}   # CD tracks, image and CUE sheet\n");
    y.push_str("tracks:\n");
    for f in &found {
        match f {
            Found::Mix(name) => {
                y.push_str(&format!("  - title: {}\n    mix: {}\n", quoted(&title_of(name)), quoted(name)));
            }
            Found::Stems(folder, stems) => {
                y.push_str(&format!("  - title: {}\n    stems:                   # summed, then mastered; each may take gain_db, pan, mute\n", quoted(&title_of(folder))));
                for s in stems {
                    y.push_str(&format!(
                        "      - {{name: {}, file: {}}}\n",
                        quoted(&title_of(s)),
                        quoted(&format!("{folder}/{s}"))
                    ));
                }
            }
        }
    }
    y.push_str("    # offset_lu: -2.0          # a track's own level under (or over) the album's\n");
    y.push_str("    # trim: true               # cut the silence before and after the music\n");
    Ok((y, found.len()))
}

/// The manifest's JSON Schema, beside it (`lathe schema` prints it).
pub const SCHEMA_FILE: &str = "album.schema.json";

/// Writes `dir/album.yaml` and its schema beside it, `album.schema.json`
/// (never over an existing one unless `force`).
pub fn init(dir: &Path, preset_name: &str, force: bool) -> Result<(PathBuf, usize)> {
    let (path, schema) = (dir.join("album.yaml"), dir.join(SCHEMA_FILE));
    for p in [&path, &schema] {
        if p.exists() && !force {
            return Err(Error::Usage(format!("{}: already exists; --force writes over it", p.display())));
        }
    }
    let (text, tracks) = manifest_for(dir, preset_name)?;
    std::fs::write(&path, text).map_err(|e| Error::output(&path, e))?;
    let json = format!("{:#}\n", crate::manifest::json_schema::manifest());
    std::fs::write(&schema, json).map_err(|e| Error::output(&schema, e))?;
    Ok((path, tracks))
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn titles_drop_the_track_number_and_separators() {
        assert_eq!(title_of("01 - Night Drive.wav"), "Night Drive");
        assert_eq!(title_of("02_slow_bloom.flac"), "slow bloom");
        assert_eq!(title_of("2049.wav"), "2049");
        assert_eq!(title_of("05"), "05");
    }
}
