//! `porter run`, the runtime the invocation image carries, through the real
//! binary: a bundle built with `--no-image`, laid out as its image would
//! be (the bundle's files and `.cnab/app` in one directory), run with the
//! CNAB environment. The same runtime in a real image is in
//! runtime_image.rs.

use std::path::{Path, PathBuf};

use crate::support::*;
use predicates::prelude::*;

const SCRIPT: &str = r#"#!/bin/sh
set -e
case "$1" in
  greet) echo "$2, world"; echo "greeted world" ;;
  json) echo '{"user": {"id": 42, "name": "Ada"}, "tags": ["a", "b"]}' ;;
  report) echo "report for $2" > report.txt; echo "wrote report" ;;
  token) echo "using token $2"; echo "token $2 again" >&2 ;;
  fail) echo "about to fail"; exit 7 ;;
  upgrade) echo "upgraded from $2" ;;
  state) echo "status: $2" ;;
  *) echo "unknown $1" >&2; exit 2 ;;
esac
"#;

fn manifest(extra_mixins: &str, install_extra: &str) -> String {
    format!(
        r#"schemaVersion: 1.0.1
name: runtime-test
version: 0.1.0
registry: localhost:5000
mixins:
  - exec
{extra_mixins}
parameters:
  - name: greeting
    type: string
    default: Hello
  - name: password
    type: string
    sensitive: true
    applyTo: [install]
credentials:
  - name: token
    env: TEST_TOKEN
outputs:
  - name: greeted
    type: string
    applyTo: [install, upgrade]
  - name: name
    type: string
  - name: report
    type: string
    applyTo: [install]
customActions:
  status:
    description: Report
    modifies: false
install:
  - exec:
      description: Greet
      command: ./helpers.sh
      arguments: [greet, "${{ bundle.parameters.greeting }}"]
      outputs:
        - name: greeted
          regex: "greeted (.*)"
  - exec:
      description: Read JSON
      command: ./helpers.sh
      arguments: [json]
      outputs:
        - name: name
          jsonPath: "$.user.name"
  - exec:
      description: Report
      command: ./helpers.sh
      arguments: [report, "${{ bundle.outputs.greeted }}"]
      outputs:
        - name: report
          path: report.txt
  - exec:
      description: Use the token
      command: ./helpers.sh
      arguments: [token, "${{ bundle.credentials.token }}"]
{install_extra}
upgrade:
  - exec:
      description: Upgrade
      command: ./helpers.sh
      arguments: [upgrade, "${{ bundle.parameters.greeting }}"]
status:
  - exec:
      description: Status
      command: ./helpers.sh
      arguments: [state, "${{ installation.name }}"]
uninstall:
  - exec:
      description: Bye
      command: ./helpers.sh
      arguments: [greet, Goodbye]
"#
    )
}

/// A built bundle laid out as its image is: `app/` (the bundle's files and
/// `.cnab/app`), `bundle.json` and an empty `outputs/`.
struct Laid {
    _home: tempfile::TempDir,
    root: tempfile::TempDir,
}

impl Laid {
    fn build(home: tempfile::TempDir, manifest: &str) -> Laid {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("porter.yaml"), manifest).unwrap();
        write_executable(&src.join("helpers.sh"), SCRIPT);
        porter(home.path())
            .args(["build", "--no-image", "--dir"])
            .arg(&src)
            .assert()
            .success();
        let app = root.path().join("app");
        copy_dir(&src, &app, &|p| {
            p.starts_with(".cnab") || p == Path::new("porter.yaml")
        });
        copy_dir(&src.join(".cnab/app"), &app, &|_| false);
        // The state the CNAB runtime injects goes to /porter/state.tgz in an
        // image; here, beside the bundle.
        let mut bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(src.join(".cnab/bundle.json")).unwrap()).unwrap();
        bundle["parameters"]["porter-state"]["destination"]["path"] =
            root.path().join("state.tgz").to_string_lossy().into();
        std::fs::write(root.path().join("bundle.json"), bundle.to_string()).unwrap();
        std::fs::create_dir_all(root.path().join("outputs")).unwrap();
        Laid { _home: home, root }
    }

    fn run(&self, action: &str) -> assert_cmd::Command {
        let mut cmd = porter(self.root.path());
        cmd.current_dir(self.root.path())
            .env("CNAB_ACTION", action)
            .env("CNAB_INSTALLATION_NAME", "mine")
            .env("CNAB_BUNDLE_NAME", "runtime-test")
            .env("TEST_TOKEN", "tok-SECRET-123")
            .env("PASSWORD", "pw-SECRET-456")
            .args(["run", "-f"])
            .arg(self.root.path().join("app/porter.yaml"))
            .arg("--bundle")
            .arg(self.root.path().join("bundle.json"))
            .arg("--outputs-dir")
            .arg(self.outputs());
        cmd
    }

    fn outputs(&self) -> PathBuf {
        self.root.path().join("outputs")
    }

    fn output(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.outputs().join(name)).ok()
    }
}

