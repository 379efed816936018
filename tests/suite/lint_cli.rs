//! `porter lint` and `porter schema` through the real binary, with the real
//! exec mixin installed.

use std::path::Path;

use crate::support::*;
use predicates::prelude::*;
use serde_json::Value;

const HEADER: &str =
    "schemaVersion: 1.0.1\nname: t\nversion: 0.1.0\nregistry: example.com\nmixins:\n  - exec\n";

fn bundle(home: &Path, body: &str) -> std::path::PathBuf {
    let dir = home.join("bundle");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("porter.yaml"), format!("{HEADER}{body}")).unwrap();
    dir
}

const CLEAN: &str = "install:\n  - exec:\n      description: Install\n      command: ./install.sh\nuninstall:\n  - exec:\n      description: Uninstall\n      command: bash\n      flags:\n        c: '\"echo bye\"'\n";

#[test]
fn a_clean_bundle_has_no_problems() {
    let home = home_with_exec();
    let dir = bundle(home.path(), CLEAN);
    // The embedded bash is a warning (exec-100), which does not fail.
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning[exec-100]: Best Practice: Avoid Embedded Bash",
        ));
    porter(home.path())
        .current_dir(&dir)
        .arg("lint")
        .assert()
        .success();
}

#[test]
fn mixin_lint_errors_fail_with_their_place_and_json_output() {
    let home = home_with_exec();
    let dir = bundle(
        home.path(),
        "install:\n  - exec:\n      description: Run a script\n      command: ./install.sh\n  - exec:\n      description: Install Hello World\n      command: bash\n      flags:\n        c: echo Hello World\nuninstall:\n  - exec:\n      command: ./uninstall.sh\n",
    );
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "error[exec-101]: bash -c argument missing wrapping quotes",
        ))
        .stderr(predicate::str::contains("porter.yaml:15:12"))
        .stderr(predicate::str::contains(
            "see https://porter.sh/best-practices/exec-mixin/#quoting-escaping-bash-and-yaml",
        ));

    let out = porter(home.path())
        .args(["lint", "-o", "json", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let findings: Vec<Value> = serde_json::from_slice(&out).unwrap();
    let codes: Vec<(&str, &str, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["level"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [("exec-100", "warning", 15), ("exec-101", "error", 15)]
    );
}

#[test]
fn steps_are_checked_against_the_mixins_schema() {
    let home = home_with_exec();
    let dir = bundle(
        home.path(),
        "install:\n  - exec:\n      comand: ./install.sh\nuninstall:\n  - exec:\n      command: ./uninstall.sh\n      suppress-output: often\n",
    );
    let lint_finds_both_at = |install_at: &str, uninstall_at: &str| {
        porter(home.path())
            .args(["lint", "--dir"])
            .arg(&dir)
            .assert()
            .failure()
            .stderr(predicate::str::contains("invalid step in install at /exec"))
            .stderr(predicate::str::contains(install_at))
            .stderr(predicate::str::contains("invalid step in uninstall at /exec/suppress-output: \"often\" is not of type \"boolean\""))
            .stderr(predicate::str::contains(uninstall_at));
    };
    lint_finds_both_at("porter.yaml:9:7", "porter.yaml:13:24");

    // The second lint answers the schema check from memory (exec's input
    // did not change) and still places each problem where it is now, two
    // lines further down.
    let manifest = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        format!("# moved\n# down\n{manifest}"),
    )
    .unwrap();
    lint_finds_both_at("porter.yaml:11:7", "porter.yaml:15:24");
    let remembered: Vec<String> = tree(&home.path().join("cache/answers"))
        .into_iter()
        .filter(|p| p.ends_with(".json"))
        .map(|p| {
            p.rsplit('/')
                .next()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    // exec's lint hook refuses a step it cannot parse: that is not kept.
    assert_eq!(remembered, ["schema"], "one schema check kept");
}

#[test]
fn porters_rules_101_and_102() {
    let home = home_with_exec();
    let dir = bundle(
        home.path(),
        "parameters:\n  - name: region\n    type: string\n    default: eu\n    applyTo: [upgrade]\ndependencies:\n  requires:\n    - name: db\n      bundle: {reference: example.com/db:v1}\n    - name: db\n      bundle: {reference: example.com/db:v2}\ninstall:\n  - exec:\n      command: ./install.sh\n      arguments: ['${ bundle.parameters.region }']\nupgrade:\n  - exec:\n      command: ./upgrade.sh\nuninstall:\n  - exec:\n      command: ./uninstall.sh\n",
    );
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains("error[porter-101]: parameter 'region' is used in the install action, but it does not apply to install"))
        .stderr(predicate::str::contains("error[porter-102]: the dependency db is defined multiple times"));
}

#[test]
fn validation_errors_and_missing_things_are_reported() {
    let home = home_with_exec();
    let dir = bundle(
        home.path(),
        "install:\n  - exec:\n      command: ${ bundle.parameters.nope }\nuninstall:\n  - helm3:\n      chart: x\n",
    );
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "${ bundle.parameters.nope } names the parameter 'nope', which is not defined",
        ))
        .stderr(predicate::str::contains(
            "mixin 'helm3' is used by a step but not declared",
        ))
        .stderr(predicate::str::ends_with("has 2 errors\n"));

    porter(home.path())
        .args(["lint", "--dir"])
        .arg(home.path().join("nowhere"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("could not find"));

    let dir = bundle(home.path(), &CLEAN.replace("mixins:\n  - exec\n", ""));
    std::fs::write(
        dir.join("porter.yaml"),
        format!(
            "{}{CLEAN}",
            HEADER.replace("  - exec\n", "  - exec\n  - helm3\n")
        ),
    )
    .unwrap();
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains("mixin helm3 is not installed"));
}

