//! Replacing a file so that no reader ever sees half of it: reports, cached modules and cached
//! results all go through [`write`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written right now, so that an interrupted run can remove them
/// ([`remove_pending`]); a process killed by a signal runs no destructors.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Replace `path` with `bytes` through a temporary file in the same directory and a rename.
///
/// Only a regular file (or a missing one) is replaced: `/dev/null`, `/dev/stdout` or a FIFO is
/// written as it is, since renaming over it would replace the device itself. A symbolic link
/// keeps pointing where it did: its target is replaced.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (target, permissions) = match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(path)?
                .write_all(bytes);
        }
        Ok(metadata) => (std::fs::canonicalize(path)?, Some(metadata.permissions())),
        Err(_) => (path.to_path_buf(), None),
    };
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(directory)?;
    let temporary = temporary_file(directory, permissions)?;
    let pending = temporary.path().to_path_buf();
    track(&pending, true);
    let written = write_and_rename(temporary, bytes, &target);
    track(&pending, false);
    written
}

/// A temporary file that becomes the target: with the mode of the file it replaces, or, for a
/// new file, the mode any tool's new file gets (0666 less the umask) rather than the 0600 of a
/// temporary file.
fn temporary_file(
    directory: &Path,
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created through the umask, as open(2) applies it.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let temporary = builder.tempfile_in(directory)?;
    if let Some(permissions) = permissions {
        // Set, not created: a replaced file keeps its mode exactly, whatever the umask.
        temporary.as_file().set_permissions(permissions)?;
    }
    Ok(temporary)
}

fn write_and_rename(
    mut temporary: tempfile::NamedTempFile,
    bytes: &[u8],
    target: &Path,
) -> std::io::Result<()> {
    temporary.write_all(bytes)?;
    temporary.persist(target).map_err(|e| e.error)?;
    Ok(())
}

fn track(path: &Path, pending: bool) {
    // A poisoned lock only means another thread panicked while holding it; the list is fine.
    let mut list = PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if pending {
        list.push(path.to_path_buf());
    } else {
        list.retain(|p| p != path);
    }
}

/// Remove every temporary file a [`write`] in progress has created. For the Ctrl-C handler,
/// right before the process exits: the targets keep their previous contents (or stay absent).
pub fn remove_pending() {
    let list = PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for path in list.iter() {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_temporary_files_are_removed_and_finished_ones_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let temporary = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        let (_file, path) = temporary.keep().unwrap();
        track(&path, true);
        remove_pending();
        assert!(!path.exists());
        track(&path, false);

        write(&dir.path().join("report.json"), b"{}").unwrap();
        let pending = PENDING.lock().unwrap();
        assert!(pending.iter().all(|p| !p.starts_with(dir.path())));
        drop(pending);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
    }
}
