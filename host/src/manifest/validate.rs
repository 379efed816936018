//! Rules that relate a manifest's fields to each other: Porter's checks, and
//! the ones Porter lacks where its users get hurt (duplicate names, template
//! variables that name nothing, `applyTo` naming no action).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::model::*;
use super::schema_version;
use super::source::{Diagnostic, Position, SourceFile};
use super::template::TemplateUse;
use super::{LoadOptions, SchemaCheck};
use crate::experimental::Flag;

/// What to do about a dependencies v2 field with the flag off.
const TURN_V2_ON: &str =
    "turn the flag on (PORTER_EXPERIMENTAL=dependencies-v2, with schemaVersion 1.1.0) to keep it";

/// Names Porter keeps for its own parameters, outputs and wiring.
pub const RESERVED_PREFIXES: [&str; 2] = ["porter-", "porter_"];

pub fn validate(
    source: &SourceFile,
    manifest: &Manifest,
    templates: &[TemplateUse],
    root: &Value,
    options: &LoadOptions,
) -> Vec<Diagnostic> {
    let mut v = Validator {
        source,
        manifest,
        options,
        diagnostics: Vec::new(),
    };
    v.header(root);
    v.mixins_and_actions(root);
    v.duplicates();
    v.parameters();
    v.outputs();
    v.apply_to();
    v.custom_actions();
    v.dependencies();
    v.files();
    v.templates(templates);
    v.diagnostics
}

