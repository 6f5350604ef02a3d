//! Policy modules from OCI registries and `https://` URLs: pulled once into a
//! content-addressed store, pinned by digest in `admit.lock`, verified against cosign keys
//! when `verify:` asks, and from then on run offline, as Cargo runs crates from Cargo.lock.
//!
//! One [`Session`] serves one configuration: it knows the lockfile beside it, the store, and
//! whether the network may be used. Policies name their modules by reference; [`prepare`]
//! turns each reference into the module's bytes (or the error that says why not) before any
//! policy is loaded, so one failing reference leaves the others running.

mod client;
mod credentials;
pub mod lockfile;
mod reference;
mod sources;
mod store;
pub mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use client::Fetcher;
pub use lockfile::{LOCKFILE_NAME, LockEntry, Lockfile};
pub use reference::{ModuleRef, RegistryRef};
pub use sources::Sources;
pub use store::{Store, sha256};
pub use verify::VerifyConfig;

use crate::check::PolicySpec;
use crate::policies::PolicySource;

/// How long one registry request may take before it is abandoned.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a module could not be had, and what to do. The message does not name the reference:
/// whoever shows it does (a check's finding is already reported under the reference).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RegistryError {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl RegistryError {
    /// An error without advice.
    pub fn new(message: impl Into<String>) -> Self {
        RegistryError {
            message: message.into(),
            help: None,
        }
    }

    /// The same error, with advice.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A module fetched for a reference: its bytes, hashed against the lock.
#[derive(Debug, Clone)]
pub struct Module {
    /// The module.
    pub bytes: Arc<Vec<u8>>,
    /// `sha256:` of the bytes.
    pub digest: String,
}

/// A policy module named by reference, and what fetching it gave.
#[derive(Debug, Clone)]
pub struct RemoteSource {
    /// The reference.
    pub reference: ModuleRef,
    /// The module, once [`prepare`] has run.
    pub fetched: Option<Result<Module, RegistryError>>,
    /// Where a configuration or policy resource names it, so a failure points there.
    pub named_at: Option<(crate::source::SourceFile, crate::source::Span)>,
}

impl RemoteSource {
    /// Record where the reference is written.
    pub fn named_at(&mut self, file: &crate::source::SourceFile, span: crate::source::Span) {
        self.named_at = Some((file.clone(), span));
    }
}

/// Everything a session needs to know about the run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// admit's cache directory; the store lives under it.
    pub cache_dir: Option<PathBuf>,
    /// The lockfile; `None` when the run has no configuration or lockfile to keep one in.
    pub lockfile: Option<PathBuf>,
    /// Never use the network.
    pub offline: bool,
    /// Refuse a reference the lockfile does not pin.
    pub locked: bool,
    /// Keys registry modules must be signed with.
    pub verify: Option<VerifyConfig>,
    /// kwctl's sources.yaml, read.
    pub sources: Sources,
    /// The limit of one request.
    pub timeout: Option<Duration>,
}

impl Options {
    /// Whether `ADMIT_OFFLINE` asks for an offline run (any value but empty, `0` or `false`).
    pub fn offline_from_env() -> bool {
        std::env::var("ADMIT_OFFLINE").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "no"))
    }

    /// `ADMIT_REGISTRY_TIMEOUT`, in seconds.
    pub fn timeout_from_env() -> Option<Duration> {
        std::env::var("ADMIT_REGISTRY_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
    }
}

/// The lockfile, the store and (on first need) the network, for one configuration.
pub struct Session {
    options: Options,
    lock: Option<Lockfile>,
    lock_changed: bool,
    store: Option<Store>,
    fetcher: Option<Fetcher>,
    /// Modules this session pulled, so a store that cannot be written loses nothing.
    fresh: HashMap<String, Arc<Vec<u8>>>,
    /// References this session added to the lockfile.
    added: Vec<String>,
    /// Things worth telling the user that are not errors (a store that could not be written).
    pub notes: Vec<String>,
}

