//! Whether a file is a WebAssembly module at all, told from its first bytes before anything
//! parses or compiles it: a parser's or compiler's complaint about byte 0 ("bad magic number",
//! or wasmtime's "expected `(`" from its WebAssembly text reader) says nothing of what the
//! user gave instead.

/// The first four bytes of every WebAssembly binary.
const MAGIC: &[u8; 4] = b"\0asm";

/// Why `bytes` are not a WebAssembly module, or `None` when they start as one.
pub(crate) fn not_a_module(bytes: &[u8]) -> Option<String> {
    if let Some(header) = bytes.strip_prefix(MAGIC.as_slice()) {
        // A module's version is 1 (`01 00 00 00`); a component's is `0d 00 01 00`, its last
        // two bytes being the layer.
        return (header.get(2..4) == Some(&[1, 0])).then(|| {
            "not a WebAssembly module: it is a WebAssembly component, which Kubewarden does not \
             run"
            .to_string()
        });
    }
    let start = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(start);
    let why = if bytes.is_empty() {
        "the file is empty".to_string()
    } else if text.trim_start().starts_with("(module") {
        "it is WebAssembly text; compile it to a binary module first (e.g. `wat2wasm`)".into()
    } else if !text.contains('\u{FFFD}')
        && text.chars().all(|c| !c.is_control() || c.is_whitespace())
    {
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let first: String = first.trim().chars().take(40).collect();
        format!("it is a text file (it starts with `{first}`)")
    } else {
        "it does not start with the bytes every module starts with (`\\0asm`)".into()
    };
    Some(format!("not a WebAssembly module: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_pass_and_everything_else_says_what_it_is() {
        assert_eq!(not_a_module(b"\0asm\x01\0\0\0"), None);
        let component = not_a_module(b"\0asm\x0d\0\x01\0").unwrap();
        assert!(component.contains("a WebAssembly component"), "{component}");
        let yaml = not_a_module(b"\napiVersion: v1\nkind: Pod\n").unwrap();
        assert_eq!(
            yaml,
            "not a WebAssembly module: it is a text file (it starts with `apiVersion: v1`)"
        );
        let wat = not_a_module(b"  (module (func))").unwrap();
        assert!(wat.contains("it is WebAssembly text"), "{wat}");
        let empty = not_a_module(b"").unwrap();
        assert!(empty.ends_with("the file is empty"), "{empty}");
        let binary = not_a_module(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]).unwrap();
        assert!(binary.contains("`\\0asm`"), "{binary}");
    }
}
