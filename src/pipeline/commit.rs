//! The output folder's one guarantee: it holds one complete run.
//!
//! A run writes every master and report into a staging folder inside OUT
//! (`.lathe-staging-…`, created exclusively, private to the user). Files
//! there are created exclusively (`O_EXCL`: no name there can be a link an
//! attacker planted) and synced. The commit then:
//!
//! 1. writes the commit journal (`COMMIT`: the new run's files and the
//!    previous run's, from OUT's ownership record) and syncs it;
//! 2. renames every new file over its final name (a final name that is a
//!    symbolic link is replaced, never written through);
//! 3. removes the files the previous run wrote that this one does not;
//! 4. renames the new ownership record (`.lathe-owned`) into place, syncs
//!    OUT, and removes the staging folder.
//!
//! A crash before step 1 leaves OUT as it was, plus a staging folder the
//! next run clears; after it, the next run finds the journal and finishes
//! the commit before it does anything else. lathe only ever deletes files
//! its ownership record lists. A lock (`.lathe-lock`) keeps two runs out of
//! one OUT at once.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const STAGING_PREFIX: &str = ".lathe-staging-";
const OWNED: &str = ".lathe-owned";
const JOURNAL: &str = "COMMIT";
const LOCK: &str = ".lathe-lock";

/// The staging folder being written, for a signal handler to remove. Held
/// through a commit, so a signal waits for the commit to finish.
static LIVE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Removes the staging folder of the run in progress (a signal handler
/// calls it just before the process exits). A commit under way finishes
/// first; nothing under a final name is touched otherwise.
pub fn abandon_live_staging() {
    ABANDONED.store(true, std::sync::atomic::Ordering::SeqCst);
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = live.as_ref()
        && !dir.join(JOURNAL).exists()
    {
        // A worker may be creating a file as the folder goes: no new file is
        // started once abandoned, and the removal is retried for the last one.
        for _ in 0..10 {
            if fs::remove_dir_all(dir).is_ok() || !dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Set once the run is abandoned: no new file is staged after it.
static ABANDONED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What a run owns in OUT: paths relative to OUT.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Owned {
    files: Vec<PathBuf>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    new: Vec<PathBuf>,
    old: Vec<PathBuf>,
}

fn output_error(path: &Path, e: std::io::Error) -> Error {
    Error::output(path, e)
}

/// A relative path with no `..`, root or prefix: safe to join onto OUT.
fn is_plain(rel: &Path) -> bool {
    rel.components().all(|c| matches!(c, Component::Normal(_))) && rel.components().next().is_some()
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| output_error(dir, e))
}

fn read_owned(out: &Path) -> Vec<PathBuf> {
    let path = out.join(OWNED);
    let regular = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
    let text = if regular { fs::read_to_string(&path).unwrap_or_default() } else { String::new() };
    let owned: Owned = serde_json::from_str(&text).unwrap_or_default();
    owned.files.into_iter().filter(|p| is_plain(p)).collect()
}

/// Refuses a folder inside OUT that is a symbolic link (or not a folder):
/// lathe writes through no link.
pub fn check_folder(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::output(
            dir,
            std::io::Error::other("is a symbolic link; lathe writes into no linked folder (remove the link)"),
        )),
        Ok(m) if !m.is_dir() => {
            Err(Error::output(dir, std::io::Error::other("is a file where lathe needs a folder")))
        }
        _ => Ok(()),
    }
}

/// OUT locked for one run, with its staging folder.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    _lock: File,
    committed: bool,
    /// OUT did not exist before this run: an uncommitted run leaves none.
    made_out: bool,
}

