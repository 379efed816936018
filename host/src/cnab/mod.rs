//! bundle.json generation: the validated [`Manifest`] plus what the build
//! knows (mixin records, the invocation image, the stamp's digest) become
//! the CNAB bundle, mapped field by field as Porter's config adapter maps
//! it (`pkg/cnab/config-adapter/adapter.go` and `stamp.go` at
//! getporter/porter 9b11297, Porter v1.6.x), and written as canonical JSON
//! the way cnab-go writes it. Pure: no files, no clock, no network.
//!
//! What Porter writes, in bundle.json order:
//! - `schemaVersion` `1.2.0` (cnab-go's CNAB Core version, without a `v`),
//!   `name`, `version`, `description` (always), `maintainers`;
//! - `invocationImages`: one `docker` image, named by the build;
//! - `images`: each alias pinned by digest, else by tag, else `:latest`;
//! - `actions`: only when the bundle has custom actions; `customActions`
//!   metadata, else defaults for CNAB's well-known actions (804), else
//!   "modifies";
//! - `parameters` and `definitions`: `<name>-parameter` / `<name>-output`
//!   definitions carrying the JSON Schema keywords (`type: file` as a base64
//!   string, `sensitive` as `writeOnly`), a destination (the written `env` /
//!   `path`, else the upper-cased name as env var), `required` when there is
//!   no default; Porter's `porter-debug` and `porter-state` parameters; and
//!   hidden wiring parameters (`porter-X-output`, `porter-D-O-dep-output`)
//!   for outputs used in templates;
//! - `credentials`, `outputs` (always at `/cnab/app/outputs/<name>`);
//! - `requiredExtensions` and `custom`: file parameters, the manifest's
//!   `custom`, `io.cnab.dependencies` (v1) or, with the dependencies-v2
//!   flag, `org.getporter.dependencies@v2`, `io.cnab.parameter-sources`,
//!   the `required:` extensions, and Porter's stamp `sh.porter`.
//!
//! Where we differ from Porter on purpose is listed once, in
//! [`DELIBERATE_DIFFERENCES`].

mod actions;
mod definitions;
mod extensions;
mod images;
pub mod naming;
mod parameters;
mod specs;
mod stamp;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::manifest::Manifest;

pub use stamp::{BundleFile, StampInputs, manifest_digest};

/// The CNAB Core version Porter's bundles declare (cnab-go's default,
/// from `cnab-core-1.2.0`).
pub const CNAB_SCHEMA_VERSION: &str = "1.2.0";

/// `$comment` marking what Porter generated for itself.
const PORTER_INTERNAL: &str = "porter-internal";

/// A mixin the bundle uses, as recorded in the stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixinRecord {
    pub name: String,
    /// Porter's key: the mixin's version.
    pub version: semver::Version,
    /// `sha256:<hex>` of the mixin's `.wasm`.
    pub digest: String,
    /// Where the mixin was installed from.
    pub source: String,
}

impl From<&crate::mixin::InstalledMixin> for MixinRecord {
    fn from(installed: &crate::mixin::InstalledMixin) -> Self {
        MixinRecord {
            name: installed.name.clone(),
            version: installed.version.clone(),
            digest: installed.digest.clone(),
            source: installed.published_source().to_string(),
        }
    }
}

/// The bundle's installer image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationImage {
    /// The reference the build tags the image with. No `contentDigest` is
    /// written: that is the registry's digest, known once the image is
    /// pushed, and a local image ID is not one (CNAB runtimes compare it
    /// with the registry's).
    pub image: String,
    /// The engine's ID of the image this build produced, recorded as the
    /// label [`IMAGE_ID_LABEL`]; `None` until an image is built.
    pub image_id: Option<String>,
    /// The built image's size in bytes, as the engine reports it.
    pub size: Option<u64>,
}

/// The invocation image's label that records the engine's image ID, so the
/// next build knows whether the image it recorded is still there.
pub const IMAGE_ID_LABEL: &str = "sh.porter.imageId";

/// Replaces the invocation image of a bundle.json `bundle_json` made.
pub fn set_invocation_image(bundle: &mut Value, image: &InvocationImage) {
    if let Some(root) = bundle.as_object_mut() {
        root.insert("invocationImages".into(), images::invocation_images(image));
    }
}

