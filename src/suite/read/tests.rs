use super::*;

/// Read `text` as a test file in a scratch directory holding `files`.
fn read_text(text: &str, files: &[(&str, &str)]) -> Result<TestFile, TestFileError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let path = dir.path().join("admit-test.yaml");
    std::fs::write(&path, text).unwrap();
    read(&path)
}

/// The message and `line:col` of the error reading `text` gives.
fn error(text: &str) -> (String, String) {
    let error = read_text(text, &[("pod.yaml", "kind: Pod\n")]).unwrap_err();
    let location = error.location().map(|l| l.to_string()).unwrap_or_default();
    (error.message, location)
}

const POD: &str = "policies: [{id: privileged}]\ncases:\n  - name: a\n    manifest: pod.yaml\n";

#[test]
fn a_file_of_policies_and_cases_reads() {
    let text = format!(
        "{POD}    expect:\n      result: rejected\n      findings:\n        - at: \"1:7\"\n          message: m\n  - name: b\n    request: {{kind: AdmissionReview}}\n    expect: {{result: allowed, patch: []}}\n"
    );
    let file = read_text(&text, &[("pod.yaml", "kind: Pod\n")]).unwrap();
    assert_eq!(file.cases.len(), 2);
    assert_eq!(file.policies[0].key, "privileged");
    let findings = file.cases[0].expect.findings.as_ref().unwrap();
    let at = findings[0].at.as_ref().unwrap();
    assert!(at.file.ends_with("pod.yaml"), "{at}");
    assert_eq!((at.line, at.column), (1, 7));
    assert!(matches!(file.cases[1].input, CaseInput::Request(_)));
}

#[test]
fn mistakes_are_reported_at_their_line() {
    let (message, at) = error(&format!("{POD}    expct:\n      result: allowed\n"));
    assert_eq!(message, "unknown key `expct` in a case");
    assert_eq!(at, "5:5");
    let (message, at) = error(&format!("{POD}    expect: {{result: passed}}\n"));
    assert_eq!(message, "`passed` is not a valid result");
    assert_eq!(at, "5:22");
    let (message, _) = error(
        "policies: [{id: privileged}]\ncases:\n  - name: a\n    manifest: nope.yaml\n    expect: {result: allowed}\n",
    );
    assert!(message.starts_with("no such file: "), "{message}");
    let (message, at) = error("policies: [{id: privilidged}]\ncases: []\n");
    assert_eq!(message, "unknown built-in policy `privilidged`");
    assert_eq!(at, "1:17");
    let (message, _) = error(&format!(
        "{POD}    expect: {{result: allowed}}\n  - name: a\n    manifest: pod.yaml\n    expect: {{result: allowed}}\n"
    ));
    assert_eq!(message, "a second case named `a`");
    let (message, _) = error(
        "policies: [{id: privileged}]\ncases:\n  - name: r\n    request: {}\n    expect: {result: skipped}\n",
    );
    assert!(
        message.starts_with("a request is always evaluated"),
        "{message}"
    );
    let (message, _) = error(&format!(
        "{POD}    expect: {{result: allowed, findings: [{{at: \"x:1\"}}]}}\n"
    ));
    assert_eq!(message, "`x:1` is not a place");
}

#[test]
fn settings_and_patches_belong_to_one_policy() {
    let two = "policies: [{id: privileged}, {id: image-tag}]\ncases:\n  - name: a\n    manifest: pod.yaml\n";
    let (message, _) = error(&format!(
        "{two}    settings: {{}}\n    expect: {{result: allowed}}\n"
    ));
    assert!(
        message.starts_with(
            "`settings` replaces the settings of the case's one policy, but it runs 2"
        ),
        "{message}"
    );
    let (message, _) = error(&format!(
        "{two}    expect: {{result: allowed, patch: []}}\n"
    ));
    assert!(
        message.starts_with("`patch` is the one policy's mutation"),
        "{message}"
    );
    let (message, _) = error(&format!(
        "{two}    policies: [image-tags]\n    expect: {{result: allowed}}\n"
    ));
    assert_eq!(message, "no policy `image-tags` in this file");
}
