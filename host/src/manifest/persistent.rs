//! `persistent: true` on a parameter (schemaVersion 1.2.0, Porter's
//! `persistent-parameters` experimental flag): shorthand that Porter's
//! `expandPersistentParameters` writes out before anything else reads the
//! manifest. The parameter becomes a file at `/cnab/app/<name>`, fed back
//! from an output of the same name (generated unless one is declared), on
//! every action. Everything after loading (validation, lint, bundle.json,
//! the runtime) sees the expanded form.

use serde_json::Value;

use super::constraint::parse_lenient_version;
use super::model::{BUILTIN_ACTIONS, Manifest, Output, Parameter, ParameterSource};
use super::source::{Diagnostic, Position, SourceFile};
use crate::experimental::{Experimental, Flag};
use crate::layout::APP_DIR;

/// The schemaVersion persistent parameters arrived with.
const SINCE: semver::Version = semver::Version::new(1, 2, 0);

/// Expands every persistent parameter that may be expanded; the others are
/// left as written and reported, each problem at its line (Porter stops at
/// the first).
pub(super) fn expand(
    manifest: &mut Manifest,
    source: &SourceFile,
    document: &Value,
    flags: &Experimental,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let apply_to = every_action(manifest);
    for index in 0..manifest.parameters.len() {
        let parameter = &manifest.parameters[index];
        if !parameter.persistent {
            continue;
        }
        let problems = refusals(parameter, &manifest.schema_version, source, document, flags);
        if !problems.is_empty() {
            diagnostics.extend(problems);
            continue;
        }
        let parameter = &mut manifest.parameters[index];
        parameter.path = Some(persistent_path(&parameter.name));
        parameter.source = Some(ParameterSource {
            output: parameter.name.clone(),
            dependency: None,
        });
        parameter.apply_to = apply_to.clone();
        let parameter = parameter.clone();
        // An output the author declared under that name is kept as it is.
        if !manifest.outputs.iter().any(|o| o.name == parameter.name) {
            manifest.outputs.push(generated_output(&parameter));
        }
    }
    diagnostics
}

/// Why `parameter` cannot be expanded, in Porter's words, each located.
fn refusals(
    parameter: &Parameter,
    schema_version: &str,
    source: &SourceFile,
    document: &Value,
    flags: &Experimental,
) -> Vec<Diagnostic> {
    let name = &parameter.name;
    let at = |field: &str| -> Position {
        source
            .locations
            .value(&format!("{}/{field}", parameter.pointer))
    };
    let flag = Flag::PersistentParameters;
    if !flags.is_on(flag) {
        let message = format!(
            "parameter \"{name}\" uses persistent: true which requires the {flag} experimental feature"
        );
        let hint = format!(
            "run with PORTER_EXPERIMENTAL={flag}, or add \"{flag}\" to `experimental` in \
             PORTER_HOME's config file (and set `schemaVersion: 1.2.0`)"
        );
        return vec![Diagnostic::error(source, at("persistent"), message).hint(hint)];
    }
    let old_schema = !parse_lenient_version(schema_version).is_ok_and(|v| v >= SINCE);
    if old_schema {
        let message = format!(
            "parameter \"{name}\" uses persistent: true which requires schemaVersion >= 1.2.0"
        );
        return vec![
            Diagnostic::error(source, at("persistent"), message).hint("set `schemaVersion: 1.2.0`"),
        ];
    }
    let mut problems = Vec::new();
    let mut conflict = |field: &str, what: &str, hint: &str| {
        let message = format!("parameter \"{name}\" cannot combine persistent with {what}");
        problems.push(Diagnostic::error(source, at(field), message).hint(hint));
    };
    if parameter
        .source
        .as_ref()
        .is_some_and(|s| !s.output.is_empty())
    {
        conflict(
            "source/output",
            "source.output",
            "a persistent parameter is fed from its own output: remove `source:`, \
             or remove `persistent: true` and keep the source",
        );
    }
    let set = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
    if set(&parameter.path) || set(&parameter.env) {
        let field = if set(&parameter.path) { "path" } else { "env" };
        conflict(
            field,
            "path/env",
            "a persistent parameter is the file /cnab/app/<name>: remove `path:` and `env:`",
        );
    }
    // Porter's test is "applyTo was written", even as an empty list.
    let apply_to = document.pointer(&format!("{}/applyTo", parameter.pointer));
    if apply_to.is_some_and(|v| !v.is_null()) {
        conflict(
            "applyTo",
            "applyTo",
            "a persistent parameter applies to every action: remove `applyTo:`",
        );
    }
    problems
}

/// install, uninstall, upgrade when declared and every custom action,
/// sorted: every action that runs after the value was first given.
fn every_action(manifest: &Manifest) -> Vec<String> {
    let mut actions = vec!["install".to_string(), "uninstall".to_string()];
    actions.extend(
        manifest
            .actions
            .iter()
            .map(|a| a.name.as_str())
            .filter(|name| *name == "upgrade" || !BUILTIN_ACTIONS.contains(name))
            .map(str::to_string),
    );
    actions.sort();
    actions.dedup();
    actions
}

