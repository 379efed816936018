//! `porter mixins install | list | uninstall | search`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use super::shared::{OutputFormat, print_structured, print_table};
use crate::home::PorterHome;
use crate::mixin::http::{self, Downloader, Progress, RemoteSource, VersionRequest};
use crate::mixin::{
    InstallOutcome, InstallRequest, Installation, InstalledMixin, MixinHost, MixinStore,
};

#[derive(Debug, Subcommand)]
pub enum MixinsCommand {
    /// Install a mixin (a .wasm component) into PORTER_HOME, from a file,
    /// a URL or a feed (default: the feed at the mirror, mixins/atom.xml)
    Install {
        /// The mixin's name, as porter.yaml declares it
        name: String,
        /// A local .wasm file
        #[arg(long, value_name = "PATH", conflicts_with_all = ["url", "feed_url"])]
        file: Option<PathBuf>,
        /// Download <URL>/<VERSION>/<NAME>.wasm (Porter's layout, one file for every platform)
        #[arg(long, value_name = "URL", conflicts_with = "feed_url")]
        url: Option<String>,
        /// A Porter Atom mixin feed listing the mixin's versions and their .wasm
        #[arg(long, value_name = "URL")]
        feed_url: Option<String>,
        /// Mirror of Porter's assets, holding the default feed (mixins/atom.xml) [env: PORTER_MIRROR] [default: https://cdn.porter.sh]
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
        /// The version: 1.2.3 (or v1.2.3), latest or canary; with --file, the version the file must be [default: latest]
        #[arg(short = 'v', long)]
        version: Option<String>,
        /// Refuse the mixin unless its sha256 digest is this (sha256:<hex>)
        #[arg(long, value_name = "DIGEST")]
        digest: Option<String>,
        /// Replace this version of the mixin when it is installed with other contents
        #[arg(long)]
        force: bool,
    },
    /// Search the mixins Porter's index lists (the mirror's mixins/index.json)
    Search {
        /// Only mixins whose name contains this
        query: Option<String>,
        /// Mirror of Porter's assets, holding the index (mixins/index.json) [env: PORTER_MIRROR] [default: https://cdn.porter.sh]
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
        /// Output format
        #[arg(short, long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// List installed mixins
    #[command(visible_alias = "ls")]
    List {
        /// Output format
        #[arg(short, long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Remove an installed mixin (every version, unless --version is given)
    #[command(visible_alias = "rm")]
    Uninstall {
        name: String,
        /// Remove only this version
        #[arg(long)]
        version: Option<semver::Version>,
    },
}

pub fn run(command: MixinsCommand) -> Result<()> {
    let home = PorterHome::from_env()?;
    match command {
        MixinsCommand::Install {
            name,
            file,
            url,
            feed_url,
            mirror,
            version,
            digest,
            force,
        } => {
            if let Some(digest) = &digest {
                crate::mixin::install::check_digest_text(digest)
                    .map_err(|e| anyhow::anyhow!("--digest: {e}"))?;
            }
            let host = MixinHost::new(&home)?;
            let installation = match file {
                Some(file) => {
                    let version = version
                        .map(|v| match VersionRequest::parse(&v)? {
                            VersionRequest::Exact { version, .. } => Ok(version),
                            other => anyhow::bail!(
                                "--version {other} needs a feed or a server: with --file, give the version the file must be (1.2.3)"
                            ),
                        })
                        .transpose()?;
                    let request = InstallRequest {
                        name: &name,
                        version: version.as_ref(),
                        force,
                        expected_digest: digest,
                    };
                    host.install_file(&request, &file)?
                }
                None => {
                    crate::mixin::check_name(&name)?;
                    let source = match (url, feed_url) {
                        (Some(url), _) => RemoteSource::Url(http::parse_url(&url, "--url")?),
                        (None, Some(feed)) => {
                            RemoteSource::Feed(http::parse_url(&feed, "--feed-url")?)
                        }
                        (None, None) => RemoteSource::Feed(http::mirror_url(
                            &mirror_or_default(mirror),
                            "atom.xml",
                        )?),
                    };
                    let version = VersionRequest::parse(version.as_deref().unwrap_or("latest"))?;
                    let downloader = Downloader::new(Progress::Stderr)?;
                    let resolved = source.resolve(&downloader, &name, &version)?;
                    let request = InstallRequest {
                        name: &name,
                        version: resolved.version.as_ref(),
                        force,
                        expected_digest: digest,
                    };
                    host.install_url(&request, &resolved.url, &downloader)
                        .map_err(|e| explain_latest(e, &source, &version))?
                }
            };
            print_installation(&installation);
        }
        MixinsCommand::Search {
            query,
            mirror,
            output,
        } => {
            let url = http::mirror_url(&mirror_or_default(mirror), "index.json")?;
            let downloader = Downloader::new(Progress::Quiet)?;
            let body = downloader.get(&url, 16 << 20).map_err(|e| {
                e.context(format!(
                    "cannot read the mixin index {url}: check --mirror or PORTER_MIRROR (the index is <mirror>/mixins/index.json)"
                ))
            })?;
            let listings = http::index::parse(&body)
                .map_err(|e| e.context(format!("cannot read the mixin index {url}")))?;
            let found = http::index::search(listings, query.as_deref())?;
            match output {
                OutputFormat::Plaintext => {
                    let rows: Vec<Vec<String>> = found
                        .iter()
                        .map(|l| {
                            vec![
                                l.name.clone(),
                                l.description.clone(),
                                l.author.clone(),
                                l.url.clone(),
                                l.url_type().to_string(),
                            ]
                        })
                        .collect();
                    print_table(&["NAME", "DESCRIPTION", "AUTHOR", "URL", "URL TYPE"], &rows)?;
                }
                format => print_structured(format, &found)?,
            }
        }
        MixinsCommand::List { output } => {
            let mixins = MixinStore::new(&home).list()?;
            match output {
                OutputFormat::Plaintext => print_plaintext(&mixins)?,
                format => print_structured(
                    format,
                    &mixins.iter().map(ListedMixin::from).collect::<Vec<_>>(),
                )?,
            }
        }
        MixinsCommand::Uninstall { name, version } => {
            for removed in MixinStore::new(&home).remove(&name, version.as_ref())? {
                println!("Uninstalled {} {}", removed.name, removed.version);
            }
        }
    }
    Ok(())
}

/// `--mirror`, else `PORTER_MIRROR`, else Porter's CDN, as Porter reads them.
fn mirror_or_default(flag: Option<String>) -> String {
    flag.filter(|m| !m.is_empty())
        .or_else(|| {
            std::env::var("PORTER_MIRROR")
                .ok()
                .filter(|m| !m.is_empty())
        })
        .unwrap_or_else(|| http::DEFAULT_MIRROR.to_string())
}

/// `--url` with `latest` relies on the server publishing a `latest/`
/// directory, as Porter's CDN does; when it does not, say so.
fn explain_latest(
    error: anyhow::Error,
    source: &RemoteSource,
    version: &VersionRequest,
) -> anyhow::Error {
    let not_found = error
        .downcast_ref::<http::HttpStatus>()
        .is_some_and(|s| s.status == 404);
    match (source, version) {
        (RemoteSource::Url(base), VersionRequest::Latest) if not_found => error.context(format!(
            "cannot resolve latest: {base} publishes no latest/ directory; give the version \
             (--version 1.2.3), or install from the server's feed (--feed-url URL/atom.xml)"
        )),
        _ => error,
    }
}

fn print_installation(installation: &Installation) {
    let m = &installation.mixin;
    match &installation.outcome {
        InstallOutcome::New => println!("Installed {} {} ({})", m.name, m.version, m.digest),
        InstallOutcome::AlreadyInstalled => {
            println!(
                "{} {} is already installed ({})",
                m.name, m.version, m.digest
            )
        }
        InstallOutcome::Replaced { previous_digest } => println!(
            "Replaced {} {} ({previous_digest} -> {})",
            m.name, m.version, m.digest
        ),
    }
}

/// One row of `porter mixins list -o json|yaml`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedMixin<'a> {
    name: &'a str,
    version: String,
    digest: &'a str,
    source: &'a str,
    author: &'a str,
    description: &'a str,
    api_version: String,
}

impl<'a> From<&'a InstalledMixin> for ListedMixin<'a> {
    fn from(m: &'a InstalledMixin) -> Self {
        ListedMixin {
            name: &m.name,
            version: m.version.to_string(),
            digest: &m.digest,
            source: &m.source,
            author: &m.author,
            description: &m.description,
            api_version: m.api_version.to_string(),
        }
    }
}

fn print_plaintext(mixins: &[InstalledMixin]) -> Result<()> {
    if mixins.is_empty() {
        eprintln!(
            "No mixins installed. Install one with: porter mixins install NAME --file PATH.wasm"
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = mixins
        .iter()
        .map(|m| {
            let short = &m.sha256_hex()[..m.sha256_hex().len().min(12)];
            vec![
                m.name.clone(),
                m.version.to_string(),
                format!("sha256:{short}"),
                m.author.clone(),
                m.source.clone(),
            ]
        })
        .collect();
    print_table(&["NAME", "VERSION", "DIGEST", "AUTHOR", "SOURCE"], &rows)
}
