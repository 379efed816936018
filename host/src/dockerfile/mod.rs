//! The bundle image's Dockerfile: a template plus each mixin's build lines
//! -> the text `porter build` writes to `.cnab/Dockerfile`. Pure: the caller
//! reads the template file and runs the mixins' build hooks.
//!
//! # What Porter does (pkg/build/dockerfile-generator.go)
//!
//! - The template is `dockerfile:` from porter.yaml, else the built-in one
//!   (pkg/templates/templates/build/buildkit.Dockerfile). It is read line by
//!   line (a final newline and `\r`s dropped).
//! - Two markers, matched on any line whose trimmed text *starts with* them
//!   (pkg/build/build.go): `# PORTER_INIT` is replaced by the init lines
//!   (`ARG BUNDLE_DIR`, `ARG BUNDLE_UID=65532`, `ARG BUNDLE_USER=nonroot`,
//!   `ARG BUNDLE_GID=0`, `RUN useradd ...`), or they are inserted after the
//!   FROM when it is missing (since #2998); `# PORTER_MIXINS` is replaced by
//!   the mixins' lines, or they are appended when it is missing.
//! - The mixins' lines are the stdout of each declared mixin's `build`, in
//!   declaration order, split on `\n`; as every mixin ends its output with a
//!   newline, each one is followed by a blank line.
//! - Lines that copy the bundle directory and `.cnab` into the image, then
//!   `USER ${BUNDLE_UID}`, `WORKDIR ${BUNDLE_DIR}` and `CMD ["/cnab/app/run"]`
//!   are appended whatever the template holds. Lines are joined with `\n`,
//!   without a final newline.
//! - With the `full-control-dockerfile` experimental flag the template is
//!   used as it is ([`Template::Custom`] with `verbatim`).
//!
//! The image keeps Porter's layout (research notes 2.4): the bundle
//! directory in `/cnab/app` with `.cnab/app` laid over it (the `run` script,
//! the canonical `porter.yaml`, `runtimes/`, `mixins/<name>.wasm`), and
//! `.cnab/bundle.json` as `/cnab/bundle.json`; the user's own porter.yaml is
//! removed.
//!
//! Porter's golden files for all this are in tests/fixtures/porter/build/;
//! tests/dockerfile_generation.rs turns each into what we generate, one
//! difference below at a time.
//!
//! # Where we deliberately differ
//!
//! | # | Porter | Here | Why |
//! |---|--------|------|-----|
//! | 1 | Adds `# syntax=docker/dockerfile:1` when the template has none. | Adds nothing (a template's own `# syntax=` line is kept). | BuildKit pulls the frontend image the line names, which fails offline; the classic builder does not need it. |
//! | 2 | Default template: `FROM --platform=linux/amd64 debian:stable-slim`. | `FROM debian:stable-slim`. | The platform is the build's choice, not the template's (Porter #2870: amd64 only). |
//! | 3 | Default template: apt's keep-cache setting, then `RUN --mount=type=cache,...` for `apt-get update && apt-get install -y ca-certificates`. | One `RUN apt-get update && apt-get install -y ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*`. | `RUN --mount` needs BuildKit. `apt-get clean` and removing the lists keep apt's caches out of the image as the cache mount did (80 MB on a base without Docker's `docker-clean` apt setting, such as a debootstrapped one); mixins run `apt-get update` themselves, as with Porter. |
//! | 4 | `COPY --link . ${BUNDLE_DIR}`, `RUN rm ${BUNDLE_DIR}/porter.yaml`, `RUN rm -fr ${BUNDLE_DIR}/.cnab`, `COPY --link .cnab /cnab`, `RUN chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab` in the image: `.cnab` is stored three times and the bundle files twice (Porter #3488), and an edit re-runs every step from the first `COPY`. | When nothing but porter's lines reads the build context (the default template, and any template and mixin lines without a `COPY`/`ADD` from it): `WORKDIR`, `USER`, `CMD` and the labels first, then `COPY --chown=0:${BUNDLE_GID} porter-runtime /cnab` (runtime and mixins) and `COPY --chown=0:${BUNDLE_GID} porter-bundle /cnab` (the bundle's files, the manifest, `run`, bundle.json, the Dockerfile) from a context porter lays out as `/cnab`, modes already `g=u` ([`ContextLayout::Split`]). Otherwise the same steps as Porter's in a stage `porter-cnab` above the last FROM, and `COPY --from=porter-cnab /porter-cnab /cnab`, which keeps owner, group and mode. Either way the image's files, modes, owners and groups are Porter's. | One copy of each file, with the classic builder (Porter's fix, `optimized-bundle-build`, needs BuildKit). An edit of a bundle file re-runs one `COPY`, which writes each of its bytes once: the rebuild costs what one `COPY` of the context costs (BENCHMARKS.md). A template that copies from the context gets the bundle directory at the context's root, as Docker's CLI would send it. |
//! | 5 | The `chgrp -R` / `chmod -R g=u` also covers what template and mixin lines put under `/cnab` (a binary in Porter's goldens, `terraform init` output for the terraform mixin). | `RUN if [ -d /cnab ]; then chgrp -R ... /cnab && chmod -R g=u /cnab; fi` before porter's copies, only for a custom template or when a mixin has instructions. | Those files keep working for a non-root user, without a second copy of the bundle; the default template with comment-only mixin output (exec) does not need it. |
//! | 6 | `RUN rm ${BUNDLE_DIR}/<manifest>` fails when `.dockerignore` leaves the manifest out, and breaks on a path with spaces. | `rm -fr`, with the path quoted for the shell when needed. | Ignoring porter.yaml in `.dockerignore` is reasonable; odd paths happen. |
//! | 7 | A missing `# PORTER_INIT` goes after the *first* FROM. | After the *last* FROM. | The appended lines (`COPY`, `USER ${BUNDLE_UID}`) run in the last stage and need the init lines' `ARG`s there. Same place for a single-stage template, as in all of Porter's goldens. |
//! | 8 | FROM is a line starting with `FROM`. | A FROM instruction as Docker reads it: any case, continued lines, not inside another instruction. | With `from debian`, Porter put the init lines above the FROM. |
//! | 9 | Only the first of two identical markers is used, the other stays as a comment; markers are used wherever they are. | Errors: a marker twice, a marker above the last FROM, `# PORTER_MIXINS` above `# PORTER_INIT`, a marker in the middle of a continued instruction. | Each gave a Dockerfile that fails to build or silently lacks lines; the messages say what to move. |
//! | 10 | No check that an instruction is finished. | Errors: a template whose last instruction ends with `\` (it would swallow the appended lines), a mixin whose lines end with `\` (it would swallow the next mixin's). | Same reason. |
//! | 11 | (no stage of its own) | The stage name `porter-cnab` is reserved in templates. | Follows from 4. |
//! | 12 | `CUSTOM_*` arguments: the regular expression `ARG (CUSTOM_([a-zA-Z0-9_]+))` over the whole text. | `ARG` instructions as Docker parses them ([`declared_custom_args`]). | A commented-out `ARG` no longer counts; `arg`, tabs, several names per `ARG` and continued lines do. |
//! | 13 | A UTF-8 byte order mark stays at the start of the first line. | Dropped (Docker drops it too). | Lines are now inserted above the FROM, which would put it mid-file. |
//! | 14 | `verbatim`: the template re-joined line by line (no final newline, `\r\n` -> `\n`); mixin lines dropped silently. | The template byte for byte; a warning names the mixins whose instructions are left out. | Verbatim means verbatim; a mixin's tools missing from the image should not be a surprise at run time. |
//! | 15 | The image's labels are passed to the engine, which adds them as a last step. | One `LABEL` line above porter's copies (a verbatim template still gets them from the engine). | A step after the bundle's files is re-run on every edit. |
//!
//! Not differences: the init lines, the markers and their prefix matching,
//! where mixin lines go, the blank line after each mixin, the `USER` /
//! `WORKDIR` / `CMD` lines (their order aside, see 4) and the missing final
//! newline are Porter's.

