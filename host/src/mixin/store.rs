//! Installed mixins on disk: `PORTER_HOME/mixins/<name>/<version>/` holds
//! `<name>.wasm`, `mixin.json` (the record below) and `schema.json`. Several
//! versions of a mixin live side by side. Reading the store needs no wasm
//! engine, so listing is instant.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::home::PorterHome;
use crate::manifest::{Diagnostic, LoadedManifest, VersionConstraint};

pub const RECORD_FILE: &str = "mixin.json";
pub const SCHEMA_FILE: &str = "schema.json";

/// What porter knows about an installed mixin, without loading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledMixin {
    pub name: String,
    pub version: semver::Version,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `sha256:<hex>` of the `.wasm`.
    pub digest: String,
    /// Where it was installed from (`file:///...`, a URL, a registry ref).
    pub source: String,
    /// The contract version the component implements (`1.0.0`).
    pub api_version: semver::Version,
    /// Directory holding the files; not stored, known from where it was read.
    #[serde(skip)]
    pub dir: PathBuf,
}

impl InstalledMixin {
    pub fn wasm_path(&self) -> PathBuf {
        self.dir.join(format!("{}.wasm", self.name))
    }

    /// The JSON Schema the mixin published (`metadata.schema`), as recorded
    /// at install. Errors name the file and say to reinstall.
    pub fn schema(&self) -> Result<RecordedSchema> {
        let path = self.dir.join(SCHEMA_FILE);
        let unusable = |why: String| {
            anyhow::anyhow!(
                "{why}: reinstall mixin {name} (porter mixins install {name} --file PATH.wasm)",
                name = self.name
            )
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| unusable(format!("cannot read {} ({e})", path.display())))?;
        let json = serde_json::from_str(&text)
            .map_err(|e| unusable(format!("{} is not JSON ({e})", path.display())))?;
        Ok(RecordedSchema { text, json })
    }

    /// Where it came from, as bundle.json and porter.lock say it: the URL
    /// or registry reference it was installed from, or `file` for a local
    /// file, whose path means nothing on another machine (the digest says
    /// which bytes it was).
    pub fn published_source(&self) -> &str {
        if self.source.starts_with("file:") {
            "file"
        } else {
            &self.source
        }
    }

    /// The hex part of the digest.
    pub fn sha256_hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

/// An installed mixin's schema: the text as the mixin returned it (what
/// remembered checks are keyed by) and the JSON it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedSchema {
    pub text: String,
    pub json: serde_json::Value,
}

/// A mixin name is also a directory name: keep it to what porter.yaml
/// authors write (`helm3`, `docker-compose`, `az_cli`).
pub fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "'{name}' is not a valid mixin name: use lowercase letters, digits, '-' and '_', starting with a letter or digit"
        );
    }
    Ok(())
}

/// Why no installed version fits a bundle's declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ResolveError {
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// The command that installs a version of `name` matching `constraint`,
/// from where the installed versions came from when that says where the
/// others are (Porter's URL layout `<url>/<version>/<name>.wasm`, or a
/// registry repository), else the general form.
fn install_command(
    name: &str,
    constraint: &VersionConstraint,
    installed: &[InstalledMixin],
) -> String {
    let text = constraint.to_string();
    let version = crate::manifest::constraint::parse_lenient_version(&text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "VERSION".to_string());
    for mixin in installed.iter().rev() {
        let layout_tail = format!("/{}/{name}.wasm", mixin.version);
        if let Some(base) = mixin.source.strip_suffix(&layout_tail)
            && (base.starts_with("https://") || base.starts_with("http://"))
        {
            return format!("porter mixins install {name} --url {base} --version {version}");
        }
        if let Some(reference) = mixin.source.strip_prefix("oci://")
            && let Some((repository, _tag)) = reference.rsplit_once(':')
            && !repository.contains('@')
            && !_tag.contains('/')
        {
            return format!("porter mixins install {name} --reference {repository}:{version}");
        }
    }
    format!(
        "porter mixins install {name} --version {version} with --url URL, --feed-url URL, \
         --reference REGISTRY/REPO:TAG or --file PATH.wasm"
    )
}

/// What porter.yaml's mixin declarations resolved to.
#[derive(Debug, Default)]
pub struct Resolution {
    /// The installed version of each declaration that has one, in order.
    pub mixins: Vec<InstalledMixin>,
    /// One error per declaration that has none, with what to do.
    pub problems: Vec<Diagnostic>,
}

pub struct MixinStore {
    home: PathBuf,
    dir: PathBuf,
    precompiled_dir: PathBuf,
    answers_dir: PathBuf,
}

