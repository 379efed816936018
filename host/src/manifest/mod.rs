//! porter.yaml: reading it into a [`Manifest`] with every problem reported
//! at once (file, line, column, the line itself, what to do), the template
//! variables it uses, and `porter lint`'s rules.
//!
//! - [`load_file`] / [`load_str`]: the entry points; an `Err` holds every
//!   error found, an `Ok` the manifest and any warnings;
//! - [`lint`]: Porter's lint rules plus each mixin's own, run in the sandbox;
//! - [`refusal`]: a mixin hook's `invalid-config` problems, placed in
//!   porter.yaml (mixin_place maps a mixin's pointers back to the file).

pub mod constraint;
pub mod mixin_place;
pub mod model;
mod parse;
mod persistent;
pub mod rules;
pub mod schema;
pub mod schema_version;
pub mod source;
pub mod template;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

pub use constraint::VersionConstraint;
pub use model::*;
pub use source::{Diagnostic, Position, Severity, SourceFile};
pub use template::TemplateUse;
pub use validate::RESERVED_PREFIXES;

use crate::experimental::{Experimental, Flag};

/// Larger than any manifest has reason to be.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// What loading depends on besides the text: Porter's experimental flags
/// (schemaVersion 1.1.0 to 1.3.0, `persistent: true`) and whether the
/// schemaVersion is checked at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    pub experimental: Experimental,
    pub schema_check: SchemaCheck,
}

/// Porter's `schema-check` strategies that porter uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SchemaCheck {
    /// The version must satisfy the supported constraint (Porter's default).
    #[default]
    Exact,
    /// Not checked: what `porter run` does with a bundle already built.
    None,
}

impl LoadOptions {
    pub fn with_flags(experimental: Experimental) -> Self {
        LoadOptions {
            experimental,
            schema_check: SchemaCheck::Exact,
        }
    }

    /// Porter's `porter run`: the bundle was checked when it was built, so
    /// its schemaVersion is not checked again and persistent parameters
    /// expand whatever the image's environment says.
    pub fn runtime() -> Self {
        LoadOptions {
            experimental: Experimental::with([Flag::PersistentParameters]),
            schema_check: SchemaCheck::None,
        }
    }

    /// What remembered checks of a text are keyed by, besides the text.
    pub fn key(&self) -> String {
        format!("{:?};{}", self.schema_check, self.experimental.key())
    }
}

/// A manifest that passed validation, with what it was read from.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub source: SourceFile,
    /// The document as JSON, as written.
    pub document: serde_json::Value,
    pub templates: Vec<TemplateUse>,
    pub warnings: Vec<Diagnostic>,
}

/// Every error found in a manifest (and its warnings), in file order. Its
/// text is the whole report: each diagnostic (already saying `error:` or
/// `warning:`), then a count and what to do next.
#[derive(Debug, Clone)]
pub struct ManifestErrors {
    pub file: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
    /// Said after the count, when there is more to do than fix the errors.
    pub next_step: Option<String>,
}

impl ManifestErrors {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}\n")?;
        }
        let n = self.error_count();
        write!(
            f,
            "{} has {n} error{}",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )?;
        match &self.next_step {
            Some(next) => write!(f, "\n{next}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ManifestErrors {}

/// Reads and validates the manifest at `path`, with no experimental flag.
pub fn load_file(path: &Path) -> anyhow::Result<LoadedManifest> {
    load_file_with_options(path, &LoadOptions::default())
}

/// Reads and validates the manifest at `path`.
pub fn load_file_with_options(
    path: &Path,
    options: &LoadOptions,
) -> anyhow::Result<LoadedManifest> {
    Ok(load_str_with_options(path, read_file(path)?, options)?)
}

/// The text of the manifest at `path`, refused when it is missing, not a
/// file, too large or not UTF-8 (each with what to do).
pub fn read_file(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "could not find {}: run porter in the bundle's directory, or pass --file (or --dir)",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot read {}: {e}", path.display())
        }
    })?;
    if !meta.is_file() {
        anyhow::bail!(
            "{} is not a file: pass the path of porter.yaml with --file",
            path.display()
        );
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        anyhow::bail!(
            "{} is {} MiB, too large for a manifest",
            path.display(),
            meta.len() >> 20
        );
    }
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(text)
}

