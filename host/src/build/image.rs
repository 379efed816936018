//! What `porter build` asks of an image engine, and the build arguments and
//! labels it passes (pure). The engine itself is `crate::docker::Engine`;
//! this module does not know about Docker, so the build pipeline can be
//! driven without one (`--no-image`) and read without its details.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::dockerfile::{self, ContextLayout, MixinLines};
use crate::layout::APP_DIR;
use crate::manifest::Manifest;

/// The longest build argument value Porter accepts.
pub const MAX_BUILD_ARG_LEN: usize = 5000;

/// An engine that builds invocation images.
pub trait ImageEngine {
    /// Whether `reference` still names the image `id` a previous build
    /// recorded (it may have been removed, or re-tagged to another image).
    fn has_image(&self, reference: &str, id: &str) -> Result<bool>;

    /// Builds the image and tags it; output goes to the terminal as it
    /// comes.
    fn build_image(&self, request: &ImageRequest<'_>) -> Result<BuiltImage>;
}

/// One image build.
#[derive(Debug)]
pub struct ImageRequest<'a> {
    /// The bundle's directory: the build context.
    pub context_dir: &'a Path,
    /// The staged `.cnab/` to send as `.cnab/` (the bundle directory's own
    /// is the previous build's until this one succeeds).
    pub cnab_dir: &'a Path,
    /// How the context is laid out for the Dockerfile (which says where
    /// the Dockerfile is in it).
    pub layout: &'a ContextLayout,
    pub tag: &'a str,
    pub build_args: BTreeMap<String, String>,
    /// Labels the engine adds (as a last step): those the Dockerfile does
    /// not set itself.
    pub labels: BTreeMap<String, String>,
    pub no_cache: bool,
    /// Each mixin's lines, to say which mixin wrote a step that fails.
    pub mixin_lines: &'a [MixinLines],
}

/// What an image build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// The engine's image ID (`sha256:...`, the digest of its config).
    pub id: String,
    /// Bytes, as the engine reports it (base image included).
    pub size: Option<u64>,
}

/// Porter's build arguments, in its precedence order (a later one wins):
/// `CUSTOM_<KEY>` for each flattened `custom` value the Dockerfile declares
/// an `ARG` for, then `--build-arg`, then `BUNDLE_DIR`.
pub fn build_args(
    manifest: &Manifest,
    dockerfile_text: &str,
    cli_args: &[(String, String)],
) -> Result<BTreeMap<String, String>> {
    let declared = dockerfile::declared_custom_args(dockerfile_text);
    let mut args = BTreeMap::new();
    let mut flat = Vec::new();
    flatten(&Value::Object(manifest.custom.clone()), "", &mut flat);
    for (key, value) in flat {
        let name = dockerfile::custom_arg_name(&key);
        if declared.contains(&name) {
            args.insert(name, value);
        }
    }
    for (name, value) in cli_args {
        args.insert(name.clone(), value.clone());
    }
    args.insert("BUNDLE_DIR".to_string(), APP_DIR.to_string());
    for (name, value) in &args {
        if value.len() > MAX_BUILD_ARG_LEN {
            anyhow::bail!(
                "the build argument {name} is {} characters long; build arguments are limited to {MAX_BUILD_ARG_LEN} \
                 (put long values in a file of the bundle instead)",
                value.len()
            );
        }
    }
    Ok(args)
}

/// `custom` as Porter flattens it: nested maps joined with dots, scalars as
/// text, lists as JSON.
fn flatten(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(value, &key, out);
            }
        }
        _ if prefix.is_empty() => {}
        Value::String(text) => out.push((prefix.to_string(), text.clone())),
        Value::Null => out.push((prefix.to_string(), String::new())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The labels every invocation image carries, so `docker images` can say
/// which bundle an image belongs to.
pub fn labels(manifest: &Manifest) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("sh.porter.bundle.name".to_string(), manifest.name.clone()),
        (
            "sh.porter.bundle.version".to_string(),
            manifest.version.to_string(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(custom: &str) -> Manifest {
        let text = format!(
            "schemaVersion: 1.0.1\nname: mybuns\nversion: 0.1.2\nregistry: localhost:5000\nmixins: [exec]\n{custom}install: [{{exec: {{command: x}}}}]\nuninstall: [{{exec: {{command: x}}}}]\n"
        );
        crate::manifest::load_str("porter.yaml", text)
            .unwrap()
            .manifest
    }

    #[test]
    fn custom_args_only_when_declared_then_cli_then_bundle_dir() {
        let m = manifest(
            "custom:\n  app:\n    version: 1.2.3\n    port: 8080\n  unused: x\n  list: [1, 2]\n",
        );
        let dockerfile = "FROM x\nARG CUSTOM_APP_VERSION\nARG CUSTOM_APP_PORT=1\nARG CUSTOM_LIST\nARG BUNDLE_DIR\n";
        let args = build_args(
            &m,
            dockerfile,
            &[
                ("CUSTOM_APP_PORT".into(), "9090".into()),
                ("BUNDLE_DIR".into(), "/elsewhere".into()),
                ("HTTP_PROXY".into(), "http://proxy".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            args,
            BTreeMap::from([
                ("BUNDLE_DIR".to_string(), "/cnab/app".to_string()),
                ("CUSTOM_APP_PORT".to_string(), "9090".to_string()),
                ("CUSTOM_APP_VERSION".to_string(), "1.2.3".to_string()),
                ("CUSTOM_LIST".to_string(), "[1,2]".to_string()),
                ("HTTP_PROXY".to_string(), "http://proxy".to_string()),
            ])
        );
    }

    #[test]
    fn a_long_argument_is_refused_with_its_name() {
        let m = manifest("");
        let long = "x".repeat(MAX_BUILD_ARG_LEN + 1);
        let err = build_args(&m, "FROM x\n", &[("BIG".into(), long)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("BIG is 5001 characters long"), "{err}");
        let ok = "x".repeat(MAX_BUILD_ARG_LEN);
        build_args(&m, "FROM x\n", &[("BIG".into(), ok)]).unwrap();
    }

    #[test]
    fn labels_name_the_bundle() {
        let l = labels(&manifest(""));
        assert_eq!(l["sh.porter.bundle.name"], "mybuns");
        assert_eq!(l["sh.porter.bundle.version"], "0.1.2");
    }
}
