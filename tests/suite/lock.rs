//! porter.lock through the real binary: written by `porter build`, not
//! rewritten when unchanged, and `porter build --locked` building with
//! exactly what it records, or saying what is missing and how to get it.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::support::*;

/// examples/hello in `home`, declaring the apt test mixin as well, as
/// `apt` (`apt`, `apt@0.1.0`, ...): its versions are easy to make.
fn hello_declaring(home: &Path, apt: &str) -> PathBuf {
    let dir = home.join("hello");
    std::fs::create_dir_all(&dir).unwrap();
    let source = workspace_root().join("examples/hello");
    for name in ["helpers.sh", ".dockerignore"] {
        std::fs::copy(source.join(name), dir.join(name)).unwrap();
    }
    let manifest = std::fs::read_to_string(source.join("porter.yaml")).unwrap();
    let manifest = manifest.replace(
        "mixins:\n  - exec\n",
        &format!("mixins:\n  - exec\n  - {apt}\n"),
    );
    std::fs::write(dir.join("porter.yaml"), manifest).unwrap();
    dir
}

fn build(home: &Path, dir: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    porter(home)
        .args(["build", "--no-image"])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .assert()
}

/// exec, and apt 0.1.0 (the test guest) and 0.1.1 (the same with its
/// version patched) side by side; apt 0.1.0's digest.
fn home_with_two_apts() -> (tempfile::TempDir, String) {
    let home = home_with_exec_and("apt");
    install_apt_0_1_1(home.path());
    let v1 = std::fs::read(guest_wasm("apt")).unwrap();
    (home, format!("sha256:{}", sha256_hex(&v1)))
}

fn install_apt_0_1_1(home: &Path) {
    let v2 = home.join("apt-0.1.1.wasm");
    std::fs::write(&v2, with_version(&guest_wasm("apt"), "0.1.0", "0.1.1")).unwrap();
    porter(home)
        .args(["mixins", "install", "apt", "--file"])
        .arg(&v2)
        .assert()
        .success();
}

#[test]
fn build_writes_the_lock_and_leaves_an_unchanged_one_alone() {
    let (home, v1) = home_with_two_apts();
    let dir = hello_declaring(home.path(), "apt@~0.1.0 <0.1.1");
    build(home.path(), &dir, &[]).success();
    let lock_path = dir.join("porter.lock");
    let text = std::fs::read_to_string(&lock_path).unwrap();
    assert!(
        text.contains(&format!(
            "[[mixin]]\nname = \"apt\"\nconstraint = \"~0.1.0 <0.1.1\"\nversion = \"0.1.0\"\ndigest = \"{v1}\"\nsource = \"file\"\n"
        )),
        "{text}"
    );

    // Unchanged: the same file, not written again (even by a rebuild).
    let written = std::fs::metadata(&lock_path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    // The lock is no bundle file: writing it leaves the bundle up to date.
    build(home.path(), &dir, &[])
        .success()
        .stdout(predicate::str::contains("Bundle is up-to-date!"));
    build(home.path(), &dir, &["--force"]).success();
    assert_eq!(
        std::fs::metadata(&lock_path).unwrap().modified().unwrap(),
        written
    );
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), text);
}

#[test]
fn locked_builds_use_the_locked_version_while_a_plain_build_moves_on() {
    let home = home_with_exec_and("apt");
    let dir = hello_declaring(home.path(), "apt");
    build(home.path(), &dir, &[]).success();
    let locked = std::fs::read_to_string(dir.join("porter.lock")).unwrap();
    assert!(locked.contains("version = \"0.1.0\""), "{locked}");

    // A newer apt is installed: --locked keeps 0.1.0 and leaves the lock.
    install_apt_0_1_1(home.path());
    build(home.path(), &dir, &["--locked", "--force"]).success();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".cnab/bundle.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["custom"]["sh.porter"]["mixins"]["apt"]["version"],
        "0.1.0"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("porter.lock")).unwrap(),
        locked
    );

    // Without --locked the newest installed version that fits is taken,
    // and the lock follows.
    build(home.path(), &dir, &[]).success();
    let moved = std::fs::read_to_string(dir.join("porter.lock")).unwrap();
    assert!(moved.contains("version = \"0.1.1\""), "{moved}");
}

#[test]
fn locked_fails_naming_the_mixin_when_the_lock_does_not_fit() {
    let (home, v1) = home_with_two_apts();
    let dir = hello_declaring(home.path(), "apt@0.1.0");

    // No lock yet.
    build(home.path(), &dir, &["--locked"])
        .failure()
        .stderr(predicate::str::contains("--locked needs"))
        .stderr(predicate::str::contains(
            "run porter build without --locked to write it",
        ));
    build(home.path(), &dir, &[]).success();
    let bundle_before = std::fs::read(dir.join(".cnab/bundle.json")).unwrap();

    // porter.yaml changed its constraint: the lock is out of date.
    let manifest = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        manifest.replace("- apt@0.1.0", "- apt@0.1.1"),
    )
    .unwrap();
    build(home.path(), &dir, &["--locked"])
        .failure()
        .stderr(predicate::str::contains(
            "porter.lock is out of date with porter.yaml: mixin apt is declared as apt@0.1.1 in porter.yaml and locked as apt@0.1.0",
        ));
    std::fs::write(dir.join("porter.yaml"), manifest).unwrap();

    // The locked version uninstalled: says so, and how to get it back.
    porter(home.path())
        .args(["mixins", "uninstall", "apt", "--version", "0.1.0"])
        .assert()
        .success();
    build(home.path(), &dir, &["--locked"])
        .failure()
        .stderr(predicate::str::contains(format!(
            "mixin apt 0.1.0 ({v1}), which porter.lock records, is not installed"
        )))
        .stderr(predicate::str::contains(
            "porter mixins install apt --file PATH --version 0.1.0",
        ));

    // Another build of the locked version: a different digest is refused.
    let other = home.path().join("apt-other.wasm");
    let mut bytes = std::fs::read(guest_wasm("apt")).unwrap();
    // A custom section appended: still a valid component, other bytes.
    bytes.extend_from_slice(&[0, 6, 5, b'o', b't', b'h', b'e', b'r']);
    std::fs::write(&other, &bytes).unwrap();
    porter(home.path())
        .args(["mixins", "install", "apt", "--file"])
        .arg(&other)
        .assert()
        .success();
    build(home.path(), &dir, &["--locked"])
        .failure()
        .stderr(predicate::str::contains(format!(
            "mixin apt 0.1.0 is installed with digest sha256:{}, but porter.lock records {v1}",
            sha256_hex(&bytes)
        )));
    assert_eq!(
        std::fs::read(dir.join(".cnab/bundle.json")).unwrap(),
        bundle_before,
        "failed builds keep the last one"
    );
}

/// A build on a machine that lacks a locked mixin (without --locked) says
/// what the lock records and names the command.
#[test]
fn a_missing_mixin_that_the_lock_records_names_the_command() {
    let home = home_with_exec_and("apt");
    let dir = hello_declaring(home.path(), "apt");
    build(home.path(), &dir, &[]).success();
    let elsewhere = home_with_exec();
    build(elsewhere.path(), &dir, &[])
        .failure()
        .stderr(predicate::str::contains("mixin apt is not installed"))
        .stderr(predicate::str::contains(
            "porter.lock records apt 0.1.0 from file",
        ));
}
