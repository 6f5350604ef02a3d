//! The command line: argument parsing and dispatch. The binary only wires things together.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::{IntoDiagnostic, miette};

use crate::atomic_file;
use crate::check::{self, CheckOptions, FailOn, PolicySpec};
use crate::config::{self, Config};
use crate::documents;
use crate::policies::builtin::BUILTINS;
use crate::policies::{Builtin, DEFAULT_PRESET, Limits, ModuleCache, Settings, select};
use crate::reports::{Format, OutputSpec};

/// Check Kubernetes manifests against Kubewarden WebAssembly policies.
#[derive(Debug, Parser)]
#[command(name = "admit", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests: every YAML and JSON document under PATHS, against every policy.
    ///
    /// Settings come from the nearest admit.yaml (or .admit.yaml) above each path, up to the
    /// repository root; flags override it.
    ///
    /// Exit status, whatever the output format: 0 nothing at or above the --fail-on level,
    /// 1 findings at or above it (by default: a policy rejected an object), 2 an error occurred
    /// (an unreadable or invalid file or configuration, an invalid policy or settings, a policy
    /// that failed). Suppressed findings never fail a run.
    Check(Box<CheckArgs>),
    /// List the built-in policies: id, presets, severity and what each checks.
    Policies,
    /// Print a built-in policy's documentation: what it checks, why, examples, settings.
    Explain {
        /// The policy id, e.g. `privileged`.
        id: String,
    },
    /// Evaluate one request with one policy and print the AdmissionResponse, as `kwctl run`.
    ///
    /// Prints one compact JSON line. Exit status: 0 whether the request was allowed or denied,
    /// 1 when it could not be evaluated (unreadable policy or request, invalid settings).
    Run(Box<RunArgs>),
    /// Show a policy's metadata, execution mode, rules, imports and protocol version.
    Inspect {
        /// A Kubewarden module (.wasm) or a built-in id.
        policy: String,
        /// `human` or `json`.
        #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
        format: InspectFormat,
    },
    /// Embed Kubewarden metadata in a module, as `kwctl annotate`.
    Annotate(AnnotateArgs),
    /// Write a commented starter admit.yaml and print the pre-commit snippet.
    Init {
        /// The directory to write admit.yaml in.
        #[arg(default_value = ".")]
        directory: PathBuf,
        /// Replace an existing admit.yaml.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files or directories to check; `-` reads standard input. Directories are walked
    /// recursively for .yaml, .yml and .json files, honouring .gitignore and .ignore.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// A policy to run: a Kubewarden module (.wasm), a built-in id, or a preset (baseline,
    /// restricted, recommended); repeat for several. Default: recommended.
    #[arg(short, long = "policy", value_name = "FILE|ID|PRESET")]
    policies: Vec<String>,

    /// Settings for the policy: a JSON object, or a YAML or JSON file. Only with one --policy.
    #[arg(short, long, value_name = "FILE|JSON")]
    settings: Option<String>,

    /// The file name standard input has in reports.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    stdin_filename: String,

    /// Wall-time limit for one policy call, in seconds [default: 2].
    #[arg(long, value_name = "SECONDS")]
    policy_timeout: Option<f64>,

    /// Memory cap of one policy instance, in MiB (1 to 4096) [default: 256].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=4096))]
    policy_memory: Option<u64>,

    /// Read a Kubewarden ClusterAdmissionPolicy/AdmissionPolicy file as a list of policies
    /// (module, settings, rules, objectSelector, mode); repeatable.
    #[arg(long, value_name = "FILE")]
    policies_from: Vec<PathBuf>,

    /// Use this configuration file instead of looking for admit.yaml.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    isolated: bool,

    /// Ignore `admit.dev/ignore` annotations and `# admit:ignore` comments: report everything.
    #[arg(long)]
    no_suppressions: bool,

    /// Compile every policy afresh instead of using the compiled-module cache.
    #[arg(long)]
    no_cache: bool,

    /// Where compiled modules are cached [default: $ADMIT_CACHE_DIR, else
    /// $XDG_CACHE_HOME/admit, else ~/.cache/admit].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// Output format, optionally with a file to write it to: `human` (snippets with the node
    /// underlined), `concise` (one line per finding), `json`, `sarif`, `junit` or `github`
    /// (workflow commands). Repeat for several, e.g. `--format human --format sarif=admit.sarif`.
    /// Standard output carries the one format given without a file, else `human`.
    #[arg(long = "format", value_name = "FORMAT[=FILE]", value_parser = parse_output)]
    formats: Vec<OutputSpec>,

    /// Write the report to FILE instead of standard output (the one --format given without a
    /// file). Report files are replaced atomically.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Which findings fail the run with exit code 1: `error` (default), `warning` (also
    /// warnings) or `never`. Errors always exit with 2.
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_on: Option<FailOnArg>,

    /// When to use colours (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// How many threads check files in parallel [default: one per core, or
    /// $RAYON_NUM_THREADS]. The output is the same whatever the number.
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,

    /// Print what policies log (kubewarden/tracing/log) to standard error.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["request_path", "manifest"])))]
struct RunArgs {
    /// A Kubewarden module (.wasm) or a built-in id.
    policy: String,
    /// The request: an AdmissionReview or an AdmissionRequest (for raw policies, any
    /// document), JSON or YAML; `-` reads standard input.
    #[arg(short, long, value_name = "FILE")]
    request_path: Option<PathBuf>,
    /// Build a CREATE request from this manifest instead, as `admit check` does.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The policy's settings, a YAML or JSON file.
    #[arg(short, long, value_name = "FILE", conflicts_with = "settings_json")]
    settings_path: Option<PathBuf>,
    /// The policy's settings, as a JSON object.
    #[arg(long, value_name = "JSON")]
    settings_json: Option<String>,
    /// How to run the module: kubewarden-wapc, wasi, opa or gatekeeper. Must agree with the
    /// metadata; needed for a module without metadata that is not waPC.
    #[arg(short, long, value_name = "MODE", value_parser = crate::commands::parse_execution_mode)]
    execution_mode: Option<crate::policies::ExecutionMode>,
    /// Send the request document as it is (a raw policy), whatever the metadata says.
    #[arg(long)]
    raw: bool,
    /// Accepted for kwctl compatibility. Context-aware policies get no cluster data offline:
    /// their `kubernetes/*` host calls fail.
    #[arg(long)]
    allow_context_aware: bool,
    /// Wall-time limit for one policy call, in seconds [default: 2].
    #[arg(long, value_name = "SECONDS")]
    policy_timeout: Option<f64>,
    /// Print what the policy logs to standard error.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Args)]
struct AnnotateArgs {
    /// The module to annotate.
    input: PathBuf,
    /// The metadata, a YAML file as kwctl takes it.
    #[arg(short, long, value_name = "FILE")]
    metadata_path: PathBuf,
    /// A README to embed as the `io.kubewarden.policy.usage` annotation.
    #[arg(short, long, value_name = "FILE")]
    usage_path: Option<PathBuf>,
    /// Where to write the annotated module (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    output_path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InspectFormat {
    Human,
    Json,
}

fn parse_output(value: &str) -> Result<OutputSpec, String> {
    let (name, file) = match value.split_once('=') {
        Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
        Some((name, _)) => return Err(format!("`{name}=` needs a file name after `=`")),
        None => (value, None),
    };
    let format = Format::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!(
            "unknown format `{name}`; choose one of {}",
            names.join(", ")
        )
    })?;
    Ok(OutputSpec { format, file })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(value: FailOnArg) -> Self {
        match value {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parse the command line, run it, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => check_command(*args),
        Command::Policies => policies_command(),
        Command::Explain { id } => explain_command(&id),
        Command::Init { directory, force } => init_command(&directory, force),
        Command::Inspect { policy, format } => {
            crate::commands::inspect::inspect(&policy, format == InspectFormat::Json).map(|()| 0)
        }
        Command::Annotate(args) => crate::commands::annotate::annotate(
            &args.input,
            &args.metadata_path,
            args.usage_path.as_deref(),
            &args.output_path,
        )
        .map(|()| 0),
        // kwctl's contract: 1, not 2, when a request could not be evaluated.
        Command::Run(args) => match run_command(*args) {
            Ok(()) => Ok(0),
            Err(report) => {
                // One plain line, as kwctl prints it: e2e tests grep it, so it must not wrap.
                eprintln!("Error: {report}");
                Ok(1)
            }
        },
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn run_command(args: RunArgs) -> miette::Result<()> {
    use crate::commands::run::{RequestSource, RunOptions, run};
    let settings = match (&args.settings_path, &args.settings_json) {
        (Some(path), _) => parse_settings(&path.display().to_string())?,
        (None, Some(json)) => parse_settings(json)?,
        (None, None) => Settings::new(),
    };
    let mut limits = Limits::default();
    if let Some(timeout) = args.policy_timeout {
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(miette!(
                "--policy-timeout must be a positive number of seconds"
            ));
        }
        limits.timeout = Duration::from_secs_f64(timeout);
    }
    let request = match (args.request_path, args.manifest) {
        (Some(path), _) => RequestSource::Request(path),
        (None, Some(path)) => RequestSource::Manifest(path),
        (None, None) => return Err(miette!("give --request-path or --manifest")),
    };
    run(&RunOptions {
        policy: args.policy,
        request,
        settings,
        execution_mode: args.execution_mode,
        raw: args.raw,
        limits,
        verbose: args.verbose,
    })
}

fn policies_command() -> miette::Result<u8> {
    let mut out = std::io::stdout().lock();
    let rows: Vec<[String; 4]> = BUILTINS
        .iter()
        .map(|builtin| {
            let metadata = builtin.metadata();
            let annotation = |key: &str| {
                metadata
                    .policy_annotation(key)
                    .unwrap_or_default()
                    .to_string()
            };
            let presets = builtin.presets();
            [
                builtin.id.to_string(),
                if presets.is_empty() {
                    "-".into()
                } else {
                    presets.join(",")
                },
                annotation("severity"),
                annotation("description"),
            ]
        })
        .collect();
    let width = |column: usize| rows.iter().map(|r| r[column].len()).max().unwrap_or(0);
    let (id_width, preset_width, severity_width) =
        (width(0).max(2), width(1).max(7), width(2).max(8));
    writeln!(
        out,
        "{:id_width$}  {:preset_width$}  {:severity_width$}  DESCRIPTION",
        "ID", "PRESETS", "SEVERITY"
    )
    .into_diagnostic()?;
    for [id, presets, severity, description] in &rows {
        writeln!(
            out,
            "{id:id_width$}  {presets:preset_width$}  {severity:severity_width$}  {description}"
        )
        .into_diagnostic()?;
    }
    Ok(0)
}

/// What a team adds to `.pre-commit-config.yaml`; `admit init` prints it.
const PRE_COMMIT_SNIPPET: &str = "\
repos:
  - repo: https://github.com/OWNER/admit
    rev: v0.1.0
    hooks:
      - id: admit
";

fn init_command(directory: &Path, force: bool) -> miette::Result<u8> {
    let path = directory.join(config::CONFIG_NAMES[0]);
    if path.exists() && !force {
        return Err(miette!(
            help = "edit it, or pass --force to replace it",
            "{} already exists",
            path.display()
        ));
    }
    std::fs::create_dir_all(directory)
        .map_err(|e| miette!("cannot create {}: {e}", directory.display()))?;
    write_atomically(&path, config::STARTER.as_bytes())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Wrote {}. `admit check` reads it from any directory below it.\n\nTo run admit before every commit, add this to .pre-commit-config.yaml:\n\n{PRE_COMMIT_SNIPPET}",
        path.display()
    )
    .into_diagnostic()?;
    Ok(0)
}

fn explain_command(id: &str) -> miette::Result<u8> {
    let builtin = Builtin::find(id).ok_or_else(|| {
        miette!(
            help = "`admit policies` lists the built-in policies",
            "no built-in policy `{id}`"
        )
    })?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", builtin.docs).into_diagnostic()?;
    Ok(0)
}

fn check_command(args: CheckArgs) -> miette::Result<u8> {
    // Ctrl-C (or SIGTERM) ends the run as before, but first removes the temporary file of a
    // report being written, so no stray file is left next to it. 130 is the shell's code for
    // a run ended by SIGINT. Failing to install the handler only loses that clean-up.
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
    let cli_policies = cli_policies(&args)?;
    if let Some(timeout) = args.policy_timeout
        && !(timeout.is_finite() && timeout > 0.0)
    {
        return Err(miette!(
            "--policy-timeout must be a positive number of seconds"
        ));
    }
    let cache = if args.no_cache {
        None
    } else {
        args.cache_dir
            .clone()
            .or_else(ModuleCache::default_dir)
            .map(ModuleCache::new)
    };
    let groups = config_groups(&args)?;
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
    let outputs = resolve_outputs(requested, args.output.clone())?;
    let source_text = outputs.iter().any(|output| output.format.shows_source());
    let progress: Option<Arc<dyn check::Progress>> = std::io::stderr()
        .is_terminal()
        .then(|| Arc::new(ProgressBar::default()) as Arc<dyn check::Progress>);
    let mut merged: Option<check::CheckOutcome> = None;
    let mut exit = 0;
    for (config, paths) in &groups {
        let policies = match (
            &cli_policies,
            config.as_ref().and_then(|c| c.policies.clone()),
        ) {
            (Some(policies), _) => policies.clone(),
            (None, Some(policies)) => policies,
            (None, None) => select(&[DEFAULT_PRESET.to_string()])
                .map_err(|message| miette!("{message}"))?
                .into_iter()
                .map(|source| PolicySpec::new(source, Settings::new()))
                .collect(),
        };
        let timeout = args
            .policy_timeout
            .or(config.as_ref().and_then(|c| c.policy_timeout))
            .unwrap_or(DEFAULT_POLICY_TIMEOUT);
        let options = CheckOptions {
            paths: paths.clone(),
            stdin_name: args.stdin_filename.clone(),
            policies,
            limits: Limits {
                timeout: Duration::from_secs_f64(timeout),
                memory: match args
                    .policy_memory
                    .or(config.as_ref().and_then(|c| c.policy_memory))
                {
                    Some(mib) => usize::try_from(mib * 1024 * 1024).unwrap_or(usize::MAX),
                    None => Limits::default().memory,
                },
            },
            cache: cache.clone(),
            selection: config.as_ref().map(|c| c.selection.clone()),
            suppressions: !args.no_suppressions,
            progress: progress.clone(),
            source_text,
        };
        let outcome = check::run(&options);
        let fail_on = args
            .fail_on
            .map(FailOn::from)
            .or(config.as_ref().and_then(|c| c.fail_on))
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
    }
    write_reports(&outputs, &outcome, args.color)?;
    // The process ends here: freeing tens of thousands of findings one by one would only
    // delay the exit (a twentieth of a run that took every file from the cache).
    std::mem::forget(outcome);
    Ok(exit)
}

/// A progress bar on standard error that appears only once a run has taken a second: short
/// runs (a pre-commit hook) never flash one.
#[derive(Debug, Default)]
struct ProgressBar {
    bar: std::sync::OnceLock<(indicatif::ProgressBar, std::time::Instant)>,
}

impl check::Progress for ProgressBar {
    fn start(&self, files: usize) {
        // Paths under different configurations are checked one group after another.
        if let Some((bar, _)) = self.bar.get() {
            bar.inc_length(files as u64);
            return;
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(files as u64),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} checking {pos}/{len} files {wide_bar} {eta}",
        ) {
            bar.set_style(style);
        }
        let _ = self.bar.set((bar, std::time::Instant::now()));
    }

    fn advance(&self) {
        if let Some((bar, started)) = self.bar.get() {
            if bar.is_hidden() && started.elapsed() > Duration::from_secs(1) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some((bar, _)) = self.bar.get()
            && bar.position() >= bar.length().unwrap_or(0)
        {
            bar.finish_and_clear();
        }
    }
}

/// The wall-time limit for one policy call when neither flag nor configuration sets one.
const DEFAULT_POLICY_TIMEOUT: f64 = 2.0;

/// The policies named on the command line (`--policy`, `--policies-from`), if any: they
/// replace the configuration's list.
fn cli_policies(args: &CheckArgs) -> miette::Result<Option<Vec<PolicySpec>>> {
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

/// Which configuration governs which paths: `--isolated` none, `--config` one for all, else
/// each path's nearest `admit.yaml`, paths sharing a configuration checked together.
fn config_groups(args: &CheckArgs) -> miette::Result<Vec<(Option<Config>, Vec<PathBuf>)>> {
    if args.isolated {
        return Ok(vec![(None, args.paths.clone())]);
    }
    if let Some(path) = &args.config {
        let config = config::load(path).map_err(miette::Report::new_boxed)?;
        return Ok(vec![(Some(config), args.paths.clone())]);
    }
    let mut groups: Vec<(Option<PathBuf>, Vec<PathBuf>)> = Vec::new();
    for path in &args.paths {
        let found = config::discover(path);
        match groups.iter_mut().find(|(config, _)| *config == found) {
            Some((_, paths)) => paths.push(path.clone()),
            None => groups.push((found, vec![path.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|(config, paths)| {
            let config = config
                .map(|path| config::load(&path).map_err(miette::Report::new_boxed))
                .transpose()?;
            Ok((config, paths))
        })
        .collect()
}

/// Settle where each report goes: `--output` names the file of the one format without a file,
/// and standard output always carries a report (`human` when every format went to a file).
fn resolve_outputs(
    mut outputs: Vec<OutputSpec>,
    output: Option<PathBuf>,
) -> miette::Result<Vec<OutputSpec>> {
    if outputs.is_empty() {
        outputs.push(OutputSpec {
            format: Format::Human,
            file: None,
        });
    }
    let to_stdout: Vec<usize> = (0..outputs.len())
        .filter(|&i| outputs[i].file.is_none())
        .collect();
    if let Some(file) = output {
        match to_stdout.as_slice() {
            [only] => outputs[*only].file = Some(file),
            [] => {
                return Err(miette!(
                    "--output has no format to write: every --format already names its file"
                ));
            }
            _ => {
                return Err(miette!(
                    help = "name each file with --format FORMAT=FILE",
                    "--output is ambiguous with several --format options that have no file"
                ));
            }
        }
    } else if to_stdout.len() > 1 {
        return Err(miette!(
            help = "send all but one to files with --format FORMAT=FILE",
            "only one report can go to standard output, but {} formats have no file",
            to_stdout.len()
        ));
    }
    if outputs.iter().all(|o| o.file.is_some()) {
        outputs.push(OutputSpec {
            format: Format::Human,
            file: None,
        });
    }
    Ok(outputs)
}

/// Write every report: files first, each replaced atomically so that an interrupted run never
/// leaves half a report behind, then standard output.
fn write_reports(
    outputs: &[OutputSpec],
    outcome: &check::CheckOutcome,
    color: ColorChoice,
) -> miette::Result<()> {
    let stdout = std::io::stdout();
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    for output in outputs {
        match &output.file {
            Some(path) => {
                let report = output.format.report(color == ColorChoice::Always, width);
                let mut bytes = Vec::new();
                report.write(&mut bytes, outcome).into_diagnostic()?;
                write_atomically(path, &bytes)?;
            }
            None => {
                let color = match color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        stdout.is_terminal()
                            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    }
                };
                let report = output.format.report(color, width);
                // Standard output is line-buffered: a large report would be a syscall a line.
                let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
                report.write(&mut out, outcome).into_diagnostic()?;
                out.flush().into_diagnostic()?;
            }
        }
    }
    Ok(())
}

/// Write a report file atomically, as a diagnostic when that fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> miette::Result<()> {
    atomic_file::write(path, bytes).map_err(|e| miette!("cannot write {}: {e}", path.display()))
}

/// `--settings` is inline JSON when it looks like an object, else a YAML or JSON file.
fn parse_settings(value: &str) -> miette::Result<Settings> {
    let (name, text) = if value.trim_start().starts_with('{') {
        ("--settings".to_string(), value.to_string())
    } else {
        let text = std::fs::read_to_string(Path::new(value))
            .map_err(|e| miette!("cannot read settings file {value}: {e}"))?;
        (value.to_string(), text)
    };
    let loaded = documents::load(&text);
    if let Some(error) = loaded.errors.first() {
        return Err(miette!("invalid settings in {name}: {}", error.message));
    }
    match loaded.documents.as_slice() {
        [] => Ok(Settings::new()),
        [document] => match document.root.to_json() {
            serde_json::Value::Object(map) => Ok(map),
            serde_json::Value::Null => Ok(Settings::new()),
            other => Err(miette!(
                "settings in {name} must be a mapping, not {}",
                json_type(&other)
            )),
        },
        _ => Err(miette!("settings in {name} must be a single document")),
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}
