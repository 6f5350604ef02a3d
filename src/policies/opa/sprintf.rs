//! Rego's `sprintf(format, values)`: Go's `fmt.Sprintf`, with the arguments converted the way
//! OPA converts them (`topdown/strings.go`): an integral number is a Go `int` (a `*big.Int`
//! beyond 64 bits), another number a `float64`, a string a `string`, and anything else
//! (booleans, null, arrays, objects) the *string* of its Rego text, so `%v` of `true` prints
//! `true` and `%t` of it prints `%!t(string=true)`, exactly as OPA does.
//!
//! Supported: the verbs `%v %s %q %d %b %o %O %x %X %c %U %e %E %f %F %g %G %t %%`, the flags
//! `+ - # 0 space`, widths and precisions (also `*`), and Go's error texts (`%!d(string=x)`,
//! `%!d(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`). Not supported: argument indexes
//! (`%[1]d`, printed as `%!(BADINDEX)`) and `%x` of floats (printed as a bad verb).

use serde_json::Value;

/// One argument, as OPA hands it to Go's `fmt`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// A Go `int`.
    Int(i64),
    /// A `*big.Int` that still fits 64 unsigned bits (larger JSON integers arrive as floats).
    BigInt(u64),
    /// A Go `float64`.
    Float(f64),
    /// A Go `string`.
    Str(String),
}

impl Arg {
    /// Convert a JSON value as OPA's `sprintf` converts an AST term.
    pub(crate) fn from_json(value: &Value) -> Arg {
        match value {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Arg::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Arg::BigInt(u)
                } else {
                    // `3.0` is a float to OPA too: only integer literals parse as Go ints.
                    Arg::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Arg::Str(s.clone()),
            other => Arg::Str(rego_text(other)),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Arg::Int(_) => "int",
            Arg::BigInt(_) => "*big.Int",
            Arg::Float(_) => "float64",
            Arg::Str(_) => "string",
        }
    }
}

