//! admit's own diagnostics: what admit reports itself, under ids of its own, rather than a
//! policy. One entry each, in one table: `admit explain ID` prints an entry, SARIF describes
//! its rule with it, and a test checks that every id admit's sources emit has one. A new id is
//! one more entry.

use std::fmt::Write;

/// One kind of finding admit reports itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Diagnostic {
    /// The id findings carry in place of a policy id, e.g. `invalid-yaml`.
    pub(crate) id: &'static str,
    /// `error` (exit code 2, never silenced) or `warning`.
    pub(crate) severity: &'static str,
    /// One line: what happened.
    pub(crate) summary: &'static str,
    /// What it means, in more words.
    pub(crate) means: &'static str,
    /// Why admit reports it.
    pub(crate) why: &'static str,
    /// How to put it right.
    pub(crate) fix: &'static str,
    /// How to stop seeing it without fixing it, if that is possible.
    pub(crate) silence: &'static str,
}

/// How an error is silenced: it is not.
const ERRORS_STAY: &str = "An error is never silenced: suppressions and `--fail-on never` leave \
errors reported and the exit code 2. A file that should not be checked at all can be left out \
with `exclude:` in admit.yaml.";

/// How a warning about an object is silenced; `{id}` stands for the diagnostic's id.
const OBJECT_WARNING: &str = "Annotate the object with `admit.dev/ignore: \"{id}=reason\"`, or \
write `# admit:ignore {id} -- reason` on the line the warning points at. Warnings fail the run \
only with `--fail-on warning`.";