impl Staging {
    /// Locks OUT, finishes or clears what an earlier run left, and creates
    /// a fresh staging folder.
    pub fn begin(out: &Path) -> Result<Staging> {
        let made_out = !out.exists();
        fs::create_dir_all(out).map_err(|e| output_error(out, e))?;
        let lock_path = out.join(LOCK);
        let lock = open_lock(&lock_path)?;
        lock.try_lock().map_err(|_| {
            Error::output(out, std::io::Error::other("another lathe run is writing to this folder"))
        })?;
        recover(out)?;
        let dir = create_private_dir(out)?;
        *LIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.clone());
        Ok(Staging { out: out.to_path_buf(), dir, _lock: lock, committed: false, made_out })
    }

    /// Where the file that will be `OUT/rel` is written now (its folders made).
    pub fn path(&self, rel: &Path) -> Result<PathBuf> {
        if ABANDONED.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::output(&self.dir, std::io::Error::other("the run was stopped")));
        }
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(|e| output_error(parent, e))?;
        }
        Ok(p)
    }

    /// Moves every file of the run into place and removes what the
    /// previous run wrote and this one did not. `files` are relative to OUT.
    pub fn commit(mut self, files: &[PathBuf]) -> Result<()> {
        for f in files {
            let staged = self.dir.join(f);
            let m = fs::symlink_metadata(&staged).map_err(|e| output_error(&staged, e))?;
            if !m.is_file() {
                return Err(Error::output(&staged, std::io::Error::other("not a file lathe wrote")));
            }
            if let Some(parent) = f.parent().filter(|p| !p.as_os_str().is_empty()) {
                check_folder(&self.out.join(parent))?;
            }
        }
        for d in dirs_of(files) {
            sync_dir(&self.dir.join(d))?;
        }
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let owned = serde_json::to_vec(&Owned { files: files.to_vec() }).expect("serializes");
        write_synced(&self.dir.join(OWNED), &owned)?;
        let journal = Journal { new: files.to_vec(), old: read_owned(&self.out) };
        write_synced(&self.dir.join(JOURNAL), &serde_json::to_vec(&journal).expect("serializes"))?;
        sync_dir(&self.dir)?;
        finish(&self.out, &self.dir, &journal)?;
        self.committed = true;
        drop(live);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        *LIVE.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if !self.committed && !self.dir.join(JOURNAL).exists() {
            let _ = fs::remove_dir_all(&self.dir);
            if self.made_out {
                let _ = fs::remove_file(self.out.join(LOCK));
                let _ = fs::remove_dir(&self.out);
            }
        }
    }
}

/// Opens OUT's lock file read-only, never through a link: a link or
/// anything else at its name is replaced by a new, empty file.
fn open_lock(path: &Path) -> Result<File> {
    if !fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        if fs::symlink_metadata(path).is_ok() {
            fs::remove_file(path).map_err(|e| output_error(path, e))?;
        }
        match create_exclusive(path) {
            Ok(_) => {}
            Err(_) if fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) => {} // another run made it
            Err(e) => return Err(e),
        }
    }
    File::open(path).map_err(|e| output_error(path, e))
}

/// The folders (relative, with OUT's own as "") that hold `files`.
fn dirs_of(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        files.iter().map(|f| f.parent().map(Path::to_path_buf).unwrap_or_default()).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Creates `path` exclusively (never through a link) with `bytes`, synced.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = create_exclusive(path)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| output_error(path, e))
}

/// A new file: `O_CREAT | O_EXCL`, which never follows a link at its name.
pub fn create_exclusive(path: &Path) -> Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| output_error(path, e))
}

fn create_private_dir(out: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    for attempt in 0..16u32 {
        let name =
            format!("{STAGING_PREFIX}{}-{:x}", std::process::id(), seed.wrapping_add(attempt as u128 * 7919));
        let dir = out.join(name);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(output_error(&dir, e)),
        }
    }
    Err(Error::output(out, std::io::Error::other("cannot create a private staging folder")))
}

/// Steps 2-4 of the commit (also the roll-forward of an interrupted one).
fn finish(out: &Path, staging: &Path, journal: &Journal) -> Result<()> {
    for f in journal.new.iter().filter(|f| is_plain(f)) {
        let (from, to) = (staging.join(f), out.join(f));
        if fs::symlink_metadata(&from).is_err() {
            continue; // moved before an interruption
        }
        if let Some(parent) = to.parent() {
            check_folder(parent)?;
            fs::create_dir_all(parent).map_err(|e| output_error(parent, e))?;
        }
        fs::rename(&from, &to).map_err(|e| output_error(&to, e))?;
    }
    for f in journal.old.iter().filter(|f| is_plain(f) && !journal.new.contains(f)) {
        let p = out.join(f);
        if fs::symlink_metadata(&p).is_ok_and(|m| !m.is_dir()) {
            let _ = fs::remove_file(&p);
        }
        if let Some(parent) = f.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = fs::remove_dir(out.join(parent)); // only if now empty
        }
    }
    let owned = staging.join(OWNED);
    if fs::symlink_metadata(&owned).is_ok() {
        fs::rename(&owned, out.join(OWNED)).map_err(|e| output_error(&out.join(OWNED), e))?;
    }
    for d in dirs_of(&journal.new) {
        sync_dir(&out.join(d))?;
    }
    fs::remove_dir_all(staging).map_err(|e| output_error(staging, e))
}

