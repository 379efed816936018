//! run_step end to end, with a fake host that records what it was asked to
//! run.

use serde_json::json;

use super::*;
use crate::MixinError;
use crate::command::{Command, CommandOutput, OutputValue, StepOutputs};

fn step(v: serde_json::Value) -> ExecStep {
    serde_json::from_value(v).unwrap()
}

/// Runs `step` against a host that answers `answer`; returns what the
/// host was asked to run and the result.
fn run_with(
    step: &ExecStep,
    answer: Result<CommandOutput, String>,
) -> (Vec<Command>, Result<StepOutputs, StepError>) {
    let mut seen = Vec::new();
    let mut run = |c: &Command| {
        seen.push(c.clone());
        answer.clone()
    };
    let result = run_step(step, &mut run);
    (seen, result)
}

#[test]
fn the_command_has_porters_argv_env_dir_and_output() {
    let s = step(json!({
        "description": "Build",
        "command": "docker",
        "dir": "app",
        "arguments": ["build", "my arg"],
        "flags": {"tag": "a b", "f": "Dockerfile", "no-cache": null},
        "suffix-arguments": ["some dir"],
        "envs": {"B": "2", "A": "1", "N": 3, "T": true},
        "suppress-output": true,
    }));
    let (seen, result) = run_with(&s, Ok(CommandOutput::ok("")));
    assert_eq!(result, Ok(StepOutputs::new()));
    assert_eq!(
        seen,
        [Command {
            program: "docker".into(),
            args: [
                "build",
                "my arg",
                "-f",
                "Dockerfile",
                "--no-cache",
                "--tag",
                "a",
                "b",
                "some dir"
            ]
            .map(String::from)
            .to_vec(),
            env: [("A", "1"), ("B", "2"), ("N", "3"), ("T", "true")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .to_vec(),
            dir: Some("app".into()),
            show_output: false,
            stdin: None,
        }]
    );
}

#[test]
fn dot_and_empty_dir_are_the_bundle_directory() {
    for dir in [json!(""), json!("."), json!(null)] {
        let s = step(json!({"command": "pwd", "dir": dir}));
        let (seen, _) = run_with(&s, Ok(CommandOutput::ok("")));
        assert_eq!(seen[0].dir, None, "{dir}");
        assert!(seen[0].show_output);
    }
}

#[test]
fn a_command_that_cannot_start() {
    let s = step(json!({"command": "nope", "arguments": ["x"]}));
    let (_, result) = run_with(&s, Err("executable file not found in $PATH".into()));
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "couldn't run command  nope x: executable file not found in $PATH"
    );
    let s = step(json!({"command": "nope", "dir": "sub", "ignoreError": {"all": true}}));
    let (_, result) = run_with(&s, Err("no such file".into()));
    assert_eq!(
        result.unwrap_err().to_string(),
        "couldn't run command sub nope: no such file",
        "ignoreError only forgives commands that ran"
    );
}

#[test]
fn a_failed_command() {
    let s = step(json!({"command": "bash", "flags": {"c": "exit 3"}}));
    let (_, result) = run_with(&s, Ok(CommandOutput::failed(3, "")));
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "error running command  bash -c exit 3: exit status 3"
    );
    assert_eq!(
        MixinError::from(err),
        MixinError::Failed("error running command  bash -c exit 3: exit status 3".into())
    );
    let killed = CommandOutput {
        exit_code: None,
        ..CommandOutput::default()
    };
    let (_, result) = run_with(&step(json!({"command": "sleep", "dir": "d"})), Ok(killed));
    assert_eq!(
        result.unwrap_err().to_string(),
        "error running command d sleep: killed by a signal"
    );
}

#[test]
fn ignore_error_forgives_in_order() {
    let cases = [
        (json!({"all": true}), 1, "", true),
        (json!({"exitCodes": [2, 1, 4]}), 1, "", true),
        (json!({"exitCodes": [2, 1, 4]}), 10, "", false),
        (
            json!({"output": {"contains": ["already exists"]}}),
            10,
            "thing already exists",
            true,
        ),
        (
            json!({"output": {"contains": ["already exists"]}}),
            10,
            "went wrong",
            false,
        ),
        (
            json!({"output": {"regex": ["(exists|EXISTS)"]}}),
            10,
            "something EXISTS",
            true,
        ),
        (
            json!({"output": {"regex": ["(exists|EXISTS)"]}}),
            10,
            "mumble",
            false,
        ),
    ];
    for (ignore, code, stderr, forgiven) in cases {
        let s = step(json!({"command": "az", "ignoreError": ignore}));
        let (_, result) = run_with(&s, Ok(CommandOutput::failed(code, stderr)));
        assert_eq!(
            result.is_ok(),
            forgiven,
            "{ignore} {code} {stderr:?}: {result:?}"
        );
    }
}

