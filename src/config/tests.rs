use super::*;

fn parse_text(text: &str) -> Result<Config, FileError> {
    let file = SourceFile::new("admit.yaml", text);
    parse(&file, Path::new("/repo/admit.yaml"))
}

fn error_at(text: &str) -> (String, usize, usize, Option<String>) {
    let error = parse_text(text).expect_err("configuration is invalid");
    let at = error.file.location(error.span.start);
    (error.message, at.line, at.column, error.help)
}

#[test]
fn the_starter_configuration_is_valid() {
    let config = parse_text(STARTER).expect("starter parses");
    let policies = config.policies.expect("starter names policies");
    assert_eq!(
        policies.len(),
        Builtin::preset("recommended").map_or(0, |p| p.len())
    );
    assert_eq!(config.fail_on, Some(FailOn::Error));
    assert!(
        !config
            .selection
            .selects(Path::new("/repo/x/generated/a.yaml"))
    );
    assert!(config.selection.selects(Path::new("/repo/x/a.yaml")));
}

#[test]
fn later_entries_tune_preset_members() {
    let config = parse_text(
        "policies:\n  - preset: baseline\n    except: [host-ports]\n  - id: privileged\n    severity: warning\n    match: {kinds: [Pod], labels: {app: web}}\n",
    )
    .expect("valid");
    let policies = config.policies.expect("policies");
    let names: Vec<String> = policies.iter().map(|p| p.source.name()).collect();
    assert!(!names.contains(&"host-ports".to_string()));
    let privileged = policies
        .iter()
        .find(|p| p.source.name() == "privileged")
        .expect("privileged kept");
    assert_eq!(privileged.severity, Some(Severity::Warning));
    assert_eq!(privileged.scope.kinds, vec!["Pod".to_string()]);
    assert_eq!(
        names.iter().filter(|n| *n == "privileged").count(),
        1,
        "{names:?}"
    );
}

#[test]
fn mistakes_point_at_their_line_with_the_choices() {
    let (message, line, column, help) = error_at("fail-on: errors\n");
    assert_eq!((line, column), (1, 10));
    assert!(
        message.contains("`errors` is not a valid fail-on level"),
        "{message}"
    );
    assert_eq!(
        help.as_deref(),
        Some("did you mean `error`? choose one of: error, warning, never")
    );

    let (message, line, column, help) =
        error_at("policies:\n  - preset: recommended\n  - id: privileged\n    severty: warning\n");
    assert_eq!((line, column), (4, 5));
    assert!(message.contains("unknown key `severty`"), "{message}");
    assert!(
        help.unwrap_or_default()
            .contains("did you mean `severity`?")
    );

    let (message, line, _, _) = error_at("policies:\n  - id: privilegd\n");
    assert_eq!(line, 2);
    assert!(
        message.contains("unknown built-in policy `privilegd`"),
        "{message}"
    );

    let (message, line, _, _) = error_at("polices: []\n");
    assert_eq!(line, 1);
    assert!(message.contains("unknown key `polices`"), "{message}");

    let (message, line, _, _) = error_at("policies:\n  - preset: baseline\n    id: privileged\n");
    assert_eq!(line, 3);
    assert!(message.contains("cannot be combined"), "{message}");

    let (message, ..) = error_at("include: [\"a/[\"]\n");
    assert!(message.contains("invalid glob"), "{message}");
}

#[test]
fn include_and_exclude_are_relative_to_the_file() {
    let config = parse_text("include: [deploy, \"k8s/**/*.yaml\"]\nexclude: [\"**/tmp-*\"]\n")
        .expect("valid");
    assert!(
        config
            .selection
            .selects(Path::new("/repo/deploy/app/a.yaml"))
    );
    assert!(config.selection.selects(Path::new("/repo/k8s/x/b.yaml")));
    assert!(
        !config
            .selection
            .selects(Path::new("/repo/k8s/x/tmp-b.yaml"))
    );
    assert!(!config.selection.selects(Path::new("/repo/docs/c.yaml")));
    assert!(
        !config
            .selection
            .selects(Path::new("/repo/deploy/../docs/c.yaml"))
    );
}

#[test]
fn policy_memory_is_whole_mib_up_to_4_gib() {
    let config = parse_text("policy-memory: 64\n").expect("valid");
    assert_eq!(config.policy_memory, Some(64));
    for bad in ["0", "4097", "1.5", "lots"] {
        let (message, line, column, _) = error_at(&format!("policy-memory: {bad}\n"));
        assert_eq!((line, column), (1, 16), "{bad}");
        assert_eq!(
            message, "policy-memory must be a whole number of MiB from 1 to 4096",
            "{bad}"
        );
    }
}
