//! The build context: a tar stream written straight to any `Write` (file
//! contents are copied through, never held in memory), filtered by
//! `.dockerignore` with Docker's rules, and deterministic: entries in byte
//! order, times and owners zeroed, modes reduced to those porter gives, so
//! the same inputs give the same bytes and the engine's layer cache hits.
//!
//! Two layouts ([`ContextLayout`]): the bundle directory at the root with
//! the staged `.cnab/` beside its files (modes 0644 / 0755, as Docker's CLI
//! sends them), or split into the two trees the generated Dockerfile copies
//! to `/cnab`, with the group given the owner's permissions (0664 / 0775).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dockerfile::{BUNDLE_TREE, ContextLayout, RUNTIME_TREE};
use crate::fsmeta::is_executable;
use anyhow::{Context, Result, bail};

use super::dockerignore::DockerIgnore;

/// What went into a context.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ContextStats {
    pub files: u64,
    pub bytes: u64,
}

/// Writes the context of the bundle directory `dir` to `out`, laid out as
/// `layout` says, with `cnab` as porter's staged directory (the build's
/// `.cnab/`, swapped into `dir` only once the image is built).
pub fn write_context(
    dir: &Path,
    cnab: &Path,
    layout: &ContextLayout,
    out: impl Write,
) -> Result<ContextStats> {
    let ignore = read_dockerignore(dir)?;
    if ignore.may_exclude_under(".cnab") {
        bail!(
            "{}: a rule excludes .cnab/, which porter copies into the image (Dockerfile, bundle.json, mixins); \
             remove or narrow that rule, or add `!.cnab` after it",
            dir.join(".dockerignore").display()
        );
    }
    let mut writer = ContextWriter {
        tar: tar::Builder::new(out),
        ignore,
        always: Vec::new(),
        stats: ContextStats::default(),
        pending_dirs: Vec::new(),
        cnab: None,
        prefix: String::new(),
        group_writable: false,
        porter_owns: BTreeMap::new(),
        left_out: None,
    };
    match layout {
        ContextLayout::BundleAtRoot => {
            // Docker's CLI always sends it (and the Dockerfile, under
            // `.cnab/`, which no rule may exclude); the engine drops it
            // when it is ignored.
            writer.always = vec![".dockerignore".to_string()];
            writer.cnab = Some(cnab.to_path_buf());
            writer.walk(dir, "")?;
        }
        ContextLayout::Split { manifest } => {
            writer.group_writable = true;
            writer.write_staged(cnab)?;
            writer.prefix = format!("{BUNDLE_TREE}/app/");
            writer.left_out = manifest.clone();
            writer.walk(dir, "")?;
        }
    }
    writer
        .tar
        .finish()
        .context("cannot finish the build context")?;
    Ok(writer.stats)
}

/// Where a file of the staged `.cnab/` goes in the split layout: the
/// runtime and mixins in [`RUNTIME_TREE`], the rest in [`BUNDLE_TREE`].
fn staged_tree(relative: &str) -> &'static str {
    let in_dir = |dir: &str| {
        relative == dir
            || relative
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if in_dir("app/runtimes") || in_dir("app/mixins") {
        RUNTIME_TREE
    } else {
        BUNDLE_TREE
    }
}

