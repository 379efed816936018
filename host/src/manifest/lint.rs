//! `porter lint`: Porter's rules (porter-100 is a validation error, see
//! `validate`), and each declared mixin's own lint hook, run sandboxed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::LoadedManifest;
use super::mixin_place::MixinPlaces;
use super::model::Manifest;
use super::refusal;
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
    let places = MixinPlaces::new(m, name);
    Ok(findings
        .into_iter()
        .map(|f| {
            let step = &f.location;
            let pointer = places.step(&step.action, step.step_number, &step.pointer);
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
        let checked = schema_findings(loaded, host, &installed);
        let found = match mixin_rules(loaded, host, &installed) {
            Ok(found) => found,
            Err(error) => match error.downcast_ref::<HookError>() {
                Some(failed) => match refusal::diagnostics(loaded, failed) {
                    Some(problems) => not_shown_in(problems, &checked),
                    None => {
                        let at = loaded.source.locations.value(&declaration.pointer);
                        vec![Diagnostic::error(&loaded.source, at, failed.to_string())]
                    }
                },
                None => return Err(error),
            },
        };
        findings.extend(checked);
        findings.extend(found);
    }
    findings.sort_by_key(|d| (d.at.line == 0, d.at));
    Ok(findings)
}

/// The problems of a hook's refusal that the check against the mixin's
/// schema did not already show at the same place: a value the mixin cannot
/// read usually breaks its schema too, and one mistake is shown once.
fn not_shown_in(problems: Vec<Diagnostic>, checked: &[Diagnostic]) -> Vec<Diagnostic> {
    problems
        .into_iter()
        .filter(|p| !checked.iter().any(|c| c.is_error() && c.at == p.at))
        .collect()
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
    let places = MixinPlaces::new(m, mixin);
    let declaration_at = places.declaration();
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
            let pointer = match (&problem.place, under_mixin(&problem.at, mixin)) {
                (SchemaPlace::Config, Some(inside)) => places.config(inside),
                (SchemaPlace::Config, None) => declaration_at.clone(),
                (SchemaPlace::Step { action, number }, Some(inside)) => {
                    places.step(action, *number, inside)
                }
                (SchemaPlace::Step { action, number }, None) => places.step_entry(action, *number),
            };
            let at = loaded.source.locations.value(&pointer);
            if problem.unusable_schema {
                return Diagnostic::warning(&loaded.source, at, problem.message);
            }
            Diagnostic::error(&loaded.source, at, problem.message)
                .hint("the mixin's schema (porter schema) lists the fields it accepts")
        })
        .collect()
}

/// A schema problem's pointer (into `{<mixin>: <config or step body>}`) as
/// a pointer into the config or body; `None` when it is about the whole.
fn under_mixin<'p>(at: &'p str, mixin: &str) -> Option<&'p str> {
    let inside = at.strip_prefix('/')?.strip_prefix(escape(mixin).as_str())?;
    (inside.is_empty() || inside.starts_with('/')).then_some(inside)
}
