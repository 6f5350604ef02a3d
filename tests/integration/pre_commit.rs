//! The pre-commit hook for real, both ways a repository can use it: the README's `repo: local`
//! snippet, which runs the installed `admit`, and this checkout's `.pre-commit-hooks.yaml`,
//! which pre-commit (from PyPI, in a virtualenv under the target directory) builds with
//! `cargo install` as it does for any `language: rust` hook. Either way `git commit` is refused
//! while a staged manifest has a privileged container.
//!
//! That `cargo install` reuses the build of the test run rather than building admit and
//! wasmtime again: its build directory (`CARGO_BUILD_BUILD_DIR`, where cargo keeps compiled
//! crates and their fingerprints) is the test run's, so it compiles only what is not there.
//! What it finds there must match on every count:
//! - the profile: `cargo install` builds `release`, so this takes seconds under
//!   `cargo test --release` only;
//! - the features: `cargo install` builds as `cargo build --release` does, without the
//!   dev-dependencies, which turn on features of crates admit shares with them (`jsonschema`
//!   turns on serde_json's `float_roundtrip`, for one); `cargo test` builds admit with them, so
//!   what `cargo install` reuses is a `cargo build --release` (.ci/run runs one first), and
//!   without one it compiles those crates here;
//! - the dependency versions: without `--locked`, which pre-commit does not pass, `cargo
//!   install` ignores Cargo.lock and takes the newest releases; the `cargo` pre-commit finds
//!   first on its PATH adds `--locked` (see [`locked_cargo`]), and cargo runs offline
//!   (`CARGO_NET_OFFLINE`), fetching nothing;
//! - the sources: cargo compares modification times, and pre-commit's clone of the hook
//!   repository is new; its files get the times of this checkout's, whose contents they are.
//!
//! The installed binary lands in a target directory of its own (`CARGO_TARGET_DIR`), so the
//! `target/release/admit` the other tests run is never replaced while they run.
//!
//! What is kept between runs, under `CARGO_TARGET_TMPDIR/pre-commit/`: the virtualenv,
//! pre-commit's own cache (`PRE_COMMIT_HOME`), the hook repository and that target directory.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The pre-commit this test installs; pinned, so a new release cannot change what it checks.
const PRE_COMMIT: &str = "pre-commit==4.7.0";

/// A manifest with a privileged container that passes every other recommended policy.
const BAD_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: web
      image: registry.example.com/shop/web:1.4.2
      securityContext:
        privileged: true
        allowPrivilegeEscalation: false
        capabilities:
          drop: [\"ALL\"]
      resources:
        requests: {cpu: 100m, memory: 128Mi}
        limits: {memory: 128Mi}
";

/// This checkout.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Everything this test keeps between runs.
fn work() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit")
}

/// A directory holding a `cargo` for pre-commit to run: the cargo of this test run, with
/// `--locked` added to `cargo install`, so that the hook is built from Cargo.lock's versions as
/// the test run was (and as a user's `cargo install --locked` would be).
fn locked_cargo() -> PathBuf {
    let bin = work().join("bin");
    fs::create_dir_all(&bin).expect("bin directory");
    let cargo = bin.join("cargo");
    let real = env!("CARGO");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = install ]; then shift; exec '{real}' install --locked \"$@\"; fi\n\
         exec '{real}' \"$@\"\n"
    );
    if fs::read_to_string(&cargo).ok().as_deref() != Some(script.as_str()) {
        fs::write(&cargo, script).expect("cargo wrapper written");
    }
    fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("cargo wrapper made executable");
    bin
}

/// The build directory of this test run: `target` for `target/release/admit`.
fn build_dir() -> PathBuf {
    let admit = Path::new(env!("CARGO_BIN_EXE_admit"));
    admit
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is in no profile directory", admit.display()))
        .to_path_buf()
}

/// stdout and stderr of a finished command, for assertions and failure messages.
fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Run `command`, failing the test with `what` when it cannot start.
fn run(command: &mut Command, what: &str) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("{what}: cannot run {command:?}: {error}"))
}

/// Run `command` and fail the test with its output unless it succeeds.
#[track_caller]
fn succeed(command: &mut Command, what: &str) -> Output {
    let output = run(command, what);
    assert!(
        output.status.success(),
        "{what}: {command:?} failed ({}):\n{}",
        output.status,
        text(&output)
    );
    output
}

