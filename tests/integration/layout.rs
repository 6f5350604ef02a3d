//! The module tree's one rule: imports run one way. A module never imports one above it, so
//! the layers can be read (and changed) from the bottom up.

use crate::support::root;

/// The `use` and path lines of every `.rs` file under `src/<dir>`, with the file they are in.
fn imports(dir: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root().join("src").join(dir)];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            for line in text.lines().map(str::trim) {
                if line.starts_with("use ")
                    || line.starts_with("pub use ")
                    || line.contains("crate::")
                {
                    found.push((name.clone(), line.to_string()));
                }
            }
        }
    }
    found
}

#[track_caller]
fn never(dir: &str, forbidden: &[&str]) {
    let offending: Vec<_> = imports(dir)
        .into_iter()
        .filter(|(_, line)| forbidden.iter().any(|f| line.contains(f)))
        .collect();
    assert!(
        offending.is_empty(),
        "src/{dir} imports from above it: {offending:#?}"
    );
}

#[test]
fn the_pipeline_stages_never_import_the_commands_that_drive_them() {
    let above = [
        "crate::check",
        "crate::commands",
        "crate::cli",
        "crate::config",
        "crate::reports",
    ];
    for stage in [
        "documents",
        "requests",
        "policies",
        "objects",
        "inputs.rs",
        "source.rs",
        "findings.rs",
        "suppressions.rs",
    ] {
        never(stage, &above);
    }
    never(
        "documents",
        &["crate::requests", "crate::policies", "crate::findings"],
    );
    never("requests", &["crate::policies", "crate::findings"]);
}

/// How a module in `src/policies` names its sibling `module`.
fn paths_to(modules: &[&str]) -> Vec<String> {
    modules
        .iter()
        .flat_map(|m| [format!("super::{m}"), format!("policies::{m}")])
        .collect()
}

#[test]
fn the_policy_runtime_stands_below_every_abi_and_no_abi_imports_another() {
    let check = |dir: &str, modules: &[&str]| {
        let paths = paths_to(modules);
        never(dir, &paths.iter().map(String::as_str).collect::<Vec<_>>());
    };
    check("policies/runtime", &["wapc", "wasi", "opa", "policy"]);
    check("policies/wapc.rs", &["wasi", "opa", "policy"]);
    check("policies/wasi", &["wapc", "opa", "policy"]);
    check("policies/opa", &["wapc", "wasi", "policy"]);
    assert!(root().join("src/policies/runtime").is_dir());
}

/// With `autotests = false`, a test file at the top of `tests/` would never be compiled: every
/// test lives in this binary's modules.
#[test]
fn no_test_file_sits_outside_the_integration_binary() {
    let stray: Vec<_> = std::fs::read_dir(root().join("tests"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    assert!(
        stray.is_empty(),
        "declare these in tests/integration/main.rs: {stray:?}"
    );
}
