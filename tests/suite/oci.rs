//! Mixins in an OCI registry through the real binary and a real registry
//! (Debian's `docker-registry`, started by each test on a free loopback
//! port with its own storage, and killed at the end): `porter mixins
//! publish`, `porter mixins install --reference` by tag and by digest, a
//! tag that moved, credentials from a DOCKER_CONFIG directory, and every
//! failure leaving PORTER_HOME byte-for-byte as it was.
//!
//! Without `docker-registry` these fail, never pass: `.ci/setup` installs
//! it; set PORTER_TEST_WITHOUT_REGISTRY=1 to skip them knowingly.

use std::path::Path;

use crate::support::*;
use predicates::prelude::*;
use serde_json::{Value, json};

/// `porter:s3cret`, bcrypt (cost 4) for the registry's htpasswd file.
const HTPASSWD: &str = "porter:$2b$04$ttR/cNMuRJ0tOkW5fipjZebFerXDxBmnwkAp4GFkRXtvpwNbvk7IG\n";

/// The binary with a Docker config directory of the test's own (so the
/// machine's ~/.docker never counts).
fn porter_with(home: &Path, docker_config: &Path) -> assert_cmd::Command {
    let mut cmd = porter(home);
    cmd.env("DOCKER_CONFIG", docker_config);
    cmd
}

/// Every path under `dir` with a hash of its contents (files) or its kind,
/// and its permissions: equal snapshots are byte-for-byte equal trees.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    tree(dir)
        .into_iter()
        .map(|relative| {
            let path = dir.join(&relative);
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode();
            let what = if meta.is_file() {
                sha256_hex(&std::fs::read(&path).unwrap())
            } else if meta.is_dir() {
                "dir".to_string()
            } else {
                "other".to_string()
            };
            (relative, format!("{what} {mode:o}"))
        })
        .collect()
}

fn file_digest(path: &Path) -> String {
    format!("sha256:{}", sha256_hex(&std::fs::read(path).unwrap()))
}

/// `porter mixins publish`, its manifest digest.
fn publish(home: &Path, docker_config: &Path, wasm: &Path, reference: &str) -> String {
    let out = porter_with(home, docker_config)
        .args(["mixins", "publish", "--file"])
        .arg(wasm)
        .args(["--reference", reference])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let digest = out
        .lines()
        .find_map(|line| line.strip_prefix("Manifest digest: "))
        .unwrap_or_else(|| panic!("no manifest digest in: {out}"))
        .to_string();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{out}");
    digest
}

#[test]
fn publish_then_install_by_tag_and_by_digest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let docker = tempfile::tempdir().unwrap();
    let wasm = mixin_wasm("exec");
    let wasm_digest = file_digest(&wasm);
    let reference = format!("{}:1.0.0", registry.at("mixins/exec"));

    // Publishing checks the mixin and writes nothing in PORTER_HOME.
    let publisher = tempfile::tempdir().unwrap();
    let out = porter_with(publisher.path(), docker.path())
        .args(["mixins", "publish", "--file"])
        .arg(&wasm)
        .args(["--reference", &reference])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(&format!(
            "Published exec 1.0.0 ({wasm_digest}) to {reference}"
        )),
        "{out}"
    );
    let manifest_digest = out
        .lines()
        .find_map(|l| l.strip_prefix("Manifest digest: "))
        .unwrap()
        .to_string();
    let by_digest = format!("{}@{manifest_digest}", registry.at("mixins/exec"));
    assert!(
        out.contains(&format!(
            "Install it with: porter mixins install exec --reference {by_digest}"
        )),
        "{out}"
    );
    assert!(
        tree(publisher.path()).is_empty(),
        "{:?}",
        tree(publisher.path())
    );
    // The same bytes published again give the same manifest.
    assert_eq!(
        publish(publisher.path(), docker.path(), &wasm, &reference),
        manifest_digest
    );

    // By tag.
    let home = tempfile::tempdir().unwrap();
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "exec", "--reference", &reference])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Installed exec 1.0.0 ({wasm_digest})"
        )));
    let mixins = list_json(home.path());
    assert_eq!(mixins.len(), 1, "{mixins:?}");
    assert_eq!(mixins[0]["digest"], wasm_digest.as_str());
    assert_eq!(mixins[0]["source"], format!("oci://{reference}").as_str());
    assert_eq!(
        std::fs::read(home.path().join("mixins/exec/1.0.0/exec.wasm")).unwrap(),
        std::fs::read(&wasm).unwrap()
    );

    // By digest, with the .wasm's digest required too.
    let home = tempfile::tempdir().unwrap();
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "exec", "--reference", &by_digest])
        .args(["--digest", &wasm_digest])
        .assert()
        .success();
    let mixins = list_json(home.path());
    assert_eq!(mixins[0]["digest"], wasm_digest.as_str());
    assert_eq!(mixins[0]["source"], format!("oci://{by_digest}").as_str());
    // oci:// in front is accepted (it is how the source is recorded).
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "exec", "--reference"])
        .arg(format!("oci://{by_digest}"))
        .assert()
        .success()
        .stdout(predicate::str::contains("is already installed"));
}

