//! The phases of `lathe master` and `lathe check`:
//!
//! 1. **Analyze** (rayon, per track): decode, mix stems, measure, premaster QC.
//!    Every input is decoded here, so bad input stops the run before anything is written.
//! 2. **Plan** (album, serial): per-track loudness targets from the mode.
//! 3. **Master** (rayon, per track): decode again, chain, render every
//!    deliverable on target, write atomically. In album mode the album's
//!    pooled loudness is checked and, if it missed, the album is rendered again.
//! 4. **Report**: album stats, checks, report files, exit status.
//!
//! Each phase hands plain values to the next. Memory stays at one track per job.

use std::path::{Path, PathBuf};

use ebur128::EbuR128;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::album;
use crate::audio::decode::decode;
use crate::audio::encode::{TempFile, write_wav};
use crate::audio::{Audio, SourceFormat};
use crate::dsp::spectrum::{self, Spectrum};
use crate::error::{Error, Result};
use crate::loudness::{self, BlockEnergies, Measurement};
use crate::manifest::{Album, Mode, Track, TrackSource};
use crate::progress::Progress;
use crate::qc::checks::{self, Check, Severity, Thresholds};
use crate::qc::report::*;
use crate::render::{self, RenderSpec};
use crate::stems::{StemFacts, mixdown};

mod report;
use report::{AlbumPlan, build_report};

/// Options of `lathe master`.
#[derive(Debug, Clone)]
pub struct MasterOptions {
    /// Output folder; `masters/` beside the manifest when `None`.
    pub out_dir: Option<PathBuf>,
    /// Tracks rendered at once.
    pub jobs: usize,
    /// Report files to write.
    pub reports: Vec<ReportFormat>,
}

/// A premaster as analyzed in phase 1.
pub struct Analysis {
    pub format: SourceFormat,
    pub measurement: Measurement,
    /// For the album's pooled premaster loudness.
    pub energies: BlockEnergies,
    pub checks: Vec<Check>,
    /// For a stems track: what each stem brought.
    pub stems: Option<Vec<StemFacts>>,
    pub spectrum: Spectrum,
}

/// A track's audio as a stereo pair, and for stems, what the mix-down learned.
pub struct Loaded {
    pub audio: Audio,
    pub format: SourceFormat,
    pub stems: Option<(Vec<StemFacts>, f64)>,
}

/// Decodes a track's audio as a stereo pair: a mix, or its stems summed.
pub fn load_track(track: &Track) -> Result<Loaded> {
    match &track.source {
        TrackSource::Mix(path) => {
            let (audio, format) = decode(path)?;
            Ok(Loaded { audio: audio.into_stereo(), format, stems: None })
        }
        TrackSource::Stems(stems) => {
            let m = mixdown(stems)?;
            Ok(Loaded { audio: m.audio, format: m.format, stems: Some((m.stems, m.sum_peak_dbfs)) })
        }
    }
}

pub(crate) fn display_path(album: &Album, p: &Path) -> String {
    p.strip_prefix(&album.root).unwrap_or(p).display().to_string()
}

/// Phase 1 for one track.
fn analyze_track(album: &Album, track: &Track, th: &Thresholds) -> Result<Analysis> {
    let Loaded { audio, format, stems } = load_track(track)?;
    let input = track.inputs()[0];
    let (measurement, energies) = loudness::measure(&audio.channels, audio.sample_rate)
        .map_err(|e| Error::audio(display_path(album, input), e.to_string()))?;
    let scan = checks::scan(&audio.channels, th.get("premaster.clipping.min_run") as usize);
    let mut checks = checks::premaster(&format, &measurement, &scan, th);
    checks.extend(checks::mono(format.channels));
    if let Some((facts, sum_peak)) = &stems {
        checks.extend(checks::stems(facts, *sum_peak, format.sample_rate));
    }
    if let Some(c) = checks.iter().find(|c| {
        c.severity == Severity::Fail && (c.id == "premaster.silence" || c.id == "premaster.too_short")
    }) {
        let what = match &track.source {
            TrackSource::Mix(_) => display_path(album, input),
            TrackSource::Stems(_) => format!("track {} ({}) stems", track.number, track.title),
        };
        return Err(Error::audio(what, c.message.clone()));
    }
    let spectrum = spectrum::of_channels(&audio.channels, audio.sample_rate);
    Ok(Analysis { format, measurement, energies, checks, stems: stems.map(|(f, _)| f), spectrum })
}

fn pool(jobs: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| Error::Render(format!("cannot start worker threads: {e}")))
}

/// Runs `f` for every index on the pool's threads, longest first (by
/// `weights`): each thread takes the next longest track when it is free, so
/// a long track does not start last and leave the other cores idle.
/// Results come back in index order.
fn longest_first<T: Send>(
    pool: &rayon::ThreadPool,
    weights: &[f64],
    f: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = weights.iter().map(|_| Mutex::new(None)).collect();
    pool.scope(|s| {
        for _ in 0..pool.current_num_threads().min(weights.len()) {
            s.spawn(|_| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let r = f(i);
                    *slots[i].lock().expect("no panics while holding it") = Some(r);
                }
            });
        }
    });
    slots.into_iter().map(|m| m.into_inner().expect("not poisoned").expect("every index ran")).collect()
}

