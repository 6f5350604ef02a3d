//! The part of a file a human report shows around a finding, with long lines cut.
//!
//! miette prints whole lines. A minified JSON manifest is one line of any length, so one finding
//! in a 50 KB pod would print the 50 KB line, and an underline as wide. An [`Excerpt`] holds
//! only the lines around the span, each longer than [`WIDTH`] characters cut to a window of that
//! many around the span, with `…` where text was left out. It answers miette with the file's
//! name and its real line and column numbers, so the header still reads `file:line:col`.
//! Windows are counted in characters and cut between them, never inside a multi-byte one.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::{SourceFile, Span};

/// The most characters of a line an excerpt keeps.
const WIDTH: usize = 100;

/// How many characters before the span a cut line keeps, so the underline has context.
const BEFORE: usize = 40;

/// What stands for the text left out of a line.
const MARKER: &str = "…";

/// Lines around a span, cut to [`WIDTH`] characters; a [`SourceCode`] for miette.
#[derive(Debug)]
pub(super) struct Excerpt {
    /// The lines kept, cut, under the file's name.
    text: SourceFile,
    /// The zero-based line in the file of the excerpt's first line.
    first_line: usize,
    /// For each line of the excerpt, the characters left out at its start, and whether a
    /// [`MARKER`] stands for them.
    hidden: Vec<(usize, bool)>,
    /// The span, in the excerpt's text.
    span: Span,
}

/// One line of the file, and the part of it an excerpt keeps. Positions are found by walking
/// from the span a window's width of characters, never from the start of a line that may be
/// megabytes long.
#[derive(Clone)]
struct Window<'t> {
    /// The line, without its line break.
    line: &'t str,
    /// Byte offset of the line in the file.
    start: usize,
    /// Bytes of the line kept: `from..to`, on character boundaries.
    from: usize,
    to: usize,
    /// Characters left out before `from`.
    hidden: usize,
}

/// The byte offset of the character before byte `at` of `text` (`at` itself at the start).
fn back(text: &str, at: usize) -> usize {
    text[..at]
        .chars()
        .next_back()
        .map_or(at, |c| at - c.len_utf8())
}

/// The byte offset of the character after byte `at` of `text` (`at` itself at the end).
fn forward(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(at, |c| at + c.len_utf8())
}

impl<'t> Window<'t> {
    /// The window of `line` (at byte `start` of the file) that keeps [`BEFORE`] characters
    /// before byte `anchor` of the line (character `column`) and fills [`WIDTH`] characters.
    fn around(line: &'t str, start: usize, anchor: usize, column: usize) -> Self {
        let mut from = anchor.min(line.len());
        let mut before = 0;
        while before < BEFORE && from > 0 {
            from = back(line, from);
            before += 1;
        }
        Window::filled(line, start, from, column.saturating_sub(before))
    }

    /// The window of `line` that starts at character `column`, as the span's line's does.
    fn at_column(line: &'t str, start: usize, column: usize) -> Self {
        let mut from = 0;
        let mut hidden = 0;
        while hidden < column && from < line.len() {
            from = forward(line, from);
            hidden += 1;
        }
        Window::filled(line, start, from, hidden)
    }

    /// [`WIDTH`] characters from byte `from` (character `hidden`), or up to the end of the
    /// line and as many before `from` as it takes to make [`WIDTH`].
    fn filled(line: &'t str, start: usize, mut from: usize, mut hidden: usize) -> Self {
        let mut to = from;
        let mut kept = 0;
        while kept < WIDTH && to < line.len() {
            to = forward(line, to);
            kept += 1;
        }
        while kept < WIDTH && from > 0 {
            from = back(line, from);
            hidden = hidden.saturating_sub(1);
            kept += 1;
        }
        Window {
            line,
            start,
            from,
            to,
            hidden,
        }
    }

    /// The kept text, with a marker at each end that was cut.
    fn text(&self) -> String {
        let mut text = String::new();
        if self.from > 0 {
            text.push_str(MARKER);
        }
        text.push_str(&self.line[self.from..self.to]);
        if self.to < self.line.len() {
            text.push_str(MARKER);
        }
        text
    }

    /// Where the file's byte `offset`, on this line, falls in [`Window::text`]: text left out
    /// before the window maps to its start, text left out after it to its end.
    fn position(&self, offset: usize) -> usize {
        let marker = if self.from > 0 { MARKER.len() } else { 0 };
        let at = offset.saturating_sub(self.start).clamp(self.from, self.to);
        marker + at - self.from
    }
}

