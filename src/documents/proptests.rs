//! Property: the text under every node's span, loaded on its own, gives back that node's value.
//! Documents are generated as trees, written out in block and flow style, and loaded.

use proptest::prelude::*;
use serde_json::json;

use super::*;

#[derive(Debug, Clone)]
enum Tree {
    Str(String),
    /// A multi-line string, written as a `|-` literal in block context.
    Lines(Vec<String>),
    Int(i64),
    Bool(bool),
    Seq(Vec<Tree>, Style),
    Map(Vec<(String, Tree)>, Style),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Block,
    /// A block sequence as a mapping value, written at the key's indentation (as kubectl does).
    Indentless,
    Flow,
}

/// Strings that YAML 1.1 or YAML syntax would read as something else unless quoted.
const TRICKY: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "null",
    "~",
    "",
    "0644",
    "0x1F",
    "1.5",
    "1e3",
    ".inf",
    "x: y",
    "- z",
    "#c",
    "a #b",
    "\"q\"",
    "it's",
    "ü",
    "[x]",
    "{y}",
    "a\\b",
    "tab\there",
    " pad ",
    "<<",
    "*a",
    "&b",
    "!t",
    "%",
    "@",
    "`",
    "2001-12-14",
];

const KEYS: &[&str] = &["a", "b", "name", "x y", "yes", "ü", "1", "a:b", "-", "~"];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(TRICKY).prop_map(str::to_owned),
        "[a-z]{1,3}( [a-z]{1,3}){0,2}",
    ]
}

fn leaf() -> impl Strategy<Value = Tree> {
    prop_oneof![
        string().prop_map(Tree::Str),
        prop::collection::vec("[a-z]{1,4}( [a-z]{1,4})?", 1..4).prop_map(Tree::Lines),
        any::<i64>().prop_map(Tree::Int),
        any::<bool>().prop_map(Tree::Bool),
    ]
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Block),
        Just(Style::Indentless),
        Just(Style::Flow)
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), style())
                .prop_map(|(items, style)| Tree::Seq(items, style)),
            (
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..4),
                style()
            )
                .prop_map(|(entries, style)| {
                    let mut unique: Vec<(String, Tree)> = Vec::new();
                    for (key, value) in entries {
                        if unique.iter().all(|(seen, _)| seen != key) {
                            unique.push((key.to_owned(), value));
                        }
                    }
                    Tree::Map(unique, style)
                }),
        ]
    })
}

fn expected(tree: &Tree) -> serde_json::Value {
    match tree {
        Tree::Str(text) => json!(text),
        Tree::Lines(lines) => json!(lines.join("\n")),
        Tree::Int(int) => json!(int),
        Tree::Bool(flag) => json!(flag),
        Tree::Seq(items, _) => items.iter().map(expected).collect(),
        Tree::Map(entries, _) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), expected(value)))
                .collect(),
        ),
    }
}

