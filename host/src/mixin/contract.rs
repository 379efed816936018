//! The `porter:mixin` contract as the host sees it: the bindings generated
//! from `wit/`, the host's own types for hook inputs and outputs, and how a
//! component's contract version is read.
//!
//! The host keeps its own types (serializable, independent of any contract
//! version) so the rest of the pipeline never sees generated bindings; a
//! future major version adds a second bindings module here and converts into
//! the same types (wit/VERSIONING.md).

use serde::{Deserialize, Serialize};

pub(crate) mod v1 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "mixin",
    });
}

/// The runtime (porter:mixin@1.1.0): the `commands` import every mixin is
/// linked against, and the `runtime` export a 1.1 mixin has. Shares the
/// 1.0 interfaces with [`v1`], so one host implementation serves both.
pub(crate) mod v1_1 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "mixin-with-runtime",
        with: {
            "porter:mixin/types": super::v1::porter::mixin::types,
            "porter:mixin/host": super::v1::porter::mixin::host,
        },
    });
}

use v1::porter::mixin::types as wit;
use v1_1::porter::mixin::run_types as run_wit;

/// The contract this host provides to mixins (its `host` imports): the
/// `package` line of wit/mixin.wit, read by build.rs.
pub const CONTRACT: &str = env!("PORTER_MIXIN_CONTRACT");
/// The contract versions this host loads, by major.
pub const SUPPORTED_CONTRACT: &str = concat!(
    "porter:mixin@",
    env!("PORTER_MIXIN_CONTRACT_MAJOR"),
    ".x (",
    env!("PORTER_MIXIN_CONTRACT"),
    ")"
);

/// [`CONTRACT`] as a version.
pub fn provided_contract() -> semver::Version {
    semver::Version::parse(CONTRACT).expect("wit/mixin.wit's package version is semver")
}
const CONTRACT_PACKAGE: &str = "porter:mixin/";
const REQUIRED_INTERFACES: [&str; 3] = ["metadata", "build", "lint"];

/// Who a mixin says it is (`metadata.info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MixinInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub homepage: Option<String>,
    pub license: Option<String>,
}

pub use crate::manifest::ActionSteps;

/// Input of the build hook.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildRequest {
    /// The mixin's `config` block, `Null` when declared by name only.
    pub config: serde_json::Value,
    pub actions: Vec<ActionSteps>,
    pub platform: String,
}

/// Output of the build hook.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BuildResponse {
    pub dockerfile_lines: Vec<String>,
    pub warnings: Vec<String>,
}

/// Input of the lint hook.
#[derive(Debug, Clone, PartialEq)]
pub struct LintRequest {
    pub config: serde_json::Value,
    pub actions: Vec<ActionSteps>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepLocation {
    pub action: String,
    pub step_number: u32,
    pub step_description: String,
    pub pointer: String,
}

/// One result of the lint hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    pub code: String,
    pub level: LintLevel,
    pub title: String,
    pub message: String,
    pub url: Option<String>,
    pub location: StepLocation,
}

/// A problem the mixin found in its config or steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    pub pointer: String,
    pub message: String,
}

/// A hook's own refusal (as opposed to a crash, which the sandbox reports).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("invalid configuration: {}", format_problems(.0))]
    InvalidConfig(Vec<ConfigProblem>),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Failed(String),
}

