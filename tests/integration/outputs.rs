//! Where reports go, and the files admit writes.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::{admit_in, root, scratch};

fn web() -> String {
    root()
        .join("fixtures/manifests/web.yaml")
        .display()
        .to_string()
}

#[test]
fn output_takes_the_report_off_standard_output() {
    let dir = scratch(&[]);
    for args in [
        vec!["--format", "json", "-o", "r.json"],
        vec!["-o", "r.txt"],
    ] {
        let mut full = vec!["check", "--policy", "privileged"];
        let file = args[args.len() - 1];
        let web = web();
        full.push(&web);
        full.extend(args.iter().copied());
        let run = admit_in(dir.path(), &full, None);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(
            run.stdout, "",
            "{args:?}: standard output carries no report"
        );
        let written = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(written.contains("privileged"), "{written}");
    }
    // Without --output, standard output still carries human when every format has a file.
    let web = web();
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "--policy",
            "privileged",
            &web,
            "--format",
            "sarif=r.sarif",
        ],
        None,
    );
    assert!(
        run.stdout.contains("must not be privileged"),
        "{}",
        run.stdout
    );
}

#[test]
fn report_files_get_the_umask_mode_and_keep_an_existing_files_mode() {
    let dir = scratch(&[("kept.json", "")]);
    let kept = dir.path().join("kept.json");
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o604)).unwrap();
    let status = Command::new("sh")
        .current_dir(dir.path())
        .env("ADMIT_CACHE_DIR", dir.path().join("cache"))
        .arg("-c")
        .arg(format!(
            "umask 027; exec \"$0\" check --policy privileged {} --format json=new.json --format sarif=kept.json",
            web()
        ))
        .arg(env!("CARGO_BIN_EXE_admit"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("new.json"), 0o640, "0666 less the umask 027");
    assert_eq!(mode("kept.json"), 0o604, "a replaced file keeps its mode");
}

#[test]
fn a_report_in_a_missing_directory_is_refused() {
    let dir = scratch(&[]);
    let web = web();
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "--policy",
            "privileged",
            &web,
            "--format",
            "json=no/such/r.json",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot write no/such/r.json: the directory no/such does not exist"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("no").exists(), "no directory is created");
}