/// The image ID a bundle.json records for its invocation image, if any.
pub fn recorded_image_id(bundle: &Value) -> Option<&str> {
    bundle
        .pointer("/invocationImages/0/labels")?
        .get(IMAGE_ID_LABEL)?
        .as_str()
}

/// Everything bundle.json is made from.
#[derive(Debug, Clone, Copy)]
pub struct BundleInputs<'a> {
    pub manifest: &'a Manifest,
    /// porter.yaml exactly as the author wrote it (stored in the stamp).
    pub manifest_text: &'a str,
    pub porter_version: &'a str,
    pub porter_commit: &'a str,
    /// One record per declared mixin.
    pub mixins: &'a [MixinRecord],
    pub invocation_image: &'a InvocationImage,
    /// From [`manifest_digest`]; the next build compares it.
    pub manifest_digest: &'a str,
    /// `porter build --preserve-tags`: recorded in the stamp, where
    /// publishing reads it (images keep their tags).
    pub preserve_tags: bool,
    /// The dependencies-v2 flag: dependencies are written as
    /// `org.getporter.dependencies@v2` rather than `io.cnab.dependencies`.
    pub dependencies_v2: bool,
}

/// The bundle, as Porter maps the manifest. Keys are in cnab-go's order,
/// maps sorted, so pretty-printing it diffs cleanly against Porter's files;
/// write it with [`to_canonical_json`].
pub fn bundle_json(inputs: &BundleInputs) -> Value {
    let m = inputs.manifest;
    let parameter_specs = specs::parameter_specs(m);
    let output_specs = specs::output_specs(m);

    // Order matters: an output refers to a parameter's definition of the
    // same name (porter-state), and wiring parameters copy outputs'.
    let mut defs = definitions::Definitions::default();
    let mut parameters = parameters::bundle_parameters(&parameter_specs, &mut defs);
    let outputs = parameters::bundle_outputs(&output_specs, &mut defs);
    let mut sources = parameters::declared_parameter_sources(&parameter_specs);
    sources.extend(parameters::add_wiring_parameters(
        &m.template_variables,
        &output_specs,
        &outputs,
        &mut parameters,
        &mut defs,
    ));
    let dependencies = extensions::dependencies(m, inputs.dependencies_v2, &mut defs);
    let custom = extensions::custom_section(m, dependencies, sources, stamp::stamp(inputs));
    let required_extensions = extensions::required_extensions(m, &custom);

    let mut bundle = Map::new();
    bundle.insert("schemaVersion".into(), CNAB_SCHEMA_VERSION.into());
    bundle.insert("name".into(), m.name.clone().into());
    bundle.insert("version".into(), m.version.to_string().into());
    bundle.insert("description".into(), m.description.clone().into());
    if !m.maintainers.is_empty() {
        bundle.insert("maintainers".into(), maintainers(m));
    }
    bundle.insert(
        "invocationImages".into(),
        images::invocation_images(inputs.invocation_image),
    );
    if !m.images.is_empty() {
        bundle.insert("images".into(), images::images(&m.images).into());
    }
    if let Some(actions) = actions::custom_actions(m) {
        bundle.insert("actions".into(), object(actions));
    }
    bundle.insert("parameters".into(), object(parameters));
    let credentials = actions::credentials(m);
    if !credentials.is_empty() {
        bundle.insert("credentials".into(), object(credentials));
    }
    bundle.insert("outputs".into(), object(outputs));
    bundle.insert("definitions".into(), defs.into_json());
    bundle.insert("requiredExtensions".into(), required_extensions.into());
    bundle.insert("custom".into(), Value::Object(custom));
    Value::Object(bundle)
}

/// cnab-go omits a maintainer's empty email and url, never the name.
fn maintainers(m: &Manifest) -> Value {
    m.maintainers
        .iter()
        .map(|maintainer| {
            let mut entry = Map::new();
            entry.insert("name".into(), maintainer.name.clone().into());
            if !maintainer.email.is_empty() {
                entry.insert("email".into(), maintainer.email.clone().into());
            }
            if !maintainer.url.is_empty() {
                entry.insert("url".into(), maintainer.url.clone().into());
            }
            Value::Object(entry)
        })
        .collect()
}

fn object(entries: BTreeMap<String, Value>) -> Value {
    Value::Object(entries.into_iter().collect())
}

