//! The bundle's `state:` files carried from one run to the next, in
//! Porter's format: a gzipped tar with one `porter-state/<name>` entry per
//! state variable. The CNAB runtime injects the previous run's archive as
//! the `porter-state` file parameter (`/porter/state.tgz`); each run writes
//! the current files to the `porter-state` output, failed runs too.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::manifest::model::StateVariable;

const PREFIX: &str = "porter-state/";

/// Writes each state variable the archive holds to its path (relative
/// paths from `app_dir`). An empty archive restores nothing.
pub fn restore(archive: &[u8], state: &[StateVariable], app_dir: &Path) -> Result<Vec<String>> {
    let mut restored = Vec::new();
    if archive.is_empty() || state.is_empty() {
        return Ok(restored);
    }
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    for entry in tar
        .entries()
        .context("the state archive is not a gzipped tar")?
    {
        let mut entry = entry.context("the state archive is damaged")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path()?.to_string_lossy().into_owned();
        let name = name.strip_prefix(PREFIX).unwrap_or(&name).to_string();
        let Some(variable) = state.iter().find(|s| s.name == name) else {
            continue;
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        let dest = app_dir.join(&variable.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&dest, bytes)
            .with_context(|| format!("cannot restore state {name} to {}", dest.display()))?;
        restored.push(name);
    }
    Ok(restored)
}

/// The archive of every state variable whose file exists.
pub fn save(state: &[StateVariable], app_dir: &Path) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for variable in state {
        let path = app_dir.join(&variable.path);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("{PREFIX}{}", variable.name),
            &bytes[..],
        )
        .with_context(|| format!("cannot save state {}", variable.name))?;
    }
    Ok(tar.into_inner()?.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, path: &str) -> StateVariable {
        StateVariable {
            name: name.into(),
            path: path.into(),
            description: String::new(),
            mixin: String::new(),
            env: String::new(),
        }
    }

    #[test]
    fn state_goes_round_trip_and_missing_files_are_skipped() {
        let before = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(before.path().join("tf")).unwrap();
        std::fs::write(before.path().join("tf/terraform.tfstate"), "{\"v\":4}").unwrap();
        let state = [
            var("tfstate", "tf/terraform.tfstate"),
            var("gone", "nothing-here"),
        ];
        let archive = save(&state, before.path()).unwrap();

        let after = tempfile::tempdir().unwrap();
        let restored = restore(&archive, &state, after.path()).unwrap();
        assert_eq!(restored, ["tfstate"]);
        assert_eq!(
            std::fs::read_to_string(after.path().join("tf/terraform.tfstate")).unwrap(),
            "{\"v\":4}"
        );
        assert!(restore(&[], &state, after.path()).unwrap().is_empty());
        assert!(restore(b"garbage", &state, after.path()).is_err());
    }
}
