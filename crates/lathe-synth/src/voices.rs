//! The voices: a noise source, drums, a saw-wave bass and pads, a lead, and
//! the stereo stem they are mixed into.

use std::f64::consts::PI;

/// SplitMix64, seeded per song: the same notes and noise on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = self.0;
        let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-0.5, 0.5).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) - 0.5
    }
}

pub(crate) fn midi_hz(n: f64) -> f64 {
    440.0 * libm::pow(2f64, (n - 69.0) / 12.0)
}

pub(crate) struct Stem {
    pub(crate) l: Vec<f32>,
    pub(crate) r: Vec<f32>,
}

impl Stem {
    pub(crate) fn new(n: usize) -> Self {
        Stem { l: vec![0.0; n], r: vec![0.0; n] }
    }
    /// Adds a mono voice at `start` with constant-power pan (-1..1).
    pub(crate) fn add(&mut self, start: usize, voice: &[f64], gain: f64, pan: f64) {
        let a = (pan + 1.0) * PI / 4.0;
        let (gl, gr) = (libm::cos(a) * gain, libm::sin(a) * gain);
        for (i, v) in voice.iter().enumerate() {
            let j = start + i;
            if j >= self.l.len() {
                break;
            }
            self.l[j] += (v * gl) as f32;
            self.r[j] += (v * gr) as f32;
        }
    }
}

/// Recorded drums pass through converters that filter above 20 kHz, so every
/// noise source and click here is band-limited: nothing piles up at Nyquist,
/// where no real premaster has energy.
pub(crate) fn kick(rate: f64, accent: f64) -> Vec<f64> {
    let n = (0.35 * rate) as usize;
    let click_s = 0.002;
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let f = 45.0 + 110.0 * libm::exp(-t * 30.0);
            phase += 2.0 * PI * f / rate;
            // The beater's click: a 2 ms raised-cosine pulse, not a step.
            let click = if t < click_s {
                0.4 * accent * (0.5 - 0.5 * libm::cos(2.0 * PI * t / click_s))
            } else {
                0.0
            };
            (libm::sin(phase) + click) * libm::exp(-t * 7.0)
        })
        .collect()
}

pub(crate) fn snare(rate: f64, rng: &mut Rng) -> Vec<f64> {
    let n = (0.25 * rate) as usize;
    let hp = 1.0 - libm::exp(-2.0 * PI * 1500.0 / rate);
    let lp = 1.0 - libm::exp(-2.0 * PI * 9000.0 / rate);
    let (mut low, mut s1, mut s2) = (0.0, 0.0, 0.0);
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let noise = rng.uniform() * 2.0;
            low += hp * (noise - low);
            s1 += lp * ((noise - low) - s1);
            s2 += lp * (s1 - s2);
            let body = libm::sin(2.0 * PI * 185.0 * t) * libm::exp(-t * 25.0);
            s2 * 1.2 * libm::exp(-t * 14.0) + 0.5 * body
        })
        .collect()
}

/// Noise band-passed to where cymbals live (a first-difference high-pass, then
/// a two-pole low-pass near 12 kHz): bright, but rolling off above 15 kHz as
/// recorded cymbals do, not peaking at Nyquist as raw differenced noise would.
pub(crate) fn hat(rate: f64, rng: &mut Rng, open: bool) -> Vec<f64> {
    let n = ((if open { 0.2 } else { 0.05 }) * rate) as usize;
    let decay = if open { 18.0 } else { 70.0 };
    let coef = 1.0 - libm::exp(-2.0 * PI * 12000.0 / rate);
    let (mut prev, mut lp1, mut lp2) = (0.0, 0.0, 0.0);
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let x = rng.uniform() * 2.0;
            let hp = x - prev;
            prev = x;
            lp1 += coef * (hp - lp1);
            lp2 += coef * (lp1 - lp2);
            lp2 * 0.5 * libm::exp(-t * decay)
        })
        .collect()
}

/// A band-limited-ish saw (a few harmonics) with an envelope and a one-pole low-pass.
pub(crate) fn saw_note(
    rate: f64,
    hz: f64,
    seconds: f64,
    harmonics: usize,
    cutoff_hz: f64,
    attack_s: f64,
) -> Vec<f64> {
    let n = (seconds * rate) as usize;
    let max_h = ((rate / 2.0 * 0.9) / hz).floor().max(1.0) as usize;
    let h = harmonics.min(max_h);
    let coef = 1.0 - libm::exp(-2.0 * PI * cutoff_hz / rate);
    let mut lp = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            // sin(kθ) by the Chebyshev recurrence from sin θ and cos θ: two
            // calls per sample instead of one per harmonic.
            let theta = 2.0 * PI * hz * t;
            let (sin1, cos1) = (libm::sin(theta), libm::cos(theta));
            let (mut prev, mut cur) = (0.0, sin1);
            let mut s = 0.0;
            for k in 1..=h {
                s += cur / k as f64;
                (prev, cur) = (cur, 2.0 * cos1 * cur - prev);
            }
            lp += coef * (s - lp);
            let env = (t / attack_s).min(1.0) * libm::pow((1.0 - (t / seconds)).max(0.0), 0.3);
            lp * env
        })
        .collect()
}

/// A soft lead: a band-limited triangle (odd harmonics under 18 kHz) with vibrato.
pub(crate) fn lead_note(rate: f64, hz: f64, seconds: f64) -> Vec<f64> {
    let n = (seconds * rate) as usize;
    let harmonics: Vec<f64> =
        (0..8).map(|k| (2 * k + 1) as f64).filter(|h| h * hz * 1.01 < 18000.0).collect();
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let vib = 1.0 + 0.004 * libm::sin(2.0 * PI * 5.5 * t) * (t * 3.0).min(1.0);
            phase += 2.0 * PI * hz * vib / rate;
            // sin(hφ) for odd h by the recurrence in steps of 2φ.
            let (sin1, cos1) = (libm::sin(phase), libm::cos(phase));
            let cos2 = 2.0 * cos1 * cos1 - 1.0;
            let (mut prev, mut cur) = (-sin1, sin1); // sin(-φ), sin(φ)
            let mut tri = 0.0;
            for (k, h) in harmonics.iter().enumerate() {
                tri += if k % 2 == 0 { 1.0 } else { -1.0 } * cur / (h * h);
                (prev, cur) = (cur, 2.0 * cos2 * cur - prev);
            }
            let tri = tri * 8.0 / (PI * PI);
            let env = (t / 0.01).min(1.0) * libm::exp(-t * 1.5);
            (0.7 * tri + 0.3 * 2.0 * sin1 * cos1) * env
        })
        .collect()
}