fn format_problems(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                if p.pointer.is_empty() {
                    "/"
                } else {
                    &p.pointer
                },
                p.message
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<wit::MixinInfo> for MixinInfo {
    fn from(i: wit::MixinInfo) -> Self {
        MixinInfo {
            name: i.name,
            version: i.version,
            description: i.description,
            author: i.author,
            homepage: i.homepage,
            license: i.license,
        }
    }
}

impl From<wit::MixinError> for Refusal {
    fn from(e: wit::MixinError) -> Self {
        match e {
            wit::MixinError::InvalidConfig(problems) => Refusal::InvalidConfig(
                problems
                    .into_iter()
                    .map(|p| ConfigProblem {
                        pointer: p.pointer,
                        message: p.message,
                    })
                    .collect(),
            ),
            wit::MixinError::Unsupported(m) => Refusal::Unsupported(m),
            wit::MixinError::Failed(m) => Refusal::Failed(m),
        }
    }
}

impl From<wit::BuildOutput> for BuildResponse {
    fn from(o: wit::BuildOutput) -> Self {
        BuildResponse {
            dockerfile_lines: o.dockerfile_lines,
            warnings: o.warnings,
        }
    }
}

impl From<wit::LintResult> for LintFinding {
    fn from(r: wit::LintResult) -> Self {
        LintFinding {
            code: r.code,
            level: match r.level {
                wit::LintLevel::Error => LintLevel::Error,
                wit::LintLevel::Warning => LintLevel::Warning,
            },
            title: r.title,
            message: r.message,
            url: r.url,
            location: StepLocation {
                action: r.location.action,
                step_number: r.location.step_number,
                step_description: r.location.step_description,
                pointer: r.location.pointer,
            },
        }
    }
}

pub(crate) fn to_wit_actions(actions: &[ActionSteps]) -> Vec<wit::ActionSteps> {
    actions
        .iter()
        .map(|a| wit::ActionSteps {
            action: a.action.clone(),
            steps: a.steps.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}

impl BuildRequest {
    pub(crate) fn to_wit(&self) -> wit::BuildInput {
        wit::BuildInput {
            config: self.config.to_string(),
            actions: to_wit_actions(&self.actions),
            platform: self.platform.clone(),
        }
    }
}

impl LintRequest {
    pub(crate) fn to_wit(&self) -> wit::LintInput {
        wit::LintInput {
            config: self.config.to_string(),
            actions: to_wit_actions(&self.actions),
        }
    }
}

/// A command a mixin asks the host to run (runtime only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRequest {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dir: Option<String>,
    pub show_output: bool,
    pub stdin: Option<Vec<u8>>,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutput {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why the host did not run a command or write a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandRefusal {
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Failed(String),
    #[error("{0}")]
    TimedOut(String),
}

/// Input of the runtime hook: one step of one action.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRequest {
    pub action: String,
    pub config: serde_json::Value,
    /// The step's body, templates rendered.
    pub step: serde_json::Value,
}

/// One output of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutputValue {
    Bytes(Vec<u8>),
    /// A file the host is to read (a path the step names).
    File(String),
}

/// What a step produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepResponse {
    pub outputs: Vec<(String, StepOutputValue)>,
}

impl StepRequest {
    pub(crate) fn to_wit(&self) -> run_wit::StepInput {
        run_wit::StepInput {
            action: self.action.clone(),
            config: self.config.to_string(),
            step: self.step.to_string(),
        }
    }
}

impl From<run_wit::StepResult> for StepResponse {
    fn from(r: run_wit::StepResult) -> Self {
        StepResponse {
            outputs: r
                .outputs
                .into_iter()
                .map(|o| {
                    let value = match o.value {
                        run_wit::OutputValue::Bytes(b) => StepOutputValue::Bytes(b),
                        run_wit::OutputValue::File(p) => StepOutputValue::File(p),
                    };
                    (o.name, value)
                })
                .collect(),
        }
    }
}

impl From<run_wit::Command> for CommandRequest {
    fn from(c: run_wit::Command) -> Self {
        CommandRequest {
            program: c.program,
            args: c.args,
            env: c.env,
            dir: c.dir,
            show_output: c.show_output,
            stdin: c.stdin,
        }
    }
}

impl From<CommandOutput> for run_wit::CommandOutput {
    fn from(o: CommandOutput) -> Self {
        run_wit::CommandOutput {
            exit_code: o.exit_code,
            stdout: o.stdout,
            stderr: o.stderr,
        }
    }
}

impl From<CommandRefusal> for run_wit::CommandError {
    fn from(e: CommandRefusal) -> Self {
        match e {
            CommandRefusal::NotAllowed(m) => run_wit::CommandError::NotAllowed(m),
            CommandRefusal::Failed(m) => run_wit::CommandError::Failed(m),
            CommandRefusal::TimedOut(m) => run_wit::CommandError::TimedOut(m),
        }
    }
}

/// Reads which version of the contract a component implements from its
/// export names (`porter:mixin/build@1.0.0`), and checks that this host can
/// load it. Errors say what the component exports instead.
pub fn contract_version<'a>(
    export_names: impl IntoIterator<Item = &'a str>,
) -> Result<semver::Version, String> {
    let names: Vec<&str> = export_names.into_iter().collect();
    let mut versions = Vec::new();
    for name in &names {
        if let Some(rest) = name.strip_prefix(CONTRACT_PACKAGE)
            && let Some((interface, version)) = rest.split_once('@')
            && let Ok(version) = semver::Version::parse(version)
        {
            versions.push((interface, version));
        }
    }
    let Some(newest) = versions.iter().map(|(_, v)| v.clone()).max() else {
        let shown = if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        };
        return Err(format!(
            "it does not implement the Porter mixin contract ({SUPPORTED_CONTRACT}): it exports {shown}. \
             Build it with mixin-sdk, or export the `mixin` world of porter:mixin"
        ));
    };
    if newest.major != provided_contract().major {
        return Err(format!(
            "it implements porter:mixin@{newest}, and this porter supports {SUPPORTED_CONTRACT}: \
             install a porter that supports it, or a release of the mixin built for {}.x",
            provided_contract().major
        ));
    }
    let missing: Vec<&str> = REQUIRED_INTERFACES
        .iter()
        .copied()
        .filter(|iface| {
            !versions
                .iter()
                .any(|(i, v)| i == iface && v.major == provided_contract().major)
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "it implements only part of the Porter mixin contract: it lacks porter:mixin/{}",
            missing.join(", porter:mixin/")
        ));
    }
    Ok(newest)
}

