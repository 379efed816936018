//! bundle.json `parameters`, `outputs` and the `io.cnab.parameter-sources`
//! extension: Porter's `generateBundleParameters`,
//! `generateBundleOutputs` and `generateParameterSources`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::definitions::{Definitions, definition_schema};
use super::naming::{
    DefinitionKind, dependency_output_wiring_parameter, env_var_name, output_path,
    output_wiring_parameter, resolve_path, templated_dependency_output, templated_output,
};
use super::specs::{OutputSpec, ParameterSpec};

/// `$id` of the definitions of Porter's wiring parameters.
const WIRING_DEFINITION_ID: &str =
    "https://porter.sh/generated-bundle/#porter-parameter-source-definition";

/// One bundle.json entry per parameter, adding each one's definition.
pub(super) fn bundle_parameters(
    specs: &[ParameterSpec],
    defs: &mut Definitions,
) -> BTreeMap<String, Value> {
    specs
        .iter()
        .map(|spec| (spec.name.clone(), bundle_parameter(spec, defs)))
        .collect()
}

pub(super) fn bundle_parameter(spec: &ParameterSpec, defs: &mut Definitions) -> Value {
    let kind = if spec.is_state {
        DefinitionKind::State
    } else {
        DefinitionKind::Parameter
    };
    let has_path = spec.path.as_deref().is_some_and(|p| !p.is_empty());
    let schema = definition_schema(&spec.schema, &spec.description, spec.sensitive, has_path);
    let definition = defs.add(&spec.name, kind, schema);

    let mut parameter = Map::new();
    parameter.insert("definition".into(), definition.into());
    insert_apply_to(&mut parameter, &spec.apply_to);
    insert_description(&mut parameter, &spec.description);
    parameter.insert("destination".into(), destination(spec));
    // State parameters are optional; the others are required without a default.
    if !spec.has_default() && !spec.is_state {
        parameter.insert("required".into(), true.into());
    }
    Value::Object(parameter)
}

/// Where the runtime puts the value: as written (relative paths under
/// /cnab/app), or else an environment variable named after the parameter.
fn destination(spec: &ParameterSpec) -> Value {
    let env = spec.env.as_deref().filter(|e| !e.is_empty());
    let path = spec.path.as_deref().filter(|p| !p.is_empty());
    let mut destination = Map::new();
    if env.is_none() && path.is_none() {
        destination.insert("env".into(), env_var_name(&spec.name).into());
    }
    if let Some(path) = path {
        destination.insert("path".into(), resolve_path(path).into());
    }
    if let Some(env) = env {
        destination.insert("env".into(), env.into());
    }
    Value::Object(destination)
}

/// One bundle.json entry per output, adding each one's definition.
pub(super) fn bundle_outputs(
    specs: &[OutputSpec],
    defs: &mut Definitions,
) -> BTreeMap<String, Value> {
    specs
        .iter()
        .map(|spec| (spec.name.clone(), bundle_output(spec, defs)))
        .collect()
}

pub(super) fn bundle_output(spec: &OutputSpec, defs: &mut Definitions) -> Value {
    let kind = if spec.is_state {
        DefinitionKind::State
    } else {
        DefinitionKind::Output
    };
    let has_path = spec.path.as_deref().is_some_and(|p| !p.is_empty());
    let schema = definition_schema(&spec.schema, &spec.description, spec.sensitive, has_path);
    let definition = defs.add(&spec.name, kind, schema);

    let mut output = Map::new();
    output.insert("definition".into(), definition.into());
    insert_apply_to(&mut output, &spec.apply_to);
    insert_description(&mut output, &spec.description);
    output.insert("path".into(), output_path(&spec.name).into());
    Value::Object(output)
}

