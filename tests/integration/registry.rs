//! Policies from an OCI registry (a real CNCF Distribution registry on localhost): pulled by
//! tag and by digest, pinned in admit.lock, refused when tampered with or unsigned, and run
//! offline from the store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::support::registry::{Interrupting, Registry, key_pair, sha256, silent};
use crate::support::{Run, admit_env, root};

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: nginx:1.27\n    securityContext:\n      privileged: true\n";

fn module(name: &str) -> Vec<u8> {
    std::fs::read(root().join(format!("tests/policies/{name}.wasm"))).unwrap()
}

/// A repository with a privileged Pod and an admit.yaml, and a home of its own: an empty
/// cache (the module store), no Docker credentials, no kwctl store, unless a test adds them.
struct Project {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Project {
    /// `admit.yaml` naming `modules`, with `hosts` reached over plain HTTP, and `extra` YAML.
    fn new(modules: &[&str], hosts: &[&str], extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let quoted: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
        std::fs::write(
            dir.path().join("sources.yaml"),
            format!("insecure_sources: [{}]\n", quoted.join(", ")),
        )
        .unwrap();
        let mut config = String::from("registry:\n  sources: sources.yaml\n");
        config.push_str(extra);
        config.push_str("policies:\n");
        for module in modules {
            config.push_str(&format!("  - module: {module}\n"));
        }
        std::fs::write(dir.path().join("admit.yaml"), config).unwrap();
        std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED_POD).unwrap();
        std::fs::create_dir_all(home.path().join("docker")).unwrap();
        Project { dir, home }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let cache = self.cache();
        let docker = self.home.path().join("docker");
        let xdg_cache = self.home.path().join("xdg-cache");
        let xdg_config = self.home.path().join("xdg-config");
        let podman = self.home.path().join("no-auth.json");
        let mut all: Vec<(&str, &Path)> = vec![
            ("ADMIT_CACHE_DIR", &cache),
            ("DOCKER_CONFIG", &docker),
            ("XDG_CACHE_HOME", &xdg_cache),
            ("XDG_CONFIG_HOME", &xdg_config),
            ("REGISTRY_AUTH_FILE", &podman),
            // Messages hold long references and paths: one line each, for the assertions.
            ("COLUMNS", Path::new("1000")),
        ];
        all.extend_from_slice(env);
        admit_env(self.dir.path(), args, None, &all)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    fn lock(&self) -> String {
        std::fs::read_to_string(self.path("admit.lock")).unwrap_or_default()
    }

