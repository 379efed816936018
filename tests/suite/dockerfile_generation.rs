//! Dockerfile generation against Porter's golden Dockerfiles
//! (tests/fixtures/porter/build/, from pkg/build/testdata), and our own
//! goldens (tests/fixtures/ours/dockerfile/; `UPDATE_GOLDENS=1` rewrites them,
//! review the diff).
//!
//! Each Porter golden is turned into what we generate by the edits below,
//! one per deliberate difference (numbered as in the table of
//! host/src/dockerfile/mod.rs), so everything else must match Porter's
//! output byte for byte.

use std::collections::BTreeSet;

use crate::support::fixture;
use porter::dockerfile::{
    self, ContextLayout, DEFAULT_TEMPLATE, DockerfileError, Generated, MixinLines, Options,
    Template, buildkit_only_syntax, custom_arg_name, declared_custom_args,
};

fn read(relative: &str) -> String {
    let path = fixture(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_golden(relative: &str, actual: &str) {
    let path = fixture(relative);
    if std::env::var_os("UPDATE_GOLDENS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with UPDATE_GOLDENS=1 and review it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{relative} differs (UPDATE_GOLDENS=1 rewrites it; review the diff)"
    );
}

/// What Porter's test mixin provider prints for `build` (pkg/mixin/helpers.go),
/// as our hooks return it: lines, without the final newline.
fn no_buildtime_dependencies(mixin: &str) -> MixinLines {
    MixinLines::new(
        mixin,
        [format!("# {mixin} mixin has no buildtime dependencies")],
    )
}

fn exec() -> MixinLines {
    let line = read("porter/exec/build-any-input.Dockerfile.txt");
    MixinLines::new("exec", [line.trim_end()])
}

fn custom(text: &str) -> Template<'_> {
    Template::Custom {
        text,
        verbatim: false,
    }
}

/// Generates with the default options, expecting no warnings.
fn generate(template: Template<'_>, mixins: &[MixinLines]) -> String {
    generate_full(template, mixins).text
}

fn generate_full(template: Template<'_>, mixins: &[MixinLines]) -> Generated {
    let generated = dockerfile::generate(template, mixins, &Options::default())
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    assert_eq!(dockerfile::warnings(template, mixins), Vec::<String>::new());
    generated
}

fn generate_err(template: &str, mixins: &[MixinLines]) -> DockerfileError {
    dockerfile::generate(custom(template), mixins, &Options::default())
        .expect_err("generation should fail")
}

// ---------------------------------------------------------------------------
// Porter's goldens, adapted

/// Porter's lines after the template (legacy build, buildkit driver), as in
/// every golden of pkg/build/testdata.
const PORTER_TAIL: [&str; 8] = [
    "COPY --link . ${BUNDLE_DIR}",
    "RUN rm ${BUNDLE_DIR}/porter.yaml",
    "RUN rm -fr ${BUNDLE_DIR}/.cnab",
    "COPY --link .cnab /cnab",
    "RUN chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab",
    "USER ${BUNDLE_UID}",
    "WORKDIR ${BUNDLE_DIR}",
    r#"CMD ["/cnab/app/run"]"#,
];

/// Differences 4 and 6: the stage that assembles /cnab, above the last FROM.
fn staging_stage(base: &str) -> Vec<String> {
    [
        "# porter: the bundle directory and .cnab, assembled for one COPY into /cnab",
        &format!("FROM {base} AS porter-cnab"),
        "ARG BUNDLE_GID=0",
        "USER 0",
        "COPY . /porter-cnab/app",
        "RUN rm -fr /porter-cnab/app/.cnab /porter-cnab/app/porter.yaml",
        "COPY .cnab /porter-cnab",
        "RUN chgrp -R ${BUNDLE_GID} /porter-cnab && chmod -R g=u /porter-cnab",
        "",
    ]
    .map(String::from)
    .to_vec()
}

/// Difference 4, for a template that reads nothing from the build context:
/// our lines after it, with no staging stage.
fn our_split_tail(fix_existing_cnab: bool) -> Vec<String> {
    let fix = "RUN if [ -d /cnab ]; then chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab; fi";
    fix_existing_cnab
        .then_some(fix)
        .into_iter()
        .chain([
            "WORKDIR ${BUNDLE_DIR}",
            "USER ${BUNDLE_UID}",
            r#"CMD ["/cnab/app/run"]"#,
            "# porter: the runtime and mixins, then the bundle's files (an edit rebuilds only the last layer)",
            "COPY --chown=0:${BUNDLE_GID} porter-runtime /cnab",
            "COPY --chown=0:${BUNDLE_GID} porter-bundle /cnab",
        ])
        .map(String::from)
        .collect()
}

/// Differences 4 and 5, for a template that copies from the build context:
/// our lines after it.
fn our_tail(fix_existing_cnab: bool) -> Vec<String> {
    let fix = "RUN if [ -d /cnab ]; then chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab; fi";
    fix_existing_cnab
        .then_some(fix)
        .into_iter()
        .chain([
            "COPY --from=porter-cnab /porter-cnab /cnab",
            "USER ${BUNDLE_UID}",
            "WORKDIR ${BUNDLE_DIR}",
            r#"CMD ["/cnab/app/run"]"#,
        ])
        .map(String::from)
        .collect()
}

struct Adapt {
    /// Difference 1: Porter added `# syntax=` because the template had none.
    porter_added_syntax: bool,
    /// The last FROM line as the golden has it (after the edits below).
    last_from: &'static str,
    /// Difference 5.
    fix_existing_cnab: bool,
    /// Difference 4: the template reads nothing from the build context.
    split: bool,
    /// Differences 2 and 3, for Porter's default template: (Porter's lines, ours).
    replace: Vec<(Vec<&'static str>, Vec<&'static str>)>,
}

fn adapt(porter_golden: &str, how: Adapt) -> String {
    let mut lines: Vec<String> = porter_golden.split('\n').map(String::from).collect();
    if how.porter_added_syntax {
        assert_eq!(lines.remove(0), "# syntax=docker/dockerfile:1");
    }
    for (theirs, ours) in how.replace {
        let at = lines
            .windows(theirs.len())
            .position(|w| w.iter().map(String::as_str).eq(theirs.iter().copied()))
            .unwrap_or_else(|| panic!("{theirs:?} not in the golden"));
        lines.splice(at..at + theirs.len(), ours.into_iter().map(String::from));
    }
    let tail_at = lines.len() - PORTER_TAIL.len();
    assert_eq!(lines[tail_at..], PORTER_TAIL.map(String::from));
    lines.truncate(tail_at);
    if how.split {
        lines.extend(our_split_tail(how.fix_existing_cnab));
        return lines.join("\n");
    }
    lines.extend(our_tail(how.fix_existing_cnab));
    let from_at = lines
        .iter()
        .rposition(|l| l.as_str() == how.last_from)
        .expect("last FROM");
    let base = how
        .last_from
        .strip_prefix("FROM ")
        .expect("FROM line without AS");
    lines.splice(from_at..from_at, staging_stage(base));
    lines.join("\n")
}

/// A custom-template case of Porter's TestPorter_buildCustomDockerfile /
/// TestPorter_appendBuildInstructionsIfMixinTokenIsNotPresent
/// (pkg/build/dockerfile-generator_test.go): the template is the Go test's
/// inline string, the only mixin is exec.
fn check_porter_custom_case(
    template: &str,
    porter_golden: &str,
    last_from: &'static str,
    ours: &str,
) {
    let generated = generate(custom(template), &[exec()]);
    let expected = adapt(
        &read(&format!("porter/build/{porter_golden}")),
        Adapt {
            porter_added_syntax: true,
            last_from,
            fix_existing_cnab: true,
            // `COPY mybin /cnab/app/`
            split: false,
            replace: Vec::new(),
        },
    );
    assert_eq!(generated, expected, "adapted from {porter_golden}");
    assert_golden(&format!("ours/dockerfile/{ours}"), &generated);
}

#[test]
fn porter_golden_custom_template_with_init_marker() {
    check_porter_custom_case(
        "FROM ubuntu:latest\n# stuff\n# PORTER_INIT\nCOPY mybin /cnab/app/\n\n",
        "custom-dockerfile-expected-output.Dockerfile",
        "FROM ubuntu:latest",
        "custom-dockerfile.Dockerfile",
    );
}

#[test]
fn porter_golden_custom_template_without_init_gets_it_after_from() {
    check_porter_custom_case(
        "FROM ubuntu:latest\n# stuff\nCOPY mybin /cnab/app/\n\n",
        "custom-dockerfile-without-init-expected-output.Dockerfile",
        "FROM ubuntu:latest",
        "custom-dockerfile-without-init.Dockerfile",
    );
}

#[test]
fn porter_golden_custom_template_missing_args_and_markers() {
    check_porter_custom_case(
        "FROM ubuntu:latest\nCOPY mybin /cnab/app/\n\n",
        "missing-args-expected-output.Dockerfile",
        "FROM ubuntu:latest",
        "missing-args.Dockerfile",
    );
}

#[test]
fn porter_golden_custom_template_missing_mixins_marker_appends_them() {
    check_porter_custom_case(
        "FROM ubuntu:light\nARG BUNDLE_DIR\nCOPY mybin /cnab/app/\n",
        "missing-mixins-token-expected-output.Dockerfile",
        "FROM ubuntu:light",
        "missing-mixins-token.Dockerfile",
    );
}

/// Porter's own default template, given to us as a custom template, against
/// Porter's golden for it (TestPorter_buildDockerfile: exec then testmixin).
/// It has its own `# syntax=` line, which we keep.
#[test]
fn porter_golden_default_template_as_a_custom_template() {
    let template = read("porter/build/templates/buildkit.Dockerfile");
    let mixins = [exec(), no_buildtime_dependencies("testmixin")];
    let generated = generate(custom(&template), &mixins);
    let expected = adapt(
        &read("porter/build/buildkit.Dockerfile"),
        Adapt {
            porter_added_syntax: false,
            last_from: "FROM --platform=linux/amd64 debian:stable-slim",
            fix_existing_cnab: true,
            split: true,
            replace: Vec::new(),
        },
    );
    assert_eq!(generated, expected);
}

/// Our default template against Porter's golden for its default template:
/// differences 1 to 4, nothing else.
#[test]
fn porter_golden_default_template_with_our_default_template() {
    let mixins = [exec(), no_buildtime_dependencies("testmixin")];
    let generated = generate(Template::Default, &mixins);
    let expected = adapt(
        &read("porter/build/buildkit.Dockerfile"),
        Adapt {
            porter_added_syntax: true,
            last_from: "FROM debian:stable-slim",
            // Comment-only mixin output cannot have written under /cnab.
            fix_existing_cnab: false,
            split: true,
            replace: vec![
                (
                    vec!["FROM --platform=linux/amd64 debian:stable-slim"],
                    vec!["FROM debian:stable-slim"],
                ),
                (
                    vec![
                        r#"RUN rm -f /etc/apt/apt.conf.d/docker-clean; echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache"#,
                        r"RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt \",
                        "    apt-get update && apt-get install -y ca-certificates",
                    ],
                    vec![
                        "RUN apt-get update && apt-get install -y ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*",
                    ],
                ),
            ],
        },
    );
    assert_eq!(generated, expected);
    assert_golden(
        "ours/dockerfile/default-exec-testmixin.Dockerfile",
        &generated,
    );
}

// ---------------------------------------------------------------------------
// The default template

#[test]
fn default_template_with_exec_and_an_apt_mixin_is_exactly_this() {
    let apt = MixinLines::new(
        "apt",
        [
            "RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*",
        ],
    );
    let generated = generate(Template::Default, &[exec(), apt]);
    let expected = r#"FROM debian:stable-slim

ARG BUNDLE_DIR
ARG BUNDLE_UID=65532
ARG BUNDLE_USER=nonroot
ARG BUNDLE_GID=0
RUN useradd ${BUNDLE_USER} -m -u ${BUNDLE_UID} -g ${BUNDLE_GID} -o

RUN apt-get update && apt-get install -y ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*

# exec mixin has no buildtime dependencies

RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*


RUN if [ -d /cnab ]; then chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab; fi
WORKDIR ${BUNDLE_DIR}
USER ${BUNDLE_UID}
CMD ["/cnab/app/run"]
# porter: the runtime and mixins, then the bundle's files (an edit rebuilds only the last layer)
COPY --chown=0:${BUNDLE_GID} porter-runtime /cnab
COPY --chown=0:${BUNDLE_GID} porter-bundle /cnab"#;
    assert_eq!(generated, expected);
}

#[test]
fn default_dockerfile_has_no_buildkit_only_syntax() {
    let with_mixins = generate(Template::Default, &[exec()]);
    let without = generate(Template::Default, &[]);
    for text in [DEFAULT_TEMPLATE, &with_mixins, &without] {
        assert_eq!(buildkit_only_syntax(text), []);
        for buildkit_only in [
            "# syntax=",
            "--mount",
            "--link",
            "--chmod",
            "<<",
            "--platform",
        ] {
            assert!(!text.contains(buildkit_only), "{buildkit_only} in:\n{text}");
        }
    }
}

#[test]
fn buildkit_only_syntax_is_found_in_porters_golden() {
    let found: Vec<String> = buildkit_only_syntax(&read("porter/build/buildkit.Dockerfile"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "line 1: `# syntax=` (BuildKit pulls the frontend image it names)",
            "line 11: `RUN --mount`",
            "line 19: `COPY --link`",
            "line 22: `COPY --link`",
        ]
    );
    let others = "FROM x\nCOPY --chmod=755 a /b\nADD --checksum=sha256:0 http://x /y\n\
                  RUN --network=none true\nRUN <<EOF\necho\nEOF\nRUN cat <<< hi\n\
                  COPY --chown=1:1 --from=x a b";
    let found: Vec<(usize, String)> = buildkit_only_syntax(others)
        .into_iter()
        .map(|u| (u.line, u.syntax))
        .collect();
    assert_eq!(
        found,
        [
            (2, "COPY --chmod".to_string()),
            (3, "ADD --checksum".to_string()),
            (4, "RUN --network".to_string()),
            (5, "RUN <<".to_string()),
        ]
    );
}

#[test]
fn dockerfile_without_mixins_has_no_mixin_lines_and_no_marker() {
    let generated = generate(Template::Default, &[]);
    assert!(!generated.contains("PORTER_"));
    assert!(generated.contains("rm -rf /var/lib/apt/lists/*\n\n\nWORKDIR ${BUNDLE_DIR}\n"));
}

// ---------------------------------------------------------------------------
// Custom templates

#[test]
fn dockerfile_mybuns_template_gets_init_after_from_and_mixins_at_marker() {
    let template = read("porter/build/mybuns/Dockerfile.tmpl");
    let generated = generate(custom(&template), &[exec()]);
    assert_golden("ours/dockerfile/mybuns.Dockerfile", &generated);
    let lines: Vec<&str> = generated.lines().collect();
    let from = lines
        .iter()
        .rposition(|l| *l == "FROM debian:stable-slim")
        .unwrap();
    assert_eq!(lines[from + 1], "ARG BUNDLE_DIR");
    assert_eq!(
        lines[from + 5],
        "RUN useradd ${BUNDLE_USER} -m -u ${BUNDLE_UID} -g ${BUNDLE_GID} -o"
    );
    let exec_at = lines
        .iter()
        .position(|l| l.starts_with("# exec mixin"))
        .unwrap();
    assert_eq!(
        lines[exec_at - 2],
        "ENV USERNAME=root",
        "mixins at the marker"
    );
    // Its own `# syntax=` stays first, so the stage goes below it.
    assert_eq!(lines[0], "# syntax=docker/dockerfile:1");
}

#[test]
fn dockerfile_multi_stage_template_gets_porter_lines_in_the_last_stage() {
    let template = "\
ARG GO=1.22
FROM golang:${GO} AS build
RUN go build -o /out/app .

from --platform=linux/amd64 debian:stable-slim as final
COPY --from=build /out/app /usr/local/bin/app
";
    let generated = generate(custom(template), &[exec()]);
    let expected = r#"ARG GO=1.22
FROM golang:${GO} AS build
RUN go build -o /out/app .

from --platform=linux/amd64 debian:stable-slim as final
ARG BUNDLE_DIR
ARG BUNDLE_UID=65532
ARG BUNDLE_USER=nonroot
ARG BUNDLE_GID=0
RUN useradd ${BUNDLE_USER} -m -u ${BUNDLE_UID} -g ${BUNDLE_GID} -o
COPY --from=build /out/app /usr/local/bin/app
# exec mixin has no buildtime dependencies

RUN if [ -d /cnab ]; then chgrp -R ${BUNDLE_GID} /cnab && chmod -R g=u /cnab; fi
WORKDIR ${BUNDLE_DIR}
USER ${BUNDLE_UID}
CMD ["/cnab/app/run"]
# porter: the runtime and mixins, then the bundle's files (an edit rebuilds only the last layer)
COPY --chown=0:${BUNDLE_GID} porter-runtime /cnab
COPY --chown=0:${BUNDLE_GID} porter-bundle /cnab"#;
    assert_eq!(generated, expected);
}

#[test]
fn dockerfile_from_continued_over_lines_gets_init_after_its_last_line() {
    // It copies from the context: the staging stage is based on that FROM.
    let generated = generate(
        custom("FROM \\\n  debian:stable-slim\nCOPY tool /usr/bin/\n"),
        &[],
    );
    assert!(
        generated.contains("FROM \\\n  debian:stable-slim\nARG BUNDLE_DIR\n"),
        "{generated}"
    );
    assert!(generated.contains("FROM debian:stable-slim AS porter-cnab\n"));
}

#[test]
fn dockerfile_markers_match_on_their_start_and_are_replaced() {
    let template = "FROM x\n  # PORTER_INIT: users and args\nRUN a\n# PORTER_MIXINS here\nRUN b\n";
    let generated = generate(custom(template), &[exec()]);
    assert!(!generated.contains("PORTER_"));
    assert!(
        generated.starts_with("FROM x\nARG BUNDLE_DIR\n"),
        "{generated}"
    );
    assert!(generated.contains("\nRUN a\n# exec mixin has no buildtime dependencies\n\nRUN b\n"));
}

#[test]
fn dockerfile_crlf_template_comes_out_with_lf() {
    let generated = generate(
        custom("FROM x\r\n# PORTER_MIXINS\r\n"),
        &[MixinLines::new("m", ["RUN a", "RUN b"])],
    );
    assert!(!generated.contains('\r'));
    assert!(generated.contains("\nRUN a\nRUN b\n\n"));
}

#[test]
fn dockerfile_mixin_lines_in_declaration_order_with_empty_lines_kept() {
    let mixins = [
        MixinLines::new("first", ["RUN one", "RUN two", "", "RUN three"]),
        MixinLines::new("empty", Vec::<String>::new()),
        MixinLines::new(
            "last",
            ["FROM other AS allowed", "RUN four \\", "  continued"],
        ),
    ];
    let template = custom("FROM x\n# PORTER_MIXINS\n# end\n");
    let warnings = dockerfile::warnings(template, &mixins);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("mixin `last`: FROM starts a new build stage"));
    let generated = dockerfile::generate(template, &mixins, &Options::default())
        .unwrap()
        .text;
    assert!(
        generated.contains(
            "\nRUN one\nRUN two\n\nRUN three\n\n\nFROM other AS allowed\nRUN four \\\n  continued\n\n# end\n"
        ),
        "{generated}"
    );
}

