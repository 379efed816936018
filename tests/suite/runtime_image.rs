//! The invocation image runs its actions: `porter build` with porter's
//! real runtime (this test binary's `porter`, or the static build `cargo
//! xtask install` stages), then `docker run` of the image the way a CNAB
//! runtime runs it (`CNAB_ACTION`, parameters and credentials as env
//! variables and mounted files, `/cnab/app/outputs` mounted). Needs the
//! engine, as image_build.rs does; the busybox test also needs the static
//! runtime (support.rs `static_runtime`) and Debian's busybox-static.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// A bundle built into an image whose runtime is this build's porter (or
/// another runtime); the image is removed when dropped.
struct Image {
    home: tempfile::TempDir,
    dir: PathBuf,
    reference: String,
}

impl Image {
    fn build(from: &Path) -> Image {
        Image::build_with(from, Path::new(env!("CARGO_BIN_EXE_porter")), |_| {})
    }

    /// The bundle at `from` with `runtime` staged; `edit` changes the
    /// bundle's copy before the build.
    fn build_with(from: &Path, runtime: &Path, edit: impl FnOnce(&Path)) -> Image {
        let home = home_with_exec();
        let runtimes = home.path().join("runtimes");
        std::fs::create_dir_all(&runtimes).unwrap();
        std::fs::copy(runtime, runtimes.join("porter-runtime")).unwrap();
        let dir = home.path().join("bundle");
        copy_tree(from, &dir);
        edit(&dir);
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
    assert!(stdout.contains("signed in with *******"), "{stdout}");
    assert!(
        !stdout.contains("tok-SECRET-42") && !stderr.contains("tok-SECRET-42"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(outputs.path().join("greeted")).unwrap(),
        "world"
    );

    // The token is optional: without it, the step runs all the same.
    let (code, stdout, stderr) = image.run("install", &["-e", "GREETING=Howdy"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.contains("signed in"), "{stdout}");

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

/// A base image with a static busybox and nothing else: no glibc, no
/// useradd (made from Debian's busybox-static, `docker import`ed under a
/// tag of its own); removed when dropped.
struct BusyboxBase {
    tag: String,
}

impl BusyboxBase {
    fn make() -> BusyboxBase {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let busybox = Path::new("/bin/busybox");
        let bytes = std::fs::read(busybox).unwrap_or_else(|e| {
            panic!(
                "cannot read /bin/busybox ({e}): install Debian's busybox-static (bash .ci/setup)"
            )
        });
        assert!(
            !needs_interpreter(&bytes),
            "/bin/busybox is dynamically linked: install Debian's busybox-static, not busybox \
             (bash .ci/setup)"
        );
        let root = tempfile::tempdir().unwrap();
        let at = |relative: &str| root.path().join(relative);
        for dir in [
            "bin", "sbin", "usr/bin", "usr/sbin", "etc", "home", "root", "tmp",
        ] {
            std::fs::create_dir_all(at(dir)).unwrap();
        }
        std::fs::set_permissions(at("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::copy(busybox, at("bin/busybox")).unwrap();
        let applets = Command::new(busybox).arg("--list-full").output().unwrap();
        assert!(applets.status.success(), "busybox --list-full failed");
        for applet in String::from_utf8(applets.stdout).unwrap().lines() {
            let link = at(applet);
            if !link.exists() {
                std::fs::create_dir_all(link.parent().unwrap()).unwrap();
                symlink("/bin/busybox", link).unwrap();
            }
        }
        std::fs::write(at("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(at("etc/group"), "root:x:0:\n").unwrap();
        // Porter's init section runs `useradd ${BUNDLE_USER} -m -u
        // ${BUNDLE_UID} -g ${BUNDLE_GID} -o`; busybox has no useradd, and
        // Debian's busybox-static no adduser either, so this shim does what
        // that line needs: the user's passwd entry and home directory.
        let useradd = at("usr/sbin/useradd");
        std::fs::write(
            &useradd,
            r#"#!/bin/sh
# useradd NAME -m -u UID -g GID -o, as Porter's Dockerfile init section runs it.
set -e
name= uid= gid=0
while [ $# -gt 0 ]; do
    case "$1" in
        -u) uid=$2; shift 2 ;;
        -g) gid=$2; shift 2 ;;
        -m|-o) shift ;;
        -*) echo "useradd (test shim): unsupported option $1" >&2; exit 2 ;;
        *) name=$1; shift ;;
    esac
done
[ -n "$name" ] && [ -n "$uid" ] || { echo "usage: useradd NAME -u UID [-g GID] [-m] [-o]" >&2; exit 2; }
echo "$name:x:$uid:$gid::/home/$name:/bin/sh" >> /etc/passwd
mkdir -p "/home/$name"
chown "$uid:$gid" "/home/$name"
"#,
        )
        .unwrap();
        std::fs::set_permissions(&useradd, std::fs::Permissions::from_mode(0o755)).unwrap();

        let tag = format!("porter-test-busybox:{}-{}", std::process::id(), unique());
        let mut tar = Command::new("tar")
            .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
            .arg(root.path())
            .args(["-cf", "-", "."])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let import = Command::new("docker")
            .args(["import", "-", &tag])
            .stdin(tar.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(
            tar.wait().unwrap().success(),
            "tar of the busybox root failed"
        );
        assert!(
            import.status.success(),
            "docker import failed: {}",
            String::from_utf8_lossy(&import.stderr)
        );
        BusyboxBase { tag }
    }
}

impl Drop for BusyboxBase {
    fn drop(&mut self) {
        let _ = docker(&["image", "rm", "--force", &self.tag]);
    }
}

/// Whether an ELF64 executable names a program interpreter (ld-linux):
/// a PT_INTERP program header, what a dynamically linked binary has.
fn needs_interpreter(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    assert!(
        elf.starts_with(b"\x7fELF\x02\x01"),
        "not a little-endian ELF64 file"
    );
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap()) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (entry_size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * entry_size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == PT_INTERP
    })
}

/// `docker run --rm` of `image` with `args` after it, as (exit code, stdout, stderr).
fn docker_run(before: &[&str], image: &str, after: &[&str]) -> (i32, String, String) {
    let out = Command::new("docker")
        .args(["run", "--rm"])
        .args(before)
        .arg(image)
        .args(after)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_static_runtime_runs_a_bundle_whose_template_starts_from_a_base_without_glibc() {
    if !engine_available() {
        return;
    }
    let Some(runtime) = static_runtime() else {
        return;
    };
    assert!(
        !needs_interpreter(&std::fs::read(&runtime).unwrap()),
        "{} is dynamically linked",
        runtime.display()
    );
    assert!(needs_interpreter(
        &std::fs::read(env!("CARGO_BIN_EXE_porter")).unwrap()
    ));
    let base = BusyboxBase::make();

    // The base has no C library at all: a porter linked against glibc
    // cannot start there (the kernel finds no ld-linux), the static one can.
    let glibc_porter = mount(Path::new(env!("CARGO_BIN_EXE_porter")), "/porter:ro");
    let (code, _, stderr) = docker_run(
        &["-v", &glibc_porter, "--entrypoint", "/porter"],
        &base.tag,
        &["--version"],
    );
    assert_ne!(code, 0, "the glibc porter ran on busybox: {stderr}");
    assert!(stderr.contains("no such file or directory"), "{stderr}");
    let static_porter = mount(&runtime, "/porter:ro");
    let (code, stdout, stderr) = docker_run(
        &["-v", &static_porter, "--entrypoint", "/porter"],
        &base.tag,
        &["--version"],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");

    let image = Image::build_with(
        &workspace_root().join("tests/fixtures/runtime-busybox"),
        &runtime,
        |dir| {
            let template = dir.join("Dockerfile.tmpl");
            let text = std::fs::read_to_string(&template).unwrap();
            let text = text.replace(
                "FROM porter-test-busybox-base",
                &format!("FROM {}", base.tag),
            );
            std::fs::write(template, text).unwrap();
        },
    );

    // What the image has: busybox, porter's runtime, no glibc anywhere.
    let (code, stdout, stderr) = docker_run(
        &["--entrypoint", "/bin/busybox"],
        &image.reference,
        &[
            "find",
            "/",
            "-xdev",
            "(",
            "-name",
            "libc.so*",
            "-o",
            "-name",
            "ld-linux*",
            ")",
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.trim(), "", "the image has a C library");

    let outputs = writable_dir();
    let (code, stdout, stderr) = image.run(
        "install",
        &[
            "-e",
            "GREETING=Howdy",
            "-v",
            &mount(outputs.path(), "/cnab/app/outputs"),
        ],
    );
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Howdy, world"), "{stdout}");
    assert!(stdout.contains("no glibc here"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(outputs.path().join("greeted")).unwrap(),
        "world"
    );

    let (code, stdout, stderr) = image.run("uninstall", &[]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Goodbye, world"), "{stdout}");
}
