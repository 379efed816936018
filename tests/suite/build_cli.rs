//! `porter build --no-image` through the real binary: .cnab/ written from
//! the real exec mixin, the stamp and the up-to-date check, and failures
//! that leave the previous build as it was.

use std::path::{Path, PathBuf};

use crate::support::*;
use predicates::prelude::*;
use serde_json::Value;

/// A copy of examples/hello in a temporary directory.
fn hello_bundle(home: &Path) -> PathBuf {
    let dir = home.join("hello");
    std::fs::create_dir_all(&dir).unwrap();
    let source = workspace_root().join("examples/hello");
    for name in ["porter.yaml", "helpers.sh", ".dockerignore"] {
        std::fs::copy(source.join(name), dir.join(name)).unwrap();
    }
    dir
}

fn build(home: &Path, dir: &Path) -> assert_cmd::assert::Assert {
    porter(home)
        .args(["build", "--no-image", "--dir"])
        .arg(dir)
        .assert()
}

fn bundle_json(dir: &Path) -> (Vec<u8>, Value) {
    let bytes = std::fs::read(dir.join(".cnab/bundle.json")).unwrap();
    let value = serde_json::from_slice(&bytes).unwrap();
    (bytes, value)
}

#[test]
fn build_writes_the_dockerfile_bundle_json_and_staged_files() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir)
        .success()
        .stdout(predicate::str::contains(
            "Skipped the invocation image localhost:5000/hello:porter-",
        ));

    let dockerfile = std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("# exec mixin has no buildtime dependencies"),
        "{dockerfile}"
    );
    assert!(
        dockerfile.lines().any(|l| l == "FROM debian:stable-slim"),
        "{dockerfile}"
    );
    assert!(
        !dockerfile.contains("--mount") && !dockerfile.contains("# syntax"),
        "{dockerfile}"
    );

    let (bytes, bundle) = bundle_json(&dir);
    assert_eq!(
        serde_jcs::to_vec(&bundle).unwrap(),
        bytes,
        "bundle.json is canonical JSON"
    );
    assert_eq!(bundle["name"], "hello");
    assert_eq!(bundle["version"], "0.1.0");
    assert_eq!(
        bundle["invocationImages"][0]["image"]
            .as_str()
            .unwrap()
            .split(":porter-")
            .next(),
        Some("localhost:5000/hello")
    );
    let exec = &bundle["custom"]["sh.porter"]["mixins"]["exec"];
    assert_eq!(exec["version"], "1.0.0");
    let wasm = std::fs::read(mixin_wasm("exec")).unwrap();
    assert_eq!(
        exec["digest"],
        format!("sha256:{}", sha256_hex(&wasm)).as_str()
    );
    assert!(bundle["parameters"]["greeting"].is_object(), "{bundle:#}");
    assert!(bundle["actions"]["status"].is_object(), "{bundle:#}");

    let app = dir.join(".cnab/app");
    assert_eq!(std::fs::read(app.join("mixins/exec.wasm")).unwrap(), wasm);
    assert_eq!(
        std::fs::read_to_string(app.join("porter.yaml")).unwrap(),
        std::fs::read_to_string(dir.join("porter.yaml")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(app.join("run"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    // Only what the image needs: no staging leftovers beside .cnab.
    let leftovers: Vec<String> = tree(&dir)
        .into_iter()
        .filter(|f| f.starts_with(".cnab-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_unchanged_bundle_is_up_to_date_and_each_change_rebuilds() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir).success();
    let digest = |dir: &Path| {
        bundle_json(dir).1["custom"]["sh.porter"]["manifestDigest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = digest(&dir);

    build(home.path(), &dir)
        .success()
        .stdout("Bundle is up-to-date!\n");

    // Editing a bundle file rebuilds.
    std::fs::write(
        dir.join("helpers.sh"),
        "#!/usr/bin/env bash\necho changed\n",
    )
    .unwrap();
    build(home.path(), &dir)
        .success()
        .stdout(predicate::str::contains("Wrote"));
    let second = digest(&dir);
    assert_ne!(first, second);

    // So does making a file executable, with the same content.
    std::fs::write(dir.join("data.txt"), "x").unwrap();
    build(home.path(), &dir).success();
    let third = digest(&dir);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("data.txt"), std::fs::Permissions::from_mode(0o755)).unwrap();
    build(home.path(), &dir)
        .success()
        .stdout(predicate::str::contains("Wrote"));
    assert_ne!(third, digest(&dir));

    // And installing another build of the mixin (same version, new digest).
    let other = home.path().join("exec-other.wasm");
    let mut bytes = std::fs::read(mixin_wasm("exec")).unwrap();
    bytes.extend_from_slice(b"\x00\x05\x03pad\x00"); // a custom section: same code, new digest
    std::fs::write(&other, bytes).unwrap();
    porter(home.path())
        .args(["mixins", "install", "exec", "--force", "--file"])
        .arg(&other)
        .assert()
        .success();
    build(home.path(), &dir)
        .success()
        .stdout(predicate::str::contains("Wrote"));

    // --force always rebuilds; touching nothing does not.
    build(home.path(), &dir)
        .success()
        .stdout("Bundle is up-to-date!\n");
    porter(home.path())
        .args(["build", "--no-image", "--force", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Wrote"));
}

#[test]
fn an_edit_that_leaves_a_mixins_input_alone_does_not_load_the_mixin() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir).success();
    let dockerfile = std::fs::read(dir.join(".cnab/Dockerfile")).unwrap();

    // Without its compiled form, loading exec would compile it and cache
    // the result again: an empty cache afterwards means it was not loaded.
    let precompiled = home.path().join("cache/precompiled");
    std::fs::remove_dir_all(&precompiled).unwrap();
    let compiled = || tree(&precompiled).len();

    // A script edit changes the bundle, not what exec is asked.
    std::fs::write(dir.join("helpers.sh"), "#!/usr/bin/env bash\necho edited\n").unwrap();
    build(home.path(), &dir)
        .success()
        .stdout(predicate::str::contains("Wrote"));
    assert_eq!(
        std::fs::read(dir.join(".cnab/Dockerfile")).unwrap(),
        dockerfile
    );
    assert_eq!(compiled(), 0, "exec was loaded");

    // Editing one of exec's steps asks exec something new: it has to run.
    let manifest = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        manifest.replace("Say goodbye", "Say farewell"),
    )
    .unwrap();
    build(home.path(), &dir).success();
    assert_eq!(compiled(), 1, "exec ran, so it was compiled again");
}

/// A `.wasm` changed in PORTER_HOME after install never reaches `.cnab/` or
/// the image under the digest bundle.json records: the build stops, even
/// when everything else is remembered or up to date, and the previous
/// build stays as it was. Putting the modification time back does not hide
/// it (the change time moves with any write).
#[test]
fn a_tampered_installed_mixin_is_caught_before_it_is_staged() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir).success();
    let before = std::fs::read(dir.join(".cnab/bundle.json")).unwrap();
    let wasm = tree(&home.path().join("mixins"))
        .into_iter()
        .find(|p| p.ends_with(".wasm"))
        .map(|p| home.path().join("mixins").join(p))
        .unwrap();
    let original = std::fs::read(&wasm).unwrap();
    let modified = std::fs::metadata(&wasm).unwrap().modified().unwrap();

    // Same length, one byte different, modification time put back.
    let mut tampered = original.clone();
    *tampered.last_mut().unwrap() ^= 1;
    overwrite_read_only(&wasm, &tampered);
    std::fs::File::options()
        .write(true)
        .open(&wasm)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    for args in [&["--no-image"][..], &["--no-image", "--force"][..]] {
        porter(home.path())
            .arg("build")
            .args(args)
            .arg("--dir")
            .arg(&dir)
            .assert()
            .failure()
            .stderr(predicate::str::contains(
                "mixin exec 1.0.0 has changed since it was installed",
            ))
            .stderr(predicate::str::contains(format!(
                "installed as sha256:{}",
                sha256_hex(&original)
            )));
    }
    assert_eq!(
        std::fs::read(dir.join(".cnab/bundle.json")).unwrap(),
        before
    );

    // The installed bytes back: it builds again.
    overwrite_read_only(&wasm, &original);
    build(home.path(), &dir).success();
}

#[test]
fn the_checks_of_an_unchanged_manifest_are_remembered_with_their_warnings() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    let manifest = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    // A warning of the checks after parsing; and a parameter whose schema
    // they compile.
    std::fs::write(
        dir.join("porter.yaml"),
        manifest.replace(
            "customActions:\n",
            "customActions:\n  reboot:\n    description: not an action here\n",
        ),
    )
    .unwrap();
    let warning = "customActions describes 'reboot', which is not an action of this bundle";
    for _ in 0..2 {
        porter(home.path())
            .args(["build", "--no-image", "--force", "--dir"])
            .arg(&dir)
            .assert()
            .success()
            .stderr(predicate::str::contains(warning))
            .stderr(predicate::str::contains("porter.yaml:35:3"));
    }
    let checks: Vec<String> = tree(&home.path().join("cache/answers/porter"))
        .into_iter()
        .filter(|name| name.starts_with("manifest-check-"))
        .collect();
    assert_eq!(checks.len(), 1, "one remembered check: {checks:?}");

    // The same text elsewhere: the remembered warning names the new file.
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for name in ["porter.yaml", "helpers.sh"] {
        std::fs::copy(dir.join(name), elsewhere.join(name)).unwrap();
    }
    porter(home.path())
        .args(["build", "--no-image", "--dir"])
        .arg(&elsewhere)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "{}",
            elsewhere.join("porter.yaml").display()
        )));
}

