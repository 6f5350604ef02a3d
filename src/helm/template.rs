//! Finding, in a Helm template's text, the line that produced a node of the rendered object.
//!
//! A template is not YAML, but its keys and indentation are there. The pointer's keys are
//! looked up line by line, each among the lines indented under the previous one:
//!
//! - a key is a line `key:` or `- key:` outside `{{ }}`; lines holding only actions
//!   (`{{- if }}`, `{{- end }}`, `{{- range }}`) and comments are skipped;
//! - a list index picks the template's `- ` item at that level: the one whose `name:` is the
//!   rendered item's name, else the one at the same position, else the last (a `range` writes
//!   one template item many times);
//! - a key that is not written out (it came from `toYaml`, `include` or `tpl`) stops the walk
//!   at the line that emits it: for `toYaml .Values.PATH`, the values path is PATH and the
//!   rest of the pointer, for [`super::values`] to find in the value files.
//!
//! The line's `.Values.PATH` references (and `.field` inside `range .Values.PATH`, at the
//! rendered item's index) are returned too, so a finding can also name the values line that
//! set the value.
//!
//! What it cannot do: keys built by templates (`{{ $key }}:`), flow mappings written inline
//! (`{a: b}`), or a template that indents its own text with `indent`/`nindent` differently
//! from its output. Then the walk stops at the deepest line it found.

use std::sync::OnceLock;

use regex::Regex;

use crate::documents::{Node, Value, token_index};
use crate::source::Span;

/// Where in a template a rendered node comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The bytes to underline in the template.
    pub span: Span,
    /// Whether every key of the pointer was found written out.
    pub exact: bool,
    /// Values paths that feed the node, most specific first: `toYaml .Values.a` followed by
    /// the rest of the pointer, or the `.Values` references on the line.
    pub values_paths: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Line {
    /// Offset of the line's first byte in the template.
    start: usize,
    /// The line without its line break.
    text: String,
    indent: usize,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Empty, a comment, or only template actions that write nothing (`if`, `end`, `range`).
    Silent,
    /// Only template actions, which write text: `toYaml`, `include`, `tpl`, `.Values...`.
    Emits,
    /// `key:` or `- key:`, maybe with a value on the line.
    Key {
        key: String,
        /// The indentation of the key itself (after `- ` for an item).
        at: usize,
        item: bool,
        /// Byte range of the value within the line, when one is written on it.
        value: Option<(usize, usize)>,
    },
    /// `- value`, a scalar item.
    Item { value: (usize, usize) },
    /// Anything else: a continuation line of a block scalar, say.
    Other,
}

#[expect(
    clippy::expect_used,
    reason = "a constant pattern; the unit tests below compile and use each one"
)]
fn actions() -> &'static Regex {
    static ACTIONS: OnceLock<Regex> = OnceLock::new();
    ACTIONS.get_or_init(|| Regex::new(r"\{\{.*?\}\}").expect("a valid pattern"))
}

#[expect(
    clippy::expect_used,
    reason = "a constant pattern; the unit tests below compile and use each one"
)]
fn values_reference() -> &'static Regex {
    static REFERENCE: OnceLock<Regex> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        Regex::new(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)").expect("a valid pattern")
    })
}

#[expect(
    clippy::expect_used,
    reason = "a constant pattern; the unit tests below compile and use each one"
)]
fn range_over_values() -> &'static Regex {
    static RANGE: OnceLock<Regex> = OnceLock::new();
    RANGE.get_or_init(|| {
        Regex::new(r"\{\{-?\s*range\s+(?:\$\w+\s*,\s*)?(?:\$\w+\s*:=\s*)?\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")
            .expect("a valid pattern")
    })
}

#[expect(
    clippy::expect_used,
    reason = "a constant pattern; the unit tests below compile and use each one"
)]
fn item_field() -> &'static Regex {
    static FIELD: OnceLock<Regex> = OnceLock::new();
    FIELD.get_or_init(|| {
        Regex::new(r"\{\{-?\s*(?:\$\w+)?((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)").expect("a valid pattern")
    })
}

