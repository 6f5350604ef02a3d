//! The command line: argument parsing and dispatch. The binary only wires things together;
//! each subcommand runs in its own module under `commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::FailOn;
use crate::commands;
use crate::config::MAX_POLICY_MEMORY_MIB;
use crate::policies::{ExecutionMode, UnknownExecutionMode};
use crate::reports::{Format, OutputSpec};

/// Check Kubernetes manifests against Kubewarden WebAssembly policies.
#[derive(Debug, Parser)]
#[command(name = "admit", version, about, propagate_version = true)]
pub(crate) struct Cli {
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
    /// List the built-in policies: id, presets, the severity of their findings (error, or what
    /// admit.yaml sets), their risk (the Kubewarden severity annotation) and what each checks.
    Policies {
        /// Use this configuration file instead of looking for admit.yaml.
        #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
        config: Option<PathBuf>,
        /// Ignore every configuration file.
        #[arg(long)]
        isolated: bool,
    },
    /// Print a built-in policy's documentation (what it checks, why, examples, settings), or
    /// what one of admit's own diagnostics means (`invalid-yaml`, `request`...).
    Explain {
        /// The policy or diagnostic id, e.g. `privileged` or `unused-suppression`.
        id: String,
    },
    /// Write built-in policies out as Kubewarden modules (<OUTPUT>/<id>.wasm, with their
    /// metadata), to push with `kwctl push` and run in a cluster; prints each file's size and
    /// sha256.
    Export {
        /// Built-in ids or presets (baseline, restricted, recommended); none: every built-in.
        #[arg(value_name = "POLICY")]
        policies: Vec<String>,
        /// The directory to write the modules in (created if missing).
        #[arg(short, long, value_name = "DIR", default_value = ".")]
        output: PathBuf,
    },
    /// Evaluate one request with one policy and print the AdmissionResponse, as `kwctl run`.
    ///
    /// Prints one compact JSON line. Exit status: 0 whether the request was allowed or denied,
    /// 1 when it could not be evaluated (unreadable policy or request, invalid settings).
    Run(Box<RunArgs>),
    /// Show a policy's metadata, execution mode, rules, imports and protocol version.
    Inspect {
        /// A Kubewarden module (.wasm), a registry:// or https:// reference, or a built-in id.
        policy: String,
        /// `human` or `json`.
        #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
        format: InspectFormat,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Pin every registry:// and https:// module admit.yaml names in admit.lock, by digest.
    ///
    /// admit.lock lives beside admit.yaml; commit it. A reference already locked keeps its
    /// digest whatever its tag points at now, until `--update` moves it. Entries admit.yaml no
    /// longer names are removed.
    Lock(LockArgs),
    /// Download modules into admit's store ahead of an offline run: the references given,
    /// else everything admit.lock pins and admit.yaml names.
    Pull(PullArgs),
    /// Embed Kubewarden metadata in a module, as `kwctl annotate`.
    Annotate(AnnotateArgs),
    /// Run declarative policy test suites: every admit-test.yaml (and NAME.admit-test.yaml)
    /// under PATHS, each case's manifest or request through its policies, compared with what
    /// the case expects.
    ///
    /// Exit status: 0 every case passed, 1 a case failed, 2 a case ended in an error (a
    /// policy failed where none was expected) or a test file is invalid.
    Test(Box<TestArgs>),
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

/// How modules named by reference are fetched.
#[derive(Debug, Clone, Args)]
pub(crate) struct RegistryArgs {
    /// Never use the network: modules come from admit's store (or kwctl's) alone, and a missing
    /// one is an error naming it. Also ADMIT_OFFLINE=1.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Refuse a registry:// or https:// reference admit.lock does not pin, instead of locking
    /// it (for CI, as `cargo --locked`).
    #[arg(long)]
    pub(crate) locked: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LockArgs {
    /// Re-resolve tags and pin what they point at now: every reference, or those given.
    #[arg(long)]
    pub(crate) update: bool,
    /// References to update (as admit.yaml writes them); only with --update.
    #[arg(value_name = "REF", requires = "update")]
    pub(crate) references: Vec<String>,
    /// Use this configuration file instead of looking for admit.yaml.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// admit's cache directory, where the module store is [default: as `check`].
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct PullArgs {
    /// registry:// or https:// references; none: everything admit.lock and admit.yaml name.
    #[arg(value_name = "REF")]
    pub(crate) references: Vec<String>,
    /// Use this configuration file instead of looking for admit.yaml.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// admit's cache directory, where the module store is [default: as `check`].
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Files or directories to check; `-` reads standard input. Directories are walked
    /// recursively for .yaml, .yml and .json files, honouring .gitignore and .ignore.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    /// A policy to run: a Kubewarden module (.wasm), a registry:// or https:// reference, a
    /// built-in id, or a preset (baseline, restricted, recommended); repeat for several.
    /// Default: recommended.
    #[arg(short, long = "policy", value_name = "FILE|REF|ID|PRESET")]
    pub(crate) policies: Vec<String>,

    /// Settings for the policy: a JSON object, or a YAML or JSON file. Only with one --policy.
    #[arg(short, long, value_name = "FILE|JSON")]
    pub(crate) settings: Option<String>,

    /// How to run the --policy module: kubewarden-wapc, wasi, opa or gatekeeper. Must agree
    /// with its metadata; needed for a Rego module without metadata. With several --policy,
    /// it applies to each .wasm among them.
    #[arg(short, long, value_name = "MODE", value_parser = parse_execution_mode)]
    pub(crate) execution_mode: Option<ExecutionMode>,

    /// The file name standard input has in reports. An `exclude` (the configuration's or
    /// --exclude) that names it leaves standard input unchecked.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    pub(crate) stdin_filename: String,

    /// Never check files matching GLOB, relative to the current directory (`**/generated/**`;
    /// a name without `*` also excludes everything under it); repeat for several. Adds to the
    /// configuration's `exclude`, and holds for files named on the command line too.
    #[arg(long = "exclude", value_name = "GLOB", value_parser = parse_exclude)]
    pub(crate) excludes: Vec<String>,

    /// Wall-time limit for one policy call, in seconds [default: 2].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) policy_timeout: Option<f64>,

    /// Memory cap of one policy instance, in MiB (1 to 4096) [default: 256].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=MAX_POLICY_MEMORY_MIB))]
    pub(crate) policy_memory: Option<u64>,

    /// Read a Kubewarden ClusterAdmissionPolicy/AdmissionPolicy file as a list of policies
    /// (module, settings, rules, objectSelector, mode); repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) policies_from: Vec<PathBuf>,

    /// Use this configuration file instead of looking for admit.yaml.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub(crate) config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long)]
    pub(crate) isolated: bool,

    /// Ignore `admit.dev/ignore` annotations and `# admit:ignore` comments: report everything.
    #[arg(long)]
    pub(crate) no_suppressions: bool,

    /// Check the files of Kustomize trees one by one, as written, instead of rendering each
    /// root; patch files are still not checked as objects.
    #[arg(long)]
    pub(crate) no_render: bool,

    /// Compile every policy afresh instead of using the compiled-module cache.
    #[arg(long)]
    pub(crate) no_cache: bool,

    /// Where compiled modules are cached [default: $ADMIT_CACHE_DIR, else
    /// $XDG_CACHE_HOME/admit, else ~/.cache/admit].
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,

    /// Output format, optionally with a file to write it to: `human` (snippets with the node
    /// underlined), `concise` (one line per finding), `json`, `sarif`, `junit` or `github`
    /// (workflow commands). Repeat for several, e.g. `--format human --format sarif=admit.sarif`.
    /// Standard output carries the one format given without a file, else `human`.
    #[arg(long = "format", value_name = "FORMAT[=FILE]", value_parser = parse_output)]
    pub(crate) formats: Vec<OutputSpec>,

    /// Write the report to FILE instead of standard output (the one --format given without a
    /// file). Report files are replaced atomically.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Which findings fail the run with exit code 1: `error` (default), `warning` (also
    /// warnings) or `never`. Errors always exit with 2.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(crate) fail_on: Option<FailOn>,

    /// When to use colours (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// How many threads check files in parallel [default: one per core, or
    /// $RAYON_NUM_THREADS]. The output is the same whatever the number.
    #[arg(short = 'j', long, value_name = "N")]
    pub(crate) threads: Option<usize>,

    /// Print what policies log (kubewarden/tracing/log) to standard error, and name each
    /// object and path left unchecked (other tools' configurations, broken links).
    #[arg(short, long)]
    pub(crate) verbose: bool,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,

    #[command(flatten)]
    pub(crate) context: ContextArgs,
}

/// How context-aware policies' host calls are answered.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ContextArgs {
    /// Let every policy read the resources its metadata lists in `contextAwareResources`,
    /// answered from the repository's objects (and context files), as kwctl's flag lets it
    /// read the cluster. Per policy: `allow-context-aware: true` in admit.yaml.
    #[arg(long)]
    pub(crate) allow_context_aware: bool,
    /// Files or directories of cluster state (`kubectl get ... -o yaml`) that context-aware
    /// policies see but that are not checked; adds to admit.yaml's `context:`. Repeatable.
    #[arg(long = "context", value_name = "PATH")]
    pub(crate) context: Vec<PathBuf>,
    /// Write every host-capability request and its answer to FILE, in kwctl's session format.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "replay_host_capabilities_interactions"
    )]
    pub(crate) record_host_capabilities_interactions: Option<PathBuf>,
    /// Answer host-capability requests from FILE, a session kwctl (or admit) recorded.
    #[arg(long, value_name = "FILE")]
    pub(crate) replay_host_capabilities_interactions: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["request_path", "manifest"])))]
