//! Loading tests: values as kubectl would send them, and exact spans.

use serde_json::json;

use super::*;

/// Load `text`, insisting on no errors and exactly one document.
fn single(text: &str) -> Document {
    let loaded = load(text);
    assert_eq!(loaded.errors, [], "errors loading {text:?}");
    assert_eq!(loaded.documents.len(), 1, "documents in {text:?}");
    loaded.documents.into_iter().next().expect("one document")
}

fn json_of(text: &str) -> serde_json::Value {
    single(text).root.to_json()
}

fn slice(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

/// The text under the node at `pointer`.
fn written<'a>(text: &'a str, root: &Node, pointer: &str) -> &'a str {
    let node = root
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{pointer} missing"));
    slice(text, node.span)
}

/// The text under the key of the entry at `pointer`.
fn written_key<'a>(text: &'a str, root: &Node, pointer: &str) -> &'a str {
    let key_span = root.locate(pointer).key_span.expect("a mapping entry");
    slice(text, key_span)
}

fn only_error(text: &str) -> LoadError {
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 1, "errors: {:?}", loaded.errors);
    loaded.errors.into_iter().next().expect("one error")
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: nginx
          image: \"nginx:1.27\"
          securityContext:
            privileged: true
            runAsUser: 0
        - name: sidecar
          image: busybox
";

#[test]
fn deployment_pointer_reaches_the_written_node() {
    let document = single(DEPLOYMENT);
    assert_eq!(document.index, 0);
    let root = &document.root;
    let pointer = "/spec/template/spec/containers/0/securityContext/privileged";
    let node = root.pointer(pointer).expect("privileged");
    assert_eq!(node.value, Value::Bool(true));
    assert_eq!(slice(DEPLOYMENT, node.span), "true");
    assert_eq!(written_key(DEPLOYMENT, root, pointer), "privileged");
    assert_eq!(
        written(DEPLOYMENT, root, "/spec/template/spec/containers/0/image"),
        "\"nginx:1.27\""
    );
    assert_eq!(
        written(
            DEPLOYMENT,
            root,
            "/spec/template/spec/containers/0/securityContext"
        ),
        "privileged: true\n            runAsUser: 0"
    );
    assert_eq!(
        written(DEPLOYMENT, root, "/spec/template/spec/containers"),
        "- name: nginx\n          image: \"nginx:1.27\"\n          securityContext:\n            \
         privileged: true\n            runAsUser: 0\n        - name: sidecar\n          image: \
         busybox"
    );
    assert_eq!(written(DEPLOYMENT, root, "/metadata/labels"), "{app: web}");
    assert_eq!(root.get("kind").and_then(Node::as_str), Some("Deployment"));
    assert_eq!(slice(DEPLOYMENT, document.span), DEPLOYMENT.trim_end());
    assert_eq!(
        root.to_json(),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.27",
                 "securityContext": {"privileged": true, "runAsUser": 0}},
                {"name": "sidecar", "image": "busybox"}
            ]}}}
        })
    );
}

#[test]
fn locate_falls_back_to_the_nearest_ancestor_with_its_key_span() {
    let root = single(DEPLOYMENT).root;
    let located = root.locate("/spec/template/spec/containers/1/securityContext/privileged");
    assert!(!located.exact);
    assert_eq!(located.pointer, "/spec/template/spec/containers/1");
    assert_eq!(located.key_span, None);
    assert_eq!(
        slice(DEPLOYMENT, located.node.span),
        "name: sidecar\n          image: busybox"
    );
    let located = root.locate("/metadata/annotations/team");
    assert!(!located.exact);
    assert_eq!(located.pointer, "/metadata");
    assert_eq!(
        located.key_span.map(|span| slice(DEPLOYMENT, span)),
        Some("metadata")
    );
    let located = root.locate("/spec/replicas");
    assert!(located.exact);
    assert_eq!(slice(DEPLOYMENT, located.node.span), "3");
    assert_eq!(
        located.key_span.map(|span| slice(DEPLOYMENT, span)),
        Some("replicas")
    );
}

