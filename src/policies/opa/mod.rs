//! OPA and Gatekeeper execution modes (spec §7): modules built with `opa build -t wasm`, run
//! the way Kubewarden's burrego runs them.
//!
//! - [`abi`]: the OPA Wasm ABI host (imports, value push/pull, one evaluation);
//! - [`modes`]: input and data per mode, and the mapping of results to admit's response;
//! - [`builtins`]: the builtins OPA leaves to the host, as burrego implements them;
//! - [`sprintf`]: Go's `fmt` verbs, for the `sprintf` builtin.

mod abi;
pub mod builtins;
mod modes;
pub mod sprintf;

use std::sync::Arc;

use self::abi::{BuiltinTable, OpaInstance, OpaLinked};
pub use self::modes::Flavor;
use super::guest::{Guest, PreparedGuest};
use super::host_capabilities::GuestLog;
use super::metadata::PolicyType;
use super::policy::LoadError;
use super::protocol::{SettingsValidationResponse, ValidationResponse};
use super::runtime::{Limits, PolicyRuntime};
use super::wapc::CallError;

/// Link a compiled OPA module for `flavor`, start it once to read the builtins it needs, and
/// refuse it when admit lacks any of them (burrego's `MissingRegoBuiltins`).
pub(crate) fn prepare(
    runtime: &PolicyRuntime,
    module: &wasmtime::Module,
    flavor: Flavor,
    policy_type: PolicyType,
) -> Result<Box<dyn PreparedGuest>, LoadError> {
    if flavor == Flavor::Gatekeeper && policy_type == PolicyType::Raw {
        // Kubewarden answers every request of such a policy with an internal error; saying
        // so once, at load, is kinder.
        return Err(LoadError::Invalid(
            "a Gatekeeper policy cannot be a raw policy (`policyType: raw`): Gatekeeper \
             policies review Kubernetes admission requests only"
                .into(),
        ));
    }
    let linked = OpaLinked::new(module).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    let limits = runtime.limits();
    let started = |e: CallError| LoadError::Invalid(format!("cannot start the OPA module: {e}"));
    let mut probe = OpaInstance::start(&linked, Arc::default(), limits).map_err(started)?;
    // Kubewarden always evaluates entrypoint 0: a module without one cannot answer.
    let entrypoints = probe.entrypoint_ids().map_err(started)?;
    if !entrypoints.values().any(|&id| id == 0) {
        return Err(LoadError::Invalid(
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
        return Err(LoadError::Invalid(format!(
            "the policy needs Rego builtins admit does not implement: {}",
            missing.join(", ")
        )));
    }
    Ok(Box::new(OpaModule {
        linked,
        builtins: Arc::new(table),
        flavor,
    }))
}

impl Flavor {
    /// The `executionMode` value of this flavor.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Opa => "opa",
            Flavor::Gatekeeper => "gatekeeper",
        }
    }
}

/// A linked OPA module whose builtins are all available.
struct OpaModule {
    linked: OpaLinked,
    builtins: Arc<BuiltinTable>,
    flavor: Flavor,
}

impl PreparedGuest for OpaModule {
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError> {
        Ok(Box::new(OpaGuest {
            instance: OpaInstance::start(&self.linked, Arc::clone(&self.builtins), limits)?,
            flavor: self.flavor,
        }))
    }
}

/// One live OPA instance and the mode it answers in.
struct OpaGuest {
    instance: OpaInstance,
    flavor: Flavor,
}

impl Guest for OpaGuest {
    fn validate(
        &mut self,
        request_json: &[u8],
        settings_json: &[u8],
    ) -> Result<ValidationResponse, CallError> {
        let (data, input) = self.flavor.data_and_input(request_json, settings_json);
        let result_set = self.instance.evaluate(&data, &input)?;
        self.flavor.response(result_set, request_json)
    }

    /// Rego has no settings validation: Kubewarden never calls the module and always answers
    /// valid (spec §3.2). Settings are still a JSON object, which admit checks before this.
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
    use crate::policies::{CallError, CompiledPolicy, Limits, PolicyRuntime, Settings};

    /// The committed stand-in for an OPA policy (tests/policies/rego-guest).
    const OPA_LABELS: &[u8] = include_bytes!("../../../tests/policies/opa-labels.wasm");

    fn policy(memory: usize) -> CompiledPolicy {
        let limits = Limits {
            memory,
            ..Limits::default()
        };
        let runtime = PolicyRuntime::new(limits, None).expect("runtime");
        CompiledPolicy::from_bytes(
            &runtime,
            OPA_LABELS,
            "test".into(),
            "opa-labels".into(),
            Settings::new(),
        )
        .expect("the committed module loads")
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
        // wrapper). Without the heap-pointer reset of spec §7.3, 400 of them would need far more
        // than the 8 MiB this instance may use.
        let policy = policy(8 << 20);
        let mut instance = policy.instantiate().expect("starts");
        for i in 0..400 {
            let name = format!("cm-{i}");
            let response = instance
                .validate(&request(&name, 64 << 10))
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
        let policy = policy(4 << 20);
        let mut instance = policy.instantiate().expect("starts");
        let error = instance
            .validate(&request("big", 8 << 20))
            .expect_err("8 MiB cannot fit in 4");
        assert_eq!(error, CallError::OutOfMemory(4));
    }
}
