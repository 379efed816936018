//! The lines porter writes into every generated Dockerfile: the init lines
//! (Porter's `buildInitSection`, unchanged), the stage that assembles `/cnab`
//! and the lines appended at the end (our replacement for Porter's
//! `buildPorterSection`, `buildCNABSection`, `buildWORKDIRSection` and
//! `buildCMDSection`; see the table of differences in the module docs).

use std::collections::BTreeMap;

use super::{BUNDLE_TREE, RUNTIME_TREE};
use crate::layout::{CNAB_DIR, RUN_PATH};

/// The build stage that assembles `/cnab`; reserved in templates.
pub(crate) const STAGE: &str = "porter-cnab";

/// Where that stage assembles the tree that becomes `/cnab`: a directory of
/// its own, so nothing the base image has under `/cnab` is copied again.
const STAGE_DIR: &str = "/porter-cnab";

/// Porter's `buildInitSection`, line for line: the bundle's build arguments
/// and a non-root user in the root group.
pub(crate) const INIT: [&str; 5] = [
    "ARG BUNDLE_DIR",
    "ARG BUNDLE_UID=65532",
    "ARG BUNDLE_USER=nonroot",
    "ARG BUNDLE_GID=0",
    "RUN useradd ${BUNDLE_USER} -m -u ${BUNDLE_UID} -g ${BUNDLE_GID} -o",
];

/// The stage inserted above the last FROM. It does what Porter's legacy
/// section does in the final image (copy the bundle directory to
/// `/cnab/app`, remove the user's manifest and the copied `.cnab`, lay `.cnab`
/// over it, give the root group the owner's permissions), so that the
/// final image receives the result with one `COPY --from`, which keeps
/// owner, group and mode. `base` is the last FROM's flags and image: that
/// image has the shell the init lines need. `USER 0` because a base image
/// may set another user.
///
/// The bundle directory is `/cnab/app` (the CNAB layout): Porter passes
/// `BUNDLE_DIR=/cnab/app` after the user's build arguments, so it never
/// differs.
pub(crate) fn staging_stage(base: &str, user_manifest: Option<&str>) -> Vec<String> {
    let mut remove = format!("RUN rm -fr {STAGE_DIR}/app/.cnab");
    if let Some(manifest) = user_manifest {
        remove.push(' ');
        remove.push_str(&shell_word(&format!("{STAGE_DIR}/app/{manifest}")));
    }
    vec![
        "# porter: the bundle directory and .cnab, assembled for one COPY into /cnab".into(),
        format!("FROM {base} AS {STAGE}"),
        "ARG BUNDLE_GID=0".into(),
        "USER 0".into(),
        format!("COPY . {STAGE_DIR}/app"),
        remove,
        format!("COPY .cnab {STAGE_DIR}"),
        format!("RUN chgrp -R ${{BUNDLE_GID}} {STAGE_DIR} && chmod -R g=u {STAGE_DIR}"),
        String::new(),
    ]
}