/// A value's Rego text (`ast.Term.String()`): JSON-like, with `", "` between elements and
/// `": "` between a key and its value.
fn rego_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s, false),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(rego_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", go_quote(k, false), rego_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Go's `fmt.Sprintf(format, args...)`.
pub(crate) fn sprintf(format: &str, args: &[Arg]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next_arg = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&f) = chars.peek() {
            match f {
                '+' => spec.plus = true,
                '-' => spec.minus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        // Width.
        if chars.peek() == Some(&'*') {
            chars.next();
            match args.get(next_arg) {
                Some(Arg::Int(w)) => {
                    spec.width = Some(w.unsigned_abs() as usize);
                    spec.minus |= *w < 0;
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            next_arg += 1;
        } else {
            spec.width = digits(&mut chars);
        }
        // Precision.
        if chars.peek() == Some(&'.') {
            chars.next();
            if chars.peek() == Some(&'*') {
                chars.next();
                match args.get(next_arg) {
                    Some(Arg::Int(p)) if *p >= 0 => spec.precision = Some(*p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                next_arg += 1;
            } else {
                spec.precision = Some(digits(&mut chars).unwrap_or(0));
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if verb == '[' {
            // Explicit argument indexes are not supported: skip to the verb.
            for c in chars.by_ref() {
                if c == ']' {
                    break;
                }
            }
            chars.next();
            out.push_str("%!(BADINDEX)");
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        out.push_str(&format_one(&spec, verb, arg));
    }
    if next_arg < args.len() {
        let extra = args[next_arg..]
            .iter()
            .map(|arg| format!("{}={}", arg.type_name(), plain(arg)))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!("%!(EXTRA {extra})"));
    }
    out
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        chars.next();
    }
    n
}

/// Flags, width and precision of one directive.
#[derive(Debug, Default, Clone)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// `%v` of `arg` with no flags: what Go prints inside `%!verb(type=value)`.
fn plain(arg: &Arg) -> String {
    format_one(&Spec::default(), 'v', arg)
}

fn bad_verb(verb: char, arg: &Arg) -> String {
    format!("%!{verb}({}={})", arg.type_name(), plain(arg))
}

fn format_one(spec: &Spec, verb: char, arg: &Arg) -> String {
    match arg {
        Arg::Int(i) => format_int(spec, verb, *i < 0, i.unsigned_abs(), arg),
        Arg::BigInt(u) => format_int(spec, verb, false, *u, arg),
        Arg::Float(f) => format_float(spec, verb, *f, arg),
        Arg::Str(s) => format_str(spec, verb, s, arg),
    }
}

/// Pad `body` (sign and prefix included) to the width: spaces on the left, on the right with
/// `-`, or zeros after the sign and prefix with `0` when `zero_ok`.
fn pad(spec: &Spec, sign_and_prefix: &str, body: &str, zero_ok: bool) -> String {
    let len = sign_and_prefix.chars().count() + body.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return format!("{sign_and_prefix}{body}");
    }
    let fill = width - len;
    if spec.minus {
        format!("{sign_and_prefix}{body}{}", " ".repeat(fill))
    } else if spec.zero && zero_ok {
        format!("{sign_and_prefix}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign_and_prefix}{body}", " ".repeat(fill))
    }
}

fn sign(spec: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_int(spec: &Spec, verb: char, negative: bool, magnitude: u64, arg: &Arg) -> String {
    let (mut digits, prefix) = match verb {
        'v' | 'd' => (magnitude.to_string(), ""),
        'b' => (format!("{magnitude:b}"), if spec.sharp { "0b" } else { "" }),
        'o' => (format!("{magnitude:o}"), if spec.sharp { "0" } else { "" }),
        'O' => (format!("{magnitude:o}"), "0o"),
        'x' => (format!("{magnitude:x}"), if spec.sharp { "0x" } else { "" }),
        'X' => (format!("{magnitude:X}"), if spec.sharp { "0X" } else { "" }),
        'c' => {
            let c = char_of(negative, magnitude);
            return pad(spec, "", &c.to_string(), false);
        }
        'q' => {
            let c = char_of(negative, magnitude);
            return pad(spec, "", &go_quote_char(c, spec.plus), false);
        }
        'U' => {
            let hex = format!("U+{magnitude:04X}");
            let body = if spec.sharp {
                let c = char_of(negative, magnitude);
                format!("{hex} '{c}'")
            } else {
                hex
            };
            return pad(spec, "", &body, false);
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 's' | 't' => return bad_verb(verb, arg),
        _ => return bad_verb(verb, arg),
    };
    // Precision is a minimum number of digits; `%.0d` of 0 prints nothing.
    if let Some(precision) = spec.precision {
        if precision == 0 && magnitude == 0 {
            digits.clear();
        }
        while digits.len() < precision {
            digits.insert(0, '0');
        }
    }
    // With `#` and `%o`, Go adds the leading zero only when the digits lack one.
    let prefix = if verb == 'o' && digits.starts_with('0') {
        ""
    } else {
        prefix
    };
    let head = format!("{}{prefix}", sign(spec, negative));
    pad(spec, &head, &digits, spec.precision.is_none())
}

/// The character Go's `%c` prints for an integer: U+FFFD when it is not a scalar value.
fn char_of(negative: bool, magnitude: u64) -> char {
    if negative {
        return '\u{FFFD}';
    }
    u32::try_from(magnitude)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

fn format_str(spec: &Spec, verb: char, s: &str, arg: &Arg) -> String {
    let truncated: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    match verb {
        // `%#v` is Go syntax: a quoted string.
        'v' if spec.sharp => pad(spec, "", &go_quote(&truncated, false), true),
        'v' | 's' => pad(spec, "", &truncated, true),
        'q' => {
            let body = if spec.sharp && can_backquote(&truncated) {
                format!("`{truncated}`")
            } else {
                go_quote(&truncated, spec.plus)
            };
            pad(spec, "", &body, true)
        }
        'x' | 'X' => {
            // Precision counts input bytes for %x of a string.
            let bytes = match spec.precision {
                Some(p) => &s.as_bytes()[..p.min(s.len())],
                None => s.as_bytes(),
            };
            let upper = verb == 'X';
            let mut body = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if spec.space && i > 0 {
                    body.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    body.push_str(if upper { "0X" } else { "0x" });
                }
                if upper {
                    body.push_str(&format!("{b:02X}"));
                } else {
                    body.push_str(&format!("{b:02x}"));
                }
            }
            pad(spec, "", &body, true)
        }
        _ => bad_verb(verb, arg),
    }
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}

/// Go's `strconv.Quote` (or `QuoteToASCII` when `ascii`).
fn go_quote(s: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_into(&mut out, c, '"', ascii);
    }
    out.push('"');
    out
}

fn go_quote_char(c: char, ascii: bool) -> String {
    let mut out = String::from("'");
    escape_into(&mut out, c, '\'', ascii);
    out.push('\'');
    out
}

fn escape_into(out: &mut String, c: char, quote: char, ascii: bool) {
    match c {
        _ if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        _ if (ascii && !c.is_ascii()) || !is_print(c) => {
            let code = c as u32;
            if code < 0x80 {
                out.push_str(&format!("\\x{code:02x}"));
            } else if code < 0x10000 {
                out.push_str(&format!("\\u{code:04x}"));
            } else {
                out.push_str(&format!("\\U{code:08x}"));
            }
        }
        _ => out.push(c),
    }
}

/// An approximation of Go's `unicode.IsPrint`: not a control character, not a format or
/// separator character other than the ASCII space.
fn is_print(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{00AD}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{200B}'..='\u{200F}'
        )
        && (c == ' ' || !c.is_whitespace())
}

fn format_float(spec: &Spec, verb: char, f: f64, arg: &Arg) -> String {
    let body = match verb {
        // `#` means Go syntax for `%v`, not `%#g`'s kept zeros.
        'v' => go_float(f, 'g', spec.precision, false),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => go_float(f, verb, spec.precision, spec.sharp),
        _ => return bad_verb(verb, arg),
    };
    if f.is_nan() || f.is_infinite() {
        // Go pads infinities and NaN with spaces, never zeros; NaN takes no sign flag.
        let sign = if f.is_nan() { "" } else { sign(spec, f < 0.0) };
        let text = if f.is_nan() { "NaN" } else { "Inf" };
        let sign = if f.is_nan() && (spec.plus || spec.space) {
            if spec.plus { "+" } else { " " }
        } else {
            sign
        };
        return pad(spec, sign, text, false);
    }
    let negative = f.is_sign_negative();
    let body = body.trim_start_matches('-');
    pad(spec, sign(spec, negative), body, true)
}

/// `strconv.FormatFloat(f, fmt, prec, 64)` for `e`, `f` and `g` (upper case for `E`, `F`,
/// `G`); `precision` absent means Go's default: 6 for `e`/`f`, shortest for `g`/`%v`.
fn go_float(f: f64, verb: char, precision: Option<usize>, sharp: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f < 0.0 {
            "-Inf".into()
        } else {
            "+Inf".into()
        };
    }
    let upper = verb.is_ascii_uppercase();
    match verb.to_ascii_lowercase() {
        'e' => exponent_form(f, precision.unwrap_or(6), upper),
        'f' => format!("{:.*}", precision.unwrap_or(6), f),
        _ => general_form(f, precision, sharp, upper),
    }
}

/// `%e`: `d.ddde±dd`, with at least two exponent digits.
fn exponent_form(f: f64, precision: usize, upper: bool) -> String {
    let rust = format!("{:.*e}", precision, f);
    go_exponent(&rust, upper)
}

/// Rewrite Rust's `1.5e2` / `1.5e-7` exponent as Go's `1.5e+02` / `1.5e-07`.
fn go_exponent(rust: &str, upper: bool) -> String {
    let Some((mantissa, exp)) = rust.split_once('e') else {
        return rust.to_string();
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let e = if upper { 'E' } else { 'e' };
    format!("{mantissa}{e}{sign}{digits:0>2}")
}

/// `%g`: the shorter of `%e` and `%f`, by Go's rule: exponent form when the exponent is < -4
/// or ≥ the precision (6 when shortest).
fn general_form(f: f64, precision: Option<usize>, sharp: bool, upper: bool) -> String {
    // `%#g` keeps trailing zeros, and without a precision shows six significant digits.
    let precision = if sharp {
        Some(precision.unwrap_or(6))
    } else {
        precision
    };
    if f == 0.0 {
        let zero = if f.is_sign_negative() { "-0" } else { "0" };
        return match (precision, sharp) {
            (Some(p), true) if p > 1 => format!("{zero}.{}", "0".repeat(p - 1)),
            _ => zero.to_string(),
        };
    }
    // The significant digits and decimal exponent, rounded to the precision or shortest.
    let scientific = match precision {
        Some(p) => format!("{:.*e}", p.max(1) - 1, f),
        None => format!("{f:e}"),
    };
    let Some((mantissa, exp)) = scientific.split_once('e') else {
        return scientific;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !sharp {
        while digits.len() > 1 && digits.ends_with('0') {
            digits.pop();
        }
    }
    let eprec = match precision {
        None => 6,
        Some(p) => {
            let p = p.max(1) as i32;
            let nd = digits.len() as i32;
            if p > nd && nd > exp { nd } else { p }
        }
    };
    let sign = if negative { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        return format!("{sign}{}", go_exponent(&format!("{mantissa}e{exp}"), upper));
    }
    // Fixed form: place the decimal point exp+1 digits in.
    let point = exp + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if (point as usize) >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn go(format: &str, args: Value) -> String {
        let args: Vec<Arg> = args
            .as_array()
            .expect("an array")
            .iter()
            .map(Arg::from_json)
            .collect();
        sprintf(format, &args)
    }

    /// Expected outputs are Go's, from the `fmt` package documentation and examples.
    #[test]
    fn go_fmt_table() {
        let cases: &[(&str, Value, &str)] = &[
            (
                "%s is %d years old",
                json!(["Kim", 22]),
                "Kim is 22 years old",
            ),
            ("%v", json!([23]), "23"),
            ("%d", json!([-23]), "-23"),
            ("%+d", json!([5]), "+5"),
            ("% d", json!([5]), " 5"),
            (
                "|%6d|%-6d|%06d|",
                json!([12, 12, 12]),
                "|    12|12    |000012|",
            ),
            ("%.3d", json!([7]), "007"),
            (
                "%x %X %o %O %b",
                json!([255, 255, 8, 8, 5]),
                "ff FF 10 0o10 101",
            ),
            ("%#x %#o", json!([255, 8]), "0xff 010"),
            ("%x", json!([-255]), "-ff"),
            (
                "%c %q %U %#U",
                json!([65, 65, 0x1F600, 0x1F600]),
                "A 'A' U+1F600 U+1F600 '😀'",
            ),
            ("%q", json!(["hi \"there\"\n"]), r#""hi \"there\"\n""#),
            ("%+q", json!(["日本"]), r#""\u65e5\u672c""#),
            ("%#q", json!(["back`tick"]), r#""back`tick""#),
            ("%#q", json!(["raw"]), "`raw`"),
            ("%x % x %X", json!(["hi", "hi", "hi"]), "6869 68 69 6869"),
            (
                "|%8s|%-8s|%.2s|",
                json!(["go", "go", "gopher"]),
                "|      go|go      |go|",
            ),
            ("%05s", json!(["ab"]), "000ab"),
            ("%f", json!([0.6666666666666666]), "0.666667"),
            (
                "%.2f|%8.3f|%-8.1f|",
                json!([1.23456, 1.23456, 1.23456]),
                "1.23|   1.235|1.2     |",
            ),
            (
                "%e %E",
                json!([1234.5678, 1234.5678]),
                "1.234568e+03 1.234568E+03",
            ),
            (
                "%g %g %g",
                json!([1234.5678, 0.000012345, 1e21]),
                "1234.5678 1.2345e-05 1e+21",
            ),
            ("%v %v", json!([1.5, 1e-7]), "1.5 1e-07"),
            ("%.3g %.3g", json!([1234.5678, 0.5]), "1.23e+03 0.5"),
            ("%+.2e", json!([-0.5]), "-5.00e-01"),
            ("%08.3f", json!([-1.23456]), "-001.235"),
            ("100%%", json!([]), "100%"),
            ("%#v %#v %#v", json!(["hi", 1.0, 7]), r#""hi" 1 7"#),
            ("%#g %#.3g", json!([1.0, 2.0]), "1.00000 2.00"),
            ("%*d|%-*d|", json!([4, 1, 4, 1]), "   1|1   |"),
        ];
        for (format, args, want) in cases {
            assert_eq!(
                go(format, args.clone()),
                *want,
                "sprintf({format:?}, {args})"
            );
        }
    }

    /// Go's documented error texts, and OPA's conversion of non-numbers and non-strings.
    #[test]
    fn errors_and_opa_conversions() {
        let cases: &[(&str, Value, &str)] = &[
            ("%d", json!(["hi"]), "%!d(string=hi)"),
            ("%s", json!([5]), "%!s(int=5)"),
            ("%d", json!([1.5]), "%!d(float64=1.5)"),
            ("%z", json!([5]), "%!z(int=5)"),
            ("%d %d", json!([1]), "1 %!d(MISSING)"),
            ("%d", json!([1, "a", 2]), "1%!(EXTRA string=a, int=2)"),
            ("trailing %", json!([]), "trailing %!(NOVERB)"),
            // OPA hands booleans, null and composites to Go as their Rego text.
            (
                "%v %v %s",
                json!([true, null, ["a", 1]]),
                r#"true null ["a", 1]"#,
            ),
            ("%t", json!([true]), "%!t(string=true)"),
            ("%v", json!([{"k": "v"}]), r#"{"k": "v"}"#),
            // `3.0` is not an integer literal, so OPA passes a float64.
            ("%d %v", json!([3.0, 3.0]), "%!d(float64=3) 3"),
        ];
        for (format, args, want) in cases {
            assert_eq!(
                go(format, args.clone()),
                *want,
                "sprintf({format:?}, {args})"
            );
        }
    }
}
