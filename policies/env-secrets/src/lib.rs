//! `env-secrets`: best practice. A credential written as a literal `env[].value` lives in the
//! manifest, in git, in `kubectl get -o yaml` output and in every copy of them; it belongs in a
//! Secret referenced with `valueFrom.secretKeyRef`.
//!
//! A variable is reported when its name says it holds a credential and it has a literal value,
//! or when its value has the shape of a well-known credential whatever its name. The matchers
//! are written by hand rather than with a regex crate to keep the module small. Messages never
//! repeat the value.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for container in spec.containers() {
        let env = container.get("/env").and_then(Node::as_array);
        for (index, var) in env.into_iter().flatten().enumerate() {
            let name = var.get("name").and_then(Node::as_str).unwrap_or_default();
            let Some(value) = var.get("value").and_then(Node::as_str) else {
                continue;
            };
            let what = match value_shape(value) {
                Some(shape) => format!("what looks like {shape}"),
                None if is_credential_name(name) && is_literal(value) => {
                    "a literal value".to_string()
                }
                None => continue,
            };
            violations.add(
                container.pointer(&format!("/env/{index}/value")),
                format!(
                    "{} sets {name} to {what}; keep credentials in a Secret and use \
                     valueFrom.secretKeyRef",
                    container.label()
                ),
            );
        }
    }
}

/// Name words that mean "this is a credential" on their own.
#[rustfmt::skip]
const SECRET_WORDS: [&str; 8] = [
    "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS",
];

/// Words that, before `KEY`, make a credential: `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`.
#[rustfmt::skip]
const KEY_QUALIFIERS: [&str; 6] = [
    "API", "PRIVATE", "ACCESS", "SECRET", "SIGNING", "ENCRYPTION",
];

/// A last word that makes the variable about a credential rather than the credential itself:
/// `PASSWORD_FILE`, `SECRET_NAME`, `TOKEN_URL`, `TOKEN_TTL`, `ACCESS_KEY_ID`.
#[rustfmt::skip]
const NOT_THE_SECRET: [&str; 38] = [
    "FILE", "PATH", "DIR", "NAME", "NAMES", "REF", "URL", "URI", "ENDPOINT", "HOST", "PORT", "ID",
    "ARN", "TTL", "EXPIRY", "EXPIRES", "EXPIRATION", "LIFETIME", "TIMEOUT", "DURATION", "IN",
    "LENGTH", "SIZE", "POLICY", "TYPE", "MODE", "FORMAT", "ALGORITHM", "HEADER", "PREFIX",
    "AUDIENCE", "ISSUER", "ENABLED", "VERSION", "LOCATION", "PROVIDER", "STORE", "MOUNT",
];

/// Whether the variable's name says it holds a credential: one of its words (split on `_`,
/// `-`, `.` and camelCase) is a credential word, and the last word is not a qualifier.
fn is_credential_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_THE_SECRET.contains(&last.as_str()) {
        return false;
    }
    words.iter().enumerate().any(|(i, word)| {
        SECRET_WORDS.contains(&word.as_str())
            || (word == "KEY" && i > 0 && KEY_QUALIFIERS.contains(&words[i - 1].as_str()))
    })
}

/// The upper-cased words of a variable name.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            previous_lower = false;
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        // camelCase: a capital after a lower-case letter starts a word (`dbPassword`).
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_uppercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a value under a credential-like name is a literal credential. Not when it is empty
/// or only refers to other variables (`$(DB_PASSWORD)`, expanded by Kubernetes), nor when it
/// is a flag, a number (a duration, a size) or an absolute path to a mounted file.
fn is_literal(value: &str) -> bool {
    let mut rest = value.trim();
    while let Some(after) = rest.strip_prefix("$(") {
        match after.find(')') {
            Some(end) => rest = after[end + 1..].trim_start(),
            None => break,
        }
    }
    let flag = ["true", "false", "yes", "no", "on", "off"]
        .iter()
        .any(|flag| rest.eq_ignore_ascii_case(flag));
    // Also true of an empty rest.
    let number = rest.bytes().all(|b| b.is_ascii_digit());
    !(flag || number || rest.starts_with('/'))
}

