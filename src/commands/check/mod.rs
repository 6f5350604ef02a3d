//! `admit check`: settle the configuration, policies and reports the flags ask for, run the
//! check once per configuration, and write the reports.

mod config_groups;
mod outputs;
mod policies;
mod progress;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use miette::{IntoDiagnostic, miette};

use crate::check::{self, CheckOptions, CheckOutcome, PolicySpec};
use crate::cli::CheckArgs;
use crate::commands::{self, policy_timeout};
use crate::config::Config;
use crate::inputs::{Selection, pattern_globs};
use crate::policies::{DEFAULT_PRESET, Limits, Settings, select};
use crate::reports;
use progress::ProgressBar;

/// Check the paths of `args`, write the reports, and return the exit code.
pub(crate) fn check(args: CheckArgs) -> miette::Result<u8> {
    // Ctrl-C (or SIGTERM) ends the run, but first removes the temporary file of a report
    // being written, so no stray file is left next to it. 130 is the shell's code for a run
    // ended by SIGINT. Failing to install the handler only loses that clean-up.
    let _ = ctrlc::set_handler(|| {
        crate::atomic_file::remove_pending();
        std::process::exit(130);
    });
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| miette!("cannot start {threads} threads: {e}"))?;
    }
    let cli_policies = policies::from_flags(&args)?;
    let cli_timeout = policy_timeout(args.policy_timeout)?;
    let cache = commands::module_cache(args.no_cache, args.cache_dir.clone());
    let groups = config_groups::config_groups(&args)?;
    // Settled before the check, which skips reading unchanged files when no report shows them.
    let configured_outputs = groups
        .iter()
        .find_map(|(config, _)| config.as_ref())
        .map(|c| c.outputs.clone())
        .unwrap_or_default();
    let requested = if args.formats.is_empty() {
        configured_outputs
    } else {
        args.formats.clone()
    };
    let outputs = outputs::resolve_outputs(requested, args.output.clone())?;
    let source_text = outputs.iter().any(|output| output.format.shows_source());
    let progress: Option<Arc<dyn check::Progress>> = std::io::stderr()
        .is_terminal()
        .then(|| Arc::new(ProgressBar::default()) as Arc<dyn check::Progress>);
    let cli_selection = cli_selection(&args.excludes)?;
    let mut merged: Option<CheckOutcome> = None;
    let mut exit = 0;
    for (config, paths) in &groups {
        let config = config.as_ref();
        let mut policies = match (&cli_policies, config.and_then(|c| c.policies.clone())) {
            (Some(policies), _) => policies.clone(),
            (None, Some(policies)) => policies,
            (None, None) => default_policies()?,
        };
        // Modules named by reference are fetched (or found in the store) before the check: a
        // reference that fails is reported against its policy and the others still run.
        let mut session = None;
        if !crate::registry::references(&policies).is_empty() {
            let mut opened =
                commands::registry::session(config, &args.registry, args.cache_dir.clone())?;
            crate::registry::prepare(&mut policies, &mut opened);
            session = Some(opened);
        }
        let options = CheckOptions {
            paths: paths.clone(),
            stdin_name: args.stdin_filename.clone(),
            policies,
            limits: limits(&args, cli_timeout, config),
            cache: cache.clone(),
            selections: config
                .map(|c| c.selection.clone())
                .into_iter()
                .chain(cli_selection.clone())
                .collect(),
            skip_kinds: config.map(|c| c.skip_kinds.clone()).unwrap_or_default(),
            known_kinds: config.map(|c| c.known_kinds.clone()).unwrap_or_default(),
            disabled: config.map(|c| c.disabled.clone()).unwrap_or_default(),
            suppressions: !args.no_suppressions,
            progress: progress.clone(),
            source_text,
            render: check::RenderOptions {
                enabled: !args.no_render && config.and_then(|c| c.render).unwrap_or(true),
                kustomize: config.and_then(|c| c.kustomize.clone()),
                helm: config.and_then(|c| c.helm.clone()),
                charts: config.map(|c| c.charts.clone()).unwrap_or_default(),
                cache_dir: cache.as_ref().map(|c| c.dir().to_path_buf()),
                ..check::RenderOptions::default()
            },
            context: check::ContextOptions {
                allow_all: args.context.allow_context_aware,
                files: config
                    .map(|c| c.context.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .chain(args.context.context.iter().cloned())
                    .collect(),
                replay: args.context.replay_host_capabilities_interactions.clone(),
                record: args.context.record_host_capabilities_interactions.clone(),
                registry: commands::registry::image_access(config, &args.registry),
            },
        };
        let outcome = check::run(&options);
        if let Some(session) = &mut session {
            commands::registry::finish(session)?;
        }
        let fail_on = args
            .fail_on
            .or(config.and_then(|c| c.fail_on))
            .unwrap_or_default();
        exit = exit.max(outcome.exit_code(fail_on));
        merged = Some(match merged {
            Some(previous) => previous.merge(outcome),
            None => outcome,
        });
    }
    let Some(outcome) = merged else {
        return Ok(0);
    };
    if args.verbose {
        let mut stderr = std::io::stderr().lock();
        for line in &outcome.logs {
            writeln!(stderr, "{line}").into_diagnostic()?;
        }
        for line in reports::unchecked(&outcome.summary) {
            writeln!(stderr, "admit: {line}").into_diagnostic()?;
        }
    }
    outputs::write_reports(&outputs, &outcome, args.color)?;
    // The process ends here: freeing tens of thousands of findings one by one would only
    // delay the exit.
    std::mem::forget(outcome);
    Ok(exit)
}

/// `--exclude`'s globs, relative to the current directory; `None` without any.
fn cli_selection(excludes: &[String]) -> miette::Result<Option<Selection>> {
    if excludes.is_empty() {
        return Ok(None);
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in excludes {
        for glob in pattern_globs(pattern).map_err(|e| miette!("invalid glob `{pattern}`: {e}"))? {
            builder.add(glob);
        }
    }
    let exclude = builder
        .build()
        .map_err(|e| miette!("invalid --exclude globs: {e}"))?;
    Ok(Some(Selection {
        exclude: Some(exclude),
        ..Selection::new(PathBuf::from("."))
    }))
}

/// The policies when neither the flags nor the configuration name any: the default preset.
fn default_policies() -> miette::Result<Vec<PolicySpec>> {
    Ok(select(&[DEFAULT_PRESET.to_string()])
        .map_err(|message| miette!("{message}"))?
        .into_iter()
        .map(|source| PolicySpec::new(source, Settings::new()))
        .collect())
}

/// The limits of every policy call: the flags', else the configuration's, else the defaults.
fn limits(
    args: &CheckArgs,
    cli_timeout: Option<std::time::Duration>,
    config: Option<&Config>,
) -> Limits {
    let defaults = Limits::default();
    let timeout = cli_timeout.or_else(|| {
        config
            .and_then(|c| c.policy_timeout)
            .map(std::time::Duration::from_secs_f64)
    });
    let memory = args.policy_memory.or(config.and_then(|c| c.policy_memory));
    Limits {
        timeout: timeout.unwrap_or(defaults.timeout),
        memory: match memory {
            Some(mib) => usize::try_from(mib * 1024 * 1024).unwrap_or(usize::MAX),
            None => defaults.memory,
        },
    }
}
