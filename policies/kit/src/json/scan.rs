//! The fast path of [`Json`]: a single pass over the text that fills the same flat list as the
//! serde_json visitor, without serde_json driving it.
//!
//! Why not only serde_json: in a wasm guest, serde_json reading a 2 KB request cost about
//! 6 µs of a built-in's 9 µs call, more than half of it only walking the bytes. The fast JSON
//! crates measured no better in the guest (simd-json with simd128: about 4.5 µs; jiter: about
//! 13 µs), so the hot loop is written here: strings are scanned eight bytes at a time.
//!
//! Why it cannot change an answer: it is only ever a shortcut. It gives up (`None`) on anything
//! it is not sure of (invalid JSON, deep nesting, a number or escaped string serde_json
//! rejects), and the caller then does exactly what it did before, with serde_json. What it does
//! accept it decodes with serde_json's own functions: numbers with `Number`'s `FromStr`, which
//! is serde_json's number parser, and strings with escapes with serde_json's string decoder. So
//! where the fast path answers, serde_json would have accepted the text and built the same
//! list; the property tests check that against serde_json on generated and mutated documents.

use serde_json::Number;

use super::{Entry, Json};

/// Deeper nesting is left to serde_json, whose limit (128 levels, counted from the root of
/// the whole payload) then decides whether the text is accepted.
const MAX_DEPTH: usize = 100;

/// A document the fast path read, with the text of each member of its root object (for the
/// settings, which serde deserializes from their text).
pub(crate) struct Scanned<'t> {
    pub json: Json<'t>,
    /// `(index of the member's value in the list, the value's text)`, one per root member.
    pub spans: Vec<(usize, &'t str)>,
}

/// Read `text`, one JSON value with optional surrounding whitespace; `None` when the fast
/// path does not vouch for it (the caller falls back to serde_json, which may still accept it).
pub(crate) fn scan(text: &str) -> Option<Scanned<'_>> {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        // A Deployment's request has about 220 values and keys: room for that saves copying
        // the list as it grows.
        entries: Vec::with_capacity(256),
        decoded: Vec::new(),
        spans: Vec::new(),
    };
    scanner.value(0)?;
    if scanner.skip_whitespace().is_some() {
        return None;
    }
    Some(Scanned {
        json: Json {
            entries: scanner.entries,
            decoded: scanner.decoded,
        },
        spans: scanner.spans,
    })
}

struct Scanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    /// The next byte to read.
    pos: usize,
    entries: Vec<Entry<'t>>,
    decoded: Vec<String>,
    spans: Vec<(usize, &'t str)>,
}

/// Eight copies of `byte`, one per byte of a `u64`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// A bit set in the byte of `word` (little-endian) where a string's plain run stops: a quote,
/// a backslash or a control character (which JSON does not allow in a string). Only the lowest
/// set bit is exact (a borrow can mark a higher byte too), and only it is used.
#[inline]
fn stops(word: u64) -> u64 {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let quote = word ^ splat(b'"');
    let backslash = word ^ splat(b'\\');
    // The classic "has a zero byte" and "has a byte less than n" tests (n = 0x20 <= 0x80).
    let zero_in = |w: u64| w.wrapping_sub(LOW) & !w;
    (zero_in(quote) | zero_in(backslash) | (word.wrapping_sub(splat(0x20)) & !word)) & HIGH
}

