//! The Rego builtins that `opa build -t wasm` leaves to the host, implemented as Kubewarden's
//! burrego implements them (`crates/burrego` of
//! <https://github.com/kubewarden/policy-evaluator>). Every other builtin is compiled into the
//! module; a module that needs one of burrego's that admit lacks (`yaml.*`) is refused at load.
//!
//! Each builtin takes its arguments as JSON values (as `opa_json_dump` prints them) and returns
//! one; an error stops the evaluation with the builtin's name and reason.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::sprintf::{Arg, sprintf};

/// One host-side Rego builtin function (not a built-in policy: those are
/// [`crate::policies::builtin::Builtin`]).
#[derive(Debug)]
pub(crate) struct RegoBuiltin {
    /// Its Rego name, as the module's `builtins` export lists it.
    pub name: &'static str,
    /// Its implementation.
    pub eval: fn(&[Value]) -> Result<Value, String>,
}

/// Every builtin admit implements, by name.
static REGO_BUILTINS: &[RegoBuiltin] = &[
    RegoBuiltin {
        name: "sprintf",
        eval: builtin_sprintf,
    },
    RegoBuiltin {
        name: "trace",
        eval: trace,
    },
    RegoBuiltin {
        name: "base64url.encode_no_pad",
        eval: base64url_encode_no_pad,
    },
    RegoBuiltin {
        name: "urlquery.encode",
        eval: urlquery_encode,
    },
    RegoBuiltin {
        name: "urlquery.decode",
        eval: urlquery_decode,
    },
    RegoBuiltin {
        name: "urlquery.encode_object",
        eval: urlquery_encode_object,
    },
    RegoBuiltin {
        name: "urlquery.decode_object",
        eval: urlquery_decode_object,
    },
    RegoBuiltin {
        name: "json.is_valid",
        eval: json_is_valid,
    },
    RegoBuiltin {
        name: "json.patch",
        eval: json_patch,
    },
    RegoBuiltin {
        name: "hex.encode",
        eval: hex_encode,
    },
    RegoBuiltin {
        name: "hex.decode",
        eval: hex_decode,
    },
    RegoBuiltin {
        name: "glob.quote_meta",
        eval: glob_quote_meta,
    },
    RegoBuiltin {
        name: "regex.split",
        eval: regex_split,
    },
    RegoBuiltin {
        name: "regex.find_n",
        eval: regex_find_n,
    },
    RegoBuiltin {
        name: "regex.template_match",
        eval: regex_template_match,
    },
    RegoBuiltin {
        name: "semver.is_valid",
        eval: semver_is_valid,
    },
    RegoBuiltin {
        name: "semver.compare",
        eval: semver_compare,
    },
    RegoBuiltin {
        name: "time.now_ns",
        eval: time_now_ns,
    },
    RegoBuiltin {
        name: "time.parse_rfc3339_ns",
        eval: time_parse_rfc3339_ns,
    },
    RegoBuiltin {
        name: "time.date",
        eval: time_date,
    },
];

/// The builtin called `name`, when admit implements it.
pub(crate) fn lookup(name: &str) -> Option<&'static RegoBuiltin> {
    REGO_BUILTINS.iter().find(|builtin| builtin.name == name)
}

fn arg(args: &[Value], i: usize) -> Result<&Value, String> {
    args.get(i)
        .ok_or_else(|| format!("expected at least {} arguments, got {}", i + 1, args.len()))
}

fn string(args: &[Value], i: usize) -> Result<&str, String> {
    arg(args, i)?
        .as_str()
        .ok_or_else(|| format!("operand {} must be a string", i + 1))
}

fn builtin_sprintf(args: &[Value]) -> Result<Value, String> {
    let format = string(args, 0)?;
    let values = arg(args, 1)?
        .as_array()
        .ok_or("operand 2 must be an array")?;
    let values: Vec<Arg> = values.iter().map(Arg::from_json).collect();
    Ok(Value::String(sprintf(format, &values)))
}

/// `trace(note)`: always true; the note goes nowhere, as with burrego (which only logs it).
fn trace(args: &[Value]) -> Result<Value, String> {
    string(args, 0)?;
    Ok(Value::Bool(true))
}

fn base64url_encode_no_pad(args: &[Value]) -> Result<Value, String> {
    let text = string(args, 0)?;
    Ok(Value::String(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text),
    ))
}

