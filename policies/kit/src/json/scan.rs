//! The fast path of [`Json`]: a single pass over the text that fills the same flat list as the
//! serde_json visitor, without serde_json driving it.
//!
//! Why not only serde_json: in a wasm guest, serde_json reading the request is most of a
//! built-in's call, much of it only walking the bytes, and the fast JSON crates (simd-json with
//! simd128, jiter) do no better there; so the hot loop is written here: strings are scanned
//! eight bytes at a time.
//!
//! Why it cannot change an answer: it is only ever a shortcut. It gives up (`None`) on anything
//! it is not sure of (invalid JSON, deep nesting, a number or escaped string serde_json
//! rejects), and the caller then reads the text with serde_json instead. What it does
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
    pub spans: Vec<(usize, &'t [u8])>,
}

/// Read `bytes`, one JSON value with optional surrounding whitespace; `None` when the fast
/// path does not vouch for it (the caller falls back to serde_json, which may still accept it).
///
/// The bytes need not be UTF-8: the scan checks what JSON requires of them, which is less
/// than a whole-text check. Outside strings, JSON allows only ASCII, and a byte from 0x80 up
/// there makes the text invalid; a string with such bytes is checked on its own.
pub(crate) fn scan(bytes: &[u8]) -> Option<Scanned<'_>> {
    let mut scanner = Scanner {
        // A Deployment's request has about 220 values and keys: room for that saves copying
        // the list as it grows.
        entries: Vec::with_capacity(256),
        decoded: Vec::new(),
        spans: Vec::new(),
    };
    let mut pos = scanner.document(bytes)?;
    if skip_whitespace(bytes, &mut pos).is_some() {
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

/// What the scan builds. The text and the position in it are not fields but the arguments of
/// each step: held in the caller's locals, the position stays in a register, where as a field
/// behind `&mut self` it would be stored to memory at every byte.
struct Scanner<'t> {
    entries: Vec<Entry<'t>>,
    decoded: Vec<String>,
    spans: Vec<(usize, &'t [u8])>,
}

/// Eight copies of `byte`, one per byte of a `u64`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// A bit set in the byte of `word` (little-endian) where a string's plain ASCII run stops: a
/// quote, a backslash, a control character (which JSON does not allow in a string) or a byte
/// from 0x80 up (UTF-8 beyond ASCII, checked apart). Only the lowest set bit is exact (a
/// borrow can mark a higher byte too), and only it is used.
#[inline]
fn stops(word: u64) -> u64 {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let quote = word ^ splat(b'"');
    let backslash = word ^ splat(b'\\');
    // The classic "has a zero byte" and "has a byte less than n" tests (n = 0x20 <= 0x80),
    // and the high bit of each byte as it is.
    let zero_in = |w: u64| w.wrapping_sub(LOW) & !w;
    (zero_in(quote) | zero_in(backslash) | word.wrapping_sub(splat(0x20)) | word) & HIGH
}

/// Text made only of bytes the scan has seen to be ASCII.
#[inline]
fn checked(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: callers pass only bytes the scan has seen to be ASCII (every byte below 0x80), so
    // they are UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

impl<'t> Scanner<'t> {
    /// The whole value, in one loop rather than a call per value: the containers it is in
    /// are a stack, each level its entry's index and whether it is an object.
    ///
    /// Why one loop, with one turn per value or closing bracket: in the guest each call, like
    /// each time a loop is entered, also pays the engine's interruption check, and a request is
    /// a couple of hundred short values. Why never inlined: merged into `validate`, how well
    /// the loop is compiled depends on unrelated code there; on its own it is compiled the same
    /// way whatever the policy.
    #[inline(never)]
    fn document(&mut self, bytes: &'t [u8]) -> Option<usize> {
        let mut pos = 0;
        // Level `depth - 1` is the innermost open container: `index << 1 | is_object`.
        let mut open = [0usize; MAX_DEPTH];
        let mut depth = 0;
        // The root member being read: its value's index in the list and first byte.
        let mut member = (0, 0);
        // Set when this turn follows a closing bracket rather than starting a value.
        let mut closed = false;
        loop {
            if !closed {
                let byte = skip_whitespace(bytes, &mut pos)?;
                match byte {
                    b'{' | b'[' => {
                        if depth == MAX_DEPTH {
                            return None;
                        }
                        pos += 1;
                        let is_object = byte == b'{';
                        open[depth] = self.entries.len() << 1 | usize::from(is_object);
                        self.entries.push(if is_object {
                            Entry::Object { end: 0 }
                        } else {
                            Entry::Array { end: 0 }
                        });
                        depth += 1;
                        if skip_whitespace(bytes, &mut pos)? != if is_object { b'}' } else { b']' }
                        {
                            if is_object {
                                self.key(bytes, &mut pos, depth, &mut member)?;
                            }
                            continue;
                        }
                        // Empty: closed at once, a complete value in its parent.
                        pos += 1;
                        depth -= 1;
                        self.close(open[depth]);
                    }
                    b'"' => self.string(bytes, &mut pos)?,
                    b't' => pos = self.literal(bytes, pos, b"true", Entry::Bool(true))?,
                    b'f' => pos = self.literal(bytes, pos, b"false", Entry::Bool(false))?,
                    b'n' => pos = self.literal(bytes, pos, b"null", Entry::Null)?,
                    b'-' | b'0'..=b'9' => pos = self.number(bytes, pos)?,
                    _ => return None,
                }
            }
            closed = false;
            // A value is complete: go on in the container it is in.
            let Some(level) = depth.checked_sub(1) else {
                return Some(pos);
            };
            let in_object = open[level] & 1 == 1;
            if level == 0 && in_object {
                self.spans.push((member.0, bytes.get(member.1..pos)?));
            }
            match skip_whitespace(bytes, &mut pos)? {
                b',' => {
                    pos += 1;
                    if in_object {
                        self.key(bytes, &mut pos, depth, &mut member)?;
                    }
                }
                b'}' if in_object => closed = true,
                b']' if !in_object => closed = true,
                _ => return None,
            }
            if closed {
                pos += 1;
                depth = level;
                self.close(open[level]);
            }
        }
    }

    /// Record that the container `open` (an entry of [`Scanner::document`]'s stack:
    /// `index << 1 | is_object`) ends here.
    #[inline]
    fn close(&mut self, open: usize) {
        let end = self.entries.len();
        if let Some(entry) = self.entries.get_mut(open >> 1) {
            *entry = if open & 1 == 1 {
                Entry::Object { end }
            } else {
                Entry::Array { end }
            };
        }
    }

    /// An object member's key and the colon after it, up to its value. For a member of the
    /// root object (`depth` 1), remember where its value starts.
    #[inline(always)]
    fn key(
        &mut self,
        bytes: &'t [u8],
        pos: &mut usize,
        depth: usize,
        member: &mut (usize, usize),
    ) -> Option<()> {
        if skip_whitespace(bytes, pos)? != b'"' {
            return None;
        }
        self.string(bytes, pos)?;
        if skip_whitespace(bytes, pos)? != b':' {
            return None;
        }
        *pos += 1;
        if depth == 1 {
            skip_whitespace(bytes, pos)?;
            *member = (self.entries.len(), *pos);
        }
        Some(())
    }

    /// `word` at `at`, and the position after it.
    fn literal(&mut self, bytes: &[u8], at: usize, word: &[u8], entry: Entry<'t>) -> Option<usize> {
        if !bytes.get(at..)?.starts_with(word) {
            return None;
        }
        self.entries.push(entry);
        Some(at + word.len())
    }

    /// A number: its extent is every byte a JSON number can contain (in valid JSON the byte
    /// after a number is none of them), and serde_json's own parser both checks and reads it.
    fn number(&mut self, bytes: &'t [u8], start: usize) -> Option<usize> {
        let mut at = start;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = bytes.get(at) {
            at += 1;
        }
        let number: Number = checked(bytes.get(start..at)?).parse().ok()?;
        self.entries.push(Entry::Number(number));
        Some(at)
    }

    /// A string, starting at its opening quote.
    ///
    /// It appends its entry itself rather than returning it: a returned `Entry` is copied
    /// through the stack in pieces, which costs more than finding the string.
    #[inline(always)]
    fn string(&mut self, bytes: &'t [u8], pos: &mut usize) -> Option<()> {
        let start = *pos + 1;
        let mut at = start;
        // To the first quote, backslash, control character or non-ASCII byte: eight bytes at a
        // time, and the last few one by one. One loop, so that a string enters only one.
        let stop = loop {
            match bytes.get(at..at + 8) {
                Some(chunk) => {
                    let found = stops(u64::from_le_bytes(chunk.try_into().ok()?));
                    if found != 0 {
                        break at + (found.trailing_zeros() / 8) as usize;
                    }
                    at += 8;
                }
                None => {
                    let byte = *bytes.get(at)?;
                    if byte == b'"' || byte == b'\\' || !(0x20..0x80).contains(&byte) {
                        break at;
                    }
                    at += 1;
                }
            }
        };
        match *bytes.get(stop)? {
            b'"' => {
                *pos = stop + 1;
                // Every byte before `stop` was below 0x80: a stop would have been found.
                self.entries
                    .push(Entry::String(checked(bytes.get(start..stop)?)));
                Some(())
            }
            b'\\' | 0x80.. => {
                *pos = self.unusual(bytes, start)?;
                Some(())
            }
            _ => None,
        }
    }

    /// A string that has an escape or a non-ASCII byte: find its end, check it is UTF-8, then
    /// take it as it is (no escape) or let serde_json decode (and check) it.
    #[cold]
    #[inline(never)]
    fn unusual(&mut self, bytes: &'t [u8], start: usize) -> Option<usize> {
        let mut at = start;
        let mut escapes = false;
        loop {
            match *bytes.get(at)? {
                b'\\' => {
                    escapes = true;
                    at += 2;
                }
                b'"' => break,
                byte if byte < 0x20 => return None,
                _ => at += 1,
            }
        }
        // With its quotes: serde_json decodes a string from its JSON text.
        let quoted = std::str::from_utf8(bytes.get(start - 1..at + 1)?).ok()?;
        if escapes {
            let decoded: String = serde_json::from_str(quoted).ok()?;
            let index = self.decoded.len();
            self.decoded.push(decoded);
            self.entries.push(Entry::Decoded(index));
        } else {
            // The text between the quotes, already checked with them.
            self.entries
                .push(Entry::String(&quoted[1..quoted.len() - 1]));
        }
        Some(at + 1)
    }
}

/// The next byte that is not JSON whitespace, not consumed; `None` at the end.
#[inline(always)]
fn skip_whitespace(bytes: &[u8], pos: &mut usize) -> Option<u8> {
    // Hosts send compact JSON: the next byte is almost never whitespace, and testing for
    // that first keeps the loop (and the engine's interruption check at its head) out of
    // the common path.
    let byte = *bytes.get(*pos)?;
    if byte > b' ' {
        return Some(byte);
    }
    *pos = past_whitespace(bytes, *pos);
    bytes.get(*pos).copied()
}

/// The position of the first byte from `at` that is not JSON whitespace (or the end).
#[inline(never)]
fn past_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Where the fast path answers, serde_json accepts the text and builds the same list, and
    /// each root member's text is that member.
    fn agrees(text: &str) -> bool {
        let Some(ours) = scan(text.as_bytes()) else {
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
            let parsed: Value = serde_json::from_slice(span).expect("a member's text parses");
            assert_eq!(parsed, value.to_value(), "{text:?}");
        }
        true
    }

    /// [`agrees`] for bytes that may not be UTF-8: where the fast path answers, they are.
    fn agrees_bytes(bytes: &[u8]) -> bool {
        if scan(bytes).is_none() {
            return false;
        }
        let text = std::str::from_utf8(bytes).unwrap_or_else(|e| {
            panic!("the fast path accepted bytes that are not UTF-8 ({e}): {bytes:?}")
        });
        agrees(text)
    }

    /// Bytes that start, continue or break UTF-8 sequences: lone continuation bytes,
    /// overlong and surrogate lead bytes, and the pieces of `é`, `€` and `😀`.
    const UTF8_BYTES: &[u8] = &[
        0x80, 0xbf, 0xc0, 0xc1, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80,
        0xf5, 0xff,
    ];

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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The scan checks UTF-8 only inside strings (JSON allows nothing but ASCII outside
        /// them): bytes put anywhere, alone or in runs that may form a character, never make
        /// it accept text that is not UTF-8, and it still takes what is.
        #[test]
        fn never_accepts_bytes_that_are_not_utf8(
            value in value(),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::collection::vec(prop::sample::select(UTF8_BYTES), 1..4)),
                1..4,
            ),
        ) {
            let mut bytes = serde_json::to_vec(&value).unwrap();
            for (at, run) in edits {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, run);
            }
            agrees_bytes(&bytes);
        }
    }

    #[test]
    fn strings_beyond_ascii_are_taken_when_valid() {
        for text in [
            "\"é\"",
            "[\"ab€cdefghij😀\",\"x\"]",
            "{\"ключ\":\"значение, long enough for two words\"}",
            "\"é\\n\"",
        ] {
            assert!(agrees(text), "{text}");
        }
        for bytes in [
            &b"\"\xff\""[..],
            b"\"abcdefgh\xc3\"",
            b"[\"\xed\xa0\x80\"]",
            b"\"\xc3\xa9\x01\"",
            b"\xc3\xa9",
        ] {
            assert!(!agrees_bytes(bytes), "{bytes:?}");
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
