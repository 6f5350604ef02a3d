//! `admit lock` and `admit pull`, and the registry session every command that runs policies
//! opens: the lockfile beside the configuration, the store under the cache directory, and
//! whether the network may be used.

use std::path::{Path, PathBuf};

use miette::miette;

use crate::cli::{LockArgs, PullArgs, RegistryArgs};
use crate::config::{self, Config};
use crate::policies::ModuleCache;
use crate::registry::{self, LOCKFILE_NAME, LockEntry, ModuleRef, Options, Session, Sources};

/// The session for a run governed by `config` (or none).
///
/// The lockfile lives beside the configuration. Without one, an `admit.lock` already in the
/// current directory is used, and none is created: a one-off `--policy registry://...` run
/// should not leave files behind.
pub(crate) fn session(
    config: Option<&Config>,
    flags: &RegistryArgs,
    cache_dir: Option<PathBuf>,
) -> miette::Result<Session> {
    let lockfile = match config {
        Some(config) => Some(registry::lockfile_in(&config.directory)),
        None => Some(PathBuf::from(LOCKFILE_NAME)).filter(|p| p.is_file()),
    };
    let sources = match sources_path(config) {
        Some(path) => Sources::read(&path).map_err(miette::Report::new)?,
        None => Sources::default(),
    };
    let timeout = timeout(config);
    let options = Options {
        cache_dir: cache_dir.or_else(ModuleCache::default_dir),
        lockfile,
        offline: flags.offline || Options::offline_from_env(),
        locked: flags.locked,
        verify: config.and_then(|c| c.verify.clone()),
        sources,
        timeout,
    };
    Session::open(options).map_err(miette::Report::new)
}

/// The admit.yaml governing the current directory, for commands about one policy.
pub(crate) fn cwd_config() -> miette::Result<Option<Config>> {
    find_config(None)
}

/// How the `oci/*` host calls of policies that inspect images reach registries: as modules are
/// fetched (sources.yaml, the time limit); `None` with `--offline`, when they are refused.
pub(crate) fn image_access(
    config: Option<&Config>,
    flags: &RegistryArgs,
) -> Option<(Option<PathBuf>, std::time::Duration)> {
    if flags.offline || Options::offline_from_env() {
        return None;
    }
    Some((
        sources_path(config),
        timeout(config).unwrap_or(registry::DEFAULT_TIMEOUT),
    ))
}

/// kwctl's sources.yaml: admit.yaml's `registry.sources`, else kwctl's default file.
fn sources_path(config: Option<&Config>) -> Option<PathBuf> {
    config
        .and_then(|c| c.registry.sources.clone())
        .or_else(Sources::default_path)
}

/// The limit of one registry request: admit.yaml's, else `ADMIT_REGISTRY_TIMEOUT`.
fn timeout(config: Option<&Config>) -> Option<std::time::Duration> {
    config
        .and_then(|c| c.registry.timeout)
        .map(std::time::Duration::from_secs_f64)
        .or_else(Options::timeout_from_env)
}

/// Write the lockfile if the run added to it, and say what it added.
pub(crate) fn finish(session: &mut Session) -> miette::Result<()> {
    for note in std::mem::take(&mut session.notes) {
        eprintln!("admit: {note}");
    }
    let added = session.save().map_err(|e| miette!("{e}"))?;
    if let Some(lock) = session.lockfile() {
        for reference in added {
            eprintln!("admit: locked {reference} in {}", lock.path.display());
        }
    }
    Ok(())
}

/// The configuration `admit lock` and `admit pull` work on: `--config`, else the nearest
/// admit.yaml above the current directory.
fn find_config(path: Option<&Path>) -> miette::Result<Option<Config>> {
    let found = match path {
        Some(path) => Some(path.to_path_buf()),
        None => config::discover(Path::new(".")),
    };
    found
        .map(|path| config::load(&path).map_err(miette::Report::new_boxed))
        .transpose()
}

/// Every reference the configuration's policies name.
fn named(config: &Config) -> Vec<ModuleRef> {
    config
        .policies
        .as_deref()
        .map(registry::references)
        .unwrap_or_default()
}

