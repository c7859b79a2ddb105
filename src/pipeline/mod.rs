//! The phases of `lathe master` and `lathe check`:
//!
//! 1. **Analyze** (rayon, per track): decode, mix stems, measure, premaster QC,
//!    then [`preflight`]: bad input stops the run before anything is written.
//! 2. **Plan** (album, serial): per-track loudness targets from the mode.
//! 3. **Master** (rayon, per track): decode again (refusing an input that
//!    changed), chain, render every deliverable within its bounds, write into
//!    the staging folder. In album mode the album rule may render the album
//!    again (`album::next`).
//! 4. **Report and commit**: album stats, checks, report files, then the
//!    whole run committed into OUT at once ([`commit`]).
//!
//! Each phase hands plain values to the next. Memory stays at one track per job.

use std::path::{Path, PathBuf};

use ebur128::EbuR128;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::album;
use crate::audio::decode::decode;
use crate::audio::encode::write_wav;
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

pub mod commit;
mod preflight;
mod report;
use preflight::output_paths;
pub use preflight::preflight;
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
    /// Of the decoded samples: the master phase refuses an input that changed.
    pub fingerprint: u64,
}

/// A fingerprint of decoded samples (every bit of every sample counts).
fn fingerprint(channels: &[Vec<f32>]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ channels.len() as u64;
    for c in channels {
        h = (h ^ c.len() as u64).wrapping_mul(0x0000_0100_0000_01b3);
        for pair in c.chunks(2) {
            let bits = pair.iter().fold(0u64, |a, v| (a << 32) | v.to_bits() as u64);
            h = (h ^ bits).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        }
    }
    h
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
    let fingerprint = fingerprint(&audio.channels);
    Ok(Analysis {
        format,
        measurement,
        energies,
        checks,
        stems: stems.map(|(f, _)| f),
        spectrum,
        fingerprint,
    })
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

fn master_track(
    album: &Album,
    track: &Track,
    analysis: &Analysis,
    target_lufs: f64,
    paths: &[PathBuf],
    staging: &commit::Staging,
) -> Result<Mastered> {
    let mut audio = load_track(track)?.audio;
    if fingerprint(&audio.channels) != analysis.fingerprint {
        return Err(Error::Changed { path: track.inputs()[0].to_path_buf() });
    }
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
    for (o, rel) in rendered.outputs.into_iter().zip(paths) {
        let path = staging.path(rel)?;
        // An earlier album pass staged this file: only staged files are replaced.
        let _ = std::fs::remove_file(&path);
        write_wav(&path, o.sample_rate, &o.pcm)?;
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
    let paths = output_paths(album);

    // Phase 1: analyze (every input decoded and checked before anything is
    // written), then every check that needs no rendering.
    let analyses = analyze(album, opts.jobs, progress)?;
    preflight(album, &out, &opts.reports, &analyses)?;
    let staging = commit::Staging::begin(&out)?;

    // Phase 2: plan.
    let pre_lufs: Vec<f64> = analyses.iter().map(|a| a.measurement.integrated_lufs).collect();
    let offsets: Vec<f64> = album.tracks.iter().map(|t| t.offset_lu).collect();
    let pooled_pre =
        BlockEnergies::pooled_integrated(&analyses.iter().map(|a| &a.energies).collect::<Vec<_>>());
    let anchor_gain = album::initial_gain_db(&album.target, pooled_pre, &pre_lufs, &offsets);

    // Phase 3: master. In album mode the album rule may render the album
    // again: with the gain lowered to what every track fits within its
    // bounds, or corrected onto the pooled target.
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
            let r = master_track(album, t, &analyses[i], targets[i], &paths[i], &staging);
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
    let report = build_report(album, &paths, &analyses, &mastered, &plan)?;
    let mut files: Vec<PathBuf> = paths.into_iter().flatten().collect();
    for e in opts.reports.iter().map(|f| f.exporter()) {
        let rel = PathBuf::from(e.file_name());
        commit::write_synced(&staging.path(&rel)?, e.render(&report).as_bytes())?;
        files.push(rel);
    }
    staging.commit(&files)?;
    Ok((report, out))
}
