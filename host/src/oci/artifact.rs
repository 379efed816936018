//! The CNCF wasm artifact layout (the Wasm OCI Artifact layout of the CNCF
//! TAG Runtime's wasm working group, the one `wkg` and `oci-wasm` use): an
//! OCI image manifest whose config has the media type
//! `application/vnd.wasm.config.v0+json` and whose only layer is the
//! component itself, `application/wasm`, so the layer's digest is the
//! sha256 of the `.wasm`. Pure: JSON in, JSON out.

use serde_json::{Value, json};

/// The manifest's media type: a plain OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config blob of a wasm artifact.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The one layer of a wasm artifact: the `.wasm` itself.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// `created` in the config: fixed, so publishing the same `.wasm` twice
/// gives the same manifest digest.
const CREATED: &str = "1970-01-01T00:00:00Z";

/// A blob and how the manifest describes it.
pub struct Blob {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Blob {
    fn new(media_type: &'static str, bytes: Vec<u8>) -> Blob {
        let digest = crate::mixin::install::sha256_digest(&bytes);
        Blob {
            media_type,
            bytes,
            digest,
        }
    }

    fn descriptor(&self) -> Value {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.bytes.len(),
        })
    }
}

/// What a mixin's artifact says about it, beyond its bytes.
pub struct ArtifactInfo<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// The component's export and import names (the config's `component`).
    pub exports: &'a [String],
    pub imports: &'a [String],
}

/// A wasm artifact ready to push: its config, its layer and its manifest.
pub struct Artifact {
    pub config: Blob,
    pub layer: Blob,
    /// The manifest's exact bytes: its digest is the one a registry gives.
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
}

/// The wasm artifact for `wasm`.
pub fn build(wasm: &[u8], info: &ArtifactInfo<'_>) -> Artifact {
    let layer = Blob::new(WASM_LAYER_MEDIA_TYPE, wasm.to_vec());
    let config = json!({
        "created": CREATED,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer.digest],
        "component": {
            "exports": info.exports,
            "imports": info.imports,
            "target": null,
        },
    });
    let config = Blob::new(
        WASM_CONFIG_MEDIA_TYPE,
        serde_json::to_vec(&config).expect("JSON values serialize"),
    );
    let mut layer_descriptor = layer.descriptor();
    layer_descriptor["annotations"] = json!({
        "org.opencontainers.image.title": format!("{}.wasm", info.name),
    });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config.descriptor(),
        "layers": [layer_descriptor],
        "annotations": {
            "org.opencontainers.image.title": info.name,
            "org.opencontainers.image.version": info.version,
        },
    });
    let manifest = serde_json::to_vec(&manifest).expect("JSON values serialize");
    let manifest_digest = crate::mixin::install::sha256_digest(&manifest);
    Artifact {
        config,
        layer,
        manifest,
        manifest_digest,
    }
}

/// The one wasm layer of a manifest that is a wasm artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmLayer {
    pub digest: String,
    pub size: u64,
}

/// Checks that `manifest` (a registry's answer) is a wasm artifact and
/// returns its layer; otherwise says what it is instead.
pub fn wasm_layer(manifest: &[u8]) -> Result<WasmLayer, String> {
    let value: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("its manifest is not JSON ({e})"))?;
    let media_type = value["mediaType"].as_str().unwrap_or("");
    if value.get("manifests").is_some()
        || media_type.ends_with("index.v1+json")
        || media_type.ends_with("manifest.list.v2+json")
    {
        let count = value["manifests"].as_array().map_or(0, Vec::len);
        return Err(format!(
            "it is an image index (a list of {count} manifests, e.g. a multi-platform image), \
             not a wasm artifact"
        ));
    }
    let config_type = value["config"]["mediaType"].as_str().unwrap_or("(none)");
    let layers: Vec<(&str, &Value)> = value["layers"]
        .as_array()
        .map(|layers| {
            layers
                .iter()
                .map(|l| (l["mediaType"].as_str().unwrap_or("(no media type)"), l))
                .collect()
        })
        .unwrap_or_default();
    let layer_types = || {
        layers
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if config_type != WASM_CONFIG_MEDIA_TYPE {
        let what = match config_type {
            "application/vnd.oci.image.config.v1+json"
            | "application/vnd.docker.container.image.v1+json" => "a container image",
            _ => "another kind of artifact",
        };
        return Err(format!(
            "it is {what} (config {config_type}, {} layer(s): {}), not a wasm artifact \
             (config {WASM_CONFIG_MEDIA_TYPE}, one {WASM_LAYER_MEDIA_TYPE} layer)",
            layers.len(),
            layer_types()
        ));
    }
    let [(layer_type, layer)] = layers.as_slice() else {
        return Err(format!(
            "it is a wasm artifact with {} layers ({}), not the one {WASM_LAYER_MEDIA_TYPE} \
             layer a mixin is",
            layers.len(),
            layer_types()
        ));
    };
    if *layer_type != WASM_LAYER_MEDIA_TYPE {
        return Err(format!(
            "its layer is {layer_type}, not {WASM_LAYER_MEDIA_TYPE}"
        ));
    }
    let digest = layer["digest"].as_str().unwrap_or("");
    if !is_sha256_digest(digest) {
        return Err(format!(
            "its layer's digest '{digest}' is not a sha256 digest (sha256:<64 hex digits>)"
        ));
    }
    let size = layer["size"]
        .as_u64()
        .ok_or_else(|| "its layer has no size".to_string())?;
    Ok(WasmLayer {
        digest: digest.to_string(),
        size,
    })
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ArtifactInfo<'static> {
        ArtifactInfo {
            name: "exec",
            version: "1.0.0",
            exports: &[],
            imports: &[],
        }
    }

    #[test]
    fn a_built_artifact_is_read_back_as_one() {
        let artifact = build(b"\0asm\x0d\0\x01\0", &info());
        let layer = wasm_layer(&artifact.manifest).unwrap();
        assert_eq!(
            layer.digest,
            crate::mixin::install::sha256_digest(b"\0asm\x0d\0\x01\0")
        );
        assert_eq!(layer.size, 8);
        let config: Value = serde_json::from_slice(&artifact.config.bytes).unwrap();
        assert_eq!(config["layerDigests"][0], layer.digest.as_str());
        // Deterministic: the same bytes give the same manifest digest.
        assert_eq!(
            build(b"\0asm\x0d\0\x01\0", &info()).manifest_digest,
            artifact.manifest_digest
        );
    }

    #[test]
    fn other_manifests_are_described() {
        let image = json!({
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:00", "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:01", "size": 3}],
        });
        let err = wasm_layer(&serde_json::to_vec(&image).unwrap()).unwrap_err();
        assert!(err.contains("a container image"), "{err}");
        assert!(err.contains("tar+gzip"), "{err}");

        let two = json!({
            "schemaVersion": 2,
            "config": {"mediaType": WASM_CONFIG_MEDIA_TYPE, "digest": "sha256:00", "size": 2},
            "layers": [
                {"mediaType": WASM_LAYER_MEDIA_TYPE, "digest": "sha256:01", "size": 3},
                {"mediaType": WASM_LAYER_MEDIA_TYPE, "digest": "sha256:02", "size": 3},
            ],
        });
        let err = wasm_layer(&serde_json::to_vec(&two).unwrap()).unwrap_err();
        assert!(err.contains("2 layers"), "{err}");

        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []});
        let err = wasm_layer(&serde_json::to_vec(&index).unwrap()).unwrap_err();
        assert!(err.contains("image index"), "{err}");
    }
}
