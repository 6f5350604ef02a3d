//! The document loader and its span index: any text loads without panicking, and every span
//! it hands out is inside the text, on character boundaries, and can be turned into a
//! line:column and sliced (what every report does with it). A node serializes to exactly its
//! `to_json` (requests are written from the tree), and a file known without its text gives the
//! line:column recorded for each offset (what a cached run reports).
#![no_main]

use admit::documents::{Node, Span, Value, load};
use admit::source::SourceFile;
use libfuzzer_sys::fuzz_target;

fn check_span(file: &SourceFile, span: Span) {
    let text = file.text();
    assert!(span.start <= span.end, "inverted span {span:?}");
    assert!(
        span.end <= text.len(),
        "span {span:?} past the end ({})",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start),
        "span {span:?} starts inside a character"
    );
    assert!(
        text.is_char_boundary(span.end),
        "span {span:?} ends inside a character"
    );
    let start = file.location(span.start);
    let end = file.location(span.end);
    assert!(start <= end, "{span:?}: {start:?} after {end:?}");
    let _ = file.slice(span);
}

fn walk(file: &SourceFile, node: &Node, depth: usize) {
    check_span(file, node.span);
    // Bounded, in case the loader ever lets deep nesting through: the fuzzer's stack is small.
    if depth > 512 {
        return;
    }
    match &node.value {
        Value::Sequence(items) => items.iter().for_each(|item| walk(file, item, depth + 1)),
        Value::Mapping(entries) => entries.iter().for_each(|entry| {
            check_span(file, entry.key_span);
            walk(file, &entry.value, depth + 1);
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.yaml", text);
    let loaded = load(text);
    for error in &loaded.errors {
        check_span(&file, error.span);
    }
    let mut positions = Vec::new();
    for document in &loaded.documents {
        check_span(&file, document.span);
        walk(&file, &document.root, 0);
        let json = document.root.to_json();
        let written = serde_json::to_value(&document.root).expect("a node serializes");
        assert_eq!(written, json, "Serialize for Node differs from to_json");
        let _ = admit::objects::extract(document, &[]);
        for offset in [document.span.start, document.span.end] {
            positions.push((offset, file.location(offset)));
        }
    }
    let without = SourceFile::without_text("fuzz.yaml", positions.clone());
    for (offset, location) in positions {
        assert_eq!(without.location(offset), location, "offset {offset}");
    }
});
