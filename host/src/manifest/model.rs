//! The manifest, as the rest of the build uses it: every field Porter
//! accepts, already checked. Each item keeps the JSON Pointer of where it was
//! written, so later stages (lint, mixins) can point at porter.yaml too.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::constraint::VersionConstraint;

/// The three actions every bundle knows; anything else is a custom action.
pub const BUILTIN_ACTIONS: [&str; 3] = ["install", "upgrade", "uninstall"];

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub schema_type: String,
    pub schema_version: String,
    pub name: String,
    /// Normalized: a leading `v` is dropped.
    pub version: semver::Version,
    pub description: String,
    pub maintainers: Vec<Maintainer>,
    pub registry: Option<String>,
    pub reference: Option<String>,
    /// A Dockerfile template, relative to the bundle directory.
    pub dockerfile: Option<String>,
    pub mixins: Vec<MixinDeclaration>,
    /// install, upgrade, uninstall and custom actions, in file order.
    pub actions: Vec<Action>,
    pub custom_actions: BTreeMap<String, CustomActionMetadata>,
    pub parameters: Vec<Parameter>,
    pub credentials: Vec<Credential>,
    pub outputs: Vec<Output>,
    pub images: BTreeMap<String, Image>,
    pub dependencies: Vec<Dependency>,
    /// `dependencies.provides` (dependencies v2).
    pub provides: Option<Provides>,
    pub custom: Map<String, Value>,
    pub required: Vec<RequiredExtension>,
    pub state: Vec<StateVariable>,
    /// `files:` (file sources, schemaVersion 1.3.0 with `file-sources`).
    pub files: Vec<FileSource>,
    /// Every `${ ... }` variable used anywhere, sorted.
    pub template_variables: BTreeSet<String>,
}

impl Manifest {
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    pub fn custom_action_names(&self) -> impl Iterator<Item = &str> {
        self.actions
            .iter()
            .map(|a| a.name.as_str())
            .filter(|n| !BUILTIN_ACTIONS.contains(n))
    }

    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    pub fn mixin(&self, name: &str) -> Option<&MixinDeclaration> {
        self.mixins.iter().find(|m| m.name == name)
    }

    /// What a mixin's hooks are given: its config (`Null` when declared by
    /// name only), and its steps per action (only actions with steps for
    /// it), in porter.yaml order.
    pub fn mixin_input(&self, mixin: &str) -> (Value, Vec<ActionSteps>) {
        let config = self
            .mixin(mixin)
            .and_then(|d| d.config.clone())
            .unwrap_or(Value::Null);
        let actions = self
            .actions
            .iter()
            .filter_map(|a| {
                let steps: Vec<Value> = a
                    .steps
                    .iter()
                    .filter(|s| s.mixin == mixin)
                    .map(|s| s.body.clone())
                    .collect();
                (!steps.is_empty()).then(|| ActionSteps {
                    action: a.name.clone(),
                    steps,
                })
            })
            .collect();
        (config, actions)
    }
}

/// The steps of one action that use a mixin; each step body as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSteps {
    pub action: String,
    pub steps: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintainer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub url: String,
}

/// `- exec`, `- exec@^1.2`, or `- helm3: {config}`.
#[derive(Debug, Clone, PartialEq)]
pub struct MixinDeclaration {
    pub name: String,
    pub constraint: Option<VersionConstraint>,
    /// The mapping under the mixin's name; `None` when declared by name.
    pub config: Option<Value>,
    pub pointer: String,
    /// Where the config block is (`/mixins/1/helm3@3`, under the name as
    /// written); the declaration's pointer when it is declared by name.
    pub config_pointer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: String,
    pub steps: Vec<Step>,
    pub pointer: String,
}

/// `- <mixin>: {body}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub mixin: String,
    pub description: Option<String>,
    /// The mapping under the mixin's name, as written (templates unrendered).
    pub body: Value,
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomActionMetadata {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub modifies: bool,
    #[serde(default)]
    pub stateless: bool,
}