/// `git` in `dir`, blind to the user's and the system's git configuration (a global
/// `core.hooksPath` or `commit.gpgsign` would change what a commit does) and to any repository
/// the test itself may be running in.
fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CEILING_DIRECTORIES",
    ] {
        command.env_remove(var);
    }
    command
}

/// A command that runs pre-commit, or git with pre-commit's hook, with the caches kept under the
/// target directory.
fn with_caches(mut command: Command) -> Command {
    let work = work();
    let path = std::env::join_paths(std::iter::once(locked_cargo()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH joined");
    command
        .env("PRE_COMMIT_HOME", work.join("home"))
        .env("PRE_COMMIT_COLOR", "never")
        .env("PATH", path)
        .env("CARGO_BUILD_BUILD_DIR", build_dir())
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env("CARGO_NET_OFFLINE", "true")
        .env("ADMIT_CACHE_DIR", work.join("module-cache"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .env_remove("SKIP");
    command
}

/// The `pre-commit` executable of a virtualenv under the target directory, created and
/// installed from PyPI unless an earlier run left a working one.
fn pre_commit() -> PathBuf {
    let venv = work().join("venv");
    let exe = venv.join("bin").join("pre-commit");
    let version = |exe: &Path| {
        Command::new(exe)
            .arg("--version")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let wanted = PRE_COMMIT.replace("==", " ");
    if version(&exe).as_deref() == Some(wanted.as_str()) {
        return exe;
    }
    // A missing, broken or half-installed virtualenv: start again.
    let _ = fs::remove_dir_all(&venv);
    let created = run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "creating a virtualenv for pre-commit (needs python3)",
    );
    assert!(
        created.status.success(),
        "`python3 -m venv {}` failed; on Debian or Ubuntu install the python3-venv package \
         (`apt-get install -y python3-venv`, as .ci/run does):\n{}",
        venv.display(),
        text(&created)
    );
    succeed(
        Command::new(venv.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(PRE_COMMIT),
        "installing pre-commit from PyPI",
    );
    assert_eq!(
        version(&exe).as_deref(),
        Some(wanted.as_str()),
        "pre-commit installed"
    );
    exe
}

/// A git repository holding this checkout's working tree as one commit: its tracked files as
/// they are on disk (uncommitted changes included, deleted ones left out) and its untracked,
/// non-ignored ones, as pre-commit's `try-repo` does. The repository lives at a fixed path and
/// its commit has no parent and fixed dates, so the same working tree gives the same commit,
/// and pre-commit reuses the environment it built for it. Returns its path and commit.
fn hook_repo() -> (PathBuf, String) {
    let repo = work().join("hook-repo");
    if !repo.join(".git").is_dir() {
        let _ = fs::remove_dir_all(&repo);
        fs::create_dir_all(&repo).expect("hook repository directory");
        succeed(
            git(&repo).args(["init", "-q"]),
            "creating the hook repository",
        );
    }
    for entry in fs::read_dir(&repo).expect("hook repository listed") {
        let path = entry.expect("hook repository entry").path();
        if path.file_name() == Some(".git".as_ref()) {
            continue;
        }
        if path.is_dir() && !path.is_symlink() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        }
        .unwrap_or_else(|error| panic!("removing {}: {error}", path.display()));
    }

    // The user's own ignore rules apply here, so this is the checkout's git and config.
    let listed = succeed(
        Command::new("git").current_dir(root()).args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ]),
        "listing this checkout's files (the test needs a git checkout)",
    );
    let mut names: Vec<&[u8]> = listed
        .stdout
        .split(|byte| *byte == 0)
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let name = Path::new(std::str::from_utf8(name).expect("file names are UTF-8"));
        let (from, to) = (root().join(name), repo.join(name));
        let Ok(metadata) = fs::symlink_metadata(&from) else {
            continue; // deleted in the working tree, not yet committed
        };
        fs::create_dir_all(to.parent().expect("a file has a parent")).expect("directory made");
        if metadata.is_symlink() {
            let target = fs::read_link(&from).expect("symlink read");
            std::os::unix::fs::symlink(target, &to).expect("symlink copied");
        } else if metadata.is_file() {
            fs::copy(&from, &to)
                .unwrap_or_else(|error| panic!("copying {}: {error}", from.display()));
        }
    }

    succeed(git(&repo).args(["add", "-A"]), "staging the working tree");
    let tree = succeed(git(&repo).arg("write-tree"), "writing the tree");
    let tree = String::from_utf8_lossy(&tree.stdout).trim().to_string();
    let mut commit = git(&repo);
    commit
        .args(["commit-tree", &tree, "-m", "admit working tree"])
        .env("GIT_AUTHOR_NAME", "admit test")
        .env("GIT_AUTHOR_EMAIL", "test@admit.invalid")
        .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "admit test")
        .env("GIT_COMMITTER_EMAIL", "test@admit.invalid")
        .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z");
    let commit = succeed(&mut commit, "committing the working tree");
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_string();
    succeed(
        git(&repo).args(["update-ref", "refs/heads/main", &commit]),
        "pointing main at the commit",
    );
    succeed(
        git(&repo).args(["symbolic-ref", "HEAD", "refs/heads/main"]),
        "checking out main",
    );
    (repo, commit)
}

