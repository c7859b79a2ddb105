//! Presets: the files in `configs/`, compiled in so an installed binary has
//! them, or any preset file given by path.

use std::path::{Path, PathBuf};

use super::locate::{Source, parse_yaml};
use super::schema::RawPreset;
use crate::error::ManifestError;

/// Built-in presets: name and text of `configs/NAME.yaml`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("streaming", include_str!("../../configs/streaming.yaml")),
    ("apple-music", include_str!("../../configs/apple-music.yaml")),
    ("broadcast-r128", include_str!("../../configs/broadcast-r128.yaml")),
    ("cd", include_str!("../../configs/cd.yaml")),
    ("podcast", include_str!("../../configs/podcast.yaml")),
];

pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// Loads a preset by built-in name, or from a path (relative to `base_dir`).
/// `Err(None)` means the name is neither a built-in nor an existing file.
pub fn load(name_or_path: &str, base_dir: &Path) -> Result<RawPreset, Option<ManifestError>> {
    if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        let file = PathBuf::from(format!("configs/{name}.yaml"));
        let src = Source { file: &file, text };
        return parse_yaml::<RawPreset>(&src).map_err(Some);
    }
    let path = base_dir.join(name_or_path);
    if !path.exists() {
        return Err(None);
    }
    let text = super::read::read_yaml_file(&path).map_err(|e| {
        let message = e.to_string();
        let message = message.strip_prefix(&format!("{}: ", path.display())).unwrap_or(&message).to_string();
        Some(ManifestError { file: path.clone(), line: 1, column: 1, path: String::new(), message })
    })?;
    let src = Source { file: &path, text: &text };
    super::read::screen(&src).map_err(Some)?;
    let preset = parse_yaml::<RawPreset>(&src).map_err(Some)?;
    if preset.target.preset.is_some() {
        return Err(Some(src.error("target.preset", "a preset cannot name another preset")));
    }
    Ok(preset)
}
