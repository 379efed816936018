//! bundle.json generation against Porter's own expectations: its golden
//! bundle.json for mybuns, the assertions of its config-adapter tests
//! (`pkg/cnab/config-adapter/adapter_test.go`), the CNAB 1.2.0 JSON schema,
//! and canonical JSON as cnab-go writes it.
//!
//! Porter's deps-v2 goldens (`mybuns-depsv2*`, `myenv-depsv2`) are not
//! compared: they need Porter's dependencies v2, which this porter does not
//! write (its `dependencies-v2` flag only lets schemaVersion 1.1.0 through).

use std::path::{Path, PathBuf};

use porter::cnab::{
    self, BundleFile, BundleInputs, DELIBERATE_DIFFERENCES, DifferenceKind, InvocationImage,
    MixinRecord, StampInputs,
};
use porter::experimental::{Experimental, Flag};
use porter::manifest::{self, LoadedManifest};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn read(relative: &str) -> String {
    let path = fixtures().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_text(name: &str, text: &str) -> LoadedManifest {
    manifest::load_str(name, text.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// What Porter's `TestManifestConverter` passes: exec v1.2.3 installed, no
/// digest, empty Porter version and commit, the md5-tagged installer image.
fn porters_test_mixins() -> Vec<MixinRecord> {
    vec![MixinRecord {
        name: "exec".into(),
        version: semver::Version::new(1, 2, 3),
        digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        source: "file:///tmp/exec.wasm".into(),
    }]
}

/// The stamp's digest of a build without build arguments.
fn stamp_digest(
    text: &str,
    porter_version: &str,
    mixins: &[MixinRecord],
    files: &[BundleFile],
) -> String {
    cnab::manifest_digest(&StampInputs {
        downloads: &[],
        manifest_text: text,
        porter_version,
        mixins,
        files,
        build_args: &Default::default(),
        experimental: "",
    })
}

fn porters_test_image() -> InvocationImage {
    InvocationImage {
        image: "localhost:5000/mybuns:porter-332dd75c541511a27fc332bdcd049d5b".into(),
        image_id: None,
        size: None,
    }
}

/// The bundle of manifest text, built with Porter's test inputs.
fn bundle_of(text: &str, preserve_tags: bool) -> Value {
    bundle_with_flags(text, preserve_tags, Experimental::default())
}

/// [`bundle_of`], loaded and mapped with Porter's experimental `flags`.
fn bundle_with_flags(text: &str, preserve_tags: bool, flags: Experimental) -> Value {
    let dependencies_v2 = flags.is_on(Flag::DependenciesV2);
    let options = manifest::LoadOptions::with_flags(flags);
    let loaded = manifest::load_str_with_options("porter.yaml", text.to_string(), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let mixins = porters_test_mixins();
    // Porter's test names the image as a build does.
    let image = InvocationImage {
        image: porter::build::invocation_image_name(&loaded.manifest).unwrap(),
        ..porters_test_image()
    };
    cnab::bundle_json(&BundleInputs {
        manifest: &loaded.manifest,
        manifest_text: text,
        porter_version: "",
        porter_commit: "",
        mixins: &mixins,
        invocation_image: &image,
        manifest_digest: "",
        preserve_tags,
        dependencies_v2,
    })
}

// ---- removing the deliberate differences --------------------------------

/// Removes the field at a JSON Pointer; `*` matches every key of an object.
fn remove_pointer(value: &mut Value, pointer: &str) {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    remove_tokens(value, &tokens);
}

fn remove_tokens(value: &mut Value, tokens: &[String]) {
    let Some((first, rest)) = tokens.split_first() else {
        return;
    };
    let children: Vec<&mut Value> = match value {
        Value::Object(map) if rest.is_empty() => {
            map.remove(first);
            return;
        }
        Value::Array(items) if rest.is_empty() => {
            if let Ok(i) = first.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
            return;
        }
        Value::Object(map) if first == "*" => map.values_mut().collect(),
        Value::Object(map) => map.get_mut(first).into_iter().collect(),
        Value::Array(items) => first
            .parse::<usize>()
            .ok()
            .and_then(|i| items.get_mut(i))
            .into_iter()
            .collect(),
        _ => return,
    };
    for child in children {
        remove_tokens(child, rest);
    }
}

/// Both bundles without the fields `DELIBERATE_DIFFERENCES` lists under
/// `kinds`.
fn without_differences(
    mut ours: Value,
    mut porters: Value,
    kinds: &[DifferenceKind],
) -> (Value, Value) {
    for difference in DELIBERATE_DIFFERENCES
        .iter()
        .filter(|d| kinds.contains(&d.kind))
    {
        remove_pointer(&mut ours, difference.pointer);
        remove_pointer(&mut porters, difference.pointer);
    }
    (ours, porters)
}

/// Porter's golden with its mixins' versions as we record them (one
/// listed difference: semver, without Porter's leading `v`), so the rest of
/// the stamp is still compared.
fn mixin_versions_as_semver(mut porters: Value) -> Value {
    let mixins = porters["custom"]["sh.porter"]["mixins"]
        .as_object_mut()
        .expect("Porter's stamp lists its mixins");
    for record in mixins.values_mut() {
        let version = record["version"].as_str().expect("a version string");
        record["version"] = version.trim_start_matches('v').into();
    }
    porters
}

fn assert_same_bundle(ours: &Value, porters: &Value) {
    if ours != porters {
        let ours = serde_json::to_string_pretty(ours).unwrap();
        let porters = serde_json::to_string_pretty(porters).unwrap();
        let first_difference = ours
            .lines()
            .zip(porters.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "bundle.json differs from Porter's from line {}:\n--- ours\n{}\n--- Porter's\n{}",
            first_difference + 1,
            ours.lines()
                .skip(first_difference.saturating_sub(3))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n"),
            porters
                .lines()
                .skip(first_difference.saturating_sub(3))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}

#[test]
fn remove_pointer_handles_wildcards_and_escapes() {
    let mut v = json!({"a": {"x": {"d": 1, "k": 2}, "y": {"d": 3}}, "b/c": [1, 2]});
    remove_pointer(&mut v, "/a/*/d");
    remove_pointer(&mut v, "/b~1c/0");
    remove_pointer(&mut v, "/missing/field");
    assert_eq!(v, json!({"a": {"x": {"k": 2}, "y": {}}, "b/c": [2]}));
}

// ---- conformance with Porter's golden files ------------------------------

#[test]
fn mybuns_equals_porters_golden_but_for_our_added_fields() {
    assert_mybuns_equals_golden(false, "porter/cnab/mybuns-depsv1.bundle.json");
}

#[test]
fn mybuns_with_preserved_tags_equals_porters_golden_but_for_our_added_fields() {
    assert_mybuns_equals_golden(true, "porter/cnab/mybuns-depsv1.bundle.preserveTags.json");
}

#[test]
fn mybuns_with_dependencies_v2_equals_porters_golden_but_for_our_added_fields() {
    for (preserve_tags, golden) in [
        (false, "porter/cnab/mybuns-depsv2.bundle.json"),
        (true, "porter/cnab/mybuns-depsv2.bundle.preserveTags.json"),
    ] {
        let ours = bundle_with_flags(
            &read("porter/mybuns/porter.yaml"),
            preserve_tags,
            Experimental::with([Flag::DependenciesV2]),
        );
        assert_equals_golden(ours, golden);
    }
}

/// Porter's `myenv depsv2` case: credential, parameter and output mappings,
/// the `${ outputs.X }` shorthand wired as the dependency's output.
#[test]
fn myenv_with_dependencies_v2_equals_porters_golden_but_for_our_added_fields() {
    let ours = bundle_with_flags(
        &read("porter/myenv/porter.yaml"),
        false,
        Experimental::with([Flag::DependenciesV2]),
    );
    assert_equals_golden(ours, "porter/cnab/myenv-depsv2.bundle.json");
}

/// `TestManifestConverter_generateDependenciesv2` ("all fields"): Porter's
/// expected Go values, as the JSON its encoder writes, and the definitions
/// the interface document adds.
#[test]
fn a_dependency_interface_document_maps_as_porter_maps_it() {
    let bundle = bundle_with_flags(
        &read("porter/config-adapter/porter-with-depsv2.yaml"),
        false,
        Experimental::with([Flag::DependenciesV2]),
    );
    let extension = &bundle["custom"]["org.getporter.dependencies@v2"];
    assert_eq!(
        extension["requires"]["mysql"],
        json!({
            "bundle": "getporter/azure-mysql:5.7",
            "version": "5.7.x",
            "interface": {
                "id": "https://porter.sh/interfaces/#mysql",
                "document": {
                    "outputs": {"myoutput": {
                        "definition": "myoutput-output",
                        "description": "worlds smallest output",
                        "path": "/cnab/app/outputs/myoutput",
                    }},
                    "parameters": {"myparam": {
                        "definition": "myparam-parameter",
                        "description": "worlds biggest param",
                        "destination": {"env": "MYPARAM"},
                    }},
                    "credentials": {"mycred": {"description": "credential", "required": true}},
                },
            },
            "sharing": {"mode": true, "group": {"name": "myapp"}},
            "parameters": {"database": "wordpress", "collation": "${bundle.parameters.db_collation}"},
            "credentials": {"user": "${bundle.credentials.username}"},
        })
    );
    // Porter's other two dependencies: no interface, an empty sharing group.
    assert_eq!(
        extension["requires"]["ad"],
        json!({"bundle": "getporter/azure-active-directory", "version": "1.0.0-0", "sharing": {"group": {}}})
    );
    assert_eq!(
        extension["provides"],
        json!({"interface": {"id": "https://example.com/hello"}})
    );
    assert_eq!(
        bundle["definitions"]["myoutput-output"],
        json!({"type": "string", "description": "worlds smallest output"})
    );
    assert_eq!(
        bundle["definitions"]["myparam-parameter"],
        json!({"type": "string", "default": false, "description": "worlds biggest param"})
    );
    assert!(
        bundle["requiredExtensions"]
            .as_array()
            .unwrap()
            .contains(&json!("org.getporter.dependencies@v2"))
    );
    assert!(bundle["custom"].get("io.cnab.dependencies").is_none());
}

fn assert_mybuns_equals_golden(preserve_tags: bool, golden: &str) {
    let ours = bundle_of(&read("porter/mybuns/porter.yaml"), preserve_tags);
    assert_equals_golden(ours, golden);
}

fn assert_equals_golden(ours: Value, golden: &str) {
    let porters = mixin_versions_as_semver(serde_json::from_str(&read(golden)).unwrap());
    let (ours, porters) = without_differences(ours, porters, &[DifferenceKind::AddedField]);
    assert_same_bundle(&ours, &porters);
}

/// With real build values, only the listed differences remain.
#[test]
fn mybuns_from_a_real_build_differs_only_where_listed() {
    let text = read("porter/mybuns/porter.yaml");
    let loaded = load_text("porter.yaml", &text);
    let mixins = vec![
        MixinRecord {
            name: "exec".into(),
            version: semver::Version::new(1, 2, 3),
            digest: format!("sha256:{}", "a".repeat(64)),
            source: "https://example.com/exec.wasm".into(),
        },
        MixinRecord {
            name: "testmixin".into(),
            version: semver::Version::new(0, 1, 0),
            digest: format!("sha256:{}", "b".repeat(64)),
            source: "oci://localhost:5000/mixins/testmixin:0.1.0".into(),
        },
    ];
    let image = InvocationImage {
        image: "localhost:5000/mybuns:v0.1.2".into(),
        image_id: None,
        size: None,
    };
    let files = [BundleFile {
        path: "helpers.sh".into(),
        sha256: "d".repeat(64),
        executable: true,
    }];
    let digest = stamp_digest(&text, "0.1.0", &mixins, &files);
    let ours = cnab::bundle_json(&BundleInputs {
        manifest: &loaded.manifest,
        manifest_text: &text,
        porter_version: "0.1.0",
        porter_commit: "abc1234",
        mixins: &mixins,
        invocation_image: &image,
        manifest_digest: &digest,
        preserve_tags: false,
        dependencies_v2: false,
    });

    let stamp = &ours["custom"]["sh.porter"];
    assert_eq!(stamp["manifestDigest"], json!(digest));
    assert_eq!(stamp["version"], json!("0.1.0"));
    assert_eq!(stamp["commit"], json!("abc1234"));
    assert_eq!(
        stamp["mixins"]["testmixin"],
        json!({"version": "0.1.0", "digest": format!("sha256:{}", "b".repeat(64)), "source": "oci://localhost:5000/mixins/testmixin:0.1.0"})
    );
    assert_eq!(
        ours["invocationImages"],
        json!([{"imageType": "docker", "image": "localhost:5000/mybuns:v0.1.2"}])
    );

    let mut porters: Value =
        serde_json::from_str(&read("porter/cnab/mybuns-depsv1.bundle.json")).unwrap();
    // Porter's test installs only exec; the versions are the build's values.
    remove_pointer(&mut porters, "/custom/sh.porter/mixins");
    let mut ours = ours;
    remove_pointer(&mut ours, "/custom/sh.porter/mixins");
    let (ours, porters) = without_differences(
        ours,
        porters,
        &[DifferenceKind::AddedField, DifferenceKind::OwnValue],
    );
    assert_same_bundle(&ours, &porters);
}

// ---- Porter's config-adapter assertions (adapter_test.go) ----------------

/// `TestManifestConverter_generateBundleParametersSchema`.
#[test]
fn parameters_map_as_porter_maps_them() {
    let bundle = bundle_of(
        &read("porter/config-adapter/porter-with-parameters.yaml"),
        false,
    );
    let expected = [
        (
            "ainteger",
            json!({"definition": "ainteger-parameter", "destination": {"env": "AINTEGER"}}),
            json!({"type": "integer", "default": 1, "minimum": 0, "maximum": 10}),
        ),
        (
            "anumber",
            json!({"definition": "anumber-parameter", "destination": {"env": "ANUMBER"}}),
            json!({"type": "number", "default": 0.5, "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
        ),
        (
            "astringenum",
            json!({"definition": "astringenum-parameter", "destination": {"env": "ASTRINGENUM"}}),
            json!({"type": "string", "default": "blue", "enum": ["blue", "red", "purple", "pink"]}),
        ),
        (
            "astring",
            json!({"definition": "astring-parameter", "destination": {"env": "ASTRING"}, "required": true}),
            json!({"type": "string", "minLength": 1, "maxLength": 10}),
        ),
        (
            "aboolean",
            json!({"definition": "aboolean-parameter", "destination": {"env": "ABOOLEAN"}}),
            json!({"type": "boolean", "default": true}),
        ),
        (
            "installonly",
            json!({"definition": "installonly-parameter", "destination": {"env": "INSTALLONLY"}, "applyTo": ["install"], "required": true}),
            json!({"type": "boolean"}),
        ),
        (
            "sensitive",
            json!({"definition": "sensitive-parameter", "destination": {"env": "SENSITIVE"}, "required": true}),
            json!({"type": "string", "writeOnly": true}),
        ),
        (
            "jsonobject",
            json!({"definition": "jsonobject-parameter", "destination": {"env": "JSONOBJECT"}}),
            json!({"type": "string", "default": "\"myobject\": { \"foo\": \"true\", \"bar\": [ 1, 2, 3 ] }"}),
        ),
        (
            "afile",
            json!({"definition": "afile-parameter", "destination": {"path": "/home/nonroot/.kube/config"}, "required": true}),
            json!({"type": "string", "contentEncoding": "base64"}),
        ),
        (
            "notype-file",
            json!({"definition": "notype-file-parameter", "destination": {"path": "/cnab/app/config.toml"}, "required": true}),
            json!({"type": "string", "contentEncoding": "base64"}),
        ),
        (
            "notype-string",
            json!({"definition": "notype-string-parameter", "destination": {"env": "NOTYPE_STRING"}, "required": true}),
            json!({"type": "string"}),
        ),
    ];
    for (name, parameter, definition) in expected {
        assert_eq!(bundle["parameters"][name], parameter, "parameter {name}");
        let definition_name = parameter["definition"].as_str().unwrap();
        assert_eq!(
            bundle["definitions"][definition_name], definition,
            "definition of {name}"
        );
    }
}

/// `TestManifestConverter_buildDefaultPorterParameters`.
#[test]
fn porter_debug_and_state_are_always_there() {
    let bundle = bundle_of(&read("porter/manifest/simple.porter.yaml"), false);
    assert_eq!(
        bundle["parameters"]["porter-debug"],
        json!({"definition": "porter-debug-parameter", "description": "Print debug information from Porter when executing the bundle", "destination": {"env": "PORTER_DEBUG"}})
    );
    assert_eq!(
        bundle["definitions"]["porter-debug-parameter"]["type"],
        json!("boolean")
    );
    assert_eq!(
        bundle["definitions"]["porter-debug-parameter"]["default"],
        json!(false)
    );
    assert_eq!(
        bundle["parameters"]["porter-state"]["destination"],
        json!({"path": "/porter/state.tgz"})
    );
    assert!(
        bundle["parameters"]["porter-state"]
            .get("required")
            .is_none()
    );
    assert_eq!(
        bundle["outputs"]["porter-state"]["definition"],
        json!("porter-state")
    );
    assert_eq!(
        bundle["custom"]["io.cnab.parameter-sources"]["porter-state"],
        json!({"priority": ["output"], "sources": {"output": {"name": "porter-state"}}})
    );
}

/// `TestManifestConverter_generateBundleOutputs`, written as a manifest.
#[test]
fn outputs_map_as_porter_maps_them() {
    let text = r#"
schemaVersion: 1.0.1
name: outputs
version: 0.1.0
registry: localhost:5000
mixins: [exec]
install:
  - exec: {command: "true"}
upgrade:
  - exec: {command: "true"}
uninstall:
  - exec: {command: "true"}
outputs:
  - name: output1
    applyTo: [install, upgrade]
    type: string
    description: Description of output1
    sensitive: true
  - name: output2
    type: boolean
    description: Description of output2
  - name: kubeconfig
    path: /home/nonroot/.kube/config
    type: file
    description: Description of kubeconfig
  - name: notype-string
  - name: notype-file
    path: /home/nonroot/.kube/config
"#;
    let bundle = bundle_of(text, false);
    assert_eq!(
        bundle["outputs"],
        json!({
            "output1": {"definition": "output1-output", "description": "Description of output1", "applyTo": ["install", "upgrade"], "path": "/cnab/app/outputs/output1"},
            "output2": {"definition": "output2-output", "description": "Description of output2", "path": "/cnab/app/outputs/output2"},
            "kubeconfig": {"definition": "kubeconfig-output", "description": "Description of kubeconfig", "path": "/cnab/app/outputs/kubeconfig"},
            "notype-string": {"definition": "notype-string-output", "path": "/cnab/app/outputs/notype-string"},
            "notype-file": {"definition": "notype-file-output", "path": "/cnab/app/outputs/notype-file"},
            "porter-state": {"definition": "porter-state", "description": "Supports persisting state for bundles. Porter internal parameter that should not be set manually.", "path": "/cnab/app/outputs/porter-state"},
        })
    );
    let defs = &bundle["definitions"];
    assert_eq!(
        defs["output1-output"],
        json!({"type": "string", "description": "Description of output1", "writeOnly": true})
    );
    assert_eq!(
        defs["output2-output"],
        json!({"type": "boolean", "description": "Description of output2"})
    );
    assert_eq!(
        defs["kubeconfig-output"],
        json!({"type": "string", "contentEncoding": "base64", "description": "Description of kubeconfig"})
    );
    assert_eq!(defs["notype-string-output"], json!({"type": "string"}));
    assert_eq!(
        defs["notype-file-output"],
        json!({"type": "string", "contentEncoding": "base64"})
    );
}

/// `TestManifestConverter_generateDependenciesv1`.
#[test]
fn dependencies_are_written_as_cnab_dependencies_v1() {
    let bundle = bundle_of(&read("porter/config-adapter/porter-with-deps.yaml"), false);
    assert_eq!(
        bundle["custom"]["io.cnab.dependencies"],
        json!({
            "sequence": ["mysql", "ad", "storage"],
            "requires": {
                "mysql": {"bundle": "getporter/azure-mysql:5.7"},
                "ad": {"bundle": "getporter/azure-active-directory", "version": {"ranges": ["1.0.0-0"], "prereleases": true}},
                "storage": {"bundle": "getporter/azure-blob-storage", "version": {"ranges": ["1.x - 2,2.1 - 3.x"], "prereleases": false}},
            }
        })
    );
    assert_eq!(
        bundle["requiredExtensions"],
        json!([
            "sh.porter.file-parameters",
            "io.cnab.dependencies",
            "io.cnab.parameter-sources"
        ])
    );
}

/// `TestManifestConverter_generateCustomExtensions_withRequired`.
#[test]
fn unknown_required_extensions_are_passed_through_with_their_config() {
    let bundle = bundle_of(
        &read("porter/config-adapter/porter-with-required-extensions.yaml"),
        false,
    );
    assert_eq!(bundle["custom"]["requiredExtension1"], Value::Null);
    assert!(
        bundle["custom"]
            .as_object()
            .unwrap()
            .contains_key("requiredExtension1")
    );
    assert_eq!(
        bundle["custom"]["requiredExtension2"],
        json!({"config": true})
    );
    assert_eq!(bundle["custom"]["sh.porter.file-parameters"], json!({}));
    assert_eq!(
        bundle["requiredExtensions"],
        json!([
            "sh.porter.file-parameters",
            "io.cnab.parameter-sources",
            "requiredExtension1",
            "requiredExtension2"
        ])
    );
}

/// config-adapter/porter.yaml: credentials (`generateBundleCredentials`) and
/// a custom action without metadata (`generateDefaultAction`).
#[test]
fn credentials_and_default_custom_actions() {
    let bundle = bundle_of(&read("porter/config-adapter/porter.yaml"), false);
    assert_eq!(
        bundle["credentials"],
        json!({
            "username": {"env": "ROOT_USERNAME", "description": "Name of the database user"},
            "password": {"path": "/tmp/password", "required": true, "applyTo": ["uninstall"]},
        })
    );
    assert_eq!(
        bundle["actions"],
        json!({"status": {"description": "Print a human readable status message to the standard output"}})
    );
}

/// `TestManifestConverter_GenerateCustomActionDefinitions`.
#[test]
fn custom_action_metadata_and_defaults() {
    let bundle = bundle_of(&read("porter/mybuns/porter.yaml"), false);
    assert_eq!(
        bundle["actions"],
        json!({
            "boom": {"modifies": true, "description": "boom"},
            "dry-run": {"stateless": true, "description": "Make sure it will work before you run it"},
            "status": {"description": "Print the installation status"},
        })
    );
    let none = bundle_of(&read("porter/config-adapter/porter-with-deps.yaml"), false);
    assert!(
        none.get("actions").is_none(),
        "no custom action, no actions"
    );
}

/// `TestManifestConverter_generateImages`, `..._EmptyLabels`.
#[test]
fn images_are_pinned_by_digest_else_tag_else_latest() {
    let text = r#"
schemaVersion: 1.0.1
name: images
version: 0.1.0
registry: localhost:5000
mixins: [exec]
install:
  - exec: {command: "true"}
uninstall:
  - exec: {command: "true"}
images:
  server:
    description: un petite server
    repository: getporter/myserver
    imageType: docker
    digest: sha256:8b06c3da72dc9fa7002b9bc1f73a7421b4287c9cf0d3b08633287473707f9a63
    size: 12
    mediaType: download
    labels: {OS: linux, Architecture: amd64}
  tagged:
    repository: getporter/myserver
    tag: 1.0.0
  untagged:
    repository: getporter/myserver
"#;
    let bundle = bundle_of(text, false);
    assert_eq!(
        bundle["images"],
        json!({
            "server": {
                "imageType": "docker",
                "image": "getporter/myserver@sha256:8b06c3da72dc9fa7002b9bc1f73a7421b4287c9cf0d3b08633287473707f9a63",
                "contentDigest": "sha256:8b06c3da72dc9fa7002b9bc1f73a7421b4287c9cf0d3b08633287473707f9a63",
                "size": 12,
                "labels": {"OS": "linux", "Architecture": "amd64"},
                "mediaType": "download",
                "description": "un petite server",
            },
            "tagged": {"imageType": "docker", "image": "getporter/myserver:1.0.0", "description": ""},
            "untagged": {"imageType": "docker", "image": "getporter/myserver:latest", "description": ""},
        })
    );
}

/// `TestManifestConverter_generateCustomMetadata`: the manifest's `custom`
/// lands in the canonical bytes exactly as Porter writes it.
#[test]
fn custom_metadata_is_copied_and_canonical() {
    let bundle = bundle_of(&read("porter/mybuns/porter.yaml"), false);
    assert_eq!(bundle["custom"].as_object().unwrap().len(), 7);
    let bytes = String::from_utf8(cnab::to_canonical_json(&bundle)).unwrap();
    let expected = r#""app":{"version":"1.2.3"},"foo":{"test1":true,"test2":1,"test3":"value","test4":["one","two","three"],"test5":{"1":"one","two":"two"}}"#;
    assert!(bytes.contains(expected), "{bytes}");
}

// ---- wiring parameters -----------------------------------------------------

/// `TestNewManifestConverter_generateOutputWiringParameter` and
/// `..._generateDependencyOutputWiringParameter`, through a manifest.
#[test]
fn templated_outputs_get_wiring_parameters() {
    let text = r#"
schemaVersion: 1.0.1
name: wiring
version: 0.1.0
registry: localhost:5000
mixins: [exec]
dependencies:
  requires:
    - name: mysql
      bundle: {reference: "getporter/mysql:v0.1.0"}
outputs:
  - name: some-thing
    type: integer
    default: 3
install:
  - exec:
      command: echo
      arguments:
        - "${ bundle.dependencies.mysql.outputs.mysql-password }"
      outputs:
        - name: step-only
          regex: "(.*)"
upgrade:
  - exec:
      command: echo
      arguments: ["${ bundle.outputs.some-thing }", "${ bundle.outputs.step-only }"]
uninstall:
  - exec: {command: "true"}
"#;
    let bundle = bundle_of(text, false);
    let parameters = &bundle["parameters"];
    assert_eq!(
        parameters["porter-some-thing-output"],
        json!({
            "definition": "porter-some-thing-output",
            "description": "Wires up the some-thing output for use as a parameter. Porter internal parameter that should not be set manually.",
            "destination": {"env": "PORTER_SOME_THING_OUTPUT"},
        })
    );
    assert_eq!(
        bundle["definitions"]["porter-some-thing-output"],
        json!({
            "type": "integer",
            "default": 3,
            "$id": "https://porter.sh/generated-bundle/#porter-parameter-source-definition",
            "$comment": "porter-internal",
        })
    );
    assert_eq!(
        parameters["porter-mysql-mysql-password-dep-output"],
        json!({
            "definition": "porter-mysql-mysql-password-dep-output",
            "description": "Wires up the mysql dependency mysql-password output for use as a parameter. Porter internal parameter that should not be set manually.",
            "destination": {"env": "PORTER_MYSQL_MYSQL_PASSWORD_DEP_OUTPUT"},
        })
    );
    assert_eq!(
        bundle["definitions"]["porter-mysql-mysql-password-dep-output"],
        json!({"$id": "https://porter.sh/generated-bundle/#porter-parameter-source-definition", "$comment": "porter-internal"})
    );
    let sources = &bundle["custom"]["io.cnab.parameter-sources"];
    assert_eq!(
        sources["porter-some-thing-output"],
        json!({"priority": ["output"], "sources": {"output": {"name": "some-thing"}}})
    );
    assert_eq!(
        sources["porter-mysql-mysql-password-dep-output"],
        json!({"priority": ["dependencies.output"], "sources": {"dependencies.output": {"dependency": "mysql", "name": "mysql-password"}}})
    );
    // A step's own output is not a bundle output: nothing to wire.
    assert!(parameters.get("porter-step-only-output").is_none());
}

/// `UpdateApplyTo`: a parameter fed by an output, with neither default nor
/// applyTo, cannot apply to install.
#[test]
fn output_fed_parameters_skip_install() {
    let text = r#"
schemaVersion: 1.0.1
name: sources
version: 0.1.0
registry: localhost:5000
mixins: [exec]
outputs:
  - name: kubeconfig
    path: /root/.kube/config
parameters:
  - name: kubeconfig
    type: file
    path: /root/.kube/config
    source: {output: kubeconfig}
install:
  - exec: {command: "true"}
zap:
  - exec: {command: "true"}
upgrade:
  - exec: {command: "true"}
uninstall:
  - exec: {command: "true"}
"#;
    let bundle = bundle_of(text, false);
    assert_eq!(
        bundle["parameters"]["kubeconfig"],
        json!({
            "definition": "kubeconfig-parameter",
            "applyTo": ["uninstall", "upgrade", "zap"],
            "destination": {"path": "/root/.kube/config"},
            "required": true,
        })
    );
    assert_eq!(
        bundle["outputs"]["kubeconfig"]["definition"],
        json!("kubeconfig-output")
    );
}

// ---- deliberate differences ------------------------------------------------

#[test]
fn required_extensions_are_listed_once_and_keep_generated_values() {
    let text = r#"
schemaVersion: 1.0.1
name: required
version: 0.1.0
registry: localhost:5000
mixins: [exec]
required:
  - parameter-sources
  - docker: {privileged: true}
  - file-parameters
install:
  - exec: {command: "true"}
uninstall:
  - exec: {command: "true"}
"#;
    let bundle = bundle_of(text, false);
    assert_eq!(
        bundle["requiredExtensions"],
        json!([
            "sh.porter.file-parameters",
            "io.cnab.parameter-sources",
            "io.cnab.docker"
        ])
    );
    assert_eq!(
        bundle["custom"]["io.cnab.docker"],
        json!({"privileged": true})
    );
    // Porter would replace the generated sources with the entry's (absent)
    // config, null; they are kept.
    assert_eq!(
        bundle["custom"]["io.cnab.parameter-sources"]["porter-state"],
        json!({"priority": ["output"], "sources": {"output": {"name": "porter-state"}}})
    );
    assert_eq!(bundle["custom"]["sh.porter.file-parameters"], json!({}));
}

#[test]
fn every_difference_has_a_reason_and_a_pointer() {
    for d in DELIBERATE_DIFFERENCES {
        assert!(d.pointer.starts_with('/'), "{d:?}");
        assert!(d.why.len() > 20, "{d:?}");
    }
}

// ---- the stamp -------------------------------------------------------------

#[test]
fn the_stamp_holds_the_authors_manifest_byte_for_byte() {
    use base64::Engine;
    let text = read("porter/mybuns/porter.yaml");
    let bundle = bundle_of(&text, false);
    let encoded = bundle["custom"]["sh.porter"]["manifest"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert_eq!(decoded, text.as_bytes());
    assert_eq!(
        bundle["custom"]["sh.porter"]["mixins"]["exec"],
        json!({"version": "1.2.3", "digest": porters_test_mixins()[0].digest, "source": "file:///tmp/exec.wasm"})
    );
}

#[test]
fn the_manifest_digest_covers_everything_the_build_used() {
    let mixins = porters_test_mixins();
    let files = vec![
        BundleFile {
            path: "b.sh".into(),
            sha256: "11".repeat(32),
            executable: true,
        },
        BundleFile {
            path: "a.txt".into(),
            sha256: "22".repeat(32),
            executable: false,
        },
    ];
    let base = stamp_digest("name: x\n", "1.0.0", &mixins, &files);
    assert_eq!(base.len(), 64);
    assert!(base.chars().all(|c| c.is_ascii_hexdigit()));

    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(
        stamp_digest("name: x\n", "1.0.0", &mixins, &reversed),
        base,
        "file order is irrelevant"
    );

    let changes: Vec<String> = vec![
        stamp_digest("name: y\n", "1.0.0", &mixins, &files),
        stamp_digest("name: x\n", "1.0.1", &mixins, &files),
        {
            let mut other = mixins.clone();
            other[0].digest = format!("sha256:{}", "f".repeat(64));
            stamp_digest("name: x\n", "1.0.0", &other, &files)
        },
        {
            let mut chmod = files.clone();
            chmod[0].executable = false;
            stamp_digest("name: x\n", "1.0.0", &mixins, &chmod)
        },
        stamp_digest("name: x\n", "1.0.0", &mixins, &files[..1]),
        with_build_args(&[("A", "1")]),
        with_build_args(&[("A", "2")]),
        with_build_args(&[("B", "1")]),
        with_build_args(&[("A", "1"), ("B", "")]),
        with_build_args(&[("A1", "")]),
    ];
    for (i, changed) in changes.iter().enumerate() {
        assert_ne!(changed, &base, "change {i} must change the digest");
    }
    let distinct: std::collections::BTreeSet<&String> = changes.iter().collect();
    assert_eq!(
        distinct.len(),
        changes.len(),
        "each change has its own digest"
    );
}

/// The digest of the build above with these `--build-arg`s.
fn with_build_args(args: &[(&str, &str)]) -> String {
    let build_args = args
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    cnab::manifest_digest(&StampInputs {
        downloads: &[],
        manifest_text: "name: x\n",
        porter_version: "1.0.0",
        mixins: &porters_test_mixins(),
        files: &[],
        build_args: &build_args,
        experimental: "",
    })
}

/// Porter's `DigestManifest` for a digest-less mixin, written out: text,
/// version, name+version, then path+hash(+":x") per file.
#[test]
fn the_manifest_digest_is_porters_concatenation() {
    use sha2::{Digest, Sha256};
    let mixins = [MixinRecord {
        name: "exec".into(),
        version: semver::Version::new(1, 2, 3),
        digest: String::new(),
        source: String::new(),
    }];
    let files = [BundleFile {
        path: "helpers.sh".into(),
        sha256: "ab".repeat(32),
        executable: true,
    }];
    let expected = hex::encode(Sha256::digest(
        format!("name: x\nv1.0.0exec1.2.3helpers.sh{}:x", "ab".repeat(32)).as_bytes(),
    ));
    assert_eq!(
        stamp_digest("name: x\n", "v1.0.0", &mixins, &files),
        expected
    );
}

// ---- schema and canonical form --------------------------------------------

fn bundle_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&read("cnab/bundle.schema.json")).unwrap();
    jsonschema::draft7::new(&schema).expect("the CNAB bundle schema compiles offline")
}

/// Every manifest fixture we can load, plus the ones written in this file.
fn every_bundle() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    collect_yaml(&fixtures().join("porter"), &mut found);
    found.sort();
    let mut bundles = Vec::new();
    for path in found {
        let text = std::fs::read_to_string(&path).unwrap();
        if manifest::load_str(&path, text.clone()).is_ok() {
            bundles.push((path.display().to_string(), bundle_of(&text, false)));
        }
    }
    assert!(
        bundles.len() >= 10,
        "only {} fixtures loaded",
        bundles.len()
    );
    bundles
}

fn collect_yaml(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_yaml(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            found.push(path);
        }
    }
}

#[test]
fn every_bundle_validates_against_the_cnab_schema() {
    let validator = bundle_validator();
    for (name, bundle) in every_bundle() {
        let errors: Vec<String> = validator
            .iter_errors(&bundle)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
    }
}

#[test]
fn the_schema_check_is_not_vacuous() {
    let validator = bundle_validator();
    let mut bundle = bundle_of(&read("porter/mybuns/porter.yaml"), false);
    bundle["outputs"]["msg"]["path"] = json!("/tmp/msg");
    assert!(!validator.is_valid(&bundle));
    let mut bundle = bundle_of(&read("porter/mybuns/porter.yaml"), false);
    bundle["extra"] = json!(1);
    assert!(!validator.is_valid(&bundle));
}

#[test]
fn every_bundle_is_its_own_canonical_form() {
    for (name, bundle) in every_bundle() {
        let bytes = cnab::to_canonical_json(&bundle);
        let reparsed: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(reparsed, bundle, "{name}: canonical JSON must round-trip");
        assert_eq!(cnab::to_canonical_json(&reparsed), bytes, "{name}");
        assert!(!bytes.ends_with(b"\n"), "{name}: no trailing newline");
    }
}

/// cnab-go's own canonical output (floats, nested maps) is a fixed point.
#[test]
fn canonical_json_matches_cnab_go_byte_for_byte() {
    let golden = read("cnab/canonical-bundle.json");
    let value: Value = serde_json::from_str(&golden).unwrap();
    assert_eq!(
        String::from_utf8(cnab::to_canonical_json(&value)).unwrap(),
        golden
    );
    // And from a pretty-printed, reordered form too.
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let value: Value = serde_json::from_str(&pretty).unwrap();
    assert_eq!(
        String::from_utf8(cnab::to_canonical_json(&value)).unwrap(),
        golden
    );
}

#[test]
fn canonical_json_follows_rfc_8785() {
    let value = json!({"b": [1.0, 0.5, 1e21, 1e-7], "a": "line\nbreak \u{1f} </> é", "\u{e000}": 1, "\u{1f600}": 2});
    let bytes = String::from_utf8(cnab::to_canonical_json(&value)).unwrap();
    assert_eq!(
        bytes,
        "{\"a\":\"line\\nbreak \\u001f </> é\",\"b\":[1,0.5,1e+21,1e-7],\"\u{1f600}\":2,\"\u{e000}\":1}"
    );
}

/// `TestManifestConverter_ToBundle_PersistentParameter`: Porter's fixture
/// (schemaVersion 1.2.0) loaded with the `persistent-parameters` flag.
#[test]
fn persistent_parameters_expand_as_porter_expands_them() {
    let text = read("porter/manifest/porter-with-persistent-params.yaml");
    let options =
        manifest::LoadOptions::with_flags(Experimental::with([Flag::PersistentParameters]));
    let loaded = manifest::load_str_with_options("porter.yaml", text.clone(), &options)
        .unwrap_or_else(|e| panic!("{e}"));
    let mixins = porters_test_mixins();
    let image = porters_test_image();
    let bundle = cnab::bundle_json(&BundleInputs {
        manifest: &loaded.manifest,
        manifest_text: &text,
        porter_version: "",
        porter_commit: "",
        mixins: &mixins,
        invocation_image: &image,
        manifest_digest: "",
        preserve_tags: false,
        dependencies_v2: false,
    });
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
        bundle["outputs"]["resource-group"],
        json!({"definition": "resource-group-output", "path": "/cnab/app/outputs/resource-group"})
    );
    assert_eq!(
        bundle["custom"]["io.cnab.parameter-sources"]["resource-group"],
        json!({"priority": ["output"], "sources": {"output": {"name": "resource-group"}}})
    );
}

/// A deliberate difference: keywords cnab-go's schema type lacks are kept.
#[test]
fn schema_keywords_porter_drops_are_kept() {
    let text = r#"
schemaVersion: 1.0.1
name: arrays
version: 0.1.0
registry: localhost:5000
mixins: [exec]
parameters:
  - name: zones
    type: array
    items: {type: string}
    maxItems: 3
    default: []
install:
  - exec: {command: "true"}
uninstall:
  - exec: {command: "true"}
"#;
    let bundle = bundle_of(text, false);
    assert_eq!(
        bundle["definitions"]["zones-parameter"],
        json!({"type": "array", "items": {"type": "string"}, "maxItems": 3, "default": []})
    );
    assert!(bundle_validator().is_valid(&bundle));
}

/// A manifest at schemaVersion 1.0.0-alpha.1 writes its templates with
/// Mustache's `{{ }}`, as many published bundles still do: an output a
/// later action uses gets its wiring parameter all the same, and `${ }`
/// there is plain text.
#[test]
fn alpha_manifests_wire_outputs_named_with_mustache_delimiters() {
    let text = r#"schemaVersion: 1.0.0-alpha.1
name: wiring
version: 0.1.0
registry: localhost:5000
mixins: [exec]
outputs:
  - name: some-thing
    type: string
  - name: other
    type: string
install:
  - exec: {command: "true"}
upgrade:
  - exec:
      command: echo
      arguments: ["{{ bundle.outputs.some-thing }}", "${ bundle.outputs.other }"]
uninstall:
  - exec: {command: "true"}
"#;
    let bundle = bundle_of(text, false);
    let parameters = &bundle["parameters"];
    assert_eq!(
        parameters["porter-some-thing-output"]["destination"],
        json!({"env": "PORTER_SOME_THING_OUTPUT"})
    );
    assert!(
        parameters.get("porter-other-output").is_none(),
        "{parameters}"
    );
}