impl<'t> Scanner<'t> {
    /// The next byte that is not JSON whitespace, not consumed; `None` at the end.
    #[inline]
    fn skip_whitespace(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes.get(self.pos) {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                _ => return Some(byte),
            }
        }
        None
    }

    /// One value, starting at its first byte (after whitespace). `depth` counts the
    /// containers it is in.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.skip_whitespace()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string(),
            b't' => self.literal(b"true", Entry::Bool(true)),
            b'f' => self.literal(b"false", Entry::Bool(false)),
            b'n' => self.literal(b"null", Entry::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], entry: Entry<'t>) -> Option<()> {
        if !self.bytes[self.pos..].starts_with(word) {
            return None;
        }
        self.pos += word.len();
        self.entries.push(entry);
        Some(())
    }

    /// A number: its extent is every byte a JSON number can contain (in valid JSON the byte
    /// after a number is none of them), and serde_json's own parser both checks and reads it.
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        let number: Number = self.text[start..self.pos].parse().ok()?;
        self.entries.push(Entry::Number(number));
        Some(())
    }

    /// A string, starting at its opening quote.
    ///
    /// It appends its entry itself rather than returning it: a returned `Entry` was copied
    /// through the stack in pieces, which cost more than finding the string.
    #[inline]
    fn string(&mut self) -> Option<()> {
        let start = self.pos + 1;
        let mut at = start;
        loop {
            // Eight bytes at a time to the first quote, backslash or control character.
            while let Some(chunk) = self.bytes.get(at..at + 8) {
                let word = u64::from_le_bytes(chunk.try_into().ok()?);
                let found = stops(word);
                if found != 0 {
                    at += (found.trailing_zeros() / 8) as usize;
                    break;
                }
                at += 8;
            }
            match *self.bytes.get(at)? {
                b'"' => {
                    self.pos = at + 1;
                    self.entries.push(Entry::String(&self.text[start..at]));
                    return Some(());
                }
                b'\\' => return self.escaped(start, at),
                byte if byte < 0x20 => return None,
                // The last bytes, fewer than eight, go one at a time.
                _ => at += 1,
            }
        }
    }

    /// The rest of a string that has an escape at `at`: find its end, then let serde_json
    /// decode (and check) it.
    #[cold]
    fn escaped(&mut self, start: usize, mut at: usize) -> Option<()> {
        loop {
            match *self.bytes.get(at)? {
                b'\\' => at += 2,
                b'"' => break,
                _ => at += 1,
            }
        }
        self.pos = at + 1;
        let decoded: String = serde_json::from_str(self.text.get(start - 1..at + 1)?).ok()?;
        let index = self.decoded.len();
        self.decoded.push(decoded);
        self.entries.push(Entry::Decoded(index));
        Some(())
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let at = self.entries.len();
        self.entries.push(Entry::Array { end: 0 });
        if self.skip_whitespace()? == b']' {
            self.pos += 1;
        } else {
            loop {
                self.value(depth)?;
                match self.skip_whitespace()? {
                    b',' => self.pos += 1,
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let end = self.entries.len();
        self.entries[at] = Entry::Array { end };
        Some(())
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let at = self.entries.len();
        self.entries.push(Entry::Object { end: 0 });
        if self.skip_whitespace()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                if self.skip_whitespace()? != b'"' {
                    return None;
                }
                self.string()?;
                if self.skip_whitespace()? != b':' {
                    return None;
                }
                self.pos += 1;
                let index = self.entries.len();
                let start = self.skip_whitespace().map(|_| self.pos)?;
                self.value(depth)?;
                if depth == 1 {
                    self.spans.push((index, &self.text[start..self.pos]));
                }
                match self.skip_whitespace()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let end = self.entries.len();
        self.entries[at] = Entry::Object { end };
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Where the fast path answers, serde_json accepts the text and builds the same list, and
    /// each root member's text is that member.
    fn agrees(text: &str) -> bool {
        let Some(ours) = scan(text) else {
            return false;
        };
        let theirs = Json::parse(text).unwrap_or_else(|e| {
            panic!("the fast path accepted what serde_json rejects ({e}): {text:?}")
        });
        // `Debug` shows each entry's kind, borrowed or decoded, and number variant.
        assert_eq!(
            format!("{:?}", ours.json.entries),
            format!("{:?}", theirs.entries),
            "{text:?}"
        );
        assert_eq!(ours.json.decoded, theirs.decoded, "{text:?}");
        let root = ours.json.root();
        let members: Vec<_> = root.as_object().into_iter().flatten().collect();
        assert_eq!(members.len(), ours.spans.len(), "{text:?}");
        for ((_, value), (index, span)) in members.iter().zip(&ours.spans) {
            assert_eq!(value.index(), *index, "{text:?}");
            let parsed: Value = serde_json::from_str(span).expect("a member's text parses");
            assert_eq!(parsed, value.to_value(), "{text:?}");
        }
        true
    }

    /// Any JSON value, with strings that need escapes and numbers of every variant.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            "[a-z/.-]{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((".{0,6}", inner), 0..8)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// Pieces of JSON text, valid and not, for documents serde_json may or may not accept.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\n",
        "\t",
        "\r",
        "\u{0c}",
        "\"a\"",
        "\"\"",
        "\"é\"",
        "\"a\\\"b\"",
        "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "\"\\udc00x\"",
        "\"\\x\"",
        "\"a\tb\"",
        "\"a\u{1}\"",
        "\"\\/\\b\\f\\n\\r\\t\"",
        "\"\\",
        "\"",
        "0",
        "1",
        "-0",
        "-0.0",
        "01",
        "1.",
        ".5",
        "1.5",
        "-",
        "+1",
        "1e400",
        "1e-400",
        "1E+2",
        "1e",
        "12345678901234567890",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "0.1e1",
        "2.5e-3",
        "true",
        "false",
        "null",
        "tru",
        "nul",
        "fals",
        "truex",
        "NaN",
        "x",
    ];

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 1..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn accepts_what_serde_json_accepts_with_the_same_list(value in value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            // serde_json writes nothing the fast path leaves to it (no invalid escapes, no
            // deep nesting), so it must take every such document.
            prop_assert!(agrees(&text), "the fast path gave up on {text:?}");
        }

        #[test]
        fn never_accepts_what_serde_json_rejects(text in soup()) {
            agrees(&text);
        }

        #[test]
        fn never_accepts_a_mutation_serde_json_rejects(
            value in value(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, prop::sample::select(PIECES)), 1..4),
        ) {
            let mut text = serde_json::to_string(&value).unwrap();
            for (at, how, piece) in edits {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match how {
                    0 => text.insert_str(at, piece),
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    _ => text.replace_range(at..at, &piece[..piece.len().min(1)]),
                }
            }
            agrees(&text);
        }
    }

    #[test]
    fn nesting_serde_json_rejects_is_left_to_it() {
        for depth in [1, 99, 100, 101, 127, 128, 129, 200] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let accepted = agrees(&text);
            assert_eq!(accepted, depth <= MAX_DEPTH, "{depth}");
        }
    }

    #[test]
    fn pieces_one_by_one() {
        for piece in PIECES {
            agrees(piece);
            agrees(&format!("[{piece}]"));
            agrees(&format!("{{\"k\":{piece}}}"));
        }
        // The common shapes are taken, not left to serde_json.
        for text in [
            r#"{"a":[1,-2,3.5,"x",true,false,null,{}],"b\"":"\u00e9"}"#,
            " 1 ",
            "\"\"",
        ] {
            assert!(agrees(text), "{text}");
        }
    }
}
