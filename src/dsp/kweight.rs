//! The K-weighting of ITU-R BS.1770-4 (a +4 dB high shelf, then the "RLB"
//! high-pass), designed for any sample rate from its analog prototype (the
//! design libebur128 uses; at 48 kHz it gives the Recommendation's
//! coefficients), run as two f64 biquads per channel.
//!
//! [`Blocks`] sums the weighted energy in consecutive blocks, so windowed
//! loudness (momentary 400 ms, short-term 3 s) is a sum of block energies
//! instead of a fresh pass over every sample in the window.

use super::biquad::Coefficients;
use crate::dsp::math;

/// The two stages for `sample_rate`.
pub fn coefficients(sample_rate: u32) -> [Coefficients; 2] {
    let rate = sample_rate as f64;
    // Stage 1: the head's high shelf.
    let (f0, g, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = math::tan(std::f64::consts::PI * f0 / rate);
    let vh = math::powf(10f64, g / 20.0);
    let vb = math::powf(vh, 0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Coefficients {
        b0: (vh + vb * k / q + k * k) / a0,
        b1: 2.0 * (k * k - vh) / a0,
        b2: (vh - vb * k / q + k * k) / a0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    // Stage 2: the RLB high-pass.
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = math::tan(std::f64::consts::PI * f0 / rate);
    let a0 = 1.0 + k / q + k * k;
    let highpass = Coefficients {
        b0: 1.0,
        b1: -2.0,
        b2: 1.0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    [shelf, highpass]
}

/// Weighted energy of consecutive blocks, all channels summed with weight 1
/// (left, right, or a single channel, as BS.1770 weights them).
#[derive(Clone)]
pub struct Blocks {
    stages: [Coefficients; 2],
    /// Direct form II transposed state: `[stage][channel] = (s1, s2)`.
    state: Vec<[(f64, f64); 2]>,
}

impl Blocks {
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        Blocks { stages: coefficients(sample_rate), state: vec![[(0.0, 0.0); 2]; channels] }
    }

    /// The sum over channels of the squared K-weighted samples of this block
    /// (every channel the same length).
    pub fn energy(&mut self, channels: &[&[f32]]) -> f64 {
        match (channels, self.state.as_mut_slice()) {
            // A stereo pair runs in one loop: two independent recursions keep the core busy.
            ([l, r], [sl, sr]) => {
                let (el, er) = Self::run2(&self.stages, l, r, sl, sr);
                el + er
            }
            _ => {
                let mut total = 0.0;
                for (x, state) in channels.iter().zip(self.state.iter_mut()) {
                    let mut dummy = *state;
                    total += Self::run2(&self.stages, x, &[], state, &mut dummy).0;
                }
                total
            }
        }
    }

    /// Filters `a` and `b` (`b` may be empty) side by side; returns their energies.
    #[inline(always)]
    fn run2(
        stages: &[Coefficients; 2],
        a: &[f32],
        b: &[f32],
        sa: &mut [(f64, f64); 2],
        sb: &mut [(f64, f64); 2],
    ) -> (f64, f64) {
        let [s, h] = *stages;
        #[inline(always)]
        fn step(s: &Coefficients, h: &Coefficients, v: f32, st: &mut [(f64, f64); 2]) -> f64 {
            let v = v as f64;
            let [(a1, a2), (b1, b2)] = st;
            let y = s.b0 * v + *a1;
            *a1 = s.b1 * v - s.a1 * y + *a2;
            *a2 = s.b2 * v - s.a2 * y;
            let z = h.b0 * y + *b1;
            *b1 = h.b1 * y - h.a1 * z + *b2;
            *b2 = h.b2 * y - h.a2 * z;
            z * z
        }
        let (mut ea, mut eb) = ([0f64; 2], [0f64; 2]);
        if b.len() == a.len() {
            let mut st = [*sa, *sb];
            let [e0, e1] = run_lanes(stages, [a, b], &mut st);
            [*sa, *sb] = st;
            (ea, eb) = (e0, e1);
        } else {
            for (i, &va) in a.iter().enumerate() {
                ea[i & 1] += step(&s, &h, va, sa);
            }
        }
        flush(sa);
        flush(sb);
        (ea[0] + ea[1], eb[0] + eb[1])
    }
}

/// Channels filtered in the lanes of one vector: the same IEEE operations,
/// in the same order, as [`Blocks::run2`]'s one channel at a time (no fused
/// multiply-adds), so the energies are the same bits. Returns each lane's
/// two partial sums (even and odd samples).
#[inline(always)]
fn run_lanes<const L: usize>(
    stages: &[Coefficients; 2],
    x: [&[f32]; L],
    states: &mut [[(f64, f64); 2]; L],
) -> [[f64; 2]; L] {
    let [s, h] = *stages;
    // `st[j][k]`: state variable `j` (s1, s2 of the shelf, then of the high-pass) of lane `k`.
    let mut st = [[0f64; L]; 4];
    for (k, q) in states.iter().enumerate() {
        [st[0][k], st[1][k], st[2][k], st[3][k]] = [q[0].0, q[0].1, q[1].0, q[1].1];
    }
    let mut e = [[0f64; L]; 2];
    let len = x[0].len();
    let step = |v: [f64; L], st: &mut [[f64; L]; 4], acc: &mut [f64; L]| {
        for k in 0..L {
            let y = s.b0 * v[k] + st[0][k];
            st[0][k] = s.b1 * v[k] - s.a1 * y + st[1][k];
            st[1][k] = s.b2 * v[k] - s.a2 * y;
            let z = h.b0 * y + st[2][k];
            st[2][k] = h.b1 * y - h.a1 * z + st[3][k];
            st[3][k] = h.b2 * y - h.a2 * z;
            acc[k] += z * z;
        }
    };
    let mut i = 0;
    while i + 1 < len {
        step(std::array::from_fn(|k| x[k][i] as f64), &mut st, &mut e[0]);
        step(std::array::from_fn(|k| x[k][i + 1] as f64), &mut st, &mut e[1]);
        i += 2;
    }
    if i < len {
        step(std::array::from_fn(|k| x[k][i] as f64), &mut st, &mut e[0]);
    }
    for (k, q) in states.iter_mut().enumerate() {
        *q = [(st[0][k], st[1][k]), (st[2][k], st[3][k])];
    }
    std::array::from_fn(|k| [e[0][k], e[1][k]])
}

/// Two stereo signals' K-weighted energies in one loop (four lanes: AVX
/// where the CPU has it): [`Blocks::energy`] of each, bit for bit.
pub fn energy_pair(p: &mut Blocks, q: &mut Blocks, a: [&[f32]; 2], b: [&[f32]; 2]) -> (f64, f64) {
    assert!(
        p.stages == q.stages && p.state.len() == 2 && q.state.len() == 2,
        "two stereo signals at one rate"
    );
    let mut st = [p.state[0], p.state[1], q.state[0], q.state[1]];
    let e = lanes4(&p.stages, [a[0], a[1], b[0], b[1]], &mut st);
    (p.state[0], p.state[1], q.state[0], q.state[1]) = (st[0], st[1], st[2], st[3]);
    p.state.iter_mut().chain(q.state.iter_mut()).for_each(flush);
    let sum = |k: usize| e[k][0] + e[k][1];
    (sum(0) + sum(1), sum(2) + sum(3))
}

fn lanes4(stages: &[Coefficients; 2], x: [&[f32]; 4], st: &mut [[(f64, f64); 2]; 4]) -> [[f64; 2]; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, checked just above.
            #[allow(unsafe_code)]
            unsafe {
                return lanes4_avx(stages, x, st);
            }
        }
    }
    run_lanes(stages, x, st)
}

/// [`run_lanes`] compiled for AVX: four f64 lanes in one register, the same
/// operations (AVX has no fused multiply-add; FMA is not enabled).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn lanes4_avx(stages: &[Coefficients; 2], x: [&[f32]; 4], st: &mut [[(f64, f64); 2]; 4]) -> [[f64; 2]; 4] {
    run_lanes(stages, x, st)
}