#[test]
fn a_moved_tag_does_not_move_an_install_by_digest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let docker = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let v1 = guest_wasm("hostile");
    let v2 = scratch.path().join("hostile-0.0.2.wasm");
    std::fs::write(&v2, with_version(&v1, "0.0.1", "0.0.2")).unwrap();
    let tag = format!("{}:stable", registry.at("mixins/hostile"));

    let first = publish(scratch.path(), docker.path(), &v1, &tag);
    let second = publish(scratch.path(), docker.path(), &v2, &tag);
    assert_ne!(first, second);

    let home = tempfile::tempdir().unwrap();
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "hostile", "--reference", &tag])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.2"));
    let old = format!("{}@{first}", registry.at("mixins/hostile"));
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "hostile", "--reference", &old])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Installed hostile 0.0.1 ({})",
            file_digest(&v1)
        )));
    // The tag, required to be the old .wasm, is refused before its layer
    // is downloaded (what `--locked` relies on), leaving the home as it was.
    let before = snapshot(home.path());
    porter_with(home.path(), docker.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--reference",
            &tag,
            "--digest",
        ])
        .arg(file_digest(&v1))
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "is a .wasm with digest {}, not the expected {}",
            file_digest(&v2),
            file_digest(&v1)
        )));
    assert_eq!(snapshot(home.path()), before);
    // What a lock relies on: the recorded source gives the same bytes back.
    let (bytes, digest) = porter::oci::pull_wasm(
        &format!("oci://{old}"),
        &porter::oci::RegistryOptions::default(),
    )
    .unwrap();
    assert_eq!(bytes, std::fs::read(&v1).unwrap());
    assert_eq!(digest, file_digest(&v1));
}

/// Pushes `layers` (media type, bytes) under `config_type` with oci-client,
/// as another tool would: artifacts `porter mixins publish` never makes.
fn push_raw(reference: &str, config_type: &str, layers: &[(&str, Vec<u8>)]) {
    use oci_client::client::{ClientConfig, ClientProtocol};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reference: oci_client::Reference = reference.parse().unwrap();
    let client = oci_client::Client::try_from(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let descriptor = |media_type: &str, bytes: &[u8]| {
        json!({
            "mediaType": media_type,
            "digest": format!("sha256:{}", sha256_hex(bytes)),
            "size": bytes.len(),
        })
    };
    let config = br#"{"architecture":"wasm","os":"wasip2"}"#.to_vec();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor(config_type, &config),
        "layers": layers.iter().map(|(t, b)| descriptor(t, b)).collect::<Vec<_>>(),
    });
    runtime.block_on(async {
        client
            .store_auth_if_needed(
                reference.resolve_registry(),
                &oci_client::secrets::RegistryAuth::Anonymous,
            )
            .await;
        for bytes in layers.iter().map(|(_, b)| b).chain([&config]) {
            let digest = format!("sha256:{}", sha256_hex(bytes));
            client
                .push_blob(&reference, bytes.clone(), &digest)
                .await
                .unwrap();
        }
        client
            .push_manifest_raw(
                &reference,
                serde_json::to_vec(&manifest).unwrap(),
                "application/vnd.oci.image.manifest.v1+json"
                    .parse()
                    .unwrap(),
            )
            .await
            .unwrap();
    });
}

