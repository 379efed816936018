//! `porter build`: load and check the manifest, ask each mixin for its
//! Dockerfile lines, write `.cnab/` (Dockerfile, bundle.json, the files the
//! image carries), build the invocation image, and decide whether anything
//! needs rebuilding.
//!
//! The stages, each a function below, in order (ARCHITECTURE.md, "The
//! pipeline"): [`load`] (porter.yaml, overrides, the installed mixins, the
//! stamp's digest) -> [`is_up_to_date`] -> [`lint_or_fail`] -> [`render`]
//! (the mixins' build hooks, the Dockerfile, bundle.json) -> `stage`
//! (`.cnab/` beside the current one) -> [`Prepared::finish`] (the image,
//! through an [`ImageEngine`], `crate::docker` for the Docker engine; then
//! the image recorded and the staged `.cnab/` swapped in).
//!
//! [`prepare`] runs the stages up to the image and hands back what the user
//! should read before it starts (warnings); [`build`] is both halves. The
//! library prints nothing.

mod downloads;
mod files;
mod image;
mod stage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};
use serde_json::Value;

use crate::cnab::{self, BundleFile, BundleInputs, InvocationImage, MixinRecord, StampInputs};
use crate::dockerfile::{self, MixinLines, Template};
use crate::experimental::{Experimental, Flag};
use crate::home::PorterHome;
use crate::lint;
use crate::lock::{self, Lock};
use crate::manifest::{self, Diagnostic, LoadOptions, LoadedManifest, ManifestErrors};
use crate::memo::{MemoKey, PORTER_NAMESPACE};
use crate::mixin::{BuildRequest, InstalledMixin, MixinHost};

pub use downloads::DEFAULT_MAX_FILE_BYTES;
pub use files::bundle_files;
pub use image::{BuiltImage, ImageEngine, ImageRequest, MAX_BUILD_ARG_LEN};

/// The platform every invocation image is built for.
pub const PLATFORM: &str = "linux/amd64";
/// Porter's version as recorded in bundles this porter builds.
pub const PORTER_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
/// The commit porter was built from (`unknown` outside a git checkout),
/// recorded in bundle.json as Porter records its own.
pub const PORTER_COMMIT: &str = env!("PORTER_COMMIT");

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
    /// `--preserve-tags`: recorded in the stamp, for publishing to keep the
    /// referenced images' tags, as Porter records it.
    pub preserve_tags: bool,
    /// Porter's experimental flags (`crate::config`): the schemaVersions and
    /// `persistent:` porter.yaml may use, and `full-control-dockerfile` (the
    /// custom template is used as it is, nothing inserted or appended).
    pub experimental: Experimental,
    /// `--locked`: exactly the mixins porter.lock records, or fail.
    pub locked: bool,
    /// `--insecure-registry`: plain HTTP to the registries of dependencies
    /// (loopback ones always get it).
    pub insecure_registry: bool,
    /// `--allow-file-downloads` (or Porter's config): the manifest's
    /// `files:` may be downloaded; without it a manifest with any is refused.
    pub allow_file_downloads: bool,
    /// The largest file `files:` may download; `None`: [`DEFAULT_MAX_FILE_BYTES`].
    pub max_file_bytes: Option<u64>,
    /// How `files:` downloads show their progress.
    pub download_progress: crate::download::Progress,
}

impl BuildOptions {
    /// How dependencies' registries are reached.
    pub fn registry(&self) -> crate::oci::RegistryOptions {
        crate::oci::RegistryOptions::from_env(self.insecure_registry)
    }
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
    /// What the user should know (manifest, lint, mixins, Dockerfile); none
    /// of it stopped the build. Each ends without a newline.
    pub warnings: Vec<String>,
}

/// Builds the bundle: everything, with the image built by `engine`, or all
/// but the image without one (`--no-image`).
pub fn build(
    options: &BuildOptions,
    host: &MixinHost,
    engine: Option<&dyn ImageEngine>,
) -> Result<BuildOutcome> {
    prepare(options, host, engine)?.finish(engine)
}

