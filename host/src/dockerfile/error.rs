//! Why a Dockerfile could not be generated. Line numbers are 1-based lines of
//! the template as the user wrote it; the caller adds the file's path.

/// A template or mixin output porter cannot turn into a working Dockerfile.
/// Each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerfileError {
    #[error(
        "the Dockerfile template has no FROM instruction: add one, for example \
         `FROM debian:stable-slim`, above the other lines"
    )]
    NoFrom,

    #[error(
        "line {line} of the Dockerfile template: FROM names no image: write the \
         base image after FROM, for example `FROM debian:stable-slim`"
    )]
    FromWithoutImage { line: usize },

    #[error(
        "`{marker}` is on lines {first} and {second} of the Dockerfile template, \
         but porter inserts its lines at one place only: delete one of them"
    )]
    DuplicateMarker {
        marker: &'static str,
        first: usize,
        second: usize,
    },

    #[error(
        "`{marker}` on line {line} of the Dockerfile template is above the last FROM \
         (line {last_from}): porter adds the lines that copy the bundle to the last \
         build stage, and they need the init and mixin lines in that stage: move the \
         marker below line {last_from}"
    )]
    MarkerBeforeLastFrom {
        marker: &'static str,
        line: usize,
        last_from: usize,
    },

    #[error(
        "`# PORTER_MIXINS` (line {mixins}) is above `# PORTER_INIT` (line {init}) in \
         the Dockerfile template: mixin lines may use BUNDLE_DIR, BUNDLE_USER, \
         BUNDLE_UID and BUNDLE_GID, which the init lines declare: move \
         `# PORTER_INIT` above `# PORTER_MIXINS`"
    )]
    MixinsBeforeInit { mixins: usize, init: usize },

    #[error(
        "`{marker}` on line {line} of the Dockerfile template is in the middle of the \
         instruction that starts on line {instruction} (a line above it ends with \
         `{escape}`), so the lines porter inserts would become part of that \
         instruction: end the instruction above the marker"
    )]
    MarkerInsideInstruction {
        marker: &'static str,
        line: usize,
        instruction: usize,
        escape: char,
    },

    #[error(
        "the last instruction of the Dockerfile template (line {line}) ends with \
         `{escape}`, so it would swallow the lines porter appends: remove that `{escape}`"
    )]
    TemplateEndsMidInstruction { line: usize, escape: char },

    #[error(
        "line {line} of the Dockerfile template names a build stage `{name}`, a name \
         porter needs for its own stage: rename that stage"
    )]
    ReservedStageName { line: usize, name: String },

    #[error(
        "the Dockerfile lines of mixin `{mixin}` end with `{escape}` (`{last_line}`), \
         which would join them to the lines that follow: this is a bug in the mixin; \
         report it to its author, or use another version of it"
    )]
    MixinLinesEndMidInstruction {
        mixin: String,
        last_line: String,
        escape: char,
    },

    #[error(
        "Dockerfile line {number} of mixin `{mixin}` contains a line break (`{line}`), \
         but each line the build hook returns must be one line of the Dockerfile (an \
         instruction that spans lines is several lines, each but the last ending with \
         `\\`): this is a bug in the mixin; report it to its author, or use another \
         version of it"
    )]
    MixinLineWithLineBreak {
        mixin: String,
        /// 1-based, among the mixin's lines.
        number: usize,
        /// The line with its breaks shown as `\n` and `\r`, cut when long.
        line: String,
    },

    #[error(
        "internal error: the manifest path `{path}` given to the Dockerfile generator \
         is not a relative path inside the build context (use `/`, no `..`); pass \
         none when the manifest lives outside the build context"
    )]
    ManifestPathOutsideContext { path: String },
}
