//! Writes `.cnab/`: everything the invocation image carries besides the
//! bundle's own files. Built in a staging directory beside it, sent to the
//! engine from there, and swapped in by rename only once the image is
//! built, so a failed build never leaves a half-written `.cnab/` nor records
//! an image that does not exist.
//!
//! Layout (Porter's, with wasm mixins):
//!
//! ```text
//! .cnab/
//!   Dockerfile
//!   bundle.json
//!   app/
//!     run                          entrypoint, 0755
//!     porter.yaml                  the manifest the image carries
//!     runtimes/porter-runtime      when a runtime is installed (PORTER_HOME/runtimes)
//!     mixins/<name>/<name>.wasm    only the mixins the bundle declares
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The entrypoint: the CNAB runtime contract runs `/cnab/app/run`.
pub const RUN_SCRIPT: &str = "#!/usr/bin/env bash\nset -euo pipefail\n\nexport PORTER_HOME=/cnab/app\nexec /cnab/app/runtimes/porter-runtime run -f /cnab/app/porter.yaml \"$@\"\n";

pub struct Staged<'a> {
    pub dockerfile: &'a str,
    pub bundle_json: &'a [u8],
    pub manifest_text: &'a str,
    /// `(name, path of the installed .wasm)` of each declared mixin.
    pub mixins: Vec<(String, PathBuf)>,
    /// The Linux runtime to carry, when one is installed.
    pub runtime: Option<PathBuf>,
}

/// A `.cnab/` written beside the bundle's current one, not yet in place.
/// Dropped without [`StagedCnab::commit`] (a failed or interrupted image
/// build), it is removed and the previous build stays as it was.
pub struct StagedCnab {
    bundle_dir: PathBuf,
    staging: tempfile::TempDir,
}

/// Writes the staged files into a new directory beside `bundle_dir/.cnab`.
pub fn stage(bundle_dir: &Path, staged: &Staged<'_>) -> Result<StagedCnab> {
    let staging = tempfile::Builder::new()
        .prefix(".cnab-staging-")
        .tempdir_in(bundle_dir)
        .with_context(|| format!("cannot write in {}", bundle_dir.display()))?;
    let root = staging.path();
    write(
        &root.join("Dockerfile"),
        staged.dockerfile.as_bytes(),
        false,
    )?;
    write(&root.join("bundle.json"), staged.bundle_json, false)?;
    write(
        &root.join("app/porter.yaml"),
        staged.manifest_text.as_bytes(),
        false,
    )?;
    write(&root.join("app/run"), RUN_SCRIPT.as_bytes(), true)?;
    for (name, wasm) in &staged.mixins {
        let dest = root
            .join("app/mixins")
            .join(name)
            .join(format!("{name}.wasm"));
        link_or_copy(wasm, &dest)?;
    }
    if let Some(runtime) = &staged.runtime {
        copy(runtime, &root.join("app/runtimes/porter-runtime"), true)?;
    }
    Ok(StagedCnab {
        bundle_dir: bundle_dir.to_path_buf(),
        staging,
    })
}

impl StagedCnab {
    /// Where the staged `.cnab/` is until it is committed.
    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Replaces the staged bundle.json (to record the built image).
    pub fn replace_bundle_json(&self, bytes: &[u8]) -> Result<()> {
        write(&self.path().join("bundle.json"), bytes, false)
    }

    /// Swaps the staged directory in as `bundle_dir/.cnab`.
    pub fn commit(self) -> Result<PathBuf> {
        let cnab = self.bundle_dir.join(".cnab");
        let previous = if cnab.exists() {
            let aside = self
                .bundle_dir
                .join(format!(".cnab-previous-{}", std::process::id()));
            std::fs::rename(&cnab, &aside)
                .with_context(|| format!("cannot replace {}", cnab.display()))?;
            Some(aside)
        } else {
            None
        };
        let staged_dir = self.staging.keep();
        if let Err(e) = std::fs::rename(&staged_dir, &cnab) {
            if let Some(aside) = &previous {
                let _ = std::fs::rename(aside, &cnab);
            }
            let _ = std::fs::remove_dir_all(&staged_dir);
            return Err(e).with_context(|| format!("cannot write {}", cnab.display()));
        }
        if let Some(aside) = previous {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(cnab)
    }
}

fn write(path: &Path, bytes: &[u8], executable: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    set_mode(path, executable)
}

/// An installed mixin is read-only in the store, so `.cnab` can share it
/// with a hard link rather than a copy; across filesystems it is copied.
fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) => copy(from, to, false),
    }
}

fn copy(from: &Path, to: &Path, executable: bool) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    set_mode(to, executable)
}

/// Fixed modes, so the image's files do not depend on the host's umask.
#[cfg(unix)]
fn set_mode(path: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _executable: bool) -> Result<()> {
    Ok(())
}
