//! The manifest's `files:` fetched for a build, before the up-to-date check
//! (their bytes are part of the stamp). Each file is downloaded into
//! PORTER_HOME's `cache/downloads/` under a temporary name, hashed as it
//! arrives, checked against its `digest` when the entry gives one, and only
//! then renamed to `sha256-<hex>`: nothing half-written is ever named, and
//! the bundle directory is never written. Staging links each file into
//! `.cnab/app/<destination>`.
//!
//! An entry with a `digest` whose file is already in the cache (and still
//! hashes to it) is not downloaded again.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::download::{Downloader, HttpStatus, Limit, Progress, Sink, Url};
use crate::manifest::FileSource;

/// The largest file `files:` may download unless the build says otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;

/// One downloaded file, as the stamp and the staging use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub destination: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// In the cache.
    pub path: PathBuf,
}

/// Refuses `files:` unless downloads are allowed: before anything is
/// downloaded or written, naming every file and how to allow them.
pub fn check_allowed(files: &[FileSource], allowed: bool) -> Result<()> {
    if files.is_empty() || allowed {
        return Ok(());
    }
    let listed: Vec<String> = files
        .iter()
        .map(|f| format!("  - {} => {}", f.url, f.destination))
        .collect();
    bail!(
        "porter build --allow-file-downloads is required to download files declared in the \
         manifest:\n{}\nrerun with --allow-file-downloads (or set allow-file-downloads: true \
         in PORTER_HOME's config file, or PORTER_ALLOW_FILE_DOWNLOADS=true) to let porter \
         download them",
        listed.join("\n")
    )
}

/// Downloads each file (or finds it in the cache) in `cache_dir`.
pub fn download_all(
    files: &[FileSource],
    cache_dir: &Path,
    progress: Progress,
    max_bytes: u64,
) -> Result<Vec<Downloaded>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let downloader = Downloader::new(progress)?;
    let limit = Limit {
        bytes: max_bytes,
        // PORTER_MAX_FILE_DOWNLOAD_BYTES raises it: said in the message.
        what: "the files: download limit (PORTER_MAX_FILE_DOWNLOAD_BYTES)",
    };
    files
        .iter()
        .map(|file| {
            download_one(file, cache_dir, &downloader, limit).with_context(|| {
                format!(
                    "cannot download {} (files: destination {}); .cnab/ is left as it was",
                    file.url, file.destination
                )
            })
        })
        .collect()
}

fn download_one(
    file: &FileSource,
    cache_dir: &Path,
    downloader: &Downloader,
    limit: Limit,
) -> Result<Downloaded> {
    let cached = |hex: &str| cache_dir.join(format!("sha256-{hex}"));
    let found = |sha256: String, path: PathBuf| Downloaded {
        destination: file.destination.clone(),
        sha256,
        path,
    };
    if let Some(expected) = &file.sha256
        && sha256_of(&cached(expected)).is_ok_and(|actual| &actual == expected)
    {
        return Ok(found(expected.clone(), cached(expected)));
    }
    let url = Url::parse(&file.url).with_context(|| format!("{} is not a URL", file.url))?;
    let mut sink = HashingFile::new(cache_dir)?;
    downloader.fetch(&url, limit, &mut sink).map_err(|e| {
        let refused = e
            .downcast_ref::<HttpStatus>()
            .map(|s| s.status)
            .filter(|status| (400..500).contains(status));
        match refused {
            Some(status) => e.context(format!(
                "the server refused the file (HTTP {status}): check the url in porter.yaml"
            )),
            None => e,
        }
    })?;
    let (temporary, actual) = sink.finish()?;
    if let Some(expected) = &file.sha256
        && &actual != expected
    {
        bail!(
            "the file downloaded from {} does not have the digest porter.yaml gives for {}:\n  \
             expected sha256:{expected}\n  actual   sha256:{actual}\n\
             check the url, or update `digest` if the file changed on purpose",
            file.url,
            file.destination
        );
    }
    let path = cached(&actual);
    temporary
        .persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(found(actual, path))
}

/// A temporary file in the cache, hashed as it is written.
struct HashingFile {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
}

impl HashingFile {
    fn new(dir: &Path) -> Result<HashingFile> {
        let file = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(HashingFile {
            file,
            hasher: Sha256::new(),
        })
    }

    fn finish(mut self) -> Result<(tempfile::NamedTempFile, String)> {
        self.file
            .as_file_mut()
            .sync_all()
            .context("cannot write the download")?;
        Ok((self.file, hex::encode(self.hasher.finalize())))
    }
}

impl Sink for HashingFile {
    fn restart(&mut self) -> std::io::Result<()> {
        self.hasher = Sha256::new();
        let file = self.file.as_file_mut();
        file.set_len(0)?;
        file.rewind()
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.file.as_file_mut().write_all(bytes)
    }
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str, destination: &str) -> FileSource {
        FileSource {
            url: url.into(),
            destination: destination.into(),
            sha256: None,
            pointer: "/files/0".into(),
        }
    }

    #[test]
    fn refused_without_permission_listing_every_file() {
        let files = [
            entry("https://example.com/a", "a.txt"),
            entry("http://example.com/b", "dir/b"),
        ];
        let error = check_allowed(&files, false).unwrap_err().to_string();
        assert!(
            error.contains("--allow-file-downloads is required"),
            "{error}"
        );
        assert!(
            error.contains("  - https://example.com/a => a.txt\n"),
            "{error}"
        );
        assert!(
            error.contains("  - http://example.com/b => dir/b\n"),
            "{error}"
        );
        assert!(check_allowed(&files, true).is_ok());
        assert!(check_allowed(&[], false).is_ok());
    }

    #[test]
    fn a_cached_file_with_the_digest_is_not_downloaded() {
        let cache = tempfile::tempdir().unwrap();
        let hex = hex::encode(Sha256::digest(b"cached"));
        std::fs::write(cache.path().join(format!("sha256-{hex}")), b"cached").unwrap();
        // Nothing listens there: only the cache can answer.
        let mut file = entry("http://127.0.0.1:9/none", "c.txt");
        file.sha256 = Some(hex.clone());
        let got = download_all(&[file], cache.path(), Progress::Quiet, 1 << 20).unwrap();
        assert_eq!(got[0].sha256, hex);
        assert_eq!(std::fs::read(&got[0].path).unwrap(), b"cached");
    }
}
