//! Porter's experimental flags through the real binary: from
//! `PORTER_EXPERIMENTAL` and from `PORTER_HOME`'s config file in each
//! format, the schemaVersions they let through, persistent parameters
//! expanded into bundle.json, and the warnings and errors about them.

use std::path::{Path, PathBuf};

use crate::support::*;
use predicates::prelude::*;
use serde_json::{Value, json};

/// A bundle that lints clean, at `schema_version`, with `parameters`.
fn bundle(home: &Path, schema_version: &str, parameters: &str) -> PathBuf {
    let dir = home.join("bundle");
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "schemaVersion: {schema_version}\nname: t\nversion: 0.1.0\nregistry: example.com\n\
         mixins:\n  - exec\n{parameters}install:\n  - exec:\n      command: ./install.sh\n\
         uninstall:\n  - exec:\n      command: ./uninstall.sh\n"
    );
    std::fs::write(dir.join("porter.yaml"), text).unwrap();
    dir
}

/// Porter's fixture with `persistent: true` (schemaVersion 1.2.0).
fn persistent_fixture(home: &Path) -> PathBuf {
    let dir = home.join("persistent");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture("porter/manifest/porter-with-persistent-params.yaml"),
        dir.join("porter.yaml"),
    )
    .unwrap();
    dir
}

fn lint(home: &Path, dir: &Path) -> assert_cmd::Command {
    let mut cmd = porter(home);
    cmd.args(["lint", "--dir"]).arg(dir);
    cmd
}

const BASE_CONSTRAINT: &str = "1.0.0-alpha.1 || >=1.0.0 <=1.0.1";

#[test]
fn each_schema_version_is_refused_without_its_flag_and_accepted_with_it() {
    let home = home_with_exec();
    for (version, flag) in [
        ("1.1.0", "dependencies-v2"),
        ("1.2.0", "persistent-parameters"),
        ("1.3.0", "file-sources"),
    ] {
        let dir = bundle(home.path(), version, "");
        lint(home.path(), &dir)
            .assert()
            .failure()
            .stderr(predicate::str::contains(format!(
                "error: the schema version is {version} but the supported schema version is \
                 {BASE_CONSTRAINT}. See https://porter.sh/reference/file-formats/#supported-versions \
                 for more details: invalid schema version"
            )))
            .stderr(predicate::str::contains("porter.yaml:1:16"))
            .stderr(predicate::str::contains(format!(
                "schemaVersion {version} needs Porter's experimental flag {flag}: \
                 run with PORTER_EXPERIMENTAL={flag}"
            )));
        lint(home.path(), &dir)
            .env("PORTER_EXPERIMENTAL", flag)
            .assert()
            .success()
            .stdout(predicate::str::contains("No problems found"));
    }
    // file-sources adds exactly 1.3.0; the message shows the widened constraint.
    let dir = bundle(home.path(), "1.2.0", "");
    lint(home.path(), &dir)
        .env("PORTER_EXPERIMENTAL", "file-sources")
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "the supported schema version is {BASE_CONSTRAINT} || 1.3.0. See"
        )));
}

/// Each way of turning a flag on: the variable, and the `experimental`
/// list of config.toml, config.yaml and config.json.
#[test]
fn a_flag_is_read_from_the_variable_and_from_each_config_format() {
    let configs = [
        (None, ""),
        (
            Some("config.toml"),
            "verbosity = \"info\"\nexperimental = [\"persistent-parameters\"]\n",
        ),
        (
            Some("config.yaml"),
            "verbosity: info\nexperimental:\n  - persistent-parameters\n",
        ),
        (
            Some("config.json"),
            "{\"verbosity\": \"info\", \"experimental\": [\"persistent-parameters\"]}\n",
        ),
    ];
    for (file, text) in configs {
        let home = home_with_exec();
        let dir = bundle(home.path(), "1.2.0", "");
        lint(home.path(), &dir).assert().failure();
        let mut cmd = lint(home.path(), &dir);
        match file {
            Some(name) => std::fs::write(home.path().join(name), text).unwrap(),
            None => {
                cmd.env("PORTER_EXPERIMENTAL", "persistent-parameters");
            }
        }
        cmd.assert()
            .success()
            .stderr(predicate::str::contains("warning").not());
    }
}

