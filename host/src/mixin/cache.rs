//! Compiled mixins, so a build never compiles a mixin that is installed.
//!
//! Compiling a component costs ~1 ms per KB of wasm; loading its compiled
//! form costs well under a millisecond. Entries are keyed by the wasm's
//! sha256 and the engine's compatibility hash (wasmtime version, settings,
//! CPU features), so a new porter or another machine never loads stale code.
//! Only porter writes this directory; compiled code from anywhere else is
//! never loaded (it would run unchecked).

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct PrecompiledCache {
    dir: PathBuf,
    engine_key: String,
}

impl PrecompiledCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex::encode(&hasher.0.finalize()[..8]);
        PrecompiledCache { dir, engine_key }
    }

    /// Where the compiled form of the wasm with this sha256 (hex) lives.
    pub fn path_for(&self, sha256_hex: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256_hex}-{}.cwasm", self.engine_key))
    }

    /// The compiled component, or `None` when it is not cached (or the entry
    /// is unusable, which is then removed).
    pub fn load(&self, engine: &Engine, sha256_hex: &str) -> Option<Component> {
        let path = self.path_for(sha256_hex);
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file is one this cache wrote from a component it had
        // compiled and validated (see `store`), in a directory only porter
        // writes, named by that component's digest; it is not modified while
        // loaded (entries are replaced by rename, never written in place).
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Writes `component`'s compiled form, atomically.
    pub fn store(&self, sha256_hex: &str, component: &Component) -> Result<PathBuf> {
        let bytes = component.serialize().map_err(anyhow::Error::from)?;
        let path = self.path_for(sha256_hex);
        write_atomically(&path, &bytes)?;
        Ok(path)
    }
}

/// The newest compiled form of the wasm with this sha256, whatever engine
/// made it: what a build stages into the image beside the wasm, without
/// starting an engine to compute its key (the image's runtime checks that
/// it can load it, and compiles the wasm when it cannot).
pub fn newest_compiled(dir: &Path, sha256_hex: &str) -> Option<PathBuf> {
    let prefix = format!("{sha256_hex}-");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".cwasm")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

/// Removes the compiled forms of the wasm with this sha256, for every engine.
pub fn remove_compiled(dir: &Path, sha256_hex: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{sha256_hex}-");
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .context("a file path has a parent directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|_| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Feeds `Hash` output into sha256, for a key that is stable across runs
/// (std's `DefaultHasher` is not guaranteed to be).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"))
    }
}
