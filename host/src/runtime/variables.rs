//! What a step's templates can name at runtime (Porter's
//! `buildSourceData`): `bundle.parameters.*`, `bundle.credentials.*`,
//! `bundle.outputs.*` (earlier steps of this run, then the values of
//! previous runs that wiring parameters carry), `bundle.dependencies.*`,
//! `bundle.images.*`, `bundle.name` / `version` / `description` /
//! `installerImage` / `custom.*`, `installation.*` and `env.*`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::model::Image;

use super::inputs::{Inputs, text_of};

pub struct Variables<'a> {
    pub bundle: &'a Value,
    /// porter.yaml's `images` (Porter reads them from the manifest, with
    /// the digest bundle.json resolved).
    pub images: &'a BTreeMap<String, Image>,
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
        // v1, or v2 (the dependencies-v2 flag), whichever the build wrote.
        let custom = &self.bundle["custom"];
        let deps = match &custom["io.cnab.dependencies"]["requires"][dep] {
            Value::Null => &custom["org.getporter.dependencies@v2"]["requires"][dep],
            v1 => v1,
        };
        match field {
            "name" => Some(dep.to_string()),
            "version" | "description" => deps[field].as_str().map(str::to_string),
            _ => None,
        }
    }

    /// `bundle.images.<alias>.<field>`, Porter's camel-cased fields.
    fn image(&self, alias: &str, field: &str) -> Option<String> {
        let image = self.images.get(alias)?;
        let resolved = self.bundle["images"][alias]["contentDigest"]
            .as_str()
            .filter(|d| !d.is_empty());
        Some(match field {
            "description" => image.description.clone(),
            "imageType" => image.image_type.clone(),
            "repository" => image.repository.clone(),
            "digest" => resolved.unwrap_or(&image.digest).to_string(),
            "size" => image.size.to_string(),
            "mediaType" => image.media_type.clone(),
            "labels" => serde_json::to_string(&image.labels).unwrap_or_default(),
            "tag" => image.tag.clone(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_variable_has_its_value() {
        let bundle = serde_json::json!({
            "name": "hello", "version": "0.1.0", "description": "Says hello",
            "invocationImages": [{"image": "localhost:5000/hello:porter-abc"}],
            "images": {"app": {"image": "example.com/app:v1", "contentDigest": "sha256:feed"}},
            "custom": {"team": {"owner": "ada"}},
        });
        let mut images = BTreeMap::new();
        images.insert(
            "app".to_string(),
            Image {
                description: "the app".into(),
                image_type: "docker".into(),
                repository: "example.com/app".into(),
                digest: String::new(),
                size: 0,
                media_type: String::new(),
                labels: BTreeMap::new(),
                tag: "v1".into(),
            },
        );
        let mut inputs = Inputs::default();
        inputs
            .parameters
            .insert("port".into(), serde_json::json!(8080));
        inputs
            .parameters
            .insert("porter-db-output".into(), "db.local".into());
        inputs
            .parameters
            .insert("porter-mysql-password-dep-output".into(), "pw".into());
        inputs.credentials.insert("token".into(), "tok".into());
        let mut outputs = BTreeMap::new();
        outputs.insert("step".to_string(), b"from a step".to_vec());
        let env = |name: &str| (name == "HOME").then(|| "/home/nonroot".to_string());
        let vars = Variables {
            bundle: &bundle,
            images: &images,
            inputs: &inputs,
            outputs: &outputs,
            installation: "mine",
            namespace: "team",
            env: &env,
        };
        let cases = [
            ("installation.name", "mine"),
            ("installation.namespace", "team"),
            ("env.HOME", "/home/nonroot"),
            ("bundle.parameters.port", "8080"),
            ("bundle.credentials.token", "tok"),
            ("bundle.outputs.step", "from a step"),
            ("bundle.outputs.db", "db.local"),
            ("bundle.dependencies.mysql.outputs.password", "pw"),
            ("bundle.dependencies.mysql.name", "mysql"),
            ("bundle.images.app.repository", "example.com/app"),
            ("bundle.images.app.tag", "v1"),
            ("bundle.images.app.digest", "sha256:feed"),
            ("bundle.name", "hello"),
            ("bundle.version", "0.1.0"),
            ("bundle.description", "Says hello"),
            ("bundle.installerImage", "localhost:5000/hello:porter-abc"),
            ("bundle.custom.team.owner", "ada"),
        ];
        for (name, value) in cases {
            assert_eq!(vars.lookup(name).as_deref(), Some(value), "{name}");
        }
        for missing in [
            "bundle.parameters.nope",
            "bundle.images.app.nope",
            "env.NOPE",
            "nope",
        ] {
            assert_eq!(vars.lookup(missing), None, "{missing}");
        }
    }
}
