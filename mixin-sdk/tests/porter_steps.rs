//! The step engine against Porter's own exec mixin fixtures
//! (tests/fixtures/porter/README.md says where each comes from) and the
//! expectations of the Porter tests that use them.

use std::path::Path;

use mixin_sdk::command::{Command, CommandOutput, OutputValue, StepOutputs};
use mixin_sdk::serde_json::{self, Value, json};
use mixin_sdk::steps::{
    ExecStep, Flag, Flags, OutputSource, OutputSpec, StepError, extract_outputs, run_step,
    single_step,
};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/porter")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(name: &str) -> Value {
    serde_saphyr::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The one exec step of a runtime input `{<action>: [{exec: step}]}`, and
/// the action's name.
fn action_step(name: &str) -> (String, Result<ExecStep, String>) {
    let input = yaml(name);
    let (action, steps) = input.as_object().unwrap().iter().next().unwrap();
    let steps = steps.as_array().unwrap().iter().map(|s| s["exec"].clone());
    let step = single_step(steps)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_value(s).map_err(|e| e.to_string()));
    (action.clone(), step)
}

fn step(name: &str) -> ExecStep {
    action_step(name).1.unwrap()
}

/// Runs `step`; the host answers `answer` and records the command.
fn run(step: &ExecStep, answer: CommandOutput) -> (Command, Result<StepOutputs, StepError>) {
    let mut seen = None;
    let result = run_step(step, &mut |c: &Command| {
        seen = Some(c.clone());
        Ok(answer.clone())
    });
    (seen.expect("the command ran"), result)
}

fn text(outputs: &StepOutputs, name: &str) -> String {
    match outputs.get(name) {
        Some(OutputValue::Bytes(b)) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("{name}: {other:?}"),
    }
}

/// builder/flags_test.go TestFlags_UnmarshalYAML, and the argv it gives.
#[test]
fn flags_input() {
    let flags: Flags = serde_json::from_value(yaml("flags-input.yaml")).unwrap();
    let all: Vec<&Flag> = flags.iter().collect();
    assert_eq!(all.len(), 5);
    for want in [
        Flag::new("int", "1"),
        Flag::new("bool", "true"),
        Flag::new("string", "abc"),
        Flag::bare("empty"),
        Flag::repeated("repeated", ["FOO=BAR", "STUFF=THINGS"]),
    ] {
        assert!(all.contains(&&want), "{want:?} in {all:?}");
    }
    assert_eq!(
        flags.to_args(),
        [
            "--bool",
            "true",
            "--empty",
            "--int",
            "1",
            "--repeated",
            "FOO=BAR",
            "--repeated",
            "STUFF=THINGS",
            "--string",
            "abc",
        ]
    );
}

