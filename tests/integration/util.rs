//! Shared fixtures: the sample album's audio, rendered once per test run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn lathe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lathe"))
}

pub fn run(args: &[&str]) -> Output {
    lathe().args(args).output().expect("lathe runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The sample album (manifest and synthesized audio) in a shared folder.
pub fn sample_album() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sample_album");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        lathe_synth::write_sample_album(&dir).expect("the sample album is written");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_album/album.yaml"),
            dir.join("album.yaml"),
        )
        .unwrap();
        dir
    })
}

/// A fresh folder holding `manifest` (paths in it resolve against the shared sample audio).
pub fn album_with(name: &str, manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let audio = sample_album();
    let tmp = tempfile::Builder::new().prefix(name).tempdir().unwrap();
    let text = manifest
        .replace("mixes/", &format!("{}/mixes/", audio.display()))
        .replace("stems/", &format!("{}/stems/", audio.display()));
    let path = tmp.path().join("album.yaml");
    std::fs::write(&path, text).unwrap();
    (tmp, path)
}

pub fn sample_manifest() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_album/album.yaml")).unwrap()
}

/// Decodes a written master and measures it with lathe's meter.
pub fn measure(path: &Path) -> (lathe::dsp::loudness::Measurement, u32, usize) {
    let (audio, fmt) = lathe::audio::decode::decode(path).unwrap();
    let (m, _) = lathe::dsp::loudness::measure(&audio.channels, audio.sample_rate).unwrap();
    (m, fmt.sample_rate, audio.frames())
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `lathe master MANIFEST --out OUT --quiet EXTRA...`.
pub fn master_into(manifest: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["master", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    run(&args)
}
