//! Dependencies v2 through the real binary, against a real registry: the
//! dependencies' bundles are published there (cnab-to-oci's layout), a
//! build pins their tags to digests (or keeps them with --preserve-tags),
//! and lint checks the mappings against them (porter-103 to porter-111),
//! each finding on its line.

use std::path::{Path, PathBuf};

use crate::support::*;
use porter::oci::{RegistryOptions, bundle::push_bundle};
use serde_json::{Value, json};

/// Publishes a dependency's bundle.json with these inputs and outputs.
fn publish(registry: &Registry, reference: &str, bundle: Value) -> String {
    let options = RegistryOptions::default();
    let bytes = serde_json::to_vec(&bundle).unwrap();
    push_bundle(&registry.at(reference), &bytes, &options).unwrap()
}

/// myinfra: requires `database` and `token`; outputs `mysql-connstr`, `ip`.
fn infra() -> Value {
    json!({
        "schemaVersion": "1.2.0", "name": "myinfra", "version": "0.1.0",
        "invocationImages": [],
        "parameters": {
            "database": {"definition": "database-parameter", "required": true},
            "logLevel": {"definition": "logLevel-parameter"},
            "region": {"definition": "region-parameter", "required": true},
        },
        "credentials": {"token": {"required": true}},
        "outputs": {"mysql-connstr": {"definition": "s"}, "ip": {"definition": "s"}},
    })
}

/// myapp: takes `logLevel` and requires the credential `credential` (myenv
/// maps `db-connstr`); outputs `port`.
fn app(credential: &str) -> Value {
    json!({
        "schemaVersion": "1.2.0", "name": "myapp", "version": "1.2.3",
        "invocationImages": [],
        "parameters": {"logLevel": {"definition": "logLevel-parameter"}},
        "credentials": {credential: {"required": true}},
        "outputs": {"port": {"definition": "s"}},
    })
}

/// Porter's myenv example (tests/fixtures/porter/myenv), its dependencies
/// in `registry`, with `extra` appended to infra's mappings.
fn myenv(home: &Path, registry: &str, infra_extra: &str) -> PathBuf {
    let dir = home.join("myenv");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(fixture("porter/myenv/porter.yaml"))
        .unwrap()
        .replace("localhost:5000/", &format!("{registry}/"))
        .replace(
            "        logLevel: ${bundle.parameters.logLevel}\n    - name: app",
            &format!(
                "        logLevel: ${{bundle.parameters.logLevel}}\n{infra_extra}    - name: app"
            ),
        );
    std::fs::write(dir.join("porter.yaml"), text).unwrap();
    dir
}

fn with_v2(mut cmd: assert_cmd::Command) -> assert_cmd::Command {
    cmd.env("PORTER_EXPERIMENTAL", "dependencies-v2");
    cmd
}

fn bundle_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(".cnab/bundle.json")).unwrap()).unwrap()
}

#[test]
fn a_build_pins_each_tag_to_its_digest_unless_tags_are_preserved() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let infra_digest = publish(&registry, "myinfra:v0.1.0", infra());
    let app_digest = publish(&registry, "myapp:v1.2.3", app("db-connstr"));
    let home = home_with_exec();
    let dir = myenv(home.path(), &registry.addr, "        region: eastus\n");

    let mut build = with_v2(porter(home.path()));
    build.args(["build", "--no-image", "--dir"]).arg(&dir);
    let output = build.assert().success().get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("porter-105"), "{stderr}");
    let bundle = bundle_json(&dir);
    let requires = &bundle["custom"]["org.getporter.dependencies@v2"]["requires"];
    assert_eq!(
        requires["infra"]["bundle"],
        json!(format!("{}@{infra_digest}", registry.at("myinfra")))
    );
    assert_eq!(
        requires["app"]["bundle"],
        json!(format!("{}@{app_digest}", registry.at("myapp")))
    );
    assert_eq!(
        requires["app"]["outputs"],
        json!({"endpoint": "https://${bundle.dependencies.infra.outputs.ip}:${outputs.port}/myapp"})
    );
    assert!(bundle["custom"].get("io.cnab.dependencies").is_none());

    let mut preserved = with_v2(porter(home.path()));
    preserved
        .args(["build", "--no-image", "--preserve-tags", "--force", "--dir"])
        .arg(&dir);
    preserved.assert().success();
    let bundle = bundle_json(&dir);
    let requires = &bundle["custom"]["org.getporter.dependencies@v2"]["requires"];
    assert_eq!(
        requires["infra"]["bundle"],
        json!(registry.at("myinfra:v0.1.0"))
    );
    assert_eq!(bundle["custom"]["sh.porter"]["preserveTags"], json!(true));
}