/// A build whose `.cnab/` is staged and whose image is yet to be built.
pub struct Prepared {
    outcome: BuildOutcome,
    /// `None` when the bundle is up to date.
    pending: Option<Pending>,
    /// porter.lock as this build resolved it, written once the build is
    /// done (`None` with `--locked`: the lock is the input then).
    lock: Option<(Lock, PathBuf)>,
}

struct Pending {
    staged: stage::StagedCnab,
    context_dir: PathBuf,
    manifest: manifest::Manifest,
    rendered: Rendered,
    build_args: Vec<(String, String)>,
    no_cache: bool,
}

/// Every stage before the image. `engine` is only asked whether the image
/// the last build recorded is still there.
pub fn prepare(
    options: &BuildOptions,
    host: &MixinHost,
    engine: Option<&dyn ImageEngine>,
) -> Result<Prepared> {
    let mut warnings = Vec::new();
    let loaded = load(options, host, engine.is_some(), &mut warnings)?;
    let cnab_dir = options.dir.join(".cnab");
    let up_to_date = !options.force && is_up_to_date(&cnab_dir, &loaded, engine)?;
    let lock = (!options.locked).then(|| {
        let declarations = &loaded.manifest.manifest.mixins;
        let lock = Lock::of(declarations, &loaded.mixins);
        (lock, lock::path_for(&options.file))
    });
    let mut outcome = BuildOutcome {
        up_to_date,
        cnab_dir,
        invocation_image: loaded.invocation_image.clone(),
        built_image: None,
        warnings: Vec::new(),
    };
    // Porter's order: an unchanged bundle is not even linted again.
    if up_to_date {
        outcome.warnings = warnings;
        return Ok(Prepared {
            outcome,
            pending: None,
            lock,
        });
    }
    if !options.no_lint {
        let lint_options = lint::LintOptions::for_flags(&options.experimental, &options.registry());
        lint_or_fail(
            &loaded.manifest,
            host,
            &loaded.mixins,
            &lint_options,
            &mut warnings,
        )?;
    }
    let rendered = render(options, &loaded, host, &mut warnings)?;
    let runtime = installed_runtime(host.home(), &mut warnings);
    let staged = stage::stage(
        &options.dir,
        &stage::Staged {
            dockerfile: &rendered.dockerfile.text,
            bundle_json: &cnab::to_canonical_json(&rendered.bundle),
            manifest_text: &loaded.text,
            mixins: loaded
                .mixins
                .iter()
                .map(|m| stage::StagedMixin {
                    name: m.name.clone(),
                    wasm: m.wasm_path(),
                    compiled: host.precompiled_file(m),
                })
                .collect(),
            runtime,
            downloads: loaded
                .downloads
                .iter()
                .map(|d| (d.destination.clone(), d.path.clone()))
                .collect(),
        },
    )?;
    outcome.warnings = warnings;
    Ok(Prepared {
        outcome,
        pending: Some(Pending {
            staged,
            context_dir: options.dir.clone(),
            manifest: loaded.manifest.manifest,
            rendered,
            build_args: options.build_args.clone(),
            no_cache: options.no_cache || options.force,
        }),
        lock,
    })
}

impl Prepared {
    /// What the user should read before the image is built.
    pub fn warnings(&self) -> &[String] {
        &self.outcome.warnings
    }

    /// Builds the image with `engine` (none: `--no-image`), records it in
    /// the staged bundle.json and swaps the staged `.cnab/` in. Only a build
    /// that produced its image is ever recorded.
    pub fn finish(self, engine: Option<&dyn ImageEngine>) -> Result<BuildOutcome> {
        let Prepared {
            mut outcome,
            pending,
            lock,
        } = self;
        if let Some((lock, path)) = &lock {
            // Up to date or not, the lock follows what was built; a failed
            // build below returns before it is written.
            if pending.is_none() {
                lock.write_if_changed(path)?;
            }
        }
        let Some(Pending {
            staged,
            context_dir,
            manifest,
            mut rendered,
            build_args,
            no_cache,
        }) = pending
        else {
            return Ok(outcome);
        };
        if let Some(engine) = engine {
            let request = ImageRequest {
                context_dir: &context_dir,
                cnab_dir: staged.path(),
                layout: &rendered.dockerfile.layout,
                tag: &outcome.invocation_image,
                build_args: image::build_args(&manifest, &rendered.dockerfile.text, &build_args)?,
                labels: if rendered.dockerfile.labels_written {
                    BTreeMap::new()
                } else {
                    image::labels(&manifest)
                },
                no_cache,
                mixin_lines: &rendered.mixin_lines,
            };
            let built = engine.build_image(&request)?;
            rendered.image.image_id = Some(built.id.clone());
            rendered.image.size = built.size;
            cnab::set_invocation_image(&mut rendered.bundle, &rendered.image);
            staged.replace_bundle_json(&cnab::to_canonical_json(&rendered.bundle))?;
            outcome.built_image = Some(built);
        }
        outcome.cnab_dir = staged.commit()?;
        if let Some((lock, path)) = &lock {
            lock.write_if_changed(path)?;
        }
        Ok(outcome)
    }
}

