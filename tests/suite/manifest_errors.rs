//! Malformed manifests: each error is reported with its text and line, all
//! of a file's errors in one run, and no input makes loading panic.

use porter::manifest::{self, Diagnostic};

/// A valid manifest of 12 lines; cases edit it or append from line 13.
const BASE: &str = "\
schemaVersion: 1.0.1
name: t
version: 0.1.0
registry: example.com
mixins:
  - exec
install:
  - exec:
      command: ./install.sh
uninstall:
  - exec:
      command: ./uninstall.sh
";

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn replace(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match manifest::load_str("porter.yaml", text.to_string()) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect(),
    }
}

#[test]
fn the_base_manifest_is_valid() {
    assert!(errors(BASE).is_empty(), "{:?}", errors(BASE));
}

#[test]
fn every_malformed_manifest_gets_its_error_at_its_line() {
    let alias_bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let cases: Vec<(String, usize, &str)> = vec![
        // The header.
        (
            replace("version: 0.1.0", "version: one"),
            3,
            "version 'one' is not a valid semver value",
        ),
        (
            replace("schemaVersion: 1.0.1", "schemaVersion: 2.0.0"),
            1,
            "the schema version is 2.0.0 but the supported schema version is 1.0.0-alpha.1 || >=1.0.0 <=1.0.1",
        ),
        (replace("name: t\n", ""), 0, "bundle name must be set"),
        (
            replace("registry: example.com\n", ""),
            0,
            "a registry or reference value must be provided",
        ),
        (
            replace("version: 0.1.0\n", ""),
            0,
            "bundle version must be set",
        ),
        (
            replace("name: t", "name: [a]"),
            2,
            "'name' must be a string, found a list",
        ),
        (
            replace("name: t", "name: t\nschemaType: Module"),
            3,
            "invalid schemaType Module, expected Bundle",
        ),
        (
            with("dockerfile: Dockerfile\n"),
            13,
            "the dockerfile template cannot be named 'Dockerfile'",
        ),
        (
            with("description: [a]\n"),
            13,
            "'description' must be a string, found a list",
        ),
        // Top-level keys.
        (
            with("paramters:\n  - name: x\n"),
            13,
            "unknown field 'paramters' (did you mean 'parameters'?)",
        ),
        (
            with("credential:\n  - name: x\n"),
            13,
            "unknown field 'credential' (did you mean 'credentials'?)",
        ),
        (with("baddata: true\n"), 13, "unknown field 'baddata'"),
        (
            with("status: true\n"),
            13,
            "unknown field 'status' (did you mean 'state'?)",
        ),
        // Mixins.
        (
            replace("mixins:\n  - exec", "mixins: exec"),
            5,
            "'mixins' must be a list, found a string ('exec')",
        ),
        (
            replace("  - exec\ninstall", "  - exec\n  - exec\ninstall"),
            7,
            "mixin 'exec' is declared twice",
        ),
        (
            replace("  - exec\ninstall", "  - exec@this\ninstall"),
            6,
            "invalid mixin name/version 'exec@this': 'this' is not a version constraint",
        ),
        (
            replace("  - exec\ninstall", "  - exec@\ninstall"),
            6,
            "invalid mixin name/version 'exec@': the version constraint is empty",
        ),
        (
            replace(
                "  - exec\ninstall",
                "  - exec\n  - name: az\n    extensions: [iot]\ninstall",
            ),
            7,
            "mixin declaration contained more than one mixin (name, extensions)",
        ),
        (
            replace("  - exec\ninstall", "  - exec\n  -\ninstall"),
            7,
            "mixin declaration was empty",
        ),
        // Actions and steps.
        (
            replace("install:\n  - exec:\n      command: ./install.sh\n", ""),
            0,
            "no install action defined",
        ),
        (
            with("upgrade:\n  - helm3:\n      chart: x\n"),
            14,
            "mixin 'helm3' is used by a step but not declared",
        ),
        (
            with("upgrade:\n  - exec:\n      command: x\n    description: y\n"),
            14,
            "malformed step: it has 2 keys (exec, description), a step has exactly one, the mixin's name",
        ),
        (
            with("upgrade:\n  - exec: run things\n"),
            14,
            "the settings of a exec step must be a mapping, found a string ('run things')",
        ),
        (
            with("upgrade:\n  -\n"),
            14,
            "found an empty step in action 'upgrade'",
        ),
        (
            with("upgrade:\n  - exec:\n      description: 3\n      command: x\n"),
            15,
            "a step's description must be a string, found a number (3)",
        ),
        (
            with("upgrade: run\n"),
            13,
            "action 'upgrade' must be a list of steps, found a string ('run')",
        ),
        (
            with("upgrade:\n  - [exec]\n"),
            14,
            "a step is a mapping of one mixin name to its settings",
        ),
        // Parameters.
        (
            with("parameters:\n  - name: porter-debug\n    type: boolean\n"),
            14,
            "parameter 'porter-debug' uses a reserved prefix",
        ),
        (
            with("parameters:\n  - name: porter_state\n    type: string\n"),
            14,
            "parameter 'porter_state' uses a reserved prefix",
        ),
        (
            with("parameters:\n  - name: port\n    type: integer\n    default: eighty\n"),
            16,
            "the default of parameter 'port' does not match its schema: \"eighty\" is not of type \"integer\"",
        ),
        (
            with(
                "parameters:\n  - name: color\n    type: string\n    enum: [red, blue]\n    default: green\n",
            ),
            17,
            "the default of parameter 'color' does not match its schema",
        ),
        (
            with("parameters:\n  - name: n\n    type: integer\n    minimum: 5\n    default: 1\n"),
            17,
            "the default of parameter 'n' does not match its schema: 1 is less than the minimum of 5",
        ),
        (
            with("parameters:\n  - name: cfg\n    type: file\n"),
            14,
            "no destination path supplied for parameter cfg",
        ),
        (
            with(
                "parameters:\n  - name: cfg\n    type: file\n    path: /cnab/app/cfg\n    default: '%%%'\n",
            ),
            17,
            "the default of parameter 'cfg' is not valid base64",
        ),
        (
            with("parameters:\n  - name: a\n    type: string\n  - name: a\n    type: string\n"),
            16,
            "parameter 'a' is defined twice",
        ),
        (
            with("parameters:\n  - name: a\n    envv: A\n"),
            15,
            "unknown field 'envv' in parameter 'a' (did you mean 'env'?)",
        ),
        (
            with("parameters:\n  - type: string\n"),
            14,
            "parameter name is required",
        ),
        (
            with("parameters:\n  - name: a\n    type: strng\n"),
            15,
            "parameter 'a' has type 'strng', which is not a type",
        ),
        (
            with("parameters:\n  - name: a\n    sensitive: maybe\n"),
            15,
            "'sensitive' must be true or false, found a string ('maybe')",
        ),
        (
            with(
                "parameters:\n  - name: a\n    type: string\n    default: x\n    applyTo: [instal]\n",
            ),
            17,
            "applyTo names the action 'instal', which this bundle does not define (did you mean 'install'?)",
        ),
        (
            with("parameters:\n  - name: a\n    type: string\n    source:\n      output: nope\n"),
            17,
            "parameter 'a' takes its value from output 'nope', which is not defined",
        ),
        (
            with(
                "parameters:\n  - name: a\n    type: string\n    source:\n      output: o\n      dependency: db\n",
            ),
            18,
            "parameter 'a' takes its value from dependency 'db', which is not declared",
        ),
        (
            with("parameters:\n  - name: a\n    source:\n      outptu: o\n"),
            16,
            "invalid parameter source: unknown field `outptu`",
        ),
        (
            with("parameters: {a: 1}\n"),
            13,
            "'parameters' must be a list, found a mapping",
        ),
        (
            with("parameters:\n  - name: rg\n    type: string\n    persistent: true\n"),
            16,
            "parameter \"rg\" uses persistent: true which requires the persistent-parameters experimental feature",
        ),
        // Credentials and outputs.
        (
            with("credentials:\n  - name: c\n  - name: c\n"),
            15,
            "credential 'c' is defined twice",
        ),
        (
            with("credentials:\n  - name: c\n    required: yes\n"),
            15,
            "'required' must be true or false, found a string ('yes')",
        ),
        (
            with("credentials:\n  - name: c\n    type: string\n"),
            15,
            "unknown field 'type' in credential 'c'",
        ),
        (
            with("outputs:\n  - name: o\n  - name: o\n"),
            15,
            "output 'o' is defined twice",
        ),
        (
            with("outputs:\n  - name: o\n    type: file\n"),
            14,
            "no path supplied for output o",
        ),
        // Templates.
        (
            replace(
                "command: ./install.sh",
                "command: ${ bundle.parameters.missing }",
            ),
            9,
            "${ bundle.parameters.missing } names the parameter 'missing', which is not defined",
        ),
        (
            replace(
                "command: ./install.sh",
                "command: ${ bundle.credentials.token }",
            ),
            9,
            "${ bundle.credentials.token } names the credential 'token', which is not defined",
        ),
        (
            replace(
                "command: ./install.sh",
                "command: ${ bundle.outputs.kubeconfig }",
            ),
            9,
            "${ bundle.outputs.kubeconfig } names the output 'kubeconfig', which is not defined",
        ),
        (
            replace(
                "command: ./install.sh",
                "command: ${ bundle.images.app.repository }",
            ),
            9,
            "${ bundle.images.app.repository } names the image 'app', which is not defined",
        ),
        (
            replace(
                "command: ./install.sh",
                "command: ${ bundle.dependencies.db.outputs.x }",
            ),
            9,
            "${ bundle.dependencies.db.outputs.x } names the dependency 'db', which is not defined",
        ),
        (
            replace("command: ./install.sh", "command: ${ bundle.foo }"),
            9,
            "${ bundle.foo } is not a template variable Porter knows",
        ),
        (
            replace(
                "command: ./install.sh",
                "command: ${ bundle.installation.name }",
            ),
            9,
            "${ bundle.installation.name } is not a template variable Porter knows",
        ),
        // Dependencies, images, other blocks.
        (
            with("dependencies:\n  requires:\n    - name: db\n"),
            15,
            "reference is required for dependency 'db'",
        ),
        (
            with("dependencies:\n  require:\n    - name: db\n"),
            14,
            "unknown field 'require' in dependencies (did you mean 'requires'?)",
        ),
        (
            with(
                "dependencies:\n  requires:\n    - name: db\n      bundle:\n        reference: r.io/db\n",
            ),
            17,
            "reference for dependency \"db\" can specify only a repository, without a digest or tag, when a version constraint is specified",
        ),
        (
            with(
                "dependencies:\n  requires:\n    - name: db\n      bundle:\n        reference: r.io/db:v1\n        \
                 interface:\n          reference: r.io/i:v1\n          document:\n            parameters: []\n",
            ),
            20,
            "bundle interface for dependency \"db\" can specify only a reference or a document, not both",
        ),
        (
            with(
                "dependencies:\n  requires:\n    - name: db\n      bundle:\n        reference: r.io/db:v1\n      \
                 sharing:\n        mode: sometimes\n",
            ),
            19,
            "'mode' must be true or false, found a string",
        ),
        (
            with(
                "dependencies:\n  requires:\n    - name: db\n      bundle:\n        reference: r.io/db:v1\n        \
                 interface:\n          documents: {}\n",
            ),
            19,
            "unknown field 'documents' in the interface of dependency 'db' (did you mean 'document'?)",
        ),
        (
            with("dependencies:\n  requires: []\n  provides:\n    interface:\n      name: x\n"),
            17,
            "unknown field 'name' in the provided interface",
        ),
        (
            with("images:\n  app:\n    tag: v1\n"),
            15,
            "invalid image 'app': missing field `repository`",
        ),
        (
            with("images:\n  app:\n    repository: x\n    tagg: v1\n"),
            16,
            "invalid image 'app': unknown field `tagg`",
        ),
        (
            with("customActions:\n  status:\n    stateles: true\n"),
            15,
            "invalid custom action 'status': unknown field `stateles`",
        ),
        (
            with("maintainers:\n  - name: a\n    mail: a@b.c\n"),
            15,
            "invalid maintainer: unknown field `mail`",
        ),
        (
            with("required:\n  - [docker]\n"),
            14,
            "a required extension is a name",
        ),
        // Not YAML, or not a manifest.
        (
            with("bad: [unclosed\n"),
            13,
            "porter.yaml is not valid YAML",
        ),
        (with("name: again\n"), 13, "porter.yaml is not valid YAML"),
        (
            "- a\n- b\n".to_string(),
            1,
            "porter.yaml must be a mapping of fields",
        ),
        ("".to_string(), 0, "porter.yaml is empty"),
        (alias_bomb.to_string(), 0, "porter.yaml is not valid YAML"),
    ];
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for (text, line, expected) in &cases {
        let found = errors(text);
        let hit = found.iter().find(|d| d.message.contains(expected));
        match hit {
            // Line 0 means "the file as a whole" (a missing field); the alias
            // bomb's line is wherever the budget ran out.
            Some(d)
                if d.at.line == *line || (*line == 0 && expected.contains("not valid YAML")) => {}
            _ => failures.push(format!(
                "expected line {line}: {expected}\n  got: {:?}\n  in:\n{text}",
                found
                    .iter()
                    .map(|d| format!("{}: {}", d.at.line, d.message))
                    .collect::<Vec<_>>()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let text =
        with("paramters: []\nparameters:\n  - name: porter-x\n  - name: a\n    type: file\n");
    let found = errors(&text);
    let lines: Vec<usize> = found.iter().map(|d| d.at.line).collect();
    assert_eq!(lines, [13, 15, 16], "{found:#?}");
}

#[test]
fn a_diagnostic_shows_file_line_column_snippet_and_help() {
    let err =
        manifest::load_str("bundle/porter.yaml", with("paramters:\n  - name: x\n")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("error: unknown field 'paramters' (did you mean 'parameters'?)\n  --> bundle/porter.yaml:13:1\n   |\n13 | paramters:\n   | ^\n"), "{text}");
    assert!(text.ends_with("bundle/porter.yaml has 1 error"), "{text}");
}

mod never_panics {
    use proptest::prelude::*;

    use super::BASE;

    /// Pieces of YAML and of porter.yaml, so mutations make near-misses
    /// rather than noise.
    const TOKENS: &[&str] = &[
        "\n",
        "  ",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a",
        "<<: *a\n",
        "!!str ",
        "|\n  ",
        ">\n  ",
        "'",
        "\"",
        "#",
        "---\n",
        "...\n",
        "~",
        "null",
        "true",
        "1.5",
        "-1",
        "0x1F",
        "exec",
        "exec@",
        "@^1",
        "${ bundle.parameters.x }",
        "${",
        "parameters:\n  - name: x\n",
        "  type: file\n",
        "  default: 3\n",
        "install:\n",
        "mixins:\n",
        "outputs:\n- name: o\n",
        "custom:\n  a: 1\n",
        "dependencies:\n  requires:\n  - name: d\n",
        "applyTo: [x]\n",
        "source: {output: o}\n",
        "\t",
        "\u{feff}",
        "é",
    ];

    fn mutated_manifest() -> impl Strategy<Value = String> {
        let edits = prop::collection::vec(
            (0..BASE.len(), 0..8usize, prop::sample::select(TOKENS)),
            1..8,
        );
        edits.prop_map(|edits| {
            let mut text = BASE.to_string();
            for (at, remove, insert) in edits {
                let mut start = at.min(text.len());
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + remove).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(start..end, insert);
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn loading_a_mutated_manifest_never_panics(text in mutated_manifest()) {
            match porter::manifest::load_str("porter.yaml", text) {
                Ok(_) => {}
                // Every failure says something, at a line that exists.
                Err(errors) => {
                    prop_assert!(!errors.diagnostics.is_empty());
                    for d in &errors.diagnostics {
                        prop_assert!(!d.message.is_empty());
                        let _ = d.to_string();
                    }
                }
            }
        }

        #[test]
        fn loading_any_text_never_panics(text in "\\PC{0,300}") {
            let _ = porter::manifest::load_str("porter.yaml", text);
        }
    }
}