#[test]
fn the_third_document_of_a_stream_keeps_its_index_and_spans() {
    let text = "kind: A\n---\nkind: B\n---\n# third\nkind: C\nspec:\n  x: [1, 2]\n";
    let loaded = load(text);
    assert_eq!(loaded.errors, []);
    let indexes: Vec<usize> = loaded.documents.iter().map(|d| d.index).collect();
    assert_eq!(indexes, [0, 1, 2]);
    let third = &loaded.documents[2];
    assert_eq!(
        slice(text, third.span),
        "---\n# third\nkind: C\nspec:\n  x: [1, 2]"
    );
    assert_eq!(written(text, &third.root, "/spec/x/1"), "2");
    assert_eq!(written(text, &third.root, "/kind"), "C");
    assert_eq!(slice(text, loaded.documents[0].span), "kind: A");
}

#[test]
fn empty_documents_are_counted_but_not_returned() {
    let text = "---\n# only a comment\n---\n---\na: 1\n...\n---\n~\n--- null\n";
    let loaded = load(text);
    assert_eq!(loaded.errors, []);
    assert_eq!(loaded.empty_documents, 4);
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.documents[0].index, 2);
    assert_eq!(slice(text, loaded.documents[0].span), "---\na: 1\n...");
    for nothing in ["", "\n\n", "# just a comment\n"] {
        let loaded = load(nothing);
        assert_eq!(loaded, Loaded::default(), "{nothing:?}");
    }
}

#[test]
fn json_files_load_with_spans() {
    let text = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "p", "labels": {"on": "yes"}},
  "spec": {
    "containers": [
      {"name": "c", "image": "i", "ports": [{"containerPort": 80}], "ratio": 1.5}
    ]
  }
}
"#;
    let document = single(text);
    let expected: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    assert_eq!(document.root.to_json(), expected);
    assert_eq!(written(text, &document.root, "/metadata/name"), "\"p\"");
    assert_eq!(
        written_key(text, &document.root, "/metadata/name"),
        "\"name\""
    );
    assert_eq!(
        written(text, &document.root, "/spec/containers/0/ports"),
        "[{\"containerPort\": 80}]"
    );
    assert_eq!(
        written(
            text,
            &document.root,
            "/spec/containers/0/ports/0/containerPort"
        ),
        "80"
    );
    assert_eq!(slice(text, document.span), text.trim_end());
}