/// A line with a line break in it would be several Dockerfile lines; one of
/// them could be a FROM or end with `\` and change what follows. Refused,
/// naming the mixin and the line, for `\n`, `\r\n` and a lone `\r`.
#[test]
fn dockerfile_mixin_line_with_a_line_break_is_refused_naming_the_mixin() {
    for broken in ["RUN a\nFROM evil", "RUN a\r\nRUN b", "RUN a\r"] {
        let mixins = [
            MixinLines::new("fine", ["RUN ok"]),
            MixinLines::new("sloppy", ["RUN first", broken]),
        ];
        for template in [Template::Default, custom("FROM x\n")] {
            let error = dockerfile::generate(template, &mixins, &Options::default())
                .expect_err("a line with a line break is refused");
            assert_eq!(
                error,
                DockerfileError::MixinLineWithLineBreak {
                    mixin: "sloppy".into(),
                    number: 2,
                    line: broken.replace('\n', "\\n").replace('\r', "\\r"),
                }
            );
            let message = error.to_string();
            assert!(
                message.starts_with("Dockerfile line 2 of mixin `sloppy` contains a line break"),
                "{message}"
            );
            assert!(message.contains("report it to its author"), "{message}");
        }
    }
}

/// `ADD <url>` fetches at image build time: what it brings in is not pinned
/// by the mixin's digest. A warning names the mixin and the URL; a local
/// ADD, or a URL in another instruction's text, is not warned about.
#[test]
fn dockerfile_mixin_add_from_the_network_is_warned_about() {
    let mixins = [
        MixinLines::new(
            "local",
            ["ADD files/tool /usr/local/bin/", "RUN echo https://x"],
        ),
        MixinLines::new(
            "fetcher",
            ["add --chown=1:1 https://example.com/tool.tgz /opt/"],
        ),
        MixinLines::new("json", [r#"ADD ["http://example.com/a", "/a"]"#]),
    ];
    let warnings = dockerfile::warnings(Template::Default, &mixins);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "the Dockerfile lines of mixin `fetcher`: ADD https://example.com/tool.tgz downloads while the image is built"
        ),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("not pinned by the mixin's digest"));
    assert!(
        warnings[1].starts_with("the Dockerfile lines of mixin `json`: ADD http://example.com/a "),
        "{warnings:?}"
    );
}

