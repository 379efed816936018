//! What a mixin does while the bundle runs (`porter run` inside the
//! invocation image): [`crate::Mixin::run`] is given one step of the
//! current action, every template already rendered, and carries it out by
//! asking the host to run commands ([`Command::run`]). A component cannot
//! start processes or open files itself: the host runs what it asks for,
//! streams the output (masking sensitive values) and hands back what the
//! command wrote.
//!
//! Outside WebAssembly (a mixin's own `cargo test`) there is no host:
//! [`Command::run`] starts the process itself and [`write_file`] writes
//! the file relative to the current directory, so runtime code stays
//! testable natively.

use crate::command::{Command, CommandOutput};

/// What [`crate::Mixin::run`] is given: one step of one action.
#[derive(Debug, Clone)]
pub struct RunInput<C, S> {
    /// `install`, `upgrade`, `uninstall` or a custom action's name.
    pub action: String,
    /// The mixin's `config` block from porter.yaml.
    pub config: C,
    /// The step's body, templates rendered.
    pub step: S,
}

/// Why the host did not run a command or write a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Not now: commands run only while the bundle runs, never at build or
    /// lint time.
    NotAllowed(String),
    /// It could not be started (or the file not written).
    Failed(String),
    /// It ran longer than the host allows and was stopped.
    TimedOut(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::NotAllowed(m) | CommandError::Failed(m) | CommandError::TimedOut(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for CommandError {}

impl Command {
    /// Runs the command to its end in the invocation image. A non-zero exit
    /// is not an error: read [`CommandOutput::exit_code`].
    pub fn run(&self) -> Result<CommandOutput, CommandError> {
        imp::run(self)
    }
}

/// Writes a file a tool reads (a variables file), under the bundle
/// directory: `path` is relative to `/cnab/app` and may not leave it.
pub fn write_file(path: &str, contents: &[u8]) -> Result<(), CommandError> {
    imp::write_file(path, contents)
}

#[cfg(target_family = "wasm")]
mod imp {
    use super::CommandError;
    use crate::bindings::porter::mixin::commands;
    use crate::bindings::porter::mixin::run_types as wit;
    use crate::command::{Command, CommandOutput};

    pub fn run(command: &Command) -> Result<CommandOutput, CommandError> {
        let request = wit::Command {
            program: command.program.clone(),
            args: command.args.clone(),
            env: command.env.clone(),
            dir: command.dir.clone(),
            show_output: command.show_output,
            stdin: command.stdin.clone(),
        };
        commands::run(&request)
            .map(|out| CommandOutput {
                exit_code: out.exit_code,
                stdout: out.stdout,
                stderr: out.stderr,
            })
            .map_err(from_wit)
    }

    pub fn write_file(path: &str, contents: &[u8]) -> Result<(), CommandError> {
        commands::write_file(path, contents).map_err(from_wit)
    }

    fn from_wit(error: wit::CommandError) -> CommandError {
        match error {
            wit::CommandError::NotAllowed(m) => CommandError::NotAllowed(m),
            wit::CommandError::Failed(m) => CommandError::Failed(m),
            wit::CommandError::TimedOut(m) => CommandError::TimedOut(m),
        }
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::io::Write;
    use std::process::Stdio;

    use super::CommandError;
    use crate::command::{Command, CommandOutput};

    pub fn run(command: &Command) -> Result<CommandOutput, CommandError> {
        let mut process = std::process::Command::new(&command.program);
        process
            .args(&command.args)
            .envs(command.env.iter().cloned());
        if let Some(dir) = &command.dir {
            process.current_dir(dir);
        }
        process
            .stdin(if command.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = process
            .spawn()
            .map_err(|e| CommandError::Failed(format!("{}: {e}", command.program)))?;
        if let (Some(bytes), Some(mut stdin)) = (&command.stdin, child.stdin.take()) {
            stdin
                .write_all(bytes)
                .map_err(|e| CommandError::Failed(e.to_string()))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| CommandError::Failed(e.to_string()))?;
        if command.show_output {
            std::io::stdout().write_all(&out.stdout).ok();
            std::io::stderr().write_all(&out.stderr).ok();
        }
        Ok(CommandOutput {
            exit_code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    pub fn write_file(path: &str, contents: &[u8]) -> Result<(), CommandError> {
        std::fs::write(path, contents).map_err(|e| CommandError::Failed(format!("{path}: {e}")))
    }
}