#[test]
fn failed_installs_say_why_and_leave_porter_home_unchanged() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let docker = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let exec = mixin_wasm("exec");
    let exec_ref = format!("{}:1.0.0", registry.at("mixins/exec"));
    publish(scratch.path(), docker.path(), &exec, &exec_ref);

    let wasm_config = "application/vnd.wasm.config.v0+json";
    let image_ref = format!("{}:1", registry.at("images/plain"));
    push_raw(
        &image_ref,
        "application/vnd.oci.image.config.v1+json",
        &[(
            "application/vnd.oci.image.layer.v1.tar+gzip",
            b"not really a tar".to_vec(),
        )],
    );
    let two_ref = format!("{}:1", registry.at("mixins/two"));
    let exec_bytes = std::fs::read(&exec).unwrap();
    push_raw(
        &two_ref,
        wasm_config,
        &[
            ("application/wasm", exec_bytes.clone()),
            (
                "application/wasm",
                std::fs::read(guest_wasm("testmixin")).unwrap(),
            ),
        ],
    );
    let not_a_mixin_ref = format!("{}:1", registry.at("mixins/not-a-mixin"));
    push_raw(
        &not_a_mixin_ref,
        wasm_config,
        &[(
            "application/wasm",
            std::fs::read(guest_wasm("not-a-mixin")).unwrap(),
        )],
    );

    let home = home_with_exec_and("testmixin");
    let before = snapshot(home.path());
    let down = format!("127.0.0.1:{}/mixins/exec:1.0.0", free_port());
    let wrong_digest = format!("sha256:{}", "0".repeat(64));
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("exec", vec![down.clone()], "connection refused"),
        (
            "exec",
            vec![format!("{}:1.0.0", registry.at("nothing/here"))],
            "no such repository, tag or digest",
        ),
        (
            "exec",
            vec![format!("{}:no-such-tag", registry.at("mixins/exec"))],
            "no such repository, tag or digest",
        ),
        ("exec", vec![image_ref.clone()], "is a container image"),
        ("exec", vec![two_ref.clone()], "with 2 layers"),
        (
            "not-a-mixin",
            vec![not_a_mixin_ref.clone()],
            "does not implement the Porter mixin contract",
        ),
        ("testmixin", vec![exec_ref.clone()], "is the mixin 'exec'"),
        (
            "exec",
            vec![exec_ref.clone(), "--digest".into(), wrong_digest.clone()],
            "not the expected",
        ),
        (
            "exec",
            vec![exec_ref.clone(), "--digest".into(), "sha256:abc".into()],
            "is not a sha256 digest",
        ),
        (
            "exec",
            vec![exec_ref.clone(), "--version".into(), "2.0.0".into()],
            "not the requested version 2.0.0",
        ),
    ];
    for (name, args, expected) in cases {
        let assert = porter_with(home.path(), docker.path())
            .args(["mixins", "install", name, "--reference"])
            .args(&args)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains(expected),
            "{name} {args:?}: expected '{expected}' in:\n{stderr}"
        );
        assert_eq!(
            snapshot(home.path()),
            before,
            "{name} {args:?} changed PORTER_HOME ({stderr})"
        );
    }
    // The plain image's message says what it found.
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "exec", "--reference", &image_ref])
        .assert()
        .failure()
        .stderr(predicate::str::contains("tar+gzip"));
}