/// What kind of well-known credential `value` contains, if any.
fn value_shape(value: &str) -> Option<&'static str> {
    // A PEM block labelled `... PRIVATE KEY` (RSA, EC, OPENSSH, ENCRYPTED, PKCS#8).
    const BEGIN: &str = "-----BEGIN ";
    if let Some(begin) = value.find(BEGIN) {
        let label = &value[begin + BEGIN.len()..];
        if label
            .find("-----")
            .is_some_and(|end| label[..end].ends_with("PRIVATE KEY"))
        {
            return Some("a private key");
        }
    }
    let bytes = value.as_bytes();
    for start in 0..bytes.len() {
        // A token starts at a word boundary, not in the middle of a longer identifier.
        if start > 0 && is_token_char(bytes[start - 1]) {
            continue;
        }
        let rest = &bytes[start..];
        if let Some(tail) = rest.strip_prefix(b"AKIA")
            && run(tail, |b| b.is_ascii_uppercase() || b.is_ascii_digit()) == 16
            && !tail.get(16).is_some_and(|&b| b.is_ascii_alphanumeric())
        {
            return Some("an AWS access key id");
        }
        for prefix in [
            &b"ghp_"[..],
            b"gho_",
            b"ghu_",
            b"ghs_",
            b"ghr_",
            b"github_pat_",
        ] {
            if let Some(tail) = rest.strip_prefix(prefix)
                && run(tail, |b| b.is_ascii_alphanumeric() || b == b'_') >= 30
            {
                return Some("a GitHub token");
            }
        }
        if rest.len() > 5
            && rest.starts_with(b"xox")
            && b"baprs".contains(&rest[3])
            && rest[4] == b'-'
            && run(&rest[5..], |b| b.is_ascii_alphanumeric() || b == b'-') >= 10
        {
            return Some("a Slack token");
        }
        if is_jwt(rest) {
            return Some("a JSON Web Token");
        }
    }
    has_url_password(value).then_some("a URL with a password in it")
}

/// `scheme://user:password@host`, unless the password is a `$(VAR)` reference.
fn has_url_password(value: &str) -> bool {
    let Some(start) = value.find("://") else {
        return false;
    };
    let rest = &value[start + 3..];
    let authority = &rest[..rest.find(['/', '?', '#', ' ']).unwrap_or(rest.len())];
    let Some((userinfo, _host)) = authority.rsplit_once('@') else {
        return false;
    };
    userinfo
        .split_once(':')
        .is_some_and(|(_user, password)| !password.is_empty() && !password.starts_with("$("))
}

