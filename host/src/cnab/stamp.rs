//! Porter's stamp, `custom["sh.porter"]`: what built the bundle (Porter's
//! version and commit, every mixin's version), the author's porter.yaml
//! (base64, byte for byte), and a digest of everything that went into the
//! build, compared by the next build to decide whether it is up to date.
//! From `pkg/cnab/config-adapter/stamp.go`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{BundleInputs, MixinRecord};

/// One file of the bundle directory, as the up-to-date check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Relative to the bundle directory, with `/` separators.
    pub path: String,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Whether any execute bit is set (a chmod must trigger a rebuild).
    pub executable: bool,
}

/// Everything the up-to-date check compares.
#[derive(Debug, Clone, Copy)]
pub struct StampInputs<'a> {
    /// porter.yaml as the build reads it (overrides applied).
    pub manifest_text: &'a str,
    pub porter_version: &'a str,
    pub mixins: &'a [MixinRecord],
    /// The bundle directory's files; walking it (which files count) is the
    /// caller's job: Porter skips hidden entries and `.cnab`, `.git`,
    /// `node_modules`, `.porter`, `vendor`.
    pub files: &'a [BundleFile],
    /// The manifest's `files:` as downloaded (path: the destination), empty
    /// without any: their bytes decide a rebuild as the bundle's own do.
    pub downloads: &'a [BundleFile],
    /// The image's `--build-arg`s, empty when no image is built.
    pub build_args: &'a BTreeMap<String, String>,
    /// The experimental flags that are on, sorted and comma-separated
    /// (`Experimental::key`): they change what a build makes (a verbatim
    /// Dockerfile, persistent parameters).
    pub experimental: &'a str,
}

/// `DigestManifest`: hex SHA-256 over the porter.yaml bytes, the Porter
/// version, each mixin (sorted by name, then version), and each file of the
/// bundle directory (sorted by path: path, content hash, `:x` when
/// executable).
///
/// Unlike Porter, a mixin contributes its digest as well as its name and
/// version, so a different build of the same version triggers a rebuild;
/// and the build arguments count (names and values, hashed, never written
/// out), so changing one rebuilds the image; so do the experimental flags
/// and the bytes `files:` downloaded.
pub fn manifest_digest(inputs: &StampInputs) -> String {
    let mut hasher = Sha256::new();
    hasher.update(inputs.manifest_text.as_bytes());
    hasher.update(inputs.porter_version.as_bytes());
    for mixin in sorted_mixins(inputs.mixins) {
        hasher.update(mixin.name.as_bytes());
        hasher.update(mixin.version.to_string().as_bytes());
        hasher.update(mixin.digest.as_bytes());
    }
    let mut files: Vec<&BundleFile> = inputs.files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for file in files {
        hasher.update(file.path.as_bytes());
        hasher.update(file.sha256.as_bytes());
        if file.executable {
            hasher.update(b":x");
        }
    }
    // Nothing without downloads, so such a digest is unchanged from before;
    // the prefix keeps them apart from the bundle's own files.
    if !inputs.downloads.is_empty() {
        hasher.update(b"downloads:");
        let mut downloads: Vec<&BundleFile> = inputs.downloads.iter().collect();
        downloads.sort_by(|a, b| a.path.cmp(&b.path));
        for file in downloads {
            for part in [&file.path, &file.sha256] {
                hasher.update((part.len() as u64).to_le_bytes());
                hasher.update(part.as_bytes());
            }
        }
    }
    // Length-prefixed, so no two argument lists hash alike; nothing is
    // added without arguments, so such a digest is unchanged from before.
    for (name, value) in inputs.build_args {
        for part in [name, value] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    // Likewise nothing without flags; the prefix keeps them apart from
    // build arguments.
    if !inputs.experimental.is_empty() {
        hasher.update(b"experimental:");
        hasher.update((inputs.experimental.len() as u64).to_le_bytes());
        hasher.update(inputs.experimental.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Porter's `MixinRecords` order: by name, then by version.
fn sorted_mixins(mixins: &[MixinRecord]) -> Vec<&MixinRecord> {
    let mut sorted: Vec<&MixinRecord> = mixins.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    sorted
}

/// The stamp object, with Porter's field names.
pub(super) fn stamp(inputs: &BundleInputs) -> Value {
    json!({
        "manifestDigest": inputs.manifest_digest,
        "mixins": mixin_records(inputs.mixins),
        "manifest": base64::engine::general_purpose::STANDARD.encode(inputs.manifest_text),
        "version": inputs.porter_version,
        "commit": inputs.porter_commit,
        "preserveTags": inputs.preserve_tags,
    })
}

/// `mixins`: by name, Porter's `version` plus our `digest` and `source`.
fn mixin_records(mixins: &[MixinRecord]) -> Value {
    let records: Map<String, Value> = sorted_mixins(mixins)
        .into_iter()
        .map(|m| {
            let record =
                json!({"version": m.version.to_string(), "digest": m.digest, "source": m.source});
            (m.name.clone(), record)
        })
        .collect();
    Value::Object(records)
}
