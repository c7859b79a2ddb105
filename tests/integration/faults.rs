//! The output folder under faults a studio or CI machine really has: kill -9
//! at random moments, signals, a full disk, planted links, FIFOs, absurd
//! input. After each, what is on disk is looked at, not only the exit code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::reliability::{music, wav};
use crate::util::*;

/// Every file lathe's run left in OUT and a hash of its bytes (the lock
/// file aside); a staging folder shows up under its own name.
fn snapshot(out: &Path) -> BTreeMap<String, u64> {
    files_under(out)
        .into_iter()
        .map(|p| (p.strip_prefix(out).unwrap().display().to_string(), p))
        .filter(|(rel, _)| rel != ".lathe-lock")
        .map(|(rel, p)| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            let h = bytes
                .iter()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x1_0000_01b3));
            (rel, h)
        })
        .collect()
}

fn staging_left(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".lathe-staging-"))
                .collect()
        })
        .unwrap_or_default()
}

/// An album of `n` short tracks at `target` LUFS in `dir`.
fn album(dir: &Path, name: &str, n: usize, seconds: usize, target: f64) -> PathBuf {
    let mut y = format!(
        "version: 1\nalbum: {{title: T}}\ntarget: {{mode: track, loudness_lufs: {target}}}\ndeliverables: [{{name: m, bit_depth: 24}}, {{name: cd, sample_rate: 44100, bit_depth: 16}}]\ntracks:\n"
    );
    for i in 0..n {
        let f = dir.join(format!("t{i}.wav"));
        if !f.exists() {
            wav(&f, 2, 48000, 24, 48000 * seconds, |k, c| music(k + i * 999, c, 48000));
        }
        y.push_str(&format!("  - {{title: Track {}, mix: t{i}.wav}}\n", i + 1));
    }
    let p = dir.join(name);
    std::fs::write(&p, y).unwrap();
    p
}

fn spawn_master(manifest: &Path, out: &Path) -> Child {
    lathe()
        .args([
            "master",
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--jobs",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn master_ok(manifest: &Path, out: &Path) -> std::process::Output {
    let o = master_into(manifest, out, &[]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    o
}

/// Every master listed in report.json measures what the report says.
fn report_matches_masters(out: &Path) {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for t in r["tracks"].as_array().unwrap() {
        for o in t["outputs"].as_array().unwrap() {
            let (m, _, frames) = measure(&out.join(o["path"].as_str().unwrap()));
            assert!((m.integrated_lufs - o["integrated_lufs"].as_f64().unwrap()).abs() < 0.01, "{o}");
            assert_eq!(frames as u64, o["frames"].as_u64().unwrap(), "{o}");
        }
    }
}

#[test]
fn kill_9_at_random_moments_leaves_one_complete_run() {
    let tmp = tempfile::tempdir().unwrap();
    let a = album(tmp.path(), "a.yaml", 3, 4, -14.0);
    let b = album(tmp.path(), "b.yaml", 2, 4, -16.0);
    // The two complete runs, each made without interruption (masters are
    // bit-identical run to run).
    let out = tmp.path().join("out");
    let t0 = Instant::now();
    master_ok(&b, &out);
    let full = t0.elapsed();
    let snap_b = snapshot(&out);
    master_ok(&a, &out);
    let snap_a = snapshot(&out);
    assert_ne!(snap_a, snap_b);
    report_matches_masters(&out);

    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let (mut as_before, mut as_new, mut finished_later) = (0, 0, 0);
    for k in 0..50 {
        let (manifest, before, after) =
            if k % 2 == 0 { (&b, &snap_a, &snap_b) } else { (&a, &snap_b, &snap_a) };
        // Where OUT stands now must be `before` (the last kill left it so).
        let mut child = spawn_master(manifest, &out);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // From the start to well past a whole run (the machine may be slower now).
        let at = Duration::from_micros(seed % (full.as_micros() as u64 * 2).max(1));
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let now = snapshot(&out);
        let now_run: BTreeMap<String, u64> = now
            .iter()
            .filter(|(k, _)| !k.starts_with(".lathe-staging-"))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if &now_run == after {
            as_new += 1;
        } else if &now_run == before {
            as_before += 1;
            if status.success() {
                panic!("kill {k}: the run finished but OUT holds the previous one");
            }
        } else {
            // Killed inside the commit: the journal is there, and the next run finishes it.
            let journal = staging_left(&out).iter().any(|d| out.join(d).join("COMMIT").exists());
            assert!(journal, "kill {k} at {at:?}: OUT is neither run and no commit journal is left: {now:?}");
            master_ok(manifest, &out);
            assert_eq!(&snapshot(&out), after, "kill {k}: the next run did not leave one complete run");
            finished_later += 1;
        }
        // Whatever stands, the next complete run starts from it: make OUT hold
        // `after` so the next iteration knows what to expect. A kill inside
        // the staging folder's removal leaves it (emptied, or holding only
        // empty folders) beside a complete run: the next run clears it.
        if &snapshot(&out) != after || !staging_left(&out).is_empty() {
            master_ok(manifest, &out);
        }
        assert!(staging_left(&out).is_empty(), "kill {k}: a later run did not clear the staging folder");
    }
    report_matches_masters(&out);
    eprintln!(
        "kill -9 x50: {as_before} left the previous run, {as_new} the new run, {finished_later} mid-commit (finished by the next run)"
    );
    assert!(as_before > 0, "some kills should land before the commit");
}

fn signal(child: &Child, name: &str) {
    assert!(
        Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap().success()
    );
}

#[test]
fn sigint_sigterm_and_sighup_clean_up_and_exit_128_plus_the_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let old = album(tmp.path(), "old.yaml", 2, 4, -14.0);
    let new = album(tmp.path(), "new.yaml", 4, 30, -16.0);
    let out = tmp.path().join("out");
    master_ok(&old, &out);
    let before = snapshot(&out);
    for (name, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let mut child = spawn_master(&new, &out);
        // Signal mid-run: once the first staged master exists.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if snapshot(&out).keys().any(|k| k.starts_with(".lathe-staging-") && k.ends_with(".wav")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let sent = Instant::now();
        signal(&child, name);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(sent.elapsed() < Duration::from_secs(3), "SIG{name}: still running 3 s later");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(code), "SIG{name}");
        assert_eq!(snapshot(&out), before, "SIG{name}: OUT changed");
        assert!(staging_left(&out).is_empty(), "SIG{name}: the staging folder was left");
    }
}

#[test]
fn a_full_disk_exits_3_and_leaves_the_previous_run() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.to_str().unwrap()])
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root and must be able to mount a tmpfs");
        eprintln!(
            "SKIPPED a_full_disk_exits_3_and_leaves_the_previous_run: cannot mount a tmpfs here (needs root); nothing was tested"
        );
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let out = mnt.join("out");
    let small = album(tmp.path(), "small.yaml", 1, 2, -14.0);
    master_ok(&small, &out);
    let before = snapshot(&out);
    // Four 10 s tracks in two deliverables: about 19 MB of masters, more than
    // the disk holds (and each track's render needs scratch space beside them).
    let big = album(tmp.path(), "big.yaml", 4, 10, -14.0);
    let o = master_into(&big, &out, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write the outputs") && err.contains("No space left"), "{err}");
    assert_eq!(snapshot(&out), before, "OUT changed");
    assert!(staging_left(&out).is_empty());
    // Nothing before it: OUT is not even made.
    let fresh = mnt.join("fresh");
    let o = master_into(&big, &fresh, &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!fresh.exists(), "a failed first run leaves no folder");
}

