//! The document loader and its span index: any text loads without panicking, and every span
//! it hands out is inside the text, on character boundaries, and can be turned into a
//! line:column and sliced (what every report does with it).
#![no_main]

use admit::documents::{Node, Span, Value, load};
use admit::source::SourceFile;
use libfuzzer_sys::fuzz_target;

fn check_span(file: &SourceFile, span: Span) {
    let text = file.text();
    assert!(span.start <= span.end, "inverted span {span:?}");
    assert!(span.end <= text.len(), "span {span:?} past the end ({})", text.len());
    assert!(text.is_char_boundary(span.start), "span {span:?} starts inside a character");
    assert!(text.is_char_boundary(span.end), "span {span:?} ends inside a character");
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
    for document in &loaded.documents {
        check_span(&file, document.span);
        walk(&file, &document.root, 0);
        let _ = document.root.to_json();
        let _ = admit::objects::extract(document);
    }
});