impl Session {
    /// A session; reads the lockfile, whose mistakes are reported at their line.
    pub fn open(options: Options) -> Result<Session, crate::config::FileError> {
        let lock = options
            .lockfile
            .as_deref()
            .map(Lockfile::read)
            .transpose()?;
        let store = options.cache_dir.as_deref().map(Store::new);
        Ok(Session {
            options,
            lock,
            lock_changed: false,
            store,
            fetcher: None,
            fresh: HashMap::new(),
            added: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// The lockfile, if the session keeps one.
    pub fn lockfile(&self) -> Option<&Lockfile> {
        self.lock.as_ref()
    }

    /// The module `reference` names: the locked digest from the store, else (unless offline)
    /// from the network, hashed and verified; a reference the lockfile lacks is resolved and
    /// added to it (unless `--locked`).
    pub fn module(&mut self, reference: &ModuleRef) -> Result<Module, RegistryError> {
        let locked = self
            .lock
            .as_ref()
            .and_then(|lock| lock.get(reference.written()))
            .cloned();
        let entry = match locked {
            Some(entry) => entry,
            None => {
                if self.options.locked {
                    let lockfile = self.lock.as_ref().map_or_else(
                        || LOCKFILE_NAME.to_string(),
                        |l| l.path.display().to_string(),
                    );
                    return Err(RegistryError::new(format!(
                        "not in {lockfile}, and --locked forbids adding it"
                    ))
                    .help("run `admit lock` and commit admit.lock"));
                }
                if self.options.offline {
                    return self.unlocked_offline(reference);
                }
                let entry = self.fetch_entry(reference)?;
                if let Some(lock) = &mut self.lock
                    && lock.insert(entry.clone())
                {
                    self.lock_changed = true;
                    self.added.push(reference.written().to_string());
                }
                entry
            }
        };
        self.locked_module(reference, &entry)
    }

    /// Resolve `reference` afresh (its tag as the registry has it now), fetch its module into
    /// the store, and pin it: `admit lock --update`. Returns the old entry, if any, and the new.
    pub fn relock(
        &mut self,
        reference: &ModuleRef,
    ) -> Result<(Option<LockEntry>, LockEntry), RegistryError> {
        let entry = self.fetch_entry(reference)?;
        self.verify_entry(reference, &entry)?;
        let old = self
            .lock
            .as_ref()
            .and_then(|lock| lock.get(reference.written()))
            .cloned();
        if let Some(lock) = &mut self.lock
            && lock.insert(entry.clone())
        {
            self.lock_changed = true;
        }
        Ok((old, entry))
    }

    /// Drop lock entries for references no longer named; the references dropped.
    pub fn prune(&mut self, named: &[String]) -> Vec<String> {
        let Some(lock) = &mut self.lock else {
            return Vec::new();
        };
        let dropped = lock.retain(|reference| named.iter().any(|n| n == reference));
        if !dropped.is_empty() {
            self.lock_changed = true;
        }
        dropped
    }

    /// Write the lockfile if this session changed it; the references it added.
    pub fn save(&mut self) -> Result<Vec<String>, RegistryError> {
        if let (true, Some(lock)) = (self.lock_changed, &self.lock) {
            lock.write().map_err(|e| {
                RegistryError::new(format!("cannot write {}: {e}", lock.path.display()))
            })?;
            self.lock_changed = false;
        }
        Ok(std::mem::take(&mut self.added))
    }

    fn fetcher(&mut self) -> Result<&mut Fetcher, RegistryError> {
        if self.fetcher.is_none() {
            let timeout = self.options.timeout.unwrap_or(DEFAULT_TIMEOUT);
            self.fetcher = Some(Fetcher::new(self.options.sources.clone(), timeout)?);
        }
        self.fetcher
            .as_mut()
            .ok_or_else(|| RegistryError::new("no network client"))
    }

    fn offline_error(&self) -> RegistryError {
        let store = self.store.as_ref().map_or_else(
            || "admit's store".to_string(),
            |s| s.dir().display().to_string(),
        );
        RegistryError::new(format!(
            "not in the module store ({store}) or kwctl's, and --offline forbids downloading it"
        ))
        .help("run `admit pull` once with network (it fetches everything admit.lock pins), or run without --offline / ADMIT_OFFLINE")
    }

    /// Offline, without a lock entry: only kwctl's store can answer, unpinned.
    fn unlocked_offline(&mut self, reference: &ModuleRef) -> Result<Module, RegistryError> {
        let Some(bytes) = store::kwctl_path(reference).and_then(|p| std::fs::read(p).ok()) else {
            return Err(self.offline_error());
        };
        if self.options.verify.is_some() {
            return Err(RegistryError::new("only in kwctl's store, without the manifest and signatures `verify:` needs, and --offline forbids fetching them".to_string())
            .help("run `admit pull` once with network"));
        }
        let digest = sha256(&bytes);
        Ok(Module {
            bytes: Arc::new(bytes),
            digest,
        })
    }

    /// Fetch what `reference` names now into the store, and the entry that pins it.
    fn fetch_entry(&mut self, reference: &ModuleRef) -> Result<LockEntry, RegistryError> {
        if self.options.offline {
            return Err(self.offline_error());
        }
        match reference {
            ModuleRef::Registry(registry) => {
                let fetcher = self.fetcher()?;
                let digest = match &registry.digest {
                    Some(digest) => digest.clone(),
                    None => fetcher.resolve(registry)?,
                };
                let pulled = fetcher.pull(registry, &digest)?;
                self.keep(&pulled.module_digest, pulled.module.clone());
                if let Some(store) = &self.store
                    && let Err(e) = store.put_manifest(&digest, &pulled.manifest)
                {
                    self.notes
                        .push(format!("cannot store the manifest of {reference}: {e}"));
                }
                Ok(LockEntry {
                    reference: reference.written().to_string(),
                    digest,
                    module: pulled.module_digest,
                    size: pulled.module.len() as u64,
                    locked: lockfile::now(),
                })
            }
            ModuleRef::Https(url) => {
                let bytes = self.fetcher()?.download(url)?;
                let digest = sha256(&bytes);
                let size = bytes.len() as u64;
                self.keep(&digest, bytes);
                Ok(LockEntry {
                    reference: reference.written().to_string(),
                    digest: digest.clone(),
                    module: digest,
                    size,
                    locked: lockfile::now(),
                })
            }
        }
    }

    /// Keep a pulled module in memory and in the store.
    fn keep(&mut self, digest: &str, bytes: Vec<u8>) {
        if let Some(store) = &self.store
            && let Err(e) = store.put_module(digest, &bytes)
        {
            self.notes.push(format!(
                "cannot store module {digest} in {}: {e}; it will be downloaded again next time",
                store.dir().display()
            ));
        }
        self.fresh.insert(digest.to_string(), Arc::new(bytes));
    }

    /// The module `entry` pins: from this session, the store, kwctl's store, or the network.
    fn locked_module(
        &mut self,
        reference: &ModuleRef,
        entry: &LockEntry,
    ) -> Result<Module, RegistryError> {
        let bytes = match self.fresh.get(&entry.module) {
            Some(bytes) => bytes.clone(),
            None => Arc::new(self.stored_or_pulled(reference, entry)?),
        };
        self.verify_entry(reference, entry)?;
        Ok(Module {
            bytes,
            digest: entry.module.clone(),
        })
    }

    fn stored_or_pulled(
        &mut self,
        reference: &ModuleRef,
        entry: &LockEntry,
    ) -> Result<Vec<u8>, RegistryError> {
        if let Some(store) = &self.store {
            match store.module(&entry.module) {
                Ok(Some(bytes)) => return Ok(bytes),
                Ok(None) => {}
                Err(tampered) => {
                    return Err(RegistryError::new(format!(
                        "the stored module {} hashes to {}, not the locked {}: it changed after it was downloaded, so it is not run",
                        tampered.path.display(),
                        tampered.actual,
                        entry.module
                    ))
                    .help(format!(
                        "delete {} and run `admit pull` to download it again",
                        tampered.path.display()
                    )));
                }
            }
        }
        if let Some(bytes) = store::kwctl_path(reference)
            .and_then(|path| std::fs::read(path).ok())
            .filter(|bytes| sha256(bytes) == entry.module)
        {
            return Ok(bytes);
        }
        if self.options.offline {
            return Err(self.offline_error());
        }
        let bytes = match reference {
            ModuleRef::Registry(registry) => {
                let pulled = self.fetcher()?.pull(registry, &entry.digest)?;
                if let Some(store) = &self.store {
                    let _ = store.put_manifest(&entry.digest, &pulled.manifest);
                }
                pulled.module
            }
            ModuleRef::Https(url) => self.fetcher()?.download(url)?,
        };
        let actual = sha256(&bytes);
        if actual != entry.module {
            let lockfile = self.lock.as_ref().map_or_else(
                || LOCKFILE_NAME.to_string(),
                |l| l.path.display().to_string(),
            );
            return Err(RegistryError::new(format!(
                "the module downloaded for the locked digest hashes to {actual}, but {lockfile} pins {}; it is not run",
                entry.module
            ))
            .help("if the change is expected, `admit lock --update` pins what the reference names now"));
        }
        self.keep(&actual, bytes.clone());
        Ok(bytes)
    }

    /// Under `verify:`, check `entry`'s manifest is signed by one of the keys and names the
    /// locked module.
    fn verify_entry(
        &mut self,
        reference: &ModuleRef,
        entry: &LockEntry,
    ) -> Result<(), RegistryError> {
        let Some(config) = self.options.verify.clone() else {
            return Ok(());
        };
        let refused = |why: String| {
            RegistryError::new(format!("refused by `verify:`: {why}"))
                .help("sign it with `cosign sign --key cosign.key IMAGE@DIGEST`, or list the key it is signed with under `verify: keys:`")
        };
        let ModuleRef::Registry(registry) = reference else {
            return Err(refused(
                "an https:// module carries no signature; publish it to a registry and sign it"
                    .to_string(),
            ));
        };
        let manifest = match self.store.as_ref().and_then(|s| s.manifest(&entry.digest)) {
            Some(manifest) => manifest,
            None if self.options.offline => {
                return Err(refused(format!(
                    "its manifest {} is not in the store and --offline forbids fetching it",
                    entry.digest
                )));
            }
            None => {
                let pulled = self.fetcher()?.pull(registry, &entry.digest)?;
                if let Some(store) = &self.store {
                    let _ = store.put_manifest(&entry.digest, &pulled.manifest);
                }
                pulled.manifest
            }
        };
        let layer = client::policy_layer(&manifest)?;
        if layer.digest != entry.module {
            return Err(refused(format!(
                "its signed manifest names module {}, not the locked {}",
                layer.digest, entry.module
            )));
        }
        let stored = self
            .store
            .as_ref()
            .and_then(|s| s.signatures(&entry.digest))
            .and_then(|bytes| serde_json::from_slice::<verify::StoredSignatures>(&bytes).ok());
        let first = match &stored {
            Some(signatures) => verify::verify(&config, &entry.digest, signatures),
            None => Err(String::new()),
        };
        if first.is_ok() {
            return Ok(());
        }
        if self.options.offline {
            return Err(refused(match (stored, first) {
                (Some(_), Err(why)) => why,
                _ => "its signatures are not in the store and --offline forbids fetching them"
                    .to_string(),
            }));
        }
        // Fetched afresh: the module may have been signed since the store last looked.
        let signatures = self.fetcher()?.signatures(registry, &entry.digest)?;
        if let (Some(store), false) = (&self.store, signatures.signatures.is_empty())
            && let Ok(bytes) = serde_json::to_vec(&signatures)
        {
            let _ = store.put_signatures(&entry.digest, &bytes);
        }
        verify::verify(&config, &entry.digest, &signatures).map_err(refused)
    }
}

/// Fetch the module of every policy named by reference, through `session`. A reference that
/// fails keeps its error, which loading reports against that policy alone.
pub fn prepare(specs: &mut [PolicySpec], session: &mut Session) {
    let mut done: HashMap<String, Result<Module, RegistryError>> = HashMap::new();
    for spec in specs.iter_mut() {
        let PolicySource::Remote(remote) = &mut spec.source else {
            continue;
        };
        let key = remote.reference.written().to_string();
        let result = match done.get(&key) {
            Some(result) => result.clone(),
            None => {
                let result = session.module(&remote.reference);
                done.insert(key, result.clone());
                result
            }
        };
        remote.fetched = Some(result);
    }
}

/// Every reference `specs` name, in order, without repeats.
pub fn references(specs: &[PolicySpec]) -> Vec<ModuleRef> {
    let mut seen: Vec<ModuleRef> = Vec::new();
    for spec in specs {
        if let PolicySource::Remote(remote) = &spec.source
            && !seen.contains(&remote.reference)
        {
            seen.push(remote.reference.clone());
        }
    }
    seen
}

/// Where the lockfile of a configuration in `directory` lives.
pub fn lockfile_in(directory: &Path) -> PathBuf {
    directory.join(LOCKFILE_NAME)
}