#[test]
fn dockerfile_manifest_path_decides_the_rm() {
    let rm = |manifest: Option<&str>| {
        let options = Options {
            manifest_in_context: manifest.map(String::from),
            ..Options::default()
        };
        // A template that copies from the context gets the staging stage.
        let template = custom("FROM x\nCOPY tool /usr/bin/\n");
        let generated = dockerfile::generate(template, &[], &options)?;
        // Otherwise the context leaves the manifest out.
        let split = dockerfile::generate(Template::Default, &[], &options)?;
        assert_eq!(
            split.layout,
            ContextLayout::Split {
                manifest: manifest.map(String::from)
            }
        );
        Ok::<_, DockerfileError>(
            generated
                .text
                .lines()
                .find(|l| l.starts_with("RUN rm"))
                .unwrap()
                .to_string(),
        )
    };
    assert_eq!(rm(None).unwrap(), "RUN rm -fr /porter-cnab/app/.cnab");
    assert_eq!(
        rm(Some("build/my bundle.yaml")).unwrap(),
        "RUN rm -fr /porter-cnab/app/.cnab '/porter-cnab/app/build/my bundle.yaml'"
    );
    for outside in ["../porter.yaml", "/abs/porter.yaml", "a/../../b", ""] {
        assert!(
            matches!(
                rm(Some(outside)),
                Err(DockerfileError::ManifestPathOutsideContext { .. })
            ),
            "{outside}"
        );
    }
}

