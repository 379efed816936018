//! The exec-style step and running it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::Value;

use super::{Flags, IgnoreError, OutputSpec, StepError, extract_outputs, go, null_as_default};
use crate::command::{Command, CommandOutput, StepOutputs};

/// The body of an exec-style step, field for field Porter's exec mixin
/// schema:
///
/// ```yaml
/// exec:
///   description: Install a VM and collect its ID
///   command: gcloud
///   dir: infra                    # working directory ("" or "." = /cnab/app)
///   arguments: [compute, instances, create]
///   flags: {project: porterci, zone: us-central1-a}
///   suffix-arguments: [my-vm]
///   envs: {SECRET: super-secret}
///   suppress-output: false
///   outputs:
///     - {name: vms, jsonPath: "$[*].id"}
///   ignoreError:
///     output: {contains: ["already exists"]}
/// ```
///
/// Unknown fields are accepted and ignored, as Porter ignores them (the
/// host warns about them against the mixin's schema). A field given as
/// null is the field left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ExecStep {
    #[serde(default)]
    pub description: Option<String>,
    /// The program to run.
    pub command: String,
    /// The working directory; None, `""` and `"."` are the bundle
    /// directory.
    #[serde(default)]
    pub dir: Option<String>,
    /// Arguments before the flags (passed as they are, never split).
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub flags: Flags,
    /// Arguments after the flags (passed as they are, never split).
    #[serde(
        default,
        rename = "suffix-arguments",
        deserialize_with = "null_as_default"
    )]
    pub suffix_arguments: Vec<String>,
    /// Added to the command's environment. Numbers and booleans are taken
    /// as their text.
    #[serde(default, deserialize_with = "env_map")]
    pub envs: BTreeMap<String, String>,
    /// Capture the output without showing it.
    #[serde(
        default,
        rename = "suppress-output",
        deserialize_with = "null_as_default"
    )]
    pub suppress_output: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub outputs: Vec<OutputSpec>,
    #[serde(default, rename = "ignoreError", deserialize_with = "null_as_default")]
    pub ignore_error: IgnoreError,
}

fn env_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let map: Option<BTreeMap<String, Value>> = Option::deserialize(deserializer)?;
    map.unwrap_or_default()
        .into_iter()
        .map(|(name, value)| match go::scalar_v(&value) {
            Some(text) => Ok((name, text)),
            None => Err(D::Error::custom(format!(
                "invalid type for environment variable {name}: {}",
                go::type_name(&value)
            ))),
        })
        .collect()
}

impl ExecStep {
    /// A step that runs `command` with nothing else set.
    pub fn new(command: impl Into<String>) -> Self {
        ExecStep {
            command: command.into(),
            ..ExecStep::default()
        }
    }

    /// The command this step runs: [`argv`] in Porter's order, the `envs`
    /// (sorted by name), the `dir` (none for `""` and `"."`), output shown
    /// unless `suppress-output`.
    pub fn to_command(&self) -> Command {
        let argv = argv(
            &self.command,
            &self.arguments,
            &self.flags,
            &self.suffix_arguments,
        );
        let mut command = Command::from_argv(argv).unwrap_or_default();
        command.env = self
            .envs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        command.dir = self.dir.clone().filter(|dir| !dir.is_empty() && dir != ".");
        command.show_output = !self.suppress_output;
        command
    }
}

/// The argv of a step, in Porter's order: `command`, then `arguments`,
/// then the flags ([`Flags::to_args`]: sorted, spelled with the flags'
/// dashes, every token split into words), then `suffix_arguments`. Only
/// the flags are split.
///
/// ```
/// use mixin_sdk::steps::{argv, Flag, Flags};
///
/// let flags = Flags::new().with(Flag::new("tag", "getporter/porter-hello:latest"));
/// assert_eq!(
///     argv("docker", &["build"], &flags, &["."]),
///     ["docker", "build", "--tag", "getporter/porter-hello:latest", "."]
/// );
/// ```
pub fn argv<A, S>(
    command: &str,
    arguments: &[A],
    flags: &Flags,
    suffix_arguments: &[S],
) -> Vec<String>
where
    A: AsRef<str>,
    S: AsRef<str>,
{
    std::iter::once(command.to_string())
        .chain(arguments.iter().map(|a| a.as_ref().to_string()))
        .chain(flags.to_args())
        .chain(suffix_arguments.iter().map(|a| a.as_ref().to_string()))
        .collect()
}

/// The one step of an action: Porter runs steps one at a time, and refuses
/// anything else with `expected a single step, but got N`.
pub fn single_step<T>(steps: impl IntoIterator<Item = T>) -> Result<T, StepError> {
    let mut steps: Vec<T> = steps.into_iter().collect();
    if steps.len() != 1 {
        return Err(StepError::NotSingleStep(steps.len()));
    }
    Ok(steps.remove(0))
}

/// Runs an exec-style step: [`ExecStep::to_command`] run once through
/// `run`, then [`run_command`]'s handling of failures and outputs.
///
/// `run` asks the host to run the command (in a mixin, the SDK's runtime
/// glue passes it; in a test, a fake). An `Err` from it means the command
/// could not be started.
pub fn run_step(
    step: &ExecStep,
    run: &mut dyn FnMut(&Command) -> Result<CommandOutput, String>,
) -> Result<StepOutputs, StepError> {
    run_command(&step.to_command(), &step.ignore_error, &step.outputs, run)
}

/// Runs `command` once through `run` the way Porter's step engine does,
/// for mixins that build their own command (aws, gcloud, az, helm3's
/// custom actions):
///
/// 1. `run` returning `Err` fails with `couldn't run command <dir> <argv>:
///    <err>`.
/// 2. A non-zero exit (or a signal) is checked against `ignore`; unless it
///    is forgiven, it fails with `error running command <dir> <argv>: exit
///    status N`.
/// 3. The outputs are taken from the captured stdout
///    ([`extract_outputs`]).
///
/// A forgiven failure still gives outputs: Porter's engine returns the
/// command's stdout as from a success and goes on to the outputs, so a
/// step that ignores `already exists` can still capture what the command
/// printed.
pub fn run_command(
    command: &Command,
    ignore: &IgnoreError,
    outputs: &[OutputSpec],
    run: &mut dyn FnMut(&Command) -> Result<CommandOutput, String>,
) -> Result<StepOutputs, StepError> {
    let printed = format!(
        "{} {}",
        command.dir.as_deref().unwrap_or(""),
        command.argv().join(" ")
    );
    let output = run(command).map_err(|message| StepError::Start {
        command: printed.clone(),
        message,
    })?;
    if !output.success() {
        let failed = |invalid_regex| StepError::Exit {
            command: printed.clone(),
            exit_code: output.exit_code,
            invalid_regex,
        };
        match ignore.forgives(output.exit_code, &output.stderr_text()) {
            Ok(true) => {}
            Ok(false) => return Err(failed(None)),
            Err(invalid) => return Err(failed(Some(invalid.to_string()))),
        }
    }
    extract_outputs(outputs, &output.stdout)
}