/// A parameter: Porter's own keys, plus any JSON Schema keyword inline.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub description: String,
    pub sensitive: bool,
    pub env: Option<String>,
    pub path: Option<String>,
    pub apply_to: Vec<String>,
    pub source: Option<ParameterSource>,
    pub persistent: bool,
    /// The JSON Schema keywords (`type`, `default`, `enum`, ...) as written;
    /// `type: file` stays `file` here (the CNAB mapping is the bundle's job).
    pub schema: Map<String, Value>,
    pub pointer: String,
}

impl Parameter {
    pub fn type_name(&self) -> Option<&str> {
        self.schema.get("type").and_then(Value::as_str)
    }

    /// `default: null` counts as no default, as in Porter.
    pub fn default(&self) -> Option<&Value> {
        self.schema.get("default").filter(|v| !v.is_null())
    }

    /// Porter: a parameter without a default must be supplied.
    pub fn required(&self) -> bool {
        self.default().is_none()
    }

    pub fn applies_to(&self, action: &str) -> bool {
        self.apply_to.is_empty() || self.apply_to.iter().any(|a| a == action)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSource {
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub name: String,
    pub description: String,
    /// Porter: credentials are required unless they say otherwise.
    pub required: bool,
    pub env: Option<String>,
    pub path: Option<String>,
    pub apply_to: Vec<String>,
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub description: String,
    pub sensitive: bool,
    pub path: Option<String>,
    pub apply_to: Vec<String>,
    pub schema: Map<String, Value>,
    pub pointer: String,
}

impl Output {
    pub fn type_name(&self) -> Option<&str> {
        self.schema.get("type").and_then(Value::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_type: String,
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One entry of `dependencies.requires`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub reference: String,
    /// `bundle.version`, a version range (Masterminds syntax).
    pub version: Option<VersionConstraint>,
    /// `bundle.interface` (dependencies v2).
    pub interface: Option<BundleInterface>,
    /// What the dependency gets, by its parameter name (v1 and v2).
    pub parameters: BTreeMap<String, String>,
    /// What the dependency gets, by its credential name (v2).
    pub credentials: BTreeMap<String, String>,
    /// This bundle's outputs promoted from the dependency's (v2).
    pub outputs: BTreeMap<String, String>,
    /// `sharing` (v2).
    pub sharing: Option<Sharing>,
    pub pointer: String,
}

impl Dependency {
    /// Porter's `UsesV2Features`: a field only dependencies v2 has.
    pub fn uses_v2_features(&self) -> bool {
        self.sharing
            .as_ref()
            .is_some_and(|s| *s != Sharing::default())
            || !self.credentials.is_empty()
            || !self.outputs.is_empty()
            || self.interface.is_some()
    }
}

/// `bundle.interface`: what a bundle must look like to satisfy a dependency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BundleInterface {
    pub id: Option<String>,
    /// A bundle whose interface is the one required.
    pub reference: Option<String>,
    pub document: Option<InterfaceDocument>,
}

/// `bundle.interface.document`: the parameters, credentials and outputs a
/// bundle must have, written as this manifest's own are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InterfaceDocument {
    pub parameters: Vec<Parameter>,
    pub credentials: Vec<Credential>,
    pub outputs: Vec<Output>,
}

/// `sharing`: whether (mode) and with whom (group) a dependency's
/// installation is shared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sharing {
    pub mode: bool,
    /// `group.name`; empty when not given (Porter's zero value).
    pub group: String,
}

/// `dependencies.provides`: the interface this bundle satisfies.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provides {
    pub interface_id: Option<String>,
}

/// `required:` entries: `docker` or `docker: {privileged: true}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredExtension {
    pub name: String,
    pub config: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateVariable {
    pub name: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mixin: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub env: String,
}

/// One entry of `files:`: a file porter downloads at build time and the
/// image carries at `/cnab/app/<destination>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    /// An http:// or https:// URL.
    pub url: String,
    /// Relative to the bundle directory, `/`-separated, normalized: no
    /// `.` or empty segments (`./a//b` is `a/b`), never `..`.
    pub destination: String,
    /// `digest: sha256:<hex>` (ours; Porter has none): the hex, lowercase.
    pub sha256: Option<String>,
    pub pointer: String,
}
