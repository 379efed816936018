//! porter.yaml text -> [`Manifest`], collecting every problem it can find
//! in one pass rather than stopping at the first. Shape errors (a field of
//! the wrong type, an unknown key, a malformed step) are found here; rules
//! that relate fields to each other are in `validate`.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::constraint::VersionConstraint;
use super::model::*;
use super::source::{Diagnostic, SourceFile, escape};

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
];

/// Keys Porter used to accept and now ignores with a warning.
const DEPRECATED_FIELDS: &[&str] = &["invocationImage", "tag"];

/// Keys of a parameter or output that are JSON Schema (draft-07) keywords.
const SCHEMA_KEYWORDS: &[&str] = &[
    "$id",
    "$comment",
    "$ref",
    "type",
    "default",
    "title",
    "enum",
    "const",
    "examples",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "required",
    "dependencies",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "contentEncoding",
    "contentMediaType",
    "readOnly",
    "writeOnly",
    "definitions",
];

const PARAMETER_FIELDS: &[&str] = &[
    "name",
    "description",
    "sensitive",
    "env",
    "path",
    "applyTo",
    "source",
    "persistent",
];
const CREDENTIAL_FIELDS: &[&str] = &["name", "description", "required", "env", "path", "applyTo"];
const OUTPUT_FIELDS: &[&str] = &["name", "description", "sensitive", "path", "applyTo"];
const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "bundle",
    "parameters",
    "credentials",
    "outputs",
    "sharing",
];
const JSON_TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "object", "array", "null", "file",
];

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
            self.error_at_value("", format!("porter.yaml must be a mapping of fields (name, version, mixins, install...), found {found}"));
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
                "schemaVersion" => manifest.schema_version = self.scalar_text(&at, value).unwrap_or_default(),
                "name" => manifest.name = self.string(&at, value).unwrap_or_default(),
                "version" => {
                    if let Some(text) = self.scalar_text(&at, value) {
                        match super::constraint::parse_lenient_version(&text) {
                            Ok(v) => manifest.version = v,
                            Err(e) => self.push(
                                Diagnostic::error(self.source, self.source.locations.value(&at), format!("version '{text}' is not a valid semver value: {e}"))
                                    .hint("use MAJOR.MINOR.PATCH, e.g. 0.1.0 (a leading v is accepted)"),
                            ),
                        }
                    }
                }
                "description" => manifest.description = self.string(&at, value).unwrap_or_default(),
                "registry" => manifest.registry = self.string(&at, value),
                "reference" => manifest.reference = self.string(&at, value),
                "dockerfile" => manifest.dockerfile = self.string(&at, value),
                "mixins" => {}
                "maintainers" => manifest.maintainers = self.typed_list(&at, value, "maintainer"),
                "customActions" => manifest.custom_actions = self.typed_map(&at, value, "custom action"),
                "custom" => manifest.custom = self.mapping(&at, value, "custom").unwrap_or_default(),
                "state" => manifest.state = self.typed_list(&at, value, "state variable"),
                "images" => manifest.images = self.typed_map(&at, value, "image"),
                "parameters" => manifest.parameters = self.list(&at, value, "parameters", |p, at, v| p.parameter(at, v)),
                "credentials" => manifest.credentials = self.list(&at, value, "credentials", |p, at, v| p.credential(at, v)),
                "outputs" => manifest.outputs = self.list(&at, value, "outputs", |p, at, v| p.output(at, v)),
                "dependencies" => self.dependencies(&at, value, &mut manifest),
                "required" => manifest.required = self.list(&at, value, "required", |p, at, v| p.required_extension(at, v)),
                // `upgrade:` with nothing under it is no action (as in Porter).
                "install" | "upgrade" | "uninstall" if value.is_null() => {}
                "install" | "upgrade" | "uninstall" => {
                    if let Some(action) = self.action(key, value, &declared) {
                        manifest.actions.push(action);
                    }
                }
                deprecated if DEPRECATED_FIELDS.contains(&deprecated) => self.push(
                    Diagnostic::warning(self.source, self.source.locations.key(&at), format!("'{key}' has been deprecated and can no longer be set; it is ignored"))
                        .hint("the invocation image is named from `registry`/`reference`, `name` and `version`"),
                ),
                _ => {
                    if let Some(action) = self.custom_action_or_unknown(key, value, &declared) {
                        manifest.actions.push(action);
                    }
                }
            }
        }
        Some((manifest, document))
    }

    fn read_yaml(&mut self) -> Option<Value> {
        if self.source.text.trim().is_empty() {
            self.push(Diagnostic::error(self.source, Default::default(), "porter.yaml is empty").hint("start from `porter create`'s template, or see https://porter.sh/reference/file-formats/"));
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

    // ---- mixins -------------------------------------------------------

    fn mixins(&mut self, value: &Value) -> Vec<MixinDeclaration> {
        let Some(items) = self.sequence("/mixins", value, "mixins") else {
            return Vec::new();
        };
        let mut declared: Vec<MixinDeclaration> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let at = format!("/mixins/{index}");
            let (written, config) = match item {
                Value::String(name) => (name.clone(), None),
                Value::Object(map) if map.len() == 1 => {
                    let (name, config) = map.iter().next().unwrap();
                    (name.clone(), Some(config.clone()).filter(|c| !c.is_null()))
                }
                Value::Object(map) if map.is_empty() => {
                    self.error_at_value(&at, "mixin declaration was empty");
                    continue;
                }
                Value::Object(map) => {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    self.push(
                        Diagnostic::error(self.source, self.source.locations.value(&at), format!("mixin declaration contained more than one mixin ({})", keys.join(", ")))
                            .hint("declare one mixin per list item; config goes under its name:\n  - az:\n      extensions: [iot]"),
                    );
                    continue;
                }
                Value::Null => {
                    self.error_at_value(&at, "mixin declaration was empty");
                    continue;
                }
                other => {
                    let found = describe(other);
                    self.error_at_value(&at, format!("a mixin is declared by name (`- exec`) or with config (`- helm3: {{...}}`), found {found}"));
                    continue;
                }
            };
            let (name, constraint) = match written.split('@').collect::<Vec<_>>()[..] {
                [name] => (name.to_string(), None),
                [name, constraint] => match VersionConstraint::parse(constraint) {
                    Ok(c) => (name.to_string(), Some(c)),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                self.source,
                                self.source.locations.value(&at),
                                format!("invalid mixin name/version '{written}': {e}"),
                            )
                            .hint("write name@constraint, e.g. exec@1.2 or helm3@>=3.1"),
                        );
                        continue;
                    }
                },
                _ => {
                    self.push(Diagnostic::error(
                        self.source,
                        self.source.locations.value(&at),
                        format!(
                            "invalid mixin name/version: expected name@version, got: {written}"
                        ),
                    ));
                    continue;
                }
            };
            if name.is_empty() {
                self.error_at_value(&at, "mixin declaration has no name");
                continue;
            }
            if let Some(first) = declared.iter().find(|m| m.name == name) {
                let first_line = self.source.locations.value(&first.pointer).line;
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source.locations.value(&at),
                        format!("mixin '{name}' is declared twice"),
                    )
                    .hint(format!(
                        "it is first declared on line {first_line}; keep one declaration"
                    )),
                );
                continue;
            }
            let config_pointer = match item {
                Value::Object(_) => format!("{at}/{}", escape(&written)),
                _ => at.clone(),
            };
            declared.push(MixinDeclaration {
                name,
                constraint,
                config,
                pointer: at,
                config_pointer,
            });
        }
        declared
    }

    // ---- actions and steps --------------------------------------------

    fn custom_action_or_unknown(
        &mut self,
        key: &str,
        value: &Value,
        declared: &BTreeSet<String>,
    ) -> Option<Action> {
        let at = format!("/{}", escape(key));
        let suggestion = closest(key, TOP_LEVEL_FIELDS);
        // A list with at least one step of a declared mixin is a custom
        // action (its other items get step errors), even when its name is
        // close to a field's.
        let looks_like_steps = match value {
            Value::Array(items) => items.iter().any(|item| is_step_of(item, declared)),
            _ => false,
        };
        if looks_like_steps || (value.is_array() && suggestion.is_none()) {
            return self.action(key, value, declared);
        }
        let diagnostic = Diagnostic::error(
            self.source,
            self.source.locations.key(&at),
            match suggestion {
                Some(field) => format!("unknown field '{key}' (did you mean '{field}'?)"),
                None => format!("unknown field '{key}'"),
            },
        );
        self.push(diagnostic.hint(
            "top-level fields are Porter's (name, version, parameters, ...); any other key must be a custom action: a list of mixin steps",
        ));
        None
    }

    fn action(&mut self, name: &str, value: &Value, declared: &BTreeSet<String>) -> Option<Action> {
        let at = format!("/{}", escape(name));
        let items = match value {
            Value::Array(items) => items.as_slice(),
            Value::Null => &[],
            other => {
                let found = describe(other);
                self.error_at_value(
                    &at,
                    format!("action '{name}' must be a list of steps, found {found}"),
                );
                return None;
            }
        };
        let mut steps = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(step) = self.step(name, &format!("{at}/{index}"), item, declared) {
                steps.push(step);
            }
        }
        Some(Action {
            name: name.to_string(),
            steps,
            pointer: at,
        })
    }

    fn step(
        &mut self,
        action: &str,
        at: &str,
        item: &Value,
        declared: &BTreeSet<String>,
    ) -> Option<Step> {
        let map = match item {
            Value::Object(map) if !map.is_empty() => map,
            Value::Null | Value::Object(_) => {
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source.locations.value(at),
                        format!("found an empty step in action '{action}'"),
                    )
                    .hint(
                        "remove the empty `-` line, or give it a mixin: `- exec: {command: ...}`",
                    ),
                );
                return None;
            }
            other => {
                let found = describe(other);
                self.error_at_value(at, format!("a step is a mapping of one mixin name to its settings (`- exec: {{...}}`), found {found}"));
                return None;
            }
        };
        if map.len() > 1 {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            self.push(
                Diagnostic::error(self.source, self.source.locations.value(at), format!("malformed step: it has {} keys ({}), a step has exactly one, the mixin's name", keys.len(), keys.join(", ")))
                    .hint("check the indentation: the step's fields go under the mixin's name"),
            );
            return None;
        }
        let (mixin, body) = map.iter().next().unwrap();
        let key_at = format!("{at}/{}", escape(mixin));
        let mut ok = true;
        if !declared.contains(mixin) {
            self.push(
                Diagnostic::error(
                    self.source,
                    self.source.locations.key(&key_at),
                    format!("mixin '{mixin}' is used by a step but not declared"),
                )
                .hint(format!("add it to the mixins list:\nmixins:\n  - {mixin}")),
            );
            ok = false;
        }
        let description = match body {
            Value::Object(fields) => match fields.get("description") {
                None => None,
                Some(Value::String(d)) => Some(d.clone()),
                Some(other) => {
                    let found = describe(other);
                    self.error_at_value(
                        &format!("{key_at}/description"),
                        format!("a step's description must be a string, found {found}"),
                    );
                    ok = false;
                    None
                }
            },
            other => {
                let found = describe(other);
                self.push(
                    Diagnostic::error(self.source, self.source.locations.value(&key_at), format!("the settings of a {mixin} step must be a mapping, found {found}"))
                        .hint(format!("write the step's fields under `{mixin}:`, e.g.\n- {mixin}:\n    description: ...")),
                );
                return None;
            }
        };
        ok.then(|| Step {
            mixin: mixin.clone(),
            description,
            body: body.clone(),
            pointer: at.to_string(),
        })
    }

    // ---- parameters, credentials, outputs -----------------------------

    fn parameter(&mut self, at: &str, value: &Value) -> Option<Parameter> {
        let map = self.item_mapping(at, value, "parameter")?;
        let name = self.required_name(at, map, "parameter")?;
        self.unknown_fields(
            at,
            map,
            PARAMETER_FIELDS,
            SCHEMA_KEYWORDS,
            &format!("parameter '{name}'"),
        );
        let field = |f: &str| format!("{at}/{f}");
        let source = match map.get("source") {
            None | Some(Value::Null) => None,
            Some(v) => self.typed::<ParameterSource>(&field("source"), v, "parameter source"),
        };
        let schema = self.schema_keywords(at, map, &format!("parameter '{name}'"));
        Some(Parameter {
            description: self
                .opt_string(&field("description"), map.get("description"))
                .unwrap_or_default(),
            sensitive: self
                .opt_bool(&field("sensitive"), map.get("sensitive"))
                .unwrap_or(false),
            env: self.opt_string(&field("env"), map.get("env")),
            path: self.opt_string(&field("path"), map.get("path")),
            apply_to: self.string_list(&field("applyTo"), map.get("applyTo")),
            persistent: self
                .opt_bool(&field("persistent"), map.get("persistent"))
                .unwrap_or(false),
            source,
            schema,
            name,
            pointer: at.to_string(),
        })
    }

    fn credential(&mut self, at: &str, value: &Value) -> Option<Credential> {
        let map = self.item_mapping(at, value, "credential")?;
        let name = self.required_name(at, map, "credential")?;
        self.unknown_fields(
            at,
            map,
            CREDENTIAL_FIELDS,
            &[],
            &format!("credential '{name}'"),
        );
        let field = |f: &str| format!("{at}/{f}");
        Some(Credential {
            description: self
                .opt_string(&field("description"), map.get("description"))
                .unwrap_or_default(),
            required: self
                .opt_bool(&field("required"), map.get("required"))
                .unwrap_or(true),
            env: self.opt_string(&field("env"), map.get("env")),
            path: self.opt_string(&field("path"), map.get("path")),
            apply_to: self.string_list(&field("applyTo"), map.get("applyTo")),
            name,
            pointer: at.to_string(),
        })
    }

    fn output(&mut self, at: &str, value: &Value) -> Option<Output> {
        let map = self.item_mapping(at, value, "output")?;
        let name = self.required_name(at, map, "output")?;
        self.unknown_fields(
            at,
            map,
            OUTPUT_FIELDS,
            SCHEMA_KEYWORDS,
            &format!("output '{name}'"),
        );
        let field = |f: &str| format!("{at}/{f}");
        let schema = self.schema_keywords(at, map, &format!("output '{name}'"));
        Some(Output {
            description: self
                .opt_string(&field("description"), map.get("description"))
                .unwrap_or_default(),
            sensitive: self
                .opt_bool(&field("sensitive"), map.get("sensitive"))
                .unwrap_or(false),
            path: self.opt_string(&field("path"), map.get("path")),
            apply_to: self.string_list(&field("applyTo"), map.get("applyTo")),
            schema,
            name,
            pointer: at.to_string(),
        })
    }

    /// The JSON Schema part of a parameter or output, with `type` checked.
    fn schema_keywords(
        &mut self,
        at: &str,
        map: &Map<String, Value>,
        what: &str,
    ) -> Map<String, Value> {
        let schema: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| SCHEMA_KEYWORDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(kind) = schema.get("type") {
            let valid = match kind {
                Value::String(t) => JSON_TYPES.contains(&t.as_str()),
                Value::Array(ts) => ts
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| JSON_TYPES.contains(&t))),
                _ => false,
            };
            if !valid {
                let shown = scalar_display(kind);
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source.locations.value(&format!("{at}/type")),
                        format!("{what} has type '{shown}', which is not a type"),
                    )
                    .hint(format!("use one of: {}", JSON_TYPES.join(", "))),
                );
            }
        }
        schema
    }

    // ---- dependencies and extensions ----------------------------------

    fn dependencies(&mut self, at: &str, value: &Value, manifest: &mut Manifest) {
        let Some(map) = self.mapping(at, value, "dependencies") else {
            return;
        };
        for (key, v) in &map {
            let key_at = format!("{at}/{}", escape(key));
            match key.as_str() {
                "requires" => {
                    manifest.dependencies =
                        self.list(&key_at, v, "dependencies.requires", |p, at, v| {
                            p.dependency(at, v)
                        })
                }
                "provides" => manifest.provides = Some(v.clone()),
                other => {
                    let hint = closest(other, &["requires", "provides"])
                        .map(|f| format!(" (did you mean '{f}'?)"))
                        .unwrap_or_default();
                    self.push(
                        Diagnostic::error(
                            self.source,
                            self.source.locations.key(&key_at),
                            format!("unknown field '{other}' in dependencies{hint}"),
                        )
                        .hint("dependencies has `requires` (a list) and `provides`"),
                    );
                }
            }
        }
    }

    fn dependency(&mut self, at: &str, value: &Value) -> Option<Dependency> {
        let map = self.item_mapping(at, value, "dependency")?;
        let name = self.required_name(at, map, "dependency")?;
        self.unknown_fields(
            at,
            map,
            DEPENDENCY_FIELDS,
            &[],
            &format!("dependency '{name}'"),
        );
        let bundle_at = format!("{at}/bundle");
        let mut bundle = match map.get("bundle") {
            Some(v) => self.mapping(&bundle_at, v, "bundle")?,
            None => {
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source.locations.value(at),
                        format!("reference is required for dependency '{name}'"),
                    )
                    .hint("add `bundle: {reference: REGISTRY/NAME:TAG}`"),
                );
                return None;
            }
        };
        let reference = match bundle.remove("reference") {
            Some(Value::String(r)) if !r.is_empty() => r,
            _ => {
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source.locations.value(&bundle_at),
                        format!("reference is required for dependency '{name}'"),
                    )
                    .hint("add `reference: REGISTRY/NAME:TAG` under bundle"),
                );
                return None;
            }
        };
        let version = match bundle.remove("version") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let text = scalar_display(&v);
                match VersionConstraint::parse(&text) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        self.error_at_value(
                            &format!("{bundle_at}/version"),
                            format!("dependency '{name}': {e}"),
                        );
                        None
                    }
                }
            }
        };
        let field = |f: &str| format!("{at}/{f}");
        Some(Dependency {
            parameters: self.string_map(&field("parameters"), map.get("parameters")),
            credentials: self.string_map(&field("credentials"), map.get("credentials")),
            outputs: self.string_map(&field("outputs"), map.get("outputs")),
            sharing: map.get("sharing").cloned(),
            bundle_extra: bundle,
            reference,
            version,
            name,
            pointer: at.to_string(),
        })
    }

    fn required_extension(&mut self, at: &str, value: &Value) -> Option<RequiredExtension> {
        match value {
            Value::String(name) => Some(RequiredExtension {
                name: name.clone(),
                config: None,
            }),
            Value::Object(map) if map.len() == 1 => {
                let (name, config) = map.iter().next().unwrap();
                Some(RequiredExtension {
                    name: name.clone(),
                    config: Some(config.clone()),
                })
            }
            other => {
                let found = describe(other);
                self.error_at_value(at, format!("a required extension is a name (`- docker`) or a name with config (`- docker: {{privileged: true}}`), found {found}"));
                None
            }
        }
    }

    // ---- shared helpers -----------------------------------------------

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn error_at_value(&mut self, at: &str, message: impl Into<String>) {
        self.push(Diagnostic::error(
            self.source,
            self.source.locations.value(at),
            message,
        ));
    }

    fn string(&mut self, at: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                let found = describe(other);
                let field = at.rsplit('/').next().unwrap_or(at);
                self.error_at_value(at, format!("'{field}' must be a string, found {found}"));
                None
            }
        }
    }

    /// A version-like scalar: YAML reads `1.0` as a number, which is still
    /// what the author meant to write.
    fn scalar_text(&mut self, at: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Null => None,
            other => {
                let found = describe(other);
                let field = at.rsplit('/').next().unwrap_or(at);
                self.error_at_value(at, format!("'{field}' must be a string, found {found}"));
                None
            }
        }
    }

    fn opt_string(&mut self, at: &str, value: Option<&Value>) -> Option<String> {
        value.and_then(|v| self.string(at, v))
    }

    fn opt_bool(&mut self, at: &str, value: Option<&Value>) -> Option<bool> {
        match value? {
            Value::Bool(b) => Some(*b),
            Value::Null => None,
            other => {
                let found = describe(other);
                let field = at.rsplit('/').next().unwrap_or(at);
                self.error_at_value(
                    at,
                    format!("'{field}' must be true or false, found {found}"),
                );
                None
            }
        }
    }

    fn string_list(&mut self, at: &str, value: Option<&Value>) -> Vec<String> {
        match value {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.string(&format!("{at}/{i}"), item) {
                        out.push(s);
                    }
                }
                out
            }
            Some(other) => {
                let found = describe(other);
                let field = at.rsplit('/').next().unwrap_or(at);
                self.error_at_value(
                    at,
                    format!("'{field}' must be a list of strings, found {found}"),
                );
                Vec::new()
            }
        }
    }

    fn string_map(&mut self, at: &str, value: Option<&Value>) -> BTreeMap<String, String> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return BTreeMap::new();
        };
        let field = at.rsplit('/').next().unwrap_or(at).to_string();
        let Some(map) = self.mapping(at, value, &field) else {
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let v_at = format!("{at}/{}", escape(&k));
            match v {
                Value::String(s) => {
                    out.insert(k, s);
                }
                Value::Number(_) | Value::Bool(_) => {
                    out.insert(k, scalar_display(&v));
                }
                other => {
                    let found = describe(&other);
                    self.error_at_value(&v_at, format!("'{k}' must be a string, found {found}"));
                }
            }
        }
        out
    }

    fn mapping(&mut self, at: &str, value: &Value, what: &str) -> Option<Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map.clone()),
            Value::Null => Some(Map::new()),
            other => {
                let found = describe(other);
                self.error_at_value(at, format!("'{what}' must be a mapping, found {found}"));
                None
            }
        }
    }

    fn item_mapping<'v>(
        &mut self,
        at: &str,
        value: &'v Value,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            other => {
                let found = describe(other);
                self.error_at_value(
                    at,
                    format!("a {what} must be a mapping with at least a name, found {found}"),
                );
                None
            }
        }
    }

    fn sequence<'v>(&mut self, at: &str, value: &'v Value, what: &str) -> Option<&'v [Value]> {
        match value {
            Value::Array(items) => Some(items),
            Value::Null => Some(&[]),
            other => {
                let found = describe(other);
                self.error_at_value(at, format!("'{what}' must be a list, found {found}"));
                None
            }
        }
    }

    fn list<T>(
        &mut self,
        at: &str,
        value: &Value,
        what: &str,
        mut item: impl FnMut(&mut Self, &str, &Value) -> Option<T>,
    ) -> Vec<T> {
        let Some(items) = self.sequence(at, value, what) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| item(self, &format!("{at}/{i}"), v))
            .collect()
    }

    fn required_name(&mut self, at: &str, map: &Map<String, Value>, what: &str) -> Option<String> {
        match map.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => Some(name.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source.locations.value(at),
                        format!("{what} name is required"),
                    )
                    .hint(format!("add `name: ...` to this {what}")),
                );
                None
            }
            Some(other) => {
                let found = describe(other);
                self.error_at_value(
                    &format!("{at}/name"),
                    format!("{what} name must be a string, found {found}"),
                );
                None
            }
        }
    }

    fn unknown_fields(
        &mut self,
        at: &str,
        map: &Map<String, Value>,
        fields: &[&str],
        keywords: &[&str],
        what: &str,
    ) {
        for key in map.keys() {
            if fields.contains(&key.as_str()) || keywords.contains(&key.as_str()) {
                continue;
            }
            let known: Vec<&str> = fields.iter().chain(keywords).copied().collect();
            let suggestion = closest(key, &known)
                .map(|f| format!(" (did you mean '{f}'?)"))
                .unwrap_or_default();
            self.push(
                Diagnostic::error(
                    self.source,
                    self.source.locations.key(&format!("{at}/{}", escape(key))),
                    format!("unknown field '{key}' in {what}{suggestion}"),
                )
                .hint(
                    format!("{what} accepts: {}", fields.join(", "))
                        + if keywords.is_empty() {
                            ""
                        } else {
                            ", and JSON Schema keywords (type, default, enum, ...)"
                        },
                ),
            );
        }
    }

    /// A small struct read with serde; its errors point at the field.
    fn typed<T: DeserializeOwned>(&mut self, at: &str, value: &Value, what: &str) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(error) => {
                let mut pointer = at.to_string();
                for segment in error.path().iter() {
                    use serde_path_to_error::Segment;
                    match segment {
                        Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                        Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
                        _ => {}
                    }
                }
                let message = error.into_inner().to_string();
                let position = if message.starts_with("unknown field") {
                    // serde reports the unknown key's path one level up.
                    let key = message.split('`').nth(1).unwrap_or_default();
                    self.source
                        .locations
                        .key(&format!("{pointer}/{}", escape(key)))
                } else {
                    self.source.locations.value(&pointer)
                };
                self.push(Diagnostic::error(
                    self.source,
                    position,
                    format!("invalid {what}: {message}"),
                ));
                None
            }
        }
    }

    fn typed_list<T: DeserializeOwned>(&mut self, at: &str, value: &Value, what: &str) -> Vec<T> {
        self.list(at, value, what, |p, at, v| p.typed(at, v, what))
    }

    fn typed_map<T: DeserializeOwned>(
        &mut self,
        at: &str,
        value: &Value,
        what: &str,
    ) -> BTreeMap<String, T> {
        let Some(map) = self.mapping(at, value, what) else {
            return BTreeMap::new();
        };
        map.iter()
            .filter_map(|(k, v)| {
                self.typed(&format!("{at}/{}", escape(k)), v, &format!("{what} '{k}'"))
                    .map(|t| (k.clone(), t))
            })
            .collect()
    }
}

/// Whether a list item is a well-formed step of a declared mixin.
fn is_step_of(item: &Value, declared: &BTreeSet<String>) -> bool {
    matches!(item, Value::Object(map) if map.len() == 1 && declared.contains(map.keys().next().unwrap()))
}

/// The known name closest to a misspelling, if it is close enough to be a
/// plausible typo.
pub fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&word.to_lowercase(), &k.to_lowercase()),
                *k,
            )
        })
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// "a string", "a list", ... for messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ('{}')", truncate(s, 40)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn scalar_display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}
