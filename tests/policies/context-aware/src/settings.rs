//! The policy's settings: `{"check": "..."}` picks one check, plus what that check needs.

use serde::Deserialize;

/// The settings as written. Every field is optional here so that a missing or misplaced one
/// gets a message naming the check ([`Settings::check`]) instead of serde's.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    check: Option<String>,
    /// `namespace-label`: the label the namespace must carry.
    label: Option<String>,
    /// `can-i`: the SubjectAccessReview's user, verb, resource, API group and namespace.
    user: Option<String>,
    verb: Option<String>,
    resource: Option<String>,
    group: Option<String>,
    namespace: Option<String>,
}

/// The check the settings choose, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    UniqueIngressHost,
    ServiceAccountExists,
    NamespaceLabel { label: String },
    SameSelector,
    CanI(Access),
}

/// What `can-i` asks the authorizer: may `user` `verb` `resource` (in `group`, in `namespace`)?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub user: String,
    pub verb: String,
    pub resource: String,
    /// The API group of `resource` (`apps` for deployments); none for the core group.
    pub group: Option<String>,
    /// None: the namespace of the request being validated.
    pub namespace: Option<String>,
}

const CHECKS: &str =
    "unique-ingress-host, service-account-exists, namespace-label, same-selector, can-i";

impl Settings {
    /// Parse the settings as `validate_settings` receives them. Through a `Value` first so that
    /// serde's messages carry no line and column: the JSON is the host's, not the user's text.
    pub fn parse(payload: &[u8]) -> Result<Settings, String> {
        serde_json::from_slice::<serde_json::Value>(payload)
            .and_then(serde_json::from_value::<Settings>)
            .map_err(|e| e.to_string())
    }

    /// The check these settings choose, or the message `validate_settings` answers.
    pub fn check(&self) -> Result<Check, String> {
        let Some(name) = self.check.as_deref() else {
            return Err(format!("settings must name a check: one of {CHECKS}"));
        };
        let (check, uses): (Check, &[&str]) = match name {
            "unique-ingress-host" => (Check::UniqueIngressHost, &[]),
            "service-account-exists" => (Check::ServiceAccountExists, &[]),
            "same-selector" => (Check::SameSelector, &[]),
            "namespace-label" => {
                let label = non_empty(&self.label)
                    .ok_or("check namespace-label needs the label to require in `label`")?;
                (Check::NamespaceLabel { label }, &["label"])
            }
            "can-i" => (
                Check::CanI(self.access()?),
                &["user", "verb", "resource", "group", "namespace"],
            ),
            other => {
                return Err(format!(
                    "unknown check \"{other}\": expected one of {CHECKS}"
                ));
            }
        };
        // A setting meant for another check is a mistake: the user expects it to matter.
        if let Some(unused) = self.given().into_iter().find(|f| !uses.contains(f)) {
            return Err(format!("setting `{unused}` is not used by check {name}"));
        }
        Ok(check)
    }

    fn access(&self) -> Result<Access, String> {
        let (user, verb, resource) = (
            non_empty(&self.user),
            non_empty(&self.verb),
            non_empty(&self.resource),
        );
        match (user, verb, resource) {
            (Some(user), Some(verb), Some(resource)) => Ok(Access {
                user,
                verb,
                resource,
                group: non_empty(&self.group),
                namespace: non_empty(&self.namespace),
            }),
            (user, verb, resource) => {
                let missing: Vec<&str> = [("user", user), ("verb", verb), ("resource", resource)]
                    .into_iter()
                    .filter(|(_, value)| value.is_none())
                    .map(|(field, _)| field)
                    .collect();
                Err(format!(
                    "check can-i needs `user`, `verb` and `resource`; missing: {}",
                    missing.join(", ")
                ))
            }
        }
    }

    /// The names of the settings given besides `check`, in declaration order.
    fn given(&self) -> Vec<&'static str> {
        [
            ("label", &self.label),
            ("user", &self.user),
            ("verb", &self.verb),
            ("resource", &self.resource),
            ("group", &self.group),
            ("namespace", &self.namespace),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_some())
        .map(|(field, _)| field)
        .collect()
    }
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.is_empty()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> Result<Check, String> {
        Settings::parse(json.as_bytes())?.check()
    }

    #[test]
    fn each_check_is_chosen_by_name() {
        assert_eq!(
            check(r#"{"check": "unique-ingress-host"}"#),
            Ok(Check::UniqueIngressHost)
        );
        assert_eq!(
            check(r#"{"check": "service-account-exists"}"#),
            Ok(Check::ServiceAccountExists)
        );
        assert_eq!(
            check(r#"{"check": "same-selector"}"#),
            Ok(Check::SameSelector)
        );
        assert_eq!(
            check(r#"{"check": "namespace-label", "label": "team"}"#),
            Ok(Check::NamespaceLabel {
                label: "team".into()
            })
        );
        assert_eq!(
            check(
                r#"{"check": "can-i", "user": "alice", "verb": "create", "resource": "deployments", "group": "apps"}"#
            ),
            Ok(Check::CanI(Access {
                user: "alice".into(),
                verb: "create".into(),
                resource: "deployments".into(),
                group: Some("apps".into()),
                namespace: None,
            }))
        );
    }

    #[test]
    fn no_check_or_an_unknown_one_lists_the_checks() {
        let all =
            "unique-ingress-host, service-account-exists, namespace-label, same-selector, can-i";
        assert_eq!(
            check("{}"),
            Err(format!("settings must name a check: one of {all}"))
        );
        assert_eq!(
            check(r#"{"check": "unique-host"}"#),
            Err(format!(
                "unknown check \"unique-host\": expected one of {all}"
            ))
        );
    }

    #[test]
    fn a_check_without_what_it_needs_says_what_is_missing() {
        assert_eq!(
            check(r#"{"check": "namespace-label", "label": ""}"#),
            Err("check namespace-label needs the label to require in `label`".into())
        );
        assert_eq!(
            check(r#"{"check": "can-i", "user": "alice"}"#),
            Err("check can-i needs `user`, `verb` and `resource`; missing: verb, resource".into())
        );
    }

    #[test]
    fn a_setting_of_another_check_is_refused() {
        assert_eq!(
            check(r#"{"check": "unique-ingress-host", "label": "team"}"#),
            Err("setting `label` is not used by check unique-ingress-host".into())
        );
        assert_eq!(
            check(r#"{"check": "namespace-label", "label": "team", "verb": "get"}"#),
            Err("setting `verb` is not used by check namespace-label".into())
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_serde_errors() {
        assert_eq!(
            check(r#"{"check": "same-selector", "selector": {}}"#),
            Err("unknown field `selector`, expected one of `check`, `label`, `user`, `verb`, `resource`, `group`, `namespace`".into())
        );
        assert_eq!(
            check(r#"{"check": 1}"#),
            Err("invalid type: integer `1`, expected a string".into())
        );
    }
}