fn copy_dir(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) {
    for entry in walk(from) {
        let relative = entry.strip_prefix(from).unwrap();
        if skip(relative) {
            continue;
        }
        let target = to.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&entry, &target).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        found.push(path.clone());
        if path.is_dir() && !path.is_symlink() {
            found.extend(walk(&path));
        }
    }
    found
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn secrets_absent(text: &str) -> bool {
    !text.contains("tok-SECRET-123") && !text.contains("pw-SECRET-456")
}

#[test]
fn install_runs_every_step_writes_outputs_and_masks_secrets() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    let out = laid.run("install").output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Hello, world"), "{stdout}");
    assert!(stdout.contains("using token *******"), "{stdout}");
    assert!(stderr.contains("token ******* again"), "{stderr}");
    assert!(
        secrets_absent(&stdout) && secrets_absent(&stderr),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(r#"install step 1/4 ("Greet", exec)"#),
        "{stderr}"
    );
    assert_eq!(laid.output("greeted").as_deref(), Some("world"));
    assert_eq!(laid.output("name").as_deref(), Some("Ada"));
    assert_eq!(laid.output("report").as_deref(), Some("report for world\n"));
}

#[test]
fn a_parameter_reaches_the_step_through_its_template() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    laid.run("install")
        .env("GREETING", "Howdy")
        .assert()
        .success()
        .stdout(predicate::str::contains("Howdy, world"));
}

#[test]
fn a_failing_step_is_named_and_earlier_outputs_are_kept() {
    let failing = "  - exec:\n      description: Break\n      command: ./helpers.sh\n      arguments: [fail]\n";
    let laid = Laid::build(home_with_exec(), &manifest("", failing));
    let out = laid.run("install").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(r#"install step 5/5 ("Break", exec) failed"#),
        "{stderr}"
    );
    assert!(stderr.contains("exit status 7"), "{stderr}");
    assert_eq!(laid.output("greeted").as_deref(), Some("world"));
}

#[test]
fn ignore_error_forgives_a_failing_command() {
    let forgiven = "  - exec:\n      description: Break softly\n      command: ./helpers.sh\n      arguments: [fail]\n      ignoreError:\n        exitCodes: [7]\n";
    let laid = Laid::build(home_with_exec(), &manifest("", forgiven));
    laid.run("install").assert().success();
}

#[test]
fn custom_action_upgrade_and_uninstall_run_their_steps() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    laid.run("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("status: mine"));
    laid.run("upgrade")
        .env("GREETING", "Bonjour")
        .assert()
        .success()
        .stdout(predicate::str::contains("upgraded from Bonjour"));
    laid.run("uninstall")
        .assert()
        .success()
        .stdout(predicate::str::contains("Goodbye, world"));
}

#[test]
fn an_undefined_action_lists_the_bundles_actions() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    laid.run("explode")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            r#"the bundle has no action "explode"; its actions are: install, upgrade, status, uninstall"#,
        ));
}

#[test]
fn a_missing_required_credential_stops_the_run_before_any_step() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    laid.run("install")
        .env_remove("TEST_TOKEN")
        .assert()
        .failure()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "required credential token has no value (set the env variable TEST_TOKEN)",
        ))
        .stderr(predicate::str::contains("nothing was run"));
    assert_eq!(laid.output("greeted"), None);
}

fn hostile_manifest(attack: &str) -> String {
    format!(
        "schemaVersion: 1.0.1\nname: hostile-run\nversion: 0.1.0\nregistry: localhost:5000\n\
         mixins:\n  - exec\n  - hostile\n\
         install:\n  - hostile:\n      description: Attack\n      attack: {attack}\n\
         uninstall:\n  - exec:\n      description: Bye\n      command: ./helpers.sh\n      arguments: [greet, Bye]\n"
    )
}

