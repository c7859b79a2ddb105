//! Where tracks run: a pool of `--jobs` threads, longest track first.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::manifest::Track;

pub(super) fn pool(jobs: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| Error::Render(format!("cannot start worker threads: {e}")))
}

/// Runs `f` for every index on the pool's threads, longest first (by
/// `weights`): each thread takes the next longest track when it is free, so
/// a long track does not start last and leave the other cores idle.
/// Results come back in index order.
pub(super) fn longest_first<T: Send>(
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
pub(super) fn input_bytes(track: &Track) -> f64 {
    track.inputs().iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum::<u64>() as f64
}
