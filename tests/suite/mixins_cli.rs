//! `porter mixins install | list | uninstall` through the real binary.

use crate::support::*;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn version_names_porter_and_its_mixin_contract() {
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("porter ")
                .and(predicate::str::contains("porter:mixin@1.1.0")),
        );
}

#[test]
fn install_then_list_shows_version_digest_and_source() {
    let home = tempfile::tempdir().unwrap();
    let wasm = mixin_wasm("exec");
    let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&wasm).unwrap()));

    porter(home.path())
        .args(["mixins", "install", "exec", "--file"])
        .arg(&wasm)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Installed exec 1.0.0 ({digest})"
        )));

    let listed = list_json(home.path());
    assert_eq!(listed.len(), 1, "{listed:?}");
    let exec = &listed[0];
    assert_eq!(exec["name"], "exec");
    assert_eq!(exec["version"], "1.0.0");
    assert_eq!(exec["digest"], digest.as_str());
    assert_eq!(exec["apiVersion"], "1.1.0");
    assert_eq!(exec["author"], "Porter Authors");
    assert_eq!(
        exec["source"],
        format!("file://{}", wasm.display()).as_str()
    );

    // The files are where ARCHITECTURE.md says, with the compiled form cached.
    let files = tree(home.path());
    for expected in [
        "mixins/exec/1.0.0/exec.wasm",
        "mixins/exec/1.0.0/mixin.json",
        "mixins/exec/1.0.0/schema.json",
    ] {
        assert!(
            files.contains(&expected.to_string()),
            "{expected} not in {files:?}"
        );
    }
    let hex = digest.strip_prefix("sha256:").unwrap();
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("cache/precompiled/{hex}-")) && f.ends_with(".cwasm")),
        "no precompiled entry in {files:?}"
    );

    let yaml = porter(home.path())
        .args(["mixins", "list", "-o", "yaml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let yaml: Vec<Value> = serde_saphyr::from_str(std::str::from_utf8(&yaml).unwrap()).unwrap();
    assert_eq!(yaml, listed, "yaml and json list the same");

    porter(home.path())
        .args(["mixins", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("NAME").and(predicate::str::contains(format!(
                "exec   1.0.0     sha256:{}",
                &hex[..12]
            ))),
        );
}

#[test]
fn list_of_an_empty_home_is_empty() {
    let home = tempfile::tempdir().unwrap();
    assert!(list_json(home.path()).is_empty());
    porter(home.path())
        .args(["mixins", "list"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("No mixins installed"));
}

#[test]
fn versions_live_side_by_side_and_uninstall_by_version() {
    let home = tempfile::tempdir().unwrap();
    let v1 = guest_wasm("hostile");
    let v2 = home.path().join("hostile-0.0.2.wasm");
    std::fs::write(&v2, with_version(&v1, "0.0.1", "0.0.2")).unwrap();

    for file in [&v1, &v2] {
        porter(home.path())
            .args(["mixins", "install", "hostile", "--file"])
            .arg(file)
            .assert()
            .success();
    }
    let versions: Vec<Value> = list_json(home.path())
        .iter()
        .map(|m| m["version"].clone())
        .collect();
    assert_eq!(versions, ["0.0.1", "0.0.2"]);

    // A build with 0.0.1 leaves its remembered answers in the cache.
    let bundle = home.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("porter.yaml"),
        "schemaVersion: 1.0.1\nname: t\nversion: 0.1.0\nregistry: example.com\nmixins:\n  - hostile@0.0.1\ninstall:\n  - hostile:\n      description: x\nuninstall:\n  - hostile:\n      description: x\n",
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--dir"])
        .arg(&bundle)
        .assert()
        .success();
    let v1_hex = sha256_hex(&std::fs::read(&v1).unwrap());
    assert!(
        tree(home.path())
            .iter()
            .any(|f| f.starts_with(&format!("cache/answers/{v1_hex}/build-"))),
        "{:?}",
        tree(home.path())
    );

    porter(home.path())
        .args(["mixins", "uninstall", "hostile", "--version", "0.0.1"])
        .assert()
        .success()
        .stdout("Uninstalled hostile 0.0.1\n");
    let versions: Vec<Value> = list_json(home.path())
        .iter()
        .map(|m| m["version"].clone())
        .collect();
    assert_eq!(versions, ["0.0.2"]);

    // The compiled form and the answers of the removed version went with it.
    assert!(
        !tree(home.path()).iter().any(|f| f.contains(&v1_hex)),
        "{:?}",
        tree(home.path())
    );

    porter(home.path())
        .args(["mixins", "uninstall", "hostile", "--version", "9.9.9"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "hostile 9.9.9 is not installed; installed versions: 0.0.2",
        ));

    porter(home.path())
        .args(["mixins", "uninstall", "hostile"])
        .assert()
        .success()
        .stdout("Uninstalled hostile 0.0.2\n");
    assert!(list_json(home.path()).is_empty());
    assert!(!home.path().join("mixins/hostile").exists());
    porter(home.path())
        .args(["mixins", "uninstall", "hostile"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("mixin hostile is not installed"));
}

#[test]
fn reinstalling_the_same_bytes_says_it_is_already_installed() {
    let home = tempfile::tempdir().unwrap();
    let wasm = mixin_wasm("exec");
    let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&wasm).unwrap()));
    for expected in [
        format!("Installed exec 1.0.0 ({digest})\n"),
        format!("exec 1.0.0 is already installed ({digest})\n"),
    ] {
        porter(home.path())
            .args(["mixins", "install", "exec", "--file"])
            .arg(&wasm)
            .assert()
            .success()
            .stdout(expected);
    }
    assert_eq!(list_json(home.path()).len(), 1);
    let leftovers: Vec<String> = tree(home.path())
        .into_iter()
        .filter(|f| f.contains("/."))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging or replaced directories left: {leftovers:?}"
    );
}