/// Appended after a template that copies from the build context
/// ([`ContextLayout::BundleAtRoot`]): the staged result in one `COPY --from`.
/// `fix_existing_cnab`: what template or mixin lines may already have put
/// under `/cnab` (Porter's goldens copy a binary there; the terraform mixin
/// runs `terraform init` there) gets the same permissions as the rest, as
/// Porter's `chgrp -R` gave it. `label`: [`label_line`].
///
/// [`ContextLayout::BundleAtRoot`]: super::ContextLayout::BundleAtRoot
pub(crate) fn tail(fix_existing_cnab: bool, label: Option<String>) -> Vec<String> {
    fix_existing_cnab_line(fix_existing_cnab)
        .into_iter()
        .chain(label)
        .chain([
            format!("COPY --from={STAGE} {STAGE_DIR} {CNAB_DIR}"),
            "USER ${BUNDLE_UID}".into(),
            "WORKDIR ${BUNDLE_DIR}".into(),
            format!(r#"CMD ["{RUN_PATH}"]"#),
        ])
        .collect()
}

/// Appended after a template that does not read the build context
/// ([`ContextLayout::Split`]), in the order that makes an edit cheap: what
/// does not depend on the bundle's files first (from the cache on a
/// rebuild), then the runtime and mixins, then the bundle's files, last and
/// in one layer, so an edit re-runs only that `COPY`. `WORKDIR` comes before
/// the copies and creates `/cnab` as Porter's image has it (0755, root);
/// `--chown` gives every copied file the bundle's group, as Porter's
/// `chgrp -R` does, and the context already carries the final modes.
///
/// [`ContextLayout::Split`]: super::ContextLayout::Split
pub(crate) fn split_tail(fix_existing_cnab: bool, label: Option<String>) -> Vec<String> {
    fix_existing_cnab_line(fix_existing_cnab)
        .into_iter()
        .chain([
            "WORKDIR ${BUNDLE_DIR}".to_string(),
            "USER ${BUNDLE_UID}".into(),
            format!(r#"CMD ["{RUN_PATH}"]"#),
        ])
        .chain(label)
        .chain([
            "# porter: the runtime and mixins, then the bundle's files (an edit rebuilds only the last layer)".into(),
            format!("COPY --chown=0:${{BUNDLE_GID}} {RUNTIME_TREE} {CNAB_DIR}"),
            format!("COPY --chown=0:${{BUNDLE_GID}} {BUNDLE_TREE} {CNAB_DIR}"),
        ])
        .collect()
}

fn fix_existing_cnab_line(wanted: bool) -> Option<String> {
    wanted.then(|| {
        format!(
            "RUN if [ -d {CNAB_DIR} ]; then chgrp -R ${{BUNDLE_GID}} {CNAB_DIR} && chmod -R g=u {CNAB_DIR}; fi"
        )
    })
}

/// One `LABEL` instruction setting `labels` (none for no labels), each key
/// and value double-quoted with `escape` (the template's escape character)
/// before `"`, `$` and itself, so nothing in them is expanded.
pub(crate) fn label_line(labels: &BTreeMap<String, String>, escape: char) -> Option<String> {
    if labels.is_empty() {
        return None;
    }
    let quoted = |text: &str| {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '"' | '$' => out.push(escape),
                '\n' | '\r' => {
                    out.push(' ');
                    continue;
                }
                c if c == escape => out.push(escape),
                _ => {}
            }
            out.push(c);
        }
        out.push('"');
        out
    };
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{}={}", quoted(key), quoted(value)))
        .collect();
    Some(format!("LABEL {}", pairs.join(" ")))
}

/// `word` as one word for `sh`, quoted only when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+@%:,=".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_instruction_with_nothing_expanded() {
        assert_eq!(label_line(&BTreeMap::new(), '\\'), None);
        let labels = BTreeMap::from([
            ("b".to_string(), r#"say "hi" $HOME \ ok"#.to_string()),
            ("a".to_string(), "1.0.0".to_string()),
        ]);
        assert_eq!(
            label_line(&labels, '\\').unwrap(),
            r#"LABEL "a"="1.0.0" "b"="say \"hi\" \$HOME \\ ok""#
        );
        assert_eq!(
            label_line(&labels, '`').unwrap(),
            r#"LABEL "a"="1.0.0" "b"="say `"hi`" `$HOME \ ok""#
        );
    }

    #[test]
    fn dockerfile_manifest_path_is_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_word("/a/porter.yaml"), "/a/porter.yaml");
        assert_eq!(
            shell_word("/a/my bundle/porter.yaml"),
            "'/a/my bundle/porter.yaml'"
        );
        assert_eq!(shell_word("/a/it's.yaml"), r"'/a/it'\''s.yaml'");
        assert_eq!(shell_word("/a/$HOME"), "'/a/$HOME'");
    }
}
