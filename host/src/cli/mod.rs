//! The `porter` command line: parse, call the library, print. One module
//! per command group.

mod build;
mod lint;
mod mixins;
mod run;
mod schema;
mod shared;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use shared::OutputFormat;

/// Version line: porter's own version and the mixin contract it speaks.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (mixin contract porter:mixin@",
    env!("PORTER_MIXIN_CONTRACT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "porter",
    version,
    long_version = LONG_VERSION,
    about = "Build CNAB bundles from porter.yaml, with mixins as sandboxed WebAssembly components"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the bundle: Dockerfile, bundle.json and the invocation image
    Build(build::BuildCommand),
    /// Check porter.yaml: validation, Porter's lint rules and each mixin's
    Lint(lint::LintCommand),
    /// Print the porter.yaml JSON Schema, with every installed mixin's merged in
    Schema,
    /// Install, list and remove mixins
    #[command(subcommand, visible_alias = "mixin")]
    Mixins(mixins::MixinsCommand),
    /// Run an action of the bundle: the runtime inside the invocation image
    #[command(hide = true)]
    Run(run::RunCommand),
}

/// Runs the command line; errors are printed with their causes and what to
/// do, and give exit status 1 (130 when Ctrl-C stopped the work, as a shell
/// reports SIGINT).
pub fn main() -> ExitCode {
    // The process ends with the command: leave its memory to the exit.
    crate::mixin::leave_to_process_exit();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(command) => build::run(command),
        Command::Lint(command) => lint::run(command),
        Command::Mixins(command) => mixins::run(command),
        Command::Schema => schema::run(),
        Command::Run(command) => run::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A report of diagnostics says `error:` in each of them.
            match error.downcast_ref::<crate::manifest::ManifestErrors>() {
                Some(report) => eprintln!("{report}"),
                None => eprintln!("Error: {error}"),
            }
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {}", cause.to_string().replace('\n', "\n  "));
            }
            if error.is::<crate::docker::Interrupted>() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
