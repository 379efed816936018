//! `porter mixins install`: check that a `.wasm` really is the mixin it is
//! installed as, compile it once, and only then move it into place.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::contract::{NeedsNewerPorter, contract_version};
use super::sandbox::MixinLabel;
use super::store::{InstalledMixin, RECORD_FILE, SCHEMA_FILE, check_name};
use super::{MixinHost, MixinInfo};

/// Larger than any mixin has reason to be; refuses before reading it all.
pub const MAX_WASM_BYTES: u64 = 64 << 20;

/// Where a mixin comes from and what the user expects of it.
pub struct InstallRequest<'a> {
    /// The name the user installs it as; the mixin must report this name.
    pub name: &'a str,
    /// `Some` when the user asked for a version: the mixin must report it.
    pub version: Option<&'a semver::Version>,
    /// Replace the same version when it is installed with other contents
    /// (without it, that install is refused).
    pub force: bool,
    /// `Some("sha256:<hex>")` when the bytes must have this digest (the
    /// user's `--digest`, or the digest a registry published): checked
    /// before anything is written.
    pub expected_digest: Option<String>,
}

/// A `.wasm` that passed every install check ([`MixinHost::check_mixin`]).
pub struct CheckedMixin {
    pub component: Component,
    /// What the mixin reports about itself.
    pub info: MixinInfo,
    pub version: semver::Version,
    /// Its `metadata.schema`, a JSON object.
    pub schema: String,
    /// The contract version it implements.
    pub api_version: semver::Version,
    /// The component's export and import names.
    pub exports: Vec<String>,
    pub imports: Vec<String>,
}