/// pre-commit's clone of the hook repository at `rev`, made through pre-commit's own store as
/// `pre-commit install-hooks` would make it, which then finds it there. Its files take the
/// modification times of this checkout's files, whose contents they are: cargo judges
/// freshness by those times, and the build of this test run compiled exactly those contents.
fn clone_with_checkout_times(pre_commit: &Path, repo: &Path, rev: &str) -> PathBuf {
    let python = pre_commit.with_file_name("python");
    let cloned = succeed(
        with_caches(Command::new(python))
            .args([
                "-c",
                "import sys; from pre_commit.store import Store; \
                 print(Store().clone(sys.argv[1], sys.argv[2]))",
            ])
            .arg(repo)
            .arg(rev),
        "cloning the hook repository into pre-commit's store",
    );
    let clone = PathBuf::from(String::from_utf8_lossy(&cloned.stdout).trim());
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let (copy, original) = (clone.join(&relative), root().join(&relative));
        if relative.as_os_str() == ".git" {
            continue;
        }
        let Ok(metadata) = fs::symlink_metadata(&original) else {
            continue;
        };
        if metadata.is_dir() {
            for entry in fs::read_dir(&copy).expect("clone listed") {
                pending.push(relative.join(entry.expect("clone entry").file_name()));
            }
        }
        if !metadata.is_symlink() {
            let modified = metadata.modified().expect("modification time");
            File::open(&copy)
                .and_then(|file| file.set_modified(modified))
                .unwrap_or_else(|error| panic!("dating {}: {error}", copy.display()));
        }
    }
    clone
}