fn parse(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let without_actions = actions().replace_all(trimmed, "");
        let kind = if trimmed.is_empty() || trimmed.starts_with('#') {
            Kind::Silent
        } else if without_actions.trim().is_empty() {
            let writes = ["toYaml", "include", "tpl", "toJson", ".Values", "template "]
                .iter()
                .any(|w| trimmed.contains(w))
                && !trimmed.starts_with("{{/*")
                && !["if ", "range ", "with ", "else", "end", "define"]
                    .iter()
                    .any(|kw| action_keyword(trimmed, kw));
            if writes { Kind::Emits } else { Kind::Silent }
        } else {
            key_or_item(line, indent)
        };
        lines.push(Line {
            start,
            text: line.to_string(),
            indent,
            kind,
        });
        start += raw.len();
    }
    lines
}

/// Whether the line's first action starts with `keyword` (`{{- if ...`).
fn action_keyword(trimmed: &str, keyword: &str) -> bool {
    trimmed
        .strip_prefix("{{")
        .map(|rest| rest.trim_start_matches('-').trim_start())
        .is_some_and(|rest| rest.starts_with(keyword))
}

fn key_or_item(line: &str, indent: usize) -> Kind {
    let mut at = indent;
    let mut item = false;
    let mut rest = &line[indent..];
    if rest == "-" || rest.starts_with("- ") {
        item = true;
        let after = rest.get(1..).unwrap_or_default();
        let spaces = after.len() - after.trim_start().len();
        at = indent + 1 + spaces;
        rest = after.trim_start();
        if rest.is_empty() {
            return Kind::Item { value: (at, at) };
        }
    }
    // The key ends at the first `: ` (or a final `:`) outside actions and quotes.
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'{') if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            (None, b'}') if bytes.get(i + 1) == Some(&b'}') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            (None, b'"' | b'\'') if depth == 0 && i == 0 => quote = Some(bytes[i]),
            (None, b':') if depth == 0 && (i + 1 == bytes.len() || bytes[i + 1] == b' ') => {
                let key = rest[..i].trim().trim_matches(['"', '\'']).to_string();
                let value_text = &rest[i + 1..];
                let lead = value_text.len() - value_text.trim_start().len();
                let value_start = at + i + 1 + lead;
                let value_end = at + rest.trim_end().len();
                let value = (value_start < value_end && !value_text.trim().starts_with('#'))
                    .then_some((value_start, value_end));
                return Kind::Key {
                    key,
                    at,
                    item,
                    value,
                };
            }
            _ => {}
        }
        i += 1;
    }
    if item {
        Kind::Item {
            value: (at, at + rest.trim_end().len()),
        }
    } else {
        Kind::Other
    }
}

/// The indentation a line's content stands at: a key's own column, or an item's dash. A line
/// of actions that write text has none: `indent`/`nindent` place its output, wherever the
/// action itself is written (often in column 0).
fn level(line: &Line) -> Option<usize> {
    match &line.kind {
        Kind::Key {
            at, item: false, ..
        } => Some(*at),
        Kind::Key { item: true, .. } | Kind::Item { .. } => Some(line.indent),
        Kind::Other => Some(line.indent),
        Kind::Emits | Kind::Silent => None,
    }
}

/// The lines under the line at `head` (those indented more than `column`, or a sequence
/// written at the key's own indentation), as a range of line indices.
fn block(lines: &[Line], head: usize, column: usize) -> std::ops::Range<usize> {
    let mut end = head + 1;
    while let Some(line) = lines.get(end) {
        match (level(line), &line.kind) {
            (None, _) => {}
            (Some(level), Kind::Key { item: true, .. } | Kind::Item { .. }) if level >= column => {}
            (Some(level), _) if level > column => {}
            _ => break,
        }
        end += 1;
    }
    head + 1..end
}

