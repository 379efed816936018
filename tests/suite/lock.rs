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

/// A team's flow: exec from a URL, apt from a registry, porter.lock
/// written; on another machine (an empty PORTER_HOME) `porter mixins
/// install` with no name fetches both from the recorded sources, checking
/// the locked digests, and `porter build --locked` gives the same
/// bundle.json. A tag moved since the lock is refused, and so is a URL that
/// now serves other bytes, with that PORTER_HOME left as it was.
#[test]
fn an_empty_porter_home_is_refilled_from_the_lock_and_builds_the_same() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let server = HttpServer::start();
    let exec = std::fs::read(mixin_wasm("exec")).unwrap();
    server.route(
        "/mixins/exec/1.0.0/exec.wasm",
        vec![Reply::Body(exec.clone())],
    );
    let apt_tag = format!("{}:0.1.0", registry.at("mixins/apt"));

    // The author's machine: install from the URL and the registry, build.
    let author = tempfile::tempdir().unwrap();
    porter(author.path())
        .args(["mixins", "publish", "--file"])
        .arg(guest_wasm("apt"))
        .args(["--reference", &apt_tag])
        .assert()
        .success();
    porter(author.path())
        .args(["mixins", "install", "exec", "--url"])
        .arg(format!("{}/mixins/exec", server.url()))
        .args(["--version", "1.0.0"])
        .assert()
        .success();
    porter(author.path())
        .args(["mixins", "install", "apt", "--reference", &apt_tag])
        .assert()
        .success();
    let dir = hello_declaring(author.path(), "apt@0.1.0");
    build(author.path(), &dir, &[]).success();
    let lock = std::fs::read_to_string(dir.join("porter.lock")).unwrap();
    assert!(
        lock.contains(&format!(
            "source = \"{}/mixins/exec/1.0.0/exec.wasm\"",
            server.url()
        )),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("source = \"oci://{apt_tag}\"")),
        "{lock}"
    );
    let bundle = std::fs::read(dir.join(".cnab/bundle.json")).unwrap();

    // Another machine: nothing installed; --locked says what to run.
    let teammate = tempfile::tempdir().unwrap();
    build(teammate.path(), &dir, &["--locked"])
        .failure()
        .stderr(predicate::str::contains(
            "run `porter mixins install` to install what porter.lock records",
        ));
    porter(teammate.path())
        .args(["mixins", "install", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed exec 1.0.0"))
        .stdout(predicate::str::contains("Installed apt 0.1.0"));
    build(teammate.path(), &dir, &["--locked", "--force"]).success();
    assert!(
        std::fs::read(dir.join(".cnab/bundle.json")).unwrap() == bundle,
        "the locked build on the other machine gives another bundle.json"
    );
    // Run again, nothing to do.
    porter(teammate.path())
        .args(["mixins", "install", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("exec 1.0.0 is already installed"));

    // The tag moved (another build of apt 0.1.0 pushed over it), and the
    // URL now serves other bytes: a third machine refuses both, and
    // installs nothing (all is fetched and checked before anything is).
    let moved = author.path().join("apt-moved.wasm");
    let mut bytes = std::fs::read(guest_wasm("apt")).unwrap();
    bytes.extend_from_slice(&[0, 6, 5, b'm', b'o', b'v', b'e', b'd']);
    std::fs::write(&moved, &bytes).unwrap();
    porter(author.path())
        .args(["mixins", "publish", "--file"])
        .arg(&moved)
        .args(["--reference", &apt_tag])
        .assert()
        .success();
    let third = tempfile::tempdir().unwrap();
    let before = tree_hash(third.path());
    porter(third.path())
        .args(["mixins", "install", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "cannot fetch mixin apt 0.1.0 from oci://{apt_tag}"
        )));
    let mut changed = exec.clone();
    changed.extend_from_slice(&[0, 6, 5, b'o', b't', b'h', b'e', b'r']);
    server.route("/mixins/exec/1.0.0/exec.wasm", vec![Reply::Body(changed)]);
    let lock_without_apt: String = lock
        .split("[[mixin]]")
        .filter(|part| !part.contains("name = \"apt\""))
        .collect::<Vec<_>>()
        .join("[[mixin]]");
    let exec_only = third.path().join("exec-only");
    std::fs::create_dir_all(&exec_only).unwrap();
    let manifest = std::fs::read_to_string(dir.join("porter.yaml"))
        .unwrap()
        .replace("  - apt@0.1.0\n", "");
    std::fs::write(exec_only.join("porter.yaml"), manifest).unwrap();
    std::fs::write(exec_only.join("porter.lock"), lock_without_apt).unwrap();
    porter(third.path())
        .args(["mixins", "install", "--dir"])
        .arg(&exec_only)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "now serves mixin exec 1.0.0 with digest sha256:",
        ))
        .stderr(predicate::str::contains(format!(
            "but porter.lock records sha256:{}",
            sha256_hex(&exec)
        )));
    let home_files: Vec<_> = tree_hash(third.path())
        .into_iter()
        .filter(|(path, _)| !path.starts_with("exec-only"))
        .collect();
    assert_eq!(home_files, before, "a refused install changes nothing");
}
