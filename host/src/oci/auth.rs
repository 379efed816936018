//! Registry credentials as Docker reads them: `config.json` in
//! `DOCKER_CONFIG`, or `~/.docker`, its `auths` entries (base64
//! `user:password` in `auth`, or `username` and `password`). Credential
//! helpers (`credsStore`, `credHelpers`) are not run: when one is configured
//! for a registry, [`Credentials::helper`] names it so an error can say so.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;

/// The directory of Docker's `config.json`: `DOCKER_CONFIG`, or `~/.docker`.
pub fn docker_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::home_dir().map(|home| home.join(".docker"))
}

/// What Docker's config says about one registry.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `(user, password)` from an `auths` entry.
    pub basic: Option<(String, String)>,
    /// The credential helper configured for it, which porter does not run.
    pub helper: Option<String>,
    /// The config file read, when there is one.
    pub config_file: Option<PathBuf>,
}

/// The credentials `dir/config.json` gives `registry` (`host[:port]`).
/// No file is no credentials; an unreadable or malformed one is an error.
pub fn credentials(dir: Option<&Path>, registry: &str) -> Result<Credentials> {
    let Some(dir) = dir else {
        return Ok(Credentials::default());
    };
    let file = dir.join("config.json");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let config: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON: fix it, or point DOCKER_CONFIG at another directory",
            file.display()
        )
    })?;
    let mut found = Credentials {
        config_file: Some(file.clone()),
        ..Credentials::default()
    };
    if let Some(auths) = config["auths"].as_object() {
        for (key, entry) in auths {
            if !same_registry(key, registry) {
                continue;
            }
            if let Some(basic) = basic_auth(entry)
                .with_context(|| format!("{}: the entry auths.\"{key}\"", file.display()))?
            {
                found.basic = Some(basic);
                break;
            }
        }
    }
    let helper = config["credHelpers"]
        .as_object()
        .and_then(|helpers| {
            helpers
                .iter()
                .find(|(key, _)| same_registry(key, registry))
                .and_then(|(_, helper)| helper.as_str())
        })
        .or_else(|| config["credsStore"].as_str())
        .filter(|helper| !helper.is_empty());
    found.helper = helper.map(|h| format!("docker-credential-{h}"));
    Ok(found)
}

/// `auth` (base64 `user:password`), or `username` and `password`.
fn basic_auth(entry: &serde_json::Value) -> Result<Option<(String, String)>> {
    if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .context("its \"auth\" is not base64: log in again with `docker login`")?;
        let decoded = String::from_utf8(decoded)
            .context("its \"auth\" is not UTF-8: log in again with `docker login`")?;
        let Some((user, password)) = decoded.split_once(':') else {
            bail!("its \"auth\" is not user:password in base64: log in again with `docker login`");
        };
        return Ok(Some((user.to_string(), password.to_string())));
    }
    match (entry["username"].as_str(), entry["password"].as_str()) {
        (Some(user), Some(password)) if !user.is_empty() => {
            Ok(Some((user.to_string(), password.to_string())))
        }
        _ => Ok(None),
    }
}

/// Whether a key of `auths` (`host`, `host:port`, `https://host/v1/`, ...)
/// names `registry`. Docker Hub goes by several names.
fn same_registry(key: &str, registry: &str) -> bool {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let key = key.split('/').next().unwrap_or(key);
    let hub = |host: &str| {
        matches!(
            host,
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        )
    };
    key.eq_ignore_ascii_case(registry) || (hub(key) && hub(registry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        dir
    }

    #[test]
    fn auths_entries_are_found_by_host_and_port() {
        // "porter:s3cret"
        let dir = write(
            r#"{"auths": {"https://127.0.0.1:5000/v1/": {"auth": "cG9ydGVyOnMzY3JldA=="},
                         "other:5000": {"username": "u", "password": "p"}}}"#,
        );
        let found = credentials(Some(dir.path()), "127.0.0.1:5000").unwrap();
        assert_eq!(
            found.basic,
            Some(("porter".to_string(), "s3cret".to_string()))
        );
        assert_eq!(found.helper, None);
        let found = credentials(Some(dir.path()), "other:5000").unwrap();
        assert_eq!(found.basic, Some(("u".to_string(), "p".to_string())));
        let found = credentials(Some(dir.path()), "elsewhere").unwrap();
        assert_eq!(found.basic, None);
    }

    #[test]
    fn docker_hub_has_several_names_and_helpers_are_reported() {
        let dir = write(
            r#"{"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "desktop",
                "credHelpers": {"ghcr.io": "gh"}}"#,
        );
        let found = credentials(Some(dir.path()), "docker.io").unwrap();
        assert_eq!(found.basic, None);
        assert_eq!(found.helper.as_deref(), Some("docker-credential-desktop"));
        let found = credentials(Some(dir.path()), "ghcr.io").unwrap();
        assert_eq!(found.helper.as_deref(), Some("docker-credential-gh"));
    }

    #[test]
    fn no_config_is_no_credentials_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            credentials(Some(dir.path()), "r").unwrap(),
            Credentials::default()
        );
        let dir = write("{not json");
        let err = format!("{:#}", credentials(Some(dir.path()), "r").unwrap_err());
        assert!(err.contains("is not JSON"), "{err}");
        let dir = write(r#"{"auths": {"r": {"auth": "!!"}}}"#);
        let err = format!("{:#}", credentials(Some(dir.path()), "r").unwrap_err());
        assert!(err.contains("not base64"), "{err}");
    }
}