fn run_hostile(attack: &str) -> (bool, String) {
    let laid = Laid::build(home_with_exec_and("hostile"), &hostile_manifest(attack));
    let out = laid
        .run("install")
        .args(["--mixin-timeout", "1"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_runtime_hook_that_loops_is_stopped_at_its_deadline() {
    let (ok, stderr) = run_hostile("loop");
    assert!(!ok);
    assert!(
        stderr.contains("did not finish within 1.0s and was stopped"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"install step 1/1 ("Attack", hostile) failed"#),
        "{stderr}"
    );
}

#[test]
fn a_runtime_hook_that_hoards_memory_is_stopped() {
    let (ok, stderr) = run_hostile("memory");
    assert!(!ok);
    assert!(
        stderr.contains("tried to use more than 64 MiB of memory"),
        "{stderr}"
    );
}

#[test]
fn a_runtime_hook_that_returns_too_much_is_refused() {
    let (ok, stderr) = run_hostile("huge-output");
    assert!(!ok);
    assert!(
        stderr.contains("bytes, more than the 4194304 bytes a hook may return"),
        "{stderr}"
    );
}

#[test]
fn a_mixin_reads_only_the_files_its_step_names() {
    let (ok, stderr) = run_hostile("read-file");
    assert!(!ok);
    assert!(
        stderr.contains("asked porter to read /etc/passwd, which the step does not name"),
        "{stderr}"
    );
    assert!(!stderr.contains("root:"), "{stderr}");
}

#[test]
fn a_mixin_writes_files_only_under_the_bundle_directory() {
    let (ok, stderr) = run_hostile("write-outside");
    assert!(!ok);
    assert!(
        stderr.contains("may write files only under the bundle directory"),
        "{stderr}"
    );
}

#[test]
fn waiting_for_a_command_does_not_count_against_the_mixins_deadline() {
    // The command sleeps 2 s; the mixin may compute for 1 s.
    let (ok, stderr) = run_hostile("slow-command");
    assert!(ok, "{stderr}");
}

#[test]
fn a_mixin_cannot_run_a_command_at_build_time() {
    let home = home_with_exec_and("hostile");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("porter.yaml"),
        hostile_manifest("none").replace("  - hostile\n", "  - hostile:\n      attack: command\n"),
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--dir"])
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "mixins may run commands and write files only while the bundle runs",
        ));
    assert!(!Path::new("/tmp/hostile-ran").exists());
}

/// A mixin built against porter:mixin@1.0.0 (before the runtime) installs
/// and builds, and says clearly that it cannot run a step.
#[test]
fn a_mixin_of_the_1_0_contract_builds_and_says_it_has_no_runtime() {
    let home = home_with_exec_and("classic");
    let listed = list_json(home.path());
    let classic = listed.iter().find(|m| m["name"] == "classic").unwrap();
    assert_eq!(classic["apiVersion"], "1.0.0", "{classic}");
    let manifest = "schemaVersion: 1.0.1\nname: classic-run\nversion: 0.1.0\nregistry: localhost:5000\n\
         mixins:\n  - exec\n  - classic\n\
         install:\n  - classic:\n      description: Old\n      anything: goes\n\
         uninstall:\n  - exec:\n      description: Bye\n      command: ./helpers.sh\n      arguments: [greet, Bye]\n";
    let laid = Laid::build(home, manifest);
    let dockerfile =
        std::fs::read_to_string(laid.root.path().join("src/.cnab/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("# classic: 1 action(s)"),
        "{dockerfile}"
    );
    laid.run("install")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "mixin classic 0.0.1 has no runtime: it implements porter:mixin@1.0",
        ))
        .stderr(predicate::str::contains(
            r#"install step 1/1 ("Old", classic) failed"#,
        ));
    laid.run("uninstall").assert().success();
}

/// The image carries each mixin compiled, so a run never compiles it;
/// without a usable compiled form the runtime compiles the wasm and says
/// why.
#[test]
fn the_runtime_loads_the_compiled_mixin_the_image_carries_or_says_why_it_compiles() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    let compiled = laid.root.path().join("app/mixins/exec.cwasm");
    assert!(compiled.is_file(), "the build staged exec's compiled form");
    laid.run("uninstall")
        .assert()
        .success()
        .stderr(predicate::str::contains("note: compiled").not());

    std::fs::write(&compiled, b"not compiled code").unwrap();
    laid.run("uninstall")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "note: compiled the exec mixin for this platform in",
        ))
        .stderr(predicate::str::contains(
            "the compiled form in the image is for another platform or porter",
        ));

    std::fs::remove_file(&compiled).unwrap();
    laid.run("uninstall")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "the image carries no compiled form of it",
        ));
}