impl MixinStore {
    pub fn new(home: &PorterHome) -> Self {
        MixinStore {
            home: home.root().to_path_buf(),
            dir: home.mixins_dir(),
            precompiled_dir: home.precompiled_dir(),
            answers_dir: home.answers_dir(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Excludes every other porter's changes to the store until dropped.
    pub fn lock(&self) -> Result<super::store_lock::StoreLock> {
        super::store_lock::StoreLock::acquire(&self.home)
    }

    /// Where a version of a mixin is (or would be) installed.
    pub fn version_dir(&self, name: &str, version: &semver::Version) -> PathBuf {
        self.dir.join(name).join(version.to_string())
    }

    /// One installed version, when its record can be read.
    pub fn installed(&self, name: &str, version: &semver::Version) -> Option<InstalledMixin> {
        read_record(&self.version_dir(name, version)).ok()
    }

    /// Every installed mixin, by name then version.
    pub fn list(&self) -> Result<Vec<InstalledMixin>> {
        let mut all = Vec::new();
        for name in read_dir_names(&self.dir)? {
            if check_name(&name).is_ok() {
                all.extend(self.versions(&name)?);
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
        Ok(all)
    }

    /// The installed versions of one mixin, oldest first.
    pub fn versions(&self, name: &str) -> Result<Vec<InstalledMixin>> {
        let mut found = Vec::new();
        for entry in read_dir_names(&self.dir.join(name))? {
            if entry.starts_with('.') {
                continue; // staging and trash directories of an install
            }
            let dir = self.dir.join(name).join(&entry);
            found.push(read_record(&dir)?);
        }
        found.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(found)
    }

    /// The installed version a bundle gets for `name` (with an optional
    /// constraint): the newest one that satisfies it.
    pub fn resolve(
        &self,
        name: &str,
        constraint: Option<&VersionConstraint>,
    ) -> Result<InstalledMixin, ResolveError> {
        let installed = self.versions(name).map_err(|e| ResolveError {
            message: format!("cannot read the installed versions of mixin {name}: {e:#}"),
            hint: format!("reinstall it: porter mixins install {name} --file PATH.wasm"),
        })?;
        if installed.is_empty() {
            return Err(ResolveError {
                message: format!("mixin {name} is not installed"),
                hint: format!(
                    "install it: porter mixins install {name} --file PATH.wasm (see porter mixins list)"
                ),
            });
        }
        let matching = installed
            .iter()
            .rev()
            .find(|m| constraint.is_none_or(|c| c.matches(&m.version)));
        match (matching, constraint) {
            (Some(m), _) => Ok(m.clone()),
            (None, Some(c)) => {
                let have: Vec<String> = installed.iter().map(|m| m.version.to_string()).collect();
                Err(ResolveError {
                    message: format!(
                        "mixin {name} is installed at version {} but your bundle requires version {c}",
                        have.join(", ")
                    ),
                    hint: format!(
                        "install a matching version: {}; or change the constraint in porter.yaml",
                        install_command(name, c, &installed)
                    ),
                })
            }
            (None, None) => unreachable!("an unconstrained lookup matches any installed version"),
        }
    }

    /// What each of porter.yaml's `mixins:` resolves to, in declaration
    /// order, and a diagnostic on each declaration that resolves to nothing.
    /// Build and lint both start from this, so a build resolves once.
    pub fn resolve_declared(&self, loaded: &LoadedManifest) -> Resolution {
        let mut resolution = Resolution::default();
        for declaration in &loaded.manifest.mixins {
            match self.resolve(&declaration.name, declaration.constraint.as_ref()) {
                Ok(installed) => resolution.mixins.push(installed),
                Err(e) => {
                    let at = loaded.source.locations.value(&declaration.pointer);
                    resolution
                        .problems
                        .push(Diagnostic::error(&loaded.source, at, e.message).hint(e.hint));
                }
            }
        }
        resolution
    }

    /// Removes one version (or all versions) of a mixin and returns what was
    /// removed. Removal renames first, so an interrupted uninstall leaves
    /// either the whole version or nothing that looks installed.
    pub fn remove(
        &self,
        name: &str,
        version: Option<&semver::Version>,
    ) -> Result<Vec<InstalledMixin>> {
        check_name(name)?;
        if self.versions(name)?.is_empty() {
            bail!("mixin {name} is not installed (see `porter mixins list`)");
        }
        // Read again under the lock: another porter may have changed it.
        let _lock = self.lock()?;
        let installed = self.versions(name)?;
        if installed.is_empty() {
            bail!("mixin {name} is not installed (see `porter mixins list`)");
        }
        let doomed: Vec<InstalledMixin> = match version {
            Some(v) => {
                let Some(one) = installed.iter().find(|m| &m.version == v) else {
                    let have: Vec<String> =
                        installed.iter().map(|m| m.version.to_string()).collect();
                    bail!(
                        "mixin {name} {v} is not installed; installed versions: {}",
                        have.join(", ")
                    );
                };
                vec![one.clone()]
            }
            None => installed,
        };
        for mixin in &doomed {
            let trash = self
                .dir
                .join(name)
                .join(format!(".removing-{}", mixin.version));
            std::fs::rename(&mixin.dir, &trash)
                .with_context(|| format!("cannot remove {}", mixin.dir.display()))?;
            std::fs::remove_dir_all(&trash)
                .with_context(|| format!("cannot remove {}", trash.display()))?;
        }
        // Compiled code and answers nobody installed uses any more go too.
        for mixin in &doomed {
            self.forget_if_unused(&mixin.digest)?;
        }
        if self.versions(name)?.is_empty() {
            let _ = std::fs::remove_dir_all(self.dir.join(name));
        }
        Ok(doomed)
    }

    /// Drops the compiled code and remembered answers of a wasm digest
    /// (`sha256:<hex>`) when no installed mixin has it any more.
    pub fn forget_if_unused(&self, digest: &str) -> Result<()> {
        if self.list()?.iter().any(|m| m.digest == digest) {
            return Ok(());
        }
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        super::cache::remove_compiled(&self.precompiled_dir, hex);
        crate::memo::forget(&self.answers_dir, hex);
        Ok(())
    }
}

fn read_record(dir: &Path) -> Result<InstalledMixin> {
    let path = dir.join(RECORD_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: reinstall this mixin, or remove the directory {}",
            path.display(),
            dir.display()
        )
    })?;
    let mut record: InstalledMixin = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is damaged: reinstall this mixin, or remove the directory {}",
            path.display(),
            dir.display()
        )
    })?;
    record.dir = dir.to_path_buf();
    Ok(record)
}

