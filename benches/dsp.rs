//! One benchmark per DSP stage, the meter, and the whole default chain, on
//! 10 s of synthesized music at 44.1 kHz stereo. Throughput is in frames:
//! divide by 44 100 for the realtime factor (run with RAYON_NUM_THREADS=1
//! for one core: the meter reads loudness and true peak side by side).
//!
//! `chain/default_chain_one_pass` is the chain once (high-pass, gain,
//! limiter, dither); `chain/default_chain_render_to_minus_14` is what a
//! track costs: the chain solved onto the target, passes and the full
//! measurement of every written sample included.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use lathe::audio::resample::resample;
use lathe::dsp::Stereo;
use lathe::dsp::biquad::Shape;
use lathe::dsp::compressor::{self, CompressorSettings};
use lathe::dsp::dither::{DitherKind, quantize};
use lathe::dsp::eq::{Band, BandChannel, Eq};
use lathe::dsp::limiter::{self, LimiterSettings};
use lathe::dsp::loudness;
use lathe::dsp::{oversample, spectrum, stereo};
use lathe::manifest::{Chain, Deliverable, SampleFormat};
use lathe::pipeline::{Prepared, RenderFiles, RenderSpec, render};

const RATE: u32 = 44100;

fn music() -> Vec<Vec<f32>> {
    let song = lathe_synth::Song { seconds: 10.0, ..lathe_synth::sample_album_songs()[0].clone() };
    lathe_synth::render(&song, RATE).to_vec()
}

fn band(shape: Shape, freq_hz: f64, gain_db: f64) -> Band {
    Band { shape, freq_hz, gain_db, q: std::f64::consts::FRAC_1_SQRT_2, channel: BandChannel::Stereo }
}

fn stages(c: &mut Criterion) {
    let x = music();
    let frames = x[0].len() as u64;
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);

    let bands = [
        band(Shape::Highpass, 20.0, 0.0),
        band(Shape::LowShelf, 120.0, 1.0),
        band(Shape::Peak, 3000.0, -1.5),
        band(Shape::HighShelf, 10000.0, 0.5),
    ];
    g.bench_function("eq_4_bands", |b| {
        b.iter(|| {
            let (mut l, mut r) = (x[0].clone(), x[1].clone());
            Eq::new(&bands, RATE).process(&mut l, &mut r);
            black_box(l);
        })
    });
    g.bench_function("compressor", |b| {
        b.iter(|| {
            let (mut l, mut r) = (x[0].clone(), x[1].clone());
            black_box(compressor::process(&CompressorSettings::default(), RATE, &mut l, &mut r));
        })
    });
    g.bench_function("width", |b| {
        b.iter(|| {
            let (mut l, mut r) = (x[0].clone(), x[1].clone());
            stereo::process(
                &stereo::WidthSettings { width: 1.2, mono_below_hz: Some(120.0) },
                RATE,
                &mut l,
                &mut r,
            );
            black_box(l);
        })
    });
    let loud: Vec<Vec<f32>> = x.iter().map(|c| c.iter().map(|v| v * 2.5).collect()).collect();
    g.bench_function("limiter_true_peak_4x", |b| {
        b.iter(|| {
            let mut y = loud.clone();
            black_box(limiter::process(&LimiterSettings::default(), RATE, &mut y));
        })
    });
    g.bench_function("true_peak_meter", |b| b.iter(|| black_box(oversample::true_peak_dbtp(&loud))));
    g.bench_function("dither_tpdf_16bit", |b| b.iter(|| black_box(quantize(&x[0], 16, DitherKind::Tpdf, 1))));
    g.bench_function("loudness_meter", |b| b.iter(|| black_box(loudness::measure(&x, RATE).unwrap())));
    g.bench_function("spectrum_third_octave", |b| b.iter(|| black_box(spectrum::of_channels(&x, RATE))));
    g.finish();

    let x48 = lathe_synth::render(
        &lathe_synth::Song { seconds: 10.0, ..lathe_synth::sample_album_songs()[0].clone() },
        48000,
    );
    let mut g = c.benchmark_group("resample");
    g.throughput(Throughput::Elements(x48[0].len() as u64));
    g.sample_size(10);
    g.bench_function("48k_to_44k1", |b| b.iter(|| black_box(resample(&x48, 48000, 44100).unwrap())));
    g.finish();
}

/// A whole render of `x`, streamed from memory, into a temporary folder.
fn render_once(x: &[Vec<f32>], spec: &RenderSpec) -> lathe::pipeline::Rendered {
    let dir = tempfile::tempdir().unwrap();
    let outputs: Vec<_> =
        (0..spec.deliverables.len()).map(|i| vec![dir.path().join(format!("{i}.wav"))]).collect();
    let mut at = 0;
    let mut read = |b: &mut [Vec<f32>; 2]| {
        let end = (at + 65536).min(x[0].len());
        b[0] = x[0][at..end].to_vec();
        b[1] = x[1][at..end].to_vec();
        let n = end - at;
        at = end;
        Ok(n)
    };
    let prepared = Prepared::from_reader(&mut read, RATE, spec.chain, spec.deliverables, dir.path()).unwrap();
    render(&prepared, spec, &RenderFiles { scratch: dir.path(), outputs: &outputs }).unwrap()
}

fn chain(c: &mut Criterion) {
    let x = music();
    let frames = x[0].len() as u64;
    let chain = Chain::default();
    let deliverables = [Deliverable::wav("master", None, SampleFormat::Int24, DitherKind::Tpdf)];
    let mut g = c.benchmark_group("chain");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);
    // The chain itself, once: the 20 Hz high-pass, the gain a render to
    // -14 LUFS settles on, the true-peak limiter, 24-bit TPDF dither.
    let spec = RenderSpec {
        chain: &chain,
        target_lufs: -14.0,
        ceiling_dbtp: -1.0,
        max_gain_db: 24.0,
        deliverables: &deliverables,
        seed: 1,
    };
    let gain_db = render_once(&x, &spec).gain_db;
    let settings = chain.limiter.settings(-1.0);
    let gain = lathe::dsp::db_to_gain(gain_db) as f32;
    g.bench_function("default_chain_one_pass", |b| {
        b.iter(|| {
            let mut y = Stereo::from_channels(x.clone());
            chain.pre_gain(RATE, &mut y);
            let mut y = y.into_channels();
            y.iter_mut().flatten().for_each(|s| *s *= gain);
            limiter::process(&settings, RATE, &mut y);
            black_box(y.iter().map(|c| quantize(c, 24, DitherKind::Tpdf, 1)).collect::<Vec<_>>())
        })
    });
    g.bench_function("default_chain_render_to_minus_14", |b| {
        b.iter(|| black_box(render_once(&x, &spec).passes))
    });
    g.finish();
}

criterion_group!(benches, stages, chain);
criterion_main!(benches);
