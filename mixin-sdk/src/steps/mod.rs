//! Porter's step engine: how a step's `command`, `arguments`, `flags`,
//! `outputs` and `ignoreError` become a command and its outputs.
//!
//! At runtime the host gives a mixin one rendered step of an action; the
//! mixin carries it out by asking the host to run
//! [`Command`](crate::command::Command)s (a component cannot start
//! processes) and answers with the step's
//! [`StepOutputs`](crate::command::StepOutputs).
//! Porter's exec, helm3, terraform, az, aws, gcloud and docker mixins all
//! share one engine for this; this module is that engine, rule for rule,
//! so a mixin written with it behaves as its Porter original.
//!
//! # The whole step: exec
//!
//! A mixin whose steps look like exec's reads them as [`ExecStep`] and
//! hands them to [`run_step`]:
//!
//! ```
//! use mixin_sdk::command::{Command, CommandOutput, OutputValue};
//! use mixin_sdk::steps::{run_step, ExecStep};
//!
//! let step: ExecStep = mixin_sdk::serde_json::from_str(r#"{
//!     "description": "Say hello",
//!     "command": "bash",
//!     "flags": {"c": "'echo Hello World'"},
//!     "outputs": [{"name": "who", "regex": "Hello (.*)"}]
//! }"#).unwrap();
//!
//! // In a mixin, `run` is the SDK's call to the host; here, a fake.
//! let mut run = |cmd: &Command| {
//!     assert_eq!(cmd.argv(), ["bash", "-c", "echo Hello World"]);
//!     Ok(CommandOutput::ok("Hello World\n"))
//! };
//! let outputs = run_step(&step, &mut run).unwrap();
//! assert_eq!(outputs.get("who"), Some(&OutputValue::Bytes(b"World".to_vec())));
//! ```
//!
//! # Parts of it: helm3, terraform, aws
//!
//! Mixins with their own step shapes use the parts. They build [`Flags`]
//! (read from the step's `flags`, plus their own), put them in Porter's
//! argv order with [`argv`], and run the result with [`run_command`], which
//! applies [`IgnoreError`] and takes the [`OutputSpec`]s:
//!
//! ```
//! use mixin_sdk::command::{Command, CommandOutput};
//! use mixin_sdk::steps::{argv, run_command, Flag, Flags, IgnoreError, OutputSpec};
//!
//! // aws: `aws <service> <operation> <arguments> <flags + --output json>`.
//! let mut flags: Flags =
//!     mixin_sdk::serde_json::from_str(r#"{"instance-ids": "i-1 i-2"}"#).unwrap();
//! flags.push(Flag::new("output", "json"));
//! let argv = argv("aws", &["ec2", "describe-instances"], &flags, &[] as &[&str]);
//! assert_eq!(
//!     argv,
//!     ["aws", "ec2", "describe-instances", "--instance-ids", "i-1", "i-2", "--output", "json"]
//! );
//!
//! // terraform spells every flag with one dash.
//! let tf = Flags::new()
//!     .with(Flag::bare("auto-approve"))
//!     .with(Flag::new("var", "'region=eu west'"))
//!     .single_dash();
//! assert_eq!(tf.to_args(), ["-auto-approve", "-var", "region=eu west"]);
//!
//! let command = Command::from_argv(argv).unwrap().quiet();
//! let outputs = [OutputSpec::json_path("id", "$.Reservations[0].Instances[0].InstanceId")];
//! let stdout = r#"{"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}]}"#;
//! let mut run = |_: &Command| Ok(CommandOutput::ok(stdout));
//! let values = run_command(&command, &IgnoreError::default(), &outputs, &mut run).unwrap();
//! assert_eq!(values.len(), 1);
//! ```
//!
//! # The rules
//!
//! - **One step.** [`single_step`]: an action holding other than one step
//!   is `expected a single step, but got N`.
//! - **argv** ([`argv`]): `<command> <arguments…> <flags…>
//!   <suffix-arguments…>`.
//! - **Flags** ([`Flags`]): sorted by name; one-character names get `-`,
//!   longer ones `--` ([`Flags::single_dash`]: always `-`, as terraform);
//!   null is a bare flag; numbers and booleans are printed as Go prints
//!   them; a list repeats the flag; a list item that is not a string is
//!   `invalid yaml type for flag <name>: <type>`.
//! - **Splitting** ([`split_words`]): every flag token, names and values,
//!   is split on unquoted whitespace; quotes group words and are removed; a
//!   backslash keeps the next character from splitting or quoting; an
//!   empty value disappears; a token with an unmatched quote is kept whole.
//!   Arguments and suffix arguments are never split.
//! - **Environment and directory**: `envs` are added to the command's
//!   environment; `dir` other than `""`/`"."` is its working directory
//!   (relative to `/cnab/app`, the default).
//! - **Output**: shown while it runs unless `suppress-output`; always
//!   captured.
//! - **Failures** ([`StepError`]): `couldn't run command <dir> <argv>:
//!   <err>` when it cannot start; `error running command <dir> <argv>:
//!   exit status N` when it fails, unless [`IgnoreError`] forgives it
//!   (`all`, then `exitCodes`, then stderr `contains`, then stderr
//!   `regex`).
//! - **Outputs** ([`extract_outputs`]): every jsonPath output, then every
//!   regex output, then every path output.
//!
//! # Regular expressions and JSONPath
//!
//! Regexes (`regex` outputs, `ignoreError.output.regex`) use Go's RE2
//! syntax, which the `regex` crate shares almost entirely; the few places
//! they differ (`\d`, `\w`, `\s`, `\b` are ASCII in Go; `\Q…\E`; a literal
//! `[` in a class; a `{` that starts no repetition) are rewritten to mean
//! what they mean in Go.
//!
//! jsonPath outputs use RFC 9535 JSONPath (the `serde_json_path` crate),
//! where Porter uses PaesslerAG/jsonpath. The common forms mean the same
//! in both: `$.Instances[0].InstanceId`, `$['key with spaces']`, `$[-1]`,
//! `$[*].id`, `$..id`, `$[0:2]`, `$[0,2]`. As in Porter, a path of only
//! names and indexes gives one value and fails when it is missing (`unknown
//! key x`); any other path gives an array of what it selects. Where the
//! two differ:
//!
//! - Filters: RFC 9535 writes `$[?@.size > 1]` (Paessler's `$[?(@.size >
//!   1)]` is accepted too); Paessler's script expressions (`$[(@.length-1)]`)
//!   and arithmetic are not supported; the RFC's functions (`length()`,
//!   `match()`, ...) are not compiled in.
//! - Names with characters other than letters, digits and `_` need the
//!   bracket form: `$['machine-type']`, not `$.machine-type`.
//! - A wildcard over an object selects its members in document order.
//! - Strings in brackets follow JSON's escapes (`'\u263a'`).

mod error;
mod exec;
mod flags;
mod go;
mod ignore;
mod json;
mod outputs;
mod re2;
mod split;

pub use error::StepError;
pub use exec::{ExecStep, argv, run_command, run_step, single_step};
pub use flags::{Dashes, Flag, FlagError, Flags};
pub use ignore::{IgnoreError, IgnoreErrorOutput, InvalidIgnoreRegex};
pub use outputs::{OutputSource, OutputSpec, extract_outputs};
pub use split::split_words;

/// Reads a field given as null as its default (Porter's YAML leaves such a
/// field empty).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
