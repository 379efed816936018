//! The parameters and outputs as Porter sees them when it writes the
//! bundle: the manifest's own (persistent parameters were expanded when it
//! was loaded, `crate::manifest`), after the rewrite Porter makes before
//! mapping (`applyTo` filled in for parameters fed by an output), plus
//! Porter's built-in ones.

use serde_json::{Map, Value, json};

use crate::manifest::{BUILTIN_ACTIONS, Manifest, Output, Parameter, ParameterSource};

/// A parameter ready to be mapped (`manifest.ParameterDefinition`).
#[derive(Debug, Clone)]
pub(super) struct ParameterSpec {
    pub name: String,
    /// Both the parameter's and its definition's description.
    pub description: String,
    pub sensitive: bool,
    pub env: Option<String>,
    pub path: Option<String>,
    pub apply_to: Vec<String>,
    pub source: Option<ParameterSource>,
    pub schema: Map<String, Value>,
    /// Porter's own state parameter: never required.
    pub is_state: bool,
}

/// An output ready to be mapped (`manifest.OutputDefinition`).
#[derive(Debug, Clone)]
pub(super) struct OutputSpec {
    pub name: String,
    pub description: String,
    pub sensitive: bool,
    pub path: Option<String>,
    pub apply_to: Vec<String>,
    pub schema: Map<String, Value>,
    pub is_state: bool,
}

impl ParameterSpec {
    /// Porter: a parameter without a default must be supplied (a `null`
    /// default is no default: Go decodes it to nil).
    pub fn has_default(&self) -> bool {
        self.schema.get("default").is_some_and(|d| !d.is_null())
    }
}

/// The manifest's parameters, then `porter-debug` and `porter-state`.
pub(super) fn parameter_specs(m: &Manifest) -> Vec<ParameterSpec> {
    let mut specs: Vec<ParameterSpec> = m
        .parameters
        .iter()
        .map(|p| {
            let mut spec = from_parameter(p);
            fill_apply_to_for_output_sources(&mut spec, m);
            spec
        })
        .collect();
    specs.extend(builtin_parameters());
    specs
}

/// The manifest's outputs (with those persistent parameters generated),
/// then `porter-state`.
pub(super) fn output_specs(m: &Manifest) -> Vec<OutputSpec> {
    let mut specs: Vec<OutputSpec> = m.outputs.iter().map(from_output).collect();
    specs.push(builtin_state_output());
    specs
}

pub(super) fn from_parameter(p: &Parameter) -> ParameterSpec {
    ParameterSpec {
        name: p.name.clone(),
        description: p.description.clone(),
        sensitive: p.sensitive,
        env: p.env.clone(),
        path: p.path.clone(),
        apply_to: p.apply_to.clone(),
        source: p.source.clone(),
        schema: p.schema.clone(),
        is_state: false,
    }
}

pub(super) fn from_output(o: &Output) -> OutputSpec {
    OutputSpec {
        name: o.name.clone(),
        description: o.description.clone(),
        sensitive: o.sensitive,
        path: o.path.clone(),
        apply_to: o.apply_to.clone(),
        schema: o.schema.clone(),
        is_state: false,
    }
}

/// `UpdateApplyTo`: a parameter fed by an output, with no default and no
/// `applyTo`, cannot apply to install (the output does not exist yet).
fn fill_apply_to_for_output_sources(spec: &mut ParameterSpec, m: &Manifest) {
    let fed_by_output = spec.source.as_ref().is_some_and(|s| !s.output.is_empty());
    if fed_by_output && spec.apply_to.is_empty() && !spec.has_default() {
        let mut apply_to = vec!["uninstall".to_string()];
        apply_to.extend(upgrade_and_custom_actions(m));
        apply_to.sort();
        spec.apply_to = apply_to;
    }
}

/// `upgrade` when the bundle declares it, and every custom action.
fn upgrade_and_custom_actions(m: &Manifest) -> Vec<String> {
    m.actions
        .iter()
        .map(|a| a.name.as_str())
        .filter(|name| *name == "upgrade" || !BUILTIN_ACTIONS.contains(name))
        .map(str::to_string)
        .collect()
}

const STATE_DESCRIPTION: &str = "Supports persisting state for bundles. Porter internal parameter that should not be set manually.";

/// `buildDefaultPorterParameters`.
fn builtin_parameters() -> [ParameterSpec; 2] {
    let debug_description = "Print debug information from Porter when executing the bundle";
    [
        ParameterSpec {
            name: "porter-debug".into(),
            description: debug_description.into(),
            sensitive: false,
            env: Some("PORTER_DEBUG".into()),
            path: None,
            apply_to: Vec::new(),
            source: None,
            schema: schema(json!({
                "$id": "https://porter.sh/generated-bundle/#porter-debug",
                "$comment": super::PORTER_INTERNAL,
                "type": "boolean",
                "default": false,
            })),
            is_state: false,
        },
        ParameterSpec {
            name: "porter-state".into(),
            description: STATE_DESCRIPTION.into(),
            sensitive: false,
            env: None,
            path: Some("/porter/state.tgz".into()),
            apply_to: Vec::new(),
            source: None,
            schema: state_schema(),
            is_state: true,
        },
    ]
}

/// `buildDefaultPorterOutputs` (its `.tgz` path is only where the runtime
/// writes the file; the bundle's output path comes from the name).
fn builtin_state_output() -> OutputSpec {
    OutputSpec {
        name: "porter-state".into(),
        description: STATE_DESCRIPTION.into(),
        sensitive: false,
        path: Some("/cnab/app/outputs/porter-state.tgz".into()),
        apply_to: Vec::new(),
        schema: state_schema(),
        is_state: true,
    }
}

fn state_schema() -> Map<String, Value> {
    schema(json!({
        "$id": "https://porter.sh/generated-bundle/#porter-state",
        "$comment": super::PORTER_INTERNAL,
        "type": "string",
        "contentEncoding": "base64",
    }))
}

fn schema(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("schemas here are written as objects"),
    }
}
