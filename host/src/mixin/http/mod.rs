//! Mixins over HTTP(S): Porter's URL layout (`<url>/<version>/<name>.wasm`),
//! Porter's Atom mixin feed (feed.rs) and search index (index.rs), and the
//! download they share (`crate::download`, also used for the manifest's
//! `files:`).
//!
//! Nothing here writes to PORTER_HOME: a download is bytes in memory, which
//! `MixinHost::install_bytes` checks before anything is written.

pub mod feed;
pub mod index;

use anyhow::{Context, Result, bail};

pub use crate::download::{Downloader, HttpStatus, Limit, Progress, Url};

use super::install::{InstallRequest, Installation, MAX_WASM_BYTES};
use feed::Feed;

/// Porter's default mirror of its assets: feeds and indexes are under it.
pub const DEFAULT_MIRROR: &str = "https://cdn.porter.sh";

/// What `--version` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRequest {
    /// The highest released (non-prerelease) version.
    Latest,
    /// Porter's `canary` label: the newest build of the main branch.
    Canary,
    /// One version; `label` is how the user wrote it (`v1.2.3` or `1.2.3`),
    /// used as is in Porter's URL layout.
    Exact {
        version: semver::Version,
        label: String,
    },
}

impl VersionRequest {
    pub fn parse(text: &str) -> Result<VersionRequest> {
        match text {
            "latest" => Ok(VersionRequest::Latest),
            "canary" => Ok(VersionRequest::Canary),
            _ => {
                let version = semver::Version::parse(text.strip_prefix('v').unwrap_or(text))
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "--version {text} is not a version: give a semver version (1.2.3 or v1.2.3), latest or canary ({e})"
                        )
                    })?;
                Ok(VersionRequest::Exact {
                    version,
                    label: text.to_string(),
                })
            }
        }
    }

    /// The exact version the installed mixin must report, if any.
    pub fn exact(&self) -> Option<&semver::Version> {
        match self {
            VersionRequest::Exact { version, .. } => Some(version),
            _ => None,
        }
    }

    /// The path segment of Porter's URL layout.
    pub fn label(&self) -> &str {
        match self {
            VersionRequest::Latest => "latest",
            VersionRequest::Canary => "canary",
            VersionRequest::Exact { label, .. } => label,
        }
    }
}

impl std::fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Parses a URL given on the command line; only http and https.
pub fn parse_url(text: &str, flag: &str) -> Result<Url> {
    let url = Url::parse(text)
        .map_err(|e| anyhow::anyhow!("{flag} {text} is not a URL ({e}): give an http(s):// URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{flag} {text} is not an http(s) URL: give an http:// or https:// URL");
    }
    Ok(url)
}

/// Porter's URL layout: `<url>/<version>/<name>.wasm` (one artifact for
/// every platform, where Porter has `<name>-<os>-<arch>` per platform).
pub fn layout_url(base: &Url, version: &VersionRequest, name: &str) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .push(version.label())
            .push(&format!("{name}.wasm"));
    }
    url
}

/// `<mirror>/mixins/<file>`, as Porter finds its feed and index under
/// `--mirror` / `PORTER_MIRROR`.
pub fn mirror_url(mirror: &str, file: &str) -> Result<Url> {
    let mut url = parse_url(mirror, "--mirror")?;
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push("mixins").push(file);
    }
    Ok(url)
}

/// Where `porter mixins install NAME` downloads from.
#[derive(Debug, Clone)]
pub enum RemoteSource {
    /// `--url`: Porter's layout under this base.
    Url(Url),
    /// `--feed-url` (or the mirror's feed): a Porter Atom feed.
    Feed(Url),
}

/// The file to download for a mixin, and the version its source says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub url: Url,
    /// The exact version the mixin must report, when the source says one.
    pub version: Option<semver::Version>,
}

/// A mixin's `.wasm`, as large as the store accepts.
pub const MIXIN_LIMIT: Limit = Limit {
    bytes: MAX_WASM_BYTES,
    what: "any mixin",
};

/// Feeds are small; this is far more than Porter's own.
const MAX_FEED_BYTES: u64 = 16 << 20;