    /// The module files in the store.
    fn stored(&self) -> Vec<PathBuf> {
        let dir = self.cache().join("registry/modules/sha256");
        std::fs::read_dir(dir)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }
}

fn privileged_finding(run: &Run) {
    run.code(1);
    assert!(
        run.stdout.contains("pod.yaml:10:") && run.stdout.contains("privileged"),
        "expected the privileged finding at pod.yaml:10:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_module_pulled_by_tag_is_locked_by_digest_and_by_digest_runs_too() {
    let registry = Registry::start();
    let wasm = module("privileged");
    let digest = registry.push_policy("policies/privileged:v1", &wasm);
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");

    let run = project.run(&["check", "pod.yaml"]);
    privileged_finding(&run);
    assert!(
        run.stderr.contains(&format!("locked {reference} in")),
        "{}",
        run.stderr
    );
    let lock = project.lock();
    assert!(
        lock.contains(&format!("reference: \"{reference}\"")),
        "{lock}"
    );
    assert!(lock.contains(&format!("digest: {digest}")), "{lock}");
    assert!(
        lock.contains(&format!("module: {}", sha256(&wasm))),
        "{lock}"
    );
    assert!(lock.contains(&format!("size: {}", wasm.len())), "{lock}");
    assert_eq!(project.stored().len(), 1, "the module is in the store");

    // A second run changes nothing.
    let again = project.run(&["check", "pod.yaml"]);
    privileged_finding(&again);
    assert_eq!(project.lock(), lock);
    assert!(!again.stderr.contains("locked"), "{}", again.stderr);

    // By digest, named on the command line: also locked, and the same module.
    let by_digest = registry.reference(&format!("policies/privileged@{digest}"));
    let run = project.run(&["check", "--policy", &by_digest, "pod.yaml"]);
    privileged_finding(&run);
    assert!(
        project
            .lock()
            .contains(&format!("reference: \"{by_digest}\""))
    );

    // Everywhere else a module is named: a Kubewarden policy resource, `run` and `inspect`.
    std::fs::write(
        project.path("cluster-policy.yaml"),
        format!("apiVersion: policies.kubewarden.io/v1\nkind: ClusterAdmissionPolicy\nmetadata:\n  name: no-privileged\nspec:\n  module: {reference}\n  rules:\n  - apiGroups: [\"\"]\n    apiVersions: [v1]\n    resources: [pods]\n    operations: [CREATE]\n  mutating: false\n"),
    )
    .unwrap();
    let run = project.run(&[
        "check",
        "--policies-from",
        "cluster-policy.yaml",
        "pod.yaml",
    ]);
    run.code(1);
    assert!(run.stdout.contains("no-privileged"), "{}", run.stdout);
    let run = project.run(&["run", &reference, "--manifest", "pod.yaml"]);
    run.code(0);
    assert!(run.stdout.contains("\"allowed\":false"), "{}", run.stdout);
    let run = project.run(&["inspect", &reference, "--format", "json"]);
    run.code(0);
    assert!(
        run.stdout.contains(&format!("\"origin\": \"{reference}\"")),
        "{}",
        run.stdout
    );
}

#[test]
fn locked_refuses_a_reference_missing_from_the_lockfile() {
    let registry = Registry::start();
    registry.push_policy("policies/privileged:v1", &module("privileged"));
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");

    let run = project.run(&["check", "--locked", "pod.yaml"]);
    run.code(2);
    let expected = format!(
        "{reference}: cannot load policy: not in admit.lock, and --locked forbids adding it"
    );
    assert!(run.stdout.contains(&expected), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("run `admit lock` and commit admit.lock"),
        "{}",
        run.stdout
    );
    assert!(!project.path("admit.lock").exists());

    let lock = project.run(&["lock"]);
    lock.code(0);
    assert!(
        lock.stdout
            .contains(&format!("locked    {reference} sha256:")),
        "{}",
        lock.stdout
    );
    privileged_finding(&project.run(&["check", "--locked", "pod.yaml"]));
}

#[test]
fn a_tag_moved_upstream_changes_nothing_until_lock_update() {
    let registry = Registry::start();
    let old = registry.push_policy("policies/guard:v1", &module("privileged"));
    let reference = registry.reference("policies/guard:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");
    project.run(&["lock"]).code(0);

    // The tag now names a policy that accepts everything.
    let new = registry.push_policy("policies/guard:v1", &module("noop"));
    assert_ne!(old, new);
    privileged_finding(&project.run(&["check", "pod.yaml"]));
    assert!(project.lock().contains(&old));

    let update = project.run(&["lock", "--update", &reference]);
    update.code(0);
    assert!(
        update.stdout.contains(&format!("updated   {reference}")),
        "{}",
        update.stdout
    );
    assert!(project.lock().contains(&new) && !project.lock().contains(&old));
    let run = project.run(&["check", "pod.yaml"]);
    run.code(0);

    // A reference admit.yaml does not name is refused; one it no longer names is dropped.
    let unknown = project.run(&["lock", "--update", "registry://example.com/x:v1"]);
    unknown.code(2);
    assert!(
        unknown.stderr.contains("is not named by"),
        "{}",
        unknown.stderr
    );
    std::fs::write(
        project.path("admit.yaml"),
        "registry:\n  sources: sources.yaml\n",
    )
    .unwrap();
    let prune = project.run(&["lock"]);
    assert!(
        prune.stdout.contains(&format!("removed   {reference}")),
        "{}",
        prune.stdout
    );
    assert!(!project.lock().contains(&reference));
}

#[test]
fn content_that_does_not_hash_to_its_digest_is_never_run() {
    let registry = Registry::start();
    let wasm = module("privileged");
    registry.push_policy("policies/privileged:v1", &wasm);
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");
    privileged_finding(&project.run(&["check", "pod.yaml"]));

    // Changed in the store after download.
    let stored = project.stored();
    std::fs::write(&stored[0], module("noop")).unwrap();
    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout
            .contains("it changed after it was downloaded, so it is not run"),
        "{}",
        run.stdout
    );
    std::fs::remove_file(&stored[0]).unwrap();

    // Changed in the registry: a fresh store downloads, hashes, refuses, and keeps nothing.
    std::fs::write(registry.blob_file(&sha256(&wasm)), module("noop")).unwrap();
    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout.contains("does not hash to") || run.stdout.contains("hashes to"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("nothing was stored or run"),
        "{}",
        run.stdout
    );
    assert!(project.stored().is_empty());
}

#[test]
fn basic_auth_credentials_come_from_the_docker_config_file() {
    let registry = Registry::start_with_auth("alice", "s3cret");
    registry.push_policy("policies/privileged:v1", &module("privileged"));
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");

    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout
            .contains("wants credentials and admit found none"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("$DOCKER_CONFIG"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("docker login {}", registry.host)),
        "{}",
        run.stdout
    );

    let login = |user: &str, password: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        std::fs::write(
            project.home.path().join("docker/config.json"),
            format!(
                "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
                registry.host
            ),
        )
        .unwrap();
    };
    login("alice", "wrong");
    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout
            .contains("refused the credentials of user `alice` from $DOCKER_CONFIG"),
        "{}",
        run.stdout
    );

    login("alice", "s3cret");
    privileged_finding(&project.run(&["check", "pod.yaml"]));
}

