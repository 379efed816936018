//! The porter.yaml JSON Schema, with every installed mixin's schema merged
//! in the way Porter's `porter schema` does it (`pkg/porter/schema.go`), so
//! editors complete and check steps; and the check of one step body against
//! its mixin's schema, which Porter never does.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::ActionSteps;

/// Porter's manifest schema (host/schema/SOURCE.md).
pub const BASE_SCHEMA: &str = include_str!("../../schema/manifest.schema.json");
/// Porter's schema with dependencies v2's fields, used with that flag on.
pub const DEPENDENCIES_V2_SCHEMA: &str = include_str!("../../schema/manifest.v1.1.0.schema.json");

/// [`merged_with`] Porter's base schema.
pub fn merged(mixins: &[(String, Value)]) -> Value {
    merged_with(false, mixins)
}

/// The base schema (Porter's dependencies v2 one with `dependencies_v2`)
/// with each mixin's schema (`(name, schema)`, in the order given)
/// embedded under `mixin.<name>` and referenced from `mixins`, the three
/// built-in actions and custom actions.
pub fn merged_with(dependencies_v2: bool, mixins: &[(String, Value)]) -> Value {
    let base = if dependencies_v2 {
        DEPENDENCIES_V2_SCHEMA
    } else {
        BASE_SCHEMA
    };
    let mut schema: Value =
        serde_json::from_str(base).expect("the embedded manifest schema is JSON");
    add_fields_porter_lacks(&mut schema);
    if dependencies_v2 {
        // Porter's code reads `mode` as a boolean (its own example writes
        // `mode: true`); its schema only documents the strings.
        let mode = &mut schema["definitions"]["sharingCriteria"]["properties"]["mode"];
        mode["type"] = json!(["boolean", "string"]);
        if let Some(strings) = mode["enum"].as_array_mut() {
            strings.extend([json!(true), json!(false)]);
        }
        schema["definitions"]["sharingCriteria"]["required"] = json!([]);
        // Porter's v1.1.0 schema predates persistent parameters.
        let base: Value =
            serde_json::from_str(BASE_SCHEMA).expect("the embedded manifest schema is JSON");
        let persistent =
            base["definitions"]["parameter"]["allOf"][1]["properties"]["persistent"].clone();
        let parameter = &mut schema["definitions"]["parameter"]["allOf"][1]["properties"];
        if parameter.get("persistent").is_none() {
            parameter["persistent"] = persistent;
        }
        // An interface document lists its parameters, credentials and
        // outputs as porter.yaml does; Porter's schema has one of each.
        let document = &mut schema["definitions"]["bundle"]["properties"]["interface"]["properties"]
            ["document"]["properties"];
        for (field, definition) in [
            ("parameters", "parameter"),
            ("credentials", "credential"),
            ("outputs", "output"),
        ] {
            document[field] = json!({
                "type": "array",
                "items": { "$ref": format!("#/definitions/{definition}") },
            });
        }
    }
    for (name, mixin_schema) in mixins {
        let mut embedded = mixin_schema.clone();
        rewrite_refs(&mut embedded, &format!("#/mixin.{name}/"));
        let prefix = format!("#/mixin.{name}/definitions");
        let definitions = embedded.get("definitions").cloned().unwrap_or_default();

        let mixins_items = &mut schema["properties"]["mixins"]["items"]["oneOf"];
        if let Some(names) = mixins_items[0]["enum"].as_array_mut() {
            names.push(Value::String(name.clone()));
        }
        if definitions.get("config").is_some() {
            push(mixins_items, json!({ "$ref": format!("{prefix}/config") }));
        }
        for action in ["install", "upgrade", "uninstall"] {
            if definitions.get(format!("{action}Step")).is_some() {
                push(
                    &mut schema["properties"][action]["items"]["anyOf"],
                    json!({ "$ref": format!("{prefix}/{action}Step") }),
                );
            }
        }
        if definitions.get("invokeStep").is_some() {
            let custom = &mut schema["additionalProperties"];
            if !custom.is_object() {
                *custom = json!({ "type": "array", "items": { "anyOf": [] } });
            }
            push(
                &mut custom["items"]["anyOf"],
                json!({ "$ref": format!("{prefix}/invokeStep") }),
            );
        }
        schema[format!("mixin.{name}")] = embedded;
    }
    schema
}

