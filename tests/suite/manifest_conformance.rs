//! Porter's own manifests (tests/fixtures/porter/, see its README) load, or
//! fail with the message Porter's tests expect.

use crate::support::fixture;
use porter::manifest::{self, LoadedManifest, ManifestErrors};

fn load(relative: &str) -> Result<LoadedManifest, ManifestErrors> {
    let path = fixture(&format!("porter/{relative}"));
    manifest::load_str(relative, std::fs::read_to_string(path).unwrap())
}

#[test]
fn valid_fixtures_load() {
    for relative in [
        "manifest/porter.yaml",
        "manifest/simple.porter.yaml",
        "manifest/with-credentials.yaml",
        "manifest/porter-with-templating.yaml",
        "manifest/porter-with-custom-metadata.yaml",
        "manifest/porter-with-deps.yaml",
        "manifest/bundles/nginx/porter.yaml",
        "config-adapter/porter.yaml",
        "config-adapter/porter-with-parameters.yaml",
        "config-adapter/porter-with-required-extensions.yaml",
        "config-adapter/porter-with-deps.yaml",
        "mybuns/porter.yaml",
        "templates-create/porter.yaml",
    ] {
        if let Err(errors) = load(relative) {
            panic!("{relative} should load:\n{errors}");
        }
    }
}

#[test]
fn invalid_fixtures_fail_as_porter_says() {
    let cases = [
        ("manifest/porter-no-name.yaml", "bundle name must be set"),
        (
            "manifest/porter-with-bad-description.yaml",
            "a step's description must be a string, found a list",
        ),
        (
            "manifest/porter-with-bad-type.yaml",
            "the settings of a exec step must be a mapping, found a string",
        ),
        (
            "manifest/porter-with-badschema.yaml",
            "unknown field 'baddata'",
        ),
        (
            "manifest/empty-steps.yaml",
            "found an empty step in action 'install'",
        ),
        // 1.1.0 and 1.2.0 need Porter's experimental flags, off here
        // (tests/suite/experimental.rs turns them on).
        (
            "manifest/porter-with-persistent-params.yaml",
            "the schema version is 1.2.0 but the supported schema version is 1.0.0-alpha.1 || >=1.0.0 <=1.0.1",
        ),
        (
            "manifest/bundles/mysql/porter.yaml",
            "the schema version is 1.1.0",
        ),
        (
            "config-adapter/porter-with-depsv2.yaml",
            "the schema version is 1.1.0",
        ),
    ];
    for (relative, expected) in cases {
        let errors = load(relative)
            .err()
            .unwrap_or_else(|| panic!("{relative} should fail"));
        assert!(
            errors
                .diagnostics
                .iter()
                .any(|d| d.message.contains(expected)),
            "{relative}: expected '{expected}' in\n{errors}"
        );
    }
}

#[test]
fn empty_steps_are_all_reported_with_their_lines() {
    let errors = load("manifest/empty-steps.yaml").unwrap_err();
    let found: Vec<(usize, &str)> = errors
        .diagnostics
        .iter()
        .map(|d| (d.at.line, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (8, "mixin declaration was empty"),
            (19, "found an empty step in action 'install'"),
            (27, "found an empty step in action 'status'"),
            (40, "found an empty step in action 'uninstall'"),
        ]
    );
}

/// The mixin-with-* files are `mixins:` snippets: only their declarations
/// are judged here.
#[test]
fn mixin_declarations_parse_as_porter_parses_them() {
    let mixin_errors = |relative: &str| -> Vec<String> {
        match load(relative) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .diagnostics
                .into_iter()
                .filter(|d| d.message.contains("mixin") && !d.message.starts_with("no mixins"))
                .map(|d| d.message)
                .collect(),
        }
    };
    assert!(mixin_errors("manifest/mixin-with-config.yaml").is_empty());
    assert!(mixin_errors("manifest/mixin-with-versions.yaml").is_empty());
    assert_eq!(
        mixin_errors("manifest/mixin-with-invalid-version.yaml"),
        ["invalid mixin name/version: expected name@version, got: az@this@that"]
    );
    assert_eq!(
        mixin_errors("manifest/mixin-with-empty-version.yaml"),
        ["invalid mixin name/version 'exec@': the version constraint is empty"]
    );
    assert_eq!(
        mixin_errors("manifest/mixin-with-bad-config.yaml"),
        ["mixin declaration contained more than one mixin (name, extensions)"]
    );
}

