//! The policies named by flags: `--policy` (with `--settings`) and `--policies-from`.

use miette::miette;

use crate::check::PolicySpec;
use crate::cli::CheckArgs;
use crate::commands::settings::parse_settings;
use crate::config;
use crate::policies::{Settings, select};

/// The policies named on the command line, if any: they replace the configuration's list.
pub(super) fn from_flags(args: &CheckArgs) -> miette::Result<Option<Vec<PolicySpec>>> {
    if args.policies.is_empty() && args.policies_from.is_empty() {
        if args.settings.is_some() {
            return Err(miette!(
                help = "name the one policy the settings are for with --policy",
                "--settings needs --policy"
            ));
        }
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
    let mut specs: Vec<PolicySpec> = sources
        .into_iter()
        .map(|source| PolicySpec::new(source, settings.clone()))
        .collect();
    for file in &args.policies_from {
        specs.extend(config::read_admission_policies(file).map_err(miette::Report::new)?);
    }
    Ok(Some(specs))
}
