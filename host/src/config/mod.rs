//! Porter's configuration, as far as porter uses it: which experimental
//! flags are on, and whether `porter build` may download the manifest's
//! `files:`. The one place that reads `PORTER_EXPERIMENTAL`,
//! `PORTER_ALLOW_FILE_DOWNLOADS` and `PORTER_HOME`'s config file, with Porter's rules (`pkg/config`, viper):
//!
//! - the file is `config.json`, `config.toml`, `config.yaml` or
//!   `config.yml` in `PORTER_HOME`, the first of those that exists (the
//!   others are not read; porter warns about them);
//! - `${env.NAME}` in its values is the environment variable (empty when
//!   unset); a versioned file (`schemaVersion`, `contexts`) applies the
//!   context `PORTER_CONTEXT` or `current-context` names, else `default`;
//! - `PORTER_EXPERIMENTAL`, when set (even empty), replaces the file's
//!   `experimental` list: a comma-separated list, names taken exactly;
//! - `PORTER_ALLOW_FILE_DOWNLOADS` likewise replaces the file's
//!   `allow-file-downloads` (Go's boolean texts: true, 1, t, ...);
//! - an unknown key or flag is a warning (Porter ignores both silently); a
//!   file that does not parse is an error at its line.

mod file;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::experimental::{self, Experimental};
use crate::home::PorterHome;
use crate::manifest::{ManifestErrors, SourceFile};

use file::Format;

/// What porter takes from Porter's configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub experimental: Experimental,
    /// `allow-file-downloads`: `porter build` may download `files:` without
    /// `--allow-file-downloads`.
    pub allow_file_downloads: bool,
    /// The config file read, if there is one.
    pub file: Option<PathBuf>,
    /// Unknown keys and flags, other config files not read; each ends
    /// without a newline.
    pub warnings: Vec<String>,
}

/// Reads the configuration from `home` and the process environment.
pub fn load(home: &PorterHome) -> Result<Config> {
    load_from(home.root(), &|name| std::env::var(name).ok())
}

/// [`load`] with the environment given (tests, and the memo key stays pure).
pub fn load_from(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
    let mut config = Config::default();
    let found: Vec<(PathBuf, Format)> = file::FORMATS
        .iter()
        .map(|(extension, format)| (home.join(format!("config.{extension}")), *format))
        .filter(|(path, _)| path.is_file())
        .collect();
    let mut names_from_file = None;
    let mut allow_from_file = None;
    if let Some((path, format)) = found.first() {
        for (ignored, _) in &found[1..] {
            config.warnings.push(format!(
                "warning: {} is not read: {} is (Porter reads the first of config.json, \
                 config.toml, config.yaml, config.yml in PORTER_HOME)",
                ignored.display(),
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read Porter's config file {}", path.display()))?;
        let source = SourceFile::new(path.clone(), text);
        let settings = file::parse(&source, *format, env).map_err(|error| ManifestErrors {
            file: path.clone(),
            diagnostics: vec![*error],
            next_step: None,
        })?;
        config
            .warnings
            .extend(settings.warnings.iter().map(ToString::to_string));
        names_from_file = settings.experimental.map(|names| (names, path.clone()));
        allow_from_file = settings.allow_file_downloads;
        config.file = Some(path.clone());
    }
    // viper: an environment variable, even empty, wins over the file.
    let (names, from) = match env("PORTER_EXPERIMENTAL") {
        Some(value) => (split(&value), "PORTER_EXPERIMENTAL".to_string()),
        None => match names_from_file {
            Some((names, path)) => (names, path.display().to_string()),
            None => (Vec::new(), String::new()),
        },
    };
    config.allow_file_downloads = match env("PORTER_ALLOW_FILE_DOWNLOADS") {
        Some(text) => {
            file::weak_bool(&serde_json::Value::String(text.clone())).unwrap_or_else(|| {
                config.warnings.push(format!(
                    "warning: PORTER_ALLOW_FILE_DOWNLOADS={text} is not true or false; \
                 file downloads stay off"
                ));
                false
            })
        }
        None => allow_from_file.unwrap_or(false),
    };
    let (flags, unknown) = Experimental::parse(names.iter().map(String::as_str));
    config.experimental = flags;
    config.warnings.extend(
        unknown
            .into_iter()
            .map(|name| experimental::unknown_flag_warning(name, &from)),
    );
    Ok(config)
}

/// viper's reading of a list from the environment: split at commas.
fn split(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(',').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experimental::Flag;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn no_file_no_variable_no_flags() {
        let home = tempfile::tempdir().unwrap();
        let config = load_from(home.path(), &no_env).unwrap();
        assert_eq!(config.experimental, Experimental::default());
        assert!(config.file.is_none() && config.warnings.is_empty());
    }

    #[test]
    fn the_first_format_found_wins_and_the_variable_replaces_its_list() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.yaml"),
            "experimental: [file-sources]\n",
        )
        .unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            "experimental = [\"persistent-parameters\"]\n",
        )
        .unwrap();
        let config = load_from(home.path(), &no_env).unwrap();
        assert_eq!(
            config.experimental,
            Experimental::with([Flag::PersistentParameters])
        );
        assert_eq!(config.file, Some(home.path().join("config.toml")));
        assert_eq!(config.warnings.len(), 1);
        assert!(config.warnings[0].contains("config.yaml is not read"));

        let env = |name: &str| {
            (name == "PORTER_EXPERIMENTAL").then(|| "dependencies-v2,nope".to_string())
        };
        let config = load_from(home.path(), &env).unwrap();
        assert_eq!(
            config.experimental,
            Experimental::with([Flag::DependenciesV2])
        );
        assert!(config.warnings[1].contains("\"nope\" in PORTER_EXPERIMENTAL"));
        // Set but empty: no flags, as viper reads it.
        let empty = |name: &str| (name == "PORTER_EXPERIMENTAL").then(String::new);
        let config = load_from(home.path(), &empty).unwrap();
        assert_eq!(config.experimental, Experimental::default());
    }

    #[test]
    fn allow_file_downloads_from_the_file_or_the_variable() {
        let home = tempfile::tempdir().unwrap();
        assert!(
            !load_from(home.path(), &no_env)
                .unwrap()
                .allow_file_downloads
        );
        std::fs::write(
            home.path().join("config.toml"),
            "allow-file-downloads = true\n",
        )
        .unwrap();
        let config = load_from(home.path(), &no_env).unwrap();
        assert!(config.allow_file_downloads);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        // viper: the variable, even false, wins over the file.
        let off = |name: &str| (name == "PORTER_ALLOW_FILE_DOWNLOADS").then(|| "false".into());
        assert!(!load_from(home.path(), &off).unwrap().allow_file_downloads);
        std::fs::remove_file(home.path().join("config.toml")).unwrap();
        let on = |name: &str| (name == "PORTER_ALLOW_FILE_DOWNLOADS").then(|| "1".into());
        assert!(load_from(home.path(), &on).unwrap().allow_file_downloads);
        let bad = |name: &str| (name == "PORTER_ALLOW_FILE_DOWNLOADS").then(|| "yes!".into());
        let config = load_from(home.path(), &bad).unwrap();
        assert!(!config.allow_file_downloads);
        assert!(config.warnings[0].contains("PORTER_ALLOW_FILE_DOWNLOADS=yes!"));
        std::fs::write(
            home.path().join("config.yaml"),
            "allow-file-downloads: [x]\n",
        )
        .unwrap();
        let refused = load_from(home.path(), &no_env).unwrap_err().to_string();
        assert!(refused.contains("must be true or false"), "{refused}");
    }
}