/// Every diagnostic admit reports itself, sorted by id.
pub(crate) const DIAGNOSTICS: &[Diagnostic] = &[
    Diagnostic {
        id: "admit",
        severity: "error",
        summary: "admit itself failed",
        means: "Something admit needs to run policies could not start, such as the WebAssembly \
                runtime. No policy ran.",
        why: "A check that ran no policy must not pass as if every policy had accepted every \
              object.",
        fix: "Read the message: it names what failed (often memory or a setting of the \
              machine). Report it if it persists.",
        silence: ERRORS_STAY,
    },
    Diagnostic {
        id: "helm",
        severity: "error",
        summary: "A Helm chart could not be rendered",
        means: "`helm template` failed for one rendering of a chart (a `required` value \
                missing, a template error, a value file that does not exist); Helm's message \
                is quoted. The chart's other renderings, the other charts and every other file \
                are still checked.",
        why: "A chart that does not render is a chart nobody checked; a green run must mean \
              every chart was.",
        fix: "Fix what Helm names, or give the rendering the values it needs in admit.yaml \
              (`helm: charts: DIR: [{values: [...], set: {...}}]`).",
        silence: ERRORS_STAY,
    },
    Diagnostic {
        id: "input",
        severity: "error",
        summary: "A path given to admit cannot be read",
        means: "A file or directory named on the command line (or met in a walk) does not exist \
                or cannot be read.",
        why: "A manifest admit cannot read is a manifest nobody checked; a green run must mean \
              every file was checked.",
        fix: "Correct the path, or the file's permissions.",
        silence: ERRORS_STAY,
    },
    Diagnostic {
        id: "invalid-config",
        severity: "error",
        summary: "admit.yaml (or a --policies-from file) is not valid",
        means: "The configuration has an unknown key, a value of the wrong type, an unknown \
                policy or preset, or a path that does not exist. The message points at the \
                line, and lists the valid choices.",
        why: "A configuration read half-way would run other checks than the ones written down, \
              silently.",
        fix: "Correct the line shown, using the choices listed. Editors complete admit.yaml \
              with admit.schema.json (`admit init` writes it).",
        silence: "It cannot be silenced: a check with `--isolated` ignores configuration files.",
    },
    Diagnostic {
        id: "invalid-object",
        severity: "error",
        summary: "An object cannot be turned into an admission request",
        means: "A document looks like a Kubernetes object but one of the fields a request is \
                built from is wrong: `apiVersion` or `kind` missing or not a string, \
                `metadata` not a mapping, `metadata.name` not a string, an `apiVersion` with \
                more than one `/`.",
        why: "The API server would refuse the object; a policy cannot check a request that \
              cannot be built.",
        fix: "Correct the field the message names, as `kubectl apply` would want it.",
        silence: ERRORS_STAY,
    },
    Diagnostic {
        id: "invalid-yaml",
        severity: "error",
        summary: "A document is not valid YAML or JSON, or not what kubectl accepts",
        means: "The file does not parse, or holds what kubectl refuses: a duplicate key, NaN \
                or infinity, an alias or nesting beyond admit's bounds.",
        why: "kubectl and the API server would refuse the file; admit cannot check objects it \
              cannot read.",
        fix: "Correct the file at the position shown.",
        silence: ERRORS_STAY,
    },
    Diagnostic {
        id: "kustomize",
        severity: "error",
        summary: "A Kustomize root could not be rendered, or Kustomize is missing",
        means: "As an error: `kustomize build` (or `kubectl kustomize`) failed for a root (a \
                remote base unreachable offline, a patch that matches nothing, a broken \
                kustomization file); Kustomize is quoted, and the root's files are then checked \
                one by one. As a warning: neither `kustomize` nor `kubectl` is on PATH, so every \
                Kustomize tree is checked file by file, not as the cluster receives it.",
        why: "What a cluster receives from a Kustomize tree is the rendering, not its files.",
        fix: "Fix what Kustomize names; install kubectl or kustomize, or set `kustomize: \
              [COMMAND, ARGS...]` in admit.yaml.",
        silence: "An error is never silenced. The missing-Kustomize warning goes away with \
                  `--no-render` (or `render: false` in admit.yaml), which checks files one by \
                  one on purpose.",
    },
    Diagnostic {
        id: "misplaced-suppression",
        severity: "warning",
        summary: "An admit.dev/ignore annotation is not in the object's own metadata",
        means: "The annotation sits in other metadata (a pod template's, say), where admit does \
                not read suppressions, so it silences nothing.",
        why: "It was meant to silence something, and does not.",
        fix: "Move it to the object's own `metadata.annotations`.",
        silence: OBJECT_WARNING,
    },
    Diagnostic {
        id: "not-an-object",
        severity: "warning",
        summary: "A List item is not a Kubernetes object and was skipped",
        means: "An item of a `kind: List` (or another `...List`) lacks `apiVersion` or `kind`, \
                or is not a mapping, so no policy saw it.",
        why: "kubectl would refuse the item; it is easy to miss in a long list.",
        fix: "Give the item its `apiVersion` and `kind`, or remove it.",
        silence: "Write `# admit:ignore not-an-object -- reason` on the item's first line.",
    },
    Diagnostic {
        id: "request",
        severity: "warning",
        summary: "Part of the admission request had to be guessed",
        means: "admit builds the AdmissionRequest a cluster would send, and part of it was not \
                known: the resource name of a kind that is neither built in nor defined by a \
                CustomResourceDefinition among the checked files (guessed from the kind), or a \
                namespace set on a cluster-scoped kind (dropped, as the API server does).",
        why: "A policy that matches on the resource (as Kubewarden rules do) may not see an \
              object whose resource was guessed wrong.",
        fix: "Add the kind's CustomResourceDefinition to the checked files, or remove the \
              namespace of a cluster-scoped object.",
        silence: OBJECT_WARNING,
    },
    Diagnostic {
        id: "suppression",
        severity: "warning",
        summary: "A suppression names no policy",
        means: "An `admit.dev/ignore` annotation or `# admit:ignore` comment lists no policy id, \
                so it silences nothing.",
        why: "It was meant to silence something, and does not.",
        fix: "Name the policy: `# admit:ignore POLICY -- reason`.",
        silence: "Remove the suppression.",
    },
    Diagnostic {
        id: "suppression-without-reason",
        severity: "warning",
        summary: "A suppression gives no reason",
        means: "An `admit.dev/ignore` entry without `=reason`, or a `# admit:ignore` comment \
                without `-- reason`. It still silences what it names.",
        why: "A reviewer (or you, later) must be able to tell a deliberate exception from a \
              shortcut.",
        fix: "Add the reason: `admit.dev/ignore: \"POLICY=why\"` or `# admit:ignore POLICY -- \
              why`.",
        silence: "Give the reason; `--fail-on error` (the default) does not fail on it.",
    },
    Diagnostic {
        id: "unknown-kind",
        severity: "warning",
        summary: "A kind is neither built in nor defined by a CRD among the checked files",
        means: "admit guessed the kind's resource name (its plural) for the admission request, \
                since no CustomResourceDefinition among the checked files defines it.",
        why: "A policy that matches on the resource (as Kubewarden rules do) may not see an \
              object whose resource was guessed wrong.",
        fix: "Add the kind's CustomResourceDefinition to the checked files, or name the kind in \
              `known-kinds:` in admit.yaml; a configuration file of another tool goes in \
              `skip-kinds:`.",
        silence: "`disable: [unknown-kind]` in admit.yaml, or as for any warning about an \
                  object: `admit.dev/ignore: \"unknown-kind=reason\"`.",
    },
    Diagnostic {
        id: "unused-suppression",
        severity: "warning",
        summary: "A suppression silences nothing",
        means: "A suppression names a policy that ran and found nothing there, or a policy \
                that does not exist, as ruff reports an unused `noqa`.",
        why: "A stale suppression would silence a future finding nobody has seen, and a \
              misspelled one silences nothing.",
        fix: "Remove it, or move it to the line the finding starts on (a comment alone on its \
              line covers the next line), or correct the policy id.",
        silence: "Remove the suppression; `--no-suppressions` ignores every suppression for an \
                  audit.",
    },
];

