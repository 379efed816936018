//! Why a step failed, in Porter's words.

use std::fmt;

/// Why a step failed. The messages are Porter's; `command` is the command
/// as Porter prints it: its working directory (empty for the bundle
/// directory), a space, then the argv joined with spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepError {
    /// An action did not hold exactly one step: `expected a single step,
    /// but got N`.
    NotSingleStep(usize),
    /// The host could not start the command: `couldn't run command
    /// <command>: <message>`.
    Start { command: String, message: String },
    /// The command failed and `ignoreError` did not forgive it: `error
    /// running command <command>: exit status N`. `invalid_regex` is
    /// Porter's report of an `ignoreError` regex that does not compile
    /// (Porter logs it beside the error; here it is the message's second
    /// line).
    Exit {
        command: String,
        exit_code: Option<i32>,
        invalid_regex: Option<String>,
    },
    /// An output could not be taken; `message` is Porter's whole message.
    Output { name: String, message: String },
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::NotSingleStep(n) => write!(f, "expected a single step, but got {n}"),
            StepError::Start { command, message } => {
                write!(f, "couldn't run command {command}: {message}")
            }
            StepError::Exit {
                command,
                exit_code,
                invalid_regex,
            } => {
                write!(f, "error running command {command}: ")?;
                match exit_code {
                    Some(code) => write!(f, "exit status {code}")?,
                    None => write!(f, "killed by a signal")?,
                }
                if let Some(problem) = invalid_regex {
                    write!(f, "\n{problem}")?;
                }
                Ok(())
            }
            StepError::Output { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for StepError {}

impl From<StepError> for crate::MixinError {
    fn from(error: StepError) -> Self {
        crate::MixinError::Failed(error.to_string())
    }
}
