//! Kubernetes quantities (`cpu: 1`, `memory: 1.5`) as the API server writes them.
//!
//! `resource.Quantity` accepts a JSON number as well as a string, but it always marshals to a
//! string in its canonical form, so a webhook never sees `cpu: 1` as the number 1. Policies
//! written in Go decode requests into typed structs and reject a number there, so admit writes
//! a number at a quantity field the way the cluster would.
//!
//! The canonical form, from `k8s.io/apimachinery/pkg/api/resource` (`quantity.go`,
//! `amount.go`: `int64Amount.AsCanonicalBytes`, `suffix.go`): a number has the decimal SI
//! format; its trailing zeros are removed into the exponent, which is then lowered to a
//! multiple of three; the exponent becomes a suffix (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`,
//! `P`, `E`), or `e<exp>` past them. Precision below a nano unit is rounded up, as
//! `ParseQuantity` does.

use crate::documents::Value;

/// The string the API server writes for a quantity given as the number `value`, or `None` when
/// `value` is not a number.
pub fn canonical(value: &Value) -> Option<String> {
    let (negative, digits, exponent) = match value {
        Value::Int(int) => (*int < 0, int.unsigned_abs().to_string(), 0),
        Value::UInt(uint) => (false, uint.to_string(), 0),
        Value::Float(float) if float.is_finite() => float_digits(*float),
        _ => return None,
    };
    Some(format_decimal_si(negative, digits, exponent))
}

/// The shortest decimal digits of `float` that read back as it (what both Go's and Rust's
/// float formatting print), and the power of ten of the last digit.
fn float_digits(float: f64) -> (bool, String, i32) {
    // `{:e}` prints the shortest round-trip digits as `d.ddde±x`.
    let scientific = format!("{:e}", float.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let fraction_len = i32::try_from(fraction.len()).unwrap_or(0);
    (float < 0.0, digits, exponent - fraction_len)
}

/// `digits × 10^exponent` in canonical decimal SI form.
fn format_decimal_si(negative: bool, digits: String, exponent: i32) -> String {
    let mut digits = digits.trim_start_matches('0').to_string();
    if digits.is_empty() {
        return "0".to_string();
    }
    let mut exponent = exponent;
    // `ParseQuantity` keeps nothing finer than a nano unit: it rounds up, away from zero.
    if exponent < -9 {
        let keep = digits.len().saturating_sub((-9 - exponent) as usize);
        let dropped_nonzero = digits[keep..].bytes().any(|digit| digit != b'0');
        digits.truncate(keep);
        if digits.is_empty() {
            digits.push('0');
        }
        if dropped_nonzero {
            digits = increment(&digits);
        }
        exponent = -9;
        digits = digits.trim_start_matches('0').to_string();
        if digits.is_empty() {
            return "0".to_string();
        }
    }
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        exponent += 1;
    }
    let lower = exponent.rem_euclid(3);
    digits.extend(std::iter::repeat_n('0', lower as usize));
    exponent -= lower;
    let suffix = match exponent {
        -9 => "n".to_string(),
        -6 => "u".to_string(),
        -3 => "m".to_string(),
        0 => String::new(),
        3 => "k".to_string(),
        6 => "M".to_string(),
        9 => "G".to_string(),
        12 => "T".to_string(),
        15 => "P".to_string(),
        18 => "E".to_string(),
        other => format!("e{other}"),
    };
    let sign = if negative { "-" } else { "" };
    format!("{sign}{digits}{suffix}")
}

/// `digits + 1`, for decimal digits.
fn increment(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    format!("1{}", String::from_utf8_lossy(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(value: i64) -> String {
        canonical(&Value::Int(value)).unwrap_or_default()
    }

    fn float(value: f64) -> String {
        canonical(&Value::Float(value)).unwrap_or_default()
    }

    /// Expected strings are what `resource.MustParse(text).String()` gives for the number's
    /// JSON text (apimachinery's `quantity_test.go` table lists the same canonical forms).
    #[test]
    fn numbers_become_canonical_decimal_si_strings() {
        assert_eq!(int(1), "1");
        assert_eq!(int(0), "0");
        assert_eq!(int(2), "2");
        assert_eq!(int(100), "100");
        assert_eq!(int(1000), "1k");
        assert_eq!(int(1500), "1500");
        assert_eq!(int(100_000), "100k");
        assert_eq!(int(1_000_000_000), "1G");
        assert_eq!(int(1_073_741_824), "1073741824");
        assert_eq!(int(-2000), "-2k");
        assert_eq!(int(5_000_000_000_000_000_000), "5E");
        assert_eq!(float(0.5), "500m");
        assert_eq!(float(1.5), "1500m");
        assert_eq!(float(0.1), "100m");
        assert_eq!(float(0.25), "250m");
        assert_eq!(float(2.0), "2");
        assert_eq!(float(0.001), "1m");
        assert_eq!(float(0.0001), "100u");
        assert_eq!(float(1e-9), "1n");
        assert_eq!(float(1e21), "1e21");
        assert_eq!(float(-0.5), "-500m");
    }

    #[test]
    fn below_a_nano_unit_rounds_up() {
        assert_eq!(float(1e-10), "1n");
        assert_eq!(float(1.5e-9), "2n");
        assert_eq!(float(0.0000000011), "2n");
    }

    #[test]
    fn non_numbers_are_left_alone() {
        assert_eq!(canonical(&Value::String("1".into())), None);
        assert_eq!(canonical(&Value::Bool(true)), None);
        assert_eq!(canonical(&Value::Null), None);
    }
}