pub(crate) struct RunArgs {
    /// A Kubewarden module (.wasm), a registry:// or https:// reference, or a built-in id.
    pub(crate) policy: String,
    /// The request: an AdmissionReview or an AdmissionRequest (for raw policies, any
    /// document), JSON or YAML; `-` reads standard input.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) request_path: Option<PathBuf>,
    /// Build a CREATE request from this manifest instead, as `admit check` does.
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: Option<PathBuf>,
    /// The policy's settings, a YAML or JSON file.
    #[arg(short, long, value_name = "FILE", conflicts_with = "settings_json")]
    pub(crate) settings_path: Option<PathBuf>,
    /// The policy's settings, as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub(crate) settings_json: Option<String>,
    /// How to run the module: kubewarden-wapc, wasi, opa or gatekeeper. Must agree with the
    /// metadata; needed for a module without metadata that is not waPC.
    #[arg(short, long, value_name = "MODE", value_parser = parse_execution_mode)]
    pub(crate) execution_mode: Option<ExecutionMode>,
    /// Send the request document as it is (a raw policy), whatever the metadata says.
    #[arg(long)]
    pub(crate) raw: bool,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
    /// Wall-time limit for one policy call, in seconds [default: 2].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) policy_timeout: Option<f64>,
    /// Print what the policy logs to standard error.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Test files, or directories searched for admit-test.yaml and NAME.admit-test.yaml
    /// (honouring .gitignore, as `check` walks).
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Run only the cases whose `SUITE: CASE` this regular expression finds.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) filter: Option<String>,
    /// Rewrite each case's expected findings (and result) in its test file to what the
    /// policies give now, keeping the rest of the file; review the diff before committing.
    #[arg(long)]
    pub(crate) update: bool,
    /// Output format, optionally with a file to write it to: `human` (each case, then what
    /// differs with the findings' snippets), `concise` (one line per failing case), `json` or
    /// `junit`. Repeat for several; standard output carries the one without a file, else
    /// `human`.
    #[arg(long = "format", value_name = "FORMAT[=FILE]", value_parser = commands::test::parse_output)]
    pub(crate) formats: Vec<crate::suite::report::OutputSpec>,
    /// When to use colours (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Compile every policy afresh instead of using the compiled-module cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Where compiled modules are cached [default: as `check`].
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
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
    let names = Format::ALL.map(Format::name);
    let (format, file) = format_and_file(value, Format::from_name, &names)?;
    Ok(OutputSpec { format, file })
}