/// Names in a directory, sorted; an absent directory has none.
fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installed_from(source: &str, version: &str) -> InstalledMixin {
        InstalledMixin {
            name: "helm3".into(),
            version: semver::Version::parse(version).unwrap(),
            description: String::new(),
            author: String::new(),
            homepage: None,
            license: None,
            digest: format!("sha256:{}", "a".repeat(64)),
            source: source.into(),
            api_version: semver::Version::new(1, 0, 0),
            dir: PathBuf::new(),
        }
    }

    #[test]
    fn a_missing_version_names_the_command_from_where_the_others_came() {
        let exact = VersionConstraint::parse("3.2.0").unwrap();
        let range = VersionConstraint::parse("^3.2").unwrap();
        let url = [installed_from(
            "https://example.com/mixins/helm3/3.1.0/helm3.wasm",
            "3.1.0",
        )];
        assert_eq!(
            install_command("helm3", &exact, &url),
            "porter mixins install helm3 --url https://example.com/mixins/helm3 --version 3.2.0"
        );
        assert_eq!(
            install_command("helm3", &range, &url),
            "porter mixins install helm3 --url https://example.com/mixins/helm3 --version VERSION"
        );
        let oci = [installed_from(
            "oci://localhost:5000/mixins/helm3:3.1.0",
            "3.1.0",
        )];
        assert_eq!(
            install_command("helm3", &exact, &oci),
            "porter mixins install helm3 --reference localhost:5000/mixins/helm3:3.2.0"
        );
        let file = [installed_from("file:///home/me/helm3.wasm", "3.1.0")];
        assert!(
            install_command("helm3", &exact, &file)
                .starts_with("porter mixins install helm3 --version 3.2.0 with --url URL"),
        );
    }

    #[test]
    fn names_that_are_paths_or_odd_are_refused() {
        for bad in [
            "",
            "../etc",
            "a/b",
            "Exec",
            "-x",
            ".hidden",
            "x y",
            &"a".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["exec", "helm3", "docker-compose", "az_cli", "0day"] {
            check_name(good).unwrap();
        }
    }

    fn installed_in(dir: &Path) -> InstalledMixin {
        InstalledMixin {
            name: "exec".into(),
            version: semver::Version::new(1, 0, 0),
            description: String::new(),
            author: String::new(),
            homepage: None,
            license: None,
            digest: "sha256:00".into(),
            source: "file:///exec.wasm".into(),
            api_version: semver::Version::new(1, 0, 0),
            dir: dir.to_path_buf(),
        }
    }

    #[test]
    fn a_recorded_schema_is_read_with_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let mixin = installed_in(dir.path());
        let text = r#"{"definitions": {}}"#;
        std::fs::write(dir.path().join(SCHEMA_FILE), text).unwrap();
        let schema = mixin.schema().unwrap();
        assert_eq!(schema.text, text);
        assert_eq!(schema.json, serde_json::json!({"definitions": {}}));
    }

    #[test]
    fn an_unusable_schema_says_to_reinstall() {
        let dir = tempfile::tempdir().unwrap();
        let mixin = installed_in(dir.path());
        let err = mixin.schema().unwrap_err().to_string();
        assert!(err.starts_with("cannot read "), "{err}");
        assert!(
            err.ends_with(": reinstall mixin exec (porter mixins install exec --file PATH.wasm)"),
            "{err}"
        );
        std::fs::write(dir.path().join(SCHEMA_FILE), "{").unwrap();
        let err = mixin.schema().unwrap_err().to_string();
        assert!(err.contains("schema.json is not JSON ("), "{err}");
    }
}
