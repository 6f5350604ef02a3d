//! Errors about mappings that look like Kubernetes objects but misspell, or lack, `apiVersion`
//! or `kind`: a typo (`Kind: Pod`) would otherwise keep an object from every check without a
//! word, and a user trusts a green run.

use super::file_check::INVALID_OBJECT;
use crate::documents::{Value, escape_pointer_token};
use crate::findings::{Finding, FindingKind, SourceRef};
use crate::objects::Misspelled;
use crate::source::SourceFile;

/// The errors of a mapping that looks like an object but misspells (or lacks) `apiVersion` or
/// `kind`: it would otherwise pass every check unseen. One at each key that was probably
/// meant; the fields with no such key are named together at the mapping's first key.
pub(super) fn findings(
    file: &SourceFile,
    document: usize,
    misspelled: &Misspelled<'_>,
) -> Vec<Finding> {
    let at = |span, key: Option<&str>, label: String| SourceRef {
        file: file.clone(),
        span,
        document,
        pointer: Some(match key {
            Some(key) => format!("{}/{}", misspelled.pointer, escape_pointer_token(key)),
            None => misspelled.pointer.clone(),
        }),
        label,
        object: None,
    };
    let mut findings = Vec::new();
    let mut absent = Vec::new();
    for missing in &misspelled.missing {
        let field = missing.field;
        match missing.key {
            Some(entry) if entry.key == field => {
                let (what, label) = match &entry.value.value {
                    Value::Null | Value::String(_) => ("is empty".to_string(), "empty"),
                    _ => (
                        format!("must be a string, not {}", describe(&entry.value.value)),
                        "not a string",
                    ),
                };
                findings.push(
                    Finding::new(
                        FindingKind::Error,
                        INVALID_OBJECT,
                        format!(
                            "`{field}` {what}: this looks like a Kubernetes object, but without \
                             {field} no policy checks it"
                        ),
                    )
                    .at(at(
                        // An implicit null has no text of its own to underline.
                        if entry.value.value == Value::Null {
                            entry.key_span
                        } else {
                            entry.value.span
                        },
                        Some(&entry.key),
                        label.into(),
                    )),
                );
            }
            Some(entry) => {
                let mut finding = Finding::new(
                    FindingKind::Error,
                    INVALID_OBJECT,
                    format!(
                        "`{}` is not `{field}`: did you mean `{field}`? Without {field} this is \
                         not a Kubernetes object, and no policy checks it",
                        entry.key
                    ),
                )
                .at(at(
                    entry.key_span,
                    Some(&entry.key),
                    format!("did you mean `{field}`?"),
                ));
                if entry.key.eq_ignore_ascii_case(field) {
                    finding = finding.with_help(format!(
                        "Kubernetes field names are case-sensitive: write `{field}:`"
                    ));
                }
                findings.push(finding);
            }
            None => absent.push(format!("`{field}`")),
        }
    }
    if !absent.is_empty()
        && let Value::Mapping(entries) = &misspelled.node.value
        && let Some(first) = entries.first()
    {
        let what = absent.join(" and ");
        let body: Vec<String> = ["metadata", "spec"]
            .into_iter()
            .filter(|key| misspelled.node.get(key).is_some())
            .map(|key| format!("`{key}`"))
            .collect();
        let looks = if body.is_empty() {
            String::new()
        } else {
            format!(" (it has {})", body.join(" and "))
        };
        findings.push(
            Finding::new(
                FindingKind::Error,
                INVALID_OBJECT,
                format!(
                    "this looks like a Kubernetes object{looks} but has no {what}, so no policy \
                     checks it"
                ),
            )
            .at(at(
                first.key_span,
                None,
                format!("no {what} in this mapping"),
            ))
            .with_help(
                "every object needs apiVersion (such as `apps/v1`) and kind (such as \
                 `Deployment`); a file that is not a manifest belongs outside the checked \
                 paths, or in `exclude`",
            ),
        );
    }
    findings
}

/// A value's type, for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
    }
}
