//! `PORTER_HOME`: where Porter keeps installed mixins and its caches.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// The directory named by `PORTER_HOME`, or `~/.porter`.
#[derive(Debug, Clone)]
pub struct PorterHome {
    root: PathBuf,
}

impl PorterHome {
    pub fn from_env() -> Result<Self> {
        if let Some(dir) = std::env::var_os("PORTER_HOME").filter(|v| !v.is_empty()) {
            return Ok(Self::at(PathBuf::from(dir)));
        }
        match std::env::home_dir() {
            Some(home) => Ok(Self::at(home.join(".porter"))),
            None => bail!(
                "cannot find your home directory: set PORTER_HOME to the directory Porter should use"
            ),
        }
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        PorterHome { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `mixins/<name>/<version>/` for every installed mixin.
    pub fn mixins_dir(&self) -> PathBuf {
        self.root.join("mixins")
    }

    /// Machine code compiled from installed mixins; only Porter writes here.
    pub fn precompiled_dir(&self) -> PathBuf {
        self.root.join("cache").join("precompiled")
    }

    /// Remembered answers of mixins' hooks (by mixin digest) and of
    /// porter's own checks (memo.rs).
    pub fn answers_dir(&self) -> PathBuf {
        self.root.join("cache").join("answers")
    }

    /// Files the manifest's `files:` downloaded, by content
    /// (`sha256-<hex>`); a build links them into `.cnab/app`.
    pub fn downloads_dir(&self) -> PathBuf {
        self.root.join("cache").join("downloads")
    }

    /// The porter runtime the invocation image carries (Porter's
    /// `runtimes/porter-runtime`); `cargo xtask install` puts it there.
    pub fn runtime_path(&self) -> PathBuf {
        self.root.join("runtimes").join("porter-runtime")
    }
}