#[test]
fn schema_merges_installed_mixins() {
    let home = home_with_exec();
    let out = porter(home.path())
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let schema: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        schema["properties"]["install"]["items"]["anyOf"][0]["$ref"],
        "#/mixin.exec/definitions/installStep"
    );
    assert_eq!(
        schema["mixin.exec"]["definitions"]["exec"]["required"][0],
        "command"
    );
    assert_eq!(
        schema["properties"]["mixins"]["items"]["oneOf"][0]["enum"][0],
        "exec"
    );
}

/// `porter lint -o json`'s findings as (level, line:column, message).
fn lint_json(home: &Path, dir: &Path) -> Vec<(String, String, String)> {
    let out = porter(home)
        .args(["lint", "-o", "json", "--dir"])
        .arg(dir)
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let findings: Vec<Value> = serde_json::from_slice(&out).unwrap();
    findings
        .iter()
        .map(|f| {
            (
                f["level"].as_str().unwrap().to_string(),
                format!("{}:{}", f["line"], f["column"]),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// After HEADER (which declares exec on line 6): picky's steps, its first
/// install step being porter.yaml's second.
const PICKY_STEPS: &str = "install:\n  - exec:\n      command: ./install.sh\n  - picky:\n      script: sudo ./install.sh\nuninstall:\n  - picky:\n      script: ./uninstall.sh\n";

#[test]
fn a_config_problem_from_a_lint_hook_is_shown_once_on_the_value_it_names() {
    let home = home_with_exec_and("picky");
    // Line 8, column 17: the `[]` picky's lint hook refuses (`/packages`).
    let dir = bundle(
        home.path(),
        &format!("  - picky:\n      packages: []\n{PICKY_STEPS}"),
    );
    assert_eq!(
        lint_json(home.path(), &dir),
        [(
            "error".to_string(),
            "8:17".to_string(),
            "mixin picky 0.1.0 (lint): name at least one package".to_string()
        )]
    );

    // Declared with a version constraint, the config block is under
    // `picky@0.1:`. The schema check and the SDK's refusal to read the
    // config (`/packages/0`) find one mistake: it is shown once, on `1`
    // (line 8, column 18).
    let dir = bundle(
        home.path(),
        &format!("  - picky@0.1:\n      packages: [1]\n{PICKY_STEPS}"),
    );
    assert_eq!(
        lint_json(home.path(), &dir),
        [(
            "error".to_string(),
            "8:18".to_string(),
            "invalid mixin config at /picky/packages/0: 1 is not of type \"string\"".to_string()
        )]
    );
}

#[test]
fn a_step_finding_from_a_lint_hook_is_placed_on_the_field_it_names() {
    let home = home_with_exec_and("picky");
    // picky's `/script` is on line 13 at column 15. picky-101 names the
    // install action as a whole (step number 0, no step): it is shown on
    // the action's list.
    let dir = bundle(
        home.path(),
        &format!(
            "  - picky:\n      packages: [tree]\n{}",
            PICKY_STEPS.replace(
                "uninstall:",
                "  - picky:\n      script: ./configure.sh\nuninstall:"
            )
        ),
    );
    assert_eq!(
        lint_json(home.path(), &dir),
        [
            (
                "warning".to_string(),
                "10:3".to_string(),
                "more than one picky step".to_string()
            ),
            (
                "error".to_string(),
                "13:15".to_string(),
                "script uses sudo\nsteps already run as root: drop sudo".to_string()
            )
        ]
    );
}

/// A field the mixin's schema does not list, that Porter's mixin ignores
/// (`sensitive` on an exec output, which Porter's own test bundles use), is
/// a warning with its line and the closest known field: the bundle builds,
/// as it does with Porter. A wrong type stays an error.
#[test]
fn a_field_the_schema_does_not_list_is_a_warning_with_the_closest_one() {
    let home = home_with_exec();
    let dir = bundle(
        home.path(),
        "install:\n  - exec:\n      description: Install\n      command: ./install.sh\n      outputs:\n        - name: token\n          regex: \"(.*)\"\n          sensitive: true\n      suppres-output: true\nuninstall:\n  - exec:\n      description: Uninstall\n      command: ./uninstall.sh\n",
    );
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("porter.yaml:14:22"))
        .stderr(predicate::str::contains(
            "unknown field `sensitive` in this step in install: the mixin's schema does not list it, and it is ignored; the closest field it knows is",
        ))
        .stderr(predicate::str::contains("porter.yaml:15:23"))
        .stderr(predicate::str::contains(
            "unknown field `suppres-output` in this step in install: the mixin's schema does not list it, and it is ignored; the closest field it knows is `suppress-output`",
        ));
    porter(home.path())
        .args(["build", "--no-image", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("unknown field `sensitive`"));
}
