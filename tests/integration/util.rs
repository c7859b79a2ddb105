//! Shared fixtures: the sample album's audio, rendered once per test run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The origination time every run here stamps into its WAV masters'
/// `bext` chunks (2026-09-21 14:13:20 UTC), so runs compare byte for byte
/// as reproducible-build tools pin theirs.
pub const SOURCE_DATE_EPOCH: &str = "1790000000";

pub fn lathe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lathe"));
    c.env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
    c
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

/// What ffmpeg's ebur128 filter reads: integrated loudness, loudness range, true peak (dBTP).
#[derive(Debug, Clone, Copy)]
pub struct Ffmpeg {
    pub lufs: f64,
    pub lra: f64,
    pub tp: f64,
    /// The largest momentary and short-term loudness ffmpeg printed.
    pub momentary_max: f64,
    pub short_term_max: f64,
    /// EBU Tech 3342 computed here from ffmpeg's short-term readings (every
    /// 100 ms): ffmpeg's own LRA comes from a 0.1 LU histogram, which reads
    /// a short programme a few tenths high.
    pub lra_3342: f64,
}

/// Tech 3342's loudness range of short-term readings (LUFS): the -70 LUFS
/// gate, the gate 20 LU under their power mean, the 10th to 95th percentile.
fn lra_3342(readings: &[f64]) -> f64 {
    let mut st: Vec<f64> = readings.iter().copied().filter(|&l| l >= -70.0).collect();
    if st.is_empty() {
        return 0.0;
    }
    let mean = st.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / st.len() as f64;
    let gate = 10.0 * mean.log10() - 20.0;
    st.retain(|&l| l >= gate);
    st.sort_by(f64::total_cmp);
    let last = (st.len() - 1) as f64;
    st[(last * 0.95 + 0.5) as usize] - st[(last * 0.1 + 0.5) as usize]
}

/// ffmpeg is this suite's independent meter. CI installs it (`.ci/run`);
/// elsewhere a missing ffmpeg skips the graded tests with a line that says so.
pub fn have_ffmpeg(test: &str) -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "{test}: ffmpeg is needed in CI (the independent meter)");
        eprintln!("SKIPPED {test}: ffmpeg is not installed (apt-get install ffmpeg); nothing was graded");
    }
    ok
}

/// Measures files (several: played one after another, an album) with ffmpeg.
pub fn ffmpeg(files: &[PathBuf]) -> Ffmpeg {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostats", "-hide_banner"]);
    for f in files {
        cmd.arg("-i").arg(f);
    }
    let chain = "ebur128=metadata=1:peak=true,ametadata=mode=print:file=-";
    let graph = if files.len() == 1 {
        chain.to_string()
    } else {
        let inputs: String = (0..files.len()).map(|i| format!("[{i}:a]")).collect();
        format!("{inputs}concat=n={}:v=0:a=1,{chain}", files.len())
    };
    let flag = if files.len() == 1 { "-af" } else { "-filter_complex" };
    let o = cmd.args([flag, &graph, "-f", "null", "-"]).output().expect("ffmpeg runs");
    assert!(o.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let last = |key: &str| -> f64 {
        text.lines()
            .rev()
            .filter_map(|l| l.strip_prefix(key))
            .find_map(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("ffmpeg printed no {key}"))
    };
    let max = |key: &str| -> f64 {
        text.lines()
            .filter_map(|l| l.strip_prefix(key))
            .filter_map(|v| v.parse::<f64>().ok())
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let short_terms: Vec<f64> =
        text.lines().filter_map(|l| l.strip_prefix("lavfi.r128.S=")).filter_map(|v| v.parse().ok()).collect();
    Ffmpeg {
        lra_3342: lra_3342(&short_terms),
        momentary_max: max("lavfi.r128.M="),
        short_term_max: max("lavfi.r128.S="),
        lufs: last("lavfi.r128.I="),
        lra: last("lavfi.r128.LRA="),
        tp: crate::oracle::db(last("lavfi.r128.true_peak=")),
    }
}

/// Runs a Python script with the first Python that has its `modules`
/// (Debian's are /usr/bin's; `.ci/run` installs the `apt` packages named).
/// None, and the test skipped, when there is none; CI fails instead.
pub fn python(test: &str, modules: &str, apt: &str, script: &str, args: &[&Path]) -> Option<Output> {
    let probe = format!("import {modules}");
    let py = ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|py| Command::new(py).args(["-c", &probe]).output().is_ok_and(|o| o.status.success()));
    let Some(py) = py else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: CI needs python3 with {modules} (.ci/run installs {apt})"
        );
        eprintln!("SKIPPED {test}: python3 with {modules} is not installed (apt-get install {apt})");
        return None;
    };
    let o = Command::new(py).args(["-c", script]).args(args).output().expect("python3 runs");
    assert!(o.status.success(), "{test}: {}", String::from_utf8_lossy(&o.stderr));
    Some(o)
}