#[test]
fn lint_errors_stop_the_build_unless_no_lint() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    let text = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    let text = text.replace(
        "      command: ./helpers.sh\n      arguments:\n        - uninstall\n",
        "      command: bash\n      flags:\n        c: echo bye\n",
    );
    std::fs::write(dir.join("porter.yaml"), text).unwrap();
    let failed = build(home.path(), &dir)
        .failure()
        .stderr(predicate::str::contains("error[exec-101]"))
        .stderr(predicate::str::contains(
            "porter.yaml has 1 error\nlint errors were detected. Rerun with --no-lint to ignore the errors",
        ));
    // One prefix: the report is the diagnostics, each saying `error`.
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
    assert!(stderr.starts_with("warning[exec-100]: "), "{stderr}");
    assert!(stderr.contains("\nerror[exec-101]: "), "{stderr}");
    assert!(!stderr.contains("Error: error"), "{stderr}");
    assert!(!dir.join(".cnab").exists(), "a failed build writes nothing");
    porter(home.path())
        .args(["build", "--no-image", "--no-lint", "--dir"])
        .arg(&dir)
        .assert()
        .success();
}

#[test]
fn validation_errors_stop_the_build_even_with_no_lint_and_keep_the_last_build() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir).success();
    let before = std::fs::read(dir.join(".cnab/bundle.json")).unwrap();
    let text = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        text.replace(
            "${ bundle.parameters.greeting }",
            "${ bundle.parameters.greting }",
        ),
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--no-lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "names the parameter 'greting', which is not defined (did you mean 'greeting'?)",
        ))
        .stderr(predicate::str::contains("porter.yaml:46:"))
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("Error: error").not());
    assert_eq!(
        std::fs::read(dir.join(".cnab/bundle.json")).unwrap(),
        before,
        "the previous build is kept"
    );
}

