//! Running a renderer (Kustomize, Helm) as a subprocess: standard output and error captured,
//! with a time limit.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// A run that did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    #[error("cannot run `{command}`: {message}")]
    Spawn { command: String, message: String },
    #[error("`{command}` did not finish within {} s", .seconds)]
    Timeout { command: String, seconds: u64 },
    #[error("`{command}` failed:\n{stderr}")]
    Failed { command: String, stderr: String },
    #[error("cannot prepare `{command}`: {message}")]
    Prepare { command: String, message: String },
}

/// Run `argv` with `timeout`; its standard output on success. `shown` is the command as a
/// user would type it, for messages; `tidy` turns standard error into the message of a failure.
pub fn run(
    argv: &[String],
    shown: &str,
    timeout: Duration,
    tidy: impl Fn(&str) -> String,
) -> Result<String, RunError> {
    let (program, args) = argv.split_first().ok_or_else(|| RunError::Prepare {
        command: shown.to_string(),
        message: "the command is empty".into(),
    })?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| RunError::Spawn {
            command: shown.to_string(),
            message: error.to_string(),
        })?;
    // Both pipes are drained while the child runs: a large rendering fills a pipe long before
    // it exits.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::Timeout {
                command: shown.to_string(),
                seconds: timeout.as_secs(),
            });
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(RunError::Failed {
            command: shown.to_string(),
            stderr: tidy(&stderr),
        });
    }
    Ok(stdout)
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Whether `program` is an executable file in a directory of `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
