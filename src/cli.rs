//! The command line: argument parsing and dispatch. The binary only wires things together.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::{IntoDiagnostic, miette};

use crate::check::{self, CheckOptions, PolicySpec};
use crate::documents;
use crate::policies::builtin::BUILTINS;
use crate::policies::{Builtin, DEFAULT_PRESET, Limits, ModuleCache, Settings, select};
use crate::reports::{HumanReport, JsonReport, Report};

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
    /// Exit status: 0 nothing found, 1 a policy rejected an object, 2 an error occurred (an
    /// unreadable or invalid file, an invalid policy or settings, a policy that failed).
    Check(CheckArgs),
    /// List the built-in policies: id, presets, severity and what each checks.
    Policies,
    /// Print a built-in policy's documentation: what it checks, why, examples, settings.
    Explain {
        /// The policy id, e.g. `privileged`.
        id: String,
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

    /// Wall-time limit for one policy call, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    policy_timeout: f64,

    /// Compile every policy afresh instead of using the compiled-module cache.
    #[arg(long)]
    no_cache: bool,

    /// Where compiled modules are cached [default: $ADMIT_CACHE_DIR, else
    /// $XDG_CACHE_HOME/admit, else ~/.cache/admit].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// Output format: `human` (snippets with the node underlined) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// When to use colours (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Print what policies log (kubewarden/tracing/log) to standard error.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
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
        Command::Check(args) => check_command(args),
        Command::Policies => policies_command(),
        Command::Explain { id } => explain_command(&id),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn policies_command() -> miette::Result<u8> {
    let mut out = std::io::stdout().lock();
    let rows: Vec<[String; 4]> = BUILTINS
        .iter()
        .map(|builtin| {
            let metadata = builtin.metadata();
            let annotation = |key: &str| {
                metadata
                    .annotations
                    .get(&format!("io.kubewarden.policy.{key}"))
                    .cloned()
                    .unwrap_or_default()
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
    let names = if args.policies.is_empty() {
        vec![DEFAULT_PRESET.to_string()]
    } else {
        args.policies.clone()
    };
    let sources = select(&names).map_err(|message| miette!("{message}"))?;
    if args.settings.is_some() && (args.policies.is_empty() || sources.len() != 1) {
        let selected: Vec<String> = sources.iter().map(|s| s.name()).collect();
        return Err(miette!(
            help = "name the one policy the settings are for with --policy",
            "--settings applies to exactly one policy, but {} selected ({})",
            if args.policies.is_empty() {
                "the default preset"
            } else {
                "--policy"
            },
            selected.join(", ")
        ));
    }
    let settings = match &args.settings {
        Some(value) => parse_settings(value)?,
        None => Settings::new(),
    };
    if !(args.policy_timeout.is_finite() && args.policy_timeout > 0.0) {
        return Err(miette!(
            "--policy-timeout must be a positive number of seconds"
        ));
    }
    let options = CheckOptions {
        paths: args.paths,
        stdin_name: args.stdin_filename,
        policies: sources
            .into_iter()
            .map(|source| PolicySpec {
                source,
                settings: settings.clone(),
            })
            .collect(),
        limits: Limits {
            timeout: Duration::from_secs_f64(args.policy_timeout),
            ..Limits::default()
        },
        cache: if args.no_cache {
            None
        } else {
            args.cache_dir
                .or_else(ModuleCache::default_dir)
                .map(ModuleCache::new)
        },
    };
    let outcome = check::run(&options);
    if args.verbose {
        let mut stderr = std::io::stderr().lock();
        for line in &outcome.logs {
            writeln!(stderr, "{line}").into_diagnostic()?;
        }
    }
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    let report: Box<dyn Report> = match args.format {
        Format::Human => Box::new(HumanReport::new(color, width)),
        Format::Json => Box::new(JsonReport),
    };
    let mut out = stdout.lock();
    report
        .write(&mut out, &outcome.findings, &outcome.summary)
        .into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(outcome.exit_code())
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