/// The manifest as the build reads it, the mixins it gets and the stamp's
/// digest of everything that goes into the build.
struct Loaded {
    /// porter.yaml with `--name`, `--version` and `--custom` applied: the
    /// text the image and the stamp carry.
    text: String,
    manifest: LoadedManifest,
    /// What each declaration under `mixins:` resolved to, in that order.
    mixins: Vec<InstalledMixin>,
    records: Vec<MixinRecord>,
    /// `files:`, downloaded (in the stamp, staged into `.cnab/app`).
    downloads: Vec<downloads::Downloaded>,
    digest: String,
    invocation_image: String,
}

/// Reads porter.yaml (through the manifest loader's checks), applies the
/// overrides, checks it (remembered for an unchanged text), resolves the
/// mixins and computes the stamp's digest. `with_image`: the build
/// arguments go into the image, and so into the digest.
fn load(
    options: &BuildOptions,
    host: &MixinHost,
    with_image: bool,
    warnings: &mut Vec<String>,
) -> Result<Loaded> {
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
    let text = manifest::read_file(&options.file)?;
    let load_options = LoadOptions::with_flags(options.experimental.clone());
    let text = apply_overrides(&options.file, &text, options, &load_options)?;
    let manifest =
        manifest::load_str_with(&options.file, text.clone(), &load_options, |text, check| {
            // The flags decide which schemaVersions pass: part of the key.
            let key = MemoKey::builder(PORTER_NAMESPACE, "manifest-check")
                .field(text)
                .field(&load_options.key())
                .finish();
            host.memo().remembered(&key, check)
        })?;
    warnings.extend(manifest.warnings.iter().map(Diagnostic::to_string));
    let files = &manifest.manifest.files;
    downloads::check_allowed(files, options.allow_file_downloads)?;

    let mixins = if options.locked {
        lock::locked_mixins(host.store(), &manifest, &lock::path_for(&options.file))?
    } else {
        resolve(&manifest, host, &options.file)?
    };
    // Before the up-to-date check too: the last .cnab/ links the same files.
    for mixin in &mixins {
        host.verify_installed(mixin)?;
    }
    let records: Vec<MixinRecord> = mixins.iter().map(MixinRecord::from).collect();
    let build_args = if with_image {
        // As the engine gets them: a later value for a name wins.
        options.build_args.iter().cloned().collect()
    } else {
        if !options.build_args.is_empty() {
            warnings.push(unused_build_args(&options.build_args));
        }
        BTreeMap::new()
    };
    // Before the up-to-date check: the downloaded bytes are in the stamp.
    let downloads = downloads::download_all(
        files,
        &host.home().downloads_dir(),
        options.download_progress,
        options.max_file_bytes.unwrap_or(DEFAULT_MAX_FILE_BYTES),
    )?;
    let downloaded: Vec<BundleFile> = downloads
        .iter()
        .map(|d| BundleFile {
            path: d.destination.clone(),
            sha256: d.sha256.clone(),
            executable: false,
        })
        .collect();
    let digest = cnab::manifest_digest(&StampInputs {
        manifest_text: &text,
        porter_version: PORTER_VERSION,
        mixins: &records,
        files: &bundle_files(dir)?,
        downloads: &downloaded,
        build_args: &build_args,
        experimental: &options.experimental.key(),
    });
    let invocation_image = invocation_image_name(&manifest.manifest)?;
    Ok(Loaded {
        text,
        manifest,
        mixins,
        records,
        downloads,
        digest,
        invocation_image,
    })
}

