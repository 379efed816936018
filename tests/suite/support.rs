//! Shared by the end-to-end tests: the built components, a throwaway
//! PORTER_HOME, and the real `porter` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A shipped mixin built by `cargo xtask mixins`. Missing is a failure,
/// never a skip: the tests are worthless without the real components.
pub fn mixin_wasm(name: &str) -> PathBuf {
    built(&format!("target/mixins/{name}.wasm"), "cargo xtask mixins")
}

/// A test guest built by `cargo xtask test-mixins`.
pub fn guest_wasm(name: &str) -> PathBuf {
    built(
        &format!("target/test-mixins/{name}.wasm"),
        "cargo xtask test-mixins",
    )
}

/// A test guest written by hand in the component text format
/// (`tests/guests/<name>.wat`), compiled.
pub fn wat_guest(name: &str) -> Vec<u8> {
    wat_guest_with(name, |text| text)
}

/// [`wat_guest`], with its text changed by `edit` first.
pub fn wat_guest_with(name: &str, edit: impl FnOnce(String) -> String) -> Vec<u8> {
    let path = workspace_root().join(format!("tests/guests/{name}.wat"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    wat::parse_str(edit(text)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn built(relative: &str, how: &str) -> PathBuf {
    let path = workspace_root().join(relative);
    assert!(
        path.is_file(),
        "{} is missing: run `{how}` (or `cargo xtask test`) first",
        path.display()
    );
    path
}

pub fn fixture(relative: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(relative)
}

/// A YAML fixture as JSON, the way the host hands step bodies to mixins.
pub fn yaml_fixture(relative: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(relative)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// The real binary, with PORTER_HOME pointing at `home`.
pub fn porter(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_porter"));
    cmd.env("PORTER_HOME", home).env_remove("PORTER_DEBUG");
    cmd
}

/// A fresh PORTER_HOME with the real exec mixin installed through the binary.
pub fn home_with_exec() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["mixins", "install", "exec", "--file"])
        .arg(mixin_wasm("exec"))
        .assert()
        .success();
    home
}

/// A fresh PORTER_HOME with exec and the test guest `guest` installed.
pub fn home_with_exec_and(guest: &str) -> tempfile::TempDir {
    let home = home_with_exec();
    porter(home.path())
        .args(["mixins", "install", guest, "--file"])
        .arg(guest_wasm(guest))
        .assert()
        .success();
    home
}

/// The same component with its reported version changed (the version
/// string is patched in its data, same length): another release of the
/// mixin, for side-by-side installs.
pub fn with_version(wasm: &Path, from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(wasm).unwrap();
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        at.len(),
        1,
        "expected one '{from}' in {}, found {}",
        wasm.display(),
        at.len()
    );
    bytes[at[0]..at[0] + to.len()].copy_from_slice(to.as_bytes());
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Every path under `dir`, relative, sorted: to show nothing was left behind.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(base).unwrap().display().to_string());
            if path.is_dir() {
                walk(base, &path, out);
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Replaces the contents of a read-only file (an installed mixin's .wasm),
/// to tamper with it.
pub fn overwrite_read_only(path: &Path, bytes: &[u8]) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions).unwrap();
    std::fs::write(path, bytes).unwrap();
}