/// Go writes map keys sorted; so do we, for output that diffs cleanly
/// against Porter's (canonical JSON sorts anyway).
fn sort_keys(map: Map<String, Value>) -> Map<String, Value> {
    let sorted: BTreeMap<String, Value> = map.into_iter().collect();
    sorted.into_iter().collect()
}

/// RFC 8785 (JCS) bytes, as cnab-go's `bundle.Marshal` writes bundle.json:
/// no whitespace, keys sorted by UTF-16 code units, ES6 number formatting,
/// minimal string escapes, no trailing newline. Signatures and digests are
/// taken over exactly these bytes.
pub fn to_canonical_json(value: &Value) -> Vec<u8> {
    // Only non-finite numbers fail, and a `Value` cannot hold one.
    serde_jcs::to_vec(value).expect("a serde_json::Value always has a canonical form")
}

/// How a deliberate difference shows in bundle.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifferenceKind {
    /// A field Porter does not write.
    AddedField,
    /// A field Porter writes, with a value that is ours (or the build's).
    OwnValue,
    /// A mapping rule we apply differently; absent from bundles that do not
    /// trigger it.
    Rule,
}

/// One place where our bundle.json differs from Porter's on purpose.
#[derive(Debug, Clone, Copy)]
pub struct Difference {
    /// JSON Pointer of the field; `*` stands for any key of an object.
    pub pointer: &'static str,
    pub kind: DifferenceKind,
    pub why: &'static str,
}

/// Every deliberate difference from Porter's bundle.json, with its reason.
/// The conformance tests remove exactly these pointers before comparing
/// with Porter's golden files.
pub const DELIBERATE_DIFFERENCES: &[Difference] = &[
    Difference {
        pointer: "/custom/sh.porter/mixins/*/digest",
        kind: DifferenceKind::AddedField,
        why: "the sha256 of the mixin's .wasm, so a build records (and can be pinned to) the exact component it ran; Porter records only the version",
    },
    Difference {
        pointer: "/custom/sh.porter/mixins/*/source",
        kind: DifferenceKind::AddedField,
        why: "where the mixin was installed from (the URL or OCI reference, or `file` for a local file, never a path of the build machine), so the pinned component can be fetched again",
    },
    Difference {
        pointer: "/custom/sh.porter/mixins/*/version",
        kind: DifferenceKind::OwnValue,
        why: "the version the mixin component reports, as semver (`1.2.3`): Porter records its mixins' own version strings, which carry a leading `v`",
    },
    Difference {
        pointer: "/custom/sh.porter/version",
        kind: DifferenceKind::OwnValue,
        why: "the version of this implementation, not of Porter",
    },
    Difference {
        pointer: "/custom/sh.porter/commit",
        kind: DifferenceKind::OwnValue,
        why: "the commit of this implementation, not of Porter",
    },
    Difference {
        pointer: "/custom/sh.porter/manifestDigest",
        kind: DifferenceKind::OwnValue,
        why: "also covers each mixin's digest (a rebuilt mixin of the same version invalidates the bundle) and the image's build arguments (a changed --build-arg rebuilds), and the Porter version it hashes is ours",
    },
    Difference {
        pointer: "/invocationImages/0/image",
        kind: DifferenceKind::OwnValue,
        why: "the build names and tags the installer image; this module writes what it is given",
    },
    Difference {
        pointer: "/requiredExtensions",
        kind: DifferenceKind::Rule,
        why: "each key is listed once: Porter repeats a key a `required:` entry also implies (e.g. `parameter-sources`), and cnab-go's Validate rejects such a bundle",
    },
    Difference {
        pointer: "/custom/io.cnab.parameter-sources",
        kind: DifferenceKind::Rule,
        why: "a `required:` entry naming an extension Porter generates (parameter-sources, dependencies, file-parameters) keeps the generated value; Porter replaces it with the entry's config, so `- parameter-sources` wipes every parameter source, porter-state's included",
    },
    Difference {
        pointer: "/definitions/*/maxItems",
        kind: DifferenceKind::Rule,
        why: "kept as the author wrote it; Porter's schema type (cnab-go definition.Schema) has no such field and silently drops the constraint",
    },
    Difference {
        pointer: "/definitions/*/maxProperties",
        kind: DifferenceKind::Rule,
        why: "kept as the author wrote it; cnab-go's definition.Schema has no such field and Porter silently drops the constraint",
    },
];
