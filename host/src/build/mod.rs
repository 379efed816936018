//! `porter build`: load and check the manifest, ask each mixin for its
//! Dockerfile lines, write `.cnab/` (Dockerfile, bundle.json, the files the
//! image carries), build the invocation image, and decide whether anything
//! needs rebuilding.
//!
//! Stages, in order (DESIGN.md section 2): manifest -> up-to-date check ->
//! lint -> mixins' build hooks -> Dockerfile -> bundle.json -> stage
//! `.cnab/` -> image (through an [`ImageEngine`], `crate::docker` for the
//! Docker engine) -> record the image and swap the staged `.cnab/` in.

mod files;
mod image;
mod stage;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};
use serde_json::Value;

use crate::cnab::{self, BundleInputs, InvocationImage, MixinRecord};
use crate::dockerfile::{self, MixinLines, Template};
use crate::manifest::{self, Diagnostic, LoadedManifest};
use crate::mixin::memo::{MemoKey, PORTER_NAMESPACE};
use crate::mixin::{BuildRequest, InstalledMixin, MixinHost};

pub use files::bundle_files;
pub use image::{BUNDLE_DIR, BuiltImage, ImageEngine, ImageRequest, MAX_BUILD_ARG_LEN};
pub use stage::RUN_SCRIPT;

/// The platform every invocation image is built for.
pub const PLATFORM: &str = "linux/amd64";
/// Porter's version as recorded in bundles this porter builds.
pub const PORTER_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
/// Porter records its commit; a build from a source tree has none to give.
pub const PORTER_COMMIT: &str = "";

/// What `porter build` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The bundle's directory (the build context).
    pub dir: PathBuf,
    /// porter.yaml; relative paths are relative to the current directory.
    pub file: PathBuf,
    pub name: Option<String>,
    pub version: Option<String>,
    /// `--custom a.b=c`: set `custom.a.b` to `"c"`.
    pub custom: Vec<(String, String)>,
    /// `--build-arg NAME=VALUE`, for the image build.
    pub build_args: Vec<(String, String)>,
    pub no_lint: bool,
    /// Build the image without the engine's layer cache.
    pub no_cache: bool,
    pub force: bool,
}

/// What a build produced.
#[derive(Debug)]
pub struct BuildOutcome {
    /// True when nothing changed since the last build and nothing was done.
    pub up_to_date: bool,
    pub cnab_dir: PathBuf,
    pub invocation_image: String,
    /// The image built, when an engine built one.
    pub built_image: Option<BuiltImage>,
}