#[test]
fn mybuns_is_read_field_by_field() {
    let m = load("mybuns/porter.yaml").unwrap().manifest;
    assert_eq!(
        (m.name.as_str(), m.version.to_string().as_str()),
        ("mybuns", "0.1.2")
    );
    assert_eq!(m.schema_type, "Bundle");
    assert_eq!(m.dockerfile.as_deref(), Some("Dockerfile.tmpl"));
    assert_eq!(m.maintainers.len(), 4);
    let actions: Vec<&str> = m.actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        actions,
        [
            "install",
            "dry-run",
            "status",
            "boom",
            "upgrade",
            "uninstall"
        ]
    );
    assert_eq!(
        m.custom_action_names().collect::<Vec<_>>(),
        ["dry-run", "status", "boom"]
    );
    assert!(m.custom_actions["dry-run"].stateless);
    let mixins: Vec<(&str, bool)> = m
        .mixins
        .iter()
        .map(|d| (d.name.as_str(), d.config.is_some()))
        .collect();
    assert_eq!(mixins, [("exec", false), ("testmixin", true)]);
    assert_eq!(m.parameters.len(), 17);
    let tfstate = m.parameter("tfstate").unwrap();
    assert_eq!(tfstate.type_name(), Some("file"));
    assert_eq!(tfstate.source.as_ref().unwrap().output, "tfstate");
    assert_eq!(tfstate.apply_to, ["upgrade", "uninstall"]);
    assert!(m.parameter("log_level").unwrap().default().is_some());
    assert!(!m.parameter("log_level").unwrap().required());
    // Credentials are required unless they say otherwise.
    let required: Vec<(&str, bool)> = m
        .credentials
        .iter()
        .map(|c| (c.name.as_str(), c.required))
        .collect();
    assert_eq!(required, [("username", false), ("password", true)]);
    assert_eq!(m.outputs.len(), 5);
    assert_eq!(m.images["whalesayd"].repository, "carolynvs/whalesayd");
    assert_eq!(m.dependencies[0].name, "db");
    assert_eq!(m.dependencies[0].parameters["database"], "bigdb");
    assert_eq!(m.required[0].name, "docker");
    assert_eq!(m.state[0].path, "magic.txt");
    let vars: Vec<&str> = m.template_variables.iter().map(String::as_str).collect();
    assert_eq!(
        vars,
        [
            "bundle.credentials.username",
            "bundle.outputs.msg",
            "bundle.parameters.cfg",
            "bundle.parameters.chaos_monkey",
            "bundle.parameters.password"
        ]
    );
}

/// `porter schema` merges mixins exactly as Porter's golden shows (exec and
/// a test mixin whose schema is recovered from the golden itself), once the
/// fields Porter's schema lacks (`files`) are taken out.
#[test]
fn merged_schema_equals_porters_golden() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("porter/schema/schema.json")).unwrap(),
    )
    .unwrap();
    let exec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("porter/exec/exec.json")).unwrap())
            .unwrap();
    let testmixin_text = golden["mixin.testmixin"]
        .to_string()
        .replace("#/mixin.testmixin/", "#/");
    let testmixin: serde_json::Value = serde_json::from_str(&testmixin_text).unwrap();
    let mut ours =
        manifest::schema::merged(&[("exec".into(), exec), ("testmixin".into(), testmixin)]);
    let properties = ours["properties"].as_object_mut().unwrap();
    for field in manifest::schema::FIELDS_PORTER_LACKS {
        assert!(properties.remove(*field).is_some(), "{field}");
    }
    assert_eq!(ours, golden);
}
