//! The exec mixin, built to wasm and run through the host, against Porter's
//! own fixtures for it.

use crate::support::*;
use porter::home::PorterHome;
use porter::mixin::{
    ActionSteps, BuildRequest, InstallRequest, LintLevel, LintRequest, MixinHost, PreparedMixin,
};
use serde_json::Value;

fn exec() -> (tempfile::TempDir, std::sync::Arc<PreparedMixin>) {
    let home = tempfile::tempdir().unwrap();
    let host = MixinHost::new(&PorterHome::at(home.path())).unwrap();
    let installed = host
        .install_file(
            &InstallRequest {
                name: "exec",
                version: None,
                force: false,
                expected_digest: None,
            },
            &mixin_wasm("exec"),
        )
        .unwrap()
        .mixin;
    let exec = host.load(&installed).unwrap();
    (home, exec)
}

/// `{action: [{exec: body}, ...]}` as the host hands it to the mixin.
fn actions(document: &Value) -> Vec<ActionSteps> {
    document
        .as_object()
        .unwrap()
        .iter()
        .map(|(action, steps)| ActionSteps {
            action: action.clone(),
            steps: steps
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["exec"].clone())
                .collect(),
        })
        .collect()
}

#[test]
fn info_is_porters_exec() {
    let (_home, exec) = exec();
    let info = exec.info().unwrap();
    assert_eq!(
        (
            info.name.as_str(),
            info.version.as_str(),
            info.author.as_str()
        ),
        ("exec", "1.0.0", "Porter Authors")
    );
}

#[test]
fn schema_equals_porters_exec_schema() {
    let (_home, exec) = exec();
    let ours: Value = serde_json::from_str(&exec.schema().unwrap()).unwrap();
    let porters: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("porter/exec/exec.json")).unwrap())
            .unwrap();
    assert_eq!(ours, porters);
}

#[test]
fn build_prints_porters_line_for_any_input() {
    let (_home, exec) = exec();
    let golden =
        std::fs::read_to_string(fixture("porter/exec/build-any-input.Dockerfile.txt")).unwrap();
    for document in [
        yaml_fixture("porter/exec/install-input.yaml"),
        yaml_fixture("porter/exec/lint-input.yaml")["actions"].clone(),
    ] {
        let request = BuildRequest {
            config: Value::Null,
            actions: actions(&document),
            platform: "linux/amd64".into(),
        };
        let out = exec.build(&request).unwrap();
        assert_eq!(format!("{}\n", out.dockerfile_lines.join("\n")), golden);
        assert!(out.warnings.is_empty());
    }
}

#[test]
fn lint_finds_what_porter_finds_in_its_fixture() {
    let (_home, exec) = exec();
    let document = yaml_fixture("porter/exec/lint-input.yaml");
    let findings = exec
        .lint(&LintRequest {
            config: Value::Null,
            actions: actions(&document["actions"]),
        })
        .unwrap();
    let summary: Vec<_> = findings
        .iter()
        .map(|f| (f.code.as_str(), f.level, f.location.step_number))
        .collect();
    assert_eq!(
        summary,
        [
            ("exec-100", LintLevel::Warning, 2),
            ("exec-101", LintLevel::Error, 2)
        ]
    );
    let quoting = &findings[1];
    assert_eq!(quoting.title, "bash -c argument missing wrapping quotes");
    assert_eq!(
        quoting.message,
        "The bash -c flag argument must be wrapped in quotes, for example\nexec:\n  description: Say Hello\n  command: bash\n  flags:\n    c: '\"echo Hello World\"'\n"
    );
    assert_eq!(
        quoting.url.as_deref(),
        Some("https://porter.sh/best-practices/exec-mixin/#quoting-escaping-bash-and-yaml")
    );
    assert_eq!(quoting.location.action, "install");
    assert_eq!(quoting.location.step_description, "Install Hello World");
    assert_eq!(findings[0].title, "Best Practice: Avoid Embedded Bash");
    assert_eq!(
        findings[0].url.as_deref(),
        Some("https://porter.sh/best-practices/exec-mixin/#use-scripts")
    );
}

#[test]
fn a_malformed_step_is_refused_with_its_location() {
    let (_home, exec) = exec();
    let document: Value =
        serde_json::json!({"install": [{"exec": {"command": "ok"}}, {"exec": {"comand": "typo"}}]});
    let request = BuildRequest {
        config: Value::Null,
        actions: actions(&document),
        platform: "linux/amd64".into(),
    };
    let err = exec.build(&request).unwrap_err().to_string();
    assert!(
        err.starts_with("mixin exec 1.0.0 (build): invalid configuration: /install/1"),
        "{err}"
    );
    // Porter's exec ignores unknown fields (lint warns about them with
    // their line); what it cannot do without is `command`.
    assert!(err.contains("missing field `command`"), "{err}");

    let request = BuildRequest {
        config: serde_json::json!({"x": 1}),
        actions: vec![],
        platform: "linux/amd64".into(),
    };
    let err = exec.build(&request).unwrap_err().to_string();
    assert_eq!(
        err,
        "mixin exec 1.0.0 (build): invalid configuration: /x: unknown field `x`, there are no fields"
    );
}