#[test]
fn a_tag_that_names_nothing_fails_the_build_and_keeps_the_last_one() {
    let Some(registry) = Registry::start() else {
        return;
    };
    publish(&registry, "myinfra:v0.1.0", infra());
    let home = home_with_exec();
    let dir = myenv(home.path(), &registry.addr, "        region: eastus\n");
    let mut build = with_v2(porter(home.path()));
    build.args(["build", "--no-image", "--dir"]).arg(&dir);
    let output = build.assert().failure().get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "failed to resolve dependency app ({}) to a digest",
            registry.at("myapp:v1.2.3")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--preserve-tags"), "{stderr}");
    assert!(!dir.join(".cnab/bundle.json").exists());
}

/// Every porter-103..111 case, each at its line (1-based, as printed).
#[test]
fn lint_checks_each_mapping_against_the_bundles_and_the_manifest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    publish(&registry, "myinfra:v0.1.0", infra());
    // Not the credential myenv maps: porter-104 and porter-111.
    publish(&registry, "myapp:v1.2.3", app("connstr"));
    let home = home_with_exec();
    // Appended to infra's parameters; `region` left unmapped (porter-110).
    let extra = "        nope: 1\n        \
                 level: ${bundle.parameters.missing}\n        \
                 where: ${outputs.ip}\n        \
                 who: ${env.USER}\n        \
                 from: ${bundle.dependencies.ghost.outputs.x}\n        \
                 secret: ${bundle.credentials.nope}\n      \
                 outputs:\n        \
                 addr: ${bundle.dependencies.infra.outputs.nothing}\n";
    let dir = myenv(home.path(), &registry.addr, extra);
    let text = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    let line_of = |needle: &str| {
        1 + text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {text}"))
    };
    let mut lint = with_v2(porter(home.path()));
    lint.args(["lint", "-o", "json", "--dir"]).arg(&dir);
    let output = lint.assert().failure().get_output().clone();
    let findings: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<(String, u64, String)> = findings
        .iter()
        .filter(|f| {
            f["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("porter-1"))
        })
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("porter-103", line_of("nope: 1"), "dependencies.infra.parameters.nope is not defined as a parameter on the dependency bundle".to_string()),
        ("porter-107", line_of("level:"), "dependencies.infra.parameters.level references bundle.parameters.missing, which is not defined as a parameter on the bundle".to_string()),
        ("porter-106", line_of("where:"), "dependencies.infra.parameters.where references outputs.ip, but the outputs variable can only be used within a dependency's output mappings".to_string()),
        ("porter-106", line_of("who:"), "dependencies.infra.parameters.who references env.USER, which is not a supported template variable in the dependencies section (supported: bundle.*, installation.*, and outputs.* inside a dependency's output mappings)".to_string()),
        ("porter-109", line_of("from:"), "dependencies.infra.parameters.from references bundle.dependencies.ghost.outputs.x, but ghost is not declared under dependencies.requires".to_string()),
        ("porter-108", line_of("secret:"), "dependencies.infra.parameters.secret references bundle.credentials.nope, which is not defined as a credential on the bundle".to_string()),
        ("porter-109", line_of("addr:"), "dependencies.infra.outputs.addr references bundle.dependencies.infra.outputs.nothing, which is not defined as an output on the infra dependency".to_string()),
        ("porter-110", line_of("- name: infra"), "dependencies.infra.parameters.region is required by the dependency bundle but is not mapped".to_string()),
        ("porter-104", line_of("db-connstr:"), "dependencies.app.credentials.db-connstr is not defined as a credential on the dependency bundle".to_string()),
        ("porter-111", line_of("- name: app"), "dependencies.app.credentials.connstr is required by the dependency bundle but is not mapped".to_string()),
    ];
    for (code, line, message) in &expected {
        assert!(
            found
                .iter()
                .any(|(c, l, m)| c == code && l == &(*line as u64) && m == message),
            "{code} at line {line}: {message}\nnot in {found:#?}"
        );
    }
}