fn short(entry: &LockEntry) -> String {
    let hex = entry
        .digest
        .strip_prefix("sha256:")
        .unwrap_or(&entry.digest);
    format!(
        "sha256:{} ({})",
        &hex[..hex.len().min(12)],
        size(entry.size)
    )
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// A failure to fetch `reference`, as a diagnostic that names it.
pub(crate) fn report(reference: &ModuleRef, error: registry::RegistryError) -> miette::Report {
    match error.help {
        Some(help) => miette!(help = help, "{reference}: {}", error.message),
        None => miette!("{reference}: {}", error.message),
    }
}

/// `admit lock`: pin every reference admit.yaml names; `--update` re-resolves tags.
pub(crate) fn lock(args: LockArgs) -> miette::Result<u8> {
    let Some(config) = find_config(args.config.as_deref())? else {
        return Err(miette!(
            help = "`admit init` writes one; admit.lock is kept beside it",
            "no admit.yaml here or above: admit lock pins the modules an admit.yaml names"
        ));
    };
    let flags = RegistryArgs {
        offline: false,
        locked: false,
    };
    let mut session = session(Some(&config), &flags, args.cache_dir.clone())?;
    let named = named(&config);
    let written: Vec<String> = named.iter().map(|r| r.written().to_string()).collect();
    for reference in &args.references {
        if !written.contains(reference) {
            return Err(miette!(
                help = format!(
                    "admit.yaml names: {}",
                    if written.is_empty() {
                        "no registry:// or https:// module".to_string()
                    } else {
                        written.join(", ")
                    }
                ),
                "{reference} is not named by {}",
                config.directory.join("admit.yaml").display()
            ));
        }
    }
    let mut failed = 0;
    for reference in &named {
        let update = args.update
            && (args.references.is_empty()
                || args.references.iter().any(|r| r == reference.written()));
        let result = if update {
            session.relock(reference).map(|(old, new)| match old {
                Some(old) if old.digest == new.digest => {
                    format!("unchanged {reference} {}", short(&new))
                }
                Some(old) => format!("updated   {reference} {} -> {}", short(&old), short(&new)),
                None => format!("locked    {reference} {}", short(&new)),
            })
        } else {
            let before = session
                .lockfile()
                .and_then(|l| l.get(reference.written()))
                .cloned();
            session.module(reference).map(|_| {
                let entry = session
                    .lockfile()
                    .and_then(|l| l.get(reference.written()).cloned());
                match (before, entry) {
                    (Some(entry), _) => format!("unchanged {reference} {}", short(&entry)),
                    (None, Some(entry)) => format!("locked    {reference} {}", short(&entry)),
                    (None, None) => format!("fetched   {reference}"),
                }
            })
        };
        match result {
            Ok(line) => println!("{line}"),
            Err(error) => {
                failed += 1;
                eprintln!("{:?}", report(reference, error));
            }
        }
    }
    for dropped in session.prune(&written) {
        println!("removed   {dropped}");
    }
    session.save().map_err(|e| miette!("{e}"))?;
    for note in std::mem::take(&mut session.notes) {
        eprintln!("admit: {note}");
    }
    Ok(if failed > 0 { 2 } else { 0 })
}

/// `admit pull`: fetch modules into the store ahead of an offline run: the references given,
/// else everything admit.lock pins and admit.yaml names. The lockfile is read, never written.
pub(crate) fn pull(args: PullArgs) -> miette::Result<u8> {
    let config = find_config(args.config.as_deref())?;
    let flags = RegistryArgs {
        offline: false,
        locked: false,
    };
    let mut session = session(config.as_ref(), &flags, args.cache_dir.clone())?;
    let mut references: Vec<ModuleRef> = Vec::new();
    for name in &args.references {
        references.push(ModuleRef::parse(name).map_err(|e| miette!("{e}"))?);
    }
    if args.references.is_empty() {
        if let Some(lock) = session.lockfile() {
            for entry in lock.entries() {
                let reference = ModuleRef::parse(&entry.reference)
                    .map_err(|e| miette!("{}: {e}", lock.path.display()))?;
                references.push(reference);
            }
        }
        for reference in config.as_ref().map(named).unwrap_or_default() {
            if !references.contains(&reference) {
                references.push(reference);
            }
        }
        if references.is_empty() {
            return Err(miette!(
                help = "name one: `admit pull registry://HOST/REPOSITORY:TAG`",
                "nothing to pull: no admit.lock entries and no registry:// or https:// module in admit.yaml"
            ));
        }
    }
    let mut failed = 0;
    for reference in &references {
        match session.module(reference) {
            Ok(module) => println!(
                "pulled {reference} {} ({})",
                module.digest,
                size(module.bytes.len() as u64)
            ),
            Err(error) => {
                failed += 1;
                eprintln!("{:?}", report(reference, error));
            }
        }
    }
    for note in std::mem::take(&mut session.notes) {
        eprintln!("admit: {note}");
    }
    Ok(if failed > 0 { 2 } else { 0 })
}