/// `eyJ<base64url>.eyJ<base64url>`: a JWT's encoded header and payload, both JSON objects.
fn is_jwt(text: &[u8]) -> bool {
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let Some(tail) = text.strip_prefix(b"eyJ") else {
        return false;
    };
    let header = run(tail, base64url);
    header >= 8
        && tail.get(header) == Some(&b'.')
        && tail[header + 1..]
            .strip_prefix(b"eyJ")
            .is_some_and(|payload| run(payload, base64url) >= 8)
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// How many leading bytes of `text` satisfy `accept`.
fn run(text: &[u8], accept: impl Fn(u8) -> bool) -> usize {
    text.iter().take_while(|&&b| accept(b)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::Violation;
    use admit_policy_kit::testing::{request, violations};
    use serde_json::{Value, json};

    fn run_check(object: Value, kind: &str) -> Vec<Violation> {
        violations(check, &request(kind, &object, &NoSettings {}))
    }

    #[test]
    fn credential_names_with_literal_values_are_reported_at_the_value() {
        let pod = json!({"spec": {
            "containers": [{"name": "web", "env": [
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "DB_PASSWORD", "value": "hunter2"},
                {"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db"},
                {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "a", "key": "b"}}}
            ]}],
            "initContainers": [{"name": "setup", "env": [
                {"name": "awsSecretAccessKey", "value": "abc"},
                {"name": "PASSWORD", "value": ""}
            ]}]
        }});
        assert_eq!(
            run_check(pod, "Pod"),
            [
                Violation {
                    pointer: "/spec/containers/0/env/1/value".into(),
                    message: "container \"web\" sets DB_PASSWORD to a literal value; keep \
                              credentials in a Secret and use valueFrom.secretKeyRef"
                        .into(),
                },
                Violation {
                    pointer: "/spec/initContainers/0/env/0/value".into(),
                    message: "init container \"setup\" sets awsSecretAccessKey to a literal \
                              value; keep credentials in a Secret and use valueFrom.secretKeyRef"
                        .into(),
                },
            ]
        );
    }

    #[test]
    fn credential_shapes_are_reported_whatever_the_name_without_echoing_them() {
        let key = "AKIAIOSFODNN7EXAMPLE";
        let deployment = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "AWS_ACCESS_KEY_ID", "value": key}]}
        ]}}}});
        let found = run_check(deployment, "Deployment");
        assert_eq!(
            found,
            [Violation {
                pointer: "/spec/template/spec/containers/0/env/0/value".into(),
                message: "container \"app\" sets AWS_ACCESS_KEY_ID to what looks like an AWS \
                          access key id; keep credentials in a Secret and use \
                          valueFrom.secretKeyRef"
                    .into(),
            }]
        );
        assert!(!found[0].message.contains(key));
    }

    #[test]
    fn names() {
        for name in [
            "PASSWORD",
            "db_password",
            "dbPassword",
            "MYSQL_ROOT_PASSWORD",
            "REDIS_PASSWD",
            "CLIENT_SECRET",
            "GITHUB_TOKEN",
            "API_KEY",
            "apiKey",
            "STRIPE_APIKEY",
            "SSH_PRIVATE_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "ACCESS_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            "token",
            "DJANGO_SECRET_KEY",
            "SECRET_KEY_BASE",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in [
            "PASSWORD_FILE",
            "SECRET_NAME",
            "TOKEN_URL",
            "TOKEN_TTL",
            "TOKEN_EXPIRES_IN",
            "AWS_ACCESS_KEY_ID",
            "TOKENIZER",
            "SECRETARY",
            "PUBLIC_KEY",
            "KEY",
            "PWD",
            "",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn literals() {
        for literal in ["hunter2", "$(A)$(B)x", "p@ss word", "0x1f"] {
            assert!(is_literal(literal), "{literal}");
        }
        for not in [
            "",
            "  ",
            "true",
            "False",
            "$(DB_PASSWORD)",
            "$(A)$(B)",
            "3600",
            "/run/s/pw",
        ] {
            assert!(!is_literal(not), "{not}");
        }
    }

    #[test]
    fn shapes() {
        let cases = [
            ("AKIAIOSFODNN7EXAMPLE", Some("an AWS access key id")),
            ("id=AKIAIOSFODNN7EXAMPLE;", Some("an AWS access key id")),
            ("AKIAIOSFODNN7EXAMPLEX", None),
            ("XAKIAIOSFODNN7EXAMPLE", None),
            ("AKIAshort", None),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                Some("a private key"),
            ),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", Some("a private key")),
            ("-----BEGIN CERTIFICATE-----\nMIIB", None),
            ("-----BEGIN PUBLIC KEY-----", None),
            (
                "ghp_0123456789abcdefghijABCDEFGHIJ012345",
                Some("a GitHub token"),
            ),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                Some("a GitHub token"),
            ),
            ("ghp_short", None),
            ("xoxb-1234567890-abcdefghij", Some("a Slack token")),
            ("xoxz-1234567890-abcdefghij", None),
            ("xoxb-", None),
            (
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
                Some("a JSON Web Token"),
            ),
            ("eyJhbGciOiJIUzI1NiJ9", None),
            (
                "postgres://web:hunter2@db:5432/shop",
                Some("a URL with a password in it"),
            ),
            ("https://user@example.com/a:b@c", None),
            ("postgres://web:$(DB_PASSWORD)@db/shop", None),
            ("https://example.com/?next=a:b@c", None),
            ("plain value with éè unicode", None),
            ("", None),
        ];
        for (value, expected) in cases {
            assert_eq!(value_shape(value), expected, "{value}");
        }
    }

    #[test]
    fn non_pod_kinds_and_odd_env_are_ignored() {
        let odd = json!({"spec": {"containers": [
            {"name": "a", "env": "PASSWORD=x"},
            {"name": "b", "env": [3, {"value": 5}, {"name": "TOKEN", "value": 5}]}
        ]}});
        assert!(run_check(odd, "Pod").is_empty());
        let service = json!({"spec": {"containers": [{"env": [
            {"name": "PASSWORD", "value": "x"}]}]}});
        assert!(run_check(service, "Service").is_empty());
    }
}
