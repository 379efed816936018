//! `porter build`: Porter's flags, over [`crate::build`].

use anyhow::Result;
use clap::Args;

use super::shared::BundleLocation;
use crate::build::{self, BuildOptions, ImageEngine};
use crate::docker::Engine;
use crate::download::Progress;
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
    /// Record that publishing keeps the tags of the images the bundle references
    #[arg(long)]
    pub preserve_tags: bool,
    /// Build with exactly the mixin versions and digests porter.lock records
    #[arg(long)]
    pub locked: bool,
    /// Download the files the manifest's files: section declares (also allow-file-downloads in Porter's config, or PORTER_ALLOW_FILE_DOWNLOADS)
    #[arg(long)]
    pub allow_file_downloads: bool,
    /// Don't require TLS for the registries dependencies are resolved from
    /// (loopback registries never need it)
    #[arg(long)]
    pub insecure_registry: bool,
}

/// Bytes: the largest file `files:` may download (default 1 GiB).
const MAX_FILE_BYTES_VARIABLE: &str = "PORTER_MAX_FILE_DOWNLOAD_BYTES";

fn max_file_bytes() -> Result<Option<u64>> {
    let Some(text) = std::env::var_os(MAX_FILE_BYTES_VARIABLE) else {
        return Ok(None);
    };
    let text = text.to_string_lossy();
    match text.trim().parse::<u64>() {
        Ok(bytes) if bytes > 0 => Ok(Some(bytes)),
        _ => anyhow::bail!(
            "{MAX_FILE_BYTES_VARIABLE}={text} is not a number of bytes: give e.g. 2147483648 (2 GiB)"
        ),
    }
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

pub fn run(command: BuildCommand) -> Result<()> {
    let home = PorterHome::from_env()?;
    let config = super::shared::porter_config(&home)?;
    let options = BuildOptions {
        file: command.bundle.manifest_path(),
        dir: command.bundle.dir(),
        name: command.name,
        version: command.version,
        custom: command.custom,
        build_args: command.build_args,
        no_lint: command.no_lint,
        no_cache: command.no_cache,
        force: command.force,
        preserve_tags: command.preserve_tags,
        experimental: config.experimental,
        locked: command.locked,
        // Porter: the flag, or else its config.
        allow_file_downloads: command.allow_file_downloads || config.allow_file_downloads,
        max_file_bytes: max_file_bytes()?,
        download_progress: Progress::Stderr,
        insecure_registry: command.insecure_registry,
    };
    let host = MixinHost::new(&home)?;
    // Connected first: an engine that is down is reported before any work.
    let engine = if command.no_image {
        None
    } else {
        Some(Engine::connect()?)
    };
    let engine = engine.as_ref().map(|e| e as &dyn ImageEngine);
    let prepared = build::prepare(&options, &host, engine)?;
    // Before the engine's progress, which can be long.
    for warning in prepared.warnings() {
        eprintln!("{warning}\n");
    }
    let outcome = prepared.finish(engine)?;
    if outcome.up_to_date {
        println!("Bundle is up-to-date!");
        return Ok(());
    }
    println!(
        "Wrote {} (Dockerfile, bundle.json, app/)",
        outcome.cnab_dir.display()
    );
    match outcome.built_image {
        Some(image) => println!(
            "Built the invocation image {} ({})",
            outcome.invocation_image, image.id
        ),
        None => println!(
            "Skipped the invocation image {} (--no-image)",
            outcome.invocation_image
        ),
    }
    Ok(())
}