/// `state:` files go from one run to the next through the `porter-state`
/// output and parameter, in Porter's archive format; a step-only output is
/// masked as Porter masks it.
#[test]
fn state_is_carried_from_install_to_upgrade() {
    let manifest = "schemaVersion: 1.0.1\nname: stateful\nversion: 0.1.0\nregistry: localhost:5000\n\
         mixins:\n  - exec\n\
         state:\n  - name: counter\n    path: state/counter.txt\n\
         install:\n  - exec:\n      description: Count\n      command: sh\n      arguments: [-c, 'mkdir -p state && echo 1 > state/counter.txt']\n\
         upgrade:\n  - exec:\n      description: Count again\n      command: sh\n      arguments: [-c, 'echo previous count $(cat state/counter.txt)']\n\
         uninstall:\n  - exec:\n      description: Bye\n      command: ./helpers.sh\n      arguments: [greet, Bye]\n";
    let laid = Laid::build(home_with_exec(), manifest);
    laid.run("install").assert().success();
    let archive = std::fs::read(laid.outputs().join("porter-state")).unwrap();
    assert!(archive.starts_with(&[0x1f, 0x8b]), "a gzip archive");

    // A new container: the bundle's files as built, the state injected as
    // a CNAB runtime injects a file parameter (base64).
    std::fs::remove_dir_all(laid.root.path().join("app/state")).unwrap();
    use base64::Engine as _;
    std::fs::write(
        laid.root.path().join("state.tgz"),
        base64::engine::general_purpose::STANDARD.encode(&archive),
    )
    .unwrap();
    laid.run("upgrade")
        .assert()
        .success()
        .stdout(predicate::str::contains("previous count 1"));
}

/// `porter-debug` shows each rendered step and command line, with every
/// secret masked.
#[test]
fn porter_debug_shows_steps_and_commands_masked() {
    let laid = Laid::build(home_with_exec(), &manifest("", ""));
    let out = laid
        .run("install")
        .env("PORTER_DEBUG", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#""arguments":["token","*******"]"#),
        "{stderr}"
    );
    assert!(stderr.contains("+ ./helpers.sh token *******"), "{stderr}");
    assert!(secrets_absent(&stderr), "{stderr}");
}

/// A manifest at schemaVersion 1.0.0-alpha.1 writes `{{ }}`; an output of an
/// earlier run reaches a later action through its wiring parameter, as a
/// CNAB runtime injects it.
#[test]
fn alpha_manifests_render_mustache_and_earlier_outputs_come_from_wiring_parameters() {
    let manifest = "schemaVersion: 1.0.0-alpha.1\nname: alpha\nversion: 0.1.0\nregistry: localhost:5000\n\
         mixins:\n  - exec\n\
         outputs:\n  - name: greeted\n    type: string\n\
         install:\n  - exec:\n      description: Greet\n      command: ./helpers.sh\n      arguments: [greet, '{{ installation.name }}']\n      outputs:\n        - name: greeted\n          regex: 'greeted (.*)'\n\
         upgrade:\n  - exec:\n      description: Again\n      command: ./helpers.sh\n      arguments: [upgrade, '{{ bundle.outputs.greeted }}']\n\
         uninstall:\n  - exec:\n      description: Bye\n      command: ./helpers.sh\n      arguments: [greet, '${ not.a.template }']\n";
    let laid = Laid::build(home_with_exec(), manifest);
    laid.run("install")
        .assert()
        .success()
        .stdout(predicate::str::contains("mine, world"));
    laid.run("upgrade")
        .env("PORTER_GREETED_OUTPUT", "the world")
        .assert()
        .success()
        .stdout(predicate::str::contains("upgraded from the world"));
    laid.run("uninstall")
        .assert()
        .success()
        .stdout(predicate::str::contains("${ not.a.template }, world"));
}

/// A parameter without a default is required: without it nothing runs, and
/// the message says where the CNAB runtime should have put it. Porter's
/// client names the installation's namespace in PORTER_INSTALLATION_NAMESPACE.
#[test]
fn a_missing_required_parameter_stops_the_run_before_any_step() {
    let manifest = "schemaVersion: 1.0.1\nname: needy\nversion: 0.1.0\nregistry: localhost:5000\n\
         mixins:\n  - exec\n\
         parameters:\n  - name: port\n    type: integer\n\
         install:\n  - exec:\n      description: Serve\n      command: ./helpers.sh\n      arguments: [state, '${ bundle.parameters.port } in ${ installation.namespace }']\n\
         uninstall:\n  - exec:\n      description: Bye\n      command: ./helpers.sh\n      arguments: [greet, Bye]\n";
    let laid = Laid::build(home_with_exec(), manifest);
    laid.run("install")
        .assert()
        .failure()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "required parameter port has no value (set the env variable PORT)",
        ));
    laid.run("install")
        .env("PORT", "8080")
        .env("PORTER_INSTALLATION_NAMESPACE", "team-a")
        .assert()
        .success()
        .stdout(predicate::str::contains("status: 8080 in team-a"));
}
