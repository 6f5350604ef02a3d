//! The request a policy receives is the one a cluster would send.

use crate::support::{admit_in, policy, scratch};

const POD: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: nginx:1.27
      resources:
        limits: {cpu: 1, memory: 1000000000}
        requests: {cpu: 0.5, memory: 64Mi}
      ports: [{containerPort: 8080}]
";

/// What `wasi-policy` received at `pointer` of the object in `admit check`'s request.
fn received(dir: &std::path::Path, file: &str, pointer: &str) -> String {
    let settings = format!(r#"{{"show": "{pointer}"}}"#);
    let run = admit_in(
        dir,
        &[
            "check",
            file,
            "--policy",
            &policy("wasi-policy"),
            "--settings",
            &settings,
            "--format",
            "concise",
            "--no-cache",
        ],
        None,
    );
    let line = run.stdout.lines().next().unwrap_or_default();
    line.split_once(" is ")
        .map(|(_, shown)| shown.to_string())
        .unwrap_or_else(|| {
            panic!(
                "no answer from wasi-policy:\n{}\n{}",
                run.stdout, run.stderr
            )
        })
}

#[test]
fn a_quantity_written_as_a_number_reaches_the_policy_as_the_api_server_writes_it() {
    let dir = scratch(&[("pod.yaml", POD)]);
    let at = |pointer: &str| received(dir.path(), "pod.yaml", pointer);
    assert_eq!(at("/spec/containers/0/resources/limits/cpu"), r#""1""#);
    assert_eq!(at("/spec/containers/0/resources/limits/memory"), r#""1G""#);
    assert_eq!(at("/spec/containers/0/resources/requests/cpu"), r#""500m""#);
    // A string stays as written; a number elsewhere stays a number.
    assert_eq!(
        at("/spec/containers/0/resources/requests/memory"),
        r#""64Mi""#
    );
    assert_eq!(at("/spec/containers/0/ports/0/containerPort"), "8080");
}

#[test]
fn quantities_of_old_api_versions_and_other_kinds_are_strings_too() {
    let daemonset = "\
apiVersion: extensions/v1beta1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      containers: [{name: a, image: a:1, resources: {limits: {cpu: 2}}}]
      volumes: [{name: tmp, emptyDir: {sizeLimit: 1000}}]
";
    let quota =
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: 10}}\n";
    let dir = scratch(&[("ds.yaml", daemonset), ("quota.yaml", quota)]);
    let spec = "/spec/template/spec";
    assert_eq!(
        received(
            dir.path(),
            "ds.yaml",
            &format!("{spec}/containers/0/resources/limits/cpu")
        ),
        r#""2""#
    );
    assert_eq!(
        received(
            dir.path(),
            "ds.yaml",
            &format!("{spec}/volumes/0/emptyDir/sizeLimit")
        ),
        r#""1k""#
    );
    assert_eq!(
        received(dir.path(), "quota.yaml", "/spec/hard/pods"),
        r#""10""#
    );
}

#[test]
fn a_mutation_is_diffed_against_the_object_the_policy_received() {
    // The mutating test policy echoes the whole object back with one field added: the
    // quantities it received as strings are not changes.
    let dir = scratch(&[("pod.yaml", POD)]);
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "pod.yaml",
            "--policy",
            &policy("pull-policy"),
            "--format",
            "concise",
            "--no-cache",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let notes: Vec<&str> = run.stdout.lines().filter(|l| l.contains("note[")).collect();
    assert_eq!(
        notes,
        [
            "pod.yaml:6:7: note[pull-policy] would add /spec/containers/0/imagePullPolicy = \"Always\""
        ]
    );
}

#[test]
fn run_with_a_manifest_sends_the_same_object() {
    let dir = scratch(&[("pod.yaml", POD)]);
    let run = admit_in(
        dir.path(),
        &[
            "run",
            &policy("wasi-policy"),
            "--manifest",
            "pod.yaml",
            "--settings-json",
            r#"{"show": "/spec/containers/0/resources/limits/cpu"}"#,
        ],
        None,
    );
    assert!(
        run.stdout
            .contains(r#"/spec/containers/0/resources/limits/cpu is \"1\""#),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}