/// The commit `HEAD` names in `dir`.
fn head(dir: &Path) -> String {
    let output = succeed(git(dir).args(["rev-parse", "HEAD"]), "reading HEAD");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// pre-commit's log, for a failure message: it has the output of a failed `cargo install`.
fn pre_commit_log() -> String {
    let log = work().join("home").join("pre-commit.log");
    fs::read_to_string(&log)
        .map(|text| format!("\n{}:\n{text}", log.display()))
        .unwrap_or_default()
}

#[test]
fn commit_with_a_privileged_container_is_refused_by_the_hook() {
    fs::create_dir_all(work()).expect("work directory");
    // Two `cargo test` runs at once (two engineers, one checkout) would share the hook
    // repository and the caches: take turns.
    let lock = File::create(work().join("lock")).expect("lock file");
    lock.lock().expect("lock taken");

    let started = Instant::now();
    let pre_commit = pre_commit();
    eprintln!("pre-commit ready in {:.1?}", started.elapsed());
    let (hook_repo, rev) = hook_repo();
    eprintln!("hook repository {} at {rev}", hook_repo.display());

    let consumer = tempfile::Builder::new()
        .prefix("admit-pre-commit-")
        .tempdir()
        .expect("scratch repository");
    let dir = consumer.path();
    succeed(git(dir).args(["init", "-q"]), "git init");
    for (key, value) in [
        ("user.name", "admit test"),
        ("user.email", "test@admit.invalid"),
        ("commit.gpgsign", "false"),
    ] {
        succeed(git(dir).args(["config", key, value]), "git config");
    }
    // The remote-repository form the README describes, pointing at this checkout's hook.
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks: [{{id: admit}}]\n",
        serde_json::to_string(&hook_repo.display().to_string()).expect("path quoted")
    );
    fs::write(dir.join(".pre-commit-config.yaml"), config).expect("config written");
    succeed(git(dir).args(["add", ".pre-commit-config.yaml"]), "git add");
    succeed(
        git(dir).args(["commit", "-q", "-m", "pre-commit"]),
        "first commit",
    );

    let install = succeed(
        with_caches(Command::new(&pre_commit))
            .current_dir(dir)
            .arg("install"),
        "pre-commit install",
    );
    assert!(
        text(&install).contains("pre-commit installed at .git/hooks/pre-commit"),
        "{}",
        text(&install)
    );

    let clone = clone_with_checkout_times(&pre_commit, &hook_repo, &rev);
    eprintln!("pre-commit's clone {}", clone.display());

    // Build the hook's environment now (what the first commit would otherwise do), to time it.
    let building = Instant::now();
    let mut install_hooks = with_caches(Command::new(&pre_commit));
    install_hooks.current_dir(dir).arg("install-hooks");
    let built = run(&mut install_hooks, "pre-commit install-hooks");
    assert!(
        built.status.success(),
        "pre-commit could not build the hook (cargo install of {}):\n{}{}",
        hook_repo.display(),
        text(&built),
        pre_commit_log()
    );
    eprintln!(
        "hook environment (cargo install) ready in {:.1?}",
        building.elapsed()
    );

    // A privileged container: the commit is refused and the finding shown where it is.
    fs::write(dir.join("pod.yaml"), BAD_POD).expect("manifest written");
    // Not staged: pre-commit names only staged files, and admit checks only the files named.
    fs::write(dir.join("draft.yaml"), BAD_POD).expect("draft written");
    succeed(git(dir).args(["add", "pod.yaml"]), "git add pod.yaml");
    let before = head(dir);
    let refused = run(
        with_caches(git(dir)).args(["commit", "-m", "Add the web pod"]),
        "git commit",
    );
    let output = text(&refused);
    assert!(
        !refused.status.success(),
        "the commit went through:\n{output}"
    );
    assert_eq!(head(dir), before, "HEAD moved:\n{output}");
    assert!(
        !output.contains("draft.yaml"),
        "an unstaged file was checked:\n{output}"
    );
    eprintln!("the refused commit:\n{output}");
    for needle in [
        "admit....",
        "Failed",
        "- hook id: admit",
        "- exit code: 1",
        "× privileged: container \"web\" must not be privileged",
        "╭─[pod.yaml:17:21]",
        "17 │         privileged: true",
        "Checked 1 file, 1 object,",
    ] {
        assert!(
            output.contains(needle),
            "expected {needle:?} in the output of the refused commit:\n{output}"
        );
    }

    // Fixed: the same commit goes through (the unstaged draft still has its privileged
    // container).
    let fixed = BAD_POD.replace("privileged: true", "privileged: false");
    fs::write(dir.join("pod.yaml"), fixed).expect("manifest fixed");
    succeed(git(dir).args(["add", "pod.yaml"]), "git add pod.yaml");
    let passed = succeed(
        with_caches(git(dir)).args(["commit", "-m", "Add the web pod"]),
        "git commit of the fixed manifest",
    );
    let output = text(&passed);
    assert!(
        output.contains("admit....") && output.contains("Passed"),
        "{output}"
    );
    assert_ne!(head(dir), before, "HEAD did not move:\n{output}");

    // Drop the environments of earlier working trees (each holds an admit binary); this run's,
    // whose config still exists, stays for the next run. A store whose database names a clone
    // that is gone (a run stopped half-way) cannot be collected: pre-commit's `gc` then fails
    // on the missing directory, so the store is dropped whole and the next run makes a new one
    // (seconds: its `cargo install` reuses the build). Cleaning up is not what this tests.
    let gc = run(
        with_caches(Command::new(&pre_commit))
            .current_dir(dir)
            .arg("gc"),
        "pre-commit gc",
    );
    if !gc.status.success() {
        eprintln!("pre-commit gc failed; dropping its store:\n{}", text(&gc));
        let _ = fs::remove_dir_all(work().join("home"));
    }
    eprintln!("pre-commit test done in {:.1?}", started.elapsed());
}