/// A mixin just installed, and what became of the version already there.
#[derive(Debug, Clone)]
pub struct Installation {
    pub mixin: InstalledMixin,
    pub outcome: InstallOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallOutcome {
    /// This version was not installed.
    New,
    /// The same bytes were installed already; their files are written again.
    AlreadyInstalled,
    /// Other contents of this version were installed, and were replaced.
    Replaced { previous_digest: String },
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Refuses bytes whose digest is not `expected` (`sha256:<hex>`).
fn check_expected_digest(expected: &str, wasm: &[u8]) -> Result<()> {
    check_digest_text(expected)?;
    let actual = sha256_digest(wasm);
    if !actual.eq_ignore_ascii_case(expected) {
        bail!(
            "its digest is {actual}, not the expected {expected}: nothing was installed; \
             check --digest, or that the source and the digest name the same build of the mixin"
        );
    }
    Ok(())
}

impl MixinHost {
    /// Installs the mixin in a local `.wasm` file.
    pub fn install_file(&self, request: &InstallRequest<'_>, file: &Path) -> Result<Installation> {
        check_name(request.name)?;
        let meta =
            std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
        if !meta.is_file() {
            bail!(
                "{} is not a file: pass the path of the mixin's .wasm",
                file.display()
            );
        }
        if meta.len() > MAX_WASM_BYTES {
            bail!(
                "{} is {} MiB, larger than any mixin ({} MiB at most)",
                file.display(),
                meta.len() >> 20,
                MAX_WASM_BYTES >> 20
            );
        }
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let source = format!("file://{}", absolute.display());
        self.install_bytes(request, &bytes, &source)
            .with_context(|| {
                format!(
                    "cannot install {} as mixin {}",
                    file.display(),
                    request.name
                )
            })
    }

    /// Installs a mixin from its bytes; `source` is recorded as its origin.
    pub fn install_bytes(
        &self,
        request: &InstallRequest<'_>,
        wasm: &[u8],
        source: &str,
    ) -> Result<Installation> {
        check_name(request.name)?;
        if let Some(expected) = request.expected_digest.as_deref() {
            check_expected_digest(expected, wasm)?;
        }
        let checked = self.check_mixin(wasm, Some(request.name))?;
        let CheckedMixin {
            component,
            info,
            version,
            schema,
            api_version,
            ..
        } = checked;
        if let Some(wanted) = request.version
            && wanted != &version
        {
            bail!(
                "the file is {} {version}, not the requested version {wanted}",
                info.name
            );
        }

        let record = InstalledMixin {
            name: info.name.clone(),
            version: version.clone(),
            description: info.description,
            author: info.author,
            homepage: info.homepage,
            license: info.license,
            digest: sha256_digest(wasm),
            source: source.to_string(),
            api_version,
            dir: self.store.version_dir(&info.name, &version),
        };
        // One porter at a time writes the store (another install or
        // uninstall waits here); what is installed is read under the lock.
        let _lock = self.store.lock()?;
        let outcome = self.outcome_over_installed(&record, request.force)?;
        self.runtime()?
            .cache
            .store(record.sha256_hex(), &component)
            .context("cannot cache the compiled mixin")?;
        self.move_into_place(&record, wasm, &schema)?;
        if let InstallOutcome::Replaced { previous_digest } = &outcome {
            // Only costs disk space when it fails.
            let _ = self.store.forget_if_unused(previous_digest);
        }
        Ok(Installation {
            mixin: record,
            outcome,
        })
    }

    /// Checks that `wasm` is a mixin this porter can run: a component that
    /// implements the contract, runs in the sandbox, and reports a semver
    /// version and a JSON schema. With `name`, it must report that name.
    /// Writes nothing (`porter mixins publish` checks a file this way).
    pub fn check_mixin(&self, wasm: &[u8], name: Option<&str>) -> Result<CheckedMixin> {
        check_is_component(wasm)?;
        let runtime = self.runtime()?;
        let engine = runtime.sandbox.engine();
        let component = Component::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .context("it is not a valid WebAssembly component")?;
        let component_type = component.component_type();
        let exports: Vec<String> = component_type
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let imports: Vec<String> = component_type
            .imports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let api_version =
            contract_version(exports.iter().map(String::as_str)).map_err(anyhow::Error::msg)?;

        let label = MixinLabel {
            name: name.unwrap_or("mixin").to_string(),
            version: String::new(),
        };
        let prepared = runtime.sandbox.prepare(&component, label).map_err(|e| {
            if e.is::<NeedsNewerPorter>() {
                e
            } else {
                e.context("it needs something porter does not give mixins (mixins get no files, network or environment)")
            }
        })?;
        let info = prepared.info()?;
        if let Some(name) = name
            && info.name != name
        {
            bail!(
                "the file is the mixin '{}', not '{}': install it as `porter mixins install {} --file ...`",
                info.name,
                name,
                info.name
            );
        }
        let version = parse_mixin_version(&info.version)?;
        let schema = prepared.schema()?;
        let schema_json: serde_json::Value = serde_json::from_str(&schema)
            .map_err(|e| anyhow::anyhow!("its schema (metadata.schema) is not JSON: {e}"))?;
        if !schema_json.is_object() {
            bail!("its schema (metadata.schema) is not a JSON object");
        }
        Ok(CheckedMixin {
            component,
            info,
            version,
            schema,
            api_version,
            exports,
            imports,
        })
    }

    /// What installing `record` does to the same version already installed:
    /// other contents are only replaced when the user says so. A version
    /// whose record cannot be read is damaged, and installing repairs it.
    fn outcome_over_installed(
        &self,
        record: &InstalledMixin,
        force: bool,
    ) -> Result<InstallOutcome> {
        let Some(installed) = self.store.installed(&record.name, &record.version) else {
            return Ok(InstallOutcome::New);
        };
        if installed.digest == record.digest {
            return Ok(InstallOutcome::AlreadyInstalled);
        }
        if !force {
            bail!(
                "{} {} is already installed with other contents (installed {}, this file {}): \
                 to replace it, add --force (porter mixins install {} --file PATH --force), \
                 or give this build a version of its own",
                record.name,
                record.version,
                installed.digest,
                record.digest,
                record.name
            );
        }
        Ok(InstallOutcome::Replaced {
            previous_digest: installed.digest,
        })
    }

    /// Writes the files in a staging directory beside the target, then
    /// renames it into place: a mixin is installed whole or not at all.
    fn move_into_place(&self, record: &InstalledMixin, wasm: &[u8], schema: &str) -> Result<()> {
        let parent = record
            .dir
            .parent()
            .context("a version directory has a parent")?;
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(parent)
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        let write = |file: &str, bytes: &[u8]| {
            let path = staging.path().join(file);
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
        };
        write(&format!("{}.wasm", record.name), wasm)?;
        // Read-only: builds hard-link it into .cnab/, which must never
        // write through to the store.
        let wasm_path = staging.path().join(format!("{}.wasm", record.name));
        let mut permissions = std::fs::metadata(&wasm_path)?.permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&wasm_path, permissions)
            .with_context(|| format!("cannot make {} read-only", wasm_path.display()))?;
        write(SCHEMA_FILE, schema.as_bytes())?;
        write(
            RECORD_FILE,
            format!("{}\n", serde_json::to_string_pretty(record)?).as_bytes(),
        )?;

        let replaced = if record.dir.exists() {
            let aside = parent.join(format!(
                ".replaced-{}-{}",
                record.version,
                std::process::id()
            ));
            std::fs::rename(&record.dir, &aside)
                .with_context(|| format!("cannot replace {}", record.dir.display()))?;
            Some(aside)
        } else {
            None
        };
        let staged = staging.keep();
        if let Err(e) = std::fs::rename(&staged, &record.dir) {
            // Put the previous install back; drop the staged copy.
            if let Some(aside) = &replaced {
                let _ = std::fs::rename(aside, &record.dir);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e)
                .with_context(|| format!("cannot move the mixin into {}", record.dir.display()));
        }
        if let Some(aside) = replaced {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(())
    }
}

/// `sha256:` and 64 hex digits: the only digests porter records.
pub fn check_digest_text(text: &str) -> Result<()> {
    let hex = text.strip_prefix("sha256:").unwrap_or("");
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!(
            "'{text}' is not a sha256 digest: give sha256: and 64 hex digits (as `porter mixins list -o json` shows)"
        );
    }
    Ok(())
}

/// Mixin versions are semver; a leading `v` (Porter's habit) is accepted.
fn parse_mixin_version(text: &str) -> Result<semver::Version> {
    semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).map_err(|e| {
        anyhow::anyhow!("it reports version '{text}', which is not semver (1.2.3): {e}")
    })
}