#[test]
fn json_with_tab_indentation_loads() {
    let text = "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"ConfigMap\",\n\t\"data\": {\n\t\t\"a\": \"1\",\n\t\t\"b\": [\n\t\t\ttrue,\n\t\t\tnull\n\t\t]\n\t}\n}\n";
    let document = single(text);
    assert_eq!(
        document.root.to_json(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1", "b": [true, null]}})
    );
    assert_eq!(written(text, &document.root, "/data/b/0"), "true");
    assert_eq!(
        written(text, &document.root, "/data/b"),
        "[\n\t\t\ttrue,\n\t\t\tnull\n\t\t]"
    );
}

#[test]
fn crlf_line_endings_stay_out_of_spans() {
    let text = "a: 1\r\nb:\r\n  - x y\r\n  - |\r\n    lit\r\n    more\r\n\r\nc: \"q\"\r\n";
    let document = single(text);
    let root = &document.root;
    assert_eq!(written(text, root, "/a"), "1");
    assert_eq!(written(text, root, "/b/0"), "x y");
    assert_eq!(written(text, root, "/b/1"), "|\r\n    lit\r\n    more");
    assert_eq!(
        root.pointer("/b/1").and_then(Node::as_str),
        Some("lit\nmore\n")
    );
    assert_eq!(
        written(text, root, "/b"),
        "- x y\r\n  - |\r\n    lit\r\n    more"
    );
    assert_eq!(written(text, root, "/c"), "\"q\"");
    assert_eq!(
        slice(text, document.span),
        "a: 1\r\nb:\r\n  - x y\r\n  - |\r\n    lit\r\n    more\r\n\r\nc: \"q\""
    );
}

#[test]
fn a_bom_is_skipped_and_spans_index_the_original_text() {
    let text = "\u{feff}kind: Pod\nspec: {x: 1}\n";
    let document = single(text);
    let kind = document.root.pointer("/kind").expect("kind");
    assert_eq!(kind.span, Span::new(9, 12));
    assert_eq!(slice(text, kind.span), "Pod");
    assert_eq!(written(text, &document.root, "/spec/x"), "1");
    assert_eq!(document.span.start, 3);
    assert_eq!(
        document.root.to_json(),
        json!({"kind": "Pod", "spec": {"x": 1}})
    );
}

#[test]
fn multi_byte_characters_before_a_node_shift_byte_offsets() {
    let text = "näme: \"ü€😀\"\nlabels: {größe: klein, 日本: [ä, ö]}\n";
    let document = single(text);
    let root = &document.root;
    assert_eq!(written(text, root, "/näme"), "\"ü€😀\"");
    assert_eq!(written(text, root, "/labels/größe"), "klein");
    assert_eq!(written_key(text, root, "/labels/größe"), "größe");
    assert_eq!(written(text, root, "/labels/日本/1"), "ö");
    assert_eq!(written(text, root, "/labels/日本"), "[ä, ö]");
    let node = root.pointer("/labels/日本/1").expect("ö");
    assert_eq!(node.span.start, text.rfind('ö').expect("ö is there"));
}

#[test]
fn flow_collections_span_their_brackets() {
    let text = "a: [1, {b: c, d: [ ]}, \"s\"]\ne: {f: g,\n  h: i}\nj: [k: l]\n";
    let document = single(text);
    let root = &document.root;
    assert_eq!(written(text, root, "/a"), "[1, {b: c, d: [ ]}, \"s\"]");
    assert_eq!(written(text, root, "/a/1"), "{b: c, d: [ ]}");
    assert_eq!(written(text, root, "/a/1/d"), "[ ]");
    assert_eq!(written(text, root, "/e"), "{f: g,\n  h: i}");
    assert_eq!(written(text, root, "/j/0"), "k: l");
    assert_eq!(
        root.to_json(),
        json!({"a": [1, {"b": "c", "d": []}, "s"], "e": {"f": "g", "h": "i"}, "j": [{"k": "l"}]})
    );
}

#[test]
fn block_scalars_are_strings_spanning_indicator_to_last_line() {
    let text = "\
literal: |
  line 1
  line 2

folded: >
  one
  two

  three
strip: |-
  yes
keep: |+
  0644

indented: |2
    deep
tagged: !!str &t | # comment
  text
empty: |
last: >-
  end";
    let document = single(text);
    let root = &document.root;
    assert_eq!(
        root.to_json(),
        json!({
            "literal": "line 1\nline 2\n",
            "folded": "one two\nthree\n",
            "strip": "yes",
            "keep": "0644\n\n",
            "indented": "  deep\n",
            "tagged": "text\n",
            "empty": "",
            "last": "end",
        })
    );
    assert_eq!(written(text, root, "/literal"), "|\n  line 1\n  line 2");
    assert_eq!(written(text, root, "/folded"), ">\n  one\n  two\n\n  three");
    assert_eq!(written(text, root, "/strip"), "|-\n  yes");
    assert_eq!(written(text, root, "/keep"), "|+\n  0644");
    assert_eq!(written(text, root, "/indented"), "|2\n    deep");
    assert_eq!(written(text, root, "/tagged"), "| # comment\n  text");
    assert_eq!(written(text, root, "/empty"), "|");
    assert_eq!(written(text, root, "/last"), ">-\n  end");
    // A block scalar in a sequence and as a document root.
    let text = "- |\n  a\n- >\n  b\n";
    assert_eq!(written(text, &single(text).root, "/1"), ">\n  b");
    let text = "--- |\n  root\n";
    let document = single(text);
    assert_eq!(slice(text, document.root.span), "|\n  root");
    assert_eq!(slice(text, document.span), "--- |\n  root");
}

#[test]
fn plain_and_quoted_scalars_span_their_text() {
    let text = "a: plain\n  continued   \nb: 'it''s'\nc: \"two\n  lines\"\nd:\ne: ~\n";
    let document = single(text);
    let root = &document.root;
    assert_eq!(written(text, root, "/a"), "plain\n  continued");
    assert_eq!(written(text, root, "/b"), "'it''s'");
    assert_eq!(written(text, root, "/c"), "\"two\n  lines\"");
    assert_eq!(written(text, root, "/e"), "~");
    let implicit = root.pointer("/d").expect("d");
    assert_eq!(implicit.value, Value::Null);
    assert!(implicit.span.is_empty());
    assert_eq!(
        root.to_json(),
        json!({"a": "plain continued", "b": "it's", "c": "two lines", "d": null, "e": null})
    );
}

#[test]
fn yaml_1_1_scalars_resolve_as_kubectl_sends_them() {
    let text = "\
- yes
- no
- on
- off
- Y
- n
- 0644
- 0x1F
- ~
- \"yes\"
- '0644'
- 1e3
- 1_000
- 09
- 2001-12-14
- 12345678901234567890
- 123456789012345678901
- .5
- true
- FALSE
- \"\"
- 0o17
- +1
";
    assert_eq!(
        json_of(text),
        json!([
            true,
            false,
            true,
            false,
            true,
            false,
            420,
            31,
            null,
            "yes",
            "0644",
            1000,
            1000,
            9,
            "2001-12-14",
            12_345_678_901_234_567_890u64,
            123_456_789_012_345_678_901.0,
            0.5,
            true,
            false,
            "",
            15,
            1
        ])
    );
}

#[test]
fn tags_force_or_check_types() {
    let text = "\
a: !!str 123
b: !!int \"12\"
c: !!float 1
d: !!bool \"on\"
e: !!null ''
f: !!binary aGVsbG8=
g: !local 12
h: ! yes
i: !!str
j: !!int 0x1F
";
    assert_eq!(
        json_of(text),
        json!({"a": "123", "b": 12, "c": 1, "d": true, "e": null, "f": "hello",
               "g": "12", "h": "yes", "i": "", "j": 31})
    );
    let text = "ok: 1\nbad: !!int abc\n";
    let error = only_error(text);
    assert_eq!(error.message, "cannot decode !!str `abc` as a !!int");
    assert_eq!(slice(text, error.span), "abc");
    assert_eq!(error.document, Some(0));
    assert!(load(text).documents.is_empty());
}

#[test]
fn keys_become_the_strings_sigs_k8s_io_yaml_makes() {
    let text = "yes: a\n1: b\n1.5: c\n0x10: d\n\"quoted\": e\nnull_ish: f\n1e6: g\n";
    let document = single(text);
    let keys: Vec<&str> = match &document.root.value {
        Value::Mapping(entries) => entries.iter().map(|entry| entry.key.as_str()).collect(),
        other => panic!("not a mapping: {other:?}"),
    };
    assert_eq!(
        keys,
        ["true", "1", "1.5", "16", "quoted", "null_ish", "1e+06"]
    );
    assert_eq!(written_key(text, &document.root, "/16"), "0x10");
    assert_eq!(written(text, &document.root, "/16"), "d");
}

#[test]
fn keys_that_json_cannot_have_are_errors() {
    let text = "a: 1\n[x, y]: 2\n";
    let error = only_error(text);
    assert_eq!(error.message, "mapping keys must be scalars");
    assert_eq!(slice(text, error.span), "[x, y]");
    let text = "a: 1\n? {k: v}\n: 2\n";
    assert_eq!(slice(text, only_error(text).span), "{k: v}");
    let text = "~: 1\n";
    let error = only_error(text);
    assert_eq!(slice(text, error.span), "~");
    assert!(error.message.contains("null"), "{}", error.message);
    let text = "18446744073709551615: big\n";
    assert_eq!(slice(text, only_error(text).span), "18446744073709551615");
}

#[test]
fn duplicate_keys_are_reported_at_the_second_key() {
    let text = "kind: Pod\nmetadata:\n  name: a\n  labels: {}\n  name: b\n---\nkind: Fine\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 1);
    let error = &loaded.errors[0];
    assert_eq!(
        error.message,
        "duplicate key \"name\" (first defined at line 3)"
    );
    assert_eq!(
        error.span,
        Span::new(
            text.rfind("name").expect("second name"),
            text.rfind("name").expect("second name") + 4
        )
    );
    assert_eq!(error.document, Some(0));
    assert_eq!(error.to_string(), error.message);
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.documents[0].index, 1);
    // Duplicates after stringification: `1` and "1" are the same JSON key.
    let text = "1: a\n\"1\": b\n";
    assert_eq!(slice(text, only_error(text).span), "\"1\"");
}