/// Builds the bundle: everything, with the image built by `engine`, or all
/// but the image without one (`--no-image`). Warnings (manifest, lint,
/// mixins) go to stderr as they are found, before the engine's progress.
pub fn build(
    options: &BuildOptions,
    host: &MixinHost,
    engine: Option<&dyn ImageEngine>,
) -> Result<BuildOutcome> {
    let dir = &options.dir;
    if !dir.is_dir() {
        bail!(
            "{} is not a directory: pass the bundle's directory with --dir",
            dir.display()
        );
    }
    let clash = dir.join("porter");
    if clash.exists() {
        bail!(
            "{} must not exist: porter uses that name inside the image; rename it",
            clash.display()
        );
    }
    let manifest_text = std::fs::read_to_string(&options.file).with_context(|| {
        format!(
            "could not find {}: run porter in the bundle's directory, or pass --file (or --dir)",
            options.file.display()
        )
    })?;
    let manifest_text = apply_overrides(&options.file, &manifest_text, options)?;
    // The checks of an unchanged porter.yaml are answered from memory.
    let loaded = manifest::load_str_with(&options.file, manifest_text.clone(), |text, check| {
        let key = MemoKey::builder(PORTER_NAMESPACE, "manifest-check")
            .field(text)
            .finish();
        host.remembered(&key, check)
    })?;
    for warning in &loaded.warnings {
        warn(warning.to_string());
    }

    // Porter's order: an unchanged bundle is not even linted again.
    let mixins = resolve_mixins(&loaded, host)?;
    let records: Vec<MixinRecord> = mixins.iter().map(MixinRecord::from).collect();
    let files = bundle_files(dir)?;
    let digest = cnab::manifest_digest(&manifest_text, PORTER_VERSION, &records, &files);
    let invocation_image = invocation_image_name(&loaded.manifest)?;
    let cnab_dir = dir.join(".cnab");

    if !options.force && is_up_to_date(&cnab_dir, &digest, &invocation_image, engine)? {
        return Ok(BuildOutcome {
            up_to_date: true,
            cnab_dir,
            invocation_image,
            built_image: None,
        });
    }

    if !options.no_lint {
        lint_or_fail(&loaded, host)?;
    }
    let mixin_lines = mixin_dockerfile_lines(&loaded, host, &mixins)?;
    let dockerfile_text = generate_dockerfile(options, &loaded, &mixin_lines)?;

    let mut image = InvocationImage {
        image: invocation_image.clone(),
        content_digest: None,
        image_id: None,
        size: None,
    };
    let mut bundle = cnab::bundle_json(&BundleInputs {
        manifest: &loaded.manifest,
        manifest_text: &manifest_text,
        porter_version: PORTER_VERSION,
        porter_commit: PORTER_COMMIT,
        mixins: &records,
        invocation_image: &image,
        manifest_digest: &digest,
        preserve_tags: false,
    });
    let bundle_bytes = cnab::to_canonical_json(&bundle);
    let runtime = installed_runtime(host);
    if runtime.is_none() {
        warn(
            "warning: no porter runtime is installed (PORTER_HOME/runtimes/porter-runtime), so the image carries none; \
             `cargo xtask install` installs one"
                .to_string(),
        );
    }
    let staged = stage::Staged {
        dockerfile: &dockerfile_text,
        bundle_json: &bundle_bytes,
        manifest_text: &manifest_text,
        mixins: mixins
            .iter()
            .map(|m| (m.name.clone(), m.wasm_path()))
            .collect(),
        runtime,
    };
    let staged = stage::stage(dir, &staged)?;

    let built_image = match engine {
        Some(engine) => {
            let request = ImageRequest {
                context_dir: dir,
                cnab_dir: staged.path(),
                dockerfile: ".cnab/Dockerfile",
                tag: &invocation_image,
                build_args: image::build_args(
                    &loaded.manifest,
                    &dockerfile_text,
                    &options.build_args,
                )?,
                labels: image::labels(&loaded.manifest),
                no_cache: options.no_cache || options.force,
                mixin_lines: &mixin_lines,
            };
            let built = engine.build_image(&request)?;
            // Recorded in the staged bundle.json, swapped in just below:
            // only a build that produced an image is ever recorded.
            image.image_id = Some(built.id.clone());
            image.size = built.size;
            cnab::set_invocation_image(&mut bundle, &image);
            staged.replace_bundle_json(&cnab::to_canonical_json(&bundle))?;
            Some(built)
        }
        None => None,
    };
    let cnab_dir = staged.commit()?;
    Ok(BuildOutcome {
        up_to_date: false,
        cnab_dir,
        invocation_image,
        built_image,
    })
}

fn warn(warning: String) {
    eprintln!("{warning}\n");
}

/// Porter's lint before a build: warnings shown, errors stop the build.
fn lint_or_fail(loaded: &LoadedManifest, host: &MixinHost) -> Result<()> {
    let findings = manifest::lint::lint(loaded, host)?;
    let (errors, others): (Vec<_>, Vec<_>) = findings.into_iter().partition(Diagnostic::is_error);
    others
        .iter()
        .filter(|d| !loaded.warnings.contains(d))
        .for_each(|d| warn(d.to_string()));
    if !errors.is_empty() {
        let shown: Vec<String> = errors.iter().map(Diagnostic::to_string).collect();
        bail!(
            "{}\n\nlint errors were detected. Rerun with --no-lint to ignore the errors",
            shown.join("\n\n")
        );
    }
    Ok(())
}

/// Each declared mixin's Dockerfile lines, in declaration order.
fn mixin_dockerfile_lines(
    loaded: &LoadedManifest,
    host: &MixinHost,
    mixins: &[InstalledMixin],
) -> Result<Vec<MixinLines>> {
    let mut all = Vec::with_capacity(mixins.len());
    for installed in mixins {
        let (lines, mixin_warnings) = run_build_hook(loaded, host, installed)?;
        for w in mixin_warnings {
            warn(format!(
                "warning: mixin {} {}: {w}",
                installed.name, installed.version
            ));
        }
        all.push(MixinLines {
            mixin: installed.name.clone(),
            lines,
        });
    }
    Ok(all)
}

