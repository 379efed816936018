//! The bundle directory's files, as the up-to-date check counts them:
//! Porter's rules (hidden entries and `.cnab`, `.git`, `node_modules`,
//! `.porter`, `vendor` are skipped) and porter.lock at the top, each with
//! its content hash and executable bit.

use std::io::Read;
use std::path::Path;

use crate::fsmeta::is_executable;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cnab::BundleFile;

const SKIPPED_DIRS: [&str; 2] = ["node_modules", "vendor"];

/// Every regular file under `dir`, by relative path. Symbolic links are
/// followed only if they point at files (as Docker's context does).
pub fn bundle_files(dir: &Path) -> Result<Vec<BundleFile>> {
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, files: &mut Vec<BundleFile>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // porter.lock is what the build used (the stamp covers each mixin's
        // digest); the build writes it, so counting it would make the next
        // build look changed.
        if name.starts_with('.') || (prefix.is_empty() && name == crate::lock::LOCK_FILE) {
            continue;
        }
        let path = entry.path();
        let relative = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let meta =
            std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            if SKIPPED_DIRS.contains(&name.as_str()) {
                continue;
            }
            walk(&path, &relative, files)?;
        } else if meta.is_file() {
            files.push(BundleFile {
                path: relative,
                sha256: sha256_file(&path)?,
                executable: is_executable(&meta),
            });
        }
    }
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