#[test]
fn config_values_substitute_env_variables() {
    let home = home_with_exec();
    let dir = bundle(home.path(), "1.2.0", "");
    std::fs::write(
        home.path().join("config.yaml"),
        "experimental: [\"${env.MY_PORTER_FLAGS}\"]\n",
    )
    .unwrap();
    lint(home.path(), &dir)
        .env("MY_PORTER_FLAGS", "persistent-parameters")
        .assert()
        .success();
    // Unset, it is empty: no flag.
    lint(home.path(), &dir)
        .env_remove("MY_PORTER_FLAGS")
        .assert()
        .failure()
        .stderr(predicate::str::contains("the schema version is 1.2.0"));
}

/// viper's precedence: the variable, when set, replaces the file's list;
/// the first of config.json, config.toml, config.yaml is the one read.
#[test]
fn the_variable_wins_over_the_file_and_json_over_toml_over_yaml() {
    let home = home_with_exec();
    let dir = bundle(home.path(), "1.2.0", "");
    std::fs::write(
        home.path().join("config.toml"),
        "experimental = [\"persistent-parameters\"]\n",
    )
    .unwrap();
    lint(home.path(), &dir).assert().success();
    lint(home.path(), &dir)
        .env("PORTER_EXPERIMENTAL", "file-sources")
        .assert()
        .failure();
    std::fs::write(home.path().join("config.yaml"), "experimental: []\n").unwrap();
    lint(home.path(), &dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("config.yaml is not read"));
    std::fs::write(home.path().join("config.json"), "{\"experimental\": []}\n").unwrap();
    lint(home.path(), &dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains("config.toml is not read"));
}

#[test]
fn unknown_flags_and_keys_are_warnings() {
    let home = home_with_exec();
    let dir = bundle(home.path(), "1.2.0", "");
    lint(home.path(), &dir)
        .env("PORTER_EXPERIMENTAL", "persistent-parameters,no-such-flag")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: unknown experimental flag \"no-such-flag\" in PORTER_EXPERIMENTAL: \
             it is ignored; the flags are dependencies-v2, full-control-dockerfile, \
             optimized-bundle-build, persistent-parameters, file-sources",
        ));
    // optimized-bundle-build is known (and changes nothing here).
    std::fs::write(
        home.path().join("config.toml"),
        "experimental = [\"persistent-parameters\", \"optimized-bundle-build\"]\nverbosty = \"debug\"\n",
    )
    .unwrap();
    lint(home.path(), &dir)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: unknown key 'verbosty' in config.toml: it is ignored",
        ))
        .stderr(predicate::str::contains("config.toml:2:1"))
        .stderr(predicate::str::contains("did you mean 'verbosity'?"))
        .stderr(predicate::str::contains("unknown experimental flag").not());
}

#[test]
fn a_malformed_config_file_is_an_error_at_its_line() {
    let cases = [
        (
            "config.toml",
            "verbosity = \"info\"\nexperimental = [\"a\" \"b\"]\n",
            "is not valid TOML",
            ":2:",
        ),
        (
            "config.yaml",
            "verbosity: info\nexperimental: [a\nlogs: {}\n",
            "is not valid YAML",
            ":3:5",
        ),
        (
            "config.json",
            "{\n  \"verbosity\": \"info\",\n  \"experimental\": [\"a\",]\n}\n",
            "is not valid JSON",
            ":3:",
        ),
    ];
    for (name, text, what, line) in cases {
        let home = home_with_exec();
        let dir = bundle(home.path(), "1.0.1", "");
        std::fs::write(home.path().join(name), text).unwrap();
        let path = home.path().join(name);
        for command in ["lint", "build"] {
            let mut cmd = porter(home.path());
            cmd.arg(command);
            if command == "build" {
                cmd.arg("--no-image");
            }
            cmd.arg("--dir")
                .arg(&dir)
                .assert()
                .failure()
                .stderr(predicate::str::contains(format!("error: {name} {what}")))
                .stderr(predicate::str::contains(format!(
                    "{}{line}",
                    path.display()
                )));
        }
    }
}

