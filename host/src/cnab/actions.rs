//! bundle.json `actions` (custom actions) and `credentials`: Porter's
//! `generateCustomActionDefinitions` and `generateBundleCredentials`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::manifest::{Credential, CustomActionMetadata, Manifest};

use super::naming::resolve_path;

/// Every `customActions` entry (used or not) and a default for each custom
/// action without one; nothing when the bundle has no custom action.
pub(super) fn custom_actions(m: &Manifest) -> Option<BTreeMap<String, Value>> {
    let used: Vec<&str> = m.custom_action_names().collect();
    if used.is_empty() {
        return None;
    }
    let mut actions: BTreeMap<String, Value> = m
        .custom_actions
        .iter()
        .map(|(name, metadata)| (name.clone(), action(metadata)))
        .collect();
    for name in used {
        if !m.custom_actions.contains_key(name) {
            actions.insert(name.to_string(), action(&default_action(name)));
        }
    }
    Some(actions)
}

/// cnab-go omits `false` and empty values.
fn action(metadata: &CustomActionMetadata) -> Value {
    let mut action = Map::new();
    if metadata.modifies {
        action.insert("modifies".into(), true.into());
    }
    if metadata.stateless {
        action.insert("stateless".into(), true.into());
    }
    if !metadata.description.is_empty() {
        action.insert("description".into(), metadata.description.clone().into());
    }
    Value::Object(action)
}

/// `generateDefaultAction`: CNAB's well-known actions (spec 804) are known
/// not to modify anything; any other action is assumed to.
pub(super) fn default_action(name: &str) -> CustomActionMetadata {
    let (description, modifies, stateless) = match name {
        "dry-run" | "io.cnab.dry-run" => (
            "Execute the installation in a dry-run mode, allowing to see what would happen with the given set of parameter values",
            false,
            true,
        ),
        "help" | "io.cnab.help" => ("Print a help message to the standard output", false, true),
        "log" | "io.cnab.log" => (
            "Print logs of the installed system to the standard output",
            false,
            false,
        ),
        "status" | "io.cnab.status" => (
            "Print a human readable status message to the standard output",
            false,
            false,
        ),
        "status+json" | "io.cnab.status+json" => (
            "Print a json payload describing the detailed status with the following the CNAB status schema",
            false,
            false,
        ),
        other => (other, true, false),
    };
    CustomActionMetadata {
        description: description.to_string(),
        modifies,
        stateless,
    }
}

/// `credentials`, by name: where the runtime puts each (relative paths
/// under /cnab/app), whether it is required, and for which actions.
pub(super) fn credentials(m: &Manifest) -> BTreeMap<String, Value> {
    m.credentials
        .iter()
        .map(|c| (c.name.clone(), credential(c)))
        .collect()
}

/// One credential as bundle.json has it (also a dependency interface's).
pub(super) fn credential(c: &Credential) -> Value {
    let mut credential = Map::new();
    if let Some(path) = c.path.as_deref().filter(|p| !p.is_empty()) {
        credential.insert("path".into(), resolve_path(path).into());
    }
    if let Some(env) = c.env.as_deref().filter(|e| !e.is_empty()) {
        credential.insert("env".into(), env.into());
    }
    if !c.description.is_empty() {
        credential.insert("description".into(), c.description.clone().into());
    }
    if c.required {
        credential.insert("required".into(), true.into());
    }
    if !c.apply_to.is_empty() {
        credential.insert("applyTo".into(), c.apply_to.as_slice().into());
    }
    Value::Object(credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnab_default_actions_match_porters() {
        let dry_run = default_action("dry-run");
        assert!(dry_run.stateless && !dry_run.modifies);
        assert!(default_action("io.cnab.help").stateless);
        let status = default_action("status");
        assert!(!status.stateless && !status.modifies);
        let zombies = default_action("zombies");
        assert_eq!(
            (
                zombies.description.as_str(),
                zombies.modifies,
                zombies.stateless
            ),
            ("zombies", true, false)
        );
    }
}
