//! The invocation image runs its actions: `porter build` with porter's
//! real runtime (this test binary's `porter`), then `docker run` of the
//! image the way a CNAB runtime runs it (`CNAB_ACTION`, parameters and
//! credentials as env variables and mounted files, `/cnab/app/outputs`
//! mounted). Needs the engine, as image_build.rs does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// A bundle built into an image whose runtime is this build's porter;
/// the image is removed when dropped.
struct Image {
    home: tempfile::TempDir,
    dir: PathBuf,
    reference: String,
}

impl Image {
    fn build(from: &Path) -> Image {
        let home = home_with_exec();
        let runtimes = home.path().join("runtimes");
        std::fs::create_dir_all(&runtimes).unwrap();
        std::fs::copy(
            env!("CARGO_BIN_EXE_porter"),
            runtimes.join("porter-runtime"),
        )
        .unwrap();
        let dir = home.path().join("bundle");
        copy_tree(from, &dir);
        // A name of its own, so parallel tests never share an image.
        let manifest = std::fs::read_to_string(dir.join("porter.yaml")).unwrap();
        let name = format!("porter-run-{}-{}", std::process::id(), unique());
        let manifest = manifest.replacen("\nname: ", &format!("\nname: {name}\n#was: "), 1);
        std::fs::write(dir.join("porter.yaml"), manifest).unwrap();
        porter(home.path())
            .args(["build", "--dir"])
            .arg(&dir)
            .assert()
            .success();
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(".cnab/bundle.json")).unwrap()).unwrap();
        let reference = bundle["invocationImages"][0]["image"]
            .as_str()
            .unwrap()
            .to_string();
        Image {
            home,
            dir,
            reference,
        }
    }

    /// `docker run` of the image for `action`; `args` go before the image.
    fn run(&self, action: &str, args: &[&str]) -> (i32, String, String) {
        let out = Command::new("docker")
            .args(["run", "--rm", "-e"])
            .arg(format!("CNAB_ACTION={action}"))
            .args(["-e", "CNAB_INSTALLATION_NAME=mine"])
            .args(args)
            .arg(&self.reference)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = docker(&["image", "rm", "--force", &self.reference]);
        let _ = (&self.home, &self.dir);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".cnab" || name == "porter.lock" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

/// A directory the image's user (65532) can write: the outputs mount.
fn writable_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn mount(host: &Path, in_image: &str) -> String {
    format!("{}:{in_image}", host.display())
}

#[test]
fn the_example_bundle_installs_runs_its_custom_action_and_uninstalls() {
    if !engine_available() {
        return;
    }
    let image = Image::build(&workspace_root().join("examples/hello"));
    let outputs = writable_dir();
    let out_mount = mount(outputs.path(), "/cnab/app/outputs");

    let (code, stdout, stderr) = image.run(
        "install",
        &[
            "-e",
            "GREETING=Howdy",
            "-e",
            "HELLO_TOKEN=tok-SECRET-42",
            "-v",
            &out_mount,
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Howdy, world"), "{stdout}");
    assert!(
        !stdout.contains("tok-SECRET-42") && !stderr.contains("tok-SECRET-42"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(outputs.path().join("greeted")).unwrap(),
        "world"
    );

    let (code, stdout, stderr) = image.run("status", &[]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("this bundle greets the world"), "{stdout}");

    let (code, stdout, stderr) = image.run("uninstall", &[]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Goodbye, world"), "{stdout}");

    let (code, _, stderr) = image.run("explode", &[]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains(r#"the bundle has no action "explode""#),
        "{stderr}"
    );
}

#[test]
fn an_install_reads_every_kind_of_input_writes_every_kind_of_output_and_masks_secrets() {
    if !engine_available() {
        return;
    }
    let image = Image::build(&workspace_root().join("tests/fixtures/runtime"));
    let outputs = writable_dir();
    let inputs = tempfile::tempdir().unwrap();
    // The CNAB runtime injects a file parameter base64-encoded.
    let settings = inputs.path().join("settings");
    std::fs::write(&settings, "eyJ1c2VyIjogImFkYSJ9").unwrap(); // {"user": "ada"}
    let kubeconfig = inputs.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "kube-SECRET-77").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [&settings, &kubeconfig] {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o666)).unwrap();
        }
    }
    let (code, stdout, stderr) = image.run(
        "install",
        &[
            "-e",
            "GREETING=Howdy",
            "-e",
            "FIXTURE_TOKEN=tok-SECRET-42",
            "-v",
            &mount(&settings, "/cnab/app/settings.txt"),
            "-v",
            &mount(&kubeconfig, "/home/nonroot/.kube/config"),
            "-v",
            &mount(outputs.path(), "/cnab/app/outputs"),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let logs = format!("{stdout}\n{stderr}");
    assert!(logs.contains("Howdy, world"), "{logs}");
    assert!(logs.contains("token is *******"), "{logs}");
    assert!(logs.contains("kubeconfig says *******"), "{logs}");
    assert!(
        !logs.contains("tok-SECRET-42") && !logs.contains("kube-SECRET-77"),
        "{logs}"
    );
    let output = |name: &str| std::fs::read_to_string(outputs.path().join(name)).unwrap();
    assert_eq!(output("greeted"), "world");
    assert_eq!(output("user"), "ada");
    assert_eq!(output("report"), "checked the credentials\n");
    assert_eq!(output("secret-report"), "kube-SECRET-77");

    // The next run gets the state as a CNAB runtime injects it: the
    // porter-state output, base64, at /porter/state.tgz.
    use base64::Engine as _;
    let state = inputs.path().join("state.tgz");
    let archive = std::fs::read(outputs.path().join("porter-state")).unwrap();
    std::fs::write(
        &state,
        base64::engine::general_purpose::STANDARD.encode(archive),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let (code, stdout, stderr) = image.run(
        "upgrade",
        &[
            "-e",
            "FIXTURE_TOKEN=tok-SECRET-42",
            "-v",
            &mount(&kubeconfig, "/home/nonroot/.kube/config"),
            "-v",
            &mount(&state, "/porter/state.tgz"),
            "-v",
            &mount(outputs.path(), "/cnab/app/outputs"),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("last time I said Howdy"), "{stdout}");
}

#[test]
fn missing_credentials_stop_the_action_before_any_step_runs() {
    if !engine_available() {
        return;
    }
    let image = Image::build(&workspace_root().join("tests/fixtures/runtime"));
    // Without the required credentials nothing runs.
    let (code, stdout, stderr) = image.run("install", &[]);
    assert_ne!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(
            "required credential token has no value (set the env variable FIXTURE_TOKEN)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}