fn unused_build_args(args: &[(String, String)]) -> String {
    let mut names: Vec<&str> = args.iter().map(|(name, _)| name.as_str()).collect();
    names.dedup();
    format!(
        "warning: --build-arg {} is unused: --no-image builds no image",
        names.join(", ")
    )
}

/// Porter's lint before a build: warnings kept, errors stop the build.
fn lint_or_fail(
    loaded: &LoadedManifest,
    host: &MixinHost,
    mixins: &[InstalledMixin],
    lint_options: &lint::LintOptions,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let findings = lint::lint(loaded, host, mixins, lint_options)?;
    if findings.iter().any(Diagnostic::is_error) {
        return Err(ManifestErrors {
            file: loaded.source.path.clone(),
            diagnostics: findings,
            next_step: Some(
                "lint errors were detected. Rerun with --no-lint to ignore the errors".into(),
            ),
        }
        .into());
    }
    warnings.extend(
        findings
            .iter()
            .filter(|d| !loaded.warnings.contains(d))
            .map(Diagnostic::to_string),
    );
    Ok(())
}

/// What the build writes: the mixins' lines, the Dockerfile and bundle.json
/// (with its invocation image not built yet).
struct Rendered {
    mixin_lines: Vec<MixinLines>,
    dockerfile: dockerfile::Generated,
    bundle: Value,
    image: InvocationImage,
}

fn render(
    options: &BuildOptions,
    loaded: &Loaded,
    host: &MixinHost,
    warnings: &mut Vec<String>,
) -> Result<Rendered> {
    let mixin_lines = mixin_dockerfile_lines(&loaded.manifest, host, &loaded.mixins, warnings)?;
    let dockerfile = generate_dockerfile(options, &loaded.manifest, &mixin_lines, warnings)?;
    let image = InvocationImage {
        image: loaded.invocation_image.clone(),
        image_id: None,
        size: None,
    };
    let dependencies_v2 = options.experimental.is_on(Flag::DependenciesV2);
    let pinned;
    let manifest = if dependencies_v2 && !options.preserve_tags {
        pinned = pin_dependencies(&loaded.manifest.manifest, &options.registry())?;
        &pinned
    } else {
        &loaded.manifest.manifest
    };
    let bundle = cnab::bundle_json(&BundleInputs {
        manifest,
        manifest_text: &loaded.text,
        porter_version: PORTER_VERSION,
        porter_commit: PORTER_COMMIT,
        mixins: &loaded.records,
        invocation_image: &image,
        manifest_digest: &loaded.digest,
        preserve_tags: options.preserve_tags,
        dependencies_v2,
    });
    Ok(Rendered {
        mixin_lines,
        dockerfile,
        bundle,
        image,
    })
}

/// Dependencies v2: each dependency named by a tag (other than `latest`)
/// is recorded by the digest its tag names now, as Porter records it, so
/// installing the bundle later gets what was built against.
fn pin_dependencies(
    m: &manifest::Manifest,
    registry: &crate::oci::RegistryOptions,
) -> Result<manifest::Manifest> {
    let mut pinned = m.clone();
    for d in &mut pinned.dependencies {
        let Some(repository) = tagged_repository(&d.reference) else {
            continue;
        };
        let digest =
            crate::oci::bundle::resolve_digest(&d.reference, registry).with_context(|| {
                format!(
                    "failed to resolve dependency {} ({}) to a digest: publish it, \
                 or build with --preserve-tags to record the tag as written",
                    d.name, d.reference
                )
            })?;
        d.reference = format!("{repository}@{digest}");
    }
    Ok(pinned)
}

/// The repository of a reference by a tag other than `latest` (Porter
/// leaves `latest`, a missing tag and a digest as written).
fn tagged_repository(reference: &str) -> Option<&str> {
    if reference.contains('@') {
        return None;
    }
    let (repository, tag) = reference.rsplit_once(':')?;
    (!tag.contains('/') && tag != "latest").then_some(repository)
}