/// The diagnostic with this id.
pub(crate) fn find(id: &str) -> Option<&'static Diagnostic> {
    DIAGNOSTICS.iter().find(|diagnostic| diagnostic.id == id)
}

impl Diagnostic {
    /// The text `admit explain ID` prints, in the sections a built-in policy's documentation
    /// has.
    pub(crate) fn explanation(&self) -> String {
        let mut text = String::new();
        let sections = [
            ("What it means", self.means),
            ("Why admit reports it", self.why),
            ("Fix", self.fix),
            ("Silence it", self.silence),
        ];
        let _ = write!(
            text,
            "# {}\n\nadmit's own diagnostic · severity **{}**\n\n{}.\n",
            self.id, self.severity, self.summary
        );
        for (title, body) in sections {
            let body = wrap(&body.replace("{id}", self.id));
            let _ = write!(text, "\n## {title}\n{body}\n");
        }
        text
    }
}

/// Lines of at most this many characters, as the built-in policies' documentation has.
const WIDTH: usize = 95;

/// `text` as lines of at most [`WIDTH`] characters, broken between words.
fn wrap(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= WIDTH => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_unique_and_every_section_is_written() {
        let ids: Vec<&str> = DIAGNOSTICS.iter().map(|d| d.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for diagnostic in DIAGNOSTICS {
            assert!(
                matches!(diagnostic.severity, "error" | "warning"),
                "{}",
                diagnostic.id
            );
            for section in [
                diagnostic.summary,
                diagnostic.means,
                diagnostic.why,
                diagnostic.fix,
                diagnostic.silence,
            ] {
                assert!(!section.trim().is_empty(), "{}", diagnostic.id);
            }
        }
        let request = find("request").unwrap().explanation();
        assert!(
            request.starts_with(
                "# request\n\nadmit's own diagnostic · severity **warning**\n\nPart of the \
                 admission request had to be guessed.\n\n## What it means\nadmit builds"
            ),
            "{request}"
        );
        assert!(
            request.lines().all(|line| line.chars().count() <= WIDTH),
            "{request}"
        );
        assert!(
            request.contains("`admit.dev/ignore: \"request=reason\"`"),
            "{request}"
        );
    }
}