#[test]
fn planted_links_are_replaced_or_refused_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = album(tmp.path(), "a.yaml", 1, 2, -14.0);
    let input = tmp.path().join("t0.wav");
    let input_bytes = std::fs::read(&input).unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("m")).unwrap();
    // A link at a master's final name, pointing at the premaster.
    std::os::unix::fs::symlink(&input, out.join("m/01 - Track 1.wav")).unwrap();
    // Links at every name a staging file or report could take.
    std::os::unix::fs::symlink(&input, out.join("report.json")).unwrap();
    std::os::unix::fs::symlink(&input, out.join(".lathe-owned")).unwrap();
    std::os::unix::fs::symlink(&input, out.join(".lathe-lock")).unwrap();
    master_ok(&manifest, &out);
    assert_eq!(std::fs::read(&input).unwrap(), input_bytes, "the premaster was written through a link");
    for f in ["m/01 - Track 1.wav", "report.json", ".lathe-owned", ".lathe-lock"] {
        let m = std::fs::symlink_metadata(out.join(f)).unwrap();
        assert!(m.is_file(), "{f} is still a link");
    }
    report_matches_masters(&out);
    // A linked deliverable folder: refused, exit 3, nothing written through it.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out2 = tmp.path().join("out2");
    std::fs::create_dir_all(&out2).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out2.join("cd")).unwrap();
    let o = master_into(&manifest, &out2, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    assert!(!out2.join("m").exists() && staging_left(&out2).is_empty());
}

#[test]
fn a_rerun_with_fewer_tracks_leaves_only_its_own_masters() {
    let tmp = tempfile::tempdir().unwrap();
    let three = album(tmp.path(), "three.yaml", 3, 2, -14.0);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("m")).unwrap();
    std::fs::write(out.join("m/notes.txt"), "the engineer's").unwrap();
    master_ok(&three, &out);
    let two = album(tmp.path(), "two.yaml", 2, 2, -14.0);
    master_ok(&two, &out);
    let names: Vec<String> = snapshot(&out).into_keys().collect();
    assert_eq!(
        names,
        [
            ".lathe-owned",
            "cd/01 - Track 1.wav",
            "cd/02 - Track 2.wav",
            "m/01 - Track 1.wav",
            "m/02 - Track 2.wav",
            "m/notes.txt",
            "report.html",
            "report.json",
            "report.md"
        ]
    );
    // --report md alone: the previous report.json and report.html go with the run they described.
    let o = master_into(&two, &out, &["--report", "md"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!out.join("report.json").exists() && !out.join("report.html").exists());
    assert!(out.join("report.md").exists() && out.join("m/notes.txt").exists());
}