/// A mixin built against a newer minor of the contract that imports a host
/// function this porter does not have (wit/VERSIONING.md, rule 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this mixin needs a newer porter: it imports {import} (porter:mixin@{version}), \
     and this porter provides porter:mixin@{provided}. Upgrade porter, or install \
     a release of the mixin built for porter:mixin@{provided}",
    provided = CONTRACT
)]
pub struct NeedsNewerPorter {
    /// `<interface>#<function>`, or the interface when it has no function.
    pub import: String,
    /// The contract version the mixin imports it from.
    pub version: semver::Version,
}

impl NeedsNewerPorter {
    /// Reads the linker's refusal of a component's imports (its error chain,
    /// outermost first): `None` unless what is missing is a contract import
    /// newer than [`CONTRACT`]. wasmtime words it as "component
    /// imports instance `porter:mixin/host@1.1.0`, but a matching
    /// implementation was not found in the linker", caused by "instance
    /// export `progress` has the wrong type".
    pub fn from_link_error<S: AsRef<str>>(chain: impl IntoIterator<Item = S>) -> Option<Self> {
        let mut chain = chain.into_iter();
        let import = chain.find_map(|m| {
            let rest = m.as_ref().strip_prefix("component imports instance ")?;
            quoted(rest).map(str::to_string)
        })?;
        let (interface, version) = import.strip_prefix(CONTRACT_PACKAGE)?.split_once('@')?;
        let version = semver::Version::parse(version).ok()?;
        if version <= provided_contract() {
            return None;
        }
        let function = chain.find_map(|m| {
            let rest = m.as_ref().strip_prefix("instance export ")?;
            quoted(rest).map(str::to_string)
        });
        let import = match function {
            Some(function) => format!("{interface}#{function}"),
            None => interface.to_string(),
        };
        Some(NeedsNewerPorter { import, version })
    }
}

/// The text between the first pair of backquotes.
fn quoted(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once('`')?;
    rest.split_once('`').map(|(inside, _)| inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_contract_version_from_exports() {
        let v = contract_version([
            "porter:mixin/metadata@1.0.0",
            "porter:mixin/build@1.0.0",
            "porter:mixin/lint@1.0.0",
        ])
        .unwrap();
        assert_eq!(v, semver::Version::new(1, 0, 0));
    }

    #[test]
    fn a_newer_minor_is_accepted() {
        let v = contract_version([
            "porter:mixin/metadata@1.2.0",
            "porter:mixin/build@1.2.0",
            "porter:mixin/lint@1.2.0",
            "porter:mixin/runtime@1.2.0",
        ])
        .unwrap();
        assert_eq!(v, semver::Version::new(1, 2, 0));
    }

    #[test]
    fn other_components_and_majors_are_refused_with_what_they_export() {
        let err = contract_version(["wasi:cli/run@0.2.6"]).unwrap_err();
        assert!(
            err.contains("does not implement the Porter mixin contract"),
            "{err}"
        );
        assert!(err.contains("wasi:cli/run@0.2.6"), "{err}");

        let err = contract_version(["porter:mixin/metadata@2.0.0"]).unwrap_err();
        assert!(err.contains("porter:mixin@2.0.0"), "{err}");

        let err = contract_version(["porter:mixin/metadata@1.0.0", "porter:mixin/build@1.0.0"])
            .unwrap_err();
        assert!(err.contains("lacks porter:mixin/lint"), "{err}");
    }

    #[test]
    fn a_missing_import_from_a_newer_minor_needs_a_newer_porter() {
        let newer = NeedsNewerPorter::from_link_error([
            "component imports instance `porter:mixin/host@1.2.0`, but a matching implementation was not found in the linker",
            "instance export `progress` has the wrong type",
            "function implementation is missing",
        ])
        .unwrap();
        assert_eq!(newer.import, "host#progress");
        assert_eq!(newer.version, semver::Version::new(1, 2, 0));
        assert!(
            newer.to_string().starts_with(
                "this mixin needs a newer porter: it imports host#progress (porter:mixin@1.2.0), \
                 and this porter provides porter:mixin@1.1.0. Upgrade porter"
            ),
            "{newer}"
        );
    }

    #[test]
    fn other_missing_imports_are_not_about_the_contract_version() {
        for chain in [
            // An import of the contract this porter provides: a broken mixin.
            [
                "component imports instance `porter:mixin/host@1.0.0`, but a matching implementation was not found in the linker",
                "instance export `progress` has the wrong type",
            ],
            // Something porter never gives mixins.
            [
                "component imports instance `wasi:http/outgoing-handler@0.2.6`, but a matching implementation was not found in the linker",
                "instance export `handle` has the wrong type",
            ],
        ] {
            assert_eq!(NeedsNewerPorter::from_link_error(chain), None);
        }
    }
}
