//! `dependencies:` (`requires`, `provides`) and `required:` extensions.

use serde_json::Value;

use super::ManifestParser;
use super::helpers::{closest, describe, scalar_display};
use crate::manifest::constraint::VersionConstraint;
use crate::manifest::model::{Dependency, Manifest, RequiredExtension};
use crate::manifest::source::{Diagnostic, escape};

const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "bundle",
    "parameters",
    "credentials",
    "outputs",
    "sharing",
];

impl ManifestParser<'_> {
    pub(super) fn dependencies(&mut self, at: &str, value: &Value, manifest: &mut Manifest) {
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

    pub(super) fn dependency(&mut self, at: &str, value: &Value) -> Option<Dependency> {
        let (map, name) = self.named_item(at, value, "dependency", DEPENDENCY_FIELDS, &[])?;
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

    pub(super) fn required_extension(
        &mut self,
        at: &str,
        value: &Value,
    ) -> Option<RequiredExtension> {
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
                let message = format!(
                    "a required extension is a name (`- docker`) \
                     or a name with config (`- docker: {{privileged: true}}`), found {found}"
                );
                self.error_at_value(at, message);
                None
            }
        }
    }
}