/// Porter's generated output: the parameter's name, path, sensitivity and
/// schema; it is placed where the parameter is written.
fn generated_output(parameter: &Parameter) -> Output {
    Output {
        name: parameter.name.clone(),
        description: parameter.description.clone(),
        sensitive: parameter.sensitive,
        path: Some(persistent_path(&parameter.name)),
        apply_to: Vec::new(),
        schema: parameter.schema.clone(),
        pointer: parameter.pointer.clone(),
    }
}

fn persistent_path(name: &str) -> String {
    format!("{APP_DIR}/{name}")
}

#[cfg(test)]
mod tests {
    use crate::experimental::{Experimental, Flag};
    use crate::manifest::{LoadOptions, LoadedManifest, ManifestErrors, load_str_with_options};

    /// Porter's fixture (porter-with-persistent-params.yaml), abridged, with
    /// `extra` under the parameter (line 9 on) and a custom action.
    fn manifest(schema_version: &str, extra: &str) -> String {
        format!(
            "schemaVersion: {schema_version}\nname: p\nversion: 0.1.0\nregistry: localhost:5000\n\
             parameters:\n  - name: rg\n    type: string\n    persistent: true\n{extra}\
             mixins: [exec]\ninstall: [{{exec: {{command: x}}}}]\n\
             upgrade: [{{exec: {{command: x}}}}]\nuninstall: [{{exec: {{command: x}}}}]\n\
             status: [{{exec: {{command: x}}}}]\n"
        )
    }

    fn load(text: &str, flags: &[Flag]) -> Result<LoadedManifest, ManifestErrors> {
        let options = LoadOptions::with_flags(Experimental::with(flags.iter().copied()));
        load_str_with_options("porter.yaml", text.to_string(), &options)
    }

    fn errors(text: &str, flags: &[Flag]) -> Vec<(usize, String)> {
        load(text, flags)
            .unwrap_err()
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| (d.at.line, d.message))
            .collect()
    }

    #[test]
    fn expands_path_source_apply_to_and_the_output() {
        let loaded = load(&manifest("1.2.0", ""), &[Flag::PersistentParameters]).unwrap();
        let p = &loaded.manifest.parameters[0];
        assert_eq!(p.path.as_deref(), Some("/cnab/app/rg"));
        assert_eq!(p.source.as_ref().unwrap().output, "rg");
        assert_eq!(p.apply_to, ["install", "status", "uninstall", "upgrade"]);
        let o = &loaded.manifest.outputs[0];
        assert_eq!(
            (o.name.as_str(), o.path.as_deref()),
            ("rg", Some("/cnab/app/rg"))
        );
        assert_eq!(o.type_name(), Some("string"));
    }

    #[test]
    fn a_declared_output_is_kept() {
        let text = manifest("1.2.0", "outputs:\n  - name: rg\n    path: /custom/path\n");
        let loaded = load(&text, &[Flag::PersistentParameters]).unwrap();
        assert_eq!(loaded.manifest.outputs.len(), 1);
        assert_eq!(
            loaded.manifest.outputs[0].path.as_deref(),
            Some("/custom/path")
        );
    }

    #[test]
    fn needs_the_flag_and_schema_version_1_2_0() {
        let flag = "parameter \"rg\" uses persistent: true which requires the \
                    persistent-parameters experimental feature";
        // Without the flag 1.2.0 itself is refused too.
        let found = errors(&manifest("1.0.1", ""), &[]);
        assert_eq!(found, [(8, flag.to_string())]);
        let found = errors(&manifest("1.0.1", ""), &[Flag::PersistentParameters]);
        assert_eq!(
            found,
            [(
                8,
                "parameter \"rg\" uses persistent: true which requires schemaVersion >= 1.2.0"
                    .into()
            )]
        );
    }

    #[test]
    fn each_conflict_is_an_error_at_its_line() {
        let text = manifest(
            "1.2.0",
            "    path: /x\n    applyTo: []\n    source:\n      output: o\noutputs:\n  - name: o\n",
        );
        let found = errors(&text, &[Flag::PersistentParameters]);
        assert_eq!(
            found,
            [
                (
                    9,
                    "parameter \"rg\" cannot combine persistent with path/env".to_string()
                ),
                (
                    10,
                    "parameter \"rg\" cannot combine persistent with applyTo".to_string()
                ),
                (
                    12,
                    "parameter \"rg\" cannot combine persistent with source.output".to_string()
                ),
            ]
        );
        let found = errors(
            &manifest("1.2.0", "    env: RG\n"),
            &[Flag::PersistentParameters],
        );
        assert_eq!(
            found,
            [(
                9,
                "parameter \"rg\" cannot combine persistent with path/env".into()
            )]
        );
    }
}
