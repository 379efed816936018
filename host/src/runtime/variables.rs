//! What a step's templates can name at runtime (Porter's
//! `buildSourceData`): `bundle.parameters.*`, `bundle.credentials.*`,
//! `bundle.outputs.*` (earlier steps of this run, then the values of
//! previous runs that wiring parameters carry), `bundle.dependencies.*`,
//! `bundle.images.*`, `bundle.name` / `version` / `description` /
//! `installerImage` / `custom.*`, `installation.*` and `env.*`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::inputs::{Inputs, text_of};

pub struct Variables<'a> {
    pub bundle: &'a Value,
    pub inputs: &'a Inputs,
    /// Outputs of the steps run so far, by name.
    pub outputs: &'a BTreeMap<String, Vec<u8>>,
    pub installation: &'a str,
    pub namespace: &'a str,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Variables<'_> {
    /// The value of `name` (`bundle.parameters.port`), as text.
    pub fn lookup(&self, name: &str) -> Option<String> {
        let parts: Vec<&str> = name.split('.').collect();
        match parts.as_slice() {
            ["installation", "name"] => Some(self.installation.to_string()),
            ["installation", "namespace"] => Some(self.namespace.to_string()),
            ["env", var] => (self.env)(var),
            ["bundle", "parameters", param] => self.inputs.parameters.get(*param).map(text_of),
            ["bundle", "credentials", cred] => self.inputs.credentials.get(*cred).cloned(),
            ["bundle", "outputs", output] => self.output(output),
            ["bundle", "dependencies", dep, "outputs", output] => self
                .inputs
                .parameters
                .get(&format!("porter-{dep}-{output}-dep-output"))
                .map(text_of),
            ["bundle", "dependencies", dep, field] => self.dependency(dep, field),
            ["bundle", "images", alias, field] => self.image(alias, field),
            ["bundle", "name"] => self.bundle_str("name"),
            ["bundle", "version"] => self.bundle_str("version"),
            ["bundle", "description"] => self.bundle_str("description"),
            ["bundle", "installerImage"] => self.bundle["invocationImages"][0]["image"]
                .as_str()
                .map(str::to_string),
            ["bundle", "custom", path @ ..] => {
                let mut value = &self.bundle["custom"];
                for key in path {
                    value = value.get(*key)?;
                }
                Some(text_of(value))
            }
            _ => None,
        }
    }

    fn bundle_str(&self, key: &str) -> Option<String> {
        Some(self.bundle[key].as_str().unwrap_or_default().to_string())
    }

    fn output(&self, name: &str) -> Option<String> {
        if let Some(bytes) = self.outputs.get(name) {
            return Some(String::from_utf8_lossy(bytes).into_owned());
        }
        self.inputs
            .parameters
            .get(&format!("porter-{name}-output"))
            .map(text_of)
    }

    fn dependency(&self, dep: &str, field: &str) -> Option<String> {
        let deps = &self.bundle["custom"]["io.cnab.dependencies"]["requires"][dep];
        match field {
            "name" => Some(dep.to_string()),
            "version" | "description" => deps[field].as_str().map(str::to_string),
            _ => None,
        }
    }

    fn image(&self, alias: &str, field: &str) -> Option<String> {
        let image = self.bundle["images"].get(alias)?;
        let value = image.get(field)?;
        Some(text_of(value))
    }
}