/// Porter's fixture builds with the flag on and gets Porter's expansion:
/// the parameter is the file /cnab/app/resource-group, fed back from a
/// generated output, on every action.
#[test]
fn the_persistent_fixture_builds_into_porters_expansion() {
    let home = home_with_exec();
    let dir = persistent_fixture(home.path());
    let build = |flags: Option<&str>| {
        let mut cmd = porter(home.path());
        if let Some(flags) = flags {
            cmd.env("PORTER_EXPERIMENTAL", flags);
        }
        cmd.args(["build", "--no-image", "--no-lint", "--dir"])
            .arg(&dir)
            .assert()
    };
    build(None)
        .failure()
        .stderr(predicate::str::contains(
            "the schema version is 1.2.0 but the supported schema version",
        ))
        .stderr(predicate::str::contains(
            "parameter \"resource-group\" uses persistent: true which requires the \
             persistent-parameters experimental feature",
        ))
        .stderr(predicate::str::contains("porter.yaml:9:17"));
    build(Some("persistent-parameters")).success();

    let bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.join(".cnab/bundle.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["parameters"]["resource-group"],
        json!({
            "definition": "resource-group-parameter",
            "applyTo": ["install", "uninstall", "upgrade"],
            "destination": {"path": "/cnab/app/resource-group"},
            "required": true,
        })
    );
    assert_eq!(
        bundle["definitions"]["resource-group-parameter"],
        json!({"type": "string"})
    );
    assert_eq!(
        bundle["outputs"]["resource-group"],
        json!({
            "definition": "resource-group-output",
            "path": "/cnab/app/outputs/resource-group",
        })
    );
    assert_eq!(
        bundle["definitions"]["resource-group-output"],
        json!({"type": "string"})
    );
    assert_eq!(
        bundle["custom"]["io.cnab.parameter-sources"]["resource-group"],
        json!({"priority": ["output"], "sources": {"output": {"name": "resource-group"}}})
    );
    // The same with the flag in the config file, and the bundle up to date.
    std::fs::write(
        home.path().join("config.yaml"),
        "experimental: [persistent-parameters]\n",
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--no-lint", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Bundle is up-to-date!"));
}

/// With lint, Porter's fixture fails on exec's own rule (its `bash -c`
/// argument is not quoted), not on anything persistent.
#[test]
fn the_persistent_fixture_lints_only_execs_quoting() {
    let home = home_with_exec();
    let dir = persistent_fixture(home.path());
    let output = lint(home.path(), &dir)
        .env("PORTER_EXPERIMENTAL", "persistent-parameters")
        .args(["-o", "json"])
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let findings: Vec<Value> = serde_json::from_slice(&output).unwrap();
    let errors: Vec<&str> = findings
        .iter()
        .filter(|f| f["level"] == "error")
        .map(|f| f["code"].as_str().unwrap_or_default())
        .collect();
    assert!(
        !errors.is_empty() && errors.iter().all(|code| *code == "exec-101"),
        "{findings:?}"
    );
}

/// Each conflict Porter refuses, reported by lint at its line.
#[test]
fn persistent_conflicts_are_errors_at_their_lines() {
    let home = home_with_exec();
    let parameters = "\
parameters:
  - name: a
    type: string
    persistent: true
    path: /cnab/app/elsewhere
  - name: b
    type: string
    persistent: true
    applyTo: [install]
  - name: c
    type: string
    persistent: true
    source:
      output: o
  - name: d
    type: string
    persistent: true
    env: D
outputs:
  - name: o
";
    let dir = bundle(home.path(), "1.2.0", parameters);
    let output = lint(home.path(), &dir)
        .env("PORTER_EXPERIMENTAL", "persistent-parameters")
        .args(["-o", "json"])
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let findings: Vec<Value> = serde_json::from_slice(&output).unwrap();
    let errors: Vec<(u64, &str)> = findings
        .iter()
        .filter(|f| f["level"] == "error")
        .map(|f| (f["line"].as_u64().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                11,
                "parameter \"a\" cannot combine persistent with path/env"
            ),
            (15, "parameter \"b\" cannot combine persistent with applyTo"),
            (
                20,
                "parameter \"c\" cannot combine persistent with source.output"
            ),
            (
                24,
                "parameter \"d\" cannot combine persistent with path/env"
            ),
        ]
    );
    // Flag on, schemaVersion too old.
    let dir = bundle(
        home.path(),
        "1.0.1",
        "parameters:\n  - name: a\n    persistent: true\n",
    );
    lint(home.path(), &dir)
        .env("PORTER_EXPERIMENTAL", "persistent-parameters")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "parameter \"a\" uses persistent: true which requires schemaVersion >= 1.2.0",
        ))
        .stderr(predicate::str::contains("porter.yaml:9:17"));
}

