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
//!     mixins/<name>.wasm           only the mixins the bundle declares
//!     mixins/<name>.cwasm          its compiled form, when porter has one
//!     <destination>                each file `files:` downloads (laid over the
//!                                  bundle's files in the image, as Porter's
//!                                  download overwrites the bundle directory's)
//! ```
//!
//! Porter gives each mixin a directory (`mixins/<name>/`, for its client and
//! runtime binaries); a wasm mixin is one file, so the directory would only
//! cost every build a directory made and one removed per mixin.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

use crate::layout::RUN_SCRIPT;

/// Inside `.cnab/`: the build before it, kept to be the next build's
/// staging directory. Making and removing directories is what writing
/// `.cnab/` costs most (on ext4 without a journal, each new inode is
/// searched for past every recently freed one), and a build reuses the
/// spare's directories and its files that did not change. Never sent to
/// the engine: the context carries the staging directory, never `.cnab/`.
pub const SPARE: &str = ".spare";

pub struct StagedMixin {
    pub name: String,
    pub wasm: PathBuf,
    pub compiled: Option<PathBuf>,
}

pub struct Staged<'a> {
    pub dockerfile: &'a str,
    pub bundle_json: &'a [u8],
    pub manifest_text: &'a str,
    /// Each declared mixin: its name, the installed `.wasm` and, when the
    /// cache has one, its compiled form (the image's runtime loads it
    /// rather than compiling the wasm at every run).
    pub mixins: Vec<StagedMixin>,
    /// The Linux runtime to carry, when one is installed.
    pub runtime: Option<PathBuf>,
    /// `files:`: each destination (relative to `app/`) and the downloaded
    /// file in porter's cache.
    pub downloads: Vec<(String, PathBuf)>,
}

/// A `.cnab/` written beside the bundle's current one, not yet in place.
/// Dropped without [`StagedCnab::commit`] (a failed or interrupted image
/// build), it is removed and the previous build stays as it was.
pub struct StagedCnab {
    bundle_dir: PathBuf,
    /// `None` once committed.
    staging: Option<PathBuf>,
}

impl Drop for StagedCnab {
    fn drop(&mut self) {
        if let Some(staging) = self.staging.take() {
            let _ = std::fs::remove_dir_all(staging);
        }
    }
}

/// Writes the staged files into a directory beside `bundle_dir/.cnab`: the
/// previous build's spare when there is one, brought up to date, or a new
/// one. A file with the same bytes as in the previous `.cnab/` is
/// hard-linked from it rather than written: the swap then frees no file
/// data, which on a disk mounted with `discard` is what removing a build
/// costs.
pub fn stage(bundle_dir: &Path, staged: &Staged<'_>) -> Result<StagedCnab> {
    static STAGINGS: AtomicUsize = AtomicUsize::new(0);
    let previous = bundle_dir.join(".cnab");
    let root = bundle_dir.join(format!(
        ".cnab-staging-{}-{}",
        std::process::id(),
        STAGINGS.fetch_add(1, Ordering::Relaxed)
    ));
    // One left by a porter that was killed (same pid, an earlier boot).
    clear(&root)?;
    let reused = std::fs::rename(previous.join(SPARE), &root).is_ok()
        && std::fs::symlink_metadata(&root).is_ok_and(|meta| meta.is_dir());
    if !reused {
        clear(&root)?;
        std::fs::create_dir(&root)
            .with_context(|| format!("cannot write in {}", bundle_dir.display()))?;
    }
    let cnab = StagedCnab {
        bundle_dir: bundle_dir.to_path_buf(),
        staging: Some(root.clone()),
    };

    let files: [(&str, &[u8], bool); 4] = [
        ("Dockerfile", staged.dockerfile.as_bytes(), false),
        ("bundle.json", staged.bundle_json, false),
        ("app/porter.yaml", staged.manifest_text.as_bytes(), false),
        ("app/run", RUN_SCRIPT.as_bytes(), true),
    ];
    let mixins: Vec<(String, &PathBuf)> = staged
        .mixins
        .iter()
        .flat_map(|m| {
            let wasm = (format!("app/mixins/{}.wasm", m.name), &m.wasm);
            let compiled = m
                .compiled
                .as_ref()
                .map(|c| (format!("app/mixins/{}.cwasm", m.name), c));
            std::iter::once(wasm).chain(compiled)
        })
        .collect();
    const RUNTIME: &str = "app/runtimes/porter-runtime";
    let mut expected = Expected::default();
    files
        .iter()
        .for_each(|(relative, ..)| expected.add(relative));
    mixins
        .iter()
        .for_each(|(relative, _)| expected.add(relative));
    if staged.runtime.is_some() {
        expected.add(RUNTIME);
    }
    let downloads: Vec<(String, &PathBuf)> = staged
        .downloads
        .iter()
        .map(|(destination, path)| (format!("app/{destination}"), path))
        .collect();
    downloads
        .iter()
        .for_each(|(relative, _)| expected.add(relative));
    if reused {
        // Before anything is written into it: a spare is only reused as
        // porter left it (a symlink in it, say from a checked-in `.cnab/`,
        // would have the writes below land elsewhere).
        expected.remove_others(&root, Path::new(""))?;
    }

    for (relative, bytes, executable) in files {
        let dest = root.join(relative);
        if holds(&dest, bytes, executable) {
            continue;
        }
        clear(&dest)?;
        if !(holds(&previous.join(relative), bytes, executable)
            && link(&previous.join(relative), &dest))
        {
            write(&dest, bytes, executable)?;
        }
    }
    for (relative, wasm) in &mixins {
        link_or_copy(wasm, &root.join(relative), false)?;
    }
    if let Some(runtime) = &staged.runtime {
        link_or_copy(runtime, &root.join(RUNTIME), true)?;
    }
    for (relative, downloaded) in &downloads {
        link_or_copy(downloaded, &root.join(relative), false)?;
    }
    Ok(cnab)
}