struct Validator<'a> {
    source: &'a SourceFile,
    manifest: &'a Manifest,
    options: &'a LoadOptions,
    diagnostics: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// An error at `at` (`Position::default()`: the file as a whole) and
    /// what to do about it, the way most of these checks report.
    fn error(&mut self, at: Position, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Diagnostic::error(self.source, at, message).hint(hint));
    }

    fn value_at(&self, pointer: &str) -> Position {
        self.source.locations.value(pointer)
    }

    fn key_at(&self, pointer: &str) -> Position {
        self.source.locations.key(pointer)
    }

    fn header(&mut self, root: &Value) {
        let m = self.manifest;
        let has = |key: &str| root.get(key).is_some_and(|v| !v.is_null());
        if !m.schema_type.is_empty() && !m.schema_type.eq_ignore_ascii_case("Bundle") {
            let at = self.value_at("/schemaType");
            let message = format!("invalid schemaType {}, expected Bundle", m.schema_type);
            self.error(at, message, "remove schemaType, or set it to Bundle");
        }
        if self.options.schema_check == SchemaCheck::Exact
            && let Err(refused) =
                schema_version::check(&m.schema_version, &self.options.experimental)
        {
            let at = if has("schemaVersion") {
                self.value_at("/schemaVersion")
            } else {
                Default::default()
            };
            self.error(at, refused.message, refused.hint);
        }
        if m.name.is_empty()
            && !root
                .get("name")
                .is_some_and(|v| !v.is_null() && !v.is_string())
        {
            self.error(
                Position::default(),
                "bundle name must be set",
                "add `name: my-bundle` at the top of porter.yaml",
            );
        }
        if !has("version") {
            self.error(
                Position::default(),
                "bundle version must be set",
                "add `version: 0.1.0` (semver)",
            );
        }
        if m.registry.as_deref().unwrap_or("").is_empty()
            && m.reference.as_deref().unwrap_or("").is_empty()
        {
            self.error(
                Position::default(),
                "a registry or reference value must be provided",
                "add `registry: example.com/myorg`, \
                 or a full `reference: example.com/myorg/mybundle:v0.1.0`",
            );
        }
        if let Some(dockerfile) = &m.dockerfile {
            let file_name = std::path::Path::new(dockerfile)
                .file_name()
                .map(|f| f.to_string_lossy().to_lowercase());
            if file_name.as_deref() == Some("dockerfile") {
                let at = self.value_at("/dockerfile");
                let message = format!(
                    "the dockerfile template cannot be named '{dockerfile}': \
                     porter writes the generated Dockerfile under that name"
                );
                self.error(
                    at,
                    message,
                    "rename the template, e.g. to template.Dockerfile",
                );
            }
        }
    }

    fn mixins_and_actions(&mut self, root: &Value) {
        let m = self.manifest;
        if m.mixins.is_empty() {
            let at = if root.get("mixins").is_some() {
                self.key_at("/mixins")
            } else {
                Default::default()
            };
            self.error(
                at,
                "no mixins declared",
                "declare the mixins the steps use, e.g.\nmixins:\n  - exec",
            );
        }
        for required in ["install", "uninstall"] {
            if m.action(required).is_none() {
                self.error(
                    Position::default(),
                    format!("no {required} action defined"),
                    format!("add an `{required}:` list with at least one step"),
                );
            }
        }
    }

    fn duplicates(&mut self) {
        let m = self.manifest;
        let groups: [(&str, Vec<(&str, &str)>); 3] = [
            (
                "parameter",
                m.parameters
                    .iter()
                    .map(|p| (p.name.as_str(), p.pointer.as_str()))
                    .collect(),
            ),
            (
                "credential",
                m.credentials
                    .iter()
                    .map(|c| (c.name.as_str(), c.pointer.as_str()))
                    .collect(),
            ),
            (
                "output",
                m.outputs
                    .iter()
                    .map(|o| (o.name.as_str(), o.pointer.as_str()))
                    .collect(),
            ),
        ];
        for (what, items) in groups {
            let mut first: BTreeMap<&str, &str> = BTreeMap::new();
            for (name, pointer) in items {
                if let Some(earlier) = first.get(name) {
                    let line = self.value_at(earlier).line;
                    let at = self.value_at(pointer);
                    let hint = format!(
                        "it is first defined on line {line}; \
                         Porter would silently keep only the last one"
                    );
                    self.error(at, format!("{what} '{name}' is defined twice"), hint);
                } else {
                    first.insert(name, pointer);
                }
            }
        }
    }

    fn parameters(&mut self) {
        let m = self.manifest;
        let output_names: BTreeSet<&str> = m.outputs.iter().map(|o| o.name.as_str()).collect();
        let dependency_names: BTreeSet<&str> =
            m.dependencies.iter().map(|d| d.name.as_str()).collect();
        for p in &m.parameters {
            if RESERVED_PREFIXES
                .iter()
                .any(|prefix| p.name.starts_with(prefix))
            {
                let at = self.value_at(&format!("{}/name", p.pointer));
                let message = format!(
                    "parameter '{}' uses a reserved prefix: \
                     names starting with porter- or porter_ are Porter's",
                    p.name
                );
                let reserved = Diagnostic::error(self.source, at, message).code("porter-100");
                self.push(reserved.hint("rename the parameter"));
            }
            if p.type_name() == Some("file")
                && p.path.as_deref().unwrap_or("").is_empty()
                && !p.persistent
            {
                let at = self.value_at(&p.pointer);
                let message = format!("no destination path supplied for parameter {}", p.name);
                let hint = "a file parameter needs `path:`, where the file is placed \
                            in the bundle, e.g. /cnab/app/config.json";
                self.error(at, message, hint);
            }
            self.check_default(
                &p.pointer,
                &format!("parameter '{}'", p.name),
                &p.schema,
                p.type_name() == Some("file"),
            );
            if let Some(source) = &p.source {
                match &source.dependency {
                    Some(dep) if !dependency_names.contains(dep.as_str()) => {
                        let at = self.value_at(&format!("{}/source/dependency", p.pointer));
                        let message = format!(
                            "parameter '{}' takes its value from dependency '{dep}', \
                             which is not declared under dependencies.requires",
                            p.name
                        );
                        self.push(Diagnostic::error(self.source, at, message));
                    }
                    None if !output_names.contains(source.output.as_str()) => {
                        let at = self.value_at(&format!("{}/source/output", p.pointer));
                        let message = format!(
                            "parameter '{}' takes its value from output '{}', \
                             which is not defined",
                            p.name, source.output
                        );
                        let hint = "define the output under `outputs:`, \
                                    or name the dependency that produces it with `dependency:`";
                        self.error(at, message, hint);
                    }
                    _ => {}
                }
            }
        }
    }

    fn outputs(&mut self) {
        let m = self.manifest;
        for o in &m.outputs {
            if o.type_name() == Some("file") && o.path.as_deref().unwrap_or("").is_empty() {
                let at = self.value_at(&o.pointer);
                let message = format!("no path supplied for output {}", o.name);
                let hint = "a file output needs `path:`, the file the bundle writes, \
                            e.g. /cnab/app/outputs/kubeconfig";
                self.error(at, message, hint);
            }
            self.check_default(
                &o.pointer,
                &format!("output '{}'", o.name),
                &o.schema,
                o.type_name() == Some("file"),
            );
        }
    }

    /// The schema must be a schema, and the default must satisfy it.
    fn check_default(
        &mut self,
        pointer: &str,
        what: &str,
        schema: &Map<String, Value>,
        is_file: bool,
    ) {
        let mut schema = schema.clone();
        if is_file {
            // Porter's `file` is a base64 string in the bundle.
            schema.insert("type".into(), Value::String("string".into()));
            schema.insert("contentEncoding".into(), Value::String("base64".into()));
        }
        let default = schema.remove("default");
        let validator = match jsonschema::draft7::new(&Value::Object(schema)) {
            Ok(v) => v,
            Err(e) => {
                let at = self.value_at(pointer);
                let message = format!("{what} has an invalid schema: {e}");
                self.push(Diagnostic::error(self.source, at, message));
                return;
            }
        };
        let Some(default) = default else { return };
        if is_file {
            use base64::Engine;
            if let Some(text) = default.as_str()
                && base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .is_err()
            {
                let at = self.value_at(&format!("{pointer}/default"));
                let message = format!(
                    "the default of {what} is not valid base64 \
                     (file parameters carry base64 content)"
                );
                self.push(Diagnostic::error(self.source, at, message));
                return;
            }
        }
        if let Some(error) = validator.iter_errors(&default).next() {
            let at = self.value_at(&format!("{pointer}/default"));
            self.error(
                at,
                format!("the default of {what} does not match its schema: {error}"),
                "change the default, or the schema keywords (type, enum, minimum, ...)",
            );
        }
    }

    fn apply_to(&mut self) {
        let m = self.manifest;
        let actions: BTreeSet<&str> = m.actions.iter().map(|a| a.name.as_str()).collect();
        let lists = m
            .parameters
            .iter()
            .map(|p| (&p.pointer, &p.apply_to))
            .chain(m.credentials.iter().map(|c| (&c.pointer, &c.apply_to)))
            .chain(m.outputs.iter().map(|o| (&o.pointer, &o.apply_to)));
        for (pointer, apply_to) in lists {
            for (i, action) in apply_to.iter().enumerate() {
                if !actions.contains(action.as_str()) {
                    let at = self.value_at(&format!("{pointer}/applyTo/{i}"));
                    let known: Vec<&str> = actions.iter().copied().collect();
                    let suggestion = super::parse::closest(action, &known)
                        .map(|a| format!(" (did you mean '{a}'?)"))
                        .unwrap_or_default();
                    let message = format!(
                        "applyTo names the action '{action}', \
                         which this bundle does not define{suggestion}"
                    );
                    self.error(
                        at,
                        message,
                        format!("defined actions: {}", known.join(", ")),
                    );
                }
            }
        }
    }

    fn custom_actions(&mut self) {
        let m = self.manifest;
        for name in m.custom_actions.keys() {
            if m.action(name).is_none() {
                let at = self.key_at(&format!("/customActions/{}", super::source::escape(name)));
                let message = format!(
                    "customActions describes '{name}', which is not an action of this bundle"
                );
                let hint =
                    format!("add the action's steps under `{name}:`, or remove its metadata");
                self.push(Diagnostic::warning(self.source, at, message).hint(hint));
            }
        }
    }

    fn dependencies(&mut self) {
        let v2 = self.options.experimental.is_on(Flag::DependenciesV2);
        for d in &self.manifest.dependencies {
            if let Some(interface) = &d.interface
                && interface.reference.is_some()
                && interface.document.is_some()
            {
                let at = self.key_at(&format!("{}/bundle/interface/document", d.pointer));
                let message = format!(
                    "bundle interface for dependency \"{}\" can specify only a reference or a document, not both",
                    d.name
                );
                self.error(
                    at,
                    message,
                    "keep `reference` (a bundle to match) or `document` (what it must define)",
                );
            }
            if is_repository_only(&d.reference) && d.version.is_none() {
                let at = self.value_at(&format!("{}/bundle/reference", d.pointer));
                let message = format!(
                    "reference for dependency \"{}\" can specify only a repository, without a digest or tag, \
                     when a version constraint is specified",
                    d.name
                );
                self.error(
                    at,
                    message,
                    "add a :tag to the reference, or a version range under bundle.version",
                );
            }
            if !v2 {
                self.v2_fields_unused(d);
            }
            let last = d.reference.rsplit('/').next().unwrap_or_default();
            if d.version.is_some() && (d.reference.contains('@') || last.contains(':')) {
                // Porter's own fixtures combine the two; Porter resolves the
                // tag and ignores the range, which surprises people.
                let at = self.value_at(&format!("{}/bundle/reference", d.pointer));
                let message = format!(
                    "dependency {} has both a tag in its reference and a version range; \
                     the range is not used",
                    d.name
                );
                let hint =
                    "drop the :tag from the reference to resolve the newest version in the range";
                self.push(Diagnostic::warning(self.source, at, message).hint(hint));
            }
        }
        if !v2 && self.manifest.provides.is_some() {
            let at = self.key_at("/dependencies/provides");
            let message = "provides is a dependencies v2 field, and dependencies-v2 is off: \
                           bundle.json does not record it";
            self.push(Diagnostic::warning(self.source, at, message).hint(TURN_V2_ON));
        }
    }

    /// With dependencies-v2 off Porter writes v1, where these fields have
    /// no place: they are dropped, which the author should hear about.
    fn v2_fields_unused(&mut self, d: &Dependency) {
        let mut fields = Vec::new();
        if d.sharing.is_some() {
            fields.push("sharing");
        }
        if d.interface.is_some() {
            fields.push("bundle/interface");
        }
        if !d.credentials.is_empty() {
            fields.push("credentials");
        }
        if !d.outputs.is_empty() {
            fields.push("outputs");
        }
        for field in fields {
            let at = self.key_at(&format!("{}/{field}", d.pointer));
            let shown = field.replace('/', ".");
            let message = format!(
                "dependency {}: {shown} is a dependencies v2 field, and dependencies-v2 is off: \
                 bundle.json records the dependency as v1, without it",
                d.name
            );
            self.push(Diagnostic::warning(self.source, at, message).hint(TURN_V2_ON));
        }
    }

    /// Porter's gate on `files:`: the `file-sources` flag and schemaVersion
    /// 1.3.0, at the `files:` line. Not at run time (`SchemaCheck::None`):
    /// the bundle was checked when it was built.
    fn files(&mut self) {
        if self.manifest.files.is_empty() || self.options.schema_check == SchemaCheck::None {
            return;
        }
        let at = self.key_at("/files");
        let flag = Flag::FileSources;
        if !self.options.experimental.is_on(flag) {
            let hint = format!(
                "turn the flag on: run with PORTER_EXPERIMENTAL={flag}, or add \"{flag}\" to \
                 `experimental` in PORTER_HOME's config file; the section also needs \
                 schemaVersion 1.3.0"
            );
            self.error(
                at,
                format!("the files section requires the {flag} experimental feature"),
                hint,
            );
            return;
        }
        let version = super::constraint::parse_lenient_version(&self.manifest.schema_version);
        if !version.is_ok_and(|v| v >= semver::Version::new(1, 3, 0)) {
            self.error(
                at,
                "the files section requires schemaVersion >= 1.3.0",
                "set `schemaVersion: 1.3.0`",
            );
        }
    }

    /// Every `${ ... }` must name something this bundle defines.
    fn templates(&mut self, templates: &[TemplateUse]) {
        let m = self.manifest;
        let dependencies_v2 = self.options.experimental.is_on(Flag::DependenciesV2);
        let parameters: BTreeSet<&str> = m.parameters.iter().map(|p| p.name.as_str()).collect();
        let credentials: BTreeSet<&str> = m.credentials.iter().map(|c| c.name.as_str()).collect();
        let mut outputs: BTreeSet<String> = m.outputs.iter().map(|o| o.name.clone()).collect();
        outputs.extend(step_output_names(m));
        let dependencies: BTreeSet<&str> = m.dependencies.iter().map(|d| d.name.as_str()).collect();
        for use_ in templates {
            if use_.pointer.starts_with("/custom/") || use_.pointer == "/custom" {
                continue; // copied verbatim into bundle.json, never rendered
            }
            if dependencies_v2 && use_.pointer.starts_with("/dependencies/") {
                continue; // porter-106..109 (`lint`) judge the mappings, as Porter does
            }
            let problem = check_variable(
                &use_.variable,
                &parameters,
                &credentials,
                &outputs,
                &dependencies,
                &m.images,
            );
            if let Some((message, hint)) = problem {
                let at = self.value_at(&use_.pointer);
                self.error(at, message, hint);
            }
        }
    }
}

