//! The precision of the numbers modelgate writes into the registry.
//!
//! Every number a command stores — metrics and bias numbers (`register`, `import`), and the drift
//! job's results — is rounded to [`SIGNIFICANT_DIGITS`] significant digits by [`stored`], and
//! written as YAML by [`yaml`]. Gates compare the numbers as stored, never a recomputation; a
//! difference shown between two stored numbers is [`difference`], computed from the stored
//! values and rounded by the same rule (so `0.8909 − 0.8467` is `0.0442`).

/// Significant digits of every stored number.
pub const SIGNIFICANT_DIGITS: usize = 6;

/// `x` rounded to [`SIGNIFICANT_DIGITS`] significant digits (the nearest `f64` to the decimal
/// with that many digits). Zero, NaN and ±inf are returned as they are.
pub fn stored(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{:.*e}", SIGNIFICANT_DIGITS - 1, x)
        .parse()
        .unwrap_or(x)
}

/// `a − b` of two stored numbers, rounded as a stored number is: no floating-point noise
/// (`0.04419999999999996`) in what a report shows.
pub fn difference(a: f64, b: f64) -> f64 {
    stored(stored(a) - stored(b))
}

/// A number as the registry's YAML writes it: [`stored`], shortest text that reads back to the
/// same value, always with a decimal point or exponent (`1.0`, `0.8909`, `1.18e-73`), and
/// `.nan`, `.inf`, `-.inf` for the non-finite.
pub fn yaml(x: f64) -> String {
    crate::yaml::write::float(stored(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_significant_digits() {
        assert_eq!(stored(0.18058957335166972), 0.18059);
        assert_eq!(stored(0.8909), 0.8909);
        assert_eq!(stored(123456789.0), 123457000.0);
        assert_eq!(stored(1.1834e-73), 1.1834e-73);
        assert_eq!(stored(-0.0123456789), -0.0123457);
        assert_eq!(stored(0.0), 0.0);
        assert!(stored(f64::NAN).is_nan());
        assert_eq!(yaml(0.18058957335166972), "0.18059");
        assert_eq!(yaml(1.0), "1.0");
        assert_eq!(yaml(2e-7), "2e-7");
        assert_eq!(yaml(1.18345678e-73), "1.18346e-73");
        assert_eq!(yaml(f64::NEG_INFINITY), "-.inf");
        assert_eq!(difference(0.8909, 0.8467), 0.0442);
        assert_eq!(format!("{}", difference(0.8909, 0.8467)), "0.0442");
        // A stored number stays as it is.
        for x in [0.8909, 0.18059, 7.276, 1e-6, 0.0442] {
            assert_eq!(stored(stored(x)), stored(x));
            assert_eq!(yaml(x).parse::<f64>().unwrap(), stored(x));
        }
    }
}