/// A `--format` value, `FORMAT` or `FORMAT=FILE`: the format `find` knows by that name (one of
/// `names`), and the file. For `check` and `test`, whose formats differ.
pub(crate) fn format_and_file<F>(
    value: &str,
    find: fn(&str) -> Option<F>,
    names: &[&str],
) -> Result<(F, Option<PathBuf>), String> {
    let (name, file) = match value.split_once('=') {
        Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
        Some((name, _)) => return Err(format!("`{name}=` needs a file name after `=`")),
        None => (value, None),
    };
    let format = find(name).ok_or_else(|| {
        format!(
            "unknown format `{name}`; choose one of {}",
            names.join(", ")
        )
    })?;
    Ok((format, file))
}

/// `--exclude`'s value: a glob, checked now so that a mistake is a usage error.
fn parse_exclude(value: &str) -> Result<String, String> {
    crate::inputs::pattern_globs(value)
        .map(|_| value.to_string())
        .map_err(|error| format!("invalid glob `{value}`: {}", error.kind()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a report written to standard output: `auto` colours a terminal
    /// unless `NO_COLOR` is set.
    pub(crate) fn for_stdout(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// Parse the command line, run it, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => commands::check::check(*args),
        Command::Policies { config, isolated } => {
            commands::policies::policies(config.as_deref(), isolated)
        }
        Command::Explain { id } => commands::explain::explain(&id),
        Command::Export { policies, output } => commands::export::export(&policies, &output),
        Command::Test(args) => commands::test::test(*args),
        Command::Init { directory, force } => commands::init::init(&directory, force),
        Command::Inspect {
            policy,
            format,
            registry,
        } => commands::inspect::inspect(&policy, format == InspectFormat::Json, &registry)
            .map(|()| 0),
        Command::Lock(args) => commands::registry::lock(args),
        Command::Pull(args) => commands::registry::pull(args),
        Command::Annotate(args) => commands::annotate::annotate(
            &args.input,
            &args.metadata_path,
            args.usage_path.as_deref(),
            &args.output_path,
        )
        .map(|()| 0),
        // kwctl's contract: 1, not 2, when a request could not be evaluated.
        Command::Run(args) => match commands::run::run(*args) {
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

/// `-e`'s value: an execution mode by name (or kwctl's aliases `kubewarden` and `wapc`).
fn parse_execution_mode(value: &str) -> Result<ExecutionMode, String> {
    value
        .parse()
        .map_err(|error: UnknownExecutionMode| error.to_string())
}