#[test]
fn a_failing_reference_is_an_error_and_the_other_policies_still_run() {
    let registry = Registry::start();
    registry.push_image("images/app:v1");
    let unknown_tag = registry.reference("policies/privileged:v9");
    let image = registry.reference("images/app:v1");
    let unknown_host = "registry://no-such-registry.invalid/policies/privileged:v1";
    let project = Project::new(
        &[&unknown_tag, &image, unknown_host, "privileged"],
        &[&registry.host],
        "",
    );
    // `privileged` here is not a module path: use the built-in through `id:` instead.
    let config = std::fs::read_to_string(project.path("admit.yaml"))
        .unwrap()
        .replace("module: privileged", "id: privileged");
    std::fs::write(project.path("admit.yaml"), config).unwrap();

    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(run.stdout.contains("tag `v9` is not in"), "{}", run.stdout);
    // Each error points at the line of admit.yaml that names the reference.
    assert!(run.stdout.contains("admit.yaml:4:13]"), "{}", run.stdout);
    assert!(run.stdout.contains("admit.yaml:5:13]"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("{image}: cannot load policy: not a Kubewarden policy: its layers are [application/vnd.oci.image.layer.v1.tar+gzip]")), "{}", run.stdout);
    assert!(
        run.stdout.contains("no-such-registry.invalid"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("cannot resolve host") || run.stdout.contains("cannot connect"),
        "{}",
        run.stdout
    );
    // The built-in still ran.
    assert!(run.stdout.contains("pod.yaml:10:"), "{}", run.stdout);
    assert!(!project.path("admit.lock").exists() || !project.lock().contains("v9"));
}

#[test]
fn a_registry_that_stops_mid_download_leaves_nothing_behind() {
    let registry = Registry::start();
    registry.push_policy("policies/privileged:v1", &module("privileged"));
    let proxy = Interrupting::start(&registry.host, 1000);
    let reference = format!("registry://{}/policies/privileged:v1", proxy.host);
    let project = Project::new(&[&reference], &[&proxy.host], "");

    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(run.stdout.contains("was interrupted"), "{}", run.stdout);
    assert!(
        run.stdout.contains("nothing was stored or run"),
        "{}",
        run.stdout
    );
    assert!(project.stored().is_empty());
    assert!(!project.path("admit.lock").exists() || !project.lock().contains("privileged"));
}

#[test]
fn a_registry_that_never_answers_runs_into_the_time_limit() {
    let host = silent();
    let reference = format!("registry://{host}/policies/privileged:v1");
    let project = Project::new(
        &[&reference],
        &[&host],
        "registry:\n  sources: sources.yaml\n  timeout: 1\n",
    );
    // The extra block repeats `registry:`: keep the one with the timeout.
    std::fs::write(
        project.path("admit.yaml"),
        format!(
            "registry:\n  sources: sources.yaml\n  timeout: 1\npolicies:\n  - module: {reference}\n"
        ),
    )
    .unwrap();
    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout
            .contains(&format!("{host} did not answer within 1s")),
        "{}",
        run.stdout
    );
}