/// builder/output_jsonpath_test.go TestJsonPathOutputs and
/// TestJsonPathOutputs_NoOutput.
#[test]
fn install_output_json_paths() {
    let stdout = fixture("install-output.json");
    let cases = [
        ("array", "$[*].id", r#"["1085517466897181794"]"#),
        ("object", "$[0].tags", r#"{"fingerprint":"42WmSpB8rSM="}"#),
        ("integer", "$[0].index", "0"),
        ("big integer", "$[0]._id", "123123123"),
        ("exponential notation", "$[0]._bigId", "1.23123123e+08"),
        ("boolean", "$[0].deletionProtection", "false"),
        ("string", "$[0].cpuPlatform", "Intel Haswell"),
    ];
    for (name, query, want) in cases {
        let outputs = extract_outputs(&[OutputSpec::json_path(name, query)], stdout.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(text(&outputs, name), want, "{name}: {query}");
    }
    // All of them in one step: the document is read once.
    let specs: Vec<OutputSpec> = cases
        .iter()
        .map(|(n, q, _)| OutputSpec::json_path(*n, *q))
        .collect();
    let outputs = extract_outputs(&specs, stdout.as_bytes()).unwrap();
    assert_eq!(outputs.len(), cases.len());
    // Nested objects: sorted keys, compact.
    let outputs = extract_outputs(
        &[OutputSpec::json_path("s", "$[0].scheduling")],
        stdout.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        text(&outputs, "s"),
        r#"{"automaticRestart":true,"onHostMaintenance":"MIGRATE","preemptible":false}"#
    );
    // No stdout: an empty output, no error.
    let outputs = extract_outputs(&[OutputSpec::json_path("ids", "$[*].id")], b"").unwrap();
    assert_eq!(text(&outputs, "ids"), "");
}

/// exec_test.go TestAction_UnmarshalYAML and TestMixin_Install, then the
/// step run against install-output.json.
#[test]
fn install_input() {
    let (action, step) = action_step("install-input.yaml");
    let step = step.unwrap();
    assert_eq!(action, "install");
    assert_eq!(step.command, "gcloud");
    assert_eq!(
        step.description.as_deref(),
        Some("Install a VM and collect its ID")
    );
    assert_eq!(step.arguments.len(), 3);
    assert_eq!(step.flags.len(), 3);
    assert_eq!(
        step.envs.iter().collect::<Vec<_>>(),
        [(&"SECRET".to_string(), &"super-secret".to_string())]
    );
    assert_eq!(step.outputs, [OutputSpec::json_path("vms", "$[*].id")]);
    assert_eq!(step.ignore_error.output.contains, ["already exists"]);

    let (command, result) = run(&step, CommandOutput::ok(fixture("install-output.json")));
    assert_eq!(
        command.argv(),
        [
            "gcloud",
            "compute",
            "instances",
            "create",
            "--machine-type",
            "f1-micro",
            "--project",
            "porterci",
            "--zone",
            "us-central1-a",
        ]
    );
    assert_eq!(
        command.env,
        [("SECRET".to_string(), "super-secret".to_string())]
    );
    assert_eq!(command.dir, None);
    assert!(command.show_output);
    assert_eq!(text(&result.unwrap(), "vms"), r#"["1085517466897181794"]"#);

    // Its ignoreError forgives "already exists", and the outputs are still taken.
    let answer = CommandOutput {
        exit_code: Some(1),
        stdout: fixture("install-output.json").into_bytes(),
        stderr: b"ERROR: (gcloud.compute.instances.create) The resource already exists".to_vec(),
    };
    let (_, result) = run(&step, answer);
    assert_eq!(text(&result.unwrap(), "vms"), r#"["1085517466897181794"]"#);
    let (_, result) = run(&step, CommandOutput::failed(1, "quota exceeded"));
    assert_eq!(
        result.unwrap_err().to_string(),
        "error running command  gcloud compute instances create --machine-type f1-micro \
         --project porterci --zone us-central1-a: exit status 1"
    );
}

/// exec_test.go TestMixin_CustomAction: a custom action, a regex output,
/// and a `-c` flag whose value is split into words.
#[test]
fn invoke_input() {
    let (action, step) = action_step("invoke-input.yaml");
    let step = step.unwrap();
    assert_eq!(action, "status");
    assert_eq!(step.outputs, [OutputSpec::regex("name", "Hello (.*)")]);
    let (command, result) = run(&step, CommandOutput::ok("Hello World\n"));
    assert_eq!(command.argv(), ["bash", "-c", "echo", "Hello", "World"]);
    assert_eq!(text(&result.unwrap(), "name"), "World");
}

/// exec_test.go TestMixin_Upgrade: a path output is read by the host.
#[test]
fn upgrade_input() {
    let step = step("upgrade-input.yaml");
    let (_, result) = run(&step, CommandOutput::ok("Hello World\n"));
    assert_eq!(
        result.unwrap().get("world-config"),
        Some(&OutputValue::File("config/kube.yaml".into()))
    );
    assert!(matches!(&step.outputs[0].source, OutputSource::Path(p) if p == "config/kube.yaml"));
}

/// exec_test.go TestMixin_Uninstall.
#[test]
fn uninstall_input() {
    let (action, step) = action_step("uninstall-input.yaml");
    assert_eq!(action, "uninstall");
    let (command, result) = run(&step.unwrap(), CommandOutput::ok(""));
    assert_eq!(command.program, "bash");
    assert_eq!(result.unwrap(), StepOutputs::new());
}

/// exec_test.go TestMixin_SuffixArgs: suffix arguments come last.
#[test]
fn suffix_args_input() {
    let (command, _) = run(&step("suffix-args-input.yaml"), CommandOutput::ok(""));
    assert_eq!(
        command.to_string(),
        "docker build --tag getporter/porter-hello:latest ."
    );
}

/// execute_test.go TestMixin_Execute: every kind of output is produced.
#[test]
fn outputs_yaml() {
    let (action, step) = action_step("outputs.yaml");
    assert_eq!(action, "foo");
    let (_, result) = run(&step.unwrap(), CommandOutput::ok(""));
    let outputs = result.unwrap();
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["jsonpath", "regex", "file"]);
    assert_eq!(
        outputs.get("file"),
        Some(&OutputValue::File("config.txt".into()))
    );
}

/// exec_test.go TestMixin_ErrorHandling: `bash -c echo Hello World`
/// exiting 1 with "thing already exists" on stderr.
#[test]
fn error_handling() {
    for (ignore, want_error) in [
        (json!({}), Some("error running command")),
        (json!({"all": true}), None),
        (json!({"exitCodes": [1]}), None),
        (json!({"output": {"contains": ["already exists"]}}), None),
        (json!({"output": {"regex": [".* exists"]}}), None),
    ] {
        let step: ExecStep = serde_json::from_value(json!({
            "command": "bash",
            "arguments": ["-c", "echo Hello World"],
            "ignoreError": ignore,
        }))
        .unwrap();
        let (command, result) = run(&step, CommandOutput::failed(1, "thing already exists"));
        assert_eq!(command.to_string(), "bash -c echo Hello World");
        match want_error {
            None => assert!(result.is_ok(), "{ignore}: {result:?}"),
            Some(want) => {
                let err = result.unwrap_err().to_string();
                assert!(err.contains(want), "{ignore}: {err}");
            }
        }
    }
}

/// schema_test.go's invalid inputs: the schema refuses both; the step
/// engine, like Porter's runtime, ignores an unknown field and refuses a
/// step that is not a mapping.
#[test]
fn invalid_inputs() {
    let step = step("invalid-args-input.yaml");
    assert_eq!(step.command, "bash");
    assert!(step.arguments.is_empty(), "`args` is not `arguments`");
    let (_, step) = action_step("install-invalid-type-input.yaml");
    assert!(step.is_err());
}

/// Every field of the exec schema's step and ignoreError is read by
/// ExecStep under the same name.
#[test]
fn exec_schema_field_names() {
    let schema: Value = serde_json::from_str(&fixture("exec.json")).unwrap();
    let exec = &schema["definitions"]["exec"]["properties"];
    let names: Vec<&str> = exec
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "description",
            "command",
            "dir",
            "arguments",
            "flags",
            "envs",
            "suffix-arguments",
            "suppress-output",
            "outputs",
            "ignoreError",
        ]
    );
    let outputs: Vec<&String> = exec["outputs"]["items"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(outputs, ["name", "jsonPath", "regex", "path"]);
    let ignore: Vec<&String> = exec["ignoreError"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(ignore, ["all", "exitCodes", "output"]);
    let output: Vec<&String> = exec["ignoreError"]["properties"]["output"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(output, ["contains", "regex"]);

    let step: ExecStep = serde_json::from_value(json!({
        "description": "d",
        "command": "c",
        "dir": "w",
        "arguments": ["a"],
        "flags": {"f": "v"},
        "envs": {"E": "1"},
        "suffix-arguments": ["s"],
        "suppress-output": true,
        "outputs": [{"name": "o", "jsonPath": "$"}, {"name": "r", "regex": "x"}, {"name": "p", "path": "f"}],
        "ignoreError": {"all": true, "exitCodes": [2], "output": {"contains": ["c"], "regex": ["r"]}},
    }))
    .unwrap();
    let filled = [
        step.description.is_some(),
        step.dir.is_some(),
        !step.arguments.is_empty(),
        !step.flags.is_empty(),
        !step.envs.is_empty(),
        !step.suffix_arguments.is_empty(),
        step.suppress_output,
        step.outputs.len() == 3,
        step.ignore_error.all,
        step.ignore_error.exit_codes == [2],
        step.ignore_error.output.contains == ["c"],
        step.ignore_error.output.regex == ["r"],
    ];
    assert!(filled.iter().all(|f| *f), "{filled:?}");
}
