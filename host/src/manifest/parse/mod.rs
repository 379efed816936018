//! porter.yaml text -> [`Manifest`], collecting every problem it can find
//! in one pass rather than stopping at the first. Shape errors (a field of
//! the wrong type, an unknown key, a malformed step) are found here; rules
//! that relate fields to each other are in `validate`.
//!
//! [`parse`] reads the top level; each part of the manifest has its own
//! file (mixins, actions and steps, parameters/credentials/outputs,
//! dependencies and extensions, file sources), over shared helpers.

mod actions;
mod dependencies;
mod files;
mod helpers;
mod mixins;
mod parameters;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::model::*;
use super::source::{Diagnostic, SourceFile, escape};
use helpers::{describe, first_line};

pub use helpers::closest;

/// Top-level keys with a meaning of their own; any other key holding a list
/// is a custom action.
const TOP_LEVEL_FIELDS: &[&str] = &[
    "schemaType",
    "schemaVersion",
    "name",
    "version",
    "description",
    "maintainers",
    "registry",
    "reference",
    "dockerfile",
    "mixins",
    "install",
    "upgrade",
    "uninstall",
    "customActions",
    "custom",
    "state",
    "parameters",
    "credentials",
    "outputs",
    "dependencies",
    "images",
    "required",
    "files",
];

/// Keys Porter used to accept and now ignores with a warning.
const DEPRECATED_FIELDS: &[&str] = &["invocationImage", "tag"];

/// Parses the manifest. Returns the manifest when its shape is sound enough
/// to build one (even with errors, so `validate` can find more), and every
/// diagnostic found.
pub fn parse(source: &SourceFile) -> (Option<(Manifest, Value)>, Vec<Diagnostic>) {
    let mut parser = ManifestParser {
        source,
        diagnostics: Vec::new(),
    };
    let manifest = parser.parse();
    (manifest, parser.diagnostics)
}

struct ManifestParser<'a> {
    source: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
}

