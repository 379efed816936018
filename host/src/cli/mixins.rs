//! `porter mixins install | publish | search | list | uninstall`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;

use super::shared::{OutputFormat, print_structured, print_table};
use crate::home::PorterHome;
use crate::lock::{self, LockedMixin, Restored};
use crate::mixin::http::{self, Downloader, Progress, RemoteSource, VersionRequest};
use crate::mixin::{
    InstallOutcome, InstallRequest, Installation, InstalledMixin, MixinHost, MixinStore,
};
use crate::oci::{self, RegistryOptions, artifact::ArtifactInfo};

#[derive(Debug, Subcommand)]
pub enum MixinsCommand {
    /// Install a mixin (a .wasm component) into PORTER_HOME, from a file, a
    /// URL, a feed (default: the feed at the mirror, mixins/atom.xml) or an
    /// OCI registry; with no name, every mixin porter.lock records
    #[command(group = clap::ArgGroup::new("source").multiple(false))]
    Install(InstallArgs),
    /// Push a mixin (a .wasm component) to an OCI registry, as a wasm artifact
    Publish {
        /// The mixin's .wasm
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// Where to push it: REGISTRY/REPOSITORY:TAG
        #[arg(long, value_name = "REFERENCE")]
        reference: String,
        /// Talk plain HTTP to the registry (always allowed for loopback registries)
        #[arg(long)]
        insecure_registry: bool,
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

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The mixin's name, as porter.yaml declares it; none: install what
    /// porter.lock records (in --dir), each checked against its digest
    name: Option<String>,
    /// A local .wasm file
    #[arg(long, value_name = "PATH", group = "source")]
    file: Option<PathBuf>,
    /// Download <URL>/<VERSION>/<NAME>.wasm (Porter's layout, one file for every platform)
    #[arg(long, value_name = "URL", group = "source")]
    url: Option<String>,
    /// A Porter Atom mixin feed listing the mixin's versions and their .wasm
    #[arg(long, value_name = "URL", group = "source")]
    feed_url: Option<String>,
    /// An OCI reference: REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST
    /// (a wasm artifact, as `porter mixins publish` pushes)
    #[arg(long, value_name = "REFERENCE", group = "source")]
    reference: Option<String>,
    /// Mirror of Porter's assets, holding the default feed (mixins/atom.xml) [env: PORTER_MIRROR] [default: https://cdn.porter.sh]
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// The version: 1.2.3 (or v1.2.3), latest or canary; with --file or --reference, the version the mixin must be [default: latest]
    #[arg(short = 'v', long)]
    version: Option<String>,
    /// Refuse the mixin unless its .wasm has this sha256 digest (sha256:<hex>)
    #[arg(long, value_name = "DIGEST")]
    digest: Option<String>,
    /// Talk plain HTTP to the registry (always allowed for loopback registries)
    #[arg(long)]
    insecure_registry: bool,
    /// Replace this version of the mixin when it is installed with other contents
    #[arg(long)]
    force: bool,
    /// With no name: the bundle's directory, holding porter.yaml and porter.lock
    #[arg(short, long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(command: MixinsCommand) -> Result<()> {
    let home = PorterHome::from_env()?;
    match command {
        MixinsCommand::Install(args) => {
            let host = MixinHost::new(&home)?;
            match args.name.clone() {
                Some(name) => print_installation(&install(&host, &name, args)?),
                None => restore_locked(&host, args)?,
            }
        }
        MixinsCommand::Publish {
            file,
            reference,
            insecure_registry,
        } => publish(
            &MixinHost::new(&home)?,
            &file,
            &reference,
            insecure_registry,
        )?,
        MixinsCommand::Search {
            query,
            mirror,
            output,
        } => search(query.as_deref(), mirror, output)?,
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

/// `porter mixins install NAME` from the one source given (none: the
/// mirror's feed, as Porter does).
fn install(host: &MixinHost, name: &str, args: InstallArgs) -> Result<Installation> {
    if let Some(digest) = &args.digest {
        crate::mixin::install::check_digest_text(digest)
            .map_err(|e| anyhow::anyhow!("--digest: {e}"))?;
    }
    if args.dir.is_some() {
        anyhow::bail!(
            "--dir is for installing what porter.lock records: give no mixin name with it"
        );
    }
    let mut request = InstallRequest {
        name,
        version: None,
        force: args.force,
        expected_digest: args.digest.clone(),
    };
    // A file or a registry holds one version: --version can only check it.
    let exact = |version: &Option<String>, source: &str| {
        version
            .as_deref()
            .map(|v| match VersionRequest::parse(v)? {
                VersionRequest::Exact { version, .. } => Ok(version),
                other => anyhow::bail!(
                    "--version {other} needs a feed or a server: with {source}, give the version the mixin must be (1.2.3)"
                ),
            })
            .transpose()
    };
    if let Some(file) = &args.file {
        let version = exact(&args.version, "--file")?;
        request.version = version.as_ref();
        return host.install_file(&request, file);
    }
    if let Some(reference) = &args.reference {
        let version = exact(&args.version, "--reference")?;
        request.version = version.as_ref();
        let options = RegistryOptions::from_env(args.insecure_registry);
        let pulled = oci::pull_expecting(reference, args.digest.as_deref(), &options)?;
        request.expected_digest = Some(pulled.layer_digest.clone());
        return host
            .install_bytes(&request, &pulled.wasm, &pulled.source)
            .with_context(|| format!("cannot install {reference} as mixin {name}"));
    }
    crate::mixin::check_name(name)?;
    let source = match (args.url, args.feed_url) {
        (Some(url), _) => RemoteSource::Url(http::parse_url(&url, "--url")?),
        (None, Some(feed)) => RemoteSource::Feed(http::parse_url(&feed, "--feed-url")?),
        (None, None) => RemoteSource::Feed(http::mirror_url(
            &mirror_or_default(args.mirror),
            "atom.xml",
        )?),
    };
    let version = VersionRequest::parse(args.version.as_deref().unwrap_or("latest"))?;
    let downloader = Downloader::new(Progress::Stderr)?;
    let resolved = source.resolve(&downloader, name, &version)?;
    request.version = resolved.version.as_ref();
    host.install_url(&request, &resolved.url, &downloader)
        .map_err(|e| explain_latest(e, &source, &version))
}

/// `porter mixins install` with no name: what porter.lock records for the
/// bundle in `--dir`, each from its recorded source, checked against its
/// locked digest.
fn restore_locked(host: &MixinHost, args: InstallArgs) -> Result<()> {
    let given = [
        ("--file", args.file.is_some()),
        ("--url", args.url.is_some()),
        ("--feed-url", args.feed_url.is_some()),
        ("--reference", args.reference.is_some()),
        ("--version", args.version.is_some()),
        ("--digest", args.digest.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
        anyhow::bail!(
            "{flag} needs the name of the mixin to install (porter mixins install NAME {flag} ...); \
             with no name, porter installs what porter.lock records"
        );
    }
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let manifest = dir.join("porter.yaml");
    let config = super::shared::porter_config(host.home())?;
    let load_options = super::shared::load_options(&config);
    let loaded = crate::manifest::load_file_with_options(&manifest, &load_options)?;
    let options = RegistryOptions::from_env(args.insecure_registry);
    let downloader = Downloader::new(Progress::Stderr)?;
    let fetch = |entry: &LockedMixin| fetch_recorded(entry, &downloader, &options);
    let restored = lock::restore(
        host,
        &loaded,
        &lock::path_for(&manifest),
        args.force,
        &fetch,
    )?;
    for (entry, outcome) in restored {
        match outcome {
            Restored::AlreadyInstalled => println!(
                "{} {} is already installed ({})",
                entry.name, entry.version, entry.digest
            ),
            Restored::Installed => println!(
                "Installed {} {} ({}) from {}",
                entry.name, entry.version, entry.digest, entry.source
            ),
        }
    }
    Ok(())
}

/// The bytes of a locked mixin, from where porter.lock says it came from.
fn fetch_recorded(
    entry: &LockedMixin,
    downloader: &Downloader,
    options: &RegistryOptions,
) -> Result<Vec<u8>> {
    if let Some(reference) = entry.source.strip_prefix("oci://") {
        // A tag moved since the lock is refused before its layer is pulled.
        let pulled = oci::pull_expecting(reference, Some(&entry.digest), options)?;
        return Ok(pulled.wasm);
    }
    if entry.source.starts_with("https://") || entry.source.starts_with("http://") {
        let url = http::parse_url(&entry.source, "porter.lock's source")?;
        return downloader.get(&url, http::MIXIN_LIMIT);
    }
    anyhow::bail!(
        "porter.lock records the source '{}', which porter cannot fetch from",
        entry.source
    )
}

/// `porter mixins publish`: the file must be a mixin porter can install.
fn publish(host: &MixinHost, file: &Path, reference: &str, insecure_registry: bool) -> Result<()> {
    let wasm = read_wasm(file)?;
    let checked = host
        .check_mixin(&wasm, None)
        .with_context(|| format!("{} is not a mixin porter can install", file.display()))?;
    let version = checked.version.to_string();
    let info = ArtifactInfo {
        name: &checked.info.name,
        version: &version,
        exports: &checked.exports,
        imports: &checked.imports,
    };
    let options = RegistryOptions::from_env(insecure_registry);
    let published = oci::push_wasm(reference, &wasm, &info, &options)?;
    let repository = published
        .reference
        .split_once('@')
        .map_or(published.reference.as_str(), |(r, _)| r);
    let repository = strip_tag(repository);
    println!(
        "Published {} {version} ({}) to {}",
        checked.info.name, published.layer_digest, published.reference
    );
    println!("Manifest digest: {}", published.manifest_digest);
    println!(
        "Install it with: porter mixins install {} --reference {repository}@{}",
        checked.info.name, published.manifest_digest
    );
    Ok(())
}

/// `porter mixins search`: Porter's index at the mirror.
fn search(query: Option<&str>, mirror: Option<String>, output: OutputFormat) -> Result<()> {
    let url = http::mirror_url(&mirror_or_default(mirror), "index.json")?;
    let downloader = Downloader::new(Progress::Quiet)?;
    let body = downloader.get(
        &url,
        http::Limit {
            bytes: 16 << 20,
            what: "a mixin index",
        },
    ).map_err(|e| {
        e.context(format!(
            "cannot read the mixin index {url}: check --mirror or PORTER_MIRROR (the index is <mirror>/mixins/index.json)"
        ))
    })?;
    let listings = http::index::parse(&body)
        .map_err(|e| e.context(format!("cannot read the mixin index {url}")))?;
    let found = http::index::search(listings, query)?;
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
            print_table(&["NAME", "DESCRIPTION", "AUTHOR", "URL", "URL TYPE"], &rows)
        }
        format => print_structured(format, &found),
    }
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

/// A `.wasm` to publish, refused early when it is too large.
fn read_wasm(file: &std::path::Path) -> Result<Vec<u8>> {
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if meta.len() > crate::mixin::install::MAX_WASM_BYTES {
        anyhow::bail!(
            "{} is {} MiB, larger than any mixin",
            file.display(),
            meta.len() >> 20
        );
    }
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// `registry:port/repo:tag` -> `registry:port/repo`.
fn strip_tag(reference: &str) -> &str {
    let name_start = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[name_start..].rfind(':') {
        Some(i) => &reference[..name_start + i],
        None => reference,
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
