//! Parser events to node trees: spans, anchors and aliases, merge keys, duplicate keys, and the
//! limits that keep hostile input from exhausting the stack or memory.

use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use granit_parser::{Event, Parser, ScalarStyle, ScanError, StructureStyle, Tag};

use super::resolve::{is_merge_key, key_string, resolve_scalar};
use super::{Document, Entry, LoadError, Loaded, Node, Span, Value};

/// Deepest nesting accepted, counting the root as level 1. Everything that walks a tree
/// (`to_json`, `clone`, `drop`) recurses, so this bounds their stack use too.
const MAX_DEPTH: usize = 500;

/// Nodes a document may copy for anchors and aliases, so a billion-laughs file fails fast.
const MAX_EXPANDED_NODES: usize = 1_000_000;

const MERGE_NEEDS_MAPS: &str = "map merge requires map or sequence of maps as the value";

/// Load every document of a YAML stream or JSON file. Never panics; errors are collected and
/// drop the document they occur in, and loading resumes at the next document when the parser
/// can resynchronise (at the next `---` or `...` in column 0).
pub fn load(text: &str) -> Loaded {
    let options = granit_parser::options! {
        // Undefined aliases become errors at the alias instead of ending the parse.
        emit_unresolved_aliases: true,
        emit_comments: false,
        // libyaml, which go-yaml ports, adds no line feed to a block scalar ending at EOF.
        block_scalar_eof_without_line_feed: true,
        // Our own depth limit should be the one that fires, with its clearer message; the
        // scanner runs up to a simple key's length (1024 characters) ahead of the events.
        flow_nesting_limit: MAX_DEPTH + 2048,
        block_nesting_limit: MAX_DEPTH + 2048,
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut loader = Loader::new(text);
    let mut last_syntax_error: Option<usize> = None;
    while let Some(next) = parser.next() {
        match next {
            Ok((event, span)) => {
                let Some(range) = span.byte_range() else {
                    continue;
                };
                if loader.event(event, Span::new(range.start, range.end)) == Flow::Continue {
                    continue;
                }
            }
            Err(error) => {
                let offset = loader.syntax_error(&error);
                // Recovery always moves forward; stop if it ever does not.
                if last_syntax_error.is_some_and(|last| offset <= last) {
                    break;
                }
                last_syntax_error = Some(offset);
            }
        }
        if let Err(error) = parser.proceed_next_document() {
            loader.syntax_error(&error);
            break;
        }
    }
    loader.loaded
}

/// What the event loop does next.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// The current document was abandoned; the parser must skip to the next one.
    SkipDocument,
}

struct Loader<'t> {
    text: &'t str,
    loaded: Loaded,
    next_index: usize,
    document: Option<DocumentState>,
    /// End of the previous event: a block scalar's indicator lies between it and the content.
    previous_end: usize,
}

struct DocumentState {
    index: usize,
    start: usize,
    failed: bool,
    stack: Vec<Frame>,
    root: Option<Node>,
    /// Anchor id (unique in the stream) to a snapshot of the anchored node.
    anchors: HashMap<usize, Built>,
    expanded: usize,
}

/// A finished node with what the limits need to know about it.
#[derive(Clone)]
struct Built {
    node: Node,
    /// Nodes in the subtree, counting merge sources, so an upper bound.
    count: usize,
    /// Levels in the subtree; a scalar is 1.
    height: usize,
    /// Written as an alias: go-yaml checks a merged alias's target as a whole.
    alias: bool,
}

/// An open collection.
struct Frame {
    start: usize,
    /// Furthest end of any child so far: block collections end where their last child ends.
    end: usize,
    /// Where the first child starts: a block sequence starts at the `-` before it.
    first_child: Option<usize>,
    block_sequence: bool,
    anchor: usize,
    count: usize,
    height: usize,
    kind: FrameKind,
}

enum FrameKind {
    Sequence(Vec<Node>),
    Mapping {
        items: Vec<Item>,
        pending: Option<PendingKey>,
        /// Explicit keys seen so far and where, to report duplicates.
        seen: HashMap<String, Span>,
    },
}

/// A mapping's children in source order; merges apply positionally at the end.
enum Item {
    Entry(Entry),
    Merge { value: Node, alias: bool },
}

/// A key waiting for its value.
enum PendingKey {
    Key(String, Span),
    Merge,
    /// The key was rejected (already reported); its value is dropped.
    Rejected,
}