#[test]
fn aliases_copy_the_anchored_node_and_keep_its_inner_spans() {
    let text = "\
base: &labels
  app: web
  tier: front
copy: *labels
list: [&one 1, *one]
";
    let document = single(text);
    let root = &document.root;
    assert_eq!(
        root.to_json(),
        json!({"base": {"app": "web", "tier": "front"},
               "copy": {"app": "web", "tier": "front"},
               "list": [1, 1]})
    );
    assert_eq!(written(text, root, "/copy"), "*labels");
    assert_eq!(written(text, root, "/base"), "app: web\n  tier: front");
    // Inside the copy, nodes point at where they are defined.
    let inner = root.pointer("/copy/app").expect("copied app");
    assert_eq!(inner.span, root.pointer("/base/app").expect("app").span);
    assert_eq!(written_key(text, root, "/copy/app"), "app");
    assert_eq!(written(text, root, "/list/1"), "*one");
    assert_eq!(written(text, root, "/list/0"), "1");
}

#[test]
fn undefined_and_recursive_aliases_are_errors_at_the_alias() {
    let text = "a: 1\nb: *nowhere\n---\nok: 1\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(slice(text, loaded.errors[0].span), "*nowhere");
    assert_eq!(
        loaded.errors[0].message,
        "unknown anchor 'nowhere' referenced"
    );
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.documents[0].index, 1);
    let text = "loop: &l [a, *l]\n";
    let error = only_error(text);
    assert_eq!(slice(text, error.span), "*l");
    assert_eq!(error.message, "anchor 'l' value contains itself");
    // Anchors do not carry over to the next document.
    let text = "a: &x 1\n---\nb: *x\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].document, Some(1));
}

