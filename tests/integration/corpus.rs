//! Smoke test over ../shared/corpus, real-world manifests written by many hands: every file
//! loads or fails with a diagnostic, nothing panics. Run with `-- --nocapture` to read the
//! report of what loaded and what failed, and why.

use std::collections::BTreeMap;
use std::path::PathBuf;

use admit::documents;
use admit::inputs;
use admit::objects;
use admit::requests::{ResourceCatalog, build_request};

use crate::support;

fn corpus() -> PathBuf {
    support::root().join("../shared/corpus")
}

#[test]
fn every_corpus_file_loads_or_fails_with_a_diagnostic() {
    let corpus = corpus();
    assert!(
        corpus.is_dir(),
        "the shared corpus is missing at {}",
        corpus.display()
    );
    let inputs::Collected {
        inputs: files,
        errors: walk_errors,
        ..
    } = inputs::collect(std::slice::from_ref(&corpus), "-");
    assert!(walk_errors.is_empty(), "{walk_errors:?}");

    let catalog = ResourceCatalog::builtin();
    let mut objects_loaded = 0;
    let mut skipped = 0;
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut guessed = BTreeMap::new();
    for input in &files {
        let file = match inputs::read(input) {
            Ok(file) => file,
            Err(error) => {
                failures
                    .entry(input.name.clone())
                    .or_default()
                    .push(error.message);
                continue;
            }
        };
        let loaded = documents::load(file.text());
        for error in &loaded.errors {
            let at = file.location(error.span.start);
            failures
                .entry(input.name.clone())
                .or_default()
                .push(format!("{at}: {}", error.message));
        }
        for document in &loaded.documents {
            let extracted = objects::extract(document, &[]);
            skipped += extracted.skipped.len();
            for object in extracted.objects {
                match build_request(object.node.to_json(), &catalog) {
                    Ok(built) => {
                        objects_loaded += 1;
                        for warning in built.warnings {
                            *guessed.entry(warning.message).or_insert(0) += 1;
                        }
                    }
                    Err(error) => failures
                        .entry(input.name.clone())
                        .or_default()
                        .push(error.to_string()),
                }
            }
        }
    }

    let prefix = format!("{}/", corpus.display());
    println!(
        "corpus: {} files, {objects_loaded} objects loaded, {skipped} documents skipped (not objects), {} files with errors",
        files.len(),
        failures.len()
    );
    for (name, reasons) in &failures {
        for reason in reasons {
            println!("  failed: {}: {reason}", name.trim_start_matches(&prefix));
        }
    }
    for (warning, count) in &guessed {
        println!("  warning ({count}×): {warning}");
    }

    assert!(
        files.len() > 200,
        "expected the whole corpus, walked {}",
        files.len()
    );
    assert!(objects_loaded > 250, "only {objects_loaded} objects loaded");
    // Real-world YAML is mostly valid: a jump in failures means a loader regression.
    assert!(
        failures.len() * 20 < files.len(),
        "{} of {} files failed",
        failures.len(),
        files.len()
    );
}

#[test]
fn checking_the_whole_corpus_never_crashes() {
    let corpus = corpus();
    let run = support::admit(&[
        "check",
        corpus.to_str().unwrap(),
        "--policy",
        &support::policy("privileged"),
    ]);
    assert!(
        [0, 1, 2].contains(&run.code),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    println!("{}", run.summary());
    assert!(run.summary().starts_with("Checked "), "{}", run.summary());
}

#[test]
fn the_recommended_set_runs_over_the_corpus_without_policy_errors() {
    let corpus = corpus();
    let (found, code) = support::findings(&[corpus.to_str().unwrap()]);
    assert!([0, 1, 2].contains(&code), "exit {code}");
    let builtins: Vec<&str> = admit::policies::builtin::BUILTINS
        .iter()
        .map(|b| b.id)
        .collect();
    let policy_errors: Vec<&support::Found> = found
        .iter()
        .filter(|f| f.kind == "error" && builtins.contains(&f.policy.as_str()))
        .collect();
    assert!(
        policy_errors.is_empty(),
        "built-in policies failed: {policy_errors:#?}"
    );

    let mut per_policy: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in found.iter().filter(|f| f.kind == "rejection") {
        *per_policy.entry(finding.policy.as_str()).or_default() += 1;
    }
    println!("recommended over the corpus: findings per policy");
    for (policy, count) in &per_policy {
        println!("  {policy:32} {count}");
    }
}