mod build_args;
mod buildkit;
mod error;
mod generate;
mod parse;
mod sections;

pub use build_args::{custom_arg_name, declared_custom_args};
pub use buildkit::{BuildKitOnly, buildkit_only_syntax};
pub use error::DockerfileError;

use std::collections::BTreeMap;

/// Replaced by the init lines (build arguments and the bundle user).
pub const INIT_MARKER: &str = "# PORTER_INIT";

/// Replaced by the mixins' lines.
pub const MIXINS_MARKER: &str = "# PORTER_MIXINS";

/// The template used when porter.yaml has no `dockerfile:`. Builds with the
/// classic builder and offline (given the base image): no `# syntax=` line,
/// no `RUN --mount`, no `COPY --link`.
pub const DEFAULT_TEMPLATE: &str = "\
FROM debian:stable-slim

# PORTER_INIT

RUN apt-get update && apt-get install -y ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*

# PORTER_MIXINS

";

/// The Dockerfile lines one declared mixin's build hook returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MixinLines {
    /// The mixin's name, for messages.
    pub mixin: String,
    /// In order. A line containing `\n` counts as several lines; empty
    /// lines are kept.
    pub lines: Vec<String>,
}

impl MixinLines {
    pub fn new(
        mixin: impl Into<String>,
        lines: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        MixinLines {
            mixin: mixin.into(),
            lines: lines.into_iter().map(Into::into).collect(),
        }
    }
}

/// The template to generate from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template<'a> {
    /// [`DEFAULT_TEMPLATE`].
    Default,
    /// The text of the file porter.yaml's `dockerfile:` names. `verbatim`
    /// (Porter's `full-control-dockerfile`): used as it is, nothing added.
    Custom { text: &'a str, verbatim: bool },
}

