//! bundle.json `definitions`: one JSON Schema per parameter and output,
//! built as Porter's `addDefinition` and `generate*Definition` build them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::naming::{DefinitionKind, definition_name};
use super::sort_keys;

/// The definitions written so far, by name.
#[derive(Debug, Default)]
pub(super) struct Definitions(BTreeMap<String, Map<String, Value>>);

impl Definitions {
    /// Porter's rule: if a definition is already named exactly like the
    /// item, the item refers to it; otherwise the item's schema is added as
    /// `<name>-<kind>`. (This is how the `porter-state` output shares the
    /// `porter-state` parameter's definition.) Returns the name to refer to.
    pub fn add(&mut self, item: &str, kind: DefinitionKind, schema: Map<String, Value>) -> String {
        if self.0.contains_key(item) {
            return item.to_string();
        }
        let name = definition_name(item, kind);
        self.0.insert(name.clone(), schema);
        name
    }

    /// Sets a definition under an exact name, replacing any other.
    pub fn set(&mut self, name: &str, schema: Map<String, Value>) {
        self.0.insert(name.to_string(), schema);
    }

    pub fn get(&self, name: &str) -> Option<&Map<String, Value>> {
        self.0.get(name)
    }

    /// Keywords sorted, as cnab-go's (alphabetical) struct fields write them.
    pub fn into_json(self) -> Value {
        Value::Object(
            self.0
                .into_iter()
                .map(|(name, schema)| (name, Value::Object(sort_keys(schema))))
                .collect(),
        )
    }
}

/// The definition of a parameter or output: its JSON Schema keywords, plus
/// what Porter folds in: the description, `writeOnly` for sensitive values,
/// a default type (`file` when it has a path, else `string`), and `file` as
/// a base64 string.
pub(super) fn definition_schema(
    schema: &Map<String, Value>,
    description: &str,
    sensitive: bool,
    has_path: bool,
) -> Map<String, Value> {
    let mut schema = schema.clone();
    if !description.is_empty() {
        schema.insert("description".into(), description.into());
    }
    if sensitive {
        schema.insert("writeOnly".into(), true.into());
    }
    if schema.get("type").is_none_or(Value::is_null) {
        let default_type = if has_path { "file" } else { "string" };
        schema.insert("type".into(), default_type.into());
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), "string".into());
        schema.insert("contentEncoding".into(), "base64".into());
    }
    drop_what_go_omits(&mut schema);
    schema
}

/// Keywords cnab-go's `definition.Schema` holds as strings, slices or maps
/// with `omitempty`: Porter never writes them empty.
const OMITTED_WHEN_EMPTY: &[&str] = &[
    "$schema",
    "$comment",
    "$id",
    "$ref",
    "contentEncoding",
    "contentMediaType",
    "description",
    "format",
    "pattern",
    "title",
    "allOf",
    "anyOf",
    "oneOf",
    "enum",
    "examples",
    "required",
    "definitions",
    "dependencies",
    "patternProperties",
    "properties",
];

/// Porter's definitions go through cnab-go's typed `Schema`, whose
/// `omitempty` drops `null` values and empty strings, lists and maps. Doing
/// the same keeps our bytes equal to what cnab-go would re-serialize.
fn drop_what_go_omits(schema: &mut Map<String, Value>) {
    schema.retain(|key, value| {
        let omitted =
            value.is_null() || is_empty(value) && OMITTED_WHEN_EMPTY.contains(&key.as_str());
        !omitted
    });
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn cnab_file_type_becomes_base64_string() {
        let def = definition_schema(
            &map(json!({"type": "file", "default": ""})),
            "",
            false,
            true,
        );
        assert_eq!(
            Value::Object(def),
            json!({"type": "string", "contentEncoding": "base64", "default": ""})
        );
    }

    #[test]
    fn cnab_untyped_schemas_default_by_path() {
        let with_path = definition_schema(&Map::new(), "", false, true);
        assert_eq!(
            Value::Object(with_path),
            json!({"type": "string", "contentEncoding": "base64"})
        );
        let without = definition_schema(&Map::new(), "", false, false);
        assert_eq!(Value::Object(without), json!({"type": "string"}));
    }

    #[test]
    fn cnab_sensitive_is_write_only_and_description_is_kept() {
        let def = definition_schema(&map(json!({"type": "string"})), "secret", true, false);
        assert_eq!(
            Value::Object(def),
            json!({"type": "string", "writeOnly": true, "description": "secret"})
        );
    }

    #[test]
    fn cnab_empty_values_are_dropped_as_go_drops_them() {
        let def = definition_schema(
            &map(
                json!({"type": "string", "default": null, "enum": [], "title": "", "minLength": 0, "readOnly": false}),
            ),
            "",
            false,
            false,
        );
        assert_eq!(
            Value::Object(def),
            json!({"type": "string", "minLength": 0, "readOnly": false})
        );
    }

    #[test]
    fn cnab_an_existing_definition_of_the_same_name_is_shared() {
        let mut defs = Definitions::default();
        assert_eq!(
            defs.add("porter-state", DefinitionKind::State, Map::new()),
            "porter-state"
        );
        assert_eq!(
            defs.add(
                "porter-state",
                DefinitionKind::Output,
                map(json!({"type": "x"}))
            ),
            "porter-state"
        );
        assert_eq!(defs.get("porter-state"), Some(&Map::new()));
        assert_eq!(
            defs.add("msg", DefinitionKind::Output, Map::new()),
            "msg-output"
        );
    }
}