#[test]
fn a_missing_mixin_and_missing_manifest_are_clear() {
    let home = tempfile::tempdir().unwrap();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir)
        .failure()
        .stderr(predicate::str::starts_with(
            "error: mixin exec is not installed",
        ))
        .stderr(predicate::str::contains("porter.yaml:"))
        .stderr(predicate::str::contains("Error: error").not());
    porter(home.path())
        .args(["build", "--no-image", "--dir"])
        .arg(home.path().join("nowhere"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a directory"));
}

#[test]
fn name_version_custom_and_preserve_tags_reach_the_bundle() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    porter(home.path())
        .args([
            "build",
            "--no-image",
            "--name",
            "greeter",
            "--version",
            "1.2.3",
            "--custom",
            "app.tier=gold",
            "--preserve-tags",
            "--dir",
        ])
        .arg(&dir)
        .assert()
        .success();
    let (_, bundle) = bundle_json(&dir);
    assert_eq!(bundle["custom"]["sh.porter"]["preserveTags"], true);
    assert_eq!(bundle["name"], "greeter");
    assert_eq!(bundle["version"], "1.2.3");
    assert_eq!(bundle["custom"]["app"]["tier"], "gold");
    let carried = std::fs::read_to_string(dir.join(".cnab/app/porter.yaml")).unwrap();
    assert!(carried.contains("name: greeter"), "{carried}");
}

