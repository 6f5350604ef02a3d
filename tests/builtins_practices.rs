//! The best-practice built-in policies, run by the admit binary on their fixtures: every
//! finding of `fail.yaml` at its exact place, nothing on `pass.yaml`, and settings that are
//! rejected before any object is checked.

mod support;

use support::Found;

/// Run policy `id` (its committed module) on `fixtures/policies/<id>/<file>`, with `settings`.
fn run(id: &str, file: &str, settings: Option<&str>) -> (Vec<Found>, i32) {
    let target = format!("fixtures/policies/{id}/{file}");
    let module = format!("policies/{id}/{id}.wasm");
    let mut args = vec![target.as_str(), "--policy", module.as_str()];
    if let Some(settings) = settings {
        args.extend(["--settings", settings]);
    }
    support::findings(&args)
}

/// A rejection by `policy` at `line:col` of `fixtures/policies/<policy>/fail.yaml`.
fn rejection(policy: &str, line_col: &str, pointer: &str, message: &str) -> Found {
    Found {
        at: format!("fixtures/policies/{policy}/fail.yaml:{line_col}"),
        policy: policy.into(),
        pointer: pointer.into(),
        message: message.into(),
        kind: "rejection".into(),
    }
}

/// The error reported for settings `policy` rejects; the policy then checks nothing.
fn invalid_settings(policy: &str, message: &str) -> Found {
    Found {
        at: "::".into(),
        policy: policy.into(),
        pointer: String::new(),
        message: format!("invalid settings: {message}"),
        kind: "error".into(),
    }
}

#[track_caller]
fn assert_passes(id: &str, settings: Option<&str>) {
    let (found, code) = run(id, "pass.yaml", settings);
    assert_eq!(found, [], "{id}: pass.yaml must produce nothing");
    assert_eq!(code, 0, "{id}: pass.yaml exit code");
}

#[track_caller]
fn assert_rejects_settings(id: &str, settings: &str, message: &str) {
    // The directory: both fixtures are skipped, since the policy never runs.
    let target = format!("fixtures/policies/{id}");
    let module = format!("policies/{id}/{id}.wasm");
    let (found, code) = support::findings(&[&target, "--policy", &module, "--settings", settings]);
    assert_eq!(found, [invalid_settings(id, message)]);
    assert_eq!(code, 2);
}

#[test]
fn automount_service_account_token() {
    let id = "automount-service-account-token";
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(
        found,
        [
            // Missing: reported at the pod spec it should be added to.
            rejection(
                id,
                "16:5",
                "/spec/template/spec/automountServiceAccountToken",
                "the pod mounts its service account token by default; add \
                 automountServiceAccountToken: false to spec.template.spec unless it calls the \
                 Kubernetes API",
            ),
            rejection(
                id,
                "32:41",
                "/spec/jobTemplate/spec/template/spec/automountServiceAccountToken",
                "spec.jobTemplate.spec.template.spec.automountServiceAccountToken is true; set \
                 it to false and mount a projected serviceAccountToken volume only into the \
                 container that calls the Kubernetes API",
            ),
            // Missing at the top level: reported at the ServiceAccount's first line.
            rejection(
                id,
                "38:1",
                "/automountServiceAccountToken",
                "ServiceAccount does not set automountServiceAccountToken, so its token is \
                 mounted into every pod that uses it; add automountServiceAccountToken: false at \
                 the top level of the ServiceAccount",
            ),
        ]
    );
    assert_eq!(code, 1);
    assert_passes(id, None);
}