fn read_dockerignore(dir: &Path) -> Result<DockerIgnore> {
    let path = dir.join(".dockerignore");
    match std::fs::read_to_string(&path) {
        Ok(text) => DockerIgnore::parse(&text).with_context(|| format!("in {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerIgnore::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

struct ContextWriter<W: Write> {
    tar: tar::Builder<W>,
    ignore: DockerIgnore,
    /// Sent whatever `.dockerignore` says.
    always: Vec<String>,
    stats: ContextStats,
    /// Excluded directories that may still hold re-included files: their
    /// entries are written before the first such file.
    pending_dirs: Vec<String>,
    /// What is sent as `.cnab/` among the bundle's files (bundle at root).
    cnab: Option<PathBuf>,
    /// Put before each bundle file's path in the tar.
    prefix: String,
    /// Modes with the group's permissions equal to the owner's.
    group_writable: bool,
    /// Split layout: what porter's staged `app/` holds (path -> is a
    /// directory). A bundle file there is left out, as porter's copy
    /// replaced it in Porter's image; a directory both have is merged.
    porter_owns: BTreeMap<String, bool>,
    /// The author's manifest, left out (split layout).
    left_out: Option<String>,
}

/// Porter's own entries at the top of the bundle directory: the last
/// build's `.cnab/`, the directories a build stages in (the context gets the
/// `.cnab/` of the build in progress instead), and porter.lock, which says
/// what the build used and is no part of the bundle.
fn is_porter_staging(name: &str) -> bool {
    name == ".cnab"
        || name.starts_with(".cnab-staging-")
        || name.starts_with(".cnab-previous-")
        || name == crate::lock::LOCK_FILE
}

impl<W: Write> ContextWriter<W> {
    fn walk(&mut self, dir: &Path, prefix: &str) -> Result<()> {
        let mut entries = sorted_entries(dir)?;
        if prefix.is_empty() {
            entries.retain(|(name, _)| !is_porter_staging(name));
            if let Some(cnab) = self.cnab.as_ref().filter(|c| c.is_dir()) {
                entries.push((".cnab".to_string(), cnab.clone()));
            }
        }
        entries.sort();
        for (name, path) in entries {
            let (relative, meta) = child(prefix, name, &path)?;
            if self.replaced_by_porter(&relative, meta.is_dir()) {
                continue;
            }
            let excluded = self.ignore.matches(&relative) && !self.always.contains(&relative);
            if meta.is_dir() {
                let holds_always_sent = self
                    .always
                    .iter()
                    .any(|a| a.starts_with(&format!("{relative}/")));
                if excluded && self.ignore.can_skip_dir(&relative) && !holds_always_sent {
                    continue;
                }
                if excluded {
                    self.pending_dirs.push(relative.clone());
                } else {
                    self.flush_pending_dirs(&relative)?;
                    self.append_bundle_dir(&relative)?;
                }
                self.walk(&path, &relative)?;
                if self.pending_dirs.last() == Some(&relative) {
                    self.pending_dirs.pop();
                }
            } else if !excluded {
                self.flush_pending_dirs(&relative)?;
                let name = self.name(&relative);
                if meta.file_type().is_symlink() {
                    self.append_symlink(&name, &path)?;
                } else if meta.is_file() {
                    self.append_file(&name, &path, &meta)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the excluded parents of an entry that is sent.
    fn flush_pending_dirs(&mut self, entry: &str) -> Result<()> {
        let parents: Vec<String> = self
            .pending_dirs
            .iter()
            .filter(|d| entry.starts_with(&format!("{d}/")))
            .cloned()
            .collect();
        for dir in parents {
            self.append_bundle_dir(&dir)?;
            self.pending_dirs.retain(|d| d != &dir);
        }
        Ok(())
    }

    /// Split layout: whether the bundle's entry `relative` is left out
    /// because the image has porter's file there (a directory both have
    /// is kept, and merged), or because it is the author's manifest.
    fn replaced_by_porter(&self, relative: &str, is_dir: bool) -> bool {
        if self.left_out.as_deref() == Some(relative) {
            return true;
        }
        match self.porter_owns.get(relative) {
            Some(&porter_dir) => !(porter_dir && is_dir),
            None => false,
        }
    }

    /// Split layout: porter's staged directory, each entry in its tree
    /// (`staged_tree`), both trees' `app/` first; records what `app/`
    /// holds for [`Self::replaced_by_porter`].
    fn write_staged(&mut self, cnab: &Path) -> Result<()> {
        let mut staged = Vec::new();
        list_tree(cnab, "", &mut staged)?;
        for tree in [RUNTIME_TREE, BUNDLE_TREE] {
            self.append_dir(tree)?;
            self.append_dir(&format!("{tree}/app"))?;
        }
        for (relative, path, meta) in &staged {
            if let Some(inside_app) = relative.strip_prefix("app/") {
                self.porter_owns
                    .insert(inside_app.to_string(), meta.is_dir());
            }
            if relative == "app" {
                continue;
            }
            let name = format!("{}/{relative}", staged_tree(relative));
            if meta.is_dir() {
                self.append_dir(&name)?;
            } else if meta.file_type().is_symlink() {
                self.append_symlink(&name, path)?;
            } else if meta.is_file() {
                self.append_file(&name, path, meta)?;
            }
        }
        Ok(())
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header
    }

    /// `mode` as sent: the group gets the owner's permissions in the split
    /// layout.
    fn mode(&self, mode: u32) -> u32 {
        if self.group_writable {
            mode | ((mode & 0o700) >> 3)
        } else {
            mode
        }
    }

    /// The bundle's entry `relative` as named in the tar.
    fn name(&self, relative: &str) -> String {
        format!("{}{relative}", self.prefix)
    }

    fn append_bundle_dir(&mut self, relative: &str) -> Result<()> {
        self.append_dir(&self.name(relative))
    }

    fn append_dir(&mut self, name: &str) -> Result<()> {
        let mut header = Self::header(tar::EntryType::Directory, self.mode(0o755), 0);
        self.tar
            .append_data(&mut header, format!("{name}/"), std::io::empty())
            .with_context(|| format!("cannot add {name} to the build context"))
    }

    fn append_file(&mut self, name: &str, path: &Path, meta: &std::fs::Metadata) -> Result<()> {
        let mode = self.mode(if is_executable(meta) { 0o755 } else { 0o644 });
        let mut header = Self::header(tar::EntryType::Regular, mode, meta.len());
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        // Read in large blocks (io::copy uses a BufRead's own buffer): a
        // big file goes out in a few thousand reads, not 8 KiB at a time.
        let file = std::io::BufReader::with_capacity(256 * 1024, file);
        self.tar
            .append_data(&mut header, name, file)
            .with_context(|| format!("cannot add {name} to the build context"))?;
        self.stats.files += 1;
        self.stats.bytes += meta.len();
        Ok(())
    }

    fn append_symlink(&mut self, name: &str, path: &Path) -> Result<()> {
        let target = std::fs::read_link(path)
            .with_context(|| format!("cannot read the link {}", path.display()))?;
        let mut header = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.tar
            .append_link(&mut header, name, &target)
            .with_context(|| format!("cannot add {name} to the build context"))?;
        self.stats.files += 1;
        Ok(())
    }
}

/// The entries of `dir`: name and path, in byte order of the names.
fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

/// The entry `name` of the directory at `prefix` (relative, `/`
/// separated): its relative path and metadata (a link not followed).
fn child(prefix: &str, name: String, path: &Path) -> Result<(String, std::fs::Metadata)> {
    let relative = if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    };
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((relative, meta))
}

/// Every entry under `dir` (directories before what they hold, names in
/// byte order), each with its path relative to `dir` and its metadata
/// (links not followed).
fn list_tree(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf, std::fs::Metadata)>,
) -> Result<()> {
    for (name, path) in sorted_entries(dir)? {
        let (relative, meta) = child(prefix, name, &path)?;
        let is_dir = meta.is_dir();
        out.push((relative.clone(), path.clone(), meta));
        if is_dir {
            list_tree(&path, &relative, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        dir
    }

    fn entries(bytes: &[u8]) -> Vec<(String, u32)> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect()
    }

    const ROOT: ContextLayout = ContextLayout::BundleAtRoot;

    fn split() -> ContextLayout {
        ContextLayout::Split {
            manifest: Some("porter.yaml".into()),
        }
    }

    /// The entry names of the context of `dir` with `cnab` as the staged
    /// directory.
    fn context_names(
        dir: &Path,
        cnab: &str,
        layout: &ContextLayout,
    ) -> (Vec<String>, Vec<u8>, ContextStats) {
        let mut out = Vec::new();
        let stats = write_context(dir, &dir.join(cnab), layout, &mut out).unwrap();
        let names = entries(&out).into_iter().map(|(n, _)| n).collect();
        (names, out, stats)
    }

    fn context(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        write_context(dir, &dir.join(".cnab"), &ROOT, &mut out).unwrap();
        out
    }

    /// The content of entry `name`.
    fn content(tar: &[u8], name: &str) -> String {
        let mut archive = tar::Archive::new(tar);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_str() == Some(name) {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
                return text;
            }
        }
        panic!("{name} is not in the context")
    }

    #[test]
    fn same_inputs_same_bytes_whatever_the_times() {
        let dir = bundle(&[
            ("porter.yaml", "x"),
            ("b/c.txt", "c"),
            (".cnab/Dockerfile", "FROM x"),
        ]);
        let first = context(dir.path());
        std::fs::write(dir.path().join("b/c.txt"), "c").unwrap(); // new mtime, same content
        assert_eq!(context(dir.path()), first);
    }

    #[test]
    fn dockerignore_rules_apply_but_dockerignore_is_sent() {
        let dir = bundle(&[
            (
                ".dockerignore",
                "*.md\n!README.md\nsecrets\nbuild\nlogs/**\n!logs/keep.log\n.dockerignore\n",
            ),
            ("README.md", "r"),
            ("NOTES.md", "n"),
            ("secrets/key", "k"),
            ("logs/a.log", "a"),
            ("logs/keep.log", "k"),
            ("build/other", "o"),
            ("porter.yaml", "x"),
            (".cnab/bundle.json", "{}"),
            (".cnab/Dockerfile", "FROM x"),
        ]);
        let (names, _, stats) = context_names(dir.path(), ".cnab", &ROOT);
        assert_eq!(
            names,
            [
                ".cnab/",
                ".cnab/Dockerfile",
                ".cnab/bundle.json",
                ".dockerignore",
                "README.md",
                "logs/",
                "logs/keep.log",
                "porter.yaml"
            ]
        );
        // Dockerfile, bundle.json, .dockerignore, README.md, keep.log, porter.yaml
        assert_eq!(
            stats,
            ContextStats {
                files: 6,
                bytes: 6 + 2 + 67 + 1 + 1 + 1
            }
        );
        // Split, .dockerignore is one of the bundle's files: the engine
        // would have dropped it, as it ignores itself.
        let (names, _, _) = context_names(dir.path(), ".cnab", &split());
        let bundle_files: Vec<&str> = names
            .iter()
            .filter_map(|n| n.strip_prefix("porter-bundle/app/"))
            .filter(|n| !n.is_empty())
            .collect();
        assert_eq!(bundle_files, ["README.md", "logs/", "logs/keep.log"]);
    }

    /// A staged `.cnab/` as a build leaves it.
    const STAGED: [(&str, &str); 6] = [
        (".cnab/Dockerfile", "FROM x"),
        (".cnab/bundle.json", "{}"),
        (".cnab/app/run", "#!/bin/sh"),
        (".cnab/app/porter.yaml", "canonical"),
        (".cnab/app/runtimes/porter-runtime", "runtime"),
        (".cnab/app/mixins/exec.wasm", "wasm"),
    ];

    #[test]
    fn split_the_runtime_and_mixins_then_the_bundle_laid_out_as_cnab() {
        use std::os::unix::fs::PermissionsExt;
        let mut files = STAGED.to_vec();
        files.extend([
            ("porter.yaml", "the author's"),
            ("helpers.sh", "#!/bin/sh"),
            ("data/values.txt", "v"),
        ]);
        let dir = bundle(&files);
        for exe in [
            "helpers.sh",
            ".cnab/app/run",
            ".cnab/app/runtimes/porter-runtime",
        ] {
            std::fs::set_permissions(dir.path().join(exe), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        std::os::unix::fs::symlink("helpers.sh", dir.path().join("link")).unwrap();
        let mut out = Vec::new();
        write_context(dir.path(), &dir.path().join(".cnab"), &split(), &mut out).unwrap();
        let found: Vec<(String, u32)> = entries(&out);
        let expected: Vec<(String, u32)> = [
            ("porter-runtime/", 0o775),
            ("porter-runtime/app/", 0o775),
            ("porter-bundle/", 0o775),
            ("porter-bundle/app/", 0o775),
            ("porter-bundle/Dockerfile", 0o664),
            ("porter-runtime/app/mixins/", 0o775),
            ("porter-runtime/app/mixins/exec.wasm", 0o664),
            ("porter-bundle/app/porter.yaml", 0o664),
            ("porter-bundle/app/run", 0o775),
            ("porter-runtime/app/runtimes/", 0o775),
            ("porter-runtime/app/runtimes/porter-runtime", 0o775),
            ("porter-bundle/bundle.json", 0o664),
            ("porter-bundle/app/data/", 0o775),
            ("porter-bundle/app/data/values.txt", 0o664),
            ("porter-bundle/app/helpers.sh", 0o775),
            ("porter-bundle/app/link", 0o777),
        ]
        .map(|(n, m)| (n.to_string(), m))
        .to_vec();
        assert_eq!(found, expected);
        // The author's manifest is left out: the canonical one is sent.
        assert_eq!(content(&out, "porter-bundle/app/porter.yaml"), "canonical");
        assert_eq!(
            write_context(dir.path(), &dir.path().join(".cnab"), &split(), Vec::new()).unwrap(),
            ContextStats {
                files: 9,
                bytes: (6 + 2 + 9 + 9 + 7 + 4) + (1 + 9)
            }
        );
    }

    #[test]
    fn split_porters_files_replace_the_bundles_and_directories_merge() {
        let mut files = STAGED.to_vec();
        files.extend([
            // Where porter has a file or the bundle a file, porter's is
            // sent, as its copy over the bundle left it in Porter's image.
            ("run/inside", "a directory where porter has a file"),
            ("runtimes", "a file where porter has a directory"),
            ("mixins/exec.wasm", "the author's wasm"),
            // A directory both have is merged.
            ("mixins/notes.txt", "n"),
            // Not porter's: porter's bundle.json is /cnab/bundle.json, and
            // only the manifest porter.yaml names is left out.
            ("bundle.json", "the author's"),
            ("sub/porter.yaml", "kept"),
        ]);
        let dir = bundle(&files);
        let (names, out, _) = context_names(dir.path(), ".cnab", &split());
        let bundle_files: Vec<&str> = names
            .iter()
            .filter_map(|n| n.strip_prefix("porter-bundle/app/"))
            .filter(|n| !n.is_empty())
            .collect();
        assert_eq!(
            bundle_files,
            [
                "porter.yaml",
                "run",
                "bundle.json",
                "mixins/",
                "mixins/notes.txt",
                "sub/",
                "sub/porter.yaml"
            ]
        );
        assert_eq!(content(&out, "porter-bundle/app/run"), "#!/bin/sh");
        assert_eq!(content(&out, "porter-runtime/app/mixins/exec.wasm"), "wasm");
        assert_eq!(
            content(&out, "porter-bundle/app/bundle.json"),
            "the author's"
        );
    }

    #[test]
    fn modes_are_normalized_and_exec_bits_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = bundle(&[("run.sh", "#!/bin/sh"), ("data", "d")]);
        std::fs::set_permissions(
            dir.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        std::fs::set_permissions(
            dir.path().join("data"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::os::unix::fs::symlink("data", dir.path().join("link")).unwrap();
        let found = entries(&context(dir.path()));
        assert_eq!(
            found,
            [
                ("data".to_string(), 0o644),
                ("link".to_string(), 0o777),
                ("run.sh".to_string(), 0o755)
            ]
        );
    }

    #[test]
    fn a_dockerignore_that_drops_cnab_is_refused() {
        for rules in [".cnab\n", ".*\n", "**/*.json\n"] {
            let dir = bundle(&[(".dockerignore", rules), (".cnab/bundle.json", "{}")]);
            let err = write_context(dir.path(), &dir.path().join(".cnab"), &ROOT, Vec::new())
                .unwrap_err()
                .to_string();
            assert!(err.contains("a rule excludes .cnab/"), "{rules:?}: {err}");
        }
        let dir = bundle(&[
            (".dockerignore", "*\n!.cnab\n!porter.yaml\n"),
            (".cnab/bundle.json", "{}"),
            ("porter.yaml", "x"),
        ]);
        write_context(dir.path(), &dir.path().join(".cnab"), &ROOT, Vec::new()).unwrap();
    }

    #[test]
    fn the_staged_cnab_is_sent_as_cnab_and_old_builds_are_not() {
        let dir = bundle(&[
            ("porter.yaml", "x"),
            (".cnab/bundle.json", "old"),
            (".cnab-previous-12/bundle.json", "older"),
            (".cnab-staging-abc/bundle.json", "new"),
            (".cnab-staging-abc/Dockerfile", "FROM x"),
        ]);
        let (names, out, _) = context_names(dir.path(), ".cnab-staging-abc", &ROOT);
        assert_eq!(
            names,
            [
                ".cnab/",
                ".cnab/Dockerfile",
                ".cnab/bundle.json",
                "porter.yaml"
            ]
        );
        let mut archive = tar::Archive::new(&out[..]);
        let mut bundle_json = String::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().ends_with("bundle.json") {
                std::io::Read::read_to_string(&mut entry, &mut bundle_json).unwrap();
            }
        }
        assert_eq!(bundle_json, "new");
    }

    #[test]
    fn a_bad_dockerignore_says_where() {
        let dir = bundle(&[(".dockerignore", "ok\nbuild/[abc\n")]);
        let err = format!(
            "{:#}",
            write_context(dir.path(), &dir.path().join(".cnab"), &ROOT, Vec::new()).unwrap_err()
        );
        assert!(err.contains(".dockerignore line 2"), "{err}");
    }
}
