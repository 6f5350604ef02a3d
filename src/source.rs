//! Source files as read from disk or standard input, and the mapping from byte offsets to
//! `line:column` positions that every report uses.
//!
//! Everything downstream carries byte ranges ([`Span`]); only printers turn them into lines and
//! columns, through the [`LineIndex`] built once per file. Columns count characters, not bytes,
//! so a multi-byte character before a node does not shift its column; a UTF-8 byte order mark is
//! not a character of line 1.

use std::fmt;
use std::sync::Arc;

use miette::{MietteError, SourceCode, SourceSpan, SpanContents};

/// A half-open byte range `start..end` into a [`SourceFile`]'s text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// Number of bytes covered.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// True when the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same span moved `delta` bytes to the right.
    pub fn shifted(self, delta: usize) -> Self {
        Span::new(self.start + delta, self.end + delta)
    }
}

impl From<Span> for SourceSpan {
    fn from(span: Span) -> Self {
        SourceSpan::new(span.start.into(), span.len())
    }
}

/// A one-based line and column, columns counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// One-based line number.
    pub line: usize,
    /// One-based column, in characters from the start of the line.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Byte offsets of line starts, so that offset-to-position is a binary search rather than a
/// rescan of the file (miette rescans from byte 0 for every diagnostic otherwise).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset at which each line starts; `line_starts[0]` skips a byte order mark.
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Index the line starts of `text`. `\n` ends a line, so CRLF files index correctly and the
    /// `\r` stays part of the line it ends.
    pub fn new(text: &str) -> Self {
        let first = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut line_starts = vec![first];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts }
    }

    /// Zero-based line containing byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        }
    }

    /// Byte offset where zero-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(usize::MAX)
    }

    /// Number of lines (a trailing newline opens one more, empty line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// One-based line and character column of byte `offset` in `text`.
    pub fn location(&self, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line].min(offset);
        let column = text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        Location {
            line: line + 1,
            column: column + 1,
        }
    }
}

/// One input file: its name as reports show it, and its full text.
///
/// Cheap to clone; the text is shared.
#[derive(Clone)]
pub struct SourceFile {
    inner: Arc<SourceInner>,
}

struct SourceInner {
    name: String,
    text: String,
    lines: LineIndex,
    /// For a file known without its text: the positions of the offsets findings point at,
    /// sorted by offset.
    known: Option<Box<[(usize, Location)]>>,
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.inner.name)
            .field("len", &self.inner.text.len())
            .finish()
    }
}

impl SourceFile {
    /// A source named `name` (the path as the user wrote it, or `--stdin-filename`).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let lines = LineIndex::new(&text);
        SourceFile {
            inner: Arc::new(SourceInner {
                name: name.into(),
                text,
                lines,
                known: None,
            }),
        }
    }

    /// A file known by its name and where some of its offsets fall, without its text: what a
    /// result taken from the cache needs when no report shows source, so that the file is not
    /// read. Its text is empty, and [`SourceFile::location`] answers from `positions`.
    pub fn without_text(name: impl Into<String>, mut positions: Vec<(usize, Location)>) -> Self {
        positions.sort_unstable();
        positions.dedup_by_key(|(offset, _)| *offset);
        SourceFile {
            inner: Arc::new(SourceInner {
                name: name.into(),
                text: String::new(),
                lines: LineIndex::new(""),
                known: Some(positions.into_boxed_slice()),
            }),
        }
    }

    /// The name reports show for this file.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The whole text, byte order mark included.
    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// The line index of the text.
    pub fn lines(&self) -> &LineIndex {
        &self.inner.lines
    }

    /// One-based line and column of byte `offset`. A file known without its text answers
    /// for the offsets it was given; for another, with the nearest one before it.
    pub fn location(&self, offset: usize) -> Location {
        match &self.inner.known {
            Some(known) => {
                let after = known.partition_point(|(known, _)| *known <= offset);
                after
                    .checked_sub(1)
                    .and_then(|before| known.get(before))
                    .or(known.first())
                    .map_or(Location { line: 1, column: 1 }, |(_, location)| *location)
            }
            None => self.inner.lines.location(&self.inner.text, offset),
        }
    }

    /// The text under `span`, or `""` when the span is out of range.
    pub fn slice(&self, span: Span) -> &str {
        self.inner.text.get(span.start..span.end).unwrap_or("")
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.text();
        let lines = self.lines();
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first_line = lines.line_of(start).saturating_sub(context_lines_before);
        let last_line = (lines
            .line_of(end.saturating_sub(usize::from(!span.is_empty())).max(start))
            + context_lines_after)
            .min(lines.line_count() - 1);
        // With no context before, miette reads the start of the contents as the position of the
        // span itself (that is what it prints as `file:line:col`), so start at the span.
        let (from, column) = if context_lines_before == 0 {
            (start, self.location(start).column - 1)
        } else {
            (lines.line_start(first_line), 0)
        };
        let mut to = if last_line + 1 < lines.line_count() {
            lines.line_start(last_line + 1)
        } else {
            text.len()
        };
        // miette expects the snippet without the final line break.
        let bytes = text.as_bytes();
        if to > from && bytes[to - 1] == b'\n' {
            to -= 1;
            if to > from && bytes[to - 1] == b'\r' {
                to -= 1;
            }
        }
        let to = to.max(from);
        let snippet = text.get(from..to).ok_or(MietteError::OutOfBounds)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name().to_string(),
            snippet.as_bytes(),
            SourceSpan::new(from.into(), to - from),
            first_line,
            column,
            last_line - first_line + 1,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_skip_the_bom() {
        let text = "\u{feff}a: 1\r\nnäme: ü\n";
        let file = SourceFile::new("x.yaml", text);
        assert_eq!(file.location(3), Location { line: 1, column: 1 });
        let u = text.find('ü').unwrap();
        assert_eq!(file.location(u), Location { line: 2, column: 7 });
    }

    #[test]
    fn a_file_without_text_answers_from_its_known_positions() {
        let text = "a: 1\nbé: [x, y]\n";
        let file = SourceFile::new("x.yaml", text);
        let offsets = [text.find('x').unwrap(), text.find('y').unwrap(), 2];
        let known = offsets.map(|o| (o, file.location(o))).to_vec();
        let without = SourceFile::without_text("x.yaml", known);
        for offset in offsets {
            assert_eq!(without.location(offset), file.location(offset));
        }
        assert_eq!(without.text(), "");
        assert_eq!(without.name(), "x.yaml");
        // Between known offsets: the nearest before.
        assert_eq!(without.location(offsets[0] + 1), file.location(offsets[0]));
    }

    #[test]
    fn offset_at_end_of_file_is_on_the_last_line() {
        let file = SourceFile::new("x.yaml", "a: 1\nb: 2");
        assert_eq!(file.location(9), Location { line: 2, column: 5 });
    }
}
