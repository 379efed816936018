//! `porter mixins install | publish | list | uninstall`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::shared::{OutputFormat, print_structured, print_table};
use crate::home::PorterHome;
use crate::mixin::{
    InstallOutcome, InstallRequest, Installation, InstalledMixin, MixinHost, MixinStore,
};
use crate::oci::{self, RegistryOptions, artifact::ArtifactInfo};

#[derive(Debug, Subcommand)]
pub enum MixinsCommand {
    /// Install a mixin (a .wasm component) into PORTER_HOME
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Install {
        /// The mixin's name, as porter.yaml declares it
        name: String,
        /// A local .wasm file
        #[arg(long, value_name = "PATH", group = "source")]
        file: Option<PathBuf>,
        /// An OCI reference: REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST
        /// (a wasm artifact, as `porter mixins publish` pushes)
        #[arg(long, value_name = "REFERENCE", group = "source")]
        reference: Option<String>,
        /// Refuse the mixin unless its .wasm has this digest (sha256:...)
        #[arg(long, value_name = "DIGEST")]
        digest: Option<String>,
        /// Talk plain HTTP to the registry (always allowed for loopback registries)
        #[arg(long, requires = "reference")]
        insecure_registry: bool,
        /// Refuse the file unless it is this version of the mixin
        #[arg(long)]
        version: Option<semver::Version>,
        /// Replace this version of the mixin when it is installed with other contents
        #[arg(long)]
        force: bool,
    },
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
            reference,
            digest,
            insecure_registry,
            version,
            force,
        } => {
            if let Some(digest) = &digest
                && !oci::artifact::is_sha256_digest(digest)
            {
                anyhow::bail!(
                    "--digest {digest} is not a sha256 digest: give it as sha256:<64 lowercase hex digits>, \
                     as `porter mixins list -o json` shows digests"
                );
            }
            let host = MixinHost::new(&home)?;
            let mut request = InstallRequest {
                name: &name,
                version: version.as_ref(),
                force,
                expected_digest: digest.clone(),
            };
            let installation = match (file, reference) {
                (Some(file), _) => host.install_file(&request, &file)?,
                (None, Some(reference)) => {
                    let options = RegistryOptions::from_env(insecure_registry);
                    let pulled = oci::pull_expecting(&reference, digest.as_deref(), &options)?;
                    request.expected_digest = Some(pulled.layer_digest.clone());
                    host.install_bytes(&request, &pulled.wasm, &pulled.source)
                        .with_context(|| format!("cannot install {reference} as mixin {name}"))?
                }
                (None, None) => unreachable!("clap requires a source"),
            };
            print_installation(&installation);
        }
        MixinsCommand::Publish {
            file,
            reference,
            insecure_registry,
        } => {
            let host = MixinHost::new(&home)?;
            let wasm = read_wasm(&file)?;
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
            let published = oci::push_wasm(&reference, &wasm, &info, &options)?;
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