/// Outputs that steps declare (`outputs: [{name: ...}]` in a step body):
/// `${ bundle.outputs.X }` may name them too.
fn step_output_names(m: &Manifest) -> Vec<String> {
    m.actions
        .iter()
        .flat_map(|a| &a.steps)
        .filter_map(|s| s.body.get("outputs").and_then(Value::as_array))
        .flatten()
        .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// `bundle.X` template variables.
const BUNDLE_FIELDS: &[&str] = &["name", "version", "description", "installerImage"];
/// `bundle.dependencies.D.X` template variables, besides `outputs.O`.
const DEPENDENCY_FIELDS: &[&str] = &["name", "version", "description"];
/// `bundle.images.I.X` template variables.
const IMAGE_FIELDS: &[&str] = &[
    "description",
    "imageType",
    "repository",
    "digest",
    "size",
    "mediaType",
    "labels",
    "tag",
];

/// `None` when the variable is defined; otherwise what is wrong and what to do.
fn check_variable(
    variable: &str,
    parameters: &BTreeSet<&str>,
    credentials: &BTreeSet<&str>,
    outputs: &BTreeSet<String>,
    dependencies: &BTreeSet<&str>,
    images: &BTreeMap<String, Image>,
) -> Option<(String, String)> {
    let parts: Vec<&str> = variable.split('.').collect();
    let undefined = |kind: &str, name: &str, known: Vec<&str>| {
        let suggestion = super::parse::closest(name, &known)
            .map(|k| format!(" (did you mean '{k}'?)"))
            .unwrap_or_default();
        Some((
            format!(
                "${{ {variable} }} names the {kind} '{name}', which is not defined{suggestion}"
            ),
            if known.is_empty() {
                format!("define it under `{kind}s:`")
            } else {
                format!("defined {kind}s: {}", known.join(", "))
            },
        ))
    };
    match parts.as_slice() {
        ["bundle", "parameters", name, ..] if !parameters.contains(name) => {
            undefined("parameter", name, parameters.iter().copied().collect())
        }
        ["bundle", "credentials", name, ..] if !credentials.contains(name) => {
            undefined("credential", name, credentials.iter().copied().collect())
        }
        ["bundle", "outputs", name, ..] if !outputs.contains(*name) => {
            undefined("output", name, outputs.iter().map(String::as_str).collect())
        }
        ["bundle", "dependencies", name, ..] if !dependencies.contains(name) => {
            undefined("dependency", name, dependencies.iter().copied().collect())
        }
        ["bundle", "dependencies", _, "outputs", _] => None,
        ["bundle", "dependencies", _, field] if DEPENDENCY_FIELDS.contains(field) => None,
        ["bundle", "dependencies", ..] => Some((
            format!("${{ {variable} }} is not a dependency variable"),
            "use bundle.dependencies.DEP.outputs.OUTPUT, or .name / .version / .description".into(),
        )),
        ["bundle", "images", name, ..] if !images.contains_key(*name) => {
            undefined("image", name, images.keys().map(String::as_str).collect())
        }
        ["bundle", "images", _] => None,
        ["bundle", "images", _, field] if IMAGE_FIELDS.contains(field) => None,
        ["bundle", "images", _, field, ..] => Some((
            format!("${{ {variable} }}: images have no field '{field}'"),
            "image fields: repository, digest, tag, imageType, mediaType, size, labels, \
             description"
                .into(),
        )),
        ["bundle", "parameters" | "credentials" | "outputs", _] => None,
        ["bundle", field] if BUNDLE_FIELDS.contains(field) => None,
        ["bundle", "custom", ..] => None,
        ["installation", "name" | "namespace" | "id"] => None,
        ["env", _] => None,
        _ => Some((
            format!("${{ {variable} }} is not a template variable Porter knows"),
            "use bundle.parameters.X, bundle.credentials.X, bundle.outputs.X, \
             bundle.dependencies.D.outputs.X, bundle.images.X, bundle.name/version/description, \
             bundle.custom.X, installation.name or env.X"
                .into(),
        )),
    }
}

/// Porter's `IsRepositoryOnly`: a reference with neither a tag nor a digest.
fn is_repository_only(reference: &str) -> bool {
    let last = reference.rsplit('/').next().unwrap_or_default();
    !reference.contains('@') && !last.contains(':')
}
