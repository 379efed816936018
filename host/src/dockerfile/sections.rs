//! The lines porter writes into every generated Dockerfile: the init lines
//! (Porter's `buildInitSection`, unchanged), the stage that assembles `/cnab`
//! and the lines appended at the end (our replacement for Porter's
//! `buildPorterSection`, `buildCNABSection`, `buildWORKDIRSection` and
//! `buildCMDSection`; see the table of differences in the module docs).

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

/// Appended after the template. `fix_existing_cnab`: what template or mixin
/// lines may already have put under `/cnab` (Porter's goldens copy a binary
/// there; the terraform mixin runs `terraform init` there) gets the same
/// permissions as the rest, as Porter's `chgrp -R` gave it.
pub(crate) fn tail(fix_existing_cnab: bool) -> Vec<String> {
    let fix = fix_existing_cnab.then(|| {
        "RUN if [ -d /cnab ]; then chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab; fi"
            .to_string()
    });
    fix.into_iter()
        .chain([
            format!("COPY --from={STAGE} {STAGE_DIR} /cnab"),
            "USER ${BUNDLE_UID}".into(),
            "WORKDIR ${BUNDLE_DIR}".into(),
            format!(r#"CMD ["{}"]"#, crate::layout::RUN_PATH),
        ])
        .collect()
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