/// The Dockerfile: the default template or the manifest's `dockerfile:`,
/// with the mixins' lines.
fn generate_dockerfile(
    options: &BuildOptions,
    loaded: &LoadedManifest,
    mixin_lines: &[MixinLines],
) -> Result<String> {
    let dir = &options.dir;
    let template_text = match &loaded.manifest.dockerfile {
        Some(relative) => {
            let path = dir.join(relative);
            Some(std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read the Dockerfile template {} (dockerfile: in porter.yaml)",
                    path.display()
                )
            })?)
        }
        None => None,
    };
    let template = match &template_text {
        Some(text) => Template::Custom {
            text,
            verbatim: full_control_dockerfile(),
        },
        None => Template::Default,
    };
    // The author's manifest is replaced in the image by the one .cnab carries.
    let manifest_in_context = options.file.canonicalize().ok().and_then(|file| {
        file.strip_prefix(dir.canonicalize().ok()?)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    });
    let dockerfile_options = dockerfile::Options {
        manifest_in_context,
    };
    let text = dockerfile::generate(template, mixin_lines, &dockerfile_options)?;
    for w in dockerfile::warnings(template, mixin_lines) {
        warn(format!("warning: {w}"));
    }
    Ok(text)
}

/// `--name`, `--version` and `--custom` rewrite the manifest the bundle and
/// the image carry. The YAML is re-written only when there is an override
/// (comments are then lost); otherwise the author's text is kept byte for
/// byte.
fn apply_overrides(path: &Path, text: &str, options: &BuildOptions) -> Result<String> {
    if options.name.is_none() && options.version.is_none() && options.custom.is_empty() {
        return Ok(text.to_string());
    }
    // Errors in the author's file are reported against it, unchanged.
    let loaded = manifest::load_str(path, text.to_string())?;
    let mut document = loaded.document;
    let root = document
        .as_object_mut()
        .context("porter.yaml is a mapping")?;
    if let Some(name) = &options.name {
        root.insert("name".into(), Value::String(name.clone()));
    }
    if let Some(version) = &options.version {
        root.insert("version".into(), Value::String(version.clone()));
    }
    for (key, value) in &options.custom {
        let mut node = root
            .entry("custom")
            .or_insert_with(|| Value::Object(Default::default()));
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if !node.is_object() {
                *node = Value::Object(Default::default());
            }
            let map = node.as_object_mut().expect("made an object above");
            if i == parts.len() - 1 {
                map.insert(part.to_string(), Value::String(value.clone()));
                break;
            }
            node = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
        }
    }
    Ok(serde_saphyr::to_string(&document)?)
}

