//! `porter run`: the runtime inside the invocation image, which
//! `/cnab/app/run` starts. The action and the bundle's inputs come from the
//! environment the CNAB runtime sets up (`CNAB_ACTION`,
//! `CNAB_INSTALLATION_NAME`, parameters and credentials as bundle.json
//! maps them); the flags exist for tests and debugging.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use crate::layout;
use crate::runtime::{self, RunOptions, inputs::ProcessEnvironment};

#[derive(Debug, Args)]
pub struct RunCommand {
    /// The manifest the image carries
    #[arg(short = 'f', long = "file", default_value = concat!("/cnab/app", "/porter.yaml"))]
    file: PathBuf,
    /// The action to run (default: CNAB_ACTION)
    #[arg(long)]
    action: Option<String>,
    /// The bundle the CNAB runtime mounts
    #[arg(long, default_value = "/cnab/bundle.json")]
    bundle: PathBuf,
    /// Where the action's outputs are written
    #[arg(long, default_value = layout::OUTPUTS_DIR)]
    outputs_dir: PathBuf,
    /// How long one command of a step may run, in seconds
    #[arg(long, default_value_t = 24 * 3600)]
    command_timeout: u64,
    /// How long a mixin may compute in one step, in seconds (the time it
    /// waits for its commands does not count)
    #[arg(long, default_value_t = 60)]
    mixin_timeout: u64,
}

pub fn run(command: RunCommand) -> Result<()> {
    let app_dir = command
        .file
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    // A CNAB runtime sets CNAB_INSTALLATION_NAME; Porter's client sets its
    // own PORTER_INSTALLATION_* too, and is the only one with a namespace.
    let first = |names: [&str; 2]| {
        names
            .iter()
            .map(|name| var(name))
            .find(|value| !value.is_empty())
            .unwrap_or_default()
    };
    let options = RunOptions {
        mixins_dir: app_dir.join("mixins"),
        app_dir,
        manifest: command.file,
        bundle_json: command.bundle,
        outputs_dir: command.outputs_dir,
        action: command.action.unwrap_or_else(|| var("CNAB_ACTION")),
        installation: first(["CNAB_INSTALLATION_NAME", "PORTER_INSTALLATION_NAME"]),
        namespace: first([
            "PORTER_INSTALLATION_NAMESPACE",
            "CNAB_INSTALLATION_NAMESPACE",
        ]),
        command_timeout: Duration::from_secs(command.command_timeout),
        mixin_timeout: Duration::from_secs(command.mixin_timeout),
    };
    let written = runtime::run(&options, &ProcessEnvironment)?;
    if !written.is_empty() {
        eprintln!("Outputs: {}", written.join(", "));
    }
    Ok(())
}