/// `porter schema` is Porter's schema, which knows `persistent`, whatever
/// the flags (Porter's does not change with them either).
#[test]
fn schema_knows_persistent_parameters() {
    let home = home_with_exec();
    let schema = |flags: &str| -> Value {
        let out = porter(home.path())
            .env("PORTER_EXPERIMENTAL", flags)
            .arg("schema")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    let plain = schema("");
    let persistent = &plain["definitions"]["parameter"]["allOf"][1]["properties"]["persistent"];
    assert_eq!(persistent["type"], "boolean");
    assert!(
        persistent["description"]
            .as_str()
            .unwrap()
            .contains("persistent-parameters experimental feature"),
        "{persistent}"
    );
    assert_eq!(schema("persistent-parameters"), plain);
}

/// full-control-dockerfile from the config file, not only the variable.
#[test]
fn full_control_dockerfile_from_the_config_file() {
    let home = home_with_exec();
    let dir = bundle(home.path(), "1.0.1", "dockerfile: template.Dockerfile\n");
    let template = "FROM debian:stable-slim\nRUN echo custom\n";
    std::fs::write(dir.join("template.Dockerfile"), template).unwrap();
    std::fs::write(
        home.path().join("config.json"),
        "{\"experimental\": [\"full-control-dockerfile\"]}",
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap(),
        template
    );
}

/// The flags are part of the stamp: turning one on or off rebuilds a bundle
/// that was up to date (here the Dockerfile becomes the template verbatim,
/// and back).
#[test]
fn turning_a_flag_on_or_off_rebuilds() {
    let home = home_with_exec();
    let dir = bundle(home.path(), "1.0.1", "dockerfile: template.Dockerfile\n");
    let template = "FROM debian:stable-slim\nRUN echo custom\n";
    std::fs::write(dir.join("template.Dockerfile"), template).unwrap();
    let build = |flags: &str| {
        let out = porter(home.path())
            .env("PORTER_EXPERIMENTAL", flags)
            .args(["build", "--no-image", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let up_to_date = String::from_utf8_lossy(&out.stdout).contains("up-to-date");
        let dockerfile = std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap();
        (up_to_date, dockerfile == template)
    };
    assert_eq!(build(""), (false, false));
    assert_eq!(build(""), (true, false));
    assert_eq!(build("full-control-dockerfile"), (false, true));
    assert_eq!(build("full-control-dockerfile"), (true, true));
    assert_eq!(build(""), (false, false));
}

/// Porter's own config files (its pkg/config testdata) are read without a
/// warning: every key is Porter's; a versioned file's context is chosen.
#[test]
fn porters_own_config_files_are_accepted() {
    let home = home_with_exec();
    let dir = bundle(home.path(), "1.0.1", "");
    std::fs::copy(
        fixture("porter/config/config.toml"),
        home.path().join("config.toml"),
    )
    .unwrap();
    lint(home.path(), &dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
    std::fs::remove_file(home.path().join("config.toml")).unwrap();
    std::fs::copy(
        fixture("porter/config/config-multi-context.yaml"),
        home.path().join("config.yaml"),
    )
    .unwrap();
    lint(home.path(), &dir)
        .env("PORTER_CONTEXT", "prod")
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
    lint(home.path(), &dir)
        .env("PORTER_CONTEXT", "staging")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "context \"staging\" not found in config file; available: default, prod",
        ));
}