/// Porter's own test bundle, built through the real binary with the real
/// exec mixin and Porter's test mixin: its bundle.json equals Porter's
/// golden but for what must differ (this porter's version and commit, the
/// stamp's digest, and the mixins' records, which Porter's test fakes).
#[test]
fn porters_mybuns_builds_to_porters_golden_bundle() {
    let home = home_with_exec_and("testmixin");
    let dir = home.path().join("mybuns");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture("porter/mybuns/porter.yaml"),
        dir.join("porter.yaml"),
    )
    .unwrap();
    std::fs::copy(
        fixture("porter/build/mybuns/Dockerfile.tmpl"),
        dir.join("Dockerfile.tmpl"),
    )
    .unwrap();
    build(home.path(), &dir).success();

    let (_, mut ours) = bundle_json(&dir);
    let golden_text =
        std::fs::read_to_string(fixture("porter/cnab/mybuns-depsv1.bundle.json")).unwrap();
    let mut golden: Value = serde_json::from_str(&golden_text).unwrap();
    let stamp = ours["custom"]["sh.porter"].as_object().unwrap().clone();
    assert_eq!(stamp["mixins"]["testmixin"]["version"], "0.1.0");
    for must_differ in ["mixins", "version", "commit", "manifestDigest"] {
        ours["custom"]["sh.porter"]
            .as_object_mut()
            .unwrap()
            .remove(must_differ);
        golden["custom"]["sh.porter"]
            .as_object_mut()
            .unwrap()
            .remove(must_differ);
    }
    assert_eq!(ours, golden);

    let dockerfile = std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("# testmixin client 1.2.3"),
        "{dockerfile}"
    );
    assert!(
        dockerfile.contains("# exec mixin has no buildtime dependencies"),
        "{dockerfile}"
    );
}

