//! Mixins over HTTP(S): Porter's URL layout (`<url>/<version>/<name>.wasm`),
//! Porter's Atom mixin feed (feed.rs) and search index (index.rs), and the
//! download they share: bounded retries of transient failures, a size
//! limit, a body checked against its Content-Length, and progress on stderr.
//!
//! Nothing here writes to PORTER_HOME: a download is bytes in memory, which
//! `MixinHost::install_bytes` checks before anything is written.

pub mod feed;
pub mod index;

use std::io::{IsTerminal, Read};
use std::sync::Once;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
pub use reqwest::Url;

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
                    .get(feed_url, MAX_FEED_BYTES)
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
        let wasm = downloader.get(url, MAX_WASM_BYTES).map_err(|e| {
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

/// An HTTP answer that is not a success.
#[derive(Debug, thiserror::Error)]
#[error("{url} answered HTTP {status}")]
pub struct HttpStatus {
    pub url: Url,
    pub status: u16,
}

/// How a download shows its progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (the library's default).
    Quiet,
    /// A progress bar on a terminal, plain lines elsewhere.
    Stderr,
}

/// Downloads whole bodies into memory, retrying what may pass.
pub struct Downloader {
    client: reqwest::blocking::Client,
    /// Attempts in all (the first and the retries).
    attempts: u32,
    /// The wait before the first retry; doubled before each next one.
    backoff: Duration,
    progress: Progress,
}

static CRYPTO: Once = Once::new();

impl Downloader {
    pub fn new(progress: Progress) -> Result<Downloader> {
        // reqwest is built without a crypto provider: ring, which the Docker
        // client's rustls already uses, is the process's.
        CRYPTO.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("porter/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(300))
            .build()
            .context("cannot start the HTTP client")?;
        Ok(Downloader {
            client,
            attempts: 4,
            backoff: Duration::from_millis(250),
            progress,
        })
    }

    /// The body at `url`, at most `limit` bytes. Connection failures,
    /// server errors (5xx) and bodies cut short are retried with backoff;
    /// other answers (404, ...) fail at once with an [`HttpStatus`].
    pub fn get(&self, url: &Url, limit: u64) -> Result<Vec<u8>> {
        let mut wait = self.backoff;
        let mut attempt = 1;
        loop {
            match self.attempt(url, limit) {
                Ok(body) => return Ok(body),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(e)) if attempt >= self.attempts => {
                    return Err(e.context(format!(
                        "gave up on {url} after {attempt} attempts: try again later, or check the server"
                    )));
                }
                Err(Failure::Transient(e)) => {
                    if self.progress == Progress::Stderr {
                        eprintln!(
                            "{e:#}; retrying in {} ms ({attempt} of {} attempts)",
                            wait.as_millis(),
                            self.attempts
                        );
                    }
                    std::thread::sleep(wait);
                    wait *= 2;
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(&self, url: &Url, limit: u64) -> Result<Vec<u8>, Failure> {
        let response = self.client.get(url.clone()).send().map_err(|e| {
            Failure::Transient(anyhow::anyhow!(
                "cannot download {url}: {}",
                reqwest_cause(&e)
            ))
        })?;
        let status = response.status();
        if !status.is_success() {
            let error = anyhow::Error::new(HttpStatus {
                url: url.clone(),
                status: status.as_u16(),
            });
            return Err(if status.is_server_error() {
                Failure::Transient(error)
            } else {
                Failure::Final(error)
            });
        }
        let expected = response.content_length();
        if let Some(length) = expected
            && length > limit
        {
            return Err(Failure::Final(too_large(url, length, limit)));
        }
        let bar = self.start(url, expected);
        let mut body = Vec::with_capacity(expected.unwrap_or(0).min(limit) as usize);
        let mut reader = response.take(limit + 1);
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    body.extend_from_slice(&chunk[..n]);
                    if let Some(bar) = &bar {
                        bar.set_position(body.len() as u64);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if let Some(bar) = bar {
                        bar.abandon();
                    }
                    let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
                    return Err(Failure::Transient(anyhow::anyhow!(
                        "the download of {url} stopped after {}{of} bytes: the connection was closed before the end ({})",
                        body.len(),
                        io_cause(&e)
                    )));
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if body.len() as u64 > limit {
            return Err(Failure::Final(too_large(url, body.len() as u64, limit)));
        }
        if let Some(expected) = expected
            && body.len() as u64 != expected
        {
            return Err(Failure::Transient(anyhow::anyhow!(
                "the download of {url} stopped after {} of {expected} bytes: the connection was closed before the end",
                body.len()
            )));
        }
        if self.progress == Progress::Stderr && !std::io::stderr().is_terminal() {
            eprintln!("Downloaded {url} ({} bytes)", body.len());
        }
        Ok(body)
    }

    /// A progress bar on a terminal; a line saying what starts elsewhere.
    fn start(&self, url: &Url, length: Option<u64>) -> Option<ProgressBar> {
        if self.progress == Progress::Quiet {
            return None;
        }
        if !std::io::stderr().is_terminal() {
            eprintln!("Downloading {url}");
            return None;
        }
        let bar = match length {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(format!("Downloading {url}"));
        Some(bar)
    }
}

enum Failure {
    /// Worth another attempt: the connection, the server (5xx), a body cut short.
    Transient(anyhow::Error),
    /// Another attempt gets the same answer.
    Final(anyhow::Error),
}

fn too_large(url: &Url, bytes: u64, limit: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "{url} is larger than any mixin ({} MiB at most; it is {} bytes or more): check the URL",
        limit >> 20,
        bytes
    )
}

/// reqwest's errors say "error sending request for url (...)" and hyper's
/// "client error (Connect)"; the causes under them say why.
fn reqwest_cause(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.starts_with("client error") && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

fn io_cause(error: &std::io::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
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