#[test]
fn default_namespace() {
    let id = "default-namespace";
    let explicit = [
        rejection(
            id,
            "7:14",
            "/metadata/namespace",
            "ConfigMap is placed in the \"default\" namespace; give the application a namespace \
             of its own",
        ),
        rejection(
            id,
            "14:14",
            "/metadata/namespace",
            "Deployment is placed in the \"default\" namespace; give the application a \
             namespace of its own",
        ),
    ];
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(found, explicit);
    assert_eq!(code, 1);

    // require_namespace adds the Service that names none, at its `metadata` key.
    let (found, code) = run(id, "fail.yaml", Some(r#"{"require_namespace": true}"#));
    let mut expected = explicit.to_vec();
    expected.push(rejection(
        id,
        "31:1",
        "/metadata/namespace",
        "Service has no namespace, so it lands in whatever namespace kubectl uses; set \
         metadata.namespace",
    ));
    assert_eq!(found, expected);
    assert_eq!(code, 1);

    assert_passes(id, None);
    assert_rejects_settings(
        id,
        r#"{"require_namespace": "yes"}"#,
        "invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn env_secrets() {
    let id = "env-secrets";
    let advice = "keep credentials in a Secret and use valueFrom.secretKeyRef";
    let web = "/spec/template/spec/containers/0/env";
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(
        found,
        [
            rejection(
                id,
                "22:22",
                "/spec/template/spec/initContainers/0/env/0/value",
                &format!(
                    "init container \"fetch\" sets REPO to what looks like a GitHub token; {advice}"
                ),
            ),
            rejection(
                id,
                "30:22",
                &format!("{web}/1/value"),
                &format!("container \"web\" sets DB_PASSWORD to a literal value; {advice}"),
            ),
            rejection(
                id,
                "32:22",
                &format!("{web}/2/value"),
                &format!(
                    "container \"web\" sets AWS_ACCESS_KEY_ID to what looks like an AWS access \
                     key id; {advice}"
                ),
            ),
            rejection(
                id,
                "34:22",
                &format!("{web}/3/value"),
                &format!("container \"web\" sets apiKey to a literal value; {advice}"),
            ),
            rejection(
                id,
                "36:22",
                &format!("{web}/4/value"),
                &format!(
                    "container \"web\" sets DATABASE_URL to what looks like a URL with a \
                     password in it; {advice}"
                ),
            ),
            // A block scalar: reported at its `|`.
            rejection(
                id,
                "55:26",
                "/spec/jobTemplate/spec/template/spec/containers/0/env/0/value",
                &format!(
                    "container \"sign\" sets TLS_KEY to what looks like a private key; {advice}"
                ),
            ),
            rejection(
                id,
                "71:18",
                "/spec/containers/0/env/0/value",
                &format!(
                    "container \"client\" sets AUTHORIZATION to what looks like a JSON Web \
                     Token; {advice}"
                ),
            ),
        ]
    );
    assert_eq!(code, 1);
    for finding in &found {
        for secret in ["hunter2", "AKIAIOSFODNN7EXAMPLE", "ghp_", "eyJ", "0c7e1f2a"] {
            assert!(!finding.message.contains(secret), "{}", finding.message);
        }
    }
    assert_passes(id, None);
}

#[test]
fn deprecated_api_versions() {
    let id = "deprecated-api-versions";
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(
        found,
        [
            rejection(
                id,
                "3:13",
                "/apiVersion",
                "extensions/v1beta1 Ingress was removed in Kubernetes 1.22; use \
                 networking.k8s.io/v1",
            ),
            rejection(
                id,
                "13:13",
                "/apiVersion",
                "batch/v1beta1 CronJob was removed in Kubernetes 1.25; use batch/v1",
            ),
            rejection(
                id,
                "29:13",
                "/apiVersion",
                "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25; use policy/v1",
            ),
            rejection(
                id,
                "40:13",
                "/apiVersion",
                "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema was removed in Kubernetes 1.32; \
                 use flowcontrol.apiserver.k8s.io/v1",
            ),
        ]
    );
    assert_eq!(code, 1);

    // For 1.24 the CronJob and the PDB are still served, and v1beta3 FlowSchema is current.
    let (found, code) = run(id, "fail.yaml", Some(r#"{"kubernetes_version": "1.24"}"#));
    assert_eq!(
        found,
        [
            rejection(
                id,
                "3:13",
                "/apiVersion",
                "extensions/v1beta1 Ingress was removed in Kubernetes 1.22; use \
                 networking.k8s.io/v1",
            ),
            rejection(
                id,
                "13:13",
                "/apiVersion",
                "batch/v1beta1 CronJob is deprecated and will be removed in Kubernetes 1.25; use \
                 batch/v1",
            ),
            rejection(
                id,
                "29:13",
                "/apiVersion",
                "policy/v1beta1 PodDisruptionBudget is deprecated and will be removed in \
                 Kubernetes 1.25; use policy/v1",
            ),
        ]
    );
    assert_eq!(code, 1);

    assert_passes(id, None);
    assert_passes(id, Some(r#"{"kubernetes_version": "1.29"}"#));
    assert_rejects_settings(
        id,
        r#"{"kubernetes_version": "v1.24"}"#,
        "kubernetes_version \"v1.24\" is not a Kubernetes minor version; write it as \"1.N\", \
         such as \"1.34\"",
    );
}

#[test]
fn rbac_wildcards() {
    let id = "rbac-wildcards";
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(
        found,
        [
            rejection(
                id,
                "10:17",
                "/rules/1/apiGroups/0",
                "ClusterRole rule 1 grants every API group with \"*\"; list only the apiGroups \
                 it needs",
            ),
            rejection(
                id,
                "11:17",
                "/rules/1/resources/0",
                "ClusterRole rule 1 grants every resource with \"*\"; list only the resources it \
                 needs",
            ),
            rejection(
                id,
                "12:13",
                "/rules/1/verbs/0",
                "ClusterRole rule 1 grants every verb with \"*\"; list only the verbs it needs",
            ),
            rejection(
                id,
                "24:9",
                "/rules/0/resources/1",
                "Role rule 0 grants every resource with \"*\"; list only the resources it needs",
            ),
        ]
    );
    assert_eq!(code, 1);
    assert_passes(id, None);
}

#[test]
fn cluster_admin_binding() {
    let id = "cluster-admin-binding";
    let advice = "bind a role with only the permissions needed, or add the subject to \
                  allowed_subjects";
    let service_account = rejection(
        id,
        "29:9",
        "/roleRef/name",
        &format!("RoleBinding grants cluster-admin to ServiceAccount \"shop/ci\"; {advice}"),
    );
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(
        found,
        [
            rejection(
                id,
                "9:9",
                "/roleRef/name",
                &format!(
                    "ClusterRoleBinding grants cluster-admin to User \"alice\", Group \
                     \"system:masters\"; {advice}"
                ),
            ),
            service_account.clone(),
        ]
    );
    assert_eq!(code, 1);

    let allowed = r#"{"allowed_subjects": ["system:masters", "alice"]}"#;
    let (found, code) = run(id, "fail.yaml", Some(allowed));
    assert_eq!(found, [service_account]);
    assert_eq!(code, 1);
    // The RoleBinding's subject has no namespace: it is the binding's.
    let all =
        r#"{"allowed_subjects": ["system:masters", "alice", "system:serviceaccount:shop:ci"]}"#;
    assert_eq!(run(id, "fail.yaml", Some(all)), (vec![], 0));

    assert_passes(id, None);
    assert_rejects_settings(
        id,
        r#"{"allowed_subjects": ["system:serviceaccount:shop"]}"#,
        "allowed_subjects entry \"system:serviceaccount:shop\" names no ServiceAccount; write \
         it as system:serviceaccount:NAMESPACE:NAME",
    );
}

#[test]
fn service_type() {
    let id = "service-type";
    let node_port = rejection(
        id,
        "8:9",
        "/spec/type",
        "Service type NodePort opens its ports on every node of the cluster; use ClusterIP \
         behind an Ingress or Gateway, or add NodePort to allowed_types",
    );
    let (found, code) = run(id, "fail.yaml", None);
    assert_eq!(found, std::slice::from_ref(&node_port));
    assert_eq!(code, 1);

    let (found, code) = run(id, "fail.yaml", Some(r#"{"allowed_types": []}"#));
    assert_eq!(
        found,
        [
            node_port,
            rejection(
                id,
                "23:9",
                "/spec/type",
                "Service type LoadBalancer asks for an external load balancer; use ClusterIP \
                 behind an Ingress or Gateway, or add LoadBalancer to allowed_types",
            ),
        ]
    );
    assert_eq!(code, 1);

    assert_passes(id, None);
    assert_rejects_settings(
        id,
        r#"{"allowed_types": ["Loadbalancer"]}"#,
        "allowed_types has \"Loadbalancer\", which is not a Service type; use NodePort or \
         LoadBalancer (ClusterIP and ExternalName are always allowed)",
    );
}
