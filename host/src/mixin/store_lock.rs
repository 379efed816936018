//! One porter at a time writes the store: an exclusive lock on
//! `PORTER_HOME/.lock` (an advisory file lock, released when the process
//! ends, however it ends) around the part of an install or uninstall that
//! reads what is installed and changes it. Readers (list, build) take no
//! lock: every change is a rename of a whole version directory.

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::{Context, Result};

/// Held while the store is written; dropping it unlocks.
pub struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Waits until no other porter holds the lock.
    pub fn acquire(home: &Path) -> Result<StoreLock> {
        std::fs::create_dir_all(home)
            .with_context(|| format!("cannot create PORTER_HOME {}", home.display()))?;
        let path = home.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {} to lock the mixin store", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(StoreLock { _file: file })
    }
}
