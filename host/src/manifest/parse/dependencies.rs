//! `dependencies:` (`requires`, `provides`) and `required:` extensions.

use serde_json::Value;

use super::ManifestParser;
use super::helpers::{closest, describe, scalar_display};
use crate::manifest::constraint::VersionConstraint;
use crate::manifest::model::{
    BundleInterface, Dependency, InterfaceDocument, Manifest, Provides, RequiredExtension, Sharing,
};
use crate::manifest::source::{Diagnostic, escape};

const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "bundle",
    "parameters",
    "credentials",
    "outputs",
    "sharing",
];
const INTERFACE_FIELDS: &[&str] = &["id", "reference", "document"];

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
                "provides" => manifest.provides = self.provides(&key_at, v),
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
        let interface = match bundle.remove("interface") {
            None | Some(Value::Null) => None,
            Some(v) => self.bundle_interface(&format!("{bundle_at}/interface"), &v, &name),
        };
        // Porter reads only these three; anything else under `bundle` (its
        // own myenv example has `id:`) is dropped without a word.
        for key in bundle.keys() {
            self.push(
                Diagnostic::warning(
                    self.source,
                    self.source.locations.key(&format!("{bundle_at}/{}", escape(key))),
                    format!("'{key}' in the bundle of dependency '{name}' is not used"),
                )
                .hint("bundle has reference, version and interface (an interface's `id` goes under interface)"),
            );
        }
        let field = |f: &str| format!("{at}/{f}");
        let sharing = match map.get("sharing") {
            None | Some(Value::Null) => None,
            Some(v) => self.sharing(&field("sharing"), v),
        };
        Some(Dependency {
            parameters: self.string_map(&field("parameters"), map.get("parameters")),
            credentials: self.string_map(&field("credentials"), map.get("credentials")),
            outputs: self.string_map(&field("outputs"), map.get("outputs")),
            sharing,
            interface,
            reference,
            version,
            name,
            pointer: at.to_string(),
        })
    }

    /// `bundle.interface`: an id, and a reference or a document.
    fn bundle_interface(
        &mut self,
        at: &str,
        value: &Value,
        dependency: &str,
    ) -> Option<BundleInterface> {
        let map = self.mapping(at, value, "interface")?;
        self.unknown_fields(
            at,
            &map,
            INTERFACE_FIELDS,
            &[],
            &format!("the interface of dependency '{dependency}'"),
        );
        let field = |f: &str| format!("{at}/{f}");
        let document = match map.get("document") {
            None | Some(Value::Null) => None,
            Some(v) => self.interface_document(&field("document"), v, dependency),
        };
        Some(BundleInterface {
            id: self.opt_string(&field("id"), map.get("id")),
            reference: self.opt_string(&field("reference"), map.get("reference")),
            document,
        })
    }

    /// `interface.document`: parameters, credentials and outputs written as
    /// the manifest's own.
    fn interface_document(
        &mut self,
        at: &str,
        value: &Value,
        dependency: &str,
    ) -> Option<InterfaceDocument> {
        let map = self.mapping(at, value, "document")?;
        self.unknown_fields(
            at,
            &map,
            &["parameters", "credentials", "outputs"],
            &[],
            &format!("the interface document of dependency '{dependency}'"),
        );
        let field = |f: &str| format!("{at}/{f}");
        let document = InterfaceDocument {
            parameters: match map.get("parameters") {
                Some(v) => self.list(&field("parameters"), v, "parameters", Self::parameter),
                None => Vec::new(),
            },
            credentials: match map.get("credentials") {
                Some(v) => self.list(&field("credentials"), v, "credentials", Self::credential),
                None => Vec::new(),
            },
            outputs: match map.get("outputs") {
                Some(v) => self.list(&field("outputs"), v, "outputs", Self::output),
                None => Vec::new(),
            },
        };
        Some(document)
    }

    /// `sharing: {mode, group: {name}}`. `mode` is a boolean in Porter's
    /// code; its JSON schema documents `group`/`none`, read as true/false.
    fn sharing(&mut self, at: &str, value: &Value) -> Option<Sharing> {
        let map = self.mapping(at, value, "sharing")?;
        self.unknown_fields(at, &map, &["mode", "group"], &[], "sharing");
        let mode_at = format!("{at}/mode");
        let mode = match map.get("mode") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "group" => true,
            Some(Value::String(s)) if s == "none" => false,
            Some(other) => {
                let found = describe(other);
                self.error_at_value(
                    &mode_at,
                    format!("'mode' must be true or false, found {found}"),
                );
                return None;
            }
        };
        let group_at = format!("{at}/group");
        let group = match map.get("group") {
            None | Some(Value::Null) => String::new(),
            Some(v) => {
                let group = self.mapping(&group_at, v, "group")?;
                self.unknown_fields(&group_at, &group, &["name"], &[], "the sharing group");
                self.opt_string(&format!("{group_at}/name"), group.get("name"))
                    .unwrap_or_default()
            }
        };
        Some(Sharing { mode, group })
    }

    /// `dependencies.provides: {interface: {id}}`.
    fn provides(&mut self, at: &str, value: &Value) -> Option<Provides> {
        let map = self.mapping(at, value, "provides")?;
        self.unknown_fields(at, &map, &["interface"], &[], "provides");
        let interface_at = format!("{at}/interface");
        let interface_id = match map.get("interface") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let interface = self.mapping(&interface_at, v, "interface")?;
                self.unknown_fields(
                    &interface_at,
                    &interface,
                    &["id"],
                    &[],
                    "the provided interface",
                );
                self.opt_string(&format!("{interface_at}/id"), interface.get("id"))
            }
        };
        Some(Provides { interface_id })
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
