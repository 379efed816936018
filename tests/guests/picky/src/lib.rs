//! A test mixin that finds fault the way a new mixin's author would write
//! it, to show where porter places each problem a mixin reports:
//!
//! - lint refuses a config without packages (`invalid-config` at
//!   `/packages`; its schema allows an empty list), and reports a step whose
//!   script uses sudo (`picky-100`, at `/script` in the step) and an
//!   action with more than one picky step (`picky-101`, step number 0: no
//!   step, the action as a whole);
//! - build refuses package names that are not lowercase (`/packages/<i>`)
//!   and scripts that are not `./` paths (`/<action>/<index>/script`).
//!
//! ```yaml
//! mixins:
//!   - picky:
//!       packages: [tree]
//! install:
//!   - picky:
//!       script: ./install.sh
//! ```

use mixin_sdk::{
    BuildInput, BuildOutput, ConfigProblem, LintInput, LintResult, Mixin, MixinError, MixinInfo,
    StepLocation,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    packages: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    script: String,
}

struct Picky;

impl Mixin for Picky {
    type Config = Config;
    type Step = Step;

    fn info() -> MixinInfo {
        MixinInfo::new("picky", env!("CARGO_PKG_VERSION"))
            .description("Finds fault with its config and steps (test mixin)")
            .author("porter-rs tests")
    }

    fn schema() -> String {
        include_str!("../schema.json").to_string()
    }

    fn lint(input: LintInput<Config, Step>) -> Result<Vec<LintResult>, MixinError> {
        if input.config.packages.is_empty() {
            return Err(MixinError::invalid_config(
                "/packages",
                "name at least one package",
            ));
        }
        let mut results = Vec::new();
        for action in &input.actions {
            if action.steps.len() > 1 {
                let whole_action = StepLocation {
                    step_number: 0,
                    ..StepLocation::new(&action.name, 0)
                };
                results.push(LintResult::warning(
                    "picky-101",
                    "more than one picky step",
                    whole_action,
                ));
            }
            for (index, step) in action.steps.iter().enumerate() {
                if step.script.contains("sudo") {
                    let at = StepLocation::new(&action.name, index).pointer("/script");
                    results.push(
                        LintResult::error("picky-100", "script uses sudo", at)
                            .message("steps already run as root: drop sudo"),
                    );
                }
            }
        }
        Ok(results)
    }

    fn build(input: BuildInput<Config, Step>) -> Result<BuildOutput, MixinError> {
        let mut problems = Vec::new();
        for (index, package) in input.config.packages.iter().enumerate() {
            if package.chars().any(|c| c.is_ascii_uppercase()) {
                problems.push(ConfigProblem {
                    pointer: format!("/packages/{index}"),
                    message: format!("package names are lowercase, not '{package}'"),
                });
            }
        }
        for action in &input.actions {
            for (index, step) in action.steps.iter().enumerate() {
                if !step.script.starts_with("./") {
                    problems.push(ConfigProblem {
                        pointer: format!("/{}/{index}/script", action.name),
                        message: "a script is a path in the bundle, starting with ./".into(),
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(MixinError::InvalidConfig(problems));
        }
        let mut out = BuildOutput::new();
        out.comment(&format!(
            "picky packages {}",
            input.config.packages.join(" ")
        ));
        Ok(out)
    }
}

mixin_sdk::export_mixin!(Picky);