/// Validates manifest text, with no experimental flag; `path` is only used
/// in messages.
pub fn load_str(path: impl Into<PathBuf>, text: String) -> Result<LoadedManifest, ManifestErrors> {
    load_str_with_options(path, text, &LoadOptions::default())
}

/// Validates manifest text as `options` say.
pub fn load_str_with_options(
    path: impl Into<PathBuf>,
    text: String,
    options: &LoadOptions,
) -> Result<LoadedManifest, ManifestErrors> {
    load_str_with(path, text, options, |_, check| check())
}

/// [`load_str_with_options`], with the checks that follow parsing (a
/// function of the text and `options`, and the costly part: each
/// parameter's schema is compiled) run through `checks`, given the text and
/// the checks: it may answer from an earlier run of the same text and
/// options ([`LoadOptions::key`]) instead.
pub fn load_str_with(
    path: impl Into<PathBuf>,
    text: String,
    options: &LoadOptions,
    checks: impl FnOnce(&str, &mut dyn FnMut() -> Vec<Diagnostic>) -> Vec<Diagnostic>,
) -> Result<LoadedManifest, ManifestErrors> {
    let source = SourceFile::new(path, text);
    let (parsed, mut diagnostics) = parse::parse(&source);
    let Some((mut manifest, document)) = parsed else {
        return Err(ManifestErrors {
            file: source.path.clone(),
            diagnostics,
            next_step: None,
        });
    };
    let delimiters = template::Delimiters::for_schema_version(&manifest.schema_version);
    let templates = template::scan(&document, delimiters);
    manifest.template_variables = templates.iter().map(|t| t.variable.clone()).collect();
    if options.experimental.is_on(Flag::DependenciesV2) {
        expand_dependency_output_shorthand(&mut manifest, &templates);
    }
    // Before the checks, as Porter does: they judge the expanded form.
    diagnostics.extend(persistent::expand(
        &mut manifest,
        &source,
        &document,
        &options.experimental,
    ));
    let mut check = || validate::validate(&source, &manifest, &templates, &document, options);
    let mut checked = checks(&source.text, &mut check);
    // Remembered diagnostics may come from the same text at another path.
    checked
        .iter_mut()
        .for_each(|d| d.file = source.path.clone());
    diagnostics.extend(checked);
    diagnostics.sort_by_key(|d| (d.at.line == 0, d.at));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(ManifestErrors {
            file: source.path.clone(),
            diagnostics,
            next_step: None,
        });
    }
    Ok(LoadedManifest {
        manifest,
        source,
        document,
        templates,
        warnings: diagnostics,
    })
}

/// Dependencies v2: inside a dependency's `outputs` mapping, `${ outputs.X }`
/// is that dependency's output X, `bundle.dependencies.D.outputs.X` (which
/// bundle.json gets a wiring parameter for). Porter drops every other
/// `outputs.X` from the variables it wires.
fn expand_dependency_output_shorthand(manifest: &mut Manifest, templates: &[TemplateUse]) {
    manifest
        .template_variables
        .retain(|v| !v.starts_with("outputs."));
    for use_ in templates {
        let Some(output) = use_.variable.strip_prefix("outputs.") else {
            continue;
        };
        let Some(dependency) = manifest
            .dependencies
            .iter()
            .find(|d| use_.pointer.starts_with(&format!("{}/outputs/", d.pointer)))
        else {
            continue;
        };
        let full = format!("bundle.dependencies.{}.outputs.{output}", dependency.name);
        manifest.template_variables.insert(full);
    }
}