/// The runtime the image carries comes from PORTER_HOME/runtimes (where
/// `cargo xtask install` puts porter); without one the build says so.
#[test]
fn the_installed_runtime_is_staged_and_its_absence_is_reported() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir)
        .success()
        .stderr(predicate::str::contains("no porter runtime is installed"));
    assert!(!dir.join(".cnab/app/runtimes").exists());

    let runtimes = home.path().join("runtimes");
    std::fs::create_dir_all(&runtimes).unwrap();
    std::fs::write(
        runtimes.join("porter-runtime"),
        b"#!/bin/sh\necho runtime\n",
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--force", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains("no porter runtime").not());
    let staged = dir.join(".cnab/app/runtimes/porter-runtime");
    assert_eq!(
        std::fs::read(&staged).unwrap(),
        b"#!/bin/sh\necho runtime\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&staged).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

/// A custom template gets the init lines and mixins' lines; with Porter's
/// experimental full-control-dockerfile it is used byte for byte.
#[test]
fn custom_templates_and_full_control() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    let text = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        text.replace(
            "registry: localhost:5000\n",
            "registry: localhost:5000\ndockerfile: template.Dockerfile\n",
        ),
    )
    .unwrap();
    let template = "FROM debian:stable-slim\n# PORTER_MIXINS\nRUN echo custom\n";
    std::fs::write(dir.join("template.Dockerfile"), template).unwrap();
    build(home.path(), &dir).success();
    let generated = std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap();
    assert!(
        generated.contains("ARG BUNDLE_UID=65532"),
        "init lines inserted: {generated}"
    );
    assert!(
        generated.contains("# exec mixin has no buildtime dependencies\n\nRUN echo custom"),
        "{generated}"
    );

    porter(home.path())
        .env("PORTER_EXPERIMENTAL", "full-control-dockerfile")
        .args(["build", "--no-image", "--force", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap(),
        template
    );

    std::fs::remove_file(dir.join("template.Dockerfile")).unwrap();
    build(home.path(), &dir)
        .failure()
        .stderr(predicate::str::contains(
            "cannot read the Dockerfile template",
        ));
}

/// `--file` is relative to `--dir`, as in Porter. Without `--no-image`, an
/// engine that does not answer is reported, with what to do, before any
/// work: the previous build stays as it was.
#[test]
fn file_is_relative_to_dir_and_an_engine_that_is_down_changes_nothing() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    std::fs::rename(dir.join("porter.yaml"), dir.join("bundle.yaml")).unwrap();
    porter(home.path())
        .current_dir(home.path())
        .args(["build", "--no-image", "--file", "bundle.yaml", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    let (before, _) = bundle_json(&dir);
    let before_tree = tree(&dir);

    // A socket nobody listens on: a stopped engine.
    let socket = home.path().join("stopped.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let unreachable = [
        format!("unix://{}", socket.display()),
        format!("unix://{}", home.path().join("missing.sock").display()),
        "tcp://127.0.0.1:1".to_string(),
    ];
    std::fs::write(dir.join("helpers.sh"), "#!/bin/sh\necho changed\n").unwrap();
    for host in &unreachable {
        porter(home.path())
            .env("DOCKER_HOST", host)
            .args(["build", "--file", "bundle.yaml", "--dir"])
            .arg(&dir)
            .assert()
            .failure()
            .stderr(predicate::str::contains(format!(
                "cannot reach the Docker engine at {host}"
            )))
            .stderr(predicate::str::contains("or pass --no-image"));
        assert_eq!(bundle_json(&dir).0, before, "{host}");
        assert_eq!(tree(&dir), before_tree, "{host}");
    }
    porter(home.path())
        .env("DOCKER_HOST", "ftp://example.com")
        .args(["build", "--file", "bundle.yaml", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "DOCKER_HOST=ftp://example.com is not an engine address porter can use",
        ));
}

/// bundle.json records the commit porter was built from, as Porter records
/// its own: the workspace's HEAD in a git checkout (as in CI), `unknown`
/// outside one; never empty.
#[test]
fn bundle_json_records_the_commit_porter_was_built_from() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir).success();
    let (_, bundle) = bundle_json(&dir);
    let commit = bundle["custom"]["sh.porter"]["commit"].as_str().unwrap();
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(workspace_root())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    match head {
        Some(head) => assert_eq!(commit, head),
        None => assert_eq!(commit, "unknown"),
    }
}

/// `--no-image` builds no image, so its build arguments do nothing: said,
/// and left out of the stamp (the bundle stays up to date with or without).
#[test]
fn build_args_without_an_image_are_reported_unused() {
    let home = home_with_exec();
    let dir = hello_bundle(home.path());
    build(home.path(), &dir).success();
    porter(home.path())
        .args([
            "build",
            "--no-image",
            "--build-arg",
            "A=1",
            "--build-arg",
            "B=2",
            "--dir",
        ])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Bundle is up-to-date!"))
        .stderr(predicate::str::contains(
            "warning: --build-arg A, B is unused: --no-image builds no image",
        ));
}

/// A bundle whose apt test mixin returns these Dockerfile lines, built
/// without an image.
fn build_with_apt_lines(lines: &str) -> (tempfile::TempDir, PathBuf, assert_cmd::assert::Assert) {
    let home = home_with_exec_and("apt");
    let dir = home.path().join("apt-bundle");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        format!(
            "schemaVersion: 1.0.1\nname: apt-lines\nversion: 0.1.0\nregistry: localhost:5000\n\
             mixins:\n  - apt: {{lines: {lines}}}\n  - exec\n\
             install: [{{exec: {{description: x, command: 'true'}}}}]\n\
             uninstall: [{{exec: {{description: x, command: 'true'}}}}]\n"
        ),
    )
    .unwrap();
    let assert = build(home.path(), &dir);
    (home, dir, assert)
}

