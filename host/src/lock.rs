//! `porter.lock`, beside porter.yaml: the mixins a build resolved, pinned by
//! version and digest, with where each came from. `porter build` writes it
//! (only when it changes); `porter build --locked` builds with exactly what
//! it records; `porter mixins install` with no name installs what it
//! records, checking each digest.
//!
//! TOML, one `[[mixin]]` table per declared mixin in porter.yaml's order,
//! so a change shows as a small diff:
//!
//! ```toml
//! version = 1
//!
//! [[mixin]]
//! name = "exec"
//! constraint = "^1.0"   # as porter.yaml writes it; absent for a bare name
//! version = "1.0.0"
//! digest = "sha256:…"
//! source = "https://example.com/mixins/1.0.0/exec.wasm"
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::manifest::{LoadedManifest, MixinDeclaration};
use crate::mixin::install::sha256_digest;
use crate::mixin::{InstallRequest, InstalledMixin, MixinHost, MixinStore};

/// The lock file's name, in porter.yaml's directory.
pub const LOCK_FILE: &str = "porter.lock";
const FORMAT_VERSION: u32 = 1;
const HEADER: &str = "\
# porter.lock: the mixins `porter build` resolved for porter.yaml, pinned by
# version and digest. Written by porter build; commit it. `porter build
# --locked` builds with exactly these; `porter mixins install` installs them.
";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(rename = "mixin", default)]
    pub mixins: Vec<LockedMixin>,
}

/// One declared mixin, as resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedMixin {
    pub name: String,
    /// The version constraint porter.yaml gives, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    pub version: semver::Version,
    /// `sha256:<hex>` of the `.wasm`.
    pub digest: String,
    /// Where it can be fetched again (`file` for a local file).
    pub source: String,
}

/// Where porter.yaml's lock file is.
pub fn path_for(manifest: &Path) -> PathBuf {
    manifest.parent().unwrap_or(Path::new(".")).join(LOCK_FILE)
}

