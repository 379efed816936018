//! The build context: a tar stream of the bundle directory (with the staged
//! `.cnab/`), filtered by `.dockerignore` with Docker's rules, written
//! straight to any `Write` (file contents are copied through, never held in
//! memory), and deterministic: entries in byte order, times and owners
//! zeroed, modes reduced to 0644 / 0755, so the same inputs give the same
//! bytes and the engine's layer cache hits.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::fsmeta::is_executable;
use anyhow::{Context, Result, bail};

use super::dockerignore::DockerIgnore;

/// What went into a context.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ContextStats {
    pub files: u64,
    pub bytes: u64,
}

/// Writes the context of `dir` to `out`, with `cnab` sent as `.cnab/` (the
/// build's staged directory, swapped into `dir` only once the image is
/// built). `dockerfile` (relative, `/` separated) and `.dockerignore` are
/// always sent, as Docker sends them.
pub fn write_context(
    dir: &Path,
    cnab: &Path,
    dockerfile: &str,
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
        always: [dockerfile.to_string(), ".dockerignore".to_string()],
        stats: ContextStats::default(),
        pending_dirs: Vec::new(),
        cnab: cnab.to_path_buf(),
    };
    writer.walk(dir, "")?;
    writer
        .tar
        .finish()
        .context("cannot finish the build context")?;
    Ok(writer.stats)
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
    always: [String; 2],
    stats: ContextStats,
    /// Excluded directories that may still hold re-included files: their
    /// entries are written before the first such file.
    pending_dirs: Vec<String>,
    /// What is sent as `.cnab/`.
    cnab: std::path::PathBuf,
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
        let mut entries: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())))
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("cannot read {}", dir.display()))?;
        if prefix.is_empty() {
            entries.retain(|(name, _)| !is_porter_staging(name));
            if self.cnab.is_dir() {
                entries.push((".cnab".to_string(), self.cnab.clone()));
            }
        }
        entries.sort();
        for (name, path) in entries {
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
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
                    self.append_dir(&relative)?;
                }
                self.walk(&path, &relative)?;
                if self.pending_dirs.last() == Some(&relative) {
                    self.pending_dirs.pop();
                }
            } else if !excluded {
                self.flush_pending_dirs(&relative)?;
                if meta.file_type().is_symlink() {
                    self.append_symlink(&relative, &path)?;
                } else if meta.is_file() {
                    self.append_file(&relative, &path, &meta)?;
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
            self.append_dir(&dir)?;
            self.pending_dirs.retain(|d| d != &dir);
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

    fn append_dir(&mut self, relative: &str) -> Result<()> {
        let mut header = Self::header(tar::EntryType::Directory, 0o755, 0);
        self.tar
            .append_data(&mut header, format!("{relative}/"), std::io::empty())
            .with_context(|| format!("cannot add {relative} to the build context"))
    }

    fn append_file(&mut self, relative: &str, path: &Path, meta: &std::fs::Metadata) -> Result<()> {
        let mode = if is_executable(meta) { 0o755 } else { 0o644 };
        let mut header = Self::header(tar::EntryType::Regular, mode, meta.len());
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        // Read in large blocks (io::copy uses a BufRead's own buffer): a
        // big file goes out in a few thousand reads, not 8 KiB at a time.
        let file = std::io::BufReader::with_capacity(256 * 1024, file);
        self.tar
            .append_data(&mut header, relative, file)
            .with_context(|| format!("cannot add {relative} to the build context"))?;
        self.stats.files += 1;
        self.stats.bytes += meta.len();
        Ok(())
    }

    fn append_symlink(&mut self, relative: &str, path: &Path) -> Result<()> {
        let target = std::fs::read_link(path)
            .with_context(|| format!("cannot read the link {}", path.display()))?;
        let mut header = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.tar
            .append_link(&mut header, relative, &target)
            .with_context(|| format!("cannot add {relative} to the build context"))?;
        self.stats.files += 1;
        Ok(())
    }
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

    /// The entry names of the context of `dir` with `cnab` sent as .cnab/.
    fn context_names(
        dir: &Path,
        cnab: &str,
        dockerfile: &str,
    ) -> (Vec<String>, Vec<u8>, ContextStats) {
        let mut out = Vec::new();
        let stats = write_context(dir, &dir.join(cnab), dockerfile, &mut out).unwrap();
        let names = entries(&out).into_iter().map(|(n, _)| n).collect();
        (names, out, stats)
    }

    fn context(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        write_context(dir, &dir.join(".cnab"), ".cnab/Dockerfile", &mut out).unwrap();
        out
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
    fn dockerignore_rules_apply_but_the_dockerfile_and_dockerignore_are_sent() {
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
            ("build/Dockerfile", "FROM x"),
            ("build/other", "o"),
            ("porter.yaml", "x"),
            (".cnab/bundle.json", "{}"),
        ]);
        let (names, _, stats) = context_names(dir.path(), ".cnab", "build/Dockerfile");
        assert_eq!(
            names,
            [
                ".cnab/",
                ".cnab/bundle.json",
                ".dockerignore",
                "README.md",
                "build/",
                "build/Dockerfile",
                "logs/",
                "logs/keep.log",
                "porter.yaml"
            ]
        );
        // bundle.json, .dockerignore, README.md, Dockerfile, keep.log, porter.yaml
        assert_eq!(
            stats,
            ContextStats {
                files: 6,
                bytes: 2 + 67 + 1 + 6 + 1 + 1
            }
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
            let err = write_context(
                dir.path(),
                &dir.path().join(".cnab"),
                ".cnab/Dockerfile",
                Vec::new(),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains("a rule excludes .cnab/"), "{rules:?}: {err}");
        }
        let dir = bundle(&[
            (".dockerignore", "*\n!.cnab\n!porter.yaml\n"),
            (".cnab/bundle.json", "{}"),
            ("porter.yaml", "x"),
        ]);
        write_context(
            dir.path(),
            &dir.path().join(".cnab"),
            ".cnab/Dockerfile",
            Vec::new(),
        )
        .unwrap();
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
        let (names, out, _) = context_names(dir.path(), ".cnab-staging-abc", ".cnab/Dockerfile");
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
            write_context(
                dir.path(),
                &dir.path().join(".cnab"),
                ".cnab/Dockerfile",
                Vec::new()
            )
            .unwrap_err()
        );
        assert!(err.contains(".dockerignore line 2"), "{err}");
    }
}