#[test]
fn merge_keys_follow_go_yaml_v2() {
    let text = "\
defaults: &defaults
  cpu: 1
  memory: 1Gi
extra: &extra
  memory: 2Gi
  gpu: 0
pod:
  <<: [*defaults, *extra]
  cpu: 2
  name: p
";
    let document = single(text);
    let root = &document.root;
    assert_eq!(
        root.pointer("/pod").expect("pod").to_json(),
        json!({"cpu": 2, "memory": "1Gi", "gpu": 0, "name": "p"})
    );
    // Merged entries keep the spans where they are defined; explicit ones their own.
    assert_eq!(written(text, root, "/pod/memory"), "1Gi");
    assert_eq!(
        root.locate("/pod/memory").key_span,
        root.locate("/defaults/memory").key_span
    );
    assert_eq!(written(text, root, "/pod/gpu"), "0");
    assert_eq!(written(text, root, "/pod/cpu"), "2");
    assert_eq!(written_key(text, root, "/pod/cpu"), "cpu");
    assert_eq!(
        root.locate("/pod/cpu").key_span.map(|s| s.start),
        text.rfind("cpu")
    );
    // go-yaml v2 applies a merge where it is written: it overrides keys before it.
    let text = "b: &b {x: 1, z: 1}\nm:\n  x: 0\n  <<: *b\n  z: 2\n";
    assert_eq!(json_of(text)["m"], json!({"x": 1, "z": 2}));
    // An inline mapping merges too, and `<<` quoted is an ordinary key.
    let text = "m:\n  <<: {a: 1}\n  \"<<\": 2\n";
    assert_eq!(json_of(text)["m"], json!({"a": 1, "<<": 2}));
}

