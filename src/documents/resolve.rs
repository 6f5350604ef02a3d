//! YAML 1.1 scalar resolution as go-yaml v2 (`resolve.go`, `decode.go`) performs it when
//! `sigs.k8s.io/yaml` decodes into `interface{}`, and the key stringification that
//! `sigs.k8s.io/yaml` applies afterwards.

use granit_parser::{ScalarStyle, Tag};

use super::Value;

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// The core tags go-yaml v2 knows how to resolve; every other tag leaves the text a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
}

impl Kind {
    fn short_tag(self) -> &'static str {
        match self {
            Kind::Str => "!!str",
            Kind::Bool => "!!bool",
            Kind::Int => "!!int",
            Kind::Float => "!!float",
            Kind::Null => "!!null",
            Kind::Timestamp => "!!timestamp",
        }
    }
}

/// What an explicit tag asks for.
enum Wanted {
    Untagged,
    Core(Kind),
    Binary,
    /// A tag go-yaml cannot resolve (`!`, `!local`, `!!map`, a URI): the text stays a string.
    Opaque,
}

fn wanted(tag: Option<&Tag>) -> Wanted {
    let Some(tag) = tag else {
        return Wanted::Untagged;
    };
    match tag.suffix_in_namespace(CORE_PREFIX).as_deref() {
        Some("str") => Wanted::Core(Kind::Str),
        Some("bool") => Wanted::Core(Kind::Bool),
        Some("int") => Wanted::Core(Kind::Int),
        Some("float") => Wanted::Core(Kind::Float),
        Some("null") => Wanted::Core(Kind::Null),
        Some("timestamp") => Wanted::Core(Kind::Timestamp),
        Some("binary") => Wanted::Binary,
        _ => Wanted::Opaque,
    }
}