/// The installed version of each declared mixin, in declaration order.
fn resolve_mixins(loaded: &LoadedManifest, host: &MixinHost) -> Result<Vec<InstalledMixin>> {
    let mut resolved = Vec::new();
    let mut problems = Vec::new();
    for declaration in &loaded.manifest.mixins {
        match host
            .store()
            .resolve(&declaration.name, declaration.constraint.as_ref())
        {
            Ok(installed) => resolved.push(installed),
            Err(e) => {
                let at = loaded.source.locations.value(&declaration.pointer);
                problems.push(
                    Diagnostic::error(&loaded.source, at, e.message)
                        .hint(e.hint)
                        .to_string(),
                );
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n\n"));
    }
    Ok(resolved)
}

/// One mixin's Dockerfile lines and warnings, from its build hook.
fn run_build_hook(
    loaded: &LoadedManifest,
    host: &MixinHost,
    installed: &InstalledMixin,
) -> Result<(Vec<String>, Vec<String>)> {
    let (config, actions) = manifest::lint::mixin_input(&loaded.manifest, &installed.name);
    let request = BuildRequest {
        config,
        actions,
        platform: PLATFORM.to_string(),
    };
    // A refusal naming problems is shown on them, in porter.yaml.
    let output = host
        .build_hook(installed, &request)
        .map_err(|error| manifest::refusal::located(loaded, error))?;
    Ok((output.dockerfile_lines, output.warnings))
}

/// Porter's experimental `full-control-dockerfile` (set in
/// `PORTER_EXPERIMENTAL`, comma-separated, as Porter reads it): the custom
/// template is used as it is, nothing inserted or appended.
fn full_control_dockerfile() -> bool {
    std::env::var("PORTER_EXPERIMENTAL").is_ok_and(|flags| {
        flags
            .split(',')
            .any(|f| f.trim() == "full-control-dockerfile")
    })
}

/// A porter runtime for the image, when one is installed in
/// `PORTER_HOME/runtimes/porter-runtime` (Porter's layout).
fn installed_runtime(host: &MixinHost) -> Option<PathBuf> {
    let path = host
        .store()
        .dir()
        .parent()?
        .join("runtimes")
        .join("porter-runtime");
    path.is_file().then_some(path)
}

/// The bundle's reference: `reference`, or `<registry>/<name>`, tagged
/// `v<version>` (`+` becomes `_`) when it has no tag.
pub fn bundle_reference(m: &manifest::Manifest) -> String {
    let base = match (&m.reference, &m.registry) {
        (Some(reference), _) if !reference.is_empty() => reference.clone(),
        (_, Some(registry)) => format!("{}/{}", registry.trim_end_matches('/'), m.name),
        _ => m.name.clone(),
    };
    let last = base.rsplit('/').next().unwrap_or(&base);
    if last.contains(':') || base.contains('@') {
        base
    } else {
        format!("{base}:v{}", m.version.to_string().replace('+', "_"))
    }
}

/// Porter's invocation image name: `<repository>:porter-<md5 of the bundle
/// reference>`. It depends on the reference only, not on content.
pub fn invocation_image_name(m: &manifest::Manifest) -> Result<String> {
    let reference = bundle_reference(m);
    let repository = match reference.rsplit_once('@') {
        Some((repo, _)) => repo.to_string(),
        None => {
            let (head, last) = reference
                .rsplit_once('/')
                .map_or(("", reference.as_str()), |(h, l)| (h, l));
            let name = last.split(':').next().unwrap_or(last);
            if head.is_empty() {
                name.to_string()
            } else {
                format!("{head}/{name}")
            }
        }
    };
    let hash = hex::encode(Md5::digest(reference.as_bytes()));
    Ok(format!("{repository}:porter-{hash}"))
}

/// The last build's stamp digest equals this one's and, when an image is
/// wanted, the image that build recorded is still the one the tag names.
fn is_up_to_date(
    cnab_dir: &Path,
    digest: &str,
    reference: &str,
    engine: Option<&dyn ImageEngine>,
) -> Result<bool> {
    let Ok(text) = std::fs::read(cnab_dir.join("bundle.json")) else {
        return Ok(false);
    };
    let Ok(bundle) = serde_json::from_slice::<Value>(&text) else {
        return Ok(false);
    };
    let recorded = bundle
        .pointer("/custom/sh.porter/manifestDigest")
        .and_then(Value::as_str);
    if recorded != Some(digest) || !cnab_dir.join("Dockerfile").is_file() {
        return Ok(false);
    }
    let Some(engine) = engine else {
        return Ok(true);
    };
    match cnab::recorded_image_id(&bundle) {
        Some(id) => engine.has_image(reference, id),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(extra: &str) -> manifest::Manifest {
        let text = format!(
            "schemaVersion: 1.0.1\nname: mybuns\nversion: 0.1.2\n{extra}mixins: [exec]\ninstall: [{{exec: {{command: x}}}}]\nuninstall: [{{exec: {{command: x}}}}]\n"
        );
        manifest::load_str("porter.yaml", text).unwrap().manifest
    }

    #[test]
    fn invocation_image_is_named_as_porter_names_it() {
        let m = manifest("registry: localhost:5000\n");
        assert_eq!(bundle_reference(&m), "localhost:5000/mybuns:v0.1.2");
        // The golden bundle.json of Porter's mybuns test bundle.
        assert_eq!(
            invocation_image_name(&m).unwrap(),
            "localhost:5000/mybuns:porter-332dd75c541511a27fc332bdcd049d5b"
        );
        let m = manifest("reference: example.com/org/app:v9\n");
        assert_eq!(bundle_reference(&m), "example.com/org/app:v9");
        assert!(
            invocation_image_name(&m)
                .unwrap()
                .starts_with("example.com/org/app:porter-")
        );
    }
}
