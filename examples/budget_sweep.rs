//! How the limiting budget's defaults were chosen: for each premaster, the
//! default chain pushed into the limiter at rising gain, and what that does
//! to the music: loudness reached, loudness range lost, peak and sustained
//! gain reduction (`dsp::limiter::sustained_gain_reduction_db`).
//!
//! ```sh
//! cargo run --release --example budget_sweep -- premaster.wav ...
//! ```

use std::path::Path;

use lathe::dsp::limiter::{self, LimiterSettings};
use lathe::dsp::loudness::BlockEnergies;

const RATE: u32 = 44100;

fn energies(x: &[Vec<f32>]) -> BlockEnergies {
    let mut e = BlockEnergies::new(x.len(), RATE);
    e.feed(&x.iter().map(|c| c.as_slice()).collect::<Vec<_>>());
    e
}

fn main() -> Result<(), lathe::Error> {
    for path in std::env::args().skip(1) {
        let (audio, _) = lathe::audio::decode::decode(Path::new(&path))?;
        let rate = audio.sample_rate;
        let pair = audio.into_stereo();
        let mut x = lathe::dsp::Stereo::from_channels(lathe::audio::resample::resample(&pair, rate, RATE)?);
        lathe::dsp::chain::Chain::default().pre_gain(RATE, &mut x);
        let x = x.into_channels();
        let before = energies(&x);
        let (pre_lufs, pre_lra) = (before.integrated(), before.lra());
        let lim = LimiterSettings::default();
        let env = limiter::peak_envelope(&x.iter().map(|c| c.as_slice()).collect::<Vec<_>>(), 1e-6);
        println!("# {path}: {pre_lufs:.1} LUFS, LRA {pre_lra:.1} LU");
        println!("{:>6} {:>7} {:>8} {:>8} {:>9}", "gain", "LUFS", "LRA lost", "peak GR", "sustained");
        let mut y = vec![vec![0f32; x[0].len()]; 2];
        for step in 0..=12 {
            let gain = -20.0 + 1.5 * step as f64 - pre_lufs;
            let curve = limiter::gain_curve_db(&lim, RATE, &env, gain);
            let stats = limiter::apply_curve_from(&x, gain, &curve, RATE, &mut y);
            let after = energies(&y);
            println!(
                "{gain:>+6.1} {:>7.2} {:>8.2} {:>8.1} {:>9.2}",
                after.integrated(),
                pre_lra - after.lra(),
                stats.max_gain_reduction_db,
                stats.sustained_gain_reduction_db
            );
        }
    }
    Ok(())
}