/// Find where the template `text` produced the node at `tokens` of `rendered`.
pub fn locate(text: &str, rendered: &Node, tokens: &[String]) -> Option<Hit> {
    let lines = parse(text);
    let mut region = 0..lines.len();
    // The keys of an item's first line live on the item line itself.
    let mut item_line: Option<usize> = None;
    let mut found: Option<usize> = None;
    let mut rendered_at = rendered;
    let mut range_values: Option<(Vec<String>, usize)> = None;
    for (depth, token) in tokens.iter().enumerate() {
        let next_rendered = match &rendered_at.value {
            Value::Mapping(_) => rendered_at.get(token),
            Value::Sequence(items) => token_index(token).and_then(|i| items.get(i)),
            _ => None,
        };
        let step = match (&rendered_at.value, token_index(token)) {
            (Value::Sequence(items), Some(index)) => {
                let wanted = items
                    .get(index)
                    .and_then(|item| item.get("name"))
                    .and_then(Node::as_str);
                pick_item(&lines, region.clone(), index, wanted).map(|(line, position)| {
                    // Items before the `range` item are written out once each; the rendered
                    // items after them are the range's, from 0.
                    if let Some(path) = range_before(&lines, region.start, line) {
                        range_values = Some((path, index.saturating_sub(position)));
                    }
                    (line, true)
                })
            }
            _ => find_key(&lines, region.clone(), item_line, token).map(|line| (line, false)),
        };
        let Some((line, is_item)) = step else {
            return Some(stopped(&lines, region, found, &tokens[depth..], text));
        };
        found = Some(line);
        item_line = is_item.then_some(line);
        let column = match &lines[line].kind {
            Kind::Key {
                at, item: false, ..
            } => *at,
            _ => lines[line].indent,
        };
        region = if is_item {
            line..block(&lines, line, column + 1).end
        } else {
            block(&lines, line, column)
        };
        match next_rendered {
            Some(next) => rendered_at = next,
            None => break,
        }
    }
    let line = found?;
    let span = line_span(
        &lines[line],
        matches!(rendered_at.value, Value::Mapping(_) | Value::Sequence(_)),
    );
    let mut values_paths: Vec<Vec<String>> = values_reference()
        .captures_iter(&lines[line].text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().split('.').skip(1).map(str::to_string).collect())
        .collect();
    if let Some((base, index)) = &range_values {
        let value_text = &lines[line].text;
        for capture in item_field().captures_iter(value_text) {
            let Some(fields) = capture.get(1) else {
                continue;
            };
            if fields.as_str().starts_with(".Values")
                || fields.as_str().starts_with(".Release")
                || fields.as_str().starts_with(".Chart")
            {
                continue;
            }
            let mut path = base.clone();
            path.push(index.to_string());
            path.extend(fields.as_str().split('.').skip(1).map(str::to_string));
            values_paths.push(path);
        }
    }
    Some(Hit {
        span,
        exact: true,
        values_paths,
    })
}

/// The hit when the walk stops before the end of the pointer: the line in the region that
/// emits text (`toYaml .Values.x`), else the deepest line found.
fn stopped(
    lines: &[Line],
    region: std::ops::Range<usize>,
    found: Option<usize>,
    rest: &[String],
    text: &str,
) -> Hit {
    // The line that wrote the missing key: the one emitting `.Values.<key>`, else the only
    // emitting line of the block; with several unrelated ones, none is blamed.
    let emitters: Vec<usize> = region
        .clone()
        .filter(|&i| lines[i].kind == Kind::Emits)
        .collect();
    let named = rest.first().and_then(|key| {
        emitters.iter().copied().find(|&i| {
            values_reference()
                .captures_iter(&lines[i].text)
                .filter_map(|c| c.get(1))
                .any(|m| m.as_str().rsplit('.').next() == Some(key.as_str()))
        })
    });
    let only = match emitters.as_slice() {
        [only] => Some(*only),
        _ => None,
    };
    let emitter = named.or(only).or_else(|| {
        // `key: {{ toYaml .Values.x | nindent 4 }}` writes the block on the key's line.
        found.filter(|&i| lines[i].text.contains("toYaml") || lines[i].text.contains("include"))
    });
    if let Some(i) = emitter {
        let line = &lines[i];
        let trimmed = line.text.trim_start();
        let values_paths = values_reference()
            .captures_iter(&line.text)
            .filter_map(|c| c.get(1))
            .map(|m| {
                m.as_str()
                    .split('.')
                    .skip(1)
                    .map(str::to_string)
                    .chain(rest.iter().cloned())
                    .collect()
            })
            .collect();
        let start = line.start + (line.text.len() - trimmed.len());
        return Hit {
            span: Span::new(start, line.start + line.text.trim_end().len()),
            exact: false,
            values_paths,
        };
    }
    let span = match found {
        Some(i) => line_span(&lines[i], true),
        None => Span::new(0, text.find('\n').unwrap_or(text.len())),
    };
    Hit {
        span,
        exact: false,
        values_paths: Vec::new(),
    }
}