impl Excerpt {
    /// The lines of `file` around `span` with `context` lines either side, when one of them is
    /// longer than [`WIDTH`] characters; `None` when they can be shown as they are.
    pub(super) fn around(file: &SourceFile, span: Span, context: usize) -> Option<Excerpt> {
        let text = file.text();
        let lines = file.lines();
        if span.end > text.len() || span.start > span.end || lines.line_count() == 0 {
            return None;
        }
        let span_start = lines.line_of(span.start);
        let span_end = lines.line_of(span.end.saturating_sub(1).max(span.start));
        let first_line = span_start.saturating_sub(context);
        let last_line = (span_end + context).min(lines.line_count() - 1);
        let line = |index: usize| {
            let start = lines.line_start(index).min(text.len());
            let end = if index + 1 < lines.line_count() {
                lines.line_start(index + 1)
            } else {
                text.len()
            };
            let line = &text[start..end];
            let line = line.strip_suffix('\n').unwrap_or(line);
            (start, line.strip_suffix('\r').unwrap_or(line))
        };
        let long = |line: &str| line.len() > WIDTH && line.chars().nth(WIDTH).is_some();
        if !(first_line..=last_line).any(|index| long(line(index).1)) {
            return None;
        }
        let window_at = |index: usize, offset: usize| {
            let (start, text) = line(index);
            Window::around(
                text,
                start,
                offset - start,
                file.location(offset).column - 1,
            )
        };
        let on_span_line = window_at(span_start, span.start);
        // Other lines keep the columns the span's line keeps, so that they stay aligned.
        let windows: Vec<Window<'_>> = (first_line..=last_line)
            .map(|index| {
                if index == span_start {
                    on_span_line.clone()
                } else if index == span_end {
                    window_at(index, span.end)
                } else {
                    let (start, text) = line(index);
                    Window::at_column(text, start, on_span_line.hidden)
                }
            })
            .collect();
        let mut excerpt = String::new();
        let mut starts = Vec::with_capacity(windows.len());
        for (index, window) in windows.iter().enumerate() {
            if index > 0 {
                excerpt.push('\n');
            }
            starts.push(excerpt.len());
            excerpt.push_str(&window.text());
        }
        let at = |offset: usize, line: usize| {
            starts[line - first_line] + windows[line - first_line].position(offset)
        };
        let span = Span::new(at(span.start, span_start), at(span.end, span_end));
        Some(Excerpt {
            text: SourceFile::new(file.name(), excerpt),
            first_line,
            hidden: windows.iter().map(|w| (w.hidden, w.from > 0)).collect(),
            span,
        })
    }

    /// The span, in the excerpt's text: what the label underlines.
    pub(super) fn span(&self) -> Span {
        self.span
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let line = contents.line();
        let mut column = contents.column();
        // Without context, miette prints this column in the header: count what was left out.
        if context_lines_before == 0
            && let Some((hidden, marked)) = self.hidden.get(line)
        {
            column = column.saturating_sub(usize::from(*marked)) + hidden;
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.text.name().to_string(),
            contents.data(),
            *contents.span(),
            line + self.first_line,
            column,
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The excerpt's text, its underlined part, and the header's `line:column` for `needle`.
    fn cut(text: &str, needle: &str) -> Option<(String, String, String)> {
        let file = SourceFile::new("x.json", text);
        let start = text.find(needle).expect("needle");
        let excerpt = Excerpt::around(&file, Span::new(start, start + needle.len()), 1)?;
        let contents = excerpt
            .read_span(&excerpt.span().into(), 0, 0)
            .expect("readable");
        Some((
            excerpt.text.text().to_string(),
            excerpt.text.slice(excerpt.span()).to_string(),
            format!("{}:{}", contents.line() + 1, contents.column() + 1),
        ))
    }

    #[test]
    fn short_lines_are_shown_as_they_are() {
        assert_eq!(cut("a: 1\nb: true\n", "true"), None);
    }

    #[test]
    fn a_long_line_is_cut_around_the_span_with_the_real_position() {
        let text = format!(
            "{{\"a\": \"{}\", \"privileged\": true, \"b\": \"{}\"}}",
            "x".repeat(5000),
            "y".repeat(5000)
        );
        let (excerpt, underlined, at) = cut(&text, "true").expect("cut");
        assert_eq!(underlined, "true");
        let column = text.find("true").expect("true") + 1;
        assert_eq!(at, format!("1:{column}"));
        assert!(
            excerpt.starts_with('…') && excerpt.ends_with('…'),
            "{excerpt}"
        );
        assert_eq!(excerpt.chars().count(), WIDTH + 2);
        assert!(excerpt.contains("\"privileged\": true"), "{excerpt}");
    }

    #[test]
    fn cuts_fall_between_characters_and_columns_count_them() {
        // Three bytes a character: a cut at a byte count would split one.
        let text = format!("{}: ok\nname: ü{}\n", "é".repeat(300), "ß".repeat(300));
        let (excerpt, underlined, at) = cut(&text, "ok").expect("cut");
        assert_eq!(underlined, "ok");
        assert_eq!(at, "1:303");
        // The next line keeps the same columns, cut between its characters too.
        let second = excerpt.lines().nth(1).expect("context line");
        assert!(
            second.starts_with("…ß") && second.ends_with("ß…"),
            "{second}"
        );
        assert_eq!(second.chars().count(), WIDTH + 2);
        let first = excerpt.lines().next().expect("the span's line");
        assert!(
            first.starts_with("…é") && first.ends_with(": ok"),
            "{first}"
        );
    }

    #[test]
    fn a_span_longer_than_the_window_is_underlined_to_its_edge() {
        let text = format!("k: {}\n", "v".repeat(1000));
        let (excerpt, underlined, at) = cut(&text, &"v".repeat(1000)).expect("cut");
        assert_eq!(at, "1:4");
        assert_eq!(underlined, "v".repeat(WIDTH - 3));
        assert!(
            excerpt
                .lines()
                .next()
                .is_some_and(|line| line.ends_with('…'))
        );
    }
}