/// The hidden parameters Porter adds so that values produced elsewhere can
/// be injected: `porter-X-output` for every `${ bundle.outputs.X }` naming a
/// bundle output, `porter-D-O-dep-output` for every
/// `${ bundle.dependencies.D.outputs.O }`. Returns the parameter sources
/// that feed them.
pub(super) fn add_wiring_parameters(
    template_variables: &BTreeSet<String>,
    output_specs: &[OutputSpec],
    outputs: &BTreeMap<String, Value>,
    parameters: &mut BTreeMap<String, Value>,
    defs: &mut Definitions,
) -> BTreeMap<String, Value> {
    let mut sources = BTreeMap::new();
    for variable in template_variables {
        if let Some(output) = templated_output(variable) {
            // Only the bundle's own outputs are wired (not step outputs, not
            // Porter's state).
            if !output_specs.iter().any(|o| o.name == output && !o.is_state) {
                continue;
            }
            let name = output_wiring_parameter(output);
            let description = format!(
                "Wires up the {output} output for use as a parameter. Porter internal parameter that should not be set manually."
            );
            parameters.insert(name.clone(), wiring_parameter(&name, &description));
            defs.set(&name, output_wiring_definition(output, outputs, defs));
            sources.insert(name, output_source(output));
        } else if let Some((dependency, output)) = templated_dependency_output(variable) {
            let name = dependency_output_wiring_parameter(dependency, output);
            let description = format!(
                "Wires up the {dependency} dependency {output} output for use as a parameter. Porter internal parameter that should not be set manually."
            );
            parameters.insert(name.clone(), wiring_parameter(&name, &description));
            // Any type: the dependency's bundle is not known at build time.
            defs.set(&name, wiring_definition(Map::new()));
            sources.insert(name, dependency_output_source(dependency, output));
        }
    }
    sources
}

/// `generateWiringParameter`: never required, set through its env var.
fn wiring_parameter(name: &str, description: &str) -> Value {
    json!({
        "definition": name,
        "description": description,
        "destination": {"env": env_var_name(name)},
    })
}

/// A copy of the output's own definition, marked as Porter's.
fn output_wiring_definition(
    output: &str,
    outputs: &BTreeMap<String, Value>,
    defs: &Definitions,
) -> Map<String, Value> {
    let schema = outputs
        .get(output)
        .and_then(|o| o["definition"].as_str())
        .and_then(|name| defs.get(name))
        .cloned()
        .unwrap_or_default();
    wiring_definition(schema)
}

fn wiring_definition(mut schema: Map<String, Value>) -> Map<String, Value> {
    schema.insert("$id".into(), WIRING_DEFINITION_ID.into());
    schema.insert("$comment".into(), super::PORTER_INTERNAL.into());
    schema
}

/// The parameter sources of parameters that say where their value comes
/// from (`source:`), and of `porter-state`, which is always fed back.
pub(super) fn declared_parameter_sources(specs: &[ParameterSpec]) -> BTreeMap<String, Value> {
    let mut sources = BTreeMap::new();
    for spec in specs {
        let Some(source) = spec.source.as_ref().filter(|s| !s.output.is_empty()) else {
            continue;
        };
        let entry = match source.dependency.as_deref().filter(|d| !d.is_empty()) {
            Some(dependency) => dependency_output_source(dependency, &source.output),
            None => output_source(&source.output),
        };
        sources.insert(spec.name.clone(), entry);
    }
    sources.insert("porter-state".into(), output_source("porter-state"));
    sources
}

fn output_source(output: &str) -> Value {
    json!({
        "priority": ["output"],
        "sources": {"output": {"name": output}},
    })
}

fn dependency_output_source(dependency: &str, output: &str) -> Value {
    json!({
        "priority": ["dependencies.output"],
        "sources": {"dependencies.output": {"dependency": dependency, "name": output}},
    })
}

fn insert_apply_to(object: &mut Map<String, Value>, apply_to: &[String]) {
    if !apply_to.is_empty() {
        object.insert("applyTo".into(), apply_to.into());
    }
}

fn insert_description(object: &mut Map<String, Value>, description: &str) {
    if !description.is_empty() {
        object.insert("description".into(), description.into());
    }
}