impl ManifestParser<'_> {
    fn parse(&mut self) -> Option<(Manifest, Value)> {
        let document = self.read_yaml()?;
        let Value::Object(root) = &document else {
            let found = describe(&document);
            let message = format!(
                "porter.yaml must be a mapping of fields (name, version, mixins, install...), \
                 found {found}"
            );
            self.error_at_value("", message);
            return None;
        };

        let mut manifest = Manifest {
            schema_type: String::new(),
            schema_version: String::new(),
            name: String::new(),
            version: semver::Version::new(0, 0, 0),
            description: String::new(),
            maintainers: Vec::new(),
            registry: None,
            reference: None,
            dockerfile: None,
            mixins: Vec::new(),
            actions: Vec::new(),
            custom_actions: BTreeMap::new(),
            parameters: Vec::new(),
            credentials: Vec::new(),
            outputs: Vec::new(),
            images: BTreeMap::new(),
            dependencies: Vec::new(),
            provides: None,
            custom: Map::new(),
            required: Vec::new(),
            state: Vec::new(),
            files: Vec::new(),
            template_variables: BTreeSet::new(),
        };

        // Mixins first: steps are checked against them.
        if let Some(mixins) = root.get("mixins") {
            manifest.mixins = self.mixins(mixins);
        }
        let declared: BTreeSet<String> = manifest.mixins.iter().map(|m| m.name.clone()).collect();

        for (key, value) in root {
            let at = format!("/{}", escape(key));
            match key.as_str() {
                "schemaType" => manifest.schema_type = self.string(&at, value).unwrap_or_default(),
                "schemaVersion" => {
                    manifest.schema_version = self.scalar_text(&at, value).unwrap_or_default()
                }
                "name" => manifest.name = self.string(&at, value).unwrap_or_default(),
                "version" => {
                    if let Some(version) = self.version(&at, value) {
                        manifest.version = version;
                    }
                }
                "description" => manifest.description = self.string(&at, value).unwrap_or_default(),
                "registry" => manifest.registry = self.string(&at, value),
                "reference" => manifest.reference = self.string(&at, value),
                "dockerfile" => manifest.dockerfile = self.string(&at, value),
                "mixins" => {}
                "maintainers" => manifest.maintainers = self.typed_list(&at, value, "maintainer"),
                "customActions" => {
                    manifest.custom_actions = self.typed_map(&at, value, "custom action")
                }
                "custom" => {
                    manifest.custom = self.mapping(&at, value, "custom").unwrap_or_default()
                }
                "state" => manifest.state = self.typed_list(&at, value, "state variable"),
                "images" => manifest.images = self.typed_map(&at, value, "image"),
                "parameters" => {
                    manifest.parameters =
                        self.list(&at, value, "parameters", |p, at, v| p.parameter(at, v))
                }
                "credentials" => {
                    manifest.credentials =
                        self.list(&at, value, "credentials", |p, at, v| p.credential(at, v))
                }
                "outputs" => {
                    manifest.outputs = self.list(&at, value, "outputs", |p, at, v| p.output(at, v))
                }
                "dependencies" => self.dependencies(&at, value, &mut manifest),
                "files" => manifest.files = self.files(&at, value),
                "required" => {
                    manifest.required = self.list(&at, value, "required", |p, at, v| {
                        p.required_extension(at, v)
                    })
                }
                // `upgrade:` with nothing under it is no action (as in Porter).
                "install" | "upgrade" | "uninstall" if value.is_null() => {}
                "install" | "upgrade" | "uninstall" => {
                    if let Some(action) = self.action(key, value, &declared) {
                        manifest.actions.push(action);
                    }
                }
                deprecated if DEPRECATED_FIELDS.contains(&deprecated) => {
                    let at = self.source.locations.key(&at);
                    let message = format!(
                        "'{key}' has been deprecated and can no longer be set; it is ignored"
                    );
                    let hint = "the invocation image is named from `registry`/`reference`, \
                                `name` and `version`";
                    self.push(Diagnostic::warning(self.source, at, message).hint(hint));
                }
                _ => {
                    if let Some(action) = self.custom_action_or_unknown(key, value, &declared) {
                        manifest.actions.push(action);
                    }
                }
            }
        }
        Some((manifest, document))
    }

    /// The bundle's version: semver, a leading `v` accepted.
    fn version(&mut self, at: &str, value: &Value) -> Option<semver::Version> {
        let text = self.scalar_text(at, value)?;
        match super::constraint::parse_lenient_version(&text) {
            Ok(version) => Some(version),
            Err(e) => {
                let message = format!("version '{text}' is not a valid semver value: {e}");
                let hint = "use MAJOR.MINOR.PATCH, e.g. 0.1.0 (a leading v is accepted)";
                let at = self.source.locations.value(at);
                self.push(Diagnostic::error(self.source, at, message).hint(hint));
                None
            }
        }
    }

    fn read_yaml(&mut self) -> Option<Value> {
        if self.source.text.trim().is_empty() {
            let hint = "start from `porter create`'s template, \
                        or see https://porter.sh/reference/file-formats/";
            let empty = Diagnostic::error(self.source, Default::default(), "porter.yaml is empty");
            self.push(empty.hint(hint));
            return None;
        }
        // YAML 1.2 booleans only, as Porter's yaml.v3 reads them: `n`, `yes`
        // and `off` are strings (a parameter named `n` stays `n`).
        let mut options = serde_saphyr::Options::default();
        options.strict_booleans = true;
        match serde_saphyr::from_str_with_options::<Value>(&self.source.text, options) {
            Ok(value) => Some(value),
            Err(error) => {
                let at = error
                    .location()
                    .map(|l| super::source::Position {
                        line: l.line() as usize,
                        column: l.column().max(1) as usize,
                    })
                    .unwrap_or(super::source::Position { line: 1, column: 1 });
                let message = first_line(&error.without_snippet().to_string());
                self.push(Diagnostic::error(
                    self.source,
                    at,
                    format!("porter.yaml is not valid YAML: {message}"),
                ));
                None
            }
        }
    }
}
