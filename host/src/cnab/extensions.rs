//! bundle.json `custom` and `requiredExtensions`: Porter's
//! `generateCustomExtensions`, `generateDependenciesV1` and
//! `generateRequiredExtensions`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::manifest::constraint::parse_lenient_version;
use crate::manifest::{BundleInterface, Dependency, Manifest};

use super::actions::credential;
use super::definitions::Definitions;
use super::naming::extension_key;
use super::parameters::{bundle_output, bundle_parameter};
use super::sort_keys;
use super::specs::{from_output, from_parameter};

pub(super) const FILE_PARAMETERS: &str = "sh.porter.file-parameters";
pub(super) const DEPENDENCIES_V1: &str = "io.cnab.dependencies";
pub(super) const DEPENDENCIES_V2: &str = "org.getporter.dependencies@v2";
pub(super) const PARAMETER_SOURCES: &str = "io.cnab.parameter-sources";
/// The extensions whose value Porter generates from the manifest.
const GENERATED: [&str; 4] = [
    FILE_PARAMETERS,
    DEPENDENCIES_V1,
    DEPENDENCIES_V2,
    PARAMETER_SOURCES,
];
/// Porter's stamp (its legacy domain).
pub(super) const PORTER_STAMP: &str = "sh.porter";

/// The `custom` section, in Porter's order of precedence (a later entry
/// replaces an earlier one of the same key): the file-parameters marker,
/// the manifest's own `custom`, dependencies, parameter sources, the
/// required extensions' config (except over a generated value), and last
/// the stamp.
pub(super) fn custom_section(
    m: &Manifest,
    dependencies: Option<(&'static str, Value)>,
    parameter_sources: BTreeMap<String, Value>,
    stamp: Value,
) -> Map<String, Value> {
    // Porter always declares file parameter support, used or not.
    let mut custom = Map::new();
    custom.insert(FILE_PARAMETERS.into(), json!({}));
    for (key, value) in &m.custom {
        custom.insert(key.clone(), value.clone());
    }
    if let Some((key, value)) = dependencies {
        custom.insert(key.into(), value);
    }
    custom.insert(
        PARAMETER_SOURCES.into(),
        Value::Object(parameter_sources.into_iter().collect()),
    );
    for required in &m.required {
        let key = extension_key(&required.name);
        // Porter lets the entry replace what it generated itself: a bare
        // `- parameter-sources` would wipe every parameter source (and with
        // them porter-state). Keep the generated value.
        if GENERATED.contains(&key) && custom.contains_key(key) {
            continue;
        }
        let config = required.config.clone().unwrap_or(Value::Null);
        custom.insert(key.into(), config);
    }
    custom.insert(PORTER_STAMP.into(), stamp);
    sort_keys(custom)
}

/// The dependencies extension, when there are dependencies: v2 with the
/// dependencies-v2 flag on (Porter decides by the flag alone, not by the
/// fields used), else v1. A v2 interface document's parameters and outputs
/// add their definitions to the bundle's, as Porter's do.
pub(super) fn dependencies(
    m: &Manifest,
    v2: bool,
    defs: &mut Definitions,
) -> Option<(&'static str, Value)> {
    if m.dependencies.is_empty() {
        None
    } else if v2 {
        Some((DEPENDENCIES_V2, dependencies_v2(m, defs)))
    } else {
        Some((DEPENDENCIES_V1, dependencies_v1(&m.dependencies)))
    }
}

/// `org.getporter.dependencies@v2`, with the empty values Go's encoder
/// keeps: `sharing.group` and an interface's `document` are structs, never
/// omitted.
fn dependencies_v2(m: &Manifest, defs: &mut Definitions) -> Value {
    let requires: Map<String, Value> = m
        .dependencies
        .iter()
        .map(|d| (d.name.clone(), dependency_v2(d, defs)))
        .collect();
    let mut extension = Map::new();
    extension.insert("requires".into(), Value::Object(sort_keys(requires)));
    if let Some(provides) = &m.provides {
        let mut interface = Map::new();
        if let Some(id) = provides.interface_id.as_deref().filter(|id| !id.is_empty()) {
            interface.insert("id".into(), id.into());
        }
        extension.insert("provides".into(), json!({ "interface": interface }));
    }
    Value::Object(extension)
}

fn dependency_v2(d: &Dependency, defs: &mut Definitions) -> Value {
    let mut dependency = Map::new();
    dependency.insert("bundle".into(), d.reference.clone().into());
    if let Some(range) = &d.version {
        dependency.insert("version".into(), range.to_string().into());
    }
    if let Some(interface) = &d.interface {
        dependency.insert("interface".into(), interface_v2(interface, defs));
    }
    let sharing = d.sharing.clone().unwrap_or_default();
    let mut group = Map::new();
    if !sharing.group.is_empty() {
        group.insert("name".into(), sharing.group.into());
    }
    let mut shared = Map::new();
    if sharing.mode {
        shared.insert("mode".into(), true.into());
    }
    shared.insert("group".into(), Value::Object(group));
    dependency.insert("sharing".into(), Value::Object(shared));
    for (key, mapping) in [
        ("parameters", &d.parameters),
        ("credentials", &d.credentials),
        ("outputs", &d.outputs),
    ] {
        if !mapping.is_empty() {
            dependency.insert(key.into(), json!(mapping));
        }
    }
    Value::Object(dependency)
}

fn interface_v2(interface: &BundleInterface, defs: &mut Definitions) -> Value {
    let mut out = Map::new();
    for (key, value) in [("id", &interface.id), ("reference", &interface.reference)] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            out.insert(key.into(), value.into());
        }
    }
    let mut document = Map::new();
    if let Some(written) = &interface.document {
        let parameters: Map<String, Value> = written
            .parameters
            .iter()
            .map(|p| (p.name.clone(), bundle_parameter(&from_parameter(p), defs)))
            .collect();
        let credentials: Map<String, Value> = written
            .credentials
            .iter()
            .map(|c| (c.name.clone(), credential(c)))
            .collect();
        let outputs: Map<String, Value> = written
            .outputs
            .iter()
            .map(|o| (o.name.clone(), bundle_output(&from_output(o), defs)))
            .collect();
        for (key, entries) in [
            ("outputs", outputs),
            ("parameters", parameters),
            ("credentials", credentials),
        ] {
            if !entries.is_empty() {
                document.insert(key.into(), Value::Object(sort_keys(entries)));
            }
        }
    }
    out.insert("document".into(), Value::Object(document));
    Value::Object(out)
}