/// Tells a component from a core module or from something else, so the
/// error says what to do.
fn check_is_component(bytes: &[u8]) -> Result<()> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!(
            "it is not a WebAssembly file (a mixin is a .wasm component built for wasm32-wasip2)"
        );
    }
    if bytes[6..8] == [0, 0] {
        bail!(
            "it is a core WebAssembly module, not a component: build the mixin with \
             `cargo build --target wasm32-wasip2` (crate-type cdylib) so it is a component"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_accept_a_leading_v() {
        assert_eq!(
            parse_mixin_version("v1.2.3").unwrap(),
            semver::Version::new(1, 2, 3)
        );
        assert!(parse_mixin_version("latest").is_err());
    }

    #[test]
    fn an_expected_digest_is_checked_and_shown_with_the_actual_one() {
        let actual = sha256_digest(b"wasm");
        check_expected_digest(&actual, b"wasm").unwrap();
        let other = format!("sha256:{}", "0".repeat(64));
        let err = check_expected_digest(&other, b"wasm")
            .unwrap_err()
            .to_string();
        assert!(err.contains(&actual) && err.contains(&other), "{err}");
        let err = check_expected_digest("sha256:abc", b"wasm")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a sha256 digest"), "{err}");
    }

    #[test]
    fn non_components_are_told_apart() {
        let err = check_is_component(b"#!/bin/sh\necho")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a WebAssembly file"), "{err}");
        let err = check_is_component(b"\0asm\x01\0\0\0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("core WebAssembly module"), "{err}");
        check_is_component(b"\0asm\x0d\0\x01\0").unwrap();
    }
}