/// Plain when unambiguous (letters and inner spaces, not a YAML 1.1 word), else JSON-quoted.
fn scalar_text(text: &str) -> String {
    let letters = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_lowercase() || b == b' ')
        && !text.starts_with(' ')
        && !text.ends_with(' ');
    let special = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    if letters && !special.contains(&text) {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

fn flow(tree: &Tree) -> String {
    match tree {
        Tree::Str(text) => scalar_text(text),
        Tree::Lines(lines) => scalar_text(&lines.join("\n")),
        Tree::Int(int) => int.to_string(),
        Tree::Bool(flag) => flag.to_string(),
        Tree::Seq(items, _) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Tree::Map(entries, _) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, value)| format!("{}: {}", scalar_text(key), flow(value)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Nodes that are written over several lines in block context.
fn is_block(tree: &Tree) -> bool {
    match tree {
        Tree::Seq(items, Style::Block | Style::Indentless) => !items.is_empty(),
        Tree::Map(entries, Style::Block) => !entries.is_empty(),
        Tree::Lines(_) => true,
        _ => false,
    }
}

/// Block text for a node whose first line is placed by the caller at column `indent`.
fn block(tree: &Tree, indent: usize) -> String {
    let pad = |i: usize| {
        if i == 0 {
            String::new()
        } else {
            " ".repeat(indent)
        }
    };
    match tree {
        Tree::Lines(lines) => {
            let body: Vec<String> = lines
                .iter()
                .map(|line| format!("{}{line}", " ".repeat(indent + 2)))
                .collect();
            format!("|-\n{}", body.join("\n"))
        }
        Tree::Seq(items, Style::Block | Style::Indentless) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| format!("{}- {}", pad(i), block(item, indent + 2)))
            .collect::<Vec<_>>()
            .join("\n"),
        Tree::Map(entries, Style::Block) if !entries.is_empty() => entries
            .iter()
            .enumerate()
            .map(|(i, (key, value))| match value {
                Tree::Seq(_, Style::Indentless) if is_block(value) => format!(
                    "{}{}:\n{}{}",
                    pad(i),
                    scalar_text(key),
                    " ".repeat(indent),
                    block(value, indent)
                ),
                Tree::Seq(..) | Tree::Map(..) if is_block(value) => format!(
                    "{}{}:\n{}{}",
                    pad(i),
                    scalar_text(key),
                    " ".repeat(indent + 2),
                    block(value, indent + 2)
                ),
                _ => format!("{}{}: {}", pad(i), scalar_text(key), block(value, indent)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => flow(tree),
    }
}

/// Every JSON Pointer into `value`, the root (`""`) included.
fn pointers(value: &serde_json::Value, prefix: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{prefix}/{i}"), out);
            }
        }
        serde_json::Value::Object(entries) => {
            for (key, item) in entries {
                pointers(item, format!("{prefix}/{}", escape_pointer_token(key)), out);
            }
        }
        _ => {}
    }
    out.push(prefix);
}

/// The text under `span`, made loadable on its own: continuation lines of a block collection
/// lose the indentation of the collection's first line.
fn standalone(text: &str, span: Span) -> Result<String, TestCaseError> {
    let fragment = &text[span.start..span.end];
    let column = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    if fragment.starts_with(['[', '{', '|']) || !fragment.contains('\n') {
        return Ok(fragment.to_owned());
    }
    let mut lines = fragment.split('\n');
    let mut out = vec![lines.next().unwrap_or_default().to_owned()];
    for line in lines {
        let Some(rest) = line.get(column..) else {
            return Err(TestCaseError::fail(format!(
                "short line {line:?} in {fragment:?}"
            )));
        };
        prop_assert!(
            line[..column].bytes().all(|b| b == b' '),
            "{line:?} not indented by {column}"
        );
        out.push(rest.to_owned());
    }
    Ok(out.join("\n"))
}

fn load_single(text: &str) -> Result<Node, TestCaseError> {
    let mut loaded = load(text);
    prop_assert_eq!(
        &loaded.errors,
        &Vec::<LoadError>::new(),
        "loading {:?}",
        text
    );
    prop_assert_eq!(loaded.documents.len(), 1, "loading {:?}", text);
    Ok(loaded.documents.remove(0).root)
}

proptest! {
    // Failures are reported, not saved: the regressions file would land outside this module.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_span_reloads_to_its_node(tree in tree(), marker in any::<bool>()) {
        let body = block(&tree, 0);
        let text = if marker { format!("---\n{body}\n") } else { format!("{body}\n") };
        let want = expected(&tree);
        let mut loaded = load(&text);
        prop_assert_eq!(&loaded.errors, &Vec::<LoadError>::new(), "loading {:?}", text);
        prop_assert_eq!(loaded.documents.len(), 1);
        let document = loaded.documents.remove(0);
        prop_assert_eq!(document.root.to_json(), want.clone(), "loading {:?}", text);
        // Requests are serialized from the tree itself: it must write the same JSON.
        prop_assert_eq!(
            serde_json::to_string(&document.root).ok(),
            serde_json::to_string(&want).ok()
        );
        let whole = load_single(&text[document.span.start..document.span.end])?;
        prop_assert_eq!(whole.to_json(), want.clone());

        let mut all = Vec::new();
        pointers(&want, String::new(), &mut all);
        for pointer in all {
            let node = document.root.pointer(&pointer);
            prop_assert!(node.is_some(), "{} missing in {:?}", pointer, text);
            let Some(node) = node else { continue };
            let value = node.to_json();
            prop_assert_eq!(Some(&value), want.pointer(&pointer), "{} in {:?}", pointer, text);
            let fragment = standalone(&text, node.span)?;
            let again = load_single(&fragment)?;
            prop_assert_eq!(again.to_json(), value, "{} is {:?} in {:?}", pointer, fragment, text);
            if let Some(key_span) = document.root.locate(&pointer).key_span {
                let key = load_single(&text[key_span.start..key_span.end])?;
                let last = pointer.rsplit('/').next().unwrap_or_default();
                let last = last.replace("~1", "/").replace("~0", "~");
                prop_assert_eq!(key.as_str(), Some(last.as_str()));
            }
        }
    }
}

/// Every span in the tree, keys included, for bounds checks.
fn spans(node: &Node, out: &mut Vec<Span>) {
    out.push(node.span);
    match &node.value {
        Value::Sequence(items) => items.iter().for_each(|item| spans(item, out)),
        Value::Mapping(entries) => {
            for entry in entries {
                out.push(entry.key_span);
                spans(&entry.value, out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_loads_without_panicking(
        text in "(\u{feff})?[-:?|><\\[\\]{},\n\r\t #&*!\"'%.~ab01yü]{0,80}"
    ) {
        let loaded = load(&text);
        let mut all: Vec<Span> = loaded.errors.iter().map(|error| error.span).collect();
        for document in &loaded.documents {
            all.push(document.span);
            spans(&document.root, &mut all);
            let _ = document.root.to_json();
        }
        for span in all {
            prop_assert!(span.start <= span.end && span.end <= text.len(), "{span:?} in {text:?}");
            prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
}