#[test]
fn merging_something_other_than_mappings_is_an_error() {
    let text = "s: &s [1]\nm:\n  <<: *s\n";
    let error = only_error(text);
    assert_eq!(
        error.message,
        "map merge requires map or sequence of maps as the value"
    );
    assert_eq!(slice(text, error.span), "*s");
    let text = "a: &a {x: 1}\nm:\n  <<: [*a, 3]\n";
    assert_eq!(slice(text, only_error(text).span), "3");
    let text = "m:\n  <<: plain\n";
    assert_eq!(slice(text, only_error(text).span), "plain");
}

#[test]
fn nan_and_infinity_drop_the_document() {
    let text = "ok: 1\n---\nratio: .nan\n---\nlimit: [-.Inf]\n---\n.nan: key is fine\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 2, "{:?}", loaded.errors);
    assert_eq!(slice(text, loaded.errors[0].span), ".nan");
    assert_eq!(loaded.errors[0].document, Some(1));
    assert!(
        loaded.errors[0]
            .message
            .ends_with("is not representable in JSON")
    );
    assert_eq!(slice(text, loaded.errors[1].span), "-.Inf");
    let indexes: Vec<usize> = loaded.documents.iter().map(|d| d.index).collect();
    assert_eq!(indexes, [0, 3]);
    assert_eq!(
        loaded.documents[1].root.to_json(),
        json!({".nan": "key is fine"})
    );
}

#[test]
fn syntax_errors_drop_their_document_and_loading_resumes() {
    let text = "a: [1, 2\nb: c\n---\nok: 1\n---\nbad: \"x\n---\nfine: 2\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 2, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].document, Some(0));
    assert_eq!(loaded.errors[1].document, Some(2));
    assert!(loaded.errors.iter().all(|error| error.span.len() <= 1));
    assert!(!loaded.errors[0].message.is_empty());
    let found: Vec<(usize, serde_json::Value)> = loaded
        .documents
        .iter()
        .map(|d| (d.index, d.root.to_json()))
        .collect();
    assert_eq!(found, [(1, json!({"ok": 1})), (3, json!({"fine": 2}))]);
    // An error before any document start still counts as a document.
    let loaded = load("]\n---\na: 1\n");
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].span, Span::new(0, 1));
    assert_eq!(loaded.errors[0].document, Some(0));
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.documents[0].index, 1);
    // Tabs as indentation are an error, reported on the tab's line.
    let text = "a:\n\tb: 1\n";
    let error = only_error(text);
    assert!(error.span.start >= 3 && error.span.end <= 6, "{error:?}");
}

#[test]
fn hostile_inputs_fail_without_panicking() {
    for text in [
        "[".repeat(100_000),
        "{".repeat(100_000),
        "- ".repeat(5_000),
        "a:\n".repeat(3) + &"[".repeat(20_000) + "x",
        "\u{feff}".repeat(3),
        "\"\\ud800\"".to_owned(),
        "&a [*a, *b, ".to_owned(),
        "--- !<tag:yaml.org,2002:int> |\n x".to_owned(),
        "? ? ? ? a".to_owned(),
        "*".to_owned(),
        "%YAML 1.1\n".to_owned(),
        "a: \u{0}".to_owned(),
    ] {
        let _ = load(&text);
    }
}

#[test]
fn nesting_deeper_than_500_levels_is_an_error() {
    let deep = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    let document = single(&deep(500));
    assert!(matches!(document.root.value, Value::Sequence(_)));
    let text = deep(10_000);
    let loaded = load(&text);
    assert!(loaded.documents.is_empty());
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].message, "nesting deeper than 500 levels");
    assert_eq!(loaded.errors[0].span.start, 500);
    // Block and flow nesting add up.
    let mut text = String::new();
    for level in 0..300 {
        text.push_str(&" ".repeat(level));
        text.push_str("k:\n");
    }
    text.push_str(&" ".repeat(300));
    text.push_str(&deep(300));
    text.push_str("\n---\nafter: 1\n");
    let loaded = load(&text);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(loaded.errors[0].message, "nesting deeper than 500 levels");
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.documents[0].index, 1);
    // Aliases cannot stack copies deeper than the limit either.
    let text = format!(
        "a: &a {}\nb: {}*a{}\n",
        deep(300),
        "[".repeat(250),
        "]".repeat(250)
    );
    let error = only_error(&text);
    assert_eq!(error.message, "nesting deeper than 500 levels");
    assert_eq!(slice(&text, error.span), "*a");
}