/// What an earlier run left in OUT: a committed journal is finished, any
/// other staging folder removed.
fn recover(out: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(out) else { return Ok(()) };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(STAGING_PREFIX) {
            continue;
        }
        let dir = e.path();
        if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            continue; // not a folder lathe made
        }
        let journal =
            fs::read(dir.join(JOURNAL)).ok().and_then(|b| serde_json::from_slice::<Journal>(&b).ok());
        match journal {
            Some(j) => finish(out, &dir, &j)?,
            None => fs::remove_dir_all(&dir).map_err(|e| output_error(&dir, e))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(out: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            walk(out).into_iter().map(|p| p.strip_prefix(out).unwrap().display().to_string()).collect();
        v.sort();
        v
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if fs::symlink_metadata(&p).unwrap().is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
        out
    }

    fn run(out: &Path, names: &[&str], body: &str) {
        let s = Staging::begin(out).unwrap();
        let rel: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
        for r in &rel {
            write_synced(&s.path(r).unwrap(), body.as_bytes()).unwrap();
        }
        s.commit(&rel).unwrap();
    }

    #[test]
    fn a_run_replaces_the_previous_one_and_keeps_foreign_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        run(&out, &["m/01 - A.wav", "m/02 - B.wav", "report.json"], "one");
        run(&out, &["m/01 - A.wav", "report.json"], "two");
        assert_eq!(files(&out), [".lathe-lock", ".lathe-owned", "m/01 - A.wav", "notes.txt", "report.json"]);
        assert_eq!(fs::read_to_string(out.join("m/01 - A.wav")).unwrap(), "two");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    }

    #[test]
    fn a_symlink_at_a_final_name_is_replaced_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let victim = tmp.path().join("premaster.wav");
        fs::write(&victim, "input").unwrap();
        fs::create_dir_all(out.join("m")).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("m/01 - A.wav")).unwrap();
        run(&out, &["m/01 - A.wav"], "master");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "input");
        assert!(!fs::symlink_metadata(out.join("m/01 - A.wav")).unwrap().file_type().is_symlink());
        // A linked deliverable folder is refused.
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("n")).unwrap();
        let s = Staging::begin(&out).unwrap();
        write_synced(&s.path(Path::new("n/x.wav")).unwrap(), b"x").unwrap();
        assert!(matches!(s.commit(&[PathBuf::from("n/x.wav")]), Err(Error::Output { .. })));
        assert!(fs::read_dir(&elsewhere).unwrap().next().is_none());
    }

    #[test]
    fn an_interrupted_commit_is_finished_by_the_next_run() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        run(&out, &["m/01 - A.wav", "m/02 - B.wav"], "old");
        // A commit journaled, one file moved, then the process died.
        let dir = create_private_dir(&out).unwrap();
        fs::create_dir_all(dir.join("m")).unwrap();
        fs::write(dir.join("m/02 - B.wav"), "new").unwrap();
        fs::write(out.join("m/01 - A.wav"), "new").unwrap();
        fs::write(dir.join(OWNED), br#"{"files":["m/01 - A.wav","m/02 - B.wav"]}"#).unwrap();
        let j = Journal { new: vec!["m/01 - A.wav".into(), "m/02 - B.wav".into()], old: read_owned(&out) };
        fs::write(dir.join(JOURNAL), serde_json::to_vec(&j).unwrap()).unwrap();
        // And a staging folder from a run that never committed.
        let stale = create_private_dir(&out).unwrap();
        fs::write(stale.join("x.wav"), "partial").unwrap();
        drop(Staging::begin(&out).unwrap());
        assert_eq!(files(&out), [".lathe-lock", ".lathe-owned", "m/01 - A.wav", "m/02 - B.wav"]);
        assert_eq!(fs::read_to_string(out.join("m/02 - B.wav")).unwrap(), "new");
    }

    #[test]
    fn a_second_run_on_the_same_folder_is_refused_while_one_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let a = Staging::begin(tmp.path()).unwrap();
        assert!(matches!(Staging::begin(tmp.path()), Err(Error::Output { .. })));
        drop(a);
        assert!(Staging::begin(tmp.path()).is_ok());
    }
}