/// The files a staged `.cnab/` holds, and the directories above them.
#[derive(Default)]
struct Expected {
    files: BTreeSet<PathBuf>,
    dirs: BTreeSet<PathBuf>,
}

impl Expected {
    fn add(&mut self, relative: &str) {
        let mut path = Path::new(relative);
        self.files.insert(path.to_path_buf());
        while let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.dirs.insert(parent.to_path_buf());
            path = parent;
        }
    }

    /// Removes from a reused spare everything but the expected files and
    /// directories, as such (not links): a mixin the bundle no longer
    /// declares, a runtime since uninstalled, anything put there by hand.
    fn remove_others(&self, root: &Path, relative: &Path) -> Result<()> {
        let dir = root.join(relative);
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let path = relative.join(entry.file_name());
            let kind = entry.file_type().ok();
            if self.dirs.contains(&path) && kind.is_some_and(|k| k.is_dir()) {
                self.remove_others(root, &path)?;
            } else if !(self.files.contains(&path) && kind.is_some_and(|k| k.is_file())) {
                clear(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Whether `path` is a file holding exactly `bytes` with the mode porter
/// gives such a file.
fn holds(path: &Path, bytes: &[u8], executable: bool) -> bool {
    let same_mode = std::fs::symlink_metadata(path).is_ok_and(|meta| {
        meta.is_file()
            && meta.len() == bytes.len() as u64
            && crate::fsmeta::is_executable(&meta) == executable
    });
    same_mode && std::fs::read(path).ok().as_deref() == Some(bytes)
}

/// Hard-links `from` to `to`, making `to`'s directory when needed.
fn link(from: &Path, to: &Path) -> bool {
    to.parent()
        .is_some_and(|parent| std::fs::create_dir_all(parent).is_ok())
        && std::fs::hard_link(from, to).is_ok()
}

/// Removes whatever is at `path` (a file, a link, a directory), if anything.
fn clear(path: &Path) -> Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    removed.with_context(|| format!("cannot replace {}", path.display()))
}

impl StagedCnab {
    /// Where the staged `.cnab/` is until it is committed.
    pub fn path(&self) -> &Path {
        self.staging
            .as_deref()
            .expect("a staged .cnab has a path until committed")
    }

    /// Replaces the staged bundle.json (to record the built image).
    pub fn replace_bundle_json(&self, bytes: &[u8]) -> Result<()> {
        write(&self.path().join("bundle.json"), bytes, false)
    }

    /// Swaps the staged directory in as `bundle_dir/.cnab`; the previous
    /// `.cnab/` becomes its spare.
    pub fn commit(mut self) -> Result<PathBuf> {
        let cnab = self.bundle_dir.join(".cnab");
        let previous = if cnab.exists() {
            let aside = self
                .bundle_dir
                .join(format!(".cnab-previous-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&aside);
            std::fs::rename(&cnab, &aside)
                .with_context(|| format!("cannot replace {}", cnab.display()))?;
            Some(aside)
        } else {
            None
        };
        let staged_dir = self.path().to_path_buf();
        if let Err(e) = std::fs::rename(&staged_dir, &cnab) {
            if let Some(aside) = &previous {
                let _ = std::fs::rename(aside, &cnab);
            }
            return Err(e).with_context(|| format!("cannot write {}", cnab.display()));
        }
        self.staging = None;
        if let Some(aside) = previous {
            // A spare of its own (one this build could not take) would
            // nest one build deeper every time.
            let _ = std::fs::remove_dir_all(aside.join(SPARE));
            if std::fs::rename(&aside, cnab.join(SPARE)).is_err() {
                let _ = std::fs::remove_dir_all(aside);
            }
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
/// across filesystems, copied. A spare that already links the same file
/// keeps it.
fn link_or_copy(from: &Path, to: &Path, executable: bool) -> Result<()> {
    let source = std::fs::metadata(from);
    if let (Ok(source), Ok(existing)) = (&source, std::fs::symlink_metadata(to))
        && same_file(source, &existing)
    {
        return Ok(());
    }
    clear(to)?;
    let mode_fits = source.is_ok_and(|meta| crate::fsmeta::is_executable(&meta) == executable);
    if mode_fits && link(from, to) {
        return Ok(());
    }
    copy(from, to, executable)
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_a: &std::fs::Metadata, _b: &std::fs::Metadata) -> bool {
    false
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
            downloads: Vec::new(),
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

    fn with_mixins<'a>(bundle_json: &'a [u8], mixins: &[(&str, &Path)]) -> Staged<'a> {
        Staged {
            mixins: mixins
                .iter()
                .map(|(name, path)| StagedMixin {
                    name: name.to_string(),
                    wasm: path.to_path_buf(),
                    compiled: None,
                })
                .collect(),
            ..staged(bundle_json)
        }
    }

    #[test]
    fn the_build_before_is_the_next_staging_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = tempfile::tempdir().unwrap();
        let (a, b) = (store.path().join("a.wasm"), store.path().join("b.wasm"));
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let both = [("a", a.as_path()), ("b", b.as_path())];
        let cnab = stage(dir.path(), &with_mixins(b"1", &both))
            .unwrap()
            .commit()
            .unwrap();
        assert!(
            !cnab.join(SPARE).exists(),
            "nothing to keep after a first build"
        );
        let first_app = inode(&cnab.join("app"));
        let cnab = stage(dir.path(), &with_mixins(b"2", &both))
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(inode(&cnab.join(SPARE).join("app")), first_app);

        // The third build stages in the first's directories, without what
        // the bundle dropped (mixin b) and with what changed.
        let third = stage(dir.path(), &with_mixins(b"3", &both[..1])).unwrap();
        assert_eq!(inode(&third.path().join("app")), first_app);
        assert!(!cnab.join(SPARE).exists(), "the spare was taken");
        assert_eq!(inode(&third.path().join("app/mixins/a.wasm")), inode(&a));
        assert!(!third.path().join("app/mixins/b.wasm").exists());
        assert_eq!(
            std::fs::read(third.path().join("bundle.json")).unwrap(),
            b"3"
        );
        let cnab = third.commit().unwrap();
        assert_eq!(
            tree_names(&cnab),
            [".spare", "Dockerfile", "app", "bundle.json"],
            "{cnab:?}"
        );
        assert_eq!(tree_names(dir.path()), [".cnab"]);
    }

    #[test]
    fn a_spare_is_reused_only_as_porter_left_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("precious"), "keep me").unwrap();
        let cnab = stage(dir.path(), &staged(b"1")).unwrap().commit().unwrap();
        let spare = cnab.join(SPARE);
        std::fs::create_dir_all(spare.join("stray/old")).unwrap();
        std::fs::write(spare.join("stray/old/old.wasm"), "x").unwrap();
        std::fs::write(spare.join("notes.txt"), "x").unwrap();
        // Links out of the bundle where porter writes: writing through them
        // would land outside.
        std::os::unix::fs::symlink(outside.path(), spare.join("app")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("precious"), spare.join("Dockerfile"))
            .unwrap();

        let next = stage(dir.path(), &staged(b"2")).unwrap();
        assert!(
            std::fs::symlink_metadata(next.path().join("app"))
                .unwrap()
                .is_dir()
        );
        assert_eq!(
            tree_names(next.path()),
            ["Dockerfile", "app", "bundle.json"]
        );
        assert_eq!(tree_names(&next.path().join("app")), ["porter.yaml", "run"]);
        assert_eq!(tree_names(outside.path()), ["precious"]);
        assert_eq!(
            std::fs::read_to_string(outside.path().join("precious")).unwrap(),
            "keep me"
        );
    }

    fn tree_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}
