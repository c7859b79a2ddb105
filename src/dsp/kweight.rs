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
            // The two channels as the two lanes of one vector: the same IEEE
            // operations, in the same order, as one channel at a time.
            let lanes = |st: &[(f64, f64); 2], su: &[(f64, f64); 2]| -> [[f64; 2]; 4] {
                [[st[0].0, su[0].0], [st[0].1, su[0].1], [st[1].0, su[1].0], [st[1].1, su[1].1]]
            };
            let mut st = lanes(sa, sb);
            let mut e = [[0f64; 2]; 2];
            let square_into = |acc: &mut [f64; 2], z: [f64; 2]| {
                acc[0] += z[0] * z[0];
                acc[1] += z[1] * z[1];
            };
            let (pa, pb) = (a.chunks_exact(2), b.chunks_exact(2));
            let (ra, rb) = (pa.remainder(), pb.remainder());
            for (pa, pb) in pa.zip(pb) {
                square_into(&mut e[0], step2(&s, &h, [pa[0] as f64, pb[0] as f64], &mut st));
                square_into(&mut e[1], step2(&s, &h, [pa[1] as f64, pb[1] as f64], &mut st));
            }
            if let (Some(&va), Some(&vb)) = (ra.first(), rb.first()) {
                square_into(&mut e[0], step2(&s, &h, [va as f64, vb as f64], &mut st));
            }
            *sa = [(st[0][0], st[1][0]), (st[2][0], st[3][0])];
            *sb = [(st[0][1], st[1][1]), (st[2][1], st[3][1])];
            (ea, eb) = ([e[0][0], e[1][0]], [e[0][1], e[1][1]]);
        } else {
            for (i, &va) in a.iter().enumerate() {
                ea[i & 1] += step(&s, &h, va, sa);
            }
        }
        // Flush denormals: silence after sound must not slow the filter down.
        let flush = |st: &mut [(f64, f64); 2]| {
            for (p, q) in st.iter_mut() {
                for v in [p, q] {
                    if v.abs() < 1e-30 {
                        *v = 0.0;
                    }
                }
            }
        };
        flush(sa);
        flush(sb);
        (ea[0] + ea[1], eb[0] + eb[1])
    }
}

/// [`Blocks::run2`]'s step for two channels at once, lane by lane; `st` is
/// `[s1, s2]` of the shelf, then of the high-pass, each a pair of lanes.
#[inline(always)]
fn step2(s: &Coefficients, h: &Coefficients, v: [f64; 2], st: &mut [[f64; 2]; 4]) -> [f64; 2] {
    #[inline(always)]
    fn mul(c: f64, x: [f64; 2]) -> [f64; 2] {
        [c * x[0], c * x[1]]
    }
    #[inline(always)]
    fn add(x: [f64; 2], y: [f64; 2]) -> [f64; 2] {
        [x[0] + y[0], x[1] + y[1]]
    }
    #[inline(always)]
    fn sub(x: [f64; 2], y: [f64; 2]) -> [f64; 2] {
        [x[0] - y[0], x[1] - y[1]]
    }
    let y = add(mul(s.b0, v), st[0]);
    st[0] = add(sub(mul(s.b1, v), mul(s.a1, y)), st[1]);
    st[1] = sub(mul(s.b2, v), mul(s.a2, y));
    let z = add(mul(h.b0, y), st[2]);
    st[2] = add(sub(mul(h.b1, y), mul(h.a1, z)), st[3]);
    st[3] = sub(mul(h.b2, y), mul(h.a2, z));
    z
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
