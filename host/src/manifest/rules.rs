//! Porter's lint rules over a valid manifest (porter-100 is a validation
//! error, see `validate`). Pure; the mixins' own rules are `crate::lint`'s.

use std::collections::BTreeMap;

use super::LoadedManifest;
use super::model::Manifest;
use super::source::{Diagnostic, escape};
use super::template::TemplateUse;

/// Porter's own rules over a valid manifest.
pub fn porter_rules(loaded: &LoadedManifest) -> Vec<Diagnostic> {
    let mut findings = parameters_apply_to_their_steps(loaded);
    findings.extend(no_duplicate_dependencies(loaded));
    findings
}

/// porter-101: a step uses `${ bundle.parameters.X }` in an action X does
/// not apply to, so X has no value there at runtime.
fn parameters_apply_to_their_steps(loaded: &LoadedManifest) -> Vec<Diagnostic> {
    let m = &loaded.manifest;
    let mut findings = Vec::new();
    for TemplateUse { variable, pointer } in &loaded.templates {
        let Some(name) = variable
            .strip_prefix("bundle.parameters.")
            .map(|r| r.split('.').next().unwrap_or(r))
        else {
            continue;
        };
        let Some(action) = action_of(m, pointer) else {
            continue;
        };
        let Some(parameter) = m.parameter(name) else {
            continue;
        };
        if !parameter.applies_to(action) {
            findings.push(
                Diagnostic::error(
                    &loaded.source,
                    loaded.source.locations.value(pointer),
                    format!("parameter '{name}' is used in the {action} action, but it does not apply to {action}"),
                )
                .code("porter-101")
                .hint(format!("add {action} to the parameter's applyTo ({}), or stop using it here", parameter.apply_to.join(", "))),
            );
        }
    }
    findings
}

/// The action a pointer inside porter.yaml belongs to, if it is in one.
fn action_of<'m>(m: &'m Manifest, pointer: &str) -> Option<&'m str> {
    let first = pointer.strip_prefix('/')?.split('/').next()?;
    m.actions
        .iter()
        .map(|a| a.name.as_str())
        .find(|a| escape(a) == first)
}

/// porter-102: two dependencies with one name.
fn no_duplicate_dependencies(loaded: &LoadedManifest) -> Vec<Diagnostic> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut findings = Vec::new();
    for d in &loaded.manifest.dependencies {
        if let Some(first) = seen.get(d.name.as_str()) {
            let line = loaded.source.locations.value(first).line;
            findings.push(
                Diagnostic::error(
                    &loaded.source,
                    loaded.source.locations.value(&d.pointer),
                    format!("the dependency {} is defined multiple times", d.name),
                )
                .code("porter-102")
                .hint(format!(
                    "it is first defined on line {line}; give each dependency its own name"
                )),
            );
        } else {
            seen.insert(&d.name, &d.pointer);
        }
    }
    findings
}