/// What the generated Dockerfile depends on besides the template and the
/// mixins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The user's porter.yaml, relative to the build context with `/`
    /// separators, so the image does not keep it next to the canonical one;
    /// `None` when it lives outside the build context (Porter then leaves it
    /// alone too). Default: `porter.yaml`.
    pub manifest_in_context: Option<String>,
    /// The image's labels, written as one `LABEL` above the bundle's files
    /// (labels the engine API adds become a step after them, re-run on
    /// every edit). A verbatim template does not get them: the caller
    /// passes them to the engine instead ([`Generated::labels_written`]).
    pub labels: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            manifest_in_context: Some("porter.yaml".to_string()),
            labels: BTreeMap::new(),
        }
    }
}

/// What [`generate`] made: the Dockerfile and how the build context must be
/// laid out for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub text: String,
    pub layout: ContextLayout,
    /// Whether the text sets [`Options::labels`] itself.
    pub labels_written: bool,
}

/// How the build context is laid out for a generated Dockerfile. porter
/// writes the context itself (docker/context.rs), so it can put each file
/// where one `COPY` takes it to its place in the image, with its final mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextLayout {
    /// The bundle directory at the root with `.cnab/` beside its files, as
    /// Docker's CLI would send it: for a template (or a mixin's lines) that
    /// copies from the context (`COPY . ${BUNDLE_DIR}`, `COPY mybin
    /// /cnab/app/`), and for a verbatim one. Modes as on disk (0644/0755);
    /// the `porter-cnab` stage gives the group the owner's permissions.
    BundleAtRoot,
    /// Laid out as the image's `/cnab`, in two trees the Dockerfile copies
    /// with one `COPY --chown=0:${BUNDLE_GID}` each: [`RUNTIME_TREE`] (the
    /// runtime and the mixins, which an edit of the bundle does not change,
    /// so their layer comes from the cache) and then [`BUNDLE_TREE`] (the
    /// bundle's files under `app/` with porter's `run` and manifest over
    /// them, `bundle.json`, the Dockerfile). Modes are final in the tar: the
    /// group has the owner's permissions (0664, 0775), as Porter's
    /// `chmod -R g=u` gives them, so no step rewrites the files.
    Split {
        /// The author's manifest in the bundle directory (`/` separated),
        /// left out: the canonical one takes its place.
        manifest: Option<String>,
    },
}

/// [`ContextLayout::Split`]: the tree copied first (runtime and mixins).
pub const RUNTIME_TREE: &str = "porter-runtime";
/// Expands to [`BUNDLE_TREE`] as a literal, so the Dockerfile's path in it
/// is built from the same text.
macro_rules! bundle_tree {
    () => {
        "porter-bundle"
    };
}

/// [`ContextLayout::Split`]: the tree copied last (everything else).
pub const BUNDLE_TREE: &str = bundle_tree!();

impl ContextLayout {
    /// Where the Dockerfile is in the context.
    pub fn dockerfile_path(&self) -> &'static str {
        match self {
            ContextLayout::BundleAtRoot => ".cnab/Dockerfile",
            ContextLayout::Split { .. } => concat!(bundle_tree!(), "/Dockerfile"),
        }
    }
}

/// The Dockerfile for `template` and the mixins' lines (one entry per
/// declared mixin, in declaration order): the text for `.cnab/Dockerfile`.
pub fn generate(
    template: Template<'_>,
    mixins: &[MixinLines],
    options: &Options,
) -> Result<Generated, DockerfileError> {
    match template {
        Template::Default => generate::from_template(DEFAULT_TEMPLATE, false, mixins, options),
        Template::Custom {
            text,
            verbatim: false,
        } => generate::from_template(text, true, mixins, options),
        Template::Custom {
            text,
            verbatim: true,
        } => Ok(Generated {
            text: text.to_string(),
            layout: ContextLayout::BundleAtRoot,
            labels_written: false,
        }),
    }
}

/// What the user should know about the Dockerfile [`generate`] makes from
/// the same input, though it does not stop the build: a verbatim template
/// leaving mixin instructions out, a `CMD` or `ENTRYPOINT` in the last stage
/// (porter's `CMD ["/cnab/app/run"]` replaces the first and would be the
/// second's arguments), a mixin starting a new stage. Each is a sentence
/// that says what to do.
pub fn warnings(template: Template<'_>, mixins: &[MixinLines]) -> Vec<String> {
    match template {
        Template::Default => generate::warnings(DEFAULT_TEMPLATE, mixins),
        Template::Custom {
            text,
            verbatim: false,
        } => generate::warnings(text, mixins),
        Template::Custom {
            text: _,
            verbatim: true,
        } => verbatim_warnings(mixins),
    }
}

/// Mixins whose instructions a verbatim template leaves out (comment-only
/// output, like exec's, is not worth a warning).
fn verbatim_warnings(mixins: &[MixinLines]) -> Vec<String> {
    let left_out: Vec<&str> = mixins
        .iter()
        .filter(|m| {
            m.lines.iter().flat_map(|l| l.split('\n')).any(|line| {
                let line = line.trim();
                !line.is_empty() && !line.starts_with('#')
            })
        })
        .map(|m| m.mixin.as_str())
        .collect();
    if left_out.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "the Dockerfile template is used verbatim, so it does not get the Dockerfile lines of \
         mixin(s) {}: copy what the bundle needs from them into the template",
        left_out.join(", ")
    )]
}
