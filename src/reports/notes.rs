//! What a check left out on purpose, in words: the notes after the summary line, and with
//! `-v` one line per object or path. A green run must not hide what it did not look at, and a
//! run that is noisy about files that are not manifests is a run nobody repeats: so these are
//! notes, never findings, and never fail a run.

use std::collections::BTreeMap;

use crate::check::{SetApart, Summary};
use crate::inputs::SkippedInput;

/// The notes, one line each without the `note: ` prefix, in a fixed order: other tools'
/// configurations, `skip-kinds`, charts, broken links, standard input.
pub(crate) fn notes(summary: &Summary) -> Vec<String> {
    let mut notes = Vec::new();
    let mut tools: BTreeMap<&str, usize> = BTreeMap::new();
    let mut skipped_kinds = 0;
    for set_apart in &summary.set_apart {
        match &set_apart.tool {
            Some(tool) => *tools.entry(tool).or_default() += 1,
            None => skipped_kinds += 1,
        }
    }
    if !tools.is_empty() {
        let total: usize = tools.values().sum();
        let mut by_count: Vec<(&str, usize)> = tools.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let each: Vec<String> = by_count
            .iter()
            .map(|(tool, count)| format!("{tool} {count}"))
            .collect();
        notes.push(format!(
            "{} of other tools not checked ({}); -v names them",
            plural(total, "configuration", "configurations"),
            each.join(", ")
        ));
    }
    if skipped_kinds > 0 {
        notes.push(format!(
            "{} of kinds in skip-kinds not checked; -v names them",
            plural(skipped_kinds, "object", "objects")
        ));
    }
    let mut broken_links = 0;
    for skipped in &summary.skipped_inputs {
        match skipped {
            SkippedInput::Chart { directory } => notes.push(format!(
                "chart {directory} not checked: its templates need rendering; run helm template \
                 {directory} | admit check -"
            )),
            SkippedInput::BrokenLink { .. } => broken_links += 1,
            SkippedInput::ExcludedStdin { .. } => {}
        }
    }
    if broken_links > 0 {
        notes.push(format!(
            "{} skipped (a missing target, or a loop); -v names them",
            plural(
                broken_links,
                "broken symbolic link",
                "broken symbolic links"
            )
        ));
    }
    for skipped in &summary.skipped_inputs {
        if let SkippedInput::ExcludedStdin { name } = skipped {
            notes.push(format!(
                "standard input ({name}) not checked: an exclude glob names it"
            ));
        }
    }
    notes
}

/// One line for each object and path the notes count, for `-v`.
pub(crate) fn unchecked(summary: &Summary) -> Vec<String> {
    let objects = summary.set_apart.iter().map(|set_apart| {
        format!(
            "not checked: {}: {}, {}",
            set_apart.file,
            set_apart.object,
            why(set_apart)
        )
    });
    let links = summary
        .skipped_inputs
        .iter()
        .filter_map(|skipped| match skipped {
            SkippedInput::BrokenLink { name, reason } => {
                Some(format!("not checked: {name}: {reason}"))
            }
            _ => None,
        });
    objects.chain(links).collect()
}

/// Why an object was set apart.
fn why(set_apart: &SetApart) -> String {
    match &set_apart.tool {
        Some(tool) => format!("a configuration of {tool}"),
        None => "a kind in skip-kinds".to_string(),
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_count_by_tool_and_name_each_chart() {
        let set_apart = |file: &str, tool: Option<&str>| SetApart {
            file: file.into(),
            object: "x/v1 K".into(),
            tool: tool.map(str::to_string),
        };
        let summary = Summary {
            set_apart: vec![
                set_apart("a/kustomization.yaml", Some("Kustomize")),
                set_apart("b/kustomization.yaml", Some("Kustomize")),
                set_apart("kubeconfig.yaml", Some("kubeconfig")),
                set_apart("w.yaml", None),
            ],
            skipped_inputs: vec![
                SkippedInput::Chart {
                    directory: "deploy/shop".into(),
                },
                SkippedInput::BrokenLink {
                    name: "README".into(),
                    reason: "a symbolic link loop".into(),
                },
            ],
            ..Summary::default()
        };
        assert_eq!(
            notes(&summary),
            [
                "3 configurations of other tools not checked (Kustomize 2, kubeconfig 1); -v \
                 names them",
                "1 object of kinds in skip-kinds not checked; -v names them",
                "chart deploy/shop not checked: its templates need rendering; run helm template \
                 deploy/shop | admit check -",
                "1 broken symbolic link skipped (a missing target, or a loop); -v names them",
            ]
        );
        assert_eq!(
            unchecked(&summary)[0],
            "not checked: a/kustomization.yaml: x/v1 K, a configuration of Kustomize"
        );
        assert_eq!(
            unchecked(&summary)[4],
            "not checked: README: a symbolic link loop"
        );
        assert!(notes(&Summary::default()).is_empty());
    }
}