/// The pre-commit configuration the README gives, as a user would copy it: the first `yaml`
/// block of its `pre-commit` section.
fn readme_snippet() -> String {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let section = readme
        .split_once("\n## pre-commit\n")
        .map(|(_, rest)| rest)
        .expect("README has a pre-commit section");
    let block = section
        .split_once("```yaml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("the pre-commit section has a yaml block");
    block.to_string()
}

/// A directory holding only `admit`, the binary under test, for the front of `PATH`: the
/// README's hook runs the `admit` a user installed there.
fn admit_on_path() -> PathBuf {
    let bin = work().join("admit-bin");
    fs::create_dir_all(&bin).expect("bin directory");
    let link = bin.join("admit");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_admit"), &link).expect("admit linked");
    bin
}

#[test]
fn the_readme_snippet_works_as_pasted() {
    let snippet = readme_snippet();
    // `admit init` prints the same snippet, so neither can drift from the other.
    let init_dir = tempfile::tempdir().expect("scratch directory");
    let init = run(
        Command::new(env!("CARGO_BIN_EXE_admit"))
            .arg("init")
            .arg(init_dir.path()),
        "admit init",
    );
    assert!(
        String::from_utf8_lossy(&init.stdout).contains(&snippet),
        "admit init does not print the README's snippet:\n{snippet}\n{}",
        text(&init)
    );

    fs::create_dir_all(work()).expect("work directory");
    let lock = File::create(work().join("lock")).expect("lock file");
    lock.lock().expect("lock taken");
    let pre_commit = pre_commit();
    let path = std::env::join_paths(
        std::iter::once(admit_on_path()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .expect("PATH joined");
    let with_admit = |command: Command| {
        let mut command = with_caches(command);
        command.env("PATH", &path);
        command
    };

    let consumer = tempfile::Builder::new()
        .prefix("admit-pre-commit-local-")
        .tempdir()
        .expect("scratch repository");
    let dir = consumer.path();
    succeed(git(dir).args(["init", "-q"]), "git init");
    for (key, value) in [
        ("user.name", "admit test"),
        ("user.email", "test@admit.invalid"),
        ("commit.gpgsign", "false"),
    ] {
        succeed(git(dir).args(["config", key, value]), "git config");
    }
    fs::write(dir.join(".pre-commit-config.yaml"), &snippet).expect("config written");
    succeed(git(dir).args(["add", ".pre-commit-config.yaml"]), "git add");
    succeed(
        git(dir).args(["commit", "-q", "-m", "pre-commit"]),
        "first commit",
    );
    succeed(
        with_admit(Command::new(&pre_commit))
            .current_dir(dir)
            .arg("install"),
        "pre-commit install",
    );

    fs::write(dir.join("pod.yaml"), BAD_POD).expect("manifest written");
    fs::write(
        dir.join("other.yaml"),
        BAD_POD.replace("name: web", "name: api"),
    )
    .expect("manifest written");
    succeed(git(dir).args(["add", "pod.yaml", "other.yaml"]), "git add");
    let before = head(dir);
    let refused = run(
        with_admit(git(dir)).args(["commit", "-m", "Add the pods"]),
        "git commit",
    );
    let output = text(&refused);
    assert!(
        !refused.status.success(),
        "the commit went through:\n{output}"
    );
    assert_eq!(head(dir), before, "HEAD moved:\n{output}");
    for needle in [
        "admit....",
        "Failed",
        "- exit code: 1",
        "× privileged: container \"web\" must not be privileged",
        "╭─[pod.yaml:17:21]",
        "╭─[other.yaml:17:21]",
        // Both staged files in one run: one summary.
        "Checked 2 files, 2 objects,",
    ] {
        assert!(
            output.contains(needle),
            "expected {needle:?} in the output of the refused commit:\n{output}"
        );
    }
    assert_eq!(output.matches("Checked ").count(), 1, "{output}");

    for name in ["pod.yaml", "other.yaml"] {
        let fixed = fs::read_to_string(dir.join(name))
            .expect("manifest")
            .replace("privileged: true", "privileged: false");
        fs::write(dir.join(name), fixed).expect("manifest fixed");
    }
    succeed(git(dir).args(["add", "pod.yaml", "other.yaml"]), "git add");
    let passed = succeed(
        with_admit(git(dir)).args(["commit", "-m", "Add the pods"]),
        "git commit of the fixed manifests",
    );
    let output = text(&passed);
    assert!(
        output.contains("admit....") && output.contains("Passed"),
        "{output}"
    );
    assert_ne!(head(dir), before, "HEAD did not move:\n{output}");
}
