//! Porter's lint rules over dependencies' mappings (porter-103 to
//! porter-111): what each dependency is given and promotes, checked
//! against this bundle's own parameters and credentials and against each
//! dependency's bundle.json, pulled from its registry. A dependency whose
//! bundle cannot be pulled is porter-105, a warning, and is checked
//! against porter.yaml alone, as Porter does.
//!
//! [`resolve`] does the pulling; [`rules`] is pure.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::source::escape;
use crate::manifest::template::{self, Delimiters};
use crate::manifest::{Dependency, Diagnostic, LoadedManifest, Manifest};
use crate::oci::{self, RegistryOptions};

/// Each dependency's bundle.json that could be pulled, by dependency name.
pub type DependencyBundles = BTreeMap<String, Value>;

/// Pulls every dependency's bundle; porter-105 for each that cannot be.
pub fn resolve(
    loaded: &LoadedManifest,
    registry: &RegistryOptions,
) -> (DependencyBundles, Vec<Diagnostic>) {
    let mut bundles = DependencyBundles::new();
    let mut findings = Vec::new();
    for d in &loaded.manifest.dependencies {
        match oci::bundle::pull_bundle(&d.reference, registry) {
            Ok(bundle) => {
                bundles.insert(d.name.clone(), bundle);
            }
            Err(error) => {
                let at = loaded
                    .source
                    .locations
                    .value(&format!("{}/bundle/reference", d.pointer));
                let message = format!(
                    "unable to resolve dependency {} ({}), so its parameter, credential, \
                     and output mappings could not be validated",
                    d.name, d.reference
                );
                findings.push(
                    Diagnostic::warning(&loaded.source, at, message)
                        .code("porter-105")
                        .hint(format!("{error:#}; {}", see("porter-105"))),
                );
            }
        }
    }
    (bundles, findings)
}

/// porter-103, porter-104 and, with dependencies v2, porter-106 to
/// porter-111, in Porter's order: dependency by dependency.
pub fn rules(loaded: &LoadedManifest, bundles: &DependencyBundles, v2: bool) -> Vec<Diagnostic> {
    let mut check = Check {
        loaded,
        bundles,
        findings: Vec::new(),
    };
    for d in &loaded.manifest.dependencies {
        if let Some(bundle) = bundles.get(&d.name) {
            check.mappings_name_what_the_bundle_defines(d, bundle);
            if v2 {
                check.required_inputs_are_mapped(d, bundle);
            }
        }
        if v2 {
            check.template_variables(d);
        }
    }
    check.findings
}

fn see(code: &str) -> String {
    format!("see https://porter.sh/reference/linter/#{code}")
}

struct Check<'a> {
    loaded: &'a LoadedManifest,
    bundles: &'a DependencyBundles,
    findings: Vec<Diagnostic>,
}

