//! Replacing a file so that no reader ever sees half of it: reports, cached modules and cached
//! results all go through [`write`].

use std::io::Write;
use std::path::Path;

/// Replace `path` with `bytes` through a temporary file in the same directory and a rename.
///
/// Only a regular file (or a missing one) is replaced: `/dev/null`, `/dev/stdout` or a FIFO is
/// written as it is, since renaming over it would replace the device itself. A symbolic link
/// keeps pointing where it did: its target is replaced.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(path)?
                .write_all(bytes);
        }
        Ok(_) => std::fs::canonicalize(path)?,
        Err(_) => path.to_path_buf(),
    };
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(directory)?;
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(bytes)?;
    temporary.persist(&target).map_err(|e| e.error)?;
    Ok(())
}