/// The same component with a custom section appended: still valid, still
/// the same mixin and version, another digest (another build of it).
fn with_custom_section(wasm: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut body = Vec::new();
    leb128(name.len(), &mut body);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = wasm.to_vec();
    out.push(0); // custom section
    leb128(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

#[test]
fn reinstalling_a_version_with_other_contents_needs_force() {
    let home = home_with_exec();
    let original = std::fs::read(mixin_wasm("exec")).unwrap();
    let old_hex = sha256_hex(&original);
    let rebuilt = with_custom_section(&original, "rebuilt", b"on another machine");
    let new_hex = sha256_hex(&rebuilt);
    let file = home.path().join("exec-rebuilt.wasm");
    std::fs::write(&file, &rebuilt).unwrap();
    let before = tree(home.path());

    porter(home.path())
        .args(["mixins", "install", "exec", "--file"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "exec 1.0.0 is already installed with other contents \
             (installed sha256:{old_hex}, this file sha256:{new_hex}): to replace it, add --force"
        )));
    assert_eq!(
        tree(home.path()),
        before,
        "a refused install changed nothing"
    );
    assert_eq!(
        list_json(home.path())[0]["digest"],
        format!("sha256:{old_hex}")
    );

    porter(home.path())
        .args(["mixins", "install", "exec", "--force", "--file"])
        .arg(&file)
        .assert()
        .success()
        .stdout(format!(
            "Replaced exec 1.0.0 (sha256:{old_hex} -> sha256:{new_hex})\n"
        ));
    let listed = list_json(home.path());
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["digest"], format!("sha256:{new_hex}"));
    // The replaced build's compiled form went with it.
    let files = tree(home.path());
    assert!(!files.iter().any(|f| f.contains(&old_hex)), "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("cache/precompiled/{new_hex}-"))),
        "{files:?}"
    );
}

#[test]
fn a_mixin_that_imports_a_newer_host_function_needs_a_newer_porter() {
    let home = tempfile::tempdir().unwrap();
    let before = tree(home.path());
    porter(home.path())
        .args(["mixins", "install", "future", "--file"])
        .arg(guest_wasm("future"))
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "this mixin needs a newer porter: it imports host#progress (porter:mixin@1.2.0), \
             and this porter provides porter:mixin@1.1.0. Upgrade porter, or install a release \
             of the mixin built for porter:mixin@1.1.0",
        ))
        .stderr(predicate::str::contains("does not give mixins").not());
    assert_eq!(
        tree(home.path()),
        before,
        "a refused install changed nothing"
    );
}

/// Each refused install says why, and leaves PORTER_HOME as it was.
#[test]
fn installs_that_are_refused_leave_nothing_behind() {
    let home = tempfile::tempdir().unwrap();
    let junk = home.path().join("junk");
    std::fs::create_dir(&junk).unwrap();
    let core_module = junk.join("core.wasm");
    std::fs::write(&core_module, b"\0asm\x01\0\0\0").unwrap();
    let text = junk.join("text.wasm");
    std::fs::write(&text, "not wasm").unwrap();
    let truncated = junk.join("truncated.wasm");
    let exec_bytes = std::fs::read(mixin_wasm("exec")).unwrap();
    std::fs::write(&truncated, &exec_bytes[..exec_bytes.len() / 2]).unwrap();
    let before = tree(home.path());

    let cases: Vec<(&str, std::path::PathBuf, Vec<&str>, &str)> = vec![
        (
            "exec",
            guest_wasm("hostile"),
            vec![],
            "the file is the mixin 'hostile', not 'exec'",
        ),
        (
            "not-a-mixin",
            guest_wasm("not-a-mixin"),
            vec![],
            "does not implement the Porter mixin contract",
        ),
        (
            "exec",
            core_module,
            vec![],
            "core WebAssembly module, not a component",
        ),
        ("exec", text, vec![], "not a WebAssembly file"),
        (
            "exec",
            truncated,
            vec![],
            "not a valid WebAssembly component",
        ),
        (
            "exec",
            home.path().join("missing.wasm"),
            vec![],
            "cannot read",
        ),
        ("exec", home.path().to_path_buf(), vec![], "is not a file"),
        (
            "exec",
            mixin_wasm("exec"),
            vec!["--version", "2.0.0"],
            "not the requested version 2.0.0",
        ),
        (
            "../evil",
            mixin_wasm("exec"),
            vec![],
            "not a valid mixin name",
        ),
    ];
    for (name, file, extra, expected) in cases {
        porter(home.path())
            .args(["mixins", "install", name, "--file"])
            .arg(&file)
            .args(extra)
            .assert()
            .failure()
            .stderr(predicate::str::contains(expected));
        assert_eq!(
            tree(home.path()),
            before,
            "installing {} as {name} left files",
            file.display()
        );
    }
}

#[test]
fn a_command_component_is_refused_naming_what_it_exports() {
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["mixins", "install", "not-a-mixin", "--file"])
        .arg(guest_wasm("not-a-mixin"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("wasi:cli/run@0.2"));
}

#[test]
fn a_damaged_record_is_reported_with_what_to_do() {
    let home = home_with_exec();
    std::fs::write(home.path().join("mixins/exec/1.0.0/mixin.json"), "{").unwrap();
    porter(home.path())
        .args(["mixins", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "mixin.json is damaged: reinstall this mixin",
        ));
}