/// The span to underline on a found line: a scalar's value, or the key of a collection, as
/// findings in plain files do.
fn line_span(line: &Line, collection: bool) -> Span {
    let at = |(start, end): (usize, usize)| Span::new(line.start + start, line.start + end);
    match &line.kind {
        Kind::Key {
            value: Some(value), ..
        } if !collection => at(*value),
        Kind::Key {
            key, at: column, ..
        } => at((*column, column + key.len())),
        Kind::Item { value } => at(*value),
        _ => at((line.indent, line.text.trim_end().len())),
    }
}

/// The first line in `region` with `key` at the region's outermost key level (the item line
/// `item` counts as part of its own region).
fn find_key(
    lines: &[Line],
    region: std::ops::Range<usize>,
    item: Option<usize>,
    key: &str,
) -> Option<usize> {
    let candidates = item
        .into_iter()
        .chain(region)
        .filter(|&i| matches!(&lines[i].kind, Kind::Key { .. }));
    let candidates: Vec<usize> = candidates.collect();
    let outermost = candidates
        .iter()
        .filter_map(|&i| match &lines[i].kind {
            Kind::Key { at, .. } => Some(*at),
            _ => None,
        })
        .min()?;
    candidates.into_iter().find(
        |&i| matches!(&lines[i].kind, Kind::Key { key: k, at, .. } if k == key && *at == outermost),
    )
}

/// The template item for rendered item `index` (named `wanted`): the one with that name, else
/// the one at that position, else the last; with its position among the template's items.
fn pick_item(
    lines: &[Line],
    region: std::ops::Range<usize>,
    index: usize,
    wanted: Option<&str>,
) -> Option<(usize, usize)> {
    let items: Vec<usize> = region
        .filter(|&i| {
            matches!(
                lines[i].kind,
                Kind::Key { item: true, .. } | Kind::Item { .. }
            )
        })
        .collect();
    let outermost = items.iter().map(|&i| lines[i].indent).min()?;
    let items: Vec<usize> = items
        .into_iter()
        .filter(|&i| lines[i].indent == outermost)
        .collect();
    let named = wanted.and_then(|name| {
        items.iter().copied().find(|&i| {
            let block = i..block(lines, i, lines[i].indent + 1).end;
            block.into_iter().any(|j| match &lines[j].kind {
                Kind::Key {
                    key,
                    value: Some((start, end)),
                    ..
                } => key == "name" && lines[j].text[*start..*end].trim_matches(['"', '\'']) == name,
                _ => false,
            })
        })
    });
    let line = named
        .or_else(|| items.get(index).copied())
        .or(items.last().copied())?;
    let position = items.iter().position(|&i| i == line)?;
    Some((line, position))
}