/// Bytes of a track's input files: the weight of phase 1 (durations are not known yet).
fn input_bytes(track: &Track) -> f64 {
    track.inputs().iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum::<u64>() as f64
}

/// Phase 1: analyze every track. The first error in track order wins.
pub fn analyze(album: &Album, jobs: usize, progress: &Progress) -> Result<Vec<Analysis>> {
    let th = Thresholds(album.qc.thresholds.clone());
    let bar = progress.phase("analyze", album.tracks.len());
    let weights: Vec<f64> = album.tracks.iter().map(input_bytes).collect();
    let results = longest_first(&pool(jobs)?, &weights, |i| {
        let t = &album.tracks[i];
        let r = analyze_track(album, t, &th);
        bar.done(&t.title);
        r
    });
    results.into_iter().collect()
}

/// The output folder for `album`.
pub fn out_dir(album: &Album, opts: &MasterOptions) -> PathBuf {
    opts.out_dir.clone().unwrap_or_else(|| album.root.join("masters"))
}

fn canonical_target(path: &Path) -> PathBuf {
    // The output may not exist yet: canonicalize the deepest existing ancestor.
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut p = existing.canonicalize().unwrap_or(existing);
    for n in rest.into_iter().rev() {
        p.push(n);
    }
    p
}

/// Where each track's deliverables go: `OUT/<deliverable>/NN - Title.wav`.
fn output_paths(album: &Album, out: &Path) -> Vec<Vec<PathBuf>> {
    album
        .tracks
        .iter()
        .map(|t| album.deliverables.iter().map(|d| out.join(&d.name).join(t.file_name())).collect())
        .collect()
}

/// Refuses any output that would land on an input file.
fn guard_inputs(album: &Album, outputs: &[Vec<PathBuf>], out: &Path, reports: &[ReportFormat]) -> Result<()> {
    let inputs: Vec<PathBuf> = album
        .tracks
        .iter()
        .flat_map(|t| t.inputs().into_iter().map(canonical_target))
        .chain(std::iter::once(canonical_target(&album.manifest)))
        .collect();
    let reports = reports.iter().map(|f| out.join(f.exporter().file_name()));
    for o in outputs.iter().flatten().cloned().chain(reports) {
        let c = canonical_target(&o);
        if inputs.contains(&c) {
            return Err(Error::Usage(format!(
                "{}: an output would overwrite this input file; choose another --out folder",
                o.display()
            )));
        }
    }
    Ok(())
}

/// What phase 3 keeps of a mastered track (the samples are already written).
pub(crate) struct Mastered {
    target_lufs: f64,
    rendered_gain_db: f64,
    passes: usize,
    bound: render::Bound,
    needed: Option<render::Needed>,
    compressor: Option<crate::dsp::compressor::CompressorStats>,
    limiter: crate::dsp::limiter::LimiterStats,
    outputs: Vec<MasteredOutput>,
    /// Of the first deliverable, as written.
    spectrum: Spectrum,
}

/// What was measured on one written master.
struct MasteredOutput {
    measurement: Measurement,
    /// The meter of record's state, for album pooling.
    gating: EbuR128,
    full_scale_samples: usize,
    sample_rate: u32,
}

fn track_seed(track: &Track) -> u64 {
    0x6C61_7468_6500_0000 ^ track.number as u64
}

fn master_track(album: &Album, track: &Track, target_lufs: f64, paths: &[PathBuf]) -> Result<Mastered> {
    let mut audio = load_track(track)?.audio;
    let compressor = render::pre_gain(&track.chain, audio.sample_rate, &mut audio.channels);
    let spec = RenderSpec {
        chain: &track.chain,
        target_lufs,
        ceiling_dbtp: album.target.true_peak_dbtp,
        max_gain_db: album.target.max_gain_db,
        deliverables: &album.deliverables,
        seed: track_seed(track),
    };
    let rendered = render::render(audio.channels, audio.sample_rate, &spec)?;
    let first = &rendered.outputs[0];
    let spectrum = spectrum::of_channels(first.pcm.channels(), first.sample_rate);
    let mut outputs = Vec::new();
    for (o, path) in rendered.outputs.into_iter().zip(paths) {
        write_wav(path, o.sample_rate, &o.pcm)?;
        outputs.push(MasteredOutput {
            measurement: o.measurement,
            gating: o.gating,
            full_scale_samples: o.full_scale_samples,
            sample_rate: o.sample_rate,
        });
    }
    Ok(Mastered {
        target_lufs,
        rendered_gain_db: rendered.gain_db,
        passes: rendered.passes,
        bound: rendered.bound,
        needed: rendered.needed,
        compressor,
        limiter: rendered.limiter,
        outputs,
        spectrum,
    })
}