#[test]
fn an_unreachable_dependency_is_a_warning_and_its_mappings_are_checked_against_porter_yaml() {
    let home = home_with_exec();
    // Nothing listens on this port.
    let addr = format!("127.0.0.1:{}", free_port());
    let dir = myenv(home.path(), &addr, "");
    let mut lint = with_v2(porter(home.path()));
    lint.args(["lint", "-o", "json", "--dir"]).arg(&dir);
    let output = lint.assert().success().get_output().clone();
    let findings: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let unresolved: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"] == "porter-105")
        .collect();
    assert_eq!(unresolved.len(), 2, "{findings:#?}");
    assert_eq!(unresolved[0]["level"], "warning");
    assert_eq!(
        unresolved[0]["message"],
        json!(format!(
            "unable to resolve dependency infra ({addr}/myinfra:v0.1.0), so its parameter, \
             credential, and output mappings could not be validated"
        ))
    );
}

#[test]
fn without_the_flag_v2_fields_are_warned_about_and_written_as_v1() {
    let home = home_with_exec();
    let dir = myenv(home.path(), "localhost:5000", "");
    let text = std::fs::read_to_string(dir.join("porter.yaml"))
        .unwrap()
        .replace("schemaVersion: 1.1.0", "schemaVersion: 1.0.1")
        .replace(":${outputs.port}", "");
    std::fs::write(dir.join("porter.yaml"), &text).unwrap();
    let mut build = porter(home.path());
    build.args(["build", "--no-image", "--dir"]).arg(&dir);
    let output = build.assert().success().get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "dependency infra: credentials is a dependencies v2 field, and dependencies-v2 is off: \
             bundle.json records the dependency as v1, without it"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("PORTER_EXPERIMENTAL=dependencies-v2"),
        "{stderr}"
    );
    let bundle = bundle_json(&dir);
    assert_eq!(
        bundle["custom"]["io.cnab.dependencies"]["sequence"],
        json!(["infra", "app"])
    );
    assert!(
        bundle["custom"]
            .get("org.getporter.dependencies@v2")
            .is_none()
    );
}

/// `porter schema` with the flag is Porter's dependencies v2 schema, which
/// describes every field this porter reads (sharing's boolean mode and the
/// interface document's lists as Porter's own examples write them, and
/// `persistent` and `files`, which that schema predates).
#[test]
fn schema_describes_the_v2_fields_with_the_flag() {
    let home = home_with_exec();
    let schema = |flags: &str| -> Value {
        let mut cmd = porter(home.path());
        let out = cmd
            .env("PORTER_EXPERIMENTAL", flags)
            .arg("schema")
            .assert()
            .success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let v2 = schema("dependencies-v2");
    let dependency = &v2["definitions"]["dependency"]["properties"];
    for field in ["sharing", "credentials", "outputs", "parameters"] {
        assert!(dependency.get(field).is_some(), "{field}: {dependency}");
    }
    assert!(
        v2["properties"]["dependencies"]["properties"]
            .get("provides")
            .is_some()
    );
    let mode = &v2["definitions"]["sharingCriteria"]["properties"]["mode"];
    assert_eq!(mode["type"], json!(["boolean", "string"]));
    let document = &v2["definitions"]["bundle"]["properties"]["interface"]["properties"]["document"]
        ["properties"];
    assert_eq!(
        document["parameters"]["items"]["$ref"],
        "#/definitions/parameter"
    );
    assert_eq!(document["parameters"]["type"], "array");
    let parameter = &v2["definitions"]["parameter"]["allOf"][1]["properties"];
    assert_eq!(parameter["persistent"]["type"], "boolean");
    assert!(v2["properties"].get("files").is_some());

    let v1 = schema("");
    assert!(
        v1["properties"]["dependencies"]["properties"]
            .get("provides")
            .is_none()
    );
    assert!(
        v1["definitions"]["dependency"]["properties"]
            .get("sharing")
            .is_none()
    );
}