/// Flushes denormal filter state to zero: silence after sound must not slow the filter down.
fn flush(st: &mut [(f64, f64); 2]) {
    for (p, q) in st.iter_mut() {
        for v in [p, q] {
            if v.abs() < 1e-30 {
                *v = 0.0;
            }
        }
    }
}

/// Loudness (LUFS) of a mean weighted energy per frame.
pub fn lufs(mean_energy: f64) -> f64 {
    -0.691 + 10.0 * math::log10(mean_energy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lathe_oracle::sine;

    #[test]
    fn at_48k_the_design_gives_bs1770s_coefficients() {
        // ITU-R BS.1770-4, Tables 1 and 2.
        let [s, h] = coefficients(48000);
        let want_s =
            [1.53512485958697, -2.69169618940638, 1.19839281085285, -1.69065929318241, 0.73248077421585];
        let got_s = [s.b0, s.b1, s.b2, s.a1, s.a2];
        for (g, w) in got_s.iter().zip(want_s) {
            assert!((g - w).abs() < 1e-6, "shelf {got_s:?}");
        }
        let want_h = [1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621];
        let got_h = [h.b0, h.b1, h.b2, h.a1, h.a2];
        for (g, w) in got_h.iter().zip(want_h) {
            assert!((g - w).abs() < 1e-6, "high-pass {got_h:?}");
        }
    }

    #[test]
    fn a_pair_of_signals_in_one_loop_reads_each_bit_for_bit() {
        let x = lathe_synth::render(
            &lathe_synth::Song { seconds: 2.0, ..lathe_synth::sample_album_songs()[1].clone() },
            96000,
        )
        .to_vec();
        let y: Vec<Vec<f32>> = x.iter().map(|c| c.iter().map(|v| 0.5 * v + 0.01).collect()).collect();
        let (mut a, mut b) = (Blocks::new(2, 96000), Blocks::new(2, 96000));
        let (mut p, mut q) = (Blocks::new(2, 96000), Blocks::new(2, 96000));
        for start in (0..x[0].len()).step_by(4801) {
            let end = (start + 4801).min(x[0].len());
            let (xs, ys) = ([&x[0][start..end], &x[1][start..end]], [&y[0][start..end], &y[1][start..end]]);
            let alone = (a.energy(&xs), b.energy(&ys));
            let paired = energy_pair(&mut p, &mut q, xs, ys);
            assert_eq!((alone.0.to_bits(), alone.1.to_bits()), (paired.0.to_bits(), paired.1.to_bits()));
        }
    }

    #[test]
    fn block_energies_read_what_the_ebur128_crate_reads() {
        // Sines across the band: 400 ms windows of block energies against ebur128's momentary loudness.
        for rate in [44100u32, 48000, 96000] {
            for hz in [25.0, 100.0, 1000.0, 4000.0, 15000.0] {
                let x = sine(hz, 0.3, 0.2, 2.0, rate);
                let mut blocks = Blocks::new(2, rate);
                let hop = rate as usize / 10;
                let energies: Vec<f64> = x.chunks(hop).map(|c| blocks.energy(&[c, c])).collect();
                let mine = lufs(energies[16..20].iter().sum::<f64>() / (4 * hop) as f64);
                let mut e = ebur128::EbuR128::new(2, rate, ebur128::Mode::M).unwrap();
                e.add_frames_planar_f32(&[&x[..20 * hop], &x[..20 * hop]]).unwrap();
                let theirs = e.loudness_momentary().unwrap();
                assert!(
                    (mine - theirs).abs() < 0.001,
                    "{rate} Hz, {hz} Hz: {mine:.4} vs ebur128 {theirs:.4}"
                );
            }
        }
    }
}
