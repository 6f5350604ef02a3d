//! The policies named by flags: `--policy` (with `--settings`) and `--policies-from`.

use miette::miette;

use crate::check::PolicySpec;
use crate::cli::CheckArgs;
use crate::commands::settings::parse_settings;
use crate::config;
use crate::policies::{ExecutionMode, PolicySource, Settings, select};

/// The policies named on the command line, if any: they replace the configuration's list.
pub(super) fn from_flags(args: &CheckArgs) -> miette::Result<Option<Vec<PolicySpec>>> {
    if args.policies.is_empty() {
        if args.settings.is_some() {
            return Err(miette!(
                help = "name the one policy the settings are for with --policy",
                "--settings needs --policy"
            ));
        }
        if args.execution_mode.is_some() {
            return Err(miette!(
                help = "name the module with --policy FILE.wasm; a policy in admit.yaml takes \
                        `execution-mode:` in its entry",
                "--execution-mode needs --policy"
            ));
        }
    }
    if args.policies.is_empty() && args.policies_from.is_empty() {
        return Ok(None);
    }
    let sources = select(&args.policies).map_err(|message| miette!("{message}"))?;
    if args.settings.is_some() && sources.len() != 1 {
        let selected: Vec<String> = sources.iter().map(|s| s.name()).collect();
        return Err(miette!(
            help = "name the one policy the settings are for with --policy",
            "--settings applies to exactly one policy, but --policy selected {}",
            if selected.is_empty() {
                "none".to_string()
            } else {
                selected.join(", ")
            }
        ));
    }
    let settings = match &args.settings {
        Some(value) => parse_settings(value)?,
        None => Settings::new(),
    };
    let execution_mode = execution_mode(args, &sources)?;
    let one = sources.len() == 1;
    let mut specs: Vec<PolicySpec> = sources
        .into_iter()
        .map(|source| PolicySpec {
            // Among several, only the modules: a built-in runs as its metadata says. The one
            // policy named gets the mode whatever it is, and refuses one that disagrees.
            execution_mode: execution_mode.filter(|_| one || source.is_module()),
            ..PolicySpec::new(source, settings.clone())
        })
        .collect();
    for file in &args.policies_from {
        specs.extend(config::read_admission_policies(file).map_err(miette::Report::new)?);
    }
    Ok(Some(specs))
}

/// `--execution-mode`, checked against what `--policy` selected: like `--settings` it is for
/// the one policy named, and with several it is for the modules among them (a built-in always
/// runs as what its metadata says).
fn execution_mode(
    args: &CheckArgs,
    sources: &[PolicySource],
) -> miette::Result<Option<ExecutionMode>> {
    let Some(mode) = args.execution_mode else {
        return Ok(None);
    };
    let modules = sources.iter().filter(|source| source.is_module()).count();
    if sources.len() == 1 || modules > 0 {
        return Ok(Some(mode));
    }
    let selected: Vec<String> = sources.iter().map(PolicySource::name).collect();
    Err(miette!(
        help = "give it with the --policy FILE.wasm it is for",
        "--execution-mode applies to .wasm modules, but --policy selected only built-in \
         policies ({})",
        selected.join(", ")
    ))
}