#[test]
fn dockerfile_escape_directive_is_honoured_for_mixin_lines() {
    let template = "# escape=`\nFROM x\n";
    let mixins = [MixinLines::new("m", [r"RUN dir C:\"])];
    let generated = generate(custom(template), &mixins);
    assert!(generated.starts_with("# escape=`\nFROM x\n"));
    let error = generate_err(template, &[MixinLines::new("m", ["RUN a `"])]);
    assert!(matches!(
        error,
        DockerfileError::MixinLinesEndMidInstruction { escape: '`', .. }
    ));
}

// ---------------------------------------------------------------------------
// The context's layout and the labels

fn labelled() -> Options {
    Options {
        labels: [
            ("sh.porter.bundle.name", "mybuns"),
            ("sh.porter.bundle.version", "0.1.0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Options::default()
    }
}

const LABEL: &str = r#"LABEL "sh.porter.bundle.name"="mybuns" "sh.porter.bundle.version"="0.1.0""#;

/// The split layout unless something copies from the context: the
/// template, in any stage, or a mixin's lines. `COPY --from` and `ADD` of a
/// URL do not.
#[test]
fn dockerfile_layout_is_split_unless_something_copies_from_the_context() {
    let split = ContextLayout::Split {
        manifest: Some("porter.yaml".into()),
    };
    let cases: [(Template<'_>, Vec<MixinLines>, &ContextLayout); 6] = [
        (Template::Default, vec![exec()], &split),
        (
            custom("FROM a AS build\nFROM b\nCOPY --from=build /x /y\nADD https://h/t /t\n"),
            vec![exec()],
            &split,
        ),
        (
            custom("FROM a AS build\nCOPY src /src\nFROM b\n"),
            vec![],
            &ContextLayout::BundleAtRoot,
        ),
        (
            custom("FROM b\nCOPY . ${BUNDLE_DIR}\n"),
            vec![],
            &ContextLayout::BundleAtRoot,
        ),
        (
            Template::Default,
            vec![MixinLines::new("m", ["COPY tools /usr/local/bin/"])],
            &ContextLayout::BundleAtRoot,
        ),
        (
            Template::Default,
            vec![MixinLines::new("m", ["ADD tools.tgz /opt/"])],
            &ContextLayout::BundleAtRoot,
        ),
    ];
    for (template, mixins, layout) in cases {
        let generated = dockerfile::generate(template, &mixins, &Options::default()).unwrap();
        assert_eq!(&generated.layout, layout, "{}", generated.text);
        let staged = generated.text.contains(" AS porter-cnab\n");
        assert_eq!(staged, *layout == ContextLayout::BundleAtRoot);
    }
}

/// Labels are one `LABEL` above the bundle's files in both shapes (the
/// engine API would add them as a step after everything).
#[test]
fn dockerfile_labels_come_before_the_bundles_files() {
    for (template, before) in [
        (Template::Default, "# porter: the runtime and mixins"),
        (
            custom("FROM x\nCOPY tool /usr/bin/\n"),
            "COPY --from=porter-cnab /porter-cnab /cnab",
        ),
    ] {
        let generated = dockerfile::generate(template, &[exec()], &labelled()).unwrap();
        assert!(generated.labels_written);
        let lines: Vec<&str> = generated.text.lines().collect();
        let at = lines
            .iter()
            .position(|l| *l == LABEL)
            .expect("a LABEL line");
        assert!(lines[at + 1].starts_with(before), "{}", generated.text);
    }
}

// ---------------------------------------------------------------------------
// Verbatim templates (Porter's full-control-dockerfile)

#[test]
fn dockerfile_verbatim_template_is_used_byte_for_byte() {
    // TestPorter_GenerateDockerfile_WithExperimentalFlagFullControlDockerfile.
    let template = "FROM ubuntu:latest\n# stuff\nRUN random-command\n# PORTER_INIT\nCOPY mybin /cnab/app/\n\
                    # No attempts are made to validate the contents\n# Nor does it modify the contents in any way";
    for text in [template.to_string(), format!("{template}\r\n")] {
        let verbatim = Template::Custom {
            text: &text,
            verbatim: true,
        };
        let generated = dockerfile::generate(verbatim, &[exec()], &labelled()).unwrap();
        assert_eq!(generated.text, text);
        assert_eq!(generated.layout, ContextLayout::BundleAtRoot);
        assert!(!generated.labels_written, "the engine is given the labels");
        assert_eq!(
            dockerfile::warnings(verbatim, &[exec()]),
            Vec::<String>::new(),
            "exec only prints a comment"
        );
    }
}

#[test]
fn dockerfile_verbatim_template_warns_about_left_out_mixin_lines() {
    let verbatim = Template::Custom {
        text: "FROM x",
        verbatim: true,
    };
    let mixins = [exec(), MixinLines::new("helm3", ["RUN curl helm"])];
    let warnings = dockerfile::warnings(verbatim, &mixins);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("mixin(s) helm3:"), "{warnings:?}");
}

// ---------------------------------------------------------------------------
// Warnings and errors

#[test]
fn dockerfile_cmd_and_entrypoint_in_the_last_stage_are_warned_about() {
    let template = "FROM a\nCMD [\"a\"]\nFROM b\nENTRYPOINT [\"/bin/sh\"]\nCMD [\"x\"]\n";
    let mixins = [MixinLines::new("m", ["CMD y"])];
    assert_eq!(
        dockerfile::warnings(custom(template), &mixins),
        [
            "line 4 of the Dockerfile template: ENTRYPOINT would receive porter's CMD [\"/cnab/app/run\"] as its arguments, so the bundle may not run; remove the ENTRYPOINT",
            "line 5 of the Dockerfile template: CMD is replaced by porter's CMD [\"/cnab/app/run\"]; remove it",
            "the Dockerfile lines of mixin `m`: CMD is replaced by porter's CMD [\"/cnab/app/run\"]; remove it",
        ]
    );
}

#[test]
fn dockerfile_template_errors_say_what_to_change() {
    let cases: [(&str, DockerfileError, &str); 9] = [
        (
            "# just a comment\nRUN true\n",
            DockerfileError::NoFrom,
            "add one",
        ),
        (
            "FROM --platform=linux/amd64\n",
            DockerfileError::FromWithoutImage { line: 1 },
            "write the base image",
        ),
        (
            "FROM x\n# PORTER_MIXINS\nRUN a\n# PORTER_MIXINS\n",
            DockerfileError::DuplicateMarker {
                marker: "# PORTER_MIXINS",
                first: 2,
                second: 4,
            },
            "delete one of them",
        ),
        (
            "# PORTER_INIT\nFROM x\n",
            DockerfileError::MarkerBeforeLastFrom {
                marker: "# PORTER_INIT",
                line: 1,
                last_from: 2,
            },
            "move the marker below line 2",
        ),
        (
            "FROM a AS build\n# PORTER_MIXINS\nFROM b\n",
            DockerfileError::MarkerBeforeLastFrom {
                marker: "# PORTER_MIXINS",
                line: 2,
                last_from: 3,
            },
            "last build stage",
        ),
        (
            "FROM x\n# PORTER_MIXINS\n# PORTER_INIT\n",
            DockerfileError::MixinsBeforeInit { mixins: 2, init: 3 },
            "move `# PORTER_INIT` above `# PORTER_MIXINS`",
        ),
        (
            "FROM x\nRUN apt-get install -y \\\n# PORTER_MIXINS\n  curl\n",
            DockerfileError::MarkerInsideInstruction {
                marker: "# PORTER_MIXINS",
                line: 3,
                instruction: 2,
                escape: '\\',
            },
            "end the instruction above the marker",
        ),
        (
            "FROM x\nRUN true \\\n",
            DockerfileError::TemplateEndsMidInstruction {
                line: 2,
                escape: '\\',
            },
            "remove that `\\`",
        ),
        (
            "FROM x AS Porter-CNAB\nFROM y\n",
            DockerfileError::ReservedStageName {
                line: 1,
                name: "Porter-CNAB".into(),
            },
            "rename that stage",
        ),
    ];
    for (template, expected, hint) in cases {
        let error = generate_err(template, &[]);
        assert_eq!(error, expected, "{template}");
        assert!(error.to_string().contains(hint), "{error}");
    }
}

#[test]
fn dockerfile_mixin_lines_ending_mid_instruction_are_refused() {
    let mixins = [
        MixinLines::new("broken", ["RUN apt-get install -y \\", "# comment"]),
        exec(),
    ];
    let error = generate_err("FROM x\n", &mixins);
    assert_eq!(
        error,
        DockerfileError::MixinLinesEndMidInstruction {
            mixin: "broken".into(),
            last_line: "RUN apt-get install -y \\".into(),
            escape: '\\',
        }
    );
    assert!(error.to_string().contains("bug in the mixin"));
}

// ---------------------------------------------------------------------------
// CUSTOM_* build arguments (pkg/build/buildkit/buildx_test.go)

fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn dockerfile_custom_args_porters_cases() {
    // Test_detectCustomBuildArgsUsed.
    let contents = "FROM scratch\nARG BAR=1\nARG CUSTOM_FOO=2\nARG CUSTOM_FOO1_BAR=nope\n\
                    ARG CUSTOM_STUFF_THINGS\nARG NOT_CUSTOM_ARG\n\nCMD [\"echo\", \"stuff\"]\n";
    assert_eq!(
        declared_custom_args(contents),
        names(&["CUSTOM_FOO", "CUSTOM_FOO1_BAR", "CUSTOM_STUFF_THINGS"])
    );
    // TestBuilder_determineBuildArgs' templates.
    assert_eq!(
        declared_custom_args(&read("porter/build/buildkit/template.Dockerfile")),
        names(&[])
    );
    assert_eq!(
        declared_custom_args(&read("porter/build/buildkit/custom-build-arg.Dockerfile")),
        names(&["CUSTOM_BIG_LABEL"])
    );
    // mybuns, through generation: the generated Dockerfile is what Porter reads.
    let generated = generate(
        custom(&read("porter/build/mybuns/Dockerfile.tmpl")),
        &[exec()],
    );
    assert_eq!(
        declared_custom_args(&generated),
        names(&["CUSTOM_APP_VERSION"])
    );
}

#[test]
fn dockerfile_custom_args_are_read_from_arg_instructions() {
    let contents = "FROM x\n# ARG CUSTOM_COMMENTED\narg\tCUSTOM_A=1 CUSTOM_B\nARG \\\n  CUSTOM_C\nRUN echo ARG CUSTOM_NOT\n\
                    ARG CUSTOM_=x CUSTOM_BAD-NAME\n";
    assert_eq!(
        declared_custom_args(contents),
        names(&["CUSTOM_A", "CUSTOM_B", "CUSTOM_C"])
    );
}

#[test]
fn dockerfile_custom_arg_names_like_porter() {
    assert_eq!(custom_arg_name("app.version"), "CUSTOM_APP_VERSION");
    assert_eq!(custom_arg_name("BIG_LABEL"), "CUSTOM_BIG_LABEL");
    assert_eq!(custom_arg_name("my-key.sub key"), "CUSTOM_MY_KEY_SUB_KEY");
    assert_eq!(custom_arg_name("straße"), "CUSTOM_STRA_E");
    assert_eq!(
        custom_arg_name("\u{131}d"),
        "CUSTOM_ID",
        "Go upper-cases dotless i to I"
    );
}
