//! HTTP downloads, shared by mixin installs (`mixin::http`) and the
//! manifest's `files:` (`build::downloads`): bounded retries of transient
//! failures, a size limit, a body checked against its Content-Length, and
//! progress on stderr (a bar on a terminal, plain lines elsewhere).
//!
//! A body goes to a [`Sink`]: memory (`Vec<u8>`) or a file the caller owns;
//! each attempt starts it over, so a retried download never appends.

use std::io::{IsTerminal, Read};
use std::sync::Once;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
pub use reqwest::Url;

/// An HTTP answer that is not a success.
#[derive(Debug, thiserror::Error)]
#[error("{url} answered HTTP {status}")]
pub struct HttpStatus {
    pub url: Url,
    pub status: u16,
}

/// The most a body may be, and what it is said to be larger than.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bytes: u64,
    /// "any mixin", "a mixin feed", ...: in "{url} is larger than {what}".
    pub what: &'static str,
}

/// How a download shows its progress on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (the library's default).
    #[default]
    Quiet,
    /// A progress bar on a terminal, plain lines elsewhere.
    Stderr,
}

/// Where a download's body goes.
pub trait Sink {
    /// Drops what an earlier attempt wrote.
    fn restart(&mut self) -> std::io::Result<()>;
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
}

impl Sink for Vec<u8> {
    fn restart(&mut self) -> std::io::Result<()> {
        self.clear();
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// Downloads whole bodies, retrying what may pass.
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

    /// The body at `url` in memory, at most `limit` bytes ([`Self::fetch`]).
    pub fn get(&self, url: &Url, limit: Limit) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        self.fetch(url, limit, &mut body)?;
        Ok(body)
    }

    /// Writes the body at `url`, at most `limit` bytes, to `sink`; returns
    /// its length. Connection failures, server errors (5xx) and bodies cut
    /// short are retried with backoff; other answers (404, ...) fail at
    /// once with an [`HttpStatus`], as do a body too large and a sink that
    /// cannot be written.
    pub fn fetch(&self, url: &Url, limit: Limit, sink: &mut dyn Sink) -> Result<u64> {
        let mut wait = self.backoff;
        let mut attempt = 1;
        loop {
            sink.restart()
                .context("cannot start writing the download")?;
            match self.attempt(url, limit, sink) {
                Ok(length) => return Ok(length),
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

    fn attempt(&self, url: &Url, limit: Limit, sink: &mut dyn Sink) -> Result<u64, Failure> {
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
            && length > limit.bytes
        {
            return Err(Failure::Final(too_large(url, length, limit)));
        }
        let bar = self.start(url, expected);
        let mut received: u64 = 0;
        let mut reader = response.take(limit.bytes + 1);
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    received += n as u64;
                    if received > limit.bytes {
                        break;
                    }
                    if let Err(e) = sink.write(&chunk[..n]) {
                        if let Some(bar) = bar {
                            bar.abandon();
                        }
                        return Err(Failure::Final(
                            anyhow::Error::new(e)
                                .context(format!("cannot write the download of {url}")),
                        ));
                    }
                    if let Some(bar) = &bar {
                        bar.set_position(received);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if let Some(bar) = bar {
                        bar.abandon();
                    }
                    let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
                    return Err(Failure::Transient(anyhow::anyhow!(
                        "the download of {url} stopped after {received}{of} bytes: the connection was closed before the end ({})",
                        io_cause(&e)
                    )));
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if received > limit.bytes {
            return Err(Failure::Final(too_large(url, received, limit)));
        }
        if let Some(expected) = expected
            && received != expected
        {
            return Err(Failure::Transient(anyhow::anyhow!(
                "the download of {url} stopped after {received} of {expected} bytes: the connection was closed before the end"
            )));
        }
        if self.progress == Progress::Stderr && !std::io::stderr().is_terminal() {
            eprintln!("Downloaded {url} ({received} bytes)");
        }
        Ok(received)
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

fn too_large(url: &Url, bytes: u64, limit: Limit) -> anyhow::Error {
    anyhow::anyhow!(
        "{url} is larger than {} ({} at most; it is {bytes} bytes or more): check the URL",
        limit.what,
        size_text(limit.bytes)
    )
}

/// `64 MiB`, or bytes for a limit under 1 MiB.
fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
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