/// The values path a `range .Values.PATH` over the item at `item` iterates, when one opens
/// between the region's start and the item.
fn range_before(lines: &[Line], from: usize, item: usize) -> Option<Vec<String>> {
    // Walking back, an `end` closes a block the item is not in.
    let mut closed = 0usize;
    for line in lines[from..item].iter().rev() {
        let trimmed = line.text.trim_start();
        if action_keyword(trimmed, "end") {
            closed += 1;
        } else if ["if ", "with ", "range "]
            .iter()
            .any(|keyword| action_keyword(trimmed, keyword))
        {
            if closed > 0 {
                closed -= 1;
            } else if let Some(path) = range_over_values().captures(trimmed).and_then(|c| c.get(1))
            {
                return Some(
                    path.as_str()
                        .split('.')
                        .skip(1)
                        .map(str::to_string)
                        .collect(),
                );
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents;

    const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      {{- if .Values.hostNetwork }}
      hostNetwork: true
      {{- end }}
      containers:
      - name: app
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        securityContext:
          {{- toYaml .Values.securityContext | nindent 10 }}
      {{- range .Values.sidecars }}
      - name: {{ .name }}
        image: {{ .image }}
      {{- end }}
"#;

    const RENDERED: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
  labels:
    app: web
spec:
  replicas: 3
  template:
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: "nginx:latest"
        securityContext:
          privileged: true
      - name: log
        image: busybox
      - name: proxy
        image: envoy
"#;

    fn hit(pointer: &str) -> (String, bool, Vec<String>) {
        let rendered = documents::load(RENDERED).documents.remove(0).root;
        let tokens = documents::tokens(pointer).unwrap();
        let hit = locate(TEMPLATE, &rendered, &tokens).unwrap();
        let line = TEMPLATE[..hit.span.start].matches('\n').count() + 1;
        (
            format!("{line}:{}", &TEMPLATE[hit.span.start..hit.span.end]),
            hit.exact,
            hit.values_paths.iter().map(|p| p.join(".")).collect(),
        )
    }

    #[test]
    fn a_value_written_on_its_line_names_its_values_reference() {
        assert_eq!(
            hit("/spec/replicas"),
            (
                "8:{{ .Values.replicas }}".into(),
                true,
                vec!["replicas".into()]
            )
        );
        assert_eq!(
            hit("/spec/template/spec/containers/0/image"),
            (
                "16:\"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"".into(),
                true,
                vec!["image.repository".into(), "image.tag".into()]
            )
        );
    }

    #[test]
    fn a_key_inside_an_if_block_is_found() {
        assert_eq!(
            hit("/spec/template/spec/hostNetwork"),
            ("12:true".into(), true, vec![])
        );
    }

    #[test]
    fn a_key_from_to_yaml_points_at_the_line_that_emits_it_and_its_values_path() {
        assert_eq!(
            hit("/spec/template/spec/containers/0/securityContext/privileged"),
            (
                "18:{{- toYaml .Values.securityContext | nindent 10 }}".into(),
                false,
                vec!["securityContext.privileged".into()]
            )
        );
    }

    #[test]
    fn an_action_in_column_zero_neither_ends_a_block_nor_takes_the_blame_for_another_key() {
        let template = "spec:\n  containers:\n    - name: app\n      securityContext:\n        {{- toYaml .Values.securityContext | nindent 8 }}\n      env:\n{{ toYaml .Values.env | indent 8 }}\n      resources:\n{{ toYaml .Values.resources | indent 8 }}\n";
        let rendered = documents::load(
            "spec:\n  containers:\n  - name: app\n    securityContext: {}\n    env: []\n    resources:\n      limits: {cpu: 1}\n",
        )
        .documents
        .remove(0)
        .root;
        let tokens = documents::tokens("/spec/containers/0/resources/limits/memory").unwrap();
        let hit = locate(template, &rendered, &tokens).unwrap();
        let line = template[..hit.span.start].matches('\n').count() + 1;
        assert_eq!(line, 9);
        assert_eq!(
            hit.values_paths,
            [vec![
                "resources".to_string(),
                "limits".into(),
                "memory".into()
            ]]
        );
    }

    #[test]
    fn items_of_a_range_point_at_the_one_template_item_and_their_own_values() {
        assert_eq!(
            hit("/spec/template/spec/containers/2/image"),
            (
                "21:{{ .image }}".into(),
                true,
                vec!["sidecars.1.image".into()]
            )
        );
    }
}
