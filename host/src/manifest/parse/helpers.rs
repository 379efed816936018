//! What every part of the parser uses: reading a value as the type a field
//! wants (reporting what was found instead), and words for messages.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ManifestParser;
use crate::manifest::source::{Diagnostic, escape};

impl ManifestParser<'_> {
    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(super) fn error_at_value(&mut self, at: &str, message: impl Into<String>) {
        self.push(Diagnostic::error(
            self.source,
            self.source.locations.value(at),
            message,
        ));
    }

    pub(super) fn string(&mut self, at: &str, value: &Value) -> Option<String> {
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
    pub(super) fn scalar_text(&mut self, at: &str, value: &Value) -> Option<String> {
        match value {
            Value::Number(n) => Some(n.to_string()),
            other => self.string(at, other),
        }
    }

    pub(super) fn opt_string(&mut self, at: &str, value: Option<&Value>) -> Option<String> {
        value.and_then(|v| self.string(at, v))
    }

    pub(super) fn opt_bool(&mut self, at: &str, value: Option<&Value>) -> Option<bool> {
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

    pub(super) fn string_list(&mut self, at: &str, value: Option<&Value>) -> Vec<String> {
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

    pub(super) fn string_map(
        &mut self,
        at: &str,
        value: Option<&Value>,
    ) -> BTreeMap<String, String> {
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

    pub(super) fn mapping(
        &mut self,
        at: &str,
        value: &Value,
        what: &str,
    ) -> Option<Map<String, Value>> {
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

    pub(super) fn item_mapping<'v>(
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

    pub(super) fn sequence<'v>(
        &mut self,
        at: &str,
        value: &'v Value,
        what: &str,
    ) -> Option<&'v [Value]> {
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

    pub(super) fn list<T>(
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

    pub(super) fn required_name(
        &mut self,
        at: &str,
        map: &Map<String, Value>,
        what: &str,
    ) -> Option<String> {
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

    /// A list item that must be a mapping with a name: the mapping and the
    /// name. Fields outside `fields` and `keywords` are reported, not fatal.
    pub(super) fn named_item<'v>(
        &mut self,
        at: &str,
        value: &'v Value,
        what: &str,
        fields: &[&str],
        keywords: &[&str],
    ) -> Option<(&'v Map<String, Value>, String)> {
        let map = self.item_mapping(at, value, what)?;
        let name = self.required_name(at, map, what)?;
        self.unknown_fields(at, map, fields, keywords, &format!("{what} '{name}'"));
        Some((map, name))
    }

    pub(super) fn unknown_fields(
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
    pub(super) fn typed<T: DeserializeOwned>(
        &mut self,
        at: &str,
        value: &Value,
        what: &str,
    ) -> Option<T> {
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

    pub(super) fn typed_list<T: DeserializeOwned>(
        &mut self,
        at: &str,
        value: &Value,
        what: &str,
    ) -> Vec<T> {
        self.list(at, value, what, |p, at, v| p.typed(at, v, what))
    }

    pub(super) fn typed_map<T: DeserializeOwned>(
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

pub fn scalar_display(value: &Value) -> String {
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

pub fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}