/// `check` and `master` refuse the same things with the same words.
#[test]
fn check_and_master_agree_on_every_refusal() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    album(d, "base.yaml", 1, 2, -14.0);
    let fifo = d.join("fifo.wav");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::create_dir_all(d.join("dir.wav")).unwrap();
    let deep =
        format!("version: 1\nalbum: {{title: T}}\ntracks: {}{}\n", "[".repeat(40_000), "]".repeat(40_000));
    let cases: Vec<(&str, String)> = vec![
        ("fifo", "version: 1\nalbum: {title: T}\ntracks:\n  - {title: A, mix: fifo.wav}\n".into()),
        ("directory", "version: 1\nalbum: {title: T}\ntracks:\n  - {title: A, mix: dir.wav}\n".into()),
        ("fifo preset", "version: 1\nalbum: {title: T}\ntarget: {preset: fifo.wav}\ntracks:\n  - {title: A, mix: t0.wav}\n".into()),
        ("device preset", "version: 1\nalbum: {title: T}\ntarget: {preset: /dev/zero}\ntracks:\n  - {title: A, mix: t0.wav}\n".into()),
        ("deep", deep),
        ("tab", "version: 1\nalbum:\n\ttitle: T\ntracks: []\n".into()),
        ("loud", "version: 1\nalbum: {title: T}\ntracks:\n  - {title: A, mix: t0.wav, offset_lu: 20}\n".into()),
        ("report name", "version: 1\nalbum: {title: T}\ndeliverables: [{name: report.json}]\ntracks:\n  - {title: A, mix: t0.wav}\n".into()),
        ("over an input", "version: 1\nalbum: {title: T}\ndeliverables: [{name: m}]\ntracks:\n  - {title: A, mix: 'masters/m/01 - A.wav'}\n".into()),
    ];
    std::fs::create_dir_all(d.join("masters/m")).unwrap();
    std::fs::copy(d.join("t0.wav"), d.join("masters/m/01 - A.wav")).unwrap();
    for (what, text) in cases {
        let manifest = d.join(format!("{}.yaml", what.replace(' ', "-")));
        std::fs::write(&manifest, &text).unwrap();
        let started = Instant::now();
        let m = lathe().args(["master", manifest.to_str().unwrap(), "--quiet"]).output().unwrap();
        let c = lathe().args(["check", manifest.to_str().unwrap(), "--quiet"]).output().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "{what}: took {:?}", started.elapsed());
        assert_eq!(m.status.code(), Some(2), "{what}: master {}", stderr(&m));
        assert_eq!(c.status.code(), m.status.code(), "{what}: check {}", stderr(&c));
        assert_eq!(stderr(&c), stderr(&m), "{what}");
        assert_eq!(stderr(&m).lines().count(), 1, "{what}: {}", stderr(&m));
    }
    assert!(std::fs::read_dir(d.join("masters/m")).unwrap().count() == 1, "nothing was written");
}

#[test]
fn jobs_far_past_the_cores_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = album(tmp.path(), "a.yaml", 1, 5, -14.0);
    let out = tmp.path().join("out");
    let started = Instant::now();
    let o = master_into(&manifest, &out, &["--jobs", "10000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

#[test]
fn an_input_replaced_after_its_analysis_does_not_reach_the_masters() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    wav(&d.join("long.wav"), 2, 48000, 24, 48000 * 60, |k, c| music(k, c, 48000));
    wav(&d.join("short.wav"), 2, 48000, 24, 48000 * 3, |k, c| music(k + 7, c, 48000));
    let manifest = d.join("a.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nalbum: {title: T}\ntarget: {mode: track}\ndeliverables: [{name: m}]\ntracks:\n  - {title: Long, mix: long.wav}\n  - {title: Short, mix: short.wav}\n",
    )
    .unwrap();
    let first = d.join("first");
    let o = master_into(&manifest, &first, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = d.join("out");
    let child = lathe()
        .args([
            "master",
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--jobs",
            "1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Rendering starts once every input is analyzed (and decoded, for the
    // last time): the short track is replaced while the long one renders.
    let start = Instant::now();
    let rendering =
        || staging_left(&out).iter().any(|s| out.join(s).join("m").join("01 - Long.wav").exists());
    while !rendering() {
        assert!(start.elapsed() < Duration::from_secs(60), "no master started");
        std::thread::sleep(Duration::from_millis(2));
    }
    wav(&d.join("new.wav"), 2, 48000, 24, 48000 * 3, |k, c| 0.5 * music(k + 9, c, 48000));
    std::fs::rename(d.join("new.wav"), d.join("short.wav")).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let master = |dir: &Path| std::fs::read(dir.join("m").join("02 - Short.wav")).unwrap();
    assert!(master(&out) == master(&first), "the master is made from the samples that were analyzed");
    report_matches_masters(&out);
}
