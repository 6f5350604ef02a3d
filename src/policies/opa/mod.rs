//! The OPA ABI, for the `opa` and `gatekeeper` execution modes: modules built with
//! `opa build -t wasm` (<https://www.openpolicyagent.org/docs/wasm>), run the way Kubewarden's
//! burrego runs them (`crates/burrego` of <https://github.com/kubewarden/policy-evaluator>).
//!
//! - [`abi`]: the OPA Wasm ABI host (imports, value push/pull, one evaluation);
//! - [`modes`]: input and data per mode, and the mapping of results to admit's response;
//! - [`builtins`]: the builtins OPA leaves to the host, as burrego implements them;
//! - [`sprintf`]: Go's `fmt` verbs, for the `sprintf` builtin.

mod abi;
mod builtins;
mod modes;
mod sprintf;

use std::sync::Arc;

use self::abi::{BuiltinTable, OpaInstance, OpaLinked};
use super::metadata::{ExecutionMode, PolicyType};
use super::protocol::{SettingsValidationResponse, ValidationResponse};
use super::runtime::guest::{Guest, PreparedGuest};
use super::runtime::{CallError, GuestLog, Limits, PolicyLoadError, PolicyRuntime};

/// Link a compiled OPA module for `mode` (`opa` or `gatekeeper`), start it once to read the
/// builtins it needs, and refuse it when admit lacks any of them (burrego's
/// `MissingRegoBuiltins`).
pub(crate) fn prepare(
    runtime: &PolicyRuntime,
    module: &wasmtime::Module,
    mode: ExecutionMode,
    policy_type: PolicyType,
) -> Result<Box<dyn PreparedGuest>, PolicyLoadError> {
    if !mode.is_rego() {
        return Err(PolicyLoadError::ModeMismatch(format!(
            "execution mode {mode} does not run OPA modules; use opa or gatekeeper"
        )));
    }
    if mode == ExecutionMode::Gatekeeper && policy_type == PolicyType::Raw {
        // Kubewarden answers every request of such a policy with an internal error; saying
        // so once, at load, is kinder.
        return Err(PolicyLoadError::Invalid(
            "a Gatekeeper policy cannot be a raw policy (`policyType: raw`): Gatekeeper \
             policies review Kubernetes admission requests only"
                .into(),
        ));
    }
    let linked = OpaLinked::new(module).map_err(|e| PolicyLoadError::Invalid(format!("{e:#}")))?;
    let limits = runtime.limits();
    let started =
        |e: CallError| PolicyLoadError::Invalid(format!("cannot start the OPA module: {e}"));
    let mut probe = OpaInstance::start(&linked, Arc::default(), limits).map_err(started)?;
    // Kubewarden always evaluates entrypoint 0: a module without one cannot answer.
    let entrypoints = probe.entrypoint_ids().map_err(started)?;
    if !entrypoints.values().any(|&id| id == 0) {
        return Err(PolicyLoadError::Invalid(
            "the OPA module has no entrypoint 0, the one Kubewarden evaluates (the first `-e` \
             given to `opa build`)"
                .into(),
        ));
    }
    let needed = probe.builtin_ids().map_err(started)?;
    let mut table = BuiltinTable::new();
    let mut missing = Vec::new();
    for (name, id) in needed {
        match builtins::lookup(&name) {
            Some(builtin) => {
                table.insert(id, builtin);
            }
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(PolicyLoadError::Invalid(format!(
            "the policy needs Rego builtins admit does not implement: {}",
            missing.join(", ")
        )));
    }
    Ok(Box::new(OpaModule {
        linked,
        builtins: Arc::new(table),
        mode,
    }))
}

/// A linked OPA module whose builtins are all available.
struct OpaModule {
    linked: OpaLinked,
    builtins: Arc<BuiltinTable>,
    mode: ExecutionMode,
}

impl PreparedGuest for OpaModule {
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError> {
        Ok(Box::new(OpaGuest {
            instance: OpaInstance::start(&self.linked, Arc::clone(&self.builtins), limits)?,
            mode: self.mode,
        }))
    }
}

/// One live OPA instance and the mode it answers in.
struct OpaGuest {
    instance: OpaInstance,
    mode: ExecutionMode,
}

impl Guest for OpaGuest {
    fn validate(
        &mut self,
        request_json: &[u8],
        settings_json: &[u8],
    ) -> Result<ValidationResponse, CallError> {
        let (data, input) = modes::data_and_input(self.mode, request_json, settings_json);
        let result_set = self.instance.evaluate(&data, &input)?;
        modes::response(self.mode, result_set, request_json)
    }

    /// Rego has no settings validation: Kubewarden never calls the module and always answers
    /// valid. Settings are still a JSON object, which admit checks before this.
    fn validate_settings(
        &mut self,
        _settings_json: &[u8],
    ) -> Result<SettingsValidationResponse, CallError> {
        Ok(SettingsValidationResponse {
            valid: true,
            message: None,
        })
    }

    fn take_logs(&mut self) -> Vec<GuestLog> {
        self.instance.take_logs()
    }

    fn memory_size(&self) -> usize {
        self.instance.memory_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed stand-in for an OPA policy (tests/policies/rego-guest), in `opa` mode.
    const OPA_LABELS: &[u8] = include_bytes!("../../../tests/policies/opa-labels.wasm");

    /// A started instance of `OPA_LABELS` that may use `memory` bytes.
    fn guest(memory: usize) -> Box<dyn Guest> {
        let limits = Limits {
            memory,
            ..Limits::default()
        };
        let runtime = PolicyRuntime::new(limits, None).expect("runtime");
        let module = runtime.compile(OPA_LABELS).expect("compiles");
        prepare(
            &runtime,
            &module,
            ExecutionMode::Opa,
            PolicyType::Kubernetes,
        )
        .expect("the committed module loads")
        .start(limits)
        .expect("starts")
    }

    /// An AdmissionRequest for a ConfigMap without labels, carrying `padding` bytes of data.
    fn request(name: &str, padding: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "uid": name,
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "object": {"metadata": {"name": name}, "data": {"blob": "x".repeat(padding)}},
        }))
        .expect("serializable")
    }

    #[test]
    fn the_heap_is_reset_between_evaluations() {
        // Each evaluation copies a 64 KiB request several times (host push, parse, input
        // wrapper). Without resetting the heap pointer before each evaluation, as burrego's
        // `Evaluator::evaluate` does, 400 of them would need far more than the 8 MiB this
        // instance may use.
        let mut instance = guest(8 << 20);
        for i in 0..400 {
            let name = format!("cm-{i}");
            let response = instance
                .validate(&request(&name, 64 << 10), b"{}")
                .unwrap_or_else(|e| panic!("evaluation {i}: {e}"));
            assert!(!response.accepted);
            assert_eq!(
                response.message,
                Some(format!("ConfigMap \"{name}\" must have the label \"team\""))
            );
        }
    }

    #[test]
    fn a_request_past_the_memory_cap_is_reported_as_such() {
        let mut instance = guest(4 << 20);
        let error = instance
            .validate(&request("big", 8 << 20), b"{}")
            .expect_err("8 MiB cannot fit in 4");
        assert_eq!(error, CallError::OutOfMemory(4));
    }

    #[test]
    fn a_mode_that_is_not_rego_is_refused() {
        let runtime = PolicyRuntime::new(Limits::default(), None).expect("runtime");
        let module = runtime.compile(OPA_LABELS).expect("compiles");
        let refused = prepare(
            &runtime,
            &module,
            ExecutionMode::Wasi,
            PolicyType::Kubernetes,
        );
        assert!(matches!(refused, Err(PolicyLoadError::ModeMismatch(_))));
    }
}
