//! Which configuration governs which paths.

use std::path::PathBuf;

use crate::cli::CheckArgs;
use crate::config::{self, Config};

/// `--isolated`: none; `--config`: one for all; else each path's nearest `admit.yaml`, paths
/// sharing a configuration checked together, in the order their first path was given.
pub(super) fn config_groups(
    args: &CheckArgs,
) -> miette::Result<Vec<(Option<Config>, Vec<PathBuf>)>> {
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
