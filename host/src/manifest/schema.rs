//! The porter.yaml JSON Schema, with every installed mixin's schema merged
//! in the way Porter's `porter schema` does it (`pkg/porter/schema.go`), so
//! editors complete and check steps; and the check of one step body against
//! its mixin's schema, which Porter never does.

use serde_json::{Value, json};

use super::source::{Diagnostic, SourceFile};

/// Porter's manifest schema (host/schema/SOURCE.md).
pub const BASE_SCHEMA: &str = include_str!("../../schema/manifest.schema.json");

/// The base schema with each mixin's schema (`(name, schema)`, in the order
/// given) embedded under `mixin.<name>` and referenced from `mixins`, the
/// three built-in actions and custom actions.
pub fn merged(mixins: &[(String, Value)]) -> Value {
    let mut schema: Value =
        serde_json::from_str(BASE_SCHEMA).expect("the embedded manifest schema is JSON");
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

/// A mixin's published schema, ready to check its steps and config. Each
/// definition is compiled once, however many steps use it.
pub struct MixinSchema {
    definitions: Value,
    validators: std::cell::RefCell<
        std::collections::HashMap<String, Result<std::rc::Rc<jsonschema::Validator>, String>>,
    >,
}

impl MixinSchema {
    pub fn new(schema: &Value) -> Self {
        MixinSchema {
            definitions: schema.get("definitions").cloned().unwrap_or_default(),
            validators: Default::default(),
        }
    }

    /// Checks a step (`{mixin: body}`) of `action` against the mixin's
    /// `installStep`, ..., or `invokeStep` (custom actions), placing each
    /// problem at its field in porter.yaml. A schema without the definition
    /// checks nothing.
    pub fn check_step(
        &self,
        source: &SourceFile,
        action: &str,
        step_pointer: &str,
        step: &Value,
    ) -> Vec<Diagnostic> {
        let definition = match action {
            "install" | "upgrade" | "uninstall" => format!("{action}Step"),
            _ => "invokeStep".to_string(),
        };
        self.check(
            source,
            &definition,
            step_pointer,
            step,
            &format!("step in {action}"),
        )
    }

    /// Checks a mixin's declaration (`{mixin: config}`) against its `config`
    /// definition, when it has one.
    pub fn check_config(
        &self,
        source: &SourceFile,
        declaration_pointer: &str,
        declaration: &Value,
    ) -> Vec<Diagnostic> {
        self.check(
            source,
            "config",
            declaration_pointer,
            declaration,
            "mixin config",
        )
    }

    fn check(
        &self,
        source: &SourceFile,
        definition: &str,
        pointer: &str,
        instance: &Value,
        what: &str,
    ) -> Vec<Diagnostic> {
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
        let validator = match validator {
            Ok(v) => v,
            Err(e) => {
                return vec![Diagnostic::warning(
                    source,
                    source.locations.value(pointer),
                    format!("the mixin's schema cannot be used to check this {what}: {e}"),
                )];
            }
        };
        validator
            .iter_errors(instance)
            .map(|error| {
                let at = format!("{pointer}{}", error.instance_path());
                let field = error.instance_path().to_string();
                let field = if field.is_empty() {
                    String::new()
                } else {
                    format!(" at {field}")
                };
                Diagnostic::error(
                    source,
                    source.locations.value(&at),
                    format!("invalid {what}{field}: {error}"),
                )
                .hint("the mixin's schema (porter schema) lists the fields it accepts")
            })
            .collect()
    }
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
