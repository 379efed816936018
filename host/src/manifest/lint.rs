//! `porter lint`: Porter's rules (porter-100 is a validation error, see
//! `validate`), and each declared mixin's own lint hook, run sandboxed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::LoadedManifest;
use super::model::Manifest;
use super::schema::SchemaPlace;
use super::source::{Diagnostic, escape};
use super::template::TemplateUse;
use crate::memo::MemoKey;
use crate::mixin::{ActionSteps, HookError, InstalledMixin, LintLevel, LintRequest, MixinHost};

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

/// What a mixin's hooks are given: its config, and its steps per action
/// (only actions with steps for it), in porter.yaml order.
pub fn mixin_input(m: &Manifest, mixin: &str) -> (Value, Vec<ActionSteps>) {
    let config = m
        .mixin(mixin)
        .and_then(|d| d.config.clone())
        .unwrap_or(Value::Null);
    let actions = m
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

/// Runs one mixin's lint hook and places its findings in porter.yaml. A
/// failing hook is a [`HookError`](crate::mixin::HookError) in the error.
pub fn mixin_rules(
    loaded: &LoadedManifest,
    host: &MixinHost,
    mixin: &InstalledMixin,
) -> anyhow::Result<Vec<Diagnostic>> {
    let m = &loaded.manifest;
    let name = &mixin.name;
    let (config, actions) = mixin_input(m, name);
    let findings = host.lint_hook(mixin, &LintRequest { config, actions })?;
    Ok(findings
        .into_iter()
        .map(|f| {
            let pointer = step_pointer(m, name, &f.location.action, f.location.step_number)
                .map(|step| format!("{step}/{}{}", escape(name), f.location.pointer))
                .unwrap_or_default();
            let at = loaded.source.locations.value(&pointer);
            let mut message = f.title.clone();
            if !f.message.is_empty() {
                message = format!("{message}\n{}", f.message.trim_end());
            }
            let diagnostic = match f.level {
                LintLevel::Error => Diagnostic::error(&loaded.source, at, message),
                LintLevel::Warning => Diagnostic::warning(&loaded.source, at, message),
            };
            let diagnostic = diagnostic.code(f.code);
            match f.url {
                Some(url) => diagnostic.hint(format!("see {url}")),
                None => diagnostic,
            }
        })
        .collect())
}

/// Pointer of the Nth (1-based) step of `mixin` in `action`.
fn step_pointer(m: &Manifest, mixin: &str, action: &str, number: u32) -> Option<String> {
    let action = m.action(action)?;
    let index = (number as usize).checked_sub(1)?;
    action
        .steps
        .iter()
        .filter(|s| s.mixin == mixin)
        .nth(index)
        .map(|s| s.pointer.clone())
}

/// Every lint finding for a valid manifest: Porter's rules, then each
/// declared mixin's (resolved among the installed versions).
pub fn lint(loaded: &LoadedManifest, host: &MixinHost) -> anyhow::Result<Vec<Diagnostic>> {
    let mut findings = loaded.warnings.clone();
    findings.extend(porter_rules(loaded));
    for declaration in &loaded.manifest.mixins {
        let installed = match host
            .store()
            .resolve(&declaration.name, declaration.constraint.as_ref())
        {
            Ok(installed) => installed,
            Err(e) => {
                let at = loaded.source.locations.value(&declaration.pointer);
                findings.push(Diagnostic::error(&loaded.source, at, e.message).hint(e.hint));
                continue;
            }
        };
        findings.extend(schema_findings(loaded, host, &installed));
        match mixin_rules(loaded, host, &installed) {
            Ok(found) => findings.extend(found),
            Err(error) => match error.downcast_ref::<HookError>() {
                Some(failed) => {
                    let at = loaded.source.locations.value(&declaration.pointer);
                    findings.push(Diagnostic::error(&loaded.source, at, failed.to_string()));
                }
                None => return Err(error),
            },
        }
    }
    findings.sort_by_key(|d| (d.at.line == 0, d.at));
    Ok(findings)
}

/// The mixin's config and each of its steps, checked against the schema
/// the mixin published (recorded at install). The check is a function of
/// the schema and the mixin's input, so its result is remembered like a
/// hook's answer (compiling a schema costs more than a build's other steps).
fn schema_findings(
    loaded: &LoadedManifest,
    host: &MixinHost,
    installed: &InstalledMixin,
) -> Vec<Diagnostic> {
    let m = &loaded.manifest;
    let mixin = &installed.name;
    let declaration_at = m
        .mixin(mixin)
        .map(|d| d.pointer.clone())
        .unwrap_or_default();
    let (text, schema) = match installed.schema() {
        Ok(schema) => (schema.text, schema.json),
        Err(e) => {
            return vec![Diagnostic::warning(
                &loaded.source,
                loaded.source.locations.value(&declaration_at),
                format!("the steps of mixin {mixin} are not checked: {e}"),
            )];
        }
    };
    let (config, actions) = mixin_input(m, mixin);
    let key = MemoKey::builder(installed.sha256_hex(), "schema-check")
        .field(&text)
        .field(&config.to_string());
    let key = crate::mixin::with_actions(key, &actions).finish();
    let problems = host.memo().remembered(&key, || {
        super::schema::mixin_input_problems(&schema, mixin, &config, &actions)
    });
    problems
        .into_iter()
        .map(|problem| {
            let base = match &problem.place {
                SchemaPlace::Config => declaration_at.clone(),
                SchemaPlace::Step { action, number } => {
                    step_pointer(m, mixin, action, *number).unwrap_or_default()
                }
            };
            if problem.unusable_schema {
                let at = loaded.source.locations.value(&base);
                return Diagnostic::warning(&loaded.source, at, problem.message);
            }
            let at = loaded
                .source
                .locations
                .value(&format!("{base}{}", problem.at));
            Diagnostic::error(&loaded.source, at, problem.message)
                .hint("the mixin's schema (porter schema) lists the fields it accepts")
        })
        .collect()
}