impl<'t> Loader<'t> {
    fn new(text: &'t str) -> Self {
        Loader {
            text,
            loaded: Loaded::default(),
            next_index: 0,
            document: None,
            previous_end: 0,
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Flow {
        // An implicit document start spans the first token's content, which for a block scalar
        // lies past its indicator; the indicator search must start before it.
        let moves_previous_end = !matches!(event, Event::DocumentStart(false, _));
        let flow = match event {
            Event::DocumentStart(..) => {
                self.start_document(span.start);
                Flow::Continue
            }
            Event::DocumentEnd => {
                self.end_document(span);
                Flow::Continue
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(&text, style, anchor, tag.as_deref(), span)
            }
            Event::SequenceStart(style, anchor, _) => self.open(
                span,
                anchor,
                style == StructureStyle::Block,
                FrameKind::Sequence(Vec::new()),
            ),
            Event::MappingStart(_, anchor, _) => self.open(
                span,
                anchor,
                false,
                FrameKind::Mapping {
                    items: Vec::new(),
                    pending: None,
                    seen: HashMap::new(),
                },
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(span),
            Event::Alias(id) => self.alias(id, span),
            Event::UnresolvedAlias(name) => {
                self.error(format!("unknown anchor '{name}' referenced"), span);
                self.attach(placeholder(span), false);
                Flow::Continue
            }
            _ => Flow::Continue,
        };
        if moves_previous_end {
            self.previous_end = span.end;
        }
        flow
    }

    fn start_document(&mut self, start: usize) {
        self.document = Some(DocumentState {
            index: self.next_index,
            start,
            failed: false,
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            expanded: 0,
        });
        self.next_index += 1;
    }

    fn end_document(&mut self, marker: Span) {
        let Some(state) = self.document.take() else {
            return;
        };
        if state.failed {
            return;
        }
        let Some(root) = state.root else {
            self.loaded.empty_documents += 1;
            return;
        };
        if root.value == Value::Null {
            self.loaded.empty_documents += 1;
            return;
        }
        if let Some(bad) = first_non_finite(&root) {
            let written = self
                .text
                .get(bad.span.start..bad.span.end)
                .unwrap_or_default();
            self.loaded.errors.push(LoadError {
                message: format!("the float `{written}` is not representable in JSON"),
                span: bad.span,
                document: Some(state.index),
            });
            return;
        }
        // An explicit `...` belongs to the document; an implicit end is just the next token.
        let end = if marker.is_empty() {
            root.span.end
        } else {
            marker.end.max(root.span.end)
        };
        let span = Span::new(state.start.min(root.span.start), end);
        self.loaded.documents.push(Document {
            index: state.index,
            root,
            span,
        });
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Flow {
        let span = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => self.block_scalar_span(span),
            _ => span,
        };
        let value = match resolve_scalar(text, style, tag) {
            Ok(value) => value,
            Err(message) => {
                self.error(message, span);
                Value::Null
            }
        };
        let built = Built {
            node: Node { value, span },
            count: 1,
            height: 1,
            alias: false,
        };
        self.complete(built, anchor, is_merge_key(text, style, tag))
    }

    fn open(&mut self, span: Span, anchor: usize, block_sequence: bool, kind: FrameKind) -> Flow {
        let Some(state) = self.document.as_mut() else {
            return Flow::Continue;
        };
        if state.stack.len() >= MAX_DEPTH {
            return self.fatal(format!("nesting deeper than {MAX_DEPTH} levels"), span);
        }
        state.stack.push(Frame {
            start: span.start,
            end: span.end,
            first_child: None,
            block_sequence,
            anchor,
            count: 1,
            height: 1,
            kind,
        });
        Flow::Continue
    }

    fn close(&mut self, span: Span) -> Flow {
        let Some(frame) = self.document.as_mut().and_then(|state| state.stack.pop()) else {
            return Flow::Continue;
        };
        // Flow collections end at their bracket; block ones (empty end event) at their last child.
        let end = if span.is_empty() { frame.end } else { span.end };
        // The parser starts an indentless sequence (`key:\n- a`) at its first item's content.
        let start = match frame.first_child {
            Some(child) if frame.block_sequence => {
                dash_before(self.text.as_bytes(), child).unwrap_or(frame.start)
            }
            _ => frame.start,
        };
        let node_span = Span::new(start, end.max(start));
        let value = match frame.kind {
            FrameKind::Sequence(items) => Value::Sequence(items),
            FrameKind::Mapping { items, .. } => match apply_merges(items) {
                Ok(entries) => Value::Mapping(entries),
                Err(at) => {
                    self.error(MERGE_NEEDS_MAPS.to_owned(), at);
                    Value::Mapping(Vec::new())
                }
            },
        };
        let built = Built {
            node: Node {
                value,
                span: node_span,
            },
            count: frame.count,
            height: frame.height,
            alias: false,
        };
        self.complete(built, frame.anchor, false)
    }

    fn alias(&mut self, id: usize, span: Span) -> Flow {
        let Some(state) = self.document.as_ref() else {
            return Flow::Continue;
        };
        let Some(target) = state.anchors.get(&id) else {
            // Anchors are registered when their node is complete, so a missing one is still
            // open: the alias is inside the node it names.
            let name = self.text.get(span.start + 1..span.end).unwrap_or_default();
            self.error(format!("anchor '{name}' value contains itself"), span);
            self.attach(placeholder(span), false);
            return Flow::Continue;
        };
        let (count, height) = (target.count, target.height);
        if state.stack.len() + height > MAX_DEPTH {
            return self.fatal(format!("nesting deeper than {MAX_DEPTH} levels"), span);
        }
        if !self.spend(count) {
            return self.expansion_exceeded(span);
        }
        let Some(target) = self
            .document
            .as_ref()
            .and_then(|state| state.anchors.get(&id))
        else {
            return Flow::Continue;
        };
        let mut node = target.node.clone();
        node.span = span;
        self.attach(
            Built {
                node,
                count,
                height,
                alias: true,
            },
            false,
        );
        Flow::Continue
    }

    /// Register the node's anchor, if any, then hand the node to its parent.
    fn complete(&mut self, built: Built, anchor: usize, merge_key: bool) -> Flow {
        if anchor != 0 {
            if !self.spend(built.count) {
                return self.expansion_exceeded(built.node.span);
            }
            if let Some(state) = self.document.as_mut() {
                state.anchors.insert(anchor, built.clone());
            }
        }
        self.attach(built, merge_key);
        Flow::Continue
    }

    fn attach(&mut self, built: Built, merge_key: bool) {
        let Some(state) = self.document.as_mut() else {
            return;
        };
        let Some(frame) = state.stack.last_mut() else {
            state.root = Some(built.node);
            return;
        };
        frame.count = frame.count.saturating_add(built.count);
        frame.height = frame.height.max(built.height + 1);
        frame.end = frame.end.max(built.node.span.end);
        frame.first_child.get_or_insert(built.node.span.start);
        let problem = match &mut frame.kind {
            FrameKind::Sequence(items) => {
                items.push(built.node);
                None
            }
            FrameKind::Mapping {
                items,
                pending,
                seen,
            } => match pending.take() {
                None => {
                    let (key, problem) = if merge_key {
                        (PendingKey::Merge, None)
                    } else {
                        accept_key(&built.node, seen, self.text)
                    };
                    *pending = Some(key);
                    problem
                }
                Some(PendingKey::Key(key, key_span)) => {
                    items.push(Item::Entry(Entry {
                        key,
                        key_span,
                        value: built.node,
                    }));
                    None
                }
                Some(PendingKey::Merge) => {
                    items.push(Item::Merge {
                        value: built.node,
                        alias: built.alias,
                    });
                    None
                }
                Some(PendingKey::Rejected) => None,
            },
        };
        if let Some((message, span)) = problem {
            self.error(message, span);
        }
    }

    /// Count `count` more copied nodes against the document's budget.
    fn spend(&mut self, count: usize) -> bool {
        let Some(state) = self.document.as_mut() else {
            return true;
        };
        state.expanded = state.expanded.saturating_add(count);
        state.expanded <= MAX_EXPANDED_NODES
    }

    fn expansion_exceeded(&mut self, span: Span) -> Flow {
        self.fatal(
            format!("alias expansion exceeds {MAX_EXPANDED_NODES} nodes"),
            span,
        )
    }

    /// Record an error that drops the current document but lets loading continue within it,
    /// so that later problems in the same document are reported too.
    fn error(&mut self, message: String, span: Span) {
        let document = self.document.as_mut().map(|state| {
            state.failed = true;
            state.index
        });
        // A placeholder left by one error can trip another at the same node; report it once.
        if self
            .loaded
            .errors
            .last()
            .is_some_and(|last| last.span == span && last.document == document)
        {
            return;
        }
        self.loaded.errors.push(LoadError {
            message,
            span,
            document,
        });
    }

    /// Record an error after which the rest of the document is skipped.
    fn fatal(&mut self, message: String, span: Span) -> Flow {
        self.error(message, span);
        self.document = None;
        Flow::SkipDocument
    }

    /// Record a parser error and abandon the document it occurred in; returns its offset.
    fn syntax_error(&mut self, error: &ScanError) -> usize {
        let marker = error.marker();
        let offset = marker
            .byte_offset()
            .unwrap_or_else(|| char_offset_to_byte(self.text, marker.index()));
        let span = one_char_at(self.text, offset);
        let index = match self.document.take() {
            Some(state) => state.index,
            // The error precedes the document's start event; it still is a document.
            None => {
                self.next_index += 1;
                self.next_index - 1
            }
        };
        let resume = span.start;
        let message = error.info();
        let (message, span) = match template_action_before(self.text, offset) {
            // The parser's own words ("- is only valid inside a block") would send the user
            // looking for a YAML mistake in what is not YAML at all.
            Some(action) => (
                format!(
                    "`{}` at the start of a line is a Go template action (Helm), not YAML: this \
                     file is a template; check what it renders (`helm template CHART | admit \
                     check -`), not the template",
                    &self.text[action.start..action.end]
                ),
                action,
            ),
            None if message.is_empty() => ("YAML syntax error".to_owned(), span),
            None => (message, span),
        };
        // Several errors after one template action are one problem.
        if self
            .loaded
            .errors
            .last()
            .is_none_or(|last| last.span != span)
        {
            self.loaded.errors.push(LoadError {
                message,
                span,
                document: Some(index),
            });
        }
        resume
    }

    /// A block scalar's span runs from its `|`/`>` indicator through its last non-blank line.
    /// The parser's span covers only the content (and trailing blank lines), so the indicator
    /// is found by scanning forward from the previous event over the properties and
    /// indicators (`:`, `-`, `?`, `!tag`, `&anchor`, comments) that can sit in between.
    fn block_scalar_span(&self, content: Span) -> Span {
        let bytes = self.text.as_bytes();
        let limit = content.start.min(bytes.len());
        let mut i = self.previous_end.min(limit);
        let mut indicator = None;
        while i < limit {
            match bytes[i] {
                b'|' | b'>' => {
                    indicator = Some(i);
                    break;
                }
                b'#' => {
                    while i < limit && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'!' | b'&' => {
                    while i < limit && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        let start = indicator.unwrap_or(limit);
        let mut header_end = start + usize::from(indicator.is_some());
        while indicator.is_some()
            && header_end < bytes.len()
            && matches!(bytes[header_end], b'0'..=b'9' | b'+' | b'-')
        {
            header_end += 1;
        }
        let end = trim_blank_tail(bytes, start, content.end.clamp(start, bytes.len()));
        Span::new(start, end.max(header_end))
    }
}

/// The `{{` or `{{-` of the last line at or before `offset`'s line that starts (after its
/// indentation) with a Go template action: Helm's `{{- if ...}}` and `{{ include ... }}` lines
/// are what the YAML parser stumbles on in a chart's templates.
fn template_action_before(text: &str, offset: usize) -> Option<Span> {
    let line_end = text
        .get(offset..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |end| offset + end);
    let mut start = 0;
    let mut found = None;
    for line in text[..line_end].split_inclusive('\n') {
        let content = line.trim_start_matches([' ', '\t']);
        if content.starts_with("{{") {
            let at = start + (line.len() - content.len());
            let width = if content.starts_with("{{-") { 3 } else { 2 };
            found = Some(Span::new(at, at + width));
        }
        start += line.len();
    }
    found
}

/// Turn a finished key node into a pending key, or explain why it cannot be one.
fn accept_key(
    node: &Node,
    seen: &mut HashMap<String, Span>,
    text: &str,
) -> (PendingKey, Option<(String, Span)>) {
    let key = match key_string(&node.value) {
        Ok(key) => key,
        Err(message) => {
            // `{{ .Values.x }}` parses as a flow mapping whose key is the inner `{ ... }`: a
            // template, not YAML. Say so, and point at the outer `{{`.
            let templated = node.span.start > 0
                && text.get(node.span.start - 1..node.span.start + 1) == Some("{{");
            if templated {
                let message = format!(
                    "{message}: `{{{{` starts a template expression; check the rendered output \
                     (`helm template`, `kustomize build`), not the template"
                );
                let span = Span::new(node.span.start - 1, node.span.end);
                return (PendingKey::Rejected, Some((message, span)));
            }
            return (PendingKey::Rejected, Some((message, node.span)));
        }
    };
    match seen.entry(key) {
        Slot::Occupied(first) => {
            let line = text
                .get(..first.get().start)
                .map_or(0, |before| before.matches('\n').count())
                + 1;
            let message = format!(
                "duplicate key {} (first defined at line {line})",
                serde_json::Value::String(first.key().clone())
            );
            (PendingKey::Rejected, Some((message, node.span)))
        }
        Slot::Vacant(slot) => {
            let key = slot.key().clone();
            slot.insert(node.span);
            (PendingKey::Key(key, node.span), None)
        }
    }
}

/// Apply `<<` merges as go-yaml v2 does: in source order, each write replacing the value of an
/// existing key, so a key written after a merge overrides the merged one and a merge overrides
/// keys written before it. In a merge sequence the earlier mappings win (they are written last).
/// `Err` carries the span of a merge value that is not a mapping, or of the offending element
/// of a merge sequence written in place (an alias to a sequence offends as a whole).
fn apply_merges(items: Vec<Item>) -> Result<Vec<Entry>, Span> {
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    let mut positions: HashMap<String, usize> = HashMap::new();
    let mut write = |entry: Entry| match positions.get(&entry.key) {
        Some(&at) => entries[at] = entry,
        None => {
            positions.insert(entry.key.clone(), entries.len());
            entries.push(entry);
        }
    };
    for item in items {
        match item {
            Item::Entry(entry) => write(entry),
            Item::Merge {
                value:
                    Node {
                        value: Value::Mapping(merged),
                        ..
                    },
                ..
            } => merged.into_iter().for_each(&mut write),
            Item::Merge {
                value:
                    Node {
                        value: Value::Sequence(sources),
                        ..
                    },
                alias: false,
            } => {
                if let Some(bad) = sources
                    .iter()
                    .find(|source| !matches!(source.value, Value::Mapping(_)))
                {
                    return Err(bad.span);
                }
                for source in sources.into_iter().rev() {
                    if let Value::Mapping(merged) = source.value {
                        merged.into_iter().for_each(&mut write);
                    }
                }
            }
            Item::Merge { value, .. } => return Err(value.span),
        }
    }
    Ok(entries)
}

/// The `-` indicator of the sequence entry whose content starts at `content`, looking back over
/// whitespace and node properties (`!tag`, `&anchor`); `None` if something else is in the way
/// (a comment, say).
fn dash_before(bytes: &[u8], content: usize) -> Option<usize> {
    let mut i = content.min(bytes.len());
    // Each pass steps over one token; a node has at most a tag and an anchor.
    for _ in 0..3 {
        while i > 0 && bytes[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        let token_end = i;
        while i > 0 && !bytes[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        match &bytes[i..token_end] {
            b"-" => return Some(i),
            [b'!' | b'&', ..] => {}
            _ => return None,
        }
    }
    None
}

/// Drop trailing blank lines and the final line break from `bytes[start..end]`.
fn trim_blank_tail(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while let Some(newline) = bytes[start..end].iter().rposition(|&b| b == b'\n') {
        let line_start = start + newline + 1;
        if !bytes[line_start..end]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
        {
            break;
        }
        end = start + newline;
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

fn placeholder(span: Span) -> Built {
    Built {
        node: Node {
            value: Value::Null,
            span,
        },
        count: 1,
        height: 1,
        alias: false,
    }
}

/// The first NaN or infinity in the tree (Go's `json.Marshal` rejects them).
fn first_non_finite(root: &Node) -> Option<&Node> {
    let mut todo = vec![root];
    while let Some(node) = todo.pop() {
        match &node.value {
            Value::Float(float) if !float.is_finite() => return Some(node),
            Value::Sequence(items) => todo.extend(items.iter().rev()),
            Value::Mapping(entries) => todo.extend(entries.iter().rev().map(|entry| &entry.value)),
            _ => {}
        }
    }
    None
}

fn char_offset_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(byte, _)| byte)
}

/// The character at `offset` (empty at the end of the text), snapped to a char boundary.
fn one_char_at(text: &str, offset: usize) -> Span {
    let mut start = offset.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let len = text[start..].chars().next().map_or(0, char::len_utf8);
    Span::new(start, start + len)
}
