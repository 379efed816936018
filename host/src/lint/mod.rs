//! `porter lint` (and the lint before `porter build`): Porter's rules over
//! the manifest, and for each declared mixin its own lint hook (run
//! sandboxed) and the check of its config and steps against the schema it
//! published, every finding placed on the porter.yaml value it is about.

mod dependencies;
mod refusal;

use crate::manifest::mixin_place::MixinPlaces;
use crate::manifest::schema::{self, SchemaPlace};
use crate::manifest::source::escape;
use crate::manifest::{Diagnostic, LoadedManifest, rules};
use crate::memo::MemoKey;
use crate::mixin::{HookError, InstalledMixin, LintLevel, LintRequest, MixinHost};

pub use dependencies::DependencyBundles;
pub use refusal::located;

/// What lint needs besides the manifest and its mixins.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// The dependencies-v2 flag: porter-106 to porter-111.
    pub dependencies_v2: bool,
    /// Where dependencies' bundles are pulled from (porter-103, 104, 110,
    /// 111; porter-105 when one cannot be); `None`: not pulled.
    pub registry: Option<crate::oci::RegistryOptions>,
}

impl LintOptions {
    /// As Porter lints with these flags, except that dependencies' bundles
    /// are pulled only with dependencies-v2 on: a v1 bundle lints offline.
    pub fn for_flags(
        flags: &crate::experimental::Experimental,
        registry: &crate::oci::RegistryOptions,
    ) -> LintOptions {
        let dependencies_v2 = flags.is_on(crate::experimental::Flag::DependenciesV2);
        LintOptions {
            dependencies_v2,
            registry: dependencies_v2.then(|| registry.clone()),
        }
    }
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
    let (config, actions) = m.mixin_input(name);
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

/// Every lint finding for a valid manifest: its warnings, Porter's rules,
/// then each mixin's, for `mixins`: what porter.yaml's declarations resolved
/// to ([`MixinStore::resolve_declared`](crate::mixin::MixinStore::resolve_declared),
/// whose problems the caller reports).
pub fn lint(
    loaded: &LoadedManifest,
    host: &MixinHost,
    mixins: &[InstalledMixin],
    options: &LintOptions,
) -> anyhow::Result<Vec<Diagnostic>> {
    let mut findings = loaded.warnings.clone();
    findings.extend(rules::porter_rules(loaded));
    let bundles = match &options.registry {
        Some(registry) if !loaded.manifest.dependencies.is_empty() => {
            let (bundles, unresolved) = dependencies::resolve(loaded, registry);
            findings.extend(unresolved);
            bundles
        }
        _ => DependencyBundles::new(),
    };
    findings.extend(dependencies::rules(
        loaded,
        &bundles,
        options.dependencies_v2,
    ));
    for installed in mixins {
        let checked = schema_findings(loaded, host, installed);
        let found = match mixin_rules(loaded, host, installed) {
            Ok(found) => found,
            Err(error) => match error.downcast_ref::<HookError>() {
                Some(failed) => match refusal::diagnostics(loaded, failed) {
                    Some(problems) => not_shown_in(problems, &checked),
                    None => {
                        let declaration =
                            MixinPlaces::new(&loaded.manifest, &installed.name).declaration();
                        let at = loaded.source.locations.value(&declaration);
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
    let (config, actions) = m.mixin_input(mixin);
    let key = MemoKey::builder(installed.sha256_hex(), "schema-check")
        .field(&text)
        .field(&config.to_string());
    let key = crate::mixin::with_actions(key, &actions).finish();
    let problems = host.memo().remembered(&key, || {
        schema::mixin_input_problems(&schema, mixin, &config, &actions)
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
            if problem.unknown_field {
                return Diagnostic::warning(&loaded.source, at, problem.message)
                    .hint("the mixin's schema (porter schema) lists the fields it accepts");
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