impl Check<'_> {
    fn manifest(&self) -> &Manifest {
        &self.loaded.manifest
    }

    fn push(&mut self, error: bool, pointer: &str, code: &str, message: String) {
        let source = &self.loaded.source;
        let at = source.locations.value(pointer);
        let diagnostic = if error {
            Diagnostic::error(source, at, message)
        } else {
            Diagnostic::warning(source, at, message)
        };
        self.findings.push(diagnostic.code(code).hint(see(code)));
    }

    /// porter-103, porter-104: a mapping names an input the dependency
    /// does not have.
    fn mappings_name_what_the_bundle_defines(&mut self, d: &Dependency, bundle: &Value) {
        for (field, code, kind, mapping) in [
            ("parameters", "porter-103", "parameter", &d.parameters),
            ("credentials", "porter-104", "credential", &d.credentials),
        ] {
            for name in mapping.keys() {
                if bundle[field].get(name).is_none() {
                    let pointer = format!("{}/{field}/{}", d.pointer, escape(name));
                    let message = format!(
                        "dependencies.{}.{field}.{name} is not defined as a {kind} on the dependency bundle",
                        d.name
                    );
                    self.push(true, &pointer, code, message);
                }
            }
        }
    }

    /// porter-110, porter-111: an input the dependency requires is not
    /// mapped (warnings: the user may supply it when installing).
    fn required_inputs_are_mapped(&mut self, d: &Dependency, bundle: &Value) {
        for (field, code, mapping) in [
            ("parameters", "porter-110", &d.parameters),
            ("credentials", "porter-111", &d.credentials),
        ] {
            let Some(defined) = bundle[field].as_object() else {
                continue;
            };
            // serde_json's map is sorted: Porter sorts these names too.
            for (name, definition) in defined {
                let required = definition["required"].as_bool().unwrap_or(false);
                if required && !mapping.contains_key(name) {
                    let message = format!(
                        "dependencies.{}.{field}.{name} is required by the dependency bundle but is not mapped",
                        d.name
                    );
                    self.push(false, &format!("{}/name", d.pointer), code, message);
                }
            }
        }
    }

    /// porter-106 to porter-109: the variables in each mapping.
    fn template_variables(&mut self, d: &Dependency) {
        let delimiters = Delimiters::for_schema_version(&self.manifest().schema_version);
        for (field, mapping, allow_outputs) in [
            ("parameters", &d.parameters, false),
            ("credentials", &d.credentials, false),
            ("outputs", &d.outputs, true),
        ] {
            for (key, value) in mapping {
                let pointer = format!("{}/{field}/{}", d.pointer, escape(key));
                let mut variables = template::variables_in(value, delimiters);
                variables.sort();
                variables.dedup();
                for v in variables {
                    let at = Place {
                        dependency: &d.name,
                        field,
                        key,
                        variable: &v,
                        pointer: &pointer,
                    };
                    self.template_variable(&at, allow_outputs);
                }
            }
        }
    }

    fn template_variable(&mut self, at: &Place, allow_outputs: bool) {
        let m = self.manifest();
        let v = at.variable;
        let prefix = format!(
            "dependencies.{}.{}.{} references {v}",
            at.dependency, at.field, at.key
        );
        if let Some(rest) = v.strip_prefix("bundle.") {
            if let Some(name) = rest.strip_prefix("parameters.") {
                if m.parameter(name).is_none() {
                    let message =
                        format!("{prefix}, which is not defined as a parameter on the bundle");
                    self.push(true, at.pointer, "porter-107", message);
                }
            } else if let Some(name) = rest.strip_prefix("credentials.") {
                if !m.credentials.iter().any(|c| c.name == name) {
                    let message =
                        format!("{prefix}, which is not defined as a credential on the bundle");
                    self.push(true, at.pointer, "porter-108", message);
                }
            } else if let Some((dependency, output)) =
                crate::cnab::naming::templated_dependency_output(v)
            {
                self.dependency_output(at, &prefix, dependency, output);
            }
            // Any other bundle.* (bundle.outputs.X, bundle.name) is allowed.
        } else if matches!(
            v,
            "installation.name" | "installation.namespace" | "installation.id"
        ) {
            // Allowed.
        } else if let Some(output) = v.strip_prefix("outputs.") {
            if allow_outputs {
                self.dependency_output(at, &prefix, at.dependency, output);
            } else {
                let message = format!(
                    "{prefix}, but the outputs variable can only be used within a dependency's output mappings"
                );
                self.push(true, at.pointer, "porter-106", message);
            }
        } else {
            let message = format!(
                "{prefix}, which is not a supported template variable in the dependencies section \
                 (supported: bundle.*, installation.*, and outputs.* inside a dependency's output mappings)"
            );
            self.push(true, at.pointer, "porter-106", message);
        }
    }

    /// porter-109: `output` of `dependency` must be declared: in its own
    /// outputs mapping, or on its bundle when that could be pulled.
    fn dependency_output(&mut self, at: &Place, prefix: &str, dependency: &str, output: &str) {
        let declared = self
            .manifest()
            .dependencies
            .iter()
            .find(|d| d.name == dependency);
        let Some(declared) = declared else {
            let message =
                format!("{prefix}, but {dependency} is not declared under dependencies.requires");
            self.push(true, at.pointer, "porter-109", message);
            return;
        };
        if declared.outputs.contains_key(output) {
            return;
        }
        if let Some(bundle) = self.bundles.get(dependency)
            && bundle["outputs"].get(output).is_none()
        {
            let message = format!(
                "{prefix}, which is not defined as an output on the {dependency} dependency"
            );
            self.push(true, at.pointer, "porter-109", message);
        }
    }
}

/// Where a template variable is, for messages and lines.
struct Place<'a> {
    dependency: &'a str,
    field: &'a str,
    key: &'a str,
    variable: &'a str,
    pointer: &'a str,
}
