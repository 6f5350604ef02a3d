//! Execution modes by name, as `execution-mode:` in admit.yaml and `admit run -e` give them.

use crate::policies::ExecutionMode;

/// Every execution mode, in the order messages list them; named by their `Display`.
const EXECUTION_MODES: [ExecutionMode; 4] = [
    ExecutionMode::KubewardenWapc,
    ExecutionMode::Wasi,
    ExecutionMode::Opa,
    ExecutionMode::Gatekeeper,
];

/// The name of every execution mode.
pub(crate) fn execution_mode_names() -> Vec<String> {
    EXECUTION_MODES.iter().map(ToString::to_string).collect()
}

/// An execution mode by name. kwctl's `-e` also takes `kubewarden` (what its help lists) and
/// `wapc` for `kubewarden-wapc`.
pub(crate) fn parse_execution_mode(value: &str) -> Result<ExecutionMode, String> {
    let name = match value {
        "kubewarden" | "wapc" => "kubewarden-wapc",
        other => other,
    };
    EXECUTION_MODES
        .into_iter()
        .find(|mode| mode.to_string() == name)
        .ok_or_else(|| {
            format!(
                "unknown execution mode `{value}`; choose one of {}",
                execution_mode_names().join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse() {
        assert_eq!(
            execution_mode_names(),
            ["kubewarden-wapc", "wasi", "opa", "gatekeeper"]
        );
        for name in execution_mode_names() {
            assert_eq!(parse_execution_mode(&name).map(|m| m.to_string()), Ok(name));
        }
        assert_eq!(
            parse_execution_mode("kubewarden"),
            Ok(ExecutionMode::KubewardenWapc)
        );
        assert_eq!(
            parse_execution_mode("wapc"),
            Ok(ExecutionMode::KubewardenWapc)
        );
        assert_eq!(
            parse_execution_mode("rego"),
            Err("unknown execution mode `rego`; choose one of kubewarden-wapc, wasi, opa, gatekeeper".into())
        );
    }
}
