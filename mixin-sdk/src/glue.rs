//! Between the contract's generated types and the SDK's: what
//! [`crate::export_mixin!`] calls.

use crate::bindings::porter::mixin::run_types as run_wit;
use crate::bindings::porter::mixin::types as wit;
use crate::command::OutputValue;
use crate::input::{decode_actions, decode_config, decode_step};
use crate::{BuildInput, LintInput, LintLevel, Mixin, MixinError, RunInput};

pub fn info<M: Mixin>() -> wit::MixinInfo {
    let info = M::info();
    wit::MixinInfo {
        name: info.name,
        version: info.version,
        description: info.description,
        author: info.author,
        homepage: info.homepage,
        license: info.license,
    }
}

pub fn schema<M: Mixin>() -> String {
    M::schema()
}

pub fn build<M: Mixin>(input: wit::BuildInput) -> Result<wit::BuildOutput, wit::MixinError> {
    let typed = (|| {
        Ok(BuildInput {
            config: decode_config(&input.config)?,
            actions: decode_actions(input.actions)?,
            platform: input.platform,
        })
    })()
    .map_err(to_wit_error)?;
    let output = M::build(typed).map_err(to_wit_error)?;
    Ok(wit::BuildOutput {
        dockerfile_lines: output.dockerfile_lines,
        warnings: output.warnings,
    })
}

pub fn lint<M: Mixin>(input: wit::LintInput) -> Result<Vec<wit::LintResult>, wit::MixinError> {
    let typed = (|| {
        Ok(LintInput {
            config: decode_config(&input.config)?,
            actions: decode_actions(input.actions)?,
        })
    })()
    .map_err(to_wit_error)?;
    let results = M::lint(typed).map_err(to_wit_error)?;
    Ok(results
        .into_iter()
        .map(|r| wit::LintResult {
            code: r.code,
            level: match r.level {
                LintLevel::Error => wit::LintLevel::Error,
                LintLevel::Warning => wit::LintLevel::Warning,
            },
            title: r.title,
            message: r.message,
            url: r.url,
            location: wit::StepLocation {
                action: r.location.action,
                step_number: r.location.step_number,
                step_description: r.location.step_description,
                pointer: r.location.pointer,
            },
        })
        .collect())
}

pub fn run<M: Mixin>(input: run_wit::StepInput) -> Result<run_wit::StepResult, wit::MixinError> {
    let typed = (|| {
        Ok(RunInput {
            action: input.action,
            config: decode_config(&input.config)?,
            step: decode_step(&input.step)?,
        })
    })()
    .map_err(to_wit_error)?;
    let outputs = M::run(typed).map_err(to_wit_error)?;
    Ok(run_wit::StepResult {
        outputs: outputs
            .outputs
            .into_iter()
            .map(|(name, value)| run_wit::StepOutput {
                name,
                value: match value {
                    OutputValue::Bytes(bytes) => run_wit::OutputValue::Bytes(bytes),
                    OutputValue::File(path) => run_wit::OutputValue::File(path),
                },
            })
            .collect(),
    })
}

fn to_wit_error(error: MixinError) -> wit::MixinError {
    match error {
        MixinError::InvalidConfig(problems) => wit::MixinError::InvalidConfig(
            problems
                .into_iter()
                .map(|p| wit::ConfigProblem {
                    pointer: p.pointer,
                    message: p.message,
                })
                .collect(),
        ),
        MixinError::Unsupported(m) => wit::MixinError::Unsupported(m),
        MixinError::Failed(m) => wit::MixinError::Failed(m),
    }
}

/// The schema a mixin gets when it does not write its own: any mapping
/// under its name, in every action.
pub fn permissive_schema(name: &str) -> String {
    let step = serde_json::json!({
        "type": "object",
        "properties": { name: { "type": "object" } },
        "required": [name],
        "additionalProperties": false,
    });
    serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {
            "installStep": step, "upgradeStep": step, "invokeStep": step, "uninstallStep": step,
        },
        "type": "object",
        "properties": {
            "install": { "type": "array", "items": { "$ref": "#/definitions/installStep" } },
            "upgrade": { "type": "array", "items": { "$ref": "#/definitions/upgradeStep" } },
            "uninstall": { "type": "array", "items": { "$ref": "#/definitions/uninstallStep" } },
        },
        "additionalProperties": { "type": "array", "items": { "$ref": "#/definitions/invokeStep" } },
    })
    .to_string()
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::serde::Deserialize;
    use crate::{BuildOutput, MixinInfo, NoConfig};

    /// A hook that logs at every level, read through the re-exported serde.
    struct Chatty;

    #[derive(Deserialize)]
    #[serde(crate = "crate::serde", deny_unknown_fields)]
    struct Step {
        say: String,
    }

    impl Mixin for Chatty {
        type Config = NoConfig;
        type Step = Step;

        fn info() -> MixinInfo {
            MixinInfo::new("chatty", "0.1.0")
        }

        fn build(input: BuildInput<NoConfig, Step>) -> Result<BuildOutput, MixinError> {
            let mut out = BuildOutput::new();
            for step in input.actions.iter().flat_map(|a| &a.steps) {
                crate::log::trace(&step.say);
                crate::log::debug(&step.say);
                crate::log::info(&step.say);
                crate::log::warn(&step.say);
                crate::log::error(&step.say);
                out.comment(&step.say);
            }
            Ok(out)
        }
    }

    #[test]
    fn a_hook_that_logs_runs_natively() {
        let output = build::<Chatty>(wit::BuildInput {
            config: "null".into(),
            actions: vec![wit::ActionSteps {
                action: "install".into(),
                steps: vec![r#"{"say":"hello"}"#.into()],
            }],
            platform: "linux/amd64".into(),
        })
        .unwrap_or_else(|_| panic!("the hook refused"));
        assert_eq!(output.dockerfile_lines, ["# hello"]);
    }
}