impl Lock {
    /// The lock for what `mixins` (one per declaration, in order) resolved to.
    pub fn of(declarations: &[MixinDeclaration], mixins: &[InstalledMixin]) -> Lock {
        let mixins = declarations
            .iter()
            .zip(mixins)
            .map(|(declaration, installed)| LockedMixin {
                name: installed.name.clone(),
                constraint: declaration.constraint.as_ref().map(|c| c.to_string()),
                version: installed.version.clone(),
                digest: installed.digest.clone(),
                source: installed.published_source().to_string(),
            })
            .collect();
        Lock {
            version: FORMAT_VERSION,
            mixins,
        }
    }

    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).expect("a lock always has a TOML form");
        format!("{HEADER}{body}")
    }

    pub fn parse(text: &str, path: &Path) -> Result<Lock> {
        let lock: Lock = toml::from_str(text).with_context(|| {
            format!(
                "{} is damaged: delete it and run porter build to write it again",
                path.display()
            )
        })?;
        if lock.version != FORMAT_VERSION {
            bail!(
                "{} is format version {}, and this porter reads version {FORMAT_VERSION}: \
                 use the porter that wrote it, or delete it and run porter build",
                path.display(),
                lock.version
            );
        }
        Ok(lock)
    }

    /// The lock at `path`; `None` when there is none.
    pub fn read(path: &Path) -> Result<Option<Lock>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Lock::parse(&text, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the lock to `path` unless it already says exactly this (an
    /// unchanged lock is not rewritten). Written beside and renamed into
    /// place: never half a lock.
    pub fn write_if_changed(&self, path: &Path) -> Result<bool> {
        let text = self.to_text();
        if std::fs::read_to_string(path).is_ok_and(|existing| existing == text) {
            return Ok(false);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut staged = tempfile::Builder::new()
            .prefix(".porter.lock-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::io::Write::write_all(&mut staged, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        staged
            .persist(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(true)
    }

    /// The entry for each of porter.yaml's declarations, in order, or why
    /// the lock no longer fits porter.yaml (a mixin added, removed, or its
    /// constraint changed).
    pub fn entries_for(&self, loaded: &LoadedManifest, path: &Path) -> Result<Vec<&LockedMixin>> {
        let declared = &loaded.manifest.mixins;
        let mut entries = Vec::with_capacity(declared.len());
        let mut problems = Vec::new();
        for declaration in declared {
            let constraint = declaration.constraint.as_ref().map(|c| c.to_string());
            match self.mixins.iter().find(|m| m.name == declaration.name) {
                Some(entry) if entry.constraint == constraint => entries.push(entry),
                Some(entry) => problems.push(format!(
                    "mixin {} is declared as {} in porter.yaml and locked as {}",
                    declaration.name,
                    shown(&declaration.name, constraint.as_deref()),
                    shown(&entry.name, entry.constraint.as_deref()),
                )),
                None => problems.push(format!(
                    "mixin {} is declared in porter.yaml but not locked",
                    declaration.name
                )),
            }
        }
        for entry in &self.mixins {
            if !declared.iter().any(|d| d.name == entry.name) {
                problems.push(format!(
                    "mixin {} is locked but no longer declared in porter.yaml",
                    entry.name
                ));
            }
        }
        if !problems.is_empty() {
            bail!(
                "{} is out of date with porter.yaml: {}. Run porter build without --locked to update it",
                path.display(),
                problems.join("; ")
            );
        }
        Ok(entries)
    }
}

impl LockedMixin {
    /// This exact version and digest among the installed ones, or what is
    /// wrong and the command that fixes it.
    pub fn installed(&self, store: &MixinStore) -> Result<InstalledMixin, String> {
        let versions = store.versions(&self.name).map_err(|e| format!("{e:#}"))?;
        let Some(installed) = versions.into_iter().find(|m| m.version == self.version) else {
            return Err(format!(
                "mixin {} {} ({}), which porter.lock records, is not installed: {}",
                self.name,
                self.version,
                self.digest,
                self.how_to_install()
            ));
        };
        if installed.digest != self.digest {
            return Err(format!(
                "mixin {} {} is installed with digest {}, but porter.lock records {}: \
                 another build of the same version. {}, or run porter build without --locked \
                 to lock the installed one",
                self.name,
                self.version,
                installed.digest,
                self.digest,
                self.how_to_install().replace("run ", "Run ")
            ));
        }
        Ok(installed)
    }

    /// The command that installs this entry.
    pub fn how_to_install(&self) -> String {
        if self.source == "file" {
            format!(
                "it was installed from a local file, so install that file again: \
                 porter mixins install {} --file PATH --version {} --force",
                self.name, self.version
            )
        } else {
            "run `porter mixins install` to install what porter.lock records".to_string()
        }
    }
}

/// The installed mixins porter.lock pins for porter.yaml, in declaration
/// order (`porter build --locked`): the lock must exist and fit porter.yaml,
/// and each version must be installed with the locked digest.
pub fn locked_mixins(
    store: &MixinStore,
    loaded: &LoadedManifest,
    path: &Path,
) -> Result<Vec<InstalledMixin>> {
    let Some(lock) = Lock::read(path)? else {
        bail!(
            "--locked needs {}, which does not exist: run porter build without --locked to write it",
            path.display()
        );
    };
    let mut mixins = Vec::new();
    let mut problems = Vec::new();
    for entry in lock.entries_for(loaded, path)? {
        match entry.installed(store) {
            Ok(installed) => mixins.push(installed),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(mixins)
}

/// What `porter mixins install` did for one mixin porter.lock records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restored {
    /// That version with that digest was installed already.
    AlreadyInstalled,
    /// Fetched from its recorded source, checked and installed.
    Installed,
}

/// `porter mixins install` with no name, as `cargo fetch` does for
/// Cargo.lock: every mixin porter.lock records for porter.yaml that is not
/// installed with its locked digest is fetched from its recorded source by
/// `fetch` (given the entry, it returns the bytes) and checked against the
/// locked digest; only when all of them are, they are installed. `force`
/// replaces an installed build of the same version with other contents.
/// A failure names the mixin and what to do.
pub fn restore(
    host: &MixinHost,
    loaded: &LoadedManifest,
    path: &Path,
    force: bool,
    fetch: &dyn Fn(&LockedMixin) -> Result<Vec<u8>>,
) -> Result<Vec<(LockedMixin, Restored)>> {
    let Some(lock) = Lock::read(path)? else {
        bail!(
            "there is no {} to install mixins from: run porter build to write it, or name the \
             mixin to install (porter mixins install NAME ...)",
            path.display()
        );
    };
    let mut fetched = Vec::new();
    let mut done = Vec::new();
    for entry in lock.entries_for(loaded, path)? {
        match entry.installed(host.store()) {
            Ok(_) => done.push((entry.clone(), Restored::AlreadyInstalled)),
            Err(_) => fetched.push((entry, entry.fetch_checked(fetch)?)),
        }
    }
    for (entry, bytes) in fetched {
        entry.install(host, &bytes, force)?;
        done.push((entry.clone(), Restored::Installed));
    }
    Ok(done)
}

impl LockedMixin {
    fn what(&self) -> String {
        format!("mixin {} {}", self.name, self.version)
    }

    /// The bytes from the recorded source, refused unless they have the
    /// locked digest.
    fn fetch_checked(&self, fetch: &dyn Fn(&LockedMixin) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
        let what = self.what();
        if self.source == "file" {
            bail!("{what} cannot be fetched: {}", self.how_to_install());
        }
        let bytes =
            fetch(self).with_context(|| format!("cannot fetch {what} from {}", self.source))?;
        let digest = sha256_digest(&bytes);
        if digest != self.digest {
            bail!(
                "{} now serves {what} with digest {digest}, but porter.lock records {}: \
                 the published mixin changed (a moved tag, a replaced file). Nothing was \
                 installed; ask its publisher, or run porter build without --locked after \
                 installing the new one to lock it",
                self.source,
                self.digest
            );
        }
        Ok(bytes)
    }

    fn install(&self, host: &MixinHost, bytes: &[u8], force: bool) -> Result<()> {
        let request = InstallRequest {
            name: &self.name,
            version: Some(&self.version),
            force,
            expected_digest: Some(self.digest.clone()),
        };
        host.install_bytes(&request, bytes, &self.source)
            .with_context(|| format!("cannot install {} from {}", self.what(), self.source))?;
        Ok(())
    }
}

fn shown(name: &str, constraint: Option<&str>) -> String {
    match constraint {
        Some(c) => format!("{name}@{c}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, constraint: Option<&str>) -> LockedMixin {
        LockedMixin {
            name: name.into(),
            constraint: constraint.map(String::from),
            version: semver::Version::new(1, 2, 3),
            digest: format!("sha256:{}", "a".repeat(64)),
            source: "https://example.com/mixins/1.2.3/exec.wasm".into(),
        }
    }

    #[test]
    fn a_lock_reads_back_what_it_wrote_one_table_per_mixin() {
        let lock = Lock {
            version: FORMAT_VERSION,
            mixins: vec![entry("exec", None), entry("helm3", Some("^3.1"))],
        };
        let text = lock.to_text();
        assert!(text.starts_with("# porter.lock"), "{text}");
        assert_eq!(text.matches("[[mixin]]").count(), 2, "{text}");
        assert!(text.contains("constraint = \"^3.1\""), "{text}");
        assert_eq!(
            text.matches("constraint").count(),
            1,
            "no constraint line for a bare name: {text}"
        );
        assert_eq!(Lock::parse(&text, Path::new("porter.lock")).unwrap(), lock);
    }

    #[test]
    fn a_damaged_or_newer_lock_says_what_to_do() {
        let err = Lock::parse(
            "version = 1\n[[mixin]]\nname = 3\n",
            Path::new("porter.lock"),
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("porter.lock is damaged"),
            "{err:#}"
        );
        let err = Lock::parse("version = 9\n", Path::new("porter.lock")).unwrap_err();
        assert!(err.to_string().contains("format version 9"), "{err}");
    }

    #[test]
    fn an_unchanged_lock_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let lock = Lock {
            version: FORMAT_VERSION,
            mixins: vec![entry("exec", None)],
        };
        assert!(lock.write_if_changed(&path).unwrap());
        assert!(!lock.write_if_changed(&path).unwrap());
        assert_eq!(Lock::read(&path).unwrap(), Some(lock));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