/// `io.cnab.dependencies` (CNAB dependencies v1): the order to install
/// them in, and for each its bundle and allowed versions.
fn dependencies_v1(dependencies: &[Dependency]) -> Value {
    let sequence: Vec<&str> = dependencies.iter().map(|d| d.name.as_str()).collect();
    let requires: Map<String, Value> = dependencies
        .iter()
        .map(|d| (d.name.clone(), dependency_v1(d)))
        .collect();
    json!({"sequence": sequence, "requires": sort_keys(requires)})
}

fn dependency_v1(d: &Dependency) -> Value {
    let mut dependency = Map::new();
    dependency.insert("bundle".into(), d.reference.clone().into());
    if let Some(range) = &d.version {
        let range = range.to_string();
        dependency.insert(
            "version".into(),
            json!({"ranges": [range], "prereleases": names_a_prerelease(&range)}),
        );
    }
    Value::Object(dependency)
}

/// Porter allows prereleases only when the range is a single version with a
/// prerelease part (`1.0.0-0`); ranges such as `1.x - 2` never allow them.
fn names_a_prerelease(range: &str) -> bool {
    parse_lenient_version(range).is_ok_and(|v| !v.pre.is_empty())
}

/// `requiredExtensions`: file parameters, the dependencies extension if
/// present, parameter sources, then each `required:` entry's full key.
/// Unlike Porter, a key is listed once (cnab-go rejects duplicates).
pub(super) fn required_extensions(m: &Manifest, custom: &Map<String, Value>) -> Vec<String> {
    let mut keys = vec![FILE_PARAMETERS.to_string()];
    if custom.contains_key(DEPENDENCIES_V1) {
        keys.push(DEPENDENCIES_V1.into());
    } else if custom.contains_key(DEPENDENCIES_V2) {
        keys.push(DEPENDENCIES_V2.into());
    }
    if custom.contains_key(PARAMETER_SOURCES) {
        keys.push(PARAMETER_SOURCES.into());
    }
    keys.extend(
        m.required
            .iter()
            .map(|r| extension_key(&r.name).to_string()),
    );
    let mut seen = std::collections::BTreeSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnab_prereleases_only_for_a_prerelease_version() {
        assert!(names_a_prerelease("1.0.0-0"));
        assert!(names_a_prerelease("v2.1.0-beta.1"));
        assert!(!names_a_prerelease("1.0.0"));
        assert!(!names_a_prerelease("1.x - 2,2.1 - 3.x"));
        assert!(!names_a_prerelease("5.7.x"));
    }
}
