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
/// A file with the same bytes as in the previous `.cnab/` is hard-linked
/// from it rather than written: the swap then frees no file data, which on
/// a disk mounted with `discard` is what removing the previous build costs.
pub fn stage(bundle_dir: &Path, staged: &Staged<'_>) -> Result<StagedCnab> {
    let staging = tempfile::Builder::new()
        .prefix(".cnab-staging-")
        .tempdir_in(bundle_dir)
        .with_context(|| format!("cannot write in {}", bundle_dir.display()))?;
    let root = staging.path();
    let previous = bundle_dir.join(".cnab");
    let files: [(&str, &[u8], bool); 4] = [
        ("Dockerfile", staged.dockerfile.as_bytes(), false),
        ("bundle.json", staged.bundle_json, false),
        ("app/porter.yaml", staged.manifest_text.as_bytes(), false),
        ("app/run", RUN_SCRIPT.as_bytes(), true),
    ];
    for (relative, bytes, executable) in files {
        let dest = root.join(relative);
        if !reuse_if_same(&previous.join(relative), &dest, bytes, executable) {
            write(&dest, bytes, executable)?;
        }
    }
    for (name, wasm) in &staged.mixins {
        let dest = root
            .join("app/mixins")
            .join(name)
            .join(format!("{name}.wasm"));
        link_or_copy(wasm, &dest, false)?;
    }
    if let Some(runtime) = &staged.runtime {
        link_or_copy(runtime, &root.join("app/runtimes/porter-runtime"), true)?;
    }
    Ok(StagedCnab {
        bundle_dir: bundle_dir.to_path_buf(),
        staging,
    })
}

/// Hard-links `previous` to `dest` when it holds exactly `bytes` with the
/// mode porter gives such a file.
fn reuse_if_same(previous: &Path, dest: &Path, bytes: &[u8], executable: bool) -> bool {
    let same_mode = std::fs::symlink_metadata(previous).is_ok_and(|meta| {
        meta.is_file()
            && meta.len() == bytes.len() as u64
            && crate::fsmeta::is_executable(&meta) == executable
    });
    if !same_mode || std::fs::read(previous).ok().as_deref() != Some(bytes) {
        return false;
    }
    dest.parent()
        .is_some_and(|parent| std::fs::create_dir_all(parent).is_ok())
        && std::fs::hard_link(previous, dest).is_ok()
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

/// Writes a new file. One already at `path` may be a hard link shared with
/// the previous build: it is unlinked, never written through.
fn write(path: &Path, bytes: &[u8], executable: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot replace {}", path.display())),
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    set_mode(path, executable)
}

/// Installed mixins (read-only in the store) and the installed runtime are
/// shared with a hard link rather than copied (the runtime is tens of MB),
/// when their mode is already the one the image needs; otherwise, or
/// across filesystems, copied.
fn link_or_copy(from: &Path, to: &Path, executable: bool) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mode_fits =
        std::fs::metadata(from).is_ok_and(|meta| crate::fsmeta::is_executable(&meta) == executable);
    if mode_fits && std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    copy(from, to, executable)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn staged<'a>(bundle_json: &'a [u8]) -> Staged<'a> {
        Staged {
            dockerfile: "FROM x\n",
            bundle_json,
            manifest_text: "name: x\n",
            mixins: Vec::new(),
            runtime: None,
        }
    }

    fn inode(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().ino()
    }

    #[test]
    fn unchanged_files_are_shared_with_the_previous_build_and_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let cnab = stage(dir.path(), &staged(b"{\"v\":1}"))
            .unwrap()
            .commit()
            .unwrap();
        let first_dockerfile = inode(&cnab.join("Dockerfile"));
        let first_bundle = inode(&cnab.join("bundle.json"));
        let kept_open = cnab.join("bundle.json");
        let old_run_mode = std::fs::metadata(cnab.join("app/run")).unwrap().mode() & 0o777;

        // Same Dockerfile, another bundle.json: the first is shared, the
        // second is a new file.
        let next = stage(dir.path(), &staged(b"{\"v\":2}")).unwrap();
        assert_eq!(inode(&next.path().join("Dockerfile")), first_dockerfile);
        assert_ne!(inode(&next.path().join("bundle.json")), first_bundle);
        assert_eq!(
            std::fs::metadata(next.path().join("app/run"))
                .unwrap()
                .mode()
                & 0o777,
            old_run_mode
        );

        // Replacing a shared file (the image ID recorded after the build)
        // leaves the previous build's copy as it was.
        let same = stage(dir.path(), &staged(b"{\"v\":1}")).unwrap();
        assert_eq!(inode(&same.path().join("bundle.json")), first_bundle);
        same.replace_bundle_json(b"{\"v\":1,\"id\":\"x\"}").unwrap();
        assert_eq!(std::fs::read(&kept_open).unwrap(), b"{\"v\":1}");
        drop(next);
        let cnab = same.commit().unwrap();
        assert_eq!(
            std::fs::read(cnab.join("bundle.json")).unwrap(),
            b"{\"v\":1,\"id\":\"x\"}"
        );
        assert_eq!(
            tree_names(dir.path()),
            [".cnab"],
            "no staging or previous build left"
        );
    }

    fn tree_names(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}