/// Go's `url.QueryEscape`: unreserved characters stay, a space becomes `+`, the rest `%XX`.
fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`.
fn query_unescape(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        let end = (i + 3).min(bytes.len());
                        format!(
                            "invalid URL escape {:?}",
                            String::from_utf8_lossy(&bytes[i..end])
                        )
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the decoded text is not UTF-8".into())
}

fn urlquery_encode(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(query_escape(string(args, 0)?)))
}

fn urlquery_decode(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(query_unescape(string(args, 0)?)?))
}

/// `urlquery.encode_object({k: v | [v...]})`: Go's `url.Values.Encode`, keys sorted.
fn urlquery_encode_object(args: &[Value]) -> Result<Value, String> {
    let object = arg(args, 0)?
        .as_object()
        .ok_or("operand 1 must be an object")?;
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    let mut pairs = Vec::new();
    for key in keys {
        let values: Vec<&Value> = match &object[key] {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        for value in values {
            let value = value
                .as_str()
                .ok_or_else(|| format!("the value of {key:?} must be a string or strings"))?;
            pairs.push(format!("{}={}", query_escape(key), query_escape(value)));
        }
    }
    Ok(Value::String(pairs.join("&")))
}

/// `urlquery.decode_object(query)`: every key with the list of its values.
fn urlquery_decode_object(args: &[Value]) -> Result<Value, String> {
    let mut object = Map::new();
    for pair in string(args, 0)?.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let entry = object
            .entry(query_unescape(key)?)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(query_unescape(value)?));
        }
    }
    Ok(Value::Object(object))
}

fn json_is_valid(args: &[Value]) -> Result<Value, String> {
    let valid = args
        .first()
        .and_then(Value::as_str)
        .is_some_and(|text| serde_json::from_str::<Value>(text).is_ok());
    Ok(Value::Bool(valid))
}

/// `json.patch(object, patches)`: RFC 6902.
fn json_patch(args: &[Value]) -> Result<Value, String> {
    let mut document = arg(args, 0)?.clone();
    let patch: json_patch::Patch =
        serde_json::from_value(arg(args, 1)?.clone()).map_err(|e| format!("invalid patch: {e}"))?;
    json_patch::patch(&mut document, &patch).map_err(|e| e.to_string())?;
    Ok(document)
}

fn hex_encode(args: &[Value]) -> Result<Value, String> {
    let text = string(args, 0)?;
    Ok(Value::String(
        text.bytes().map(|b| format!("{b:02x}")).collect(),
    ))
}

fn hex_decode(args: &[Value]) -> Result<Value, String> {
    let text = string(args, 0)?;
    if text.len() % 2 != 0 {
        return Err("encoding/hex: odd length hex string".into());
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("encoding/hex: invalid byte in {text:?}"))
        })
        .collect::<Result<Vec<u8>, String>>()?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "the decoded bytes are not UTF-8".into())
}

/// `glob.quote_meta(pattern)`: escape the glob metacharacters `* ? \ [ ] { }`.
fn glob_quote_meta(args: &[Value]) -> Result<Value, String> {
    let mut out = String::new();
    for c in string(args, 0)?.chars() {
        if matches!(c, '*' | '?' | '\\' | '[' | ']' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::String(out))
}

fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("invalid regular expression: {e}"))
}

/// `regex.split(pattern, text)`: Go's `Regexp.Split(text, -1)`.
fn regex_split(args: &[Value]) -> Result<Value, String> {
    let re = regex(string(args, 0)?)?;
    let text = string(args, 1)?;
    Ok(json!(re.split(text).collect::<Vec<_>>()))
}

/// `regex.find_n(pattern, text, n)`: the first `n` matches, all of them when `n` is -1.
fn regex_find_n(args: &[Value]) -> Result<Value, String> {
    let re = regex(string(args, 0)?)?;
    let text = string(args, 1)?;
    let n = arg(args, 2)?
        .as_i64()
        .ok_or("operand 3 must be an integer")?;
    let matches = re.find_iter(text).map(|m| m.as_str());
    let found: Vec<&str> = match usize::try_from(n) {
        Ok(n) => matches.take(n).collect(),
        Err(_) => matches.collect(),
    };
    Ok(json!(found))
}

/// `regex.template_match(template, text, start, end)`: `template` is literal text with
/// regular expressions between the `start` and `end` delimiters; true when all of `text`
/// matches it.
fn regex_template_match(args: &[Value]) -> Result<Value, String> {
    let template = string(args, 0)?;
    let text = string(args, 1)?;
    let start = string(args, 2)?;
    let end = string(args, 3)?;
    if start.is_empty() || end.is_empty() {
        return Err("the delimiters must not be empty".into());
    }
    let mut pattern = String::from("^");
    let mut rest = template;
    while let Some(open) = rest.find(start) {
        pattern.push_str(&regex::escape(&rest[..open]));
        let inner = &rest[open + start.len()..];
        let close = inner
            .find(end)
            .ok_or_else(|| format!("unbalanced delimiters in {template:?}"))?;
        pattern.push_str(&format!("(?:{})", &inner[..close]));
        rest = &inner[close + end.len()..];
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    Ok(Value::Bool(regex(&pattern)?.is_match(text)))
}

fn semver_is_valid(args: &[Value]) -> Result<Value, String> {
    let valid = args
        .first()
        .and_then(Value::as_str)
        .is_some_and(|v| semver::Version::parse(v).is_ok());
    Ok(Value::Bool(valid))
}

/// `semver.compare(a, b)`: -1, 0 or 1 by SemVer 2.0 precedence (build metadata ignored).
fn semver_compare(args: &[Value]) -> Result<Value, String> {
    let parse = |i: usize| -> Result<semver::Version, String> {
        let text = string(args, i)?;
        semver::Version::parse(text).map_err(|e| format!("{text:?} is not a valid SemVer: {e}"))
    };
    let (a, b) = (parse(0)?, parse(1)?);
    let order = a.cmp_precedence(&b);
    Ok(json!(order as i8))
}

fn time_now_ns(_args: &[Value]) -> Result<Value, String> {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970".to_string())?;
    i64::try_from(since_epoch.as_nanos())
        .map(|ns| json!(ns))
        .map_err(|_| "the current time does not fit in 64-bit nanoseconds".into())
}

fn time_parse_rfc3339_ns(args: &[Value]) -> Result<Value, String> {
    let text = string(args, 0)?;
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time: {e}"))?;
    time.timestamp_nanos_opt()
        .map(|ns| json!(ns))
        .ok_or_else(|| format!("{text:?} does not fit in 64-bit nanoseconds"))
}

/// `time.date(ns)` or `time.date([ns, "UTC"])`: `[year, month, day]`. Only UTC is available
/// offline without a time zone database.
fn time_date(args: &[Value]) -> Result<Value, String> {
    let (ns, zone) = match arg(args, 0)? {
        Value::Array(pair) => (
            pair.first().and_then(Value::as_i64),
            pair.get(1).and_then(Value::as_str).unwrap_or("UTC"),
        ),
        other => (other.as_i64(), "UTC"),
    };
    let ns = ns.ok_or("operand 1 must be nanoseconds or [nanoseconds, zone]")?;
    if !matches!(zone, "UTC" | "") {
        return Err(format!("time zone {zone:?} is not available; only UTC is"));
    }
    let time = chrono::DateTime::from_timestamp_nanos(ns);
    use chrono::Datelike;
    Ok(json!([time.year(), time.month(), time.day()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Value) -> Result<Value, String> {
        let builtin = lookup(name).unwrap_or_else(|| panic!("{name} is implemented"));
        (builtin.eval)(args.as_array().expect("an array of arguments"))
    }

    /// Expected values are OPA's, from its builtin documentation and Go's libraries.
    #[test]
    fn builtin_table() {
        let cases: Vec<(&str, Value, Value)> = vec![
            (
                "sprintf",
                json!(["%s has %d", ["pod", 2]]),
                json!("pod has 2"),
            ),
            ("trace", json!(["note"]), json!(true)),
            ("base64url.encode_no_pad", json!(["a?b>"]), json!("YT9iPg")),
            (
                "urlquery.encode",
                json!(["a b&c=d~é"]),
                json!("a+b%26c%3Dd~%C3%A9"),
            ),
            ("urlquery.decode", json!(["a+b%26c%3Dd"]), json!("a b&c=d")),
            (
                "urlquery.encode_object",
                json!([{"b": "2", "a": ["x y", "z"]}]),
                json!("a=x+y&a=z&b=2"),
            ),
            (
                "urlquery.decode_object",
                json!(["a=x+y&a=z&b=2"]),
                json!({"a": ["x y", "z"], "b": ["2"]}),
            ),
            ("json.is_valid", json!(["{\"a\":1}"]), json!(true)),
            ("json.is_valid", json!(["{a:1}"]), json!(false)),
            (
                "json.patch",
                json!([{"a": {"b": 1}}, [{"op": "add", "path": "/a/c", "value": 2}]]),
                json!({"a": {"b": 1, "c": 2}}),
            ),
            ("hex.encode", json!(["lorem"]), json!("6c6f72656d")),
            ("hex.decode", json!(["6c6f72656d"]), json!("lorem")),
            (
                "glob.quote_meta",
                json!(["*.github.com"]),
                json!("\\*.github.com"),
            ),
            (
                "glob.quote_meta",
                json!(["{a,b}[c]?"]),
                json!("\\{a,b\\}\\[c\\]\\?"),
            ),
            (
                "regex.split",
                json!(["a", "banana"]),
                json!(["b", "n", "n", ""]),
            ),
            (
                "regex.find_n",
                json!(["a.", "banana", 2]),
                json!(["an", "an"]),
            ),
            (
                "regex.find_n",
                json!(["a.", "banana", -1]),
                json!(["an", "an"]),
            ),
            (
                "regex.template_match",
                json!(["urn:foo:{.*}", "urn:foo:bar:baz", "{", "}"]),
                json!(true),
            ),
            (
                "regex.template_match",
                json!(["urn:foo.bar.com:{.*}", "urn:foo.com:bar:baz", "{", "}"]),
                json!(false),
            ),
            ("semver.is_valid", json!(["1.0.0-rc.1+build"]), json!(true)),
            ("semver.is_valid", json!(["v1.0"]), json!(false)),
            ("semver.is_valid", json!([1]), json!(false)),
            ("semver.compare", json!(["1.0.0", "1.0.1"]), json!(-1)),
            ("semver.compare", json!(["1.0.0+a", "1.0.0+b"]), json!(0)),
            ("semver.compare", json!(["1.0.0", "1.0.0-rc.1"]), json!(1)),
            (
                "time.parse_rfc3339_ns",
                json!(["2021-03-04T05:06:07.5Z"]),
                json!(1_614_834_367_500_000_000_i64),
            ),
            (
                "time.parse_rfc3339_ns",
                json!(["1970-01-01T01:00:00+01:00"]),
                json!(0),
            ),
            (
                "time.date",
                json!([1_614_834_367_500_000_000_i64]),
                json!([2021, 3, 4]),
            ),
            ("time.date", json!([[0, "UTC"]]), json!([1970, 1, 1])),
        ];
        for (name, args, want) in cases {
            assert_eq!(call(name, args.clone()), Ok(want), "{name}({args})");
        }
    }

    #[test]
    fn builtin_errors_say_why() {
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "urlquery.decode",
                json!(["%zz"]),
                "invalid URL escape \"%zz\"",
            ),
            ("hex.decode", json!(["abc"]), "odd length"),
            (
                "regex.split",
                json!(["(", "x"]),
                "invalid regular expression",
            ),
            (
                "semver.compare",
                json!(["1", "1.0.0"]),
                "\"1\" is not a valid SemVer",
            ),
            (
                "time.parse_rfc3339_ns",
                json!(["yesterday"]),
                "not an RFC 3339 time",
            ),
            ("time.date", json!([[0, "Europe/Paris"]]), "only UTC"),
            ("sprintf", json!(["%s", "x"]), "operand 2 must be an array"),
            ("hex.encode", json!([1]), "operand 1 must be a string"),
        ];
        for (name, args, want) in cases {
            let error = call(name, args.clone()).expect_err(name);
            assert!(error.contains(want), "{name}({args}): {error}");
        }
    }

    #[test]
    fn now_is_after_2020() {
        let now = call("time.now_ns", json!([])).unwrap();
        assert!(
            now.as_i64()
                .is_some_and(|ns| ns > 1_577_836_800_000_000_000)
        );
    }

    #[test]
    fn yaml_builtins_are_not_implemented() {
        assert!(lookup("yaml.marshal").is_none());
        assert!(lookup("sprintf").is_some());
    }
}