/// Top-level fields Porter accepts (behind an experimental flag) that its
/// schema does not describe; the conformance test removes exactly these.
pub const FIELDS_PORTER_LACKS: &[&str] = &["files"];

fn add_fields_porter_lacks(schema: &mut Value) {
    schema["properties"]["files"] = json!({
        "description": "Files downloaded into the bundle at build time (schemaVersion 1.3.0 with \
                        the file-sources experimental flag; porter build --allow-file-downloads)",
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "url": {
                    "description": "Where the file is downloaded from",
                    "type": "string",
                    "pattern": "^https?://"
                },
                "destination": {
                    "description": "Its path relative to the bundle directory (/cnab/app in the \
                                    image), with forward slashes and no ..",
                    "type": "string"
                },
                "digest": {
                    "description": "The file's expected digest, verified after the download \
                                    (porter's addition: Porter has none)",
                    "type": "string",
                    "pattern": "^sha256:[0-9a-fA-F]{64}$"
                }
            },
            "required": ["url", "destination"],
            "additionalProperties": false
        }
    });
}

fn push(list: &mut Value, item: Value) {
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    list.as_array_mut().expect("made an array above").push(item);
}

/// Points the mixin's local `#/...` references at its embedded copy.
fn rewrite_refs(value: &mut Value, prefix: &str) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "$ref"
                    && let Some(reference) = item.as_str()
                    && let Some(rest) = reference.strip_prefix("#/")
                {
                    *item = Value::String(format!("{prefix}{rest}"));
                } else {
                    rewrite_refs(item, prefix);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, prefix)),
        _ => {}
    }
}

/// Where in a mixin's input a schema problem is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SchemaPlace {
    /// The mixin's `config` block.
    Config,
    /// The mixin's `number`th (1-based) step in `action`.
    Step { action: String, number: u32 },
}

/// One way a mixin's config or step does not fit the mixin's schema, placed
/// relative to the mixin's input (not porter.yaml), so it stays true when
/// other mixins' steps move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaProblem {
    pub place: SchemaPlace,
    /// JSON pointer inside `{<mixin>: <body>}`; empty for the whole.
    pub at: String,
    pub message: String,
    /// The schema itself cannot be used (a warning: nothing was checked).
    pub unusable_schema: bool,
    /// A field the schema does not list (a warning: Porter's mixins ignore
    /// such fields, and bundles Porter builds use them, e.g. `sensitive`
    /// on an exec output). `at` points at the field itself.
    #[serde(default)]
    pub unknown_field: bool,
}

/// Checks a mixin's config (unless `Null`) and each of its steps, per
/// action, against the schema the mixin published: a pure function of its
/// arguments, which lets lint remember its result.
pub fn mixin_input_problems(
    schema: &Value,
    mixin: &str,
    config: &Value,
    actions: &[ActionSteps],
) -> Vec<SchemaProblem> {
    let checker = MixinSchema::new(schema);
    let mut problems = Vec::new();
    if !config.is_null() {
        problems.extend(checker.check_config(&json!({ mixin: config })));
    }
    for action in actions {
        for (index, body) in action.steps.iter().enumerate() {
            let number = index as u32 + 1;
            problems.extend(checker.check_step(&action.action, number, &json!({ mixin: body })));
        }
    }
    problems
}

/// A mixin's published schema, ready to check its steps and config. Each
/// definition is compiled once, however many steps use it.
struct MixinSchema {
    definitions: Value,
    validators: std::cell::RefCell<
        std::collections::HashMap<String, Result<std::rc::Rc<jsonschema::Validator>, String>>,
    >,
}

impl MixinSchema {
    fn new(schema: &Value) -> Self {
        MixinSchema {
            definitions: schema.get("definitions").cloned().unwrap_or_default(),
            validators: Default::default(),
        }
    }

    /// Checks the `number`th step (`{mixin: body}`) of `action` against the
    /// mixin's `installStep`, ..., or `invokeStep` (custom actions). A schema
    /// without the definition checks nothing.
    fn check_step(&self, action: &str, number: u32, step: &Value) -> Vec<SchemaProblem> {
        let definition = match action {
            "install" | "upgrade" | "uninstall" => format!("{action}Step"),
            _ => "invokeStep".to_string(),
        };
        let place = SchemaPlace::Step {
            action: action.to_string(),
            number,
        };
        self.check(&definition, step, &format!("step in {action}"), place)
    }