#[test]
fn publish_refuses_what_is_not_a_mixin_and_needs_a_tag() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let docker = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let reference = format!("{}:1", registry.at("mixins/not-a-mixin"));
    porter_with(home.path(), docker.path())
        .args(["mixins", "publish", "--file"])
        .arg(guest_wasm("not-a-mixin"))
        .args(["--reference", &reference])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is not a mixin porter can install",
        ))
        .stderr(predicate::str::contains(
            "does not implement the Porter mixin contract",
        ));
    // Nothing was pushed.
    porter_with(home.path(), docker.path())
        .args([
            "mixins",
            "install",
            "not-a-mixin",
            "--reference",
            &reference,
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no"));
    let digest = format!("sha256:{}", "1".repeat(64));
    porter_with(home.path(), docker.path())
        .args(["mixins", "publish", "--file"])
        .arg(mixin_wasm("exec"))
        .args(["--reference"])
        .arg(format!("{}@{digest}", registry.at("mixins/exec")))
        .assert()
        .failure()
        .stderr(predicate::str::contains("does not name a tag"));
    porter_with(home.path(), docker.path())
        .args(["mixins", "publish", "--file"])
        .arg(mixin_wasm("exec"))
        .args(["--reference"])
        .arg(format!("127.0.0.1:{}/mixins/exec:1.0.0", free_port()))
        .assert()
        .failure()
        .stderr(predicate::str::contains("connection refused"));
    assert!(tree(home.path()).is_empty());
}

/// A DOCKER_CONFIG directory whose config.json is `config`.
fn docker_config(config: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_vec(&config).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn credentials_come_from_docker_config() {
    let Some(registry) = Registry::start_with(Some(HTPASSWD)) else {
        return;
    };
    let reference = format!("{}:1.0.0", registry.at("mixins/exec"));
    let wasm = mixin_wasm("exec");
    let home = tempfile::tempdir().unwrap();

    // No credentials: refused, with what to do.
    let none = tempfile::tempdir().unwrap();
    porter_with(home.path(), none.path())
        .args(["mixins", "publish", "--file"])
        .arg(&wasm)
        .args(["--reference", &reference])
        .assert()
        .failure()
        .stderr(predicate::str::contains("requires credentials"))
        .stderr(predicate::str::contains(format!(
            "docker login {}",
            registry.addr
        )));
    // Wrong ones.
    let wrong =
        docker_config(json!({"auths": {registry.addr.clone(): {"auth": "cG9ydGVyOndyb25n"}}}));
    porter_with(home.path(), wrong.path())
        .args(["mixins", "publish", "--file"])
        .arg(&wasm)
        .args(["--reference", &reference])
        .assert()
        .failure()
        .stderr(predicate::str::contains("refused the credentials"));
    // A credential helper is named, not run.
    let helper = docker_config(json!({"auths": {}, "credsStore": "desktop"}));
    porter_with(home.path(), helper.path())
        .args(["mixins", "install", "exec", "--reference", &reference])
        .assert()
        .failure()
        .stderr(predicate::str::contains("docker-credential-desktop"));
    assert!(tree(home.path()).is_empty());

    // Right ones ("porter:s3cret"), as `docker login` writes them.
    let right =
        docker_config(json!({"auths": {registry.addr.clone(): {"auth": "cG9ydGVyOnMzY3JldA=="}}}));
    publish(home.path(), right.path(), &wasm, &reference);
    porter_with(home.path(), right.path())
        .args(["mixins", "install", "exec", "--reference", &reference])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed exec 1.0.0"));
}

#[test]
fn https_is_required_off_loopback_unless_insecure() {
    // A name that is not loopback: porter must try HTTPS. Nothing listens
    // there, so the error is about reaching it, over https.
    let home = tempfile::tempdir().unwrap();
    let docker = tempfile::tempdir().unwrap();
    let port = free_port();
    let reference = format!("registry.invalid:{port}/mixins/exec:1.0.0");
    porter_with(home.path(), docker.path())
        .args(["mixins", "install", "exec", "--reference", &reference])
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "https://registry.invalid:{port}"
        )));
    porter_with(home.path(), docker.path())
        .args([
            "mixins",
            "install",
            "exec",
            "--insecure-registry",
            "--reference",
            &reference,
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "http://registry.invalid:{port}"
        )));
    assert!(tree(home.path()).is_empty());
}
