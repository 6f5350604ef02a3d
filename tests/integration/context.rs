//! Context-aware policies (tests/policies/context-aware, on the Kubewarden SDK's
//! `host_capabilities::kubernetes`) answered from the repository's own objects: scoped as the
//! cluster scopes them, the object under evaluation left out, granted only when allowed, the
//! same output whatever the thread count, and kwctl's recorded sessions replayed.

use std::path::Path;

use crate::support::{Run, admit_env, policy, root, scratch};

fn ingress(name: &str, namespace: &str, host: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  rules:\n  - host: {host}\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service: {{name: web, port: {{number: 80}}}}\n"
    )
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      serviceAccountName: web\n      containers:\n      - name: web\n        image: nginx:1.27\n";

const SERVICE_ACCOUNT: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n";

/// `admit check` in `dir` with the context-aware policy running `check`, a cache of the
/// directory's own.
fn check(dir: &Path, check: &str, extra: &[&str]) -> Run {
    let module = policy("context-aware");
    let settings = format!("{{\"check\": \"{check}\"}}");
    let mut args = vec!["check", "--policy", &module, "--settings", &settings];
    args.extend_from_slice(extra);
    let cache = dir.join(".cache");
    admit_env(
        dir,
        &args,
        None,
        &[("ADMIT_CACHE_DIR", &cache), ("COLUMNS", Path::new("400"))],
    )
}

#[test]
fn ingress_hosts_are_checked_across_the_repository() {
    let repo = scratch(&[
        ("front.yaml", &ingress("front", "blog", "shop.example.com")),
        ("shop.yaml", &ingress("shop", "shop", "shop.example.com")),
        ("docs.yaml", &ingress("docs", "docs", "docs.example.com")),
    ]);
    let run = check(
        repo.path(),
        "unique-ingress-host",
        &["--allow-context-aware", "--format", "concise", "."],
    );
    run.code(1);
    // Each of the two sees the other; the third sees nothing to object to.
    assert!(run.stdout.contains("front.yaml:8:11: error[context-aware] host \"shop.example.com\" is already used by Ingress shop/shop"), "{}", run.stdout);
    assert!(run.stdout.contains("shop.yaml:8:11: error[context-aware] host \"shop.example.com\" is already used by Ingress blog/front"), "{}", run.stdout);
    assert!(!run.stdout.contains("docs.yaml:"), "{}", run.stdout);

    // One alone sees nothing: at its CREATE it is not in the cluster yet.
    let alone = scratch(&[("shop.yaml", &ingress("shop", "shop", "shop.example.com"))]);
    check(
        alone.path(),
        "unique-ingress-host",
        &["--allow-context-aware", "."],
    )
    .code(0);
}

#[test]
fn a_service_account_must_exist_in_the_repository() {
    let repo = scratch(&[("deployment.yaml", DEPLOYMENT)]);
    let run = check(
        repo.path(),
        "service-account-exists",
        &["--allow-context-aware", "--format", "concise", "."],
    );
    run.code(1);
    assert!(
        run.stdout.contains(
            "deployment.yaml:13:27: error[context-aware] ServiceAccount shop/web does not exist"
        ),
        "{}",
        run.stdout
    );

    std::fs::write(repo.path().join("account.yaml"), SERVICE_ACCOUNT).unwrap();
    // The result cache knows deployment.yaml unchanged, but what its policy read changed.
    let run = check(
        repo.path(),
        "service-account-exists",
        &["--allow-context-aware", "."],
    );
    run.code(0);
    assert!(!run.stdout.contains("unchanged"), "{}", run.stdout);
}

#[test]
fn context_aware_access_must_be_allowed_and_says_how() {
    let repo = scratch(&[
        ("deployment.yaml", DEPLOYMENT),
        ("account.yaml", SERVICE_ACCOUNT),
    ]);
    let run = check(
        repo.path(),
        "service-account-exists",
        &["--format", "concise", "."],
    );
    run.code(2);
    assert!(
        run.stdout.contains(
            "Policy has not been granted access to Kubernetes v1/ServiceAccount resources"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--allow-context-aware"),
        "{}",
        run.stdout
    );

    // Per policy, in admit.yaml.
    std::fs::write(
        repo.path().join("admit.yaml"),
        format!(
            "policies:\n  - module: {}\n    settings: {{check: service-account-exists}}\n    allow-context-aware: true\n",
            policy("context-aware")
        ),
    )
    .unwrap();
    let cache = repo.path().join(".cache");
    admit_env(
        repo.path(),
        &["check", "."],
        None,
        &[("ADMIT_CACHE_DIR", &cache)],
    )
    .code(0);
}

#[test]
fn context_files_answer_calls_and_are_not_checked() {
    let namespace =
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {team: payments}\n";
    let repo = scratch(&[("deployment.yaml", DEPLOYMENT), ("cluster.yaml", namespace)]);
    let module = policy("context-aware");
    let settings = "{\"check\": \"namespace-label\", \"label\": \"team\"}";
    let cache = repo.path().join(".cache");
    let run_with = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--policy",
            &module,
            "--settings",
            settings,
            "--allow-context-aware",
            "deployment.yaml",
        ];
        args.extend_from_slice(extra);
        admit_env(
            repo.path(),
            &args,
            None,
            &[("ADMIT_CACHE_DIR", &cache), ("COLUMNS", Path::new("400"))],
        )
    };
    let run = run_with(&[]);
    run.code(1);
    assert!(
        run.stdout
            .contains("Namespace shop does not exist, so it cannot have the label \"team\""),
        "{}",
        run.stdout
    );
    let run = run_with(&["--context", "cluster.yaml"]);
    run.code(0);
    assert!(run.stdout.contains("Checked 1 file,"), "{}", run.stdout);
    // The same from admit.yaml's `context:`.
    std::fs::write(repo.path().join("admit.yaml"), "context: [cluster.yaml]\n").unwrap();
    run_with(&[]).code(0);
}