/// Each declared mixin's Dockerfile lines, in declaration order.
fn mixin_dockerfile_lines(
    loaded: &LoadedManifest,
    host: &MixinHost,
    mixins: &[InstalledMixin],
    warnings: &mut Vec<String>,
) -> Result<Vec<MixinLines>> {
    let mut all = Vec::with_capacity(mixins.len());
    for installed in mixins {
        let (config, actions) = loaded.manifest.mixin_input(&installed.name);
        let request = BuildRequest {
            config,
            actions,
            platform: PLATFORM.to_string(),
        };
        // A refusal naming problems is shown on them, in porter.yaml.
        let output = host
            .build_hook(installed, &request)
            .map_err(|error| lint::located(loaded, error))?;
        let label = format!("{} {}", installed.name, installed.version);
        warnings.extend(
            output
                .warnings
                .iter()
                .map(|w| format!("warning: mixin {label}: {w}")),
        );
        all.push(MixinLines {
            mixin: installed.name.clone(),
            lines: output.dockerfile_lines,
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
    warnings: &mut Vec<String>,
) -> Result<dockerfile::Generated> {
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
            verbatim: options.experimental.is_on(Flag::FullControlDockerfile),
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
        labels: image::labels(&loaded.manifest),
    };
    let generated = dockerfile::generate(template, mixin_lines, &dockerfile_options)?;
    warnings.extend(
        dockerfile::warnings(template, mixin_lines)
            .into_iter()
            .map(|w| format!("warning: {w}")),
    );
    Ok(generated)
}

/// `--name`, `--version` and `--custom` rewrite the manifest the bundle and
/// the image carry. The YAML is re-written only when there is an override
/// (comments are then lost); otherwise the author's text is kept byte for
/// byte.
fn apply_overrides(
    path: &Path,
    text: &str,
    options: &BuildOptions,
    load_options: &LoadOptions,
) -> Result<String> {
    if options.name.is_none() && options.version.is_none() && options.custom.is_empty() {
        return Ok(text.to_string());
    }
    // Errors in the author's file are reported against it, unchanged.
    let loaded = manifest::load_str_with_options(path, text.to_string(), load_options)?;
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

/// What porter.yaml's mixins resolve to among the installed versions; for
/// one that resolves to nothing, the error says what porter.lock records
/// for it, if anything, and the command that installs it.
fn resolve(
    manifest: &LoadedManifest,
    host: &MixinHost,
    file: &Path,
) -> Result<Vec<InstalledMixin>> {
    let resolution = host.store().resolve_declared(manifest);
    if resolution.problems.is_empty() {
        return Ok(resolution.mixins);
    }
    let lock = Lock::read(&lock::path_for(file)).ok().flatten();
    let mut problems = resolution.problems;
    if let Some(lock) = lock {
        for problem in &mut problems {
            let locked = lock
                .mixins
                .iter()
                .find(|m| problem.message.starts_with(&format!("mixin {} ", m.name)));
            if let Some(entry) = locked {
                problem.hint = Some(format!(
                    "porter.lock records {} {} from {}: {}",
                    entry.name,
                    entry.version,
                    entry.source,
                    entry.how_to_install()
                ));
            }
        }
    }
    Err(ManifestErrors {
        file: manifest.source.path.clone(),
        diagnostics: problems,
        next_step: None,
    }
    .into())
}

/// A porter runtime for the image, when one is installed (Porter's
/// `PORTER_HOME/runtimes/porter-runtime`); a warning when none is.
fn installed_runtime(home: &PorterHome, warnings: &mut Vec<String>) -> Option<PathBuf> {
    let path = home.runtime_path();
    if path.is_file() {
        return Some(path);
    }
    warnings.push(format!(
        "warning: no porter runtime is installed ({}), so the image carries none; \
         `cargo xtask install` installs one",
        path.display()
    ));
    None
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
    loaded: &Loaded,
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
    if recorded != Some(loaded.digest.as_str()) || !cnab_dir.join("Dockerfile").is_file() {
        return Ok(false);
    }
    let Some(engine) = engine else {
        return Ok(true);
    };
    match cnab::recorded_image_id(&bundle) {
        Some(id) => engine.has_image(&loaded.invocation_image, id),
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
