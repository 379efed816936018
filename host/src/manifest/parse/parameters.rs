//! `parameters:`, `credentials:` and `outputs:`: Porter's keys, and for
//! parameters and outputs any JSON Schema keyword inline.

use serde_json::{Map, Value};

use super::ManifestParser;
use super::helpers::scalar_display;
use crate::manifest::model::{Credential, Output, Parameter, ParameterSource};
use crate::manifest::source::Diagnostic;

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
const JSON_TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "object", "array", "null", "file",
];

impl ManifestParser<'_> {
    pub(super) fn parameter(&mut self, at: &str, value: &Value) -> Option<Parameter> {
        let (map, name) =
            self.named_item(at, value, "parameter", PARAMETER_FIELDS, SCHEMA_KEYWORDS)?;
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

    pub(super) fn credential(&mut self, at: &str, value: &Value) -> Option<Credential> {
        let (map, name) = self.named_item(at, value, "credential", CREDENTIAL_FIELDS, &[])?;
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

    pub(super) fn output(&mut self, at: &str, value: &Value) -> Option<Output> {
        let (map, name) = self.named_item(at, value, "output", OUTPUT_FIELDS, SCHEMA_KEYWORDS)?;
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
    pub(super) fn schema_keywords(
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
}
