//! Porter's `CUSTOM_*` build arguments (pkg/build/buildkit/buildx.go,
//! `determineBuildArgs` and `detectCustomBuildArgsUsed`): each value of the
//! manifest's `custom` section, flattened with dots, is passed to the image
//! build as `CUSTOM_<KEY>`, but only when the Dockerfile declares
//! `ARG CUSTOM_<KEY>`. This module does the text part: the argument name for
//! a key, and the names a Dockerfile declares. Flattening the values and
//! passing them stays with the build.

use std::collections::BTreeSet;

use super::parse::{self, DEFAULT_ESCAPE};

const PREFIX: &str = "CUSTOM_";

/// The build argument Porter passes for a flattened `custom` key:
/// `CUSTOM_` + the key upper-cased, with every character outside
/// `[A-Z0-9_]` replaced by `_` (`app.version` -> `CUSTOM_APP_VERSION`).
///
/// Go upper-cases one character at a time (`unicode.ToUpper`), so a
/// character whose upper case is several characters (`ß`) stays as it is and
/// becomes `_`, like any other character outside `[A-Z0-9_]`.
pub fn custom_arg_name(key: &str) -> String {
    let key: String = key.chars().map(crate::go::to_upper).collect();
    PREFIX
        .chars()
        .chain(key.chars().map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        }))
        .collect()
}

/// The `CUSTOM_*` arguments `dockerfile` declares with `ARG`, for the build
/// to pass the matching `custom` values.
///
/// Porter searches the whole text with the regular expression
/// `ARG (CUSTOM_([a-zA-Z0-9_]+))`; this reads `ARG` instructions as Docker
/// does instead, so a commented-out `# ARG CUSTOM_X` does not count, while
/// `arg`, tabs, several names in one `ARG` and continued lines do (see the
/// table of differences in the module documentation).
pub fn declared_custom_args(dockerfile: &str) -> BTreeSet<String> {
    let lines = parse::split_lines(dockerfile);
    let parsed = parse::parse(&lines, DEFAULT_ESCAPE);
    parsed
        .instructions
        .iter()
        .filter(|instruction| instruction.is("ARG"))
        .flat_map(|instruction| {
            instruction
                .words()
                .map(|word| word.split_once('=').map_or(word, |(name, _)| name))
                .filter(|name| is_custom_arg(name))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn is_custom_arg(name: &str) -> bool {
    name.strip_prefix(PREFIX).is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
