//! `admit test`: find the test files under the paths, read them, fetch the modules they name
//! by reference, run their cases, rewrite them with `--update`, and write the reports.

use std::io::Write;
use std::path::Path;

use miette::{IntoDiagnostic, miette};

use super::write_atomically;
use crate::cli::{ColorChoice, TestArgs};
use crate::config;
use crate::suite::report::{Format, OutputSpec};
use crate::suite::{self, RunOptions, SuiteOutcome, TestFile, TestFileError};

/// Run the test files under `args.paths`, write the reports, and return the exit code: 0 when
/// every case passed, 1 when one failed, 2 when one ended in an error or a test file could
/// not be used.
pub(crate) fn test(args: TestArgs) -> miette::Result<u8> {
    let filter = args
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| miette!("--filter is not a valid regular expression: {e}"))?;
    let outputs = resolve_outputs(args.formats.clone())?;
    let discovered = suite::discover(&args.paths);
    if let Some(missing) = discovered.missing.first() {
        return Err(miette!("{}: no such file or directory", missing.display()));
    }
    if discovered.files.is_empty() {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        return Err(miette!(
            help = "a test file is named admit-test.yaml, or NAME.admit-test.yaml; `admit test \
                    FILE` runs a file of any name",
            "no test files under {}",
            paths.join(", ")
        ));
    }
    let cache = super::module_cache(args.no_cache, args.cache_dir.clone());
    // Kept until the run ends when there is no cache directory to write inline manifests in.
    let scratch;
    let inline_dir = match cache
        .as_ref()
        .map(|c| c.dir().join("test-manifests"))
        .filter(|dir| std::fs::create_dir_all(dir).is_ok())
    {
        Some(dir) => dir,
        None => {
            scratch = tempfile::tempdir()
                .map_err(|e| miette!("cannot make a temporary directory: {e}"))?;
            scratch.path().to_path_buf()
        }
    };
    let mut files: Vec<Result<TestFile, TestFileError>> = discovered
        .files
        .iter()
        .map(|path| suite::read(path))
        .collect();
    for file in files.iter_mut().flatten() {
        fetch_modules(file, &args)?;
    }
    let options = RunOptions {
        cache,
        inline_dir,
        filter,
    };
    let mut outcome = suite::run(&files, &options);
    if let Some(filter) = &args.filter
        && outcome.counts().cases == 0
        && outcome.files.iter().all(|f| f.cases.is_ok())
    {
        return Err(miette!(
            help = "it is a regular expression searched in `SUITE: CASE`",
            "--filter {filter:?} matches no case"
        ));
    }
    let mut failed_updates = Vec::new();
    if args.update {
        failed_updates = update(&files, &mut outcome);
    }
    write_reports(&outputs, &outcome, args.color)?;
    let mut stderr = std::io::stderr().lock();
    for error in &failed_updates {
        writeln!(stderr, "{:?}", miette::Report::new(error.clone())).into_diagnostic()?;
    }
    let exit = outcome.exit_code();
    Ok(if failed_updates.is_empty() { exit } else { 2 })
}

/// Fetch the modules `file` names by reference, through the lockfile of the admit.yaml that
/// governs it, as `admit check` fetches those of admit.yaml.
fn fetch_modules(file: &mut TestFile, args: &TestArgs) -> miette::Result<()> {
    let mut specs: Vec<_> = file.policies.iter().map(|p| p.spec.clone()).collect();
    if crate::registry::references(&specs).is_empty() {
        return Ok(());
    }
    let config = config::discover(Path::new(file.source.name()))
        .map(|path| config::load(&path).map_err(miette::Report::new_boxed))
        .transpose()?;
    let mut session =
        super::registry::session(config.as_ref(), &args.registry, args.cache_dir.clone())?;
    crate::registry::prepare(&mut specs, &mut session);
    super::registry::finish(&mut session)?;
    for (policy, spec) in file.policies.iter_mut().zip(specs) {
        policy.spec = spec;
    }
    Ok(())
}

/// `--update`: rewrite each test file whose cases came out otherwise, and say so on standard
/// error; the files that could not be rewritten.
fn update(
    files: &[Result<TestFile, TestFileError>],
    outcome: &mut SuiteOutcome,
) -> Vec<TestFileError> {
    let mut failed = Vec::new();
    for (file, result) in files.iter().zip(outcome.files.iter_mut()) {
        let (Ok(file), Ok(cases)) = (file, &mut result.cases) else {
            continue;
        };
        match suite::update(file, cases) {
            Ok(true) => eprintln!("admit: updated {}", file.source.name()),
            Ok(false) => {}
            Err(error) => failed.push(error),
        }
    }
    failed
}

/// Where each report goes: the format given without a file to standard output (at most one),
/// the others to their files; `human` to standard output when every format names a file.
fn resolve_outputs(mut outputs: Vec<OutputSpec>) -> miette::Result<Vec<OutputSpec>> {
    let to_stdout = outputs.iter().filter(|o| o.file.is_none()).count();
    if to_stdout > 1 {
        return Err(miette!(
            help = "send all but one to files with --format FORMAT=FILE",
            "only one report can go to standard output, but {to_stdout} formats have no file"
        ));
    }
    if to_stdout == 0 {
        outputs.push(OutputSpec {
            format: Format::Human,
            file: None,
        });
    }
    Ok(outputs)
}

/// Write every report: files first, each replaced atomically, then standard output.
fn write_reports(
    outputs: &[OutputSpec],
    outcome: &SuiteOutcome,
    color: ColorChoice,
) -> miette::Result<()> {
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    let mut ordered: Vec<&OutputSpec> = outputs.iter().filter(|o| o.file.is_some()).collect();
    ordered.extend(outputs.iter().filter(|o| o.file.is_none()));
    for output in ordered {
        match &output.file {
            Some(path) => {
                let mut bytes = Vec::new();
                output
                    .format
                    .write(&mut bytes, outcome, color == ColorChoice::Always, width)
                    .into_diagnostic()?;
                write_atomically(path, &bytes)?;
            }
            None => {
                let stdout = std::io::stdout();
                let color = color.for_stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                output
                    .format
                    .write(&mut out, outcome, color, width)
                    .into_diagnostic()?;
                out.flush().into_diagnostic()?;
            }
        }
    }
    Ok(())
}

/// `--format`'s value for `admit test`: `FORMAT` or `FORMAT=FILE`.
pub(crate) fn parse_output(value: &str) -> Result<OutputSpec, String> {
    let names = Format::ALL.map(Format::name);
    let (format, file) = crate::cli::format_and_file(value, Format::from_name, &names)?;
    Ok(OutputSpec { format, file })
}