#[test]
fn selectors_and_rbac_are_answered_from_the_repository() {
    let service = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  selector:\n    app: api\n  ports: [{{port: 80}}]\n"
        )
    };
    let repo = scratch(&[
        ("a.yaml", &service("api")),
        ("b.yaml", &service("api-copy")),
    ]);
    let run = check(
        repo.path(),
        "same-selector",
        &["--allow-context-aware", "--format", "concise", "."],
    );
    run.code(1);
    assert!(
        run.stdout.contains(
            "a.yaml:7:3: error[context-aware] Service shop/api-copy has the same selector app=api"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "b.yaml:7:3: error[context-aware] Service shop/api has the same selector app=api"
        ),
        "{}",
        run.stdout
    );

    let rbac = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: deployer, namespace: shop}\nrules:\n- apiGroups: [apps]\n  resources: [deployments]\n  verbs: [create]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: alice-deploys, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}\nsubjects:\n- {kind: User, name: alice}\n";
    let repo = scratch(&[("deployment.yaml", DEPLOYMENT), ("rbac.yaml", rbac)]);
    let module = policy("context-aware");
    let cache = repo.path().join(".cache");
    let ask = |user: &str| {
        let settings = format!(
            "{{\"check\": \"can-i\", \"user\": \"{user}\", \"verb\": \"create\", \"resource\": \"deployments\", \"group\": \"apps\"}}"
        );
        admit_env(
            repo.path(),
            &[
                "check",
                "--policy",
                &module,
                "--settings",
                &settings,
                "--allow-context-aware",
                "--format",
                "concise",
                ".",
            ],
            None,
            &[("ADMIT_CACHE_DIR", &cache)],
        )
    };
    ask("alice").code(0);
    let bob = ask("bob");
    bob.code(1);
    assert!(
        bob.stdout
            .contains("user \"bob\" may not create deployments.apps in namespace \"shop\""),
        "{}",
        bob.stdout
    );
}

#[test]
fn the_output_is_the_same_whatever_the_thread_count() {
    let mut files: Vec<(String, String)> = Vec::new();
    for index in 0..40 {
        let host = format!("host{}.example.com", index % 7);
        files.push((
            format!("ingress{index}.yaml"),
            ingress(&format!("i{index}"), "web", &host),
        ));
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let repo = scratch(&borrowed);
    let one = check(
        repo.path(),
        "unique-ingress-host",
        &[
            "--allow-context-aware",
            "--no-cache",
            "--format",
            "json",
            "-j",
            "1",
            ".",
        ],
    );
    let two = check(
        repo.path(),
        "unique-ingress-host",
        &[
            "--allow-context-aware",
            "--no-cache",
            "--format",
            "json",
            "-j",
            "2",
            ".",
        ],
    );
    one.code(1);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"seconds\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&one.stdout), strip(&two.stdout));
}

#[test]
fn a_kwctl_session_replays_and_a_recording_replays_the_same() {
    let sessions = root().join("tests/policies/context-aware/sessions");
    let manifest = sessions.join("deployment-shop-web.yaml");
    let module = policy("context-aware");
    let settings = "{\"check\": \"service-account-exists\"}";
    let replay = |session: &str| {
        admit_env(
            &root(),
            &[
                "run",
                &module,
                "--settings-json",
                settings,
                "--allow-context-aware",
                "--replay-host-capabilities-interactions",
                &sessions.join(session).display().to_string(),
                "--manifest",
                &manifest.display().to_string(),
            ],
            None,
            &[],
        )
    };
    let found = replay("service-account-found.yml");
    found.code(0);
    assert!(
        found.stdout.contains("\"allowed\":true"),
        "{}",
        found.stdout
    );
    let missing = replay("service-account-not-found.yml");
    missing.code(0);
    assert!(
        missing.stdout.contains("\"allowed\":false"),
        "{}",
        missing.stdout
    );
    assert!(
        missing
            .stdout
            .contains("ServiceAccount shop/web does not exist"),
        "{}",
        missing.stdout
    );

    // admit check records what the repository answered; replaying it gives the same report
    // without the repository's other files (only the repository's objects are answers: a file
    // left out of the run is not one).
    let repo = scratch(&[
        ("deployment.yaml", DEPLOYMENT),
        ("account.yaml", SERVICE_ACCOUNT),
    ]);
    let session = repo.path().join("session.yml");
    let recorded = check(
        repo.path(),
        "service-account-exists",
        &[
            "--allow-context-aware",
            "--record-host-capabilities-interactions",
            "session.yml",
            ".",
        ],
    );
    recorded.code(0);
    let text = std::fs::read_to_string(&session).unwrap();
    assert!(
        text.contains("!KubernetesGetResource") && text.contains("type: Success"),
        "{text}"
    );
    std::fs::remove_file(repo.path().join("account.yaml")).unwrap();
    let replayed = check(
        repo.path(),
        "service-account-exists",
        &[
            "--allow-context-aware",
            "--replay-host-capabilities-interactions",
            "session.yml",
            "deployment.yaml",
        ],
    );
    replayed.code(0);
    let live = check(
        repo.path(),
        "service-account-exists",
        &["--allow-context-aware", "deployment.yaml"],
    );
    live.code(1);
}
