//! `porter mixins install | list | uninstall`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use super::shared::{OutputFormat, print_structured, print_table};
use crate::home::PorterHome;
use crate::mixin::{
    InstallOutcome, InstallRequest, Installation, InstalledMixin, MixinHost, MixinStore,
};

#[derive(Debug, Subcommand)]
pub enum MixinsCommand {
    /// Install a mixin (a .wasm component) into PORTER_HOME
    Install {
        /// The mixin's name, as porter.yaml declares it
        name: String,
        /// A local .wasm file
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// Refuse the file unless it is this version of the mixin
        #[arg(long)]
        version: Option<semver::Version>,
        /// Replace this version of the mixin when it is installed with other contents
        #[arg(long)]
        force: bool,
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
            version,
            force,
        } => {
            let host = MixinHost::new(&home)?;
            let request = InstallRequest {
                name: &name,
                version: version.as_ref(),
                force,
                expected_digest: None,
            };
            print_installation(&host.install_file(&request, &file)?);
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