/// Resolve one scalar event. `Err` carries a message in go-yaml's words.
pub(crate) fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Value, String> {
    match wanted(tag) {
        // go-yaml only resolves untagged scalars when they are plain ("implicit").
        Wanted::Untagged if style == ScalarStyle::Plain => Ok(resolve_untagged(text, true).1),
        Wanted::Untagged | Wanted::Opaque => Ok(Value::String(text.to_owned())),
        Wanted::Binary => decode_base64(text)
            .map(|bytes| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            .ok_or_else(|| "!!binary value contains invalid base64 data".to_owned()),
        Wanted::Core(kind) => resolve_tagged(text, kind),
    }
}

/// Whether a key is a merge key: go-yaml's `isMerge` wants a plain untagged `<<` or `!!merge`.
pub(crate) fn is_merge_key(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> bool {
    text == "<<"
        && match tag {
            None => style == ScalarStyle::Plain,
            Some(tag) => tag.suffix_in_namespace(CORE_PREFIX).as_deref() == Some("merge"),
        }
}

fn resolve_tagged(text: &str, kind: Kind) -> Result<Value, String> {
    if kind == Kind::Str {
        return Ok(Value::String(text.to_owned()));
    }
    let (resolved, value) = resolve_untagged(text, kind == Kind::Timestamp);
    match (kind, resolved, value) {
        (wanted, resolved, value) if wanted == resolved => Ok(value),
        // go-yaml's deferred check lets `!!float` widen signed ints (but not uint64).
        (Kind::Float, Kind::Int, Value::Int(int)) => Ok(Value::Float(int as f64)),
        (wanted, resolved, _) => Err(format!(
            "cannot decode {} `{}` as a {}",
            resolved.short_tag(),
            text,
            wanted.short_tag()
        )),
    }
}

/// go-yaml v2's `resolve` for an untagged or core-tagged plain value. Timestamps resolve to the
/// text as written: decoding into `interface{}` keeps them strings "for backward compatibility".
fn resolve_untagged(text: &str, try_timestamp: bool) -> (Kind, Value) {
    let string = || (Kind::Str, Value::String(text.to_owned()));
    // The first byte is go-yaml's hint of what the scalar could be.
    let hint = text.as_bytes().first().copied();
    let hinted = match hint {
        None => true,
        Some(b'+' | b'-' | b'0'..=b'9' | b'.') => true,
        Some(byte) => b"yYnNtTfFoO~".contains(&byte),
    };
    if !hinted {
        return string();
    }
    if let Some(found) = lookup(text) {
        return found;
    }
    match hint {
        Some(b'.') => match parse_float(text) {
            Some(float) => (Kind::Float, Value::Float(float)),
            None => string(),
        },
        Some(b'+' | b'-' | b'0'..=b'9') => {
            if try_timestamp && is_timestamp(text) {
                return (Kind::Timestamp, Value::String(text.to_owned()));
            }
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(int) = parse_go_int(&plain) {
                return (Kind::Int, Value::Int(int));
            }
            if let Some(uint) = parse_go_uint(&plain) {
                return (Kind::Int, Value::UInt(uint));
            }
            if is_yaml_style_float(&plain)
                && let Some(float) = parse_float(&plain)
            {
                return (Kind::Float, Value::Float(float));
            }
            string()
        }
        _ => string(),
    }
}

fn lookup(text: &str) -> Option<(Kind, Value)> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            (Kind::Bool, Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            (Kind::Bool, Value::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => (Kind::Null, Value::Null),
        ".nan" | ".NaN" | ".NAN" => (Kind::Float, Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            (Kind::Float, Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => (Kind::Float, Value::Float(f64::NEG_INFINITY)),
        _ => return None,
    })
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal syntax that reaches it here: overflow is an
/// error in Go (Rust would return infinity), underflow is not.
fn parse_float(text: &str) -> Option<f64> {
    // Rust also accepts "inf"/"nan" spellings; Go's callers here never pass those because the
    // hint or the regex has already required a digit or a dot.
    if text
        .bytes()
        .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E'))
    {
        return None;
    }
    text.parse::<f64>().ok().filter(|float| float.is_finite())
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let magnitude = parse_go_uint(digits)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: `0x`, `0o`, `0b` prefixes, and a bare leading `0` means
/// octal. No sign is accepted.
fn parse_go_uint(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let (radix, digits) = match bytes {
        [] => return None,
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'x') => (16, &text[2..]),
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'o') => (8, &text[2..]),
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'b') => (2, &text[2..]),
        [b'0', ..] => (8, &text[1..]),
        _ => (10, text),
    };
    // `from_str_radix` would accept a sign; Go does not after the prefix.
    if !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    if digits.is_empty() {
        // Only "0" gets here (its prefix consumed the only digit); "0x" alone is rejected above
        // because the `x` is not an octal digit.
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml v2's `parseTimestamp`: Go's `time.Parse` with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`), `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`.
fn is_timestamp(text: &str) -> bool {
    let mut cursor = Cursor(text.as_bytes());
    let Some(year) = cursor.fixed_digits(4) else {
        return false;
    };
    let date = cursor.literal(b'-')
        && cursor.number().is_some_and(|month| {
            cursor.literal(b'-')
                && cursor.number().is_some_and(|day| {
                    (1..=12).contains(&month) && day >= 1 && day <= days_in(month, year)
                })
        });
    if !date {
        return false;
    }
    if cursor.is_empty() {
        return true;
    }
    let zoned = match cursor.next() {
        Some(b'T' | b't') => true,
        Some(b' ') => false,
        _ => return false,
    };
    let time = cursor.number().is_some_and(|hour| hour < 24)
        && cursor.literal(b':')
        && cursor.number().is_some_and(|minute| minute < 60)
        && cursor.literal(b':')
        && cursor.number().is_some_and(|second| second < 60);
    if !time {
        return false;
    }
    if matches!(cursor.peek(), Some(b'.' | b',')) && cursor.0.get(1).is_some_and(u8::is_ascii_digit)
    {
        cursor.next();
        while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
            cursor.next();
        }
    }
    if !zoned {
        return cursor.is_empty();
    }
    match cursor.next() {
        Some(b'Z') => cursor.is_empty(),
        Some(b'+' | b'-') => {
            cursor.fixed_digits(2).is_some_and(|hours| hours <= 24)
                && cursor.literal(b':')
                && cursor.fixed_digits(2).is_some_and(|minutes| minutes <= 60)
                && cursor.is_empty()
        }
        _ => false,
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn literal(&mut self, expected: u8) -> bool {
        self.peek() == Some(expected) && self.next().is_some()
    }

    fn fixed_digits(&mut self, count: usize) -> Option<u32> {
        let digits = self.0.get(..count)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[count..];
        Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    /// Go's `getnum(s, false)`: one or two digits.
    fn number(&mut self) -> Option<u32> {
        let two = self.0.get(1).is_some_and(u8::is_ascii_digit);
        self.fixed_digits(if two { 2 } else { 1 })
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padded, line breaks ignored, lenient trailing bits.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn sextet(byte: u8) -> Option<u32> {
        Some(u32::from(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let input: Vec<u8> = text.bytes().filter(|&b| b != b'\r' && b != b'\n').collect();
    if !input.len().is_multiple_of(4) {
        return None;
    }
    let mut output = Vec::with_capacity(input.len() / 4 * 3);
    let quanta = input.len() / 4;
    for (index, quantum) in input.chunks_exact(4).enumerate() {
        let padding = quantum.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != quanta) {
            return None;
        }
        let mut bits = 0u32;
        for &byte in &quantum[..4 - padding] {
            bits = (bits << 6) | sextet(byte)?;
        }
        bits <<= 6 * padding;
        let bytes = bits.to_be_bytes();
        output.extend_from_slice(&bytes[1..4 - padding]);
    }
    Some(output)
}

/// The JSON object key `sigs.k8s.io/yaml` makes of a resolved key. `Err` for the key types it
/// rejects ("Unsupported map key of type ...").
pub(crate) fn key_string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Int(int) => Ok(int.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Float(float) => Ok(format_go_float32(*float)),
        Value::Null => Err("a null mapping key cannot become a JSON object key".to_owned()),
        Value::UInt(uint) => Err(format!(
            "mapping key {uint} (an unsigned 64-bit integer) cannot become a JSON object key"
        )),
        Value::Sequence(_) | Value::Mapping(_) => Err("mapping keys must be scalars".to_owned()),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` with go-yaml's names for the special values.
fn format_go_float32(float: f64) -> String {
    // Narrowing to f32 is what FormatFloat's bitSize 32 does.
    let narrow = float as f32;
    if narrow.is_nan() {
        return ".nan".to_owned();
    }
    if narrow.is_infinite() {
        return if narrow > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    let sign = if narrow.is_sign_negative() { "-" } else { "" };
    if narrow == 0.0 {
        return format!("{sign}0");
    }
    // Rust's `{:e}` prints the shortest round-tripping digits, as Go's shortest mode does.
    let scientific = format!("{:e}", narrow.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{fraction}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    let point = exponent + 1;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if digits.len() <= point {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Value {
        resolve_untagged(text, true).1
    }

    #[test]
    fn plain_scalars_resolve_like_go_yaml_v2() {
        let cases: &[(&str, Value)] = &[
            ("", Value::Null),
            ("~", Value::Null),
            ("null", Value::Null),
            ("NULL", Value::Null),
            ("nULL", Value::String("nULL".into())),
            ("y", Value::Bool(true)),
            ("Yes", Value::Bool(true)),
            ("on", Value::Bool(true)),
            ("ON", Value::Bool(true)),
            ("n", Value::Bool(false)),
            ("off", Value::Bool(false)),
            ("False", Value::Bool(false)),
            ("oN", Value::String("oN".into())),
            ("0644", Value::Int(420)),
            ("0x1F", Value::Int(31)),
            ("0X1f", Value::Int(31)),
            ("-0x1F", Value::Int(-31)),
            ("0o17", Value::Int(15)),
            ("0b101", Value::Int(5)),
            ("-0b101", Value::Int(-5)),
            ("1_000", Value::Int(1000)),
            ("+12", Value::Int(12)),
            ("0", Value::Int(0)),
            ("-0", Value::Int(0)),
            ("09", Value::Float(9.0)),
            ("0x", Value::String("0x".into())),
            ("9223372036854775807", Value::Int(i64::MAX)),
            ("-9223372036854775808", Value::Int(i64::MIN)),
            (
                "9223372036854775808",
                Value::UInt(9_223_372_036_854_775_808),
            ),
            ("18446744073709551615", Value::UInt(u64::MAX)),
            (
                "18446744073709551616",
                Value::Float(18_446_744_073_709_551_616.0),
            ),
            (
                "+18446744073709551615",
                Value::Float(18_446_744_073_709_551_615.0),
            ),
            (
                "0xFFFFFFFFFFFFFFFFF",
                Value::String("0xFFFFFFFFFFFFFFFFF".into()),
            ),
            ("1.5", Value::Float(1.5)),
            ("1.", Value::Float(1.0)),
            (".5", Value::Float(0.5)),
            ("-.5", Value::Float(-0.5)),
            ("1e3", Value::Float(1000.0)),
            ("1.5E-2", Value::Float(0.015)),
            ("1_0.5", Value::Float(10.5)),
            ("1e400", Value::String("1e400".into())),
            (".", Value::String(".".into())),
            ("._5", Value::String("._5".into())),
            ("-", Value::String("-".into())),
            ("1.2.3", Value::String("1.2.3".into())),
            ("1:30", Value::String("1:30".into())),
            ("2001-12-14", Value::String("2001-12-14".into())),
            (
                "2001-12-14T21:59:43.10Z",
                Value::String("2001-12-14T21:59:43.10Z".into()),
            ),
            ("<<", Value::String("<<".into())),
            ("inf", Value::String("inf".into())),
            ("+inf", Value::String("+inf".into())),
            ("1_", Value::Int(1)),
            ("é", Value::String("é".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(&plain(text), expected, "{text:?}");
        }
        assert!(matches!(plain(".nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(plain(".Inf"), Value::Float(f64::INFINITY));
        assert_eq!(plain("+.INF"), Value::Float(f64::INFINITY));
        assert_eq!(plain("-.inf"), Value::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn timestamps_follow_go_time_parse_layouts() {
        for good in [
            "2001-12-14",
            "2001-1-2",
            "2000-02-29",
            "2001-12-14T21:59:43.10Z",
            "2001-12-14t21:59:43Z",
            "2001-12-14T21:59:43.1-05:00",
            "2001-12-14 21:59:43.10",
            "2001-12-14 1:2:3",
        ] {
            assert!(is_timestamp(good), "{good}");
        }
        for bad in [
            "2001-13-14",
            "2001-02-30",
            "1900-02-29",
            "20011-12-14",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59:43",
            "2001-12-14T24:00:00Z",
            "2001-12-14x",
        ] {
            assert!(!is_timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn core_tags_resolve_or_fail_like_go_yaml() {
        let tag = |suffix: &str| Tag::new(CORE_PREFIX, suffix);
        let resolve = |text: &str, suffix: &str| {
            resolve_scalar(text, ScalarStyle::DoubleQuoted, Some(&tag(suffix)))
        };
        assert_eq!(resolve("12", "int"), Ok(Value::Int(12)));
        assert_eq!(resolve("0x1F", "int"), Ok(Value::Int(31)));
        assert_eq!(resolve("12", "float"), Ok(Value::Float(12.0)));
        assert_eq!(resolve("12", "str"), Ok(Value::String("12".into())));
        assert_eq!(resolve("yes", "bool"), Ok(Value::Bool(true)));
        assert_eq!(resolve("~", "null"), Ok(Value::Null));
        assert_eq!(resolve("", "null"), Ok(Value::Null));
        assert_eq!(
            resolve("2001-12-14", "timestamp"),
            Ok(Value::String("2001-12-14".into()))
        );
        assert_eq!(
            resolve("1.5", "int"),
            Err("cannot decode !!float `1.5` as a !!int".into())
        );
        assert_eq!(
            resolve("abc", "bool"),
            Err("cannot decode !!str `abc` as a !!bool".into())
        );
        assert_eq!(
            resolve("18446744073709551615", "float"),
            Err("cannot decode !!int `18446744073709551615` as a !!float".into())
        );
        assert_eq!(
            resolve("aGVsbG8=", "binary"),
            Ok(Value::String("hello".into()))
        );
        assert_eq!(
            resolve("aGVs\nbG8h", "binary"),
            Ok(Value::String("hello!".into()))
        );
        assert!(resolve("aGVsbG8", "binary").is_err());
        assert!(resolve("aG=sbG8=", "binary").is_err());
        // Tags go-yaml cannot resolve leave the text a string, as does the non-specific `!`.
        let local = Tag::new("!", "thing");
        assert_eq!(
            resolve_scalar("12", ScalarStyle::Plain, Some(&local)),
            Ok(Value::String("12".into()))
        );
        let non_specific = Tag::new("", "!");
        assert_eq!(
            resolve_scalar("yes", ScalarStyle::Plain, Some(&non_specific)),
            Ok(Value::String("yes".into()))
        );
        assert_eq!(
            resolve_scalar("yes", ScalarStyle::Literal, None),
            Ok(Value::String("yes".into()))
        );
    }

    #[test]
    fn keys_are_stringified_like_sigs_k8s_io_yaml() {
        assert_eq!(key_string(&Value::Int(-3)).as_deref(), Ok("-3"));
        assert_eq!(key_string(&Value::Bool(true)).as_deref(), Ok("true"));
        for (float, text) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0"),
            (std::f64::consts::PI, "3.1415927"),
            (1e300, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ] {
            assert_eq!(
                key_string(&Value::Float(float)).as_deref(),
                Ok(text),
                "{float}"
            );
        }
        assert!(key_string(&Value::Null).is_err());
        assert!(key_string(&Value::UInt(u64::MAX)).is_err());
        assert!(key_string(&Value::Sequence(Vec::new())).is_err());
    }
}