#[test]
fn offline_runs_from_the_store_and_names_what_is_missing() {
    let registry = Registry::start();
    registry.push_policy("policies/privileged:v1", &module("privileged"));
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");
    project.run(&["lock"]).code(0);
    std::fs::remove_dir_all(project.cache()).unwrap();

    let run = project.run(&["check", "--offline", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout.contains(&format!(
            "{reference}: cannot load policy: not in the module store"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--offline forbids downloading it"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("admit pull"), "{}", run.stdout);

    let pull = project.run(&["pull"]);
    pull.code(0);
    assert!(
        pull.stdout.contains(&format!("pulled {reference} sha256:")),
        "{}",
        pull.stdout
    );
    drop(registry);
    let offline = project.home.path().join("1");
    std::fs::write(&offline, "").unwrap();
    privileged_finding(
        &project.run_with(&["check", "pod.yaml"], &[("ADMIT_OFFLINE", Path::new("1"))]),
    );
    let _ = offline;
}

#[test]
fn kwctls_store_answers_a_locked_reference_without_a_download() {
    let registry = Registry::start();
    let wasm = module("privileged");
    registry.push_policy("policies/privileged:v1", &wasm);
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[&registry.host], "");
    project.run(&["lock"]).code(0);
    std::fs::remove_dir_all(project.cache()).unwrap();
    drop(registry);
    // Where `kwctl pull` puts it.
    let kwctl = project
        .home
        .path()
        .join("xdg-cache/kubewarden/store")
        .join(reference.replace("://", "/"));
    std::fs::create_dir_all(kwctl.parent().unwrap()).unwrap();
    std::fs::write(&kwctl, &wasm).unwrap();
    privileged_finding(&project.run(&["check", "--offline", "pod.yaml"]));
}

#[test]
fn verify_runs_modules_signed_by_a_listed_key_and_refuses_the_rest() {
    let registry = Registry::start();
    let (key, public) = key_pair("admit tests: the team's key");
    let (other, _) = key_pair("admit tests: someone else's key");
    let signed = registry.push_policy("policies/signed:v1", &module("privileged"));
    registry.sign("policies/signed", &signed, &key, &BTreeMap::new());
    registry.push_policy("policies/unsigned:v1", &module("privileged"));
    let wrongly = registry.push_policy("policies/wrongly:v1", &module("privileged"));
    registry.sign("policies/wrongly", &wrongly, &other, &BTreeMap::new());

    let verify = "verify:\n  keys: [cosign.pub]\n";
    let signed_ref = registry.reference("policies/signed:v1");
    let project = Project::new(&[&signed_ref], &[&registry.host], verify);
    std::fs::write(project.path("cosign.pub"), &public).unwrap();
    privileged_finding(&project.run(&["check", "pod.yaml"]));
    // The signature was kept with the module: checked again offline.
    privileged_finding(&project.run(&["check", "--offline", "pod.yaml"]));
    // A key that did not sign it refuses the stored signature too.
    let (_, stranger) = key_pair("admit tests: a stranger's key");
    std::fs::write(project.path("cosign.pub"), &stranger).unwrap();
    let run = project.run(&["check", "--offline", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout.contains("signed by a key other than cosign.pub"),
        "{}",
        run.stdout
    );

    for (repository, why) in [
        ("policies/unsigned:v1", "it is not signed"),
        (
            "policies/wrongly:v1",
            "signed by a key other than cosign.pub",
        ),
    ] {
        let reference = registry.reference(repository);
        let project = Project::new(&[&reference], &[&registry.host], verify);
        std::fs::write(project.path("cosign.pub"), &public).unwrap();
        let run = project.run(&["check", "pod.yaml"]);
        run.code(2);
        assert!(
            run.stdout.contains(&format!(
                "{reference}: cannot load policy: refused by `verify:`: "
            )),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(why), "{}", run.stdout);
    }
}

#[test]
fn a_verify_key_that_cannot_be_read_is_reported_at_its_line() {
    let project = Project::new(&[], &[], "verify:\n  keys: [missing.pub]\n");
    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(run.stderr.contains("cannot read key"), "{}", run.stderr);
    assert!(run.stderr.contains("admit.yaml:4:"), "{}", run.stderr);
    std::fs::write(project.path("missing.pub"), "not a key").unwrap();
    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(
        run.stderr.contains("not an ECDSA P-256 public key"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_registry_with_a_private_ca_is_trusted_through_sources_yaml() {
    let registry = Registry::start_tls();
    let wasm = module("privileged");
    registry.push_policy("policies/privileged:v1", &wasm);
    let reference = registry.reference("policies/privileged:v1");
    let project = Project::new(&[&reference], &[], "");

    let run = project.run(&["check", "pod.yaml"]);
    run.code(2);
    assert!(run.stdout.contains("certificate"), "{}", run.stdout);
    assert!(
        run.stdout.contains("`source_authorities`"),
        "{}",
        run.stdout
    );

    std::fs::write(project.path("ca.pem"), registry.ca.as_ref().unwrap()).unwrap();
    std::fs::write(
        project.path("sources.yaml"),
        format!(
            "source_authorities:\n  \"{}\":\n    - type: Path\n      path: ca.pem\n",
            registry.host
        ),
    )
    .unwrap();
    privileged_finding(&project.run(&["check", "pod.yaml"]));

    // An https:// module: the blob's own URL, trusted through the same authority, locked by
    // the sha256 of what was downloaded.
    let url = format!(
        "https://{}/v2/policies/privileged/blobs/{}",
        registry.host,
        sha256(&wasm)
    );
    let run = project.run(&["check", "--policy", &url, "pod.yaml"]);
    privileged_finding(&run);
    let lock = project.lock();
    assert!(lock.contains(&format!("reference: \"{url}\"")), "{lock}");
    assert!(
        lock.contains(&format!("digest: {}", sha256(&wasm))),
        "{lock}"
    );

    // An https:// module carries no signature: `verify:` refuses it.
    let (_, public) = key_pair("admit tests: the team's key");
    std::fs::write(project.path("cosign.pub"), &public).unwrap();
    let config = std::fs::read_to_string(project.path("admit.yaml")).unwrap();
    std::fs::write(
        project.path("admit.yaml"),
        format!("verify:\n  keys: [cosign.pub]\n{config}"),
    )
    .unwrap();
    let run = project.run(&["check", "--policy", &url, "pod.yaml"]);
    run.code(2);
    assert!(
        run.stdout
            .contains("an https:// module carries no signature"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_image_a_policy_asks_about_is_looked_up_in_the_registry_unless_offline() {
    let registry = Registry::start();
    let digest = registry.push_policy("images/app:v1", &module("noop"));
    let project = Project::new(&[], &[&registry.host], "");
    // Registries reached as admit.yaml says, for `admit run` too.
    std::fs::write(
        project.path("admit.yaml"),
        "registry:\n  sources: sources.yaml\n",
    )
    .unwrap();
    let settings = format!("{{\"digest_of\": \"{}/images/app:v1\"}}", registry.host);
    let wasi = root()
        .join("tests/policies/wasi-policy.wasm")
        .display()
        .to_string();
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "run",
            wasi.as_str(),
            "--settings-json",
            &settings,
            "--manifest",
            "pod.yaml",
        ];
        args.extend_from_slice(extra);
        project.run(&args)
    };
    let run = ask(&[]);
    run.code(0);
    assert!(
        run.stdout
            .contains(&format!("digest: {{\\\"digest\\\":\\\"{digest}\\\"}}")),
        "{}",
        run.stdout
    );
    let offline = ask(&["--offline"]);
    offline.code(0);
    assert!(
        offline
            .stdout
            .contains("host capability oci/v1/manifest_digest is not available offline"),
        "{}",
        offline.stdout
    );
}
