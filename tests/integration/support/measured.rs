//! Run the built `admit` under a hang guard, through `/usr/bin/time -v` when it exists, and
//! print the wall time and peak RSS of the run for `docs/reliability.md` (measured, never
//! asserted). Used by the `hostile_policies` and `hostile_inputs` tests.

use std::path::Path;
use std::time::Duration;

/// What one run printed and how it ended: the same as every other test's run.
pub type Measured = crate::support::Run;

/// Run `admit ARGS` in `dir`, killed after `guard`; `marker` picks the line of stdout printed
/// next to the measurement (the message a user reads first).
pub fn run_measured(
    case: &str,
    dir: &Path,
    args: &[&str],
    guard: Duration,
    marker: &str,
) -> Measured {
    let time = Path::new("/usr/bin/time");
    let admit = env!("CARGO_BIN_EXE_admit");
    let mut command = if time.exists() {
        let mut command = assert_cmd::Command::new(time);
        command.arg("-v").arg(admit);
        command
    } else {
        assert_cmd::Command::new(admit)
    };
    let output = command
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .timeout(guard)
        .output()
        .expect("admit runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let measured = |label: &str| {
        stderr
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(|value| value.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    eprintln!(
        "MEASURED | {case} | wall {} | peak RSS {} KiB |",
        measured("Elapsed (wall clock) time (h:mm:ss or m:ss):"),
        measured("Maximum resident set size (kbytes):")
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if let Some(line) = stdout.lines().find(|line| line.contains(marker)) {
        eprintln!(
            "MESSAGE | {case} | {} |",
            line.trim_start_matches([' ', '×', '⚠'])
        );
    }
    let code = output.status.code().unwrap_or(-1);
    assert_ne!(
        code, -1,
        "{case}: admit was killed (hang guard or signal)\n{stderr}"
    );
    Measured {
        code,
        stdout,
        stderr,
    }
}