/// A line break inside one Dockerfile line of a mixin is refused, naming
/// the mixin (before, the line became two and a FROM hidden in it only got
/// a warning); nothing is written.
#[test]
fn a_mixin_line_with_a_line_break_fails_the_build_naming_the_mixin() {
    let (_home, dir, assert) = build_with_apt_lines(r#"["RUN true", "RUN a\nFROM evil"]"#);
    assert.failure().stderr(predicate::str::contains(
        "Dockerfile line 2 of mixin `apt` contains a line break (`RUN a\\nFROM evil`)",
    ));
    assert!(!dir.join(".cnab").exists(), "a failed build writes nothing");
}

/// ADD from a URL is fetched while the image is built, outside the mixin's
/// digest: the build says so, and goes on.
#[test]
fn a_mixin_line_that_downloads_is_warned_about() {
    let (_home, dir, assert) =
        build_with_apt_lines(r#"["ADD https://example.com/tool.tgz /opt/"]"#);
    assert.success().stderr(predicate::str::contains(
        "warning: the Dockerfile lines of mixin `apt`: ADD https://example.com/tool.tgz downloads while the image is built",
    ));
    assert!(dir.join(".cnab/Dockerfile").is_file());
}
/// Where each diagnostic whose message contains `message` is shown
/// (`line:column` in porter.yaml), in the order shown.
fn shown_at(stderr: &str, message: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.contains(message))
        .filter_map(|(i, _)| {
            let location = lines[i..].iter().find(|l| l.contains("--> "))?;
            Some(location.rsplit("porter.yaml:").next()?.to_string())
        })
        .collect()
}

/// A build hook's `invalid-config` problems are shown on the values they
/// name: a config pointer under the mixin's `config` block, a step pointer
/// (`/upgrade/0/script`: picky's first upgrade step) on that step in
/// porter.yaml (upgrade's second step, after exec's).
#[test]
fn a_build_hooks_config_and_step_problems_are_placed_in_porter_yaml() {
    let home = home_with_exec_and("picky");
    let dir = home.path().join("picky");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        "schemaVersion: 1.0.1\nname: t\nversion: 0.1.0\nregistry: example.com\nmixins:\n  - exec\n  - picky:\n      packages: [tree, Vim]\ninstall:\n  - picky:\n      script: ./install.sh\nupgrade:\n  - exec:\n      command: ./upgrade.sh\n  - picky:\n      script: upgrade.sh\nuninstall:\n  - picky:\n      script: ./uninstall.sh\n",
    )
    .unwrap();
    let output = build(home.path(), &dir).failure().get_output().clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        shown_at(&stderr, "package names are lowercase, not 'Vim'"),
        ["8:24"],
        "{stderr}"
    );
    assert_eq!(
        shown_at(&stderr, "a script is a path in the bundle"),
        ["16:15"],
        "{stderr}"
    );
    assert!(!dir.join(".cnab").exists(), "a failed build writes nothing");
}

/// Two users, two machines: the same bundle built with the same mixins from
/// different PORTER_HOMEs and directories, the mixin installed from files
/// at different paths, gives byte-identical bundle.json and Dockerfile (no
/// path of either machine in them).
#[test]
fn the_same_bundle_and_mixins_build_byte_identical_records_anywhere() {
    let build_as = |user: &str| {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join(format!("{user}-porter-home"));
        let wasm = root
            .path()
            .join(format!("downloads-of-{user}/exec-copy.wasm"));
        std::fs::create_dir_all(wasm.parent().unwrap()).unwrap();
        std::fs::copy(mixin_wasm("exec"), &wasm).unwrap();
        porter(&home)
            .args(["mixins", "install", "exec", "--file"])
            .arg(&wasm)
            .assert()
            .success();
        let dir = hello_bundle(&root.path().join(format!("work/{user}")));
        build(&home, &dir).success();
        let read = |file: &str| std::fs::read(dir.join(".cnab").join(file)).unwrap();
        let records = (read("bundle.json"), read("Dockerfile"));
        for (name, bytes) in [("bundle.json", &records.0), ("Dockerfile", &records.1)] {
            let text = String::from_utf8_lossy(bytes);
            let machine = root.path().to_string_lossy();
            assert!(
                !text.contains(&*machine),
                "{name} names a local path: {text}"
            );
        }
        records
    };
    let (alice, bob) = (build_as("alice"), build_as("bob"));
    assert!(
        alice.0 == bob.0,
        "bundle.json differs between the two builds"
    );
    assert!(
        alice.1 == bob.1,
        "the Dockerfile differs between the two builds"
    );
    let bundle: Value = serde_json::from_slice(&alice.0).unwrap();
    assert_eq!(
        bundle["custom"]["sh.porter"]["mixins"]["exec"]["source"],
        "file"
    );
}
