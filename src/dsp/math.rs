//! The transcendental functions of lathe's signal path, with the same bits
//! on every machine.
//!
//! `f32::exp` and its kin call the platform's C library, whose results
//! differ in the last bit between implementations (glibc, musl, macOS) and,
//! within glibc, between the FMA and the plain variants it picks per CPU. A
//! last bit in a gain, a filter coefficient or the limiter's gain curve
//! reaches every sample of a master. These functions are one pure Rust
//! implementation instead (the `libm` crate, a port of musl's, pinned by
//! `Cargo.lock`), so a premaster masters to the same bytes on any machine.
//! `sqrt`, `abs`, `floor` and the arithmetic operators are exact in IEEE
//! arithmetic and stay std's.
//!
//! Call them as functions, `math::exp(x)`, for `f32` or `f64`.

/// `f32` or `f64`.
pub trait Real: Copy {
    #[doc(hidden)]
    fn exp_(self) -> Self;
    #[doc(hidden)]
    fn ln_(self) -> Self;
    #[doc(hidden)]
    fn log10_(self) -> Self;
    #[doc(hidden)]
    fn pow_(self, y: Self) -> Self;
    #[doc(hidden)]
    fn sin_(self) -> Self;
    #[doc(hidden)]
    fn cos_(self) -> Self;
    #[doc(hidden)]
    fn tan_(self) -> Self;
}

macro_rules! real {
    ($t:ty, $exp:ident, $ln:ident, $log10:ident, $pow:ident, $sin:ident, $cos:ident, $tan:ident) => {
        impl Real for $t {
            fn exp_(self) -> $t {
                libm::$exp(self)
            }
            fn ln_(self) -> $t {
                libm::$ln(self)
            }
            fn log10_(self) -> $t {
                libm::$log10(self)
            }
            fn pow_(self, y: $t) -> $t {
                libm::$pow(self, y)
            }
            fn sin_(self) -> $t {
                libm::$sin(self)
            }
            fn cos_(self) -> $t {
                libm::$cos(self)
            }
            fn tan_(self) -> $t {
                libm::$tan(self)
            }
        }
    };
}

real!(f32, expf, logf, log10f, powf, sinf, cosf, tanf);
real!(f64, exp, log, log10, pow, sin, cos, tan);

/// e to the `x`.
#[inline]
pub fn exp<T: Real>(x: T) -> T {
    x.exp_()
}

/// The natural logarithm.
#[inline]
pub fn ln<T: Real>(x: T) -> T {
    x.ln_()
}

/// The base-10 logarithm.
#[inline]
pub fn log10<T: Real>(x: T) -> T {
    x.log10_()
}

/// `x` to the power `y`.
#[inline]
pub fn powf<T: Real>(x: T, y: T) -> T {
    x.pow_(y)
}

/// The sine, in radians.
#[inline]
pub fn sin<T: Real>(x: T) -> T {
    x.sin_()
}

/// The cosine, in radians.
#[inline]
pub fn cos<T: Real>(x: T) -> T {
    x.cos_()
}

/// The sine and the cosine, in radians.
#[inline]
pub fn sin_cos<T: Real>(x: T) -> (T, T) {
    (x.sin_(), x.cos_())
}

/// The tangent, in radians.
#[inline]
pub fn tan<T: Real>(x: T) -> T {
    x.tan_()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_platform_to_an_ulp_or_two() {
        let close32 = |a: f32, b: f32| (a - b).abs() <= 2.0 * f32::EPSILON * b.abs().max(f32::MIN_POSITIVE);
        let close64 = |a: f64, b: f64| (a - b).abs() <= 2.0 * f64::EPSILON * b.abs().max(f64::MIN_POSITIVE);
        for i in 1..2000 {
            let x = i as f64 * 0.0137 - 9.0;
            let p = x.abs() + 1e-3;
            assert!(close64(exp(x), x.exp()) && close64(ln(p), p.ln()) && close64(log10(p), p.log10()));
            assert!(close64(powf(10.0, x / 20.0), 10f64.powf(x / 20.0)));
            assert!(close64(sin(x), x.sin()) && close64(cos(x), x.cos()));
            assert!((tan(x) - x.tan()).abs() <= 4.0 * f64::EPSILON * x.tan().abs().max(1.0));
            let y = x as f32;
            let q = p as f32;
            assert!(close32(exp(y), y.exp()) && close32(ln(q), q.ln()) && close32(log10(q), q.log10()));
            assert!(close32(powf(10f32, y / 20.0), 10f32.powf(y / 20.0)));
            assert!(
                (sin(y) - y.sin()).abs() <= 2.0 * f32::EPSILON
                    && (cos(y) - y.cos()).abs() <= 2.0 * f32::EPSILON
            );
        }
    }

    /// Pinned results: a `libm` update that moves a bit, and so every
    /// master, is seen here first.
    #[test]
    fn known_bits() {
        assert_eq!(exp(-1.0f64).to_bits(), 0x3fd7_8b56_362c_ef38);
        assert_eq!(powf(10f64, -0.05).to_bits(), 0x3fec_8520_affa_0a4b);
        assert_eq!(sin(1.0f64).to_bits(), 0x3fea_ed54_8f09_0cee);
        assert_eq!(exp(-1.0f32).to_bits(), 0x3ebc_5ab2);
    }
}
