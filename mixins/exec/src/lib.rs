//! Porter's `exec` mixin: runs a command or script in the invocation image.
//!
//! At build time it needs nothing in the image; its lint rules catch the
//! embedded-bash mistakes Porter's exec mixin catches (exec-100, exec-101).
//! At runtime it runs the step's command through Porter's step engine
//! (`mixin_sdk::steps`): argv, env, working directory, `ignoreError` and
//! outputs by jsonPath, regex and path, as Porter's exec does.

use mixin_sdk::steps::{self, Flag};
use mixin_sdk::{
    BuildInput, BuildOutput, LintInput, LintResult, Mixin, MixinError, MixinInfo, NoConfig,
    RunInput, StepLocation, StepOutputs,
};

/// The single line Porter's exec mixin prints at build time.
pub const BUILD_LINE: &str = "# exec mixin has no buildtime dependencies";

const EMBEDDED_BASH_URL: &str = "https://porter.sh/best-practices/exec-mixin/#use-scripts";
const QUOTING_URL: &str =
    "https://porter.sh/best-practices/exec-mixin/#quoting-escaping-bash-and-yaml";
const QUOTING_MESSAGE: &str = "The bash -c flag argument must be wrapped in quotes, for example\nexec:\n  description: Say Hello\n  command: bash\n  flags:\n    c: '\"echo Hello World\"'\n";

/// One `exec:` step, as `schema/exec.json` describes it: Porter's step
/// engine's own step (command, arguments, flags, outputs, `ignoreError`).
/// Fields the schema does not list are ignored, as Porter's exec does
/// (porter warns about them with their line).
pub use mixin_sdk::steps::ExecStep;

pub struct Exec;

impl Mixin for Exec {
    type Config = NoConfig;
    type Step = ExecStep;

    fn info() -> MixinInfo {
        MixinInfo::new("exec", env!("CARGO_PKG_VERSION"))
            .description("Run a command or script")
            .author("Porter Authors")
            .homepage("https://porter.sh/mixins/exec/")
            .license("Apache-2.0")
    }

    fn schema() -> String {
        include_str!("../schema/exec.json").to_string()
    }

    fn build(_input: BuildInput<NoConfig, ExecStep>) -> Result<BuildOutput, MixinError> {
        let mut out = BuildOutput::new();
        out.line(BUILD_LINE);
        Ok(out)
    }

    fn lint(input: LintInput<NoConfig, ExecStep>) -> Result<Vec<LintResult>, MixinError> {
        let mut results = Vec::new();
        for action in &input.actions {
            for (index, step) in action.steps.iter().enumerate() {
                results.extend(lint_step(&action.name, index, step));
            }
        }
        Ok(results)
    }

    fn run(input: RunInput<NoConfig, ExecStep>) -> Result<StepOutputs, MixinError> {
        let outputs = steps::run_step(&input.step, &mut |command| {
            command.run().map_err(|e| e.to_string())
        })?;
        Ok(outputs)
    }
}

/// Porter's rules: a `bash -c` step is embedded bash (exec-100); its script
/// must be wrapped in quotes or YAML eats them (exec-101, once per step).
fn lint_step(action: &str, index: usize, step: &ExecStep) -> Vec<LintResult> {
    let Some(script) = step.flags.get("c").filter(|_| step.command == "bash") else {
        return Vec::new();
    };
    let at = StepLocation::new(action, index)
        .description(step.description.clone().unwrap_or_default())
        .pointer("/flags/c");
    let mut results = vec![
        LintResult::warning("exec-100", "Best Practice: Avoid Embedded Bash", at.clone())
            .url(EMBEDDED_BASH_URL),
    ];
    if flag_values(script)
        .iter()
        .any(|value| !is_wrapped_in_quotes(value))
    {
        results.push(
            LintResult::error("exec-101", "bash -c argument missing wrapping quotes", at)
                .message(QUOTING_MESSAGE)
                .url(QUOTING_URL),
        );
    }
    results
}

/// A flag's values as Porter sees them: nothing for `null`, each item of a
/// list, or the scalar as text.
fn flag_values(flag: &Flag) -> &[String] {
    &flag.values
}

fn is_wrapped_in_quotes(value: &str) -> bool {
    value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')))
}

mixin_sdk::export_mixin!(Exec);

#[cfg(test)]
mod tests {
    use super::*;
    use mixin_sdk::serde_json::{self, Value, json};
    use mixin_sdk::{Action, LintLevel};

    fn step(body: Value) -> ExecStep {
        serde_json::from_value(body).unwrap()
    }

    fn lint(steps: Vec<ExecStep>) -> Vec<LintResult> {
        Exec::lint(LintInput {
            config: NoConfig,
            actions: vec![Action {
                name: "install".into(),
                steps,
            }],
        })
        .unwrap()
    }

    #[test]
    fn build_prints_porters_line() {
        let out = Exec::build(BuildInput {
            config: NoConfig,
            actions: vec![],
            platform: "linux/amd64".into(),
        })
        .unwrap();
        assert_eq!(out.dockerfile_lines, [BUILD_LINE]);
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn unquoted_bash_script_gets_both_rules() {
        let results = lint(vec![
            step(json!({"description": "Run a script", "command": "./install.sh"})),
            step(
                json!({"description": "Install Hello World", "command": "bash", "flags": {"c": "echo Hello World"}}),
            ),
        ]);
        let codes: Vec<_> = results.iter().map(|r| (r.code.as_str(), r.level)).collect();
        assert_eq!(
            codes,
            [
                ("exec-100", LintLevel::Warning),
                ("exec-101", LintLevel::Error)
            ]
        );
        assert_eq!(results[1].location.step_number, 2);
        assert_eq!(results[1].location.step_description, "Install Hello World");
        assert_eq!(results[1].message, QUOTING_MESSAGE);
        assert_eq!(results[0].message, "");
    }

    #[test]
    fn quoted_scripts_and_other_commands_pass_exec_101() {
        let results = lint(vec![
            step(json!({"command": "bash", "flags": {"c": "\"echo hi\""}})),
            step(json!({"command": "bash", "flags": {"c": ["'a'", "\"b\""]}})),
            step(json!({"command": "sh", "flags": {"c": "echo hi"}})),
            step(json!({"command": "bash", "flags": {"x": "echo hi"}})),
        ]);
        let codes: Vec<_> = results.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["exec-100", "exec-100"]);
    }

    #[test]
    fn one_exec_101_per_step_even_with_several_bad_values() {
        let results = lint(vec![step(
            json!({"command": "bash", "flags": {"c": ["a", "b", "'"]}}),
        )]);
        let codes: Vec<_> = results.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["exec-100", "exec-101"]);
    }

    #[test]
    fn schema_is_porters() {
        let ours: Value = serde_json::from_str(&Exec::schema()).unwrap();
        assert_eq!(ours["definitions"]["exec"]["required"], json!(["command"]));
        assert_eq!(
            ours["definitions"]["installStep"]["required"],
            json!(["exec"])
        );
    }
}
