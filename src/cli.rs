//! The command line: argument parsing and dispatch. The binary only wires things together.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::{IntoDiagnostic, miette};

use crate::check::{self, CheckOptions, PolicySpec};
use crate::documents;
use crate::policies::{Limits, Settings};
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
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files or directories to check; `-` reads standard input. Directories are walked
    /// recursively for .yaml, .yml and .json files, honouring .gitignore and .ignore.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// A Kubewarden policy module (.wasm) to run; repeat for several.
    #[arg(short, long = "policy", value_name = "FILE")]
    policies: Vec<PathBuf>,

    /// Settings for the policy: a JSON object, or a YAML or JSON file. Only with one --policy.
    #[arg(short, long, value_name = "FILE|JSON")]
    settings: Option<String>,

    /// The file name standard input has in reports.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    stdin_filename: String,

    /// Wall-time limit for one policy call, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    policy_timeout: f64,

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
    match cli.command {
        Command::Check(args) => match check_command(args) {
            Ok(code) => ExitCode::from(code),
            Err(report) => {
                eprintln!("{report:?}");
                ExitCode::from(2)
            }
        },
    }
}

fn check_command(args: CheckArgs) -> miette::Result<u8> {
    if args.settings.is_some() && args.policies.len() != 1 {
        return Err(miette!(
            help = "give each policy its own run, or one --policy with --settings",
            "--settings applies to exactly one --policy, but {} were given",
            args.policies.len()
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
        policies: args
            .policies
            .into_iter()
            .map(|path| PolicySpec {
                path,
                settings: settings.clone(),
            })
            .collect(),
        limits: Limits {
            timeout: Duration::from_secs_f64(args.policy_timeout),
            ..Limits::default()
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