/// Masters the album: phases 1-4. Returns the report and the output folder.
pub fn master(album: &Album, opts: &MasterOptions, progress: &Progress) -> Result<(Report, PathBuf)> {
    let out = out_dir(album, opts);
    let paths = output_paths(album, &out);
    guard_inputs(album, &paths, &out, &opts.reports)?;

    // Phase 1: analyze (every input decoded and checked before anything is written).
    let analyses = analyze(album, opts.jobs, progress)?;

    // Outputs WAV cannot hold (4 GiB) are refused before anything is written.
    for (track, an) in album.tracks.iter().zip(&analyses) {
        for d in &album.deliverables {
            let rate = d.sample_rate.unwrap_or(an.format.sample_rate);
            let frames = (an.measurement.duration_s * rate as f64).ceil() as u64;
            let bytes = 44 + frames * 2 * (d.format.bits() as u64 / 8);
            if bytes > crate::audio::encode::WAV_MAX_BYTES {
                return Err(Error::Usage(format!(
                    "{}: the `{}` master would be {:.2} GiB, past the 4 GiB a WAV file can hold; use a lower rate or bit depth, or split the track",
                    track.title,
                    d.name,
                    bytes as f64 / (1u64 << 30) as f64
                )));
            }
        }
    }

    // Phase 2: plan.
    let pre_lufs: Vec<f64> = analyses.iter().map(|a| a.measurement.integrated_lufs).collect();
    let offsets: Vec<f64> = album.tracks.iter().map(|t| t.offset_lu).collect();
    let pooled_pre =
        BlockEnergies::pooled_integrated(&analyses.iter().map(|a| &a.energies).collect::<Vec<_>>());
    let anchor_gain = album::initial_gain_db(&album.target, pooled_pre, &pre_lufs, &offsets);

    // Phase 3: master. In album mode the album rule may render the album
    // again: with the gain lowered to what every track fits within its
    // bounds, or corrected onto the pooled target.
    for d in &album.deliverables {
        let dir = out.join(&d.name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let pool = pool(opts.jobs)?;
    let durations: Vec<f64> = analyses.iter().map(|a| a.measurement.duration_s).collect();
    let mut album_gain = anchor_gain;
    let mut limit = f64::INFINITY;
    let mut fit = None;
    let mut album_passes = 0;
    let mastered: Vec<Mastered> = loop {
        album_passes += 1;
        let targets = album::track_targets(&album.target, &pre_lufs, &offsets, album_gain);
        let bar = progress.phase("master", album.tracks.len());
        let results = longest_first(&pool, &durations, |i| {
            let t = &album.tracks[i];
            let r = master_track(album, t, targets[i], &paths[i]);
            bar.done(&t.title);
            r
        });
        drop(bar);
        let mastered: Vec<Mastered> = results.into_iter().collect::<Result<_>>()?;
        if album.target.mode == Mode::Track {
            break mastered;
        }
        let passes: Vec<album::TrackPass> = mastered
            .iter()
            .enumerate()
            .map(|(i, m)| album::TrackPass {
                premaster_lufs: pre_lufs[i],
                offset_lu: offsets[i],
                target_lufs: m.target_lufs,
                reached_lufs: m.outputs[0].measurement.integrated_lufs,
                bounded: m.bound != render::Bound::Target,
            })
            .collect();
        if let Some(f) = album::fit(&passes)
            && f.1 < limit
        {
            (limit, fit) = (f.1, Some(f));
        }
        let (pooled, _) = loudness::pooled_loudness(mastered.iter().map(|m| &m.outputs[0].gating))?;
        match album::next(&album.target, album_gain, limit, pooled) {
            album::Next::Again(g) if album_passes < album::MAX_ALBUM_PASSES => album_gain = g,
            _ => break mastered,
        }
    };
    let held_back = match album.target.mode {
        Mode::Album => album::held_back(anchor_gain, album_gain, fit),
        Mode::Track => None,
    };

    // Phase 4: report.
    let plan =
        AlbumPlan { gain_db: album_gain, pooled_premaster_lufs: pooled_pre, passes: album_passes, held_back };
    let report = build_report(album, &out, &paths, &analyses, &mastered, &plan)?;
    write_reports(&report, &out, &opts.reports)?;
    Ok((report, out))
}

/// Writes the report files atomically.
pub fn write_reports(report: &Report, out: &Path, formats: &[ReportFormat]) -> Result<()> {
    for e in formats.iter().map(|f| f.exporter()) {
        let path = out.join(e.file_name());
        let tmp = TempFile::beside(&path);
        std::fs::write(tmp.path(), e.render(report)).map_err(|err| Error::io(tmp.path(), err))?;
        tmp.persist(&path)?;
    }
    Ok(())
}
