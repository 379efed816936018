//! install, upgrade, uninstall and custom actions: lists of steps, each
//! one mixin's name and its settings; and top-level keys that are neither
//! a field nor an action.

use std::collections::BTreeSet;

use serde_json::Value;

use super::helpers::{closest, describe};
use super::{ManifestParser, TOP_LEVEL_FIELDS};
use crate::manifest::model::{Action, Step};
use crate::manifest::source::{Diagnostic, escape};

impl ManifestParser<'_> {
    pub(super) fn custom_action_or_unknown(
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
            "top-level fields are Porter's (name, version, parameters, ...); \
             any other key must be a custom action: a list of mixin steps",
        ));
        None
    }

    pub(super) fn action(
        &mut self,
        name: &str,
        value: &Value,
        declared: &BTreeSet<String>,
    ) -> Option<Action> {
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

    pub(super) fn step(
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
                let message = format!(
                    "a step is a mapping of one mixin name to its settings (`- exec: {{...}}`), \
                     found {found}"
                );
                self.error_at_value(at, message);
                return None;
            }
        };
        if map.len() > 1 {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            let message = format!(
                "malformed step: it has {} keys ({}), a step has exactly one, the mixin's name",
                keys.len(),
                keys.join(", ")
            );
            let hint = "check the indentation: the step's fields go under the mixin's name";
            let at = self.source.locations.value(at);
            self.push(Diagnostic::error(self.source, at, message).hint(hint));
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
                let message =
                    format!("the settings of a {mixin} step must be a mapping, found {found}");
                let hint = format!(
                    "write the step's fields under `{mixin}:`, e.g.\n\
                     - {mixin}:\n    description: ..."
                );
                let at = self.source.locations.value(&key_at);
                self.push(Diagnostic::error(self.source, at, message).hint(hint));
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
}

/// Whether a list item is a well-formed step of a declared mixin.
fn is_step_of(item: &Value, declared: &BTreeSet<String>) -> bool {
    match item {
        Value::Object(map) if map.len() == 1 => map.keys().all(|name| declared.contains(name)),
        _ => false,
    }
}