    /// Checks a mixin's declaration (`{mixin: config}`) against its `config`
    /// definition, when it has one.
    fn check_config(&self, declaration: &Value) -> Vec<SchemaProblem> {
        self.check("config", declaration, "mixin config", SchemaPlace::Config)
    }

    fn check(
        &self,
        definition: &str,
        instance: &Value,
        what: &str,
        place: SchemaPlace,
    ) -> Vec<SchemaProblem> {
        if self.definitions.get(definition).is_none() {
            return Vec::new();
        }
        let validator = self
            .validators
            .borrow_mut()
            .entry(definition.to_string())
            .or_insert_with(|| {
                let schema = json!({ "$ref": format!("#/definitions/{definition}"), "definitions": self.definitions });
                jsonschema::draft7::new(&schema).map(std::rc::Rc::new).map_err(|e| e.to_string())
            })
            .clone();
        let problem = |at: String, message: String, unusable_schema| SchemaProblem {
            place: place.clone(),
            at,
            message,
            unusable_schema,
            unknown_field: false,
        };
        let validator = match validator {
            Ok(v) => v,
            Err(e) => {
                return vec![problem(
                    String::new(),
                    format!("the mixin's schema cannot be used to check this {what}: {e}"),
                    true,
                )];
            }
        };
        let mut problems = Vec::new();
        for error in validator.iter_errors(instance) {
            let at = error.instance_path().to_string();
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                error.kind()
            {
                let known = self.known_fields(definition, instance, &at);
                for field in unexpected {
                    let closest = closest(field, &known)
                        .map(|c| format!("; the closest field it knows is `{c}`"))
                        .unwrap_or_default();
                    problems.push(SchemaProblem {
                        place: place.clone(),
                        at: format!("{at}/{}", super::source::escape(field)),
                        message: format!(
                            "unknown field `{field}` in this {what}: the mixin's schema does not \
                             list it, and it is ignored{closest}"
                        ),
                        unusable_schema: false,
                        unknown_field: true,
                    });
                }
                continue;
            }
            problems.push({
                let field = if at.is_empty() {
                    String::new()
                } else {
                    format!(" at {at}")
                };
                problem(at, format!("invalid {what}{field}: {error}"), false)
            });
        }
        problems
    }

    /// The fields the schema lists for the object at `at` (an instance
    /// pointer) when checked against `definition`: its `properties`,
    /// following local `$ref`s, `properties` and `items` down the path.
    fn known_fields(&self, definition: &str, instance: &Value, at: &str) -> Vec<String> {
        let mut schema = self.resolve(self.definitions.get(definition));
        let mut value = instance;
        for segment in at.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            let Some(current) = schema else {
                return Vec::new();
            };
            (schema, value) = match value {
                Value::Array(items) => (
                    self.resolve(current.get("items")),
                    segment
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i))
                        .unwrap_or(&Value::Null),
                ),
                _ => (
                    self.resolve(current.get("properties").and_then(|p| p.get(&segment))),
                    value.get(&segment).unwrap_or(&Value::Null),
                ),
            };
        }
        schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Follows `#/definitions/x` references.
    fn resolve<'a>(&'a self, mut schema: Option<&'a Value>) -> Option<&'a Value> {
        for _ in 0..16 {
            let reference = schema?.get("$ref").and_then(Value::as_str);
            match reference.and_then(|r| r.strip_prefix("#/definitions/")) {
                Some(name) => schema = self.definitions.get(name),
                None => return schema,
            }
        }
        schema
    }
}

/// The known field most like `field`.
fn closest<'a>(field: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(field, k), k.as_str()))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_point_at_the_embedded_copy() {
        let mut v = json!({"a": {"$ref": "#/definitions/x"}, "b": [{"$ref": "#/definitions/y"}], "c": {"$ref": "https://x/y.json"}});
        rewrite_refs(&mut v, "#/mixin.m/");
        assert_eq!(
            v,
            json!({"a": {"$ref": "#/mixin.m/definitions/x"}, "b": [{"$ref": "#/mixin.m/definitions/y"}], "c": {"$ref": "https://x/y.json"}})
        );
    }
}
