//! `mixins:`: each declaration, by name (`- exec`), with a version
//! constraint (`- exec@1.2`) or with config (`- helm3: {...}`).

use serde_json::Value;

use super::ManifestParser;
use super::helpers::describe;
use crate::manifest::constraint::VersionConstraint;
use crate::manifest::model::MixinDeclaration;
use crate::manifest::source::{Diagnostic, escape};

impl ManifestParser<'_> {
    pub(super) fn mixins(&mut self, value: &Value) -> Vec<MixinDeclaration> {
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
                    let message = format!(
                        "mixin declaration contained more than one mixin ({})",
                        keys.join(", ")
                    );
                    let hint = "declare one mixin per list item; config goes under its name:\n  \
                                - az:\n      extensions: [iot]";
                    let at = self.source.locations.value(&at);
                    self.push(Diagnostic::error(self.source, at, message).hint(hint));
                    continue;
                }
                Value::Null => {
                    self.error_at_value(&at, "mixin declaration was empty");
                    continue;
                }
                other => {
                    let found = describe(other);
                    let message = format!(
                        "a mixin is declared by name (`- exec`) \
                         or with config (`- helm3: {{...}}`), found {found}"
                    );
                    self.error_at_value(&at, message);
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
}