impl RemoteSource {
    /// The `.wasm` to download for `name` at `version` (reads the feed).
    pub fn resolve(
        &self,
        downloader: &Downloader,
        name: &str,
        version: &VersionRequest,
    ) -> Result<Resolved> {
        match self {
            RemoteSource::Url(base) => Ok(Resolved {
                url: layout_url(base, version, name),
                version: version.exact().cloned(),
            }),
            RemoteSource::Feed(feed_url) => {
                let body = downloader
                    .get(
                        feed_url,
                        Limit {
                            bytes: MAX_FEED_BYTES,
                            what: "a mixin feed",
                        },
                    )
                    .map_err(|e| match e.downcast_ref::<HttpStatus>() {
                        Some(s) if s.status == 404 => e.context(format!(
                            "the mixin feed {feed_url} was not found (HTTP 404): check --feed-url \
                             (or --mirror / PORTER_MIRROR, under which the feed is mixins/atom.xml)"
                        )),
                        _ => e.context(format!("cannot read the mixin feed {feed_url}")),
                    })?;
                let text = String::from_utf8(body).map_err(|_| {
                    anyhow::anyhow!(
                        "the mixin feed {feed_url} is not text (UTF-8): check --feed-url"
                    )
                })?;
                let feed = Feed::parse(&text, feed_url)
                    .map_err(|e| e.context(format!("cannot read the mixin feed {feed_url}")))?;
                let choice = feed.choose(name, version).map_err(|e| {
                    e.context(format!("cannot install {name} from the feed {feed_url}"))
                })?;
                let reported = choice.version.strip_prefix('v').unwrap_or(&choice.version);
                Ok(Resolved {
                    url: choice.url,
                    version: semver::Version::parse(reported).ok(),
                })
            }
        }
    }
}

impl super::MixinHost {
    /// Downloads the mixin at `url` and installs it, recording `url` as its
    /// source. A failed download or a file that is not the mixin asked for
    /// leaves PORTER_HOME as it was.
    pub fn install_url(
        &self,
        request: &InstallRequest<'_>,
        url: &Url,
        downloader: &Downloader,
    ) -> Result<Installation> {
        let wasm = downloader.get(url, MIXIN_LIMIT).map_err(|e| {
            match e.downcast_ref::<HttpStatus>() {
                Some(s) if s.status == 404 => e.context(format!(
                    "{url} was not found (HTTP 404): check the URL, the mixin's name and its version \
                     (with --url, porter downloads <url>/<version>/<name>.wasm)"
                )),
                Some(s) if (400..500).contains(&s.status) => e.context(format!(
                    "the server refused {url}: check the URL, and that you may read it"
                )),
                _ => e,
            }
        })?;
        self.install_bytes(request, &wasm, url.as_str())
            .with_context(|| format!("cannot install {url} as mixin {}", request.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_latest_canary_or_semver() {
        assert_eq!(
            VersionRequest::parse("latest").unwrap(),
            VersionRequest::Latest
        );
        assert_eq!(
            VersionRequest::parse("canary").unwrap(),
            VersionRequest::Canary
        );
        let v = VersionRequest::parse("v1.2.3").unwrap();
        assert_eq!(v.exact(), Some(&semver::Version::new(1, 2, 3)));
        assert_eq!(v.label(), "v1.2.3");
        let err = VersionRequest::parse("newest").unwrap_err().to_string();
        assert!(err.contains("latest or canary"), "{err}");
    }

    #[test]
    fn porter_url_layout_with_one_wasm() {
        let base = Url::parse("https://example.com/mixins/exec/").unwrap();
        let v = VersionRequest::parse("v1.2.3").unwrap();
        assert_eq!(
            layout_url(&base, &v, "exec").as_str(),
            "https://example.com/mixins/exec/v1.2.3/exec.wasm"
        );
        let base = Url::parse("https://example.com/releases/download").unwrap();
        assert_eq!(
            layout_url(&base, &VersionRequest::Canary, "exec").as_str(),
            "https://example.com/releases/download/canary/exec.wasm"
        );
    }

    #[test]
    fn mirror_holds_the_feed_and_index() {
        assert_eq!(
            mirror_url("https://example.com:81/porter", "atom.xml")
                .unwrap()
                .as_str(),
            "https://example.com:81/porter/mixins/atom.xml"
        );
        assert_eq!(
            mirror_url(DEFAULT_MIRROR, "index.json").unwrap().as_str(),
            "https://cdn.porter.sh/mixins/index.json"
        );
        assert!(mirror_url("ftp://x", "atom.xml").is_err());
    }
}
