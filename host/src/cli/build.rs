//! `porter build`: Porter's flags, over [`crate::build`].

use anyhow::{Result, bail};
use clap::Args;

use super::lint::BundleLocation;
use crate::build::{self, BuildOptions};
use crate::home::PorterHome;
use crate::mixin::MixinHost;

#[derive(Debug, Args)]
pub struct BuildCommand {
    #[command(flatten)]
    pub bundle: BundleLocation,
    /// Override the bundle's name
    #[arg(long)]
    pub name: Option<String>,
    /// Override the bundle's version
    #[arg(long)]
    pub version: Option<String>,
    /// Set a value in the manifest's custom section: KEY.SUB=VALUE (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub custom: Vec<(String, String)>,
    /// Build argument for the image: NAME=VALUE (repeatable)
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub build_args: Vec<(String, String)>,
    /// Do not lint the manifest first
    #[arg(long)]
    pub no_lint: bool,
    /// Build the image without the engine's layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Rebuild even when the bundle is up to date (implies --no-cache)
    #[arg(long)]
    pub force: bool,
    /// Write .cnab/ (Dockerfile, bundle.json, staged files) but do not build the image
    #[arg(long)]
    pub no_image: bool,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

pub fn run(command: BuildCommand) -> Result<()> {
    let dir = command.bundle.dir.clone().unwrap_or_else(|| ".".into());
    let options = BuildOptions {
        file: command.bundle.manifest_path(),
        dir,
        name: command.name,
        version: command.version,
        custom: command.custom,
        no_lint: command.no_lint,
        force: command.force,
    };
    for (name, value) in &command.build_args {
        if value.len() > 5000 {
            bail!(
                "--build-arg {name} is {} characters long; build arguments are limited to 5000",
                value.len()
            );
        }
    }
    let host = MixinHost::new(&PorterHome::from_env()?)?;
    let outcome = build::prepare(&options, &host)?;
    for warning in &outcome.warnings {
        eprintln!("{warning}\n");
    }
    match (outcome.up_to_date, command.no_image) {
        (true, true) => {
            println!("Bundle is up-to-date!");
            return Ok(());
        }
        (true, false) => {}
        (false, _) => println!(
            "Wrote {} (Dockerfile, bundle.json, app/)",
            outcome.cnab_dir.display()
        ),
    }
    if command.no_image {
        println!(
            "Skipped the invocation image {} (--no-image)",
            outcome.invocation_image
        );
        return Ok(());
    }
    bail!(
        "building the invocation image {} through the Docker engine is not available in this porter yet; \
         .cnab/ is written: build it with `docker build -f .cnab/Dockerfile .`, or pass --no-image",
        outcome.invocation_image
    )
}