#[test]
fn an_invalid_ignore_regex_keeps_the_failure_and_says_why() {
    let s = step(json!({"command": "az", "ignoreError": {"output": {"regex": ["(oops"]}}}));
    let (_, result) = run_with(&s, Ok(CommandOutput::failed(1, "boom")));
    let err = result.unwrap_err();
    let StepError::Exit {
        exit_code,
        invalid_regex: Some(problem),
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*exit_code, Some(1));
    assert!(problem.starts_with(
        "Could not ignore failed command because the Regex specified by the mixin step definition (\"(oops\") is invalid:"
    ));
    let message = err.to_string();
    assert!(
        message.starts_with(
            "error running command  az: exit status 1\nCould not ignore failed command"
        ),
        "{message}"
    );
}

#[test]
fn a_forgiven_failure_still_gives_its_outputs() {
    let s = step(json!({
        "command": "gcloud",
        "ignoreError": {"output": {"contains": ["already exists"]}},
        "outputs": [{"name": "vms", "jsonPath": "$[*].id"}],
    }));
    let answer = CommandOutput {
        exit_code: Some(1),
        stdout: br#"[{"id": "1"}]"#.to_vec(),
        stderr: b"ERROR: already exists".to_vec(),
    };
    let (_, result) = run_with(&s, Ok(answer));
    assert_eq!(result, Ok(StepOutputs::bytes("vms", r#"["1"]"#)));
}

#[test]
fn outputs_come_from_stdout_in_porters_order() {
    let s = step(json!({
        "command": "foo",
        "outputs": [
            {"name": "file", "path": "config.txt"},
            {"name": "jsonpath", "jsonPath": "$.*"},
            {"name": "regex", "regex": "(.*)"},
        ],
    }));
    let (_, result) = run_with(&s, Ok(CommandOutput::ok(r#"{"a": "b"}"#)));
    assert_eq!(
        result.unwrap().outputs,
        vec![
            (
                "jsonpath".to_string(),
                OutputValue::Bytes(br#"["b"]"#.to_vec())
            ),
            (
                "regex".to_string(),
                OutputValue::Bytes(br#"{"a": "b"}"#.to_vec())
            ),
            ("file".to_string(), OutputValue::File("config.txt".into())),
        ]
    );
}

#[test]
fn an_output_error_fails_the_step() {
    let s = step(json!({"command": "foo", "outputs": [{"name": "j", "jsonPath": "$.a"}]}));
    let (_, result) = run_with(&s, Ok(CommandOutput::ok("not json")));
    assert!(matches!(result, Err(StepError::Output { ref name, .. }) if name == "j"));
}

#[test]
fn the_step_is_read_leniently() {
    let s = step(json!({
        "command": "x",
        "description": null,
        "dir": null,
        "arguments": null,
        "flags": null,
        "suffix-arguments": null,
        "envs": null,
        "suppress-output": null,
        "outputs": null,
        "ignoreError": null,
        "unknown": {"anything": 1},
    }));
    assert_eq!(s, ExecStep::new("x"));
    assert!(serde_json::from_value::<ExecStep>(json!({"description": "no command"})).is_err());
    let err = serde_json::from_value::<ExecStep>(json!({"command": "x", "envs": {"A": [1]}}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type for environment variable A: []interface {}"
    );
}

#[test]
fn single_step_wants_exactly_one() {
    assert_eq!(single_step([7]), Ok(7));
    assert_eq!(
        single_step(Vec::<i32>::new()).unwrap_err().to_string(),
        "expected a single step, but got 0"
    );
    assert_eq!(
        single_step([1, 2]).unwrap_err().to_string(),
        "expected a single step, but got 2"
    );
}

#[test]
fn argv_splits_only_the_flags() {
    let flags = Flags::new().with(Flag::new("c", "echo 'a b'"));
    assert_eq!(
        argv("bash", &["x y"], &flags, &["p q"]),
        ["bash", "x y", "-c", "echo", "a b", "p q"]
    );
    assert_eq!(argv::<&str, &str>("ls", &[], &Flags::new(), &[]), ["ls"]);
}