#[test]
fn alias_bombs_are_stopped() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    text.push_str("---\nafter: ok\n");
    let started = std::time::Instant::now();
    let loaded = load(&text);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert_eq!(
        loaded.errors[0].message,
        "alias expansion exceeds 1000000 nodes"
    );
    assert_eq!(loaded.errors[0].document, Some(0));
    assert_eq!(loaded.documents.len(), 1);
    assert_eq!(loaded.documents[0].root.to_json(), json!({"after": "ok"}));
}

#[test]
fn document_spans_cover_markers_and_content() {
    let text = "# leading comment\napiVersion: v1\n...\n--- \n- a\n- b\n\n# trailing\n";
    let loaded = load(text);
    assert_eq!(loaded.errors, []);
    assert_eq!(slice(text, loaded.documents[0].span), "apiVersion: v1\n...");
    assert_eq!(slice(text, loaded.documents[1].span), "--- \n- a\n- b");
    assert_eq!(slice(text, loaded.documents[1].root.span), "- a\n- b");
}

#[test]
fn indentless_sequences_start_at_their_first_dash() {
    let text = "\
containers:
- name: a
  args:
  - --verbose
  - !!str &flag --port
- - nested
  - pair
-   - wide
";
    let document = single(text);
    let root = &document.root;
    assert_eq!(
        root.to_json(),
        json!({"containers": [
            {"name": "a", "args": ["--verbose", "--port"]},
            ["nested", "pair"],
            ["wide"]
        ]})
    );
    assert_eq!(
        written(text, root, "/containers"),
        text.trim_end().split_once('\n').expect("two lines").1
    );
    assert_eq!(
        written(text, root, "/containers/0/args"),
        "- --verbose\n  - !!str &flag --port"
    );
    assert_eq!(written(text, root, "/containers/0/args/1"), "--port");
    assert_eq!(written(text, root, "/containers/1"), "- nested\n  - pair");
    assert_eq!(written(text, root, "/containers/2"), "- wide");
    assert_eq!(
        written(text, root, "/containers/0"),
        "name: a\n  args:\n  - --verbose\n  - !!str &flag --port"
    );
}

#[test]
fn a_bom_before_a_block_scalar_root_keeps_offsets() {
    let text = "\u{feff}|\n  body\n";
    let document = single(text);
    assert_eq!(slice(text, document.root.span), "|\n  body");
    assert_eq!(document.root.as_str(), Some("body\n"));
    assert_eq!(document.span.start, 3);
}

#[test]
fn a_block_scalar_ending_the_file_gets_no_line_feed_as_in_libyaml() {
    let text = "a: |\n  text";
    let document = single(text);
    assert_eq!(document.root.get("a").and_then(Node::as_str), Some("text"));
    assert_eq!(written(text, &document.root, "/a"), "|\n  text");
}

#[test]
fn a_template_expression_gets_a_hint() {
    let loaded = load("metadata:\n  name: {{ .Values.name }}\n");
    let error = &loaded.errors[0];
    assert!(
        error.message.contains("template expression"),
        "{}",
        error.message
    );
    assert_eq!(error.span.start, "metadata:\n  name: ".len());
}

#[test]
fn a_template_action_starting_a_line_is_named_instead_of_the_parsers_complaint() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    {{- include \"shop.labels\" . | nindent 4 }}\nspec:\n  replicas: 1\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    let error = &loaded.errors[0];
    assert!(
        error
            .message
            .starts_with("`{{-` at the start of a line is a Go template action (Helm)"),
        "{}",
        error.message
    );
    let at = text.find("{{-").unwrap();
    assert_eq!((error.span.start, error.span.end), (at, at + 3));

    // Without a template line, the parser's own words.
    let loaded = load("a: [1\nb: 2\n");
    assert!(
        !loaded.errors[0].message.contains("template"),
        "{}",
        loaded.errors[0].message
    );
}
