//! `porter build` through the real binary and a real Docker engine: the
//! invocation image and what it carries, the up-to-date check and the
//! engine's layer cache, failures (a mixin's broken line, a missing base
//! image) and Ctrl-C, each leaving the previous good build recorded.
//!
//! These need a running engine with `debian:stable-slim` (`bash
//! .ci/docker-setup` provides both; `.ci/run` calls it). Without one they
//! fail, never pass: set PORTER_TEST_WITHOUT_ENGINE=1 to skip them
//! knowingly on a machine that has no engine.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use porter::dockerfile::ContextLayout;
use serde_json::Value;

/// A bundle directory and PORTER_HOME with exec and the apt test mixin, a
/// stand-in porter runtime, and a unique bundle name; its image is removed
/// when dropped.
struct Bundle {
    home: tempfile::TempDir,
    dir: PathBuf,
    name: String,
}

impl Bundle {
    fn new(test: &str, apt_config: &str) -> Bundle {
        let home = home_with_exec_and("apt");
        // The image carries PORTER_HOME/runtimes/porter-runtime; a small
        // stand-in keeps these images small and quick to build.
        let runtimes = home.path().join("runtimes");
        std::fs::create_dir_all(&runtimes).unwrap();
        write_executable(
            &runtimes.join("porter-runtime"),
            "#!/bin/sh\necho porter-runtime \"$@\"\n",
        );
        let name = format!("porter-test-{test}-{}", std::process::id());
        let dir = home.path().join("bundle");
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = Bundle { home, dir, name };
        bundle.write_manifest(apt_config, "");
        write_executable(&bundle.dir.join("helpers.sh"), "#!/bin/sh\necho hello\n");
        bundle
    }

    fn write_manifest(&self, apt_config: &str, extra: &str) {
        let manifest = format!(
            "schemaVersion: 1.0.1\nname: {}\nversion: 0.1.0\nregistry: localhost:5000\n{extra}\
             mixins:\n  - exec\n  - apt: {apt_config}\n\
             install:\n  - exec:\n      description: hi\n      command: ./helpers.sh\n\
             uninstall:\n  - exec:\n      description: bye\n      command: ./helpers.sh\n",
            self.name
        );
        std::fs::write(self.dir.join("porter.yaml"), manifest).unwrap();
    }

    fn build(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_porter"));
        cmd.env("PORTER_HOME", self.home.path())
            .env_remove("PORTER_DEBUG")
            .args(["build", "--dir"])
            .arg(&self.dir);
        cmd
    }

    /// Runs `porter build`; its exit status, stdout and stderr.
    fn run_build(&self) -> (bool, String, String) {
        let out = self.build().output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn build_ok(&self) -> (String, String) {
        let (ok, stdout, stderr) = self.run_build();
        assert!(
            ok,
            "porter build failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }

    fn bundle_json(&self) -> (Vec<u8>, Value) {
        let bytes = std::fs::read(self.dir.join(".cnab/bundle.json")).unwrap();
        let value = serde_json::from_slice(&bytes).unwrap();
        (bytes, value)
    }

    fn reference(&self) -> String {
        let (_, bundle) = self.bundle_json();
        bundle["invocationImages"][0]["image"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn recorded_image_id(&self) -> String {
        let (_, bundle) = self.bundle_json();
        bundle["invocationImages"][0]["labels"]["sh.porter.imageId"]
            .as_str()
            .expect("bundle.json records the image ID")
            .to_string()
    }

    /// Builds successfully and remembers what that build recorded.
    fn good_build(&self) -> GoodBuild {
        self.build_ok();
        let reference = self.reference();
        GoodBuild {
            bundle_json: self.bundle_json().0,
            image_id: image_id(&reference).expect("the good build's image exists"),
            reference,
        }
    }

    /// Nothing but .cnab/ and the author's files: no staging left behind.
    fn assert_no_staging_left(&self) {
        let leftovers: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".cnab-"))
            .collect();
        assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    }
}

/// A successful build, to check that a later failed one left it recorded.
struct GoodBuild {
    bundle_json: Vec<u8>,
    reference: String,
    image_id: String,
}

impl GoodBuild {
    /// bundle.json byte for byte, the tag on the same image, no staging.
    fn assert_still_recorded(&self, bundle: &Bundle) {
        assert!(
            bundle.bundle_json().0 == self.bundle_json,
            "the previous build stays recorded"
        );
        assert_eq!(
            image_id(&self.reference).as_deref(),
            Some(self.image_id.as_str())
        );
        bundle.assert_no_staging_left();
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let reference = format!("localhost:5000/{}", self.name);
        if let Some(tags) = docker(&[
            "image",
            "ls",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            &reference,
        ]) {
            for tag in tags.lines().filter(|t| !t.is_empty()) {
                let _ = docker(&["image", "rm", "--force", tag]);
            }
        }
    }
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The instructions the engine took from its cache, in a build's output.
fn cached_steps(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1] == " ---> Using cache")
        .filter_map(|w| w[0].split_once(" : ").map(|(_, i)| i.to_string()))
        .collect()
}

/// The instructions the engine carried out (neither a FROM nor from its
/// cache), in a build's output.
fn executed_steps(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Step "))
        .filter_map(|(at, l)| l.split_once(" : ").map(|(_, i)| (at, i)))
        .filter(|(_, instruction)| !instruction.to_ascii_uppercase().starts_with("FROM "))
        .filter(|(at, _)| lines.get(at + 1) != Some(&" ---> Using cache"))
        .map(|(_, instruction)| instruction.to_string())
        .collect()
}

#[test]
fn the_image_carries_the_bundle_runs_as_non_root_and_is_rebuilt_only_when_needed() {
    if !engine_available() {
        return;
    }
    let bundle = Bundle::new("carries", "{packages: [tree]}");
    std::fs::write(
        bundle.dir.join(".dockerignore"),
        "secrets/\n*.log\n!keep.log\n",
    )
    .unwrap();
    std::fs::create_dir_all(bundle.dir.join("secrets")).unwrap();
    std::fs::write(bundle.dir.join("secrets/key"), "hunter2").unwrap();
    std::fs::write(bundle.dir.join("debug.log"), "noise").unwrap();
    std::fs::write(bundle.dir.join("keep.log"), "kept").unwrap();
    std::fs::create_dir_all(bundle.dir.join("data")).unwrap();
    std::fs::write(bundle.dir.join("data/values.txt"), "v").unwrap();

    let (stdout, stderr) = bundle.build_ok();
    assert!(
        stdout.contains("Built the invocation image localhost:5000/porter-test-carries-"),
        "{stdout}"
    );
    assert!(stderr.contains("Step 1/"), "progress is shown: {stderr}");
    let reference = bundle.reference();
    let id = image_id(&reference).expect("the image exists");
    assert_eq!(
        bundle.recorded_image_id(),
        id,
        "bundle.json records the image built"
    );
    let (_, recorded) = bundle.bundle_json();
    assert!(recorded["invocationImages"][0]["size"].as_u64().unwrap() > 0);

    // What the image carries, checked from inside it.
    let script = "id -u; id -un; \
        test -x /cnab/app/run && echo run; \
        test -f /cnab/bundle.json && echo bundle.json; \
        test -f /cnab/app/porter.yaml && echo porter.yaml; \
        test -f /cnab/app/mixins/exec.wasm && echo exec.wasm; \
        test -f /cnab/app/mixins/apt.wasm && echo apt.wasm; \
        test -x /cnab/app/runtimes/porter-runtime && echo runtime; \
        test -x /cnab/app/helpers.sh && echo helpers.sh; \
        test -f /cnab/app/data/values.txt && echo values.txt; \
        test -f /cnab/app/keep.log && echo keep.log; \
        test -e /cnab/app/secrets && echo LEAK-secrets; \
        test -e /cnab/app/debug.log && echo LEAK-debug.log; \
        test -e /cnab/app/.cnab && echo LEAK-.cnab; \
        tree --version >/dev/null && echo tree; \
        pwd";
    let inside = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        &reference,
        "-c",
        script,
    ])
    .expect("the image runs");
    assert_eq!(
        inside.lines().collect::<Vec<_>>(),
        [
            "65532",
            "nonroot",
            "run",
            "bundle.json",
            "porter.yaml",
            "exec.wasm",
            "apt.wasm",
            "runtime",
            "helpers.sh",
            "values.txt",
            "keep.log",
            "tree",
            "/cnab/app"
        ],
        "{inside}"
    );
    let carried = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "cat",
        &reference,
        "/cnab/bundle.json",
    ])
    .unwrap();
    let carried: Value = serde_json::from_str(&carried).unwrap();
    assert_eq!(
        carried["custom"]["sh.porter"]["manifestDigest"],
        recorded["custom"]["sh.porter"]["manifestDigest"]
    );
    let labels = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        &reference,
    ])
    .unwrap();
    let labels: Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["sh.porter.bundle.name"], bundle.name.as_str());
    assert_eq!(labels["sh.porter.bundle.version"], "0.1.0");

    // Nothing changed: no build at all.
    let (stdout, stderr) = bundle.build_ok();
    assert!(stdout.contains("Bundle is up-to-date!"), "{stdout}");
    assert!(
        !stderr.contains("Step "),
        "the engine was asked to build: {stderr}"
    );
    assert_eq!(image_id(&reference).as_deref(), Some(id.as_str()));

    // One bundle script edited: every mixin layer comes from the cache, and
    // the engine carries out one step, the copy of the bundle's files.
    write_executable(
        &bundle.dir.join("helpers.sh"),
        "#!/bin/sh\necho hello again\n",
    );
    let (_, stderr) = bundle.build_ok();
    assert_eq!(
        executed_steps(&stderr),
        ["COPY --chown=0:${BUNDLE_GID} porter-bundle /cnab"],
        "{stderr}"
    );
    let cached = cached_steps(&stderr);
    let apt_line = "RUN apt-get update && apt-get install -y --no-install-recommends tree && apt-get clean && rm -rf /var/lib/apt/lists/*";
    assert!(
        cached.iter().any(|s| s == apt_line),
        "mixin layer rebuilt: {stderr}"
    );
    assert!(
        cached.iter().any(|s| s.contains("ca-certificates")),
        "{stderr}"
    );
    let rebuilt = image_id(&reference).unwrap();
    assert_ne!(rebuilt, id);
    assert_eq!(bundle.recorded_image_id(), rebuilt);
    let helpers = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "/cnab/app/helpers.sh",
        &reference,
    ])
    .unwrap();
    assert_eq!(helpers, "hello again");

    // The image removed behind porter's back: rebuilt, although nothing changed.
    docker(&["image", "rm", "--force", &reference]).unwrap();
    let (stdout, _) = bundle.build_ok();
    assert!(!stdout.contains("up-to-date"), "{stdout}");
    assert_eq!(image_id(&reference), Some(bundle.recorded_image_id()));
    bundle.assert_no_staging_left();
}

#[test]
fn build_args_and_no_cache_reach_the_engine() {
    if !engine_available() {
        return;
    }
    let bundle = Bundle::new("args", "{lines: [\"RUN echo mixin-layer\"]}");
    std::fs::write(
        bundle.dir.join("template.Dockerfile"),
        "FROM debian:stable-slim\nARG BUNDLE_DIR\nARG CUSTOM_APP_VERSION\nARG CUSTOM_UNDECLARED_NOT=1\nARG EXTRA\n\
         # PORTER_MIXINS\n\
         RUN echo \"$CUSTOM_APP_VERSION|$EXTRA|$BUNDLE_DIR|$CUSTOM_UNDECLARED_NOT\" > /build-args\n\
         COPY . ${BUNDLE_DIR}\n",
    )
    .unwrap();
    bundle.write_manifest(
        "{lines: [\"RUN echo mixin-layer\"]}",
        "dockerfile: template.Dockerfile\ncustom:\n  app:\n    version: 1.2.3\n  other: x\n",
    );
    let out = bundle
        .build()
        .args(["--build-arg", "EXTRA=from-cli"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference = bundle.reference();
    let args = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "cat",
        &reference,
        "/build-args",
    ])
    .unwrap();
    // CUSTOM_* only for declared ARGs (custom.other is not passed), and
    // BUNDLE_DIR always /cnab/app.
    assert_eq!(args, "1.2.3|from-cli|/cnab/app|1");

    // The build arguments are part of the stamp: the same ones are up to
    // date, a changed value rebuilds the image with it.
    let same = bundle
        .build()
        .args(["--build-arg", "EXTRA=from-cli"])
        .output()
        .unwrap();
    assert!(same.status.success());
    let stdout = String::from_utf8_lossy(&same.stdout);
    assert!(stdout.contains("Bundle is up-to-date!"), "{stdout}");
    let changed = bundle
        .build()
        .args(["--build-arg", "EXTRA=changed"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&changed.stdout);
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert!(!stdout.contains("up-to-date"), "{stdout}");
    let args = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "cat",
        &reference,
        "/build-args",
    ])
    .unwrap();
    assert_eq!(args, "1.2.3|changed|/cnab/app|1");
    // Their values never reach bundle.json, only their digest does.
    let bundle_json = std::fs::read_to_string(bundle.dir.join(".cnab/bundle.json")).unwrap();
    assert!(!bundle_json.contains("changed"), "{bundle_json}");

    // --no-cache: nothing from the cache, even the mixin's layer.
    std::fs::write(bundle.dir.join("helpers.sh"), "#!/bin/sh\necho edited\n").unwrap();
    let out = bundle.build().arg("--no-cache").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("RUN echo mixin-layer"), "{stderr}");
    assert_eq!(cached_steps(&stderr), Vec::<String>::new(), "{stderr}");
}

#[test]
fn a_broken_mixin_line_fails_with_its_mixin_and_keeps_the_previous_build() {
    if !engine_available() {
        return;
    }
    let bundle = Bundle::new("broken", "{lines: [\"RUN echo fine\"]}");
    let good = bundle.good_build();

    // A command that fails.
    bundle.write_manifest("{lines: [\"RUN echo failing && exit 3\"]}", "");
    let (ok, _, stderr) = bundle.run_build();
    assert!(!ok);
    assert!(
        stderr.contains(
            "the image build failed at `RUN echo failing && exit 3`, a line from the apt mixin"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("returned a non-zero code: 3"), "{stderr}");
    good.assert_still_recorded(&bundle);

    // A line the builder cannot parse.
    bundle.write_manifest("{lines: [\"FROBNICATE now\"]}", "");
    let (ok, _, stderr) = bundle.run_build();
    assert!(!ok);
    assert!(stderr.contains("unknown instruction"), "{stderr}");
    assert!(
        stderr.contains("apt mixin"),
        "the line is traced to its mixin: {stderr}"
    );
    good.assert_still_recorded(&bundle);

    // Fixed again: the recorded build is the good one, so it is up to date.
    bundle.write_manifest("{lines: [\"RUN echo fine\"]}", "");
    let (stdout, _) = bundle.build_ok();
    assert!(stdout.contains("Bundle is up-to-date!"), "{stdout}");
    bundle.assert_no_staging_left();
}

#[test]
fn a_missing_base_image_says_so_and_keeps_the_previous_build() {
    if !engine_available() {
        return;
    }
    let bundle = Bundle::new("nobase", "{}");
    let good = bundle.good_build();

    std::fs::write(
        bundle.dir.join("template.Dockerfile"),
        "FROM porter-test.invalid/no-such-base:1\nARG BUNDLE_DIR\n# PORTER_MIXINS\nCOPY . ${BUNDLE_DIR}\n",
    )
    .unwrap();
    bundle.write_manifest("{}", "dockerfile: template.Dockerfile\n");
    let (ok, _, stderr) = bundle.run_build();
    assert!(!ok);
    assert!(
        stderr.contains("the image build failed at `FROM porter-test.invalid/no-such-base:1"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: the base image porter-test.invalid/no-such-base:1 is not on the engine"
        ),
        "{stderr}"
    );
    good.assert_still_recorded(&bundle);
}

#[test]
fn ctrl_c_stops_the_build_and_keeps_the_previous_one() {
    if !engine_available() {
        return;
    }
    let bundle = Bundle::new("ctrlc", "{}");
    let good = bundle.good_build();
    let marker = format!("slow-step-{}", std::process::id());
    bundle.write_manifest(
        &format!("{{lines: [\"RUN echo {marker} && sleep 300\"]}}"),
        "",
    );

    let mut child = bundle
        .build()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "build ended early: {seen}"
        );
        seen.push_str(&line);
        if line.trim() == marker {
            break;
        }
    }
    let running = || {
        docker(&["ps", "--no-trunc", "--format", "{{.Command}}"])
            .unwrap()
            .contains(&marker)
    };
    // The engine may list the step's container a moment after its output
    // (seen with the whole suite running in parallel).
    let listed = Instant::now();
    while !running() {
        assert!(
            listed.elapsed() < Duration::from_secs(30),
            "the slow step runs in a container"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "porter did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(
        rest.contains("interrupted: the image build was stopped"),
        "{rest}"
    );
    good.assert_still_recorded(&bundle);
    // The engine cancels the build and removes its container.
    let started = Instant::now();
    while running() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the build's container still runs after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A TLS front for the local engine, as a remote engine with
/// `--tlsverify` is: stunnel terminates TLS (its certificate signed by a
/// test CA, client certificates required) and forwards to the engine's
/// socket.
struct TlsEngine {
    stunnel: std::process::Child,
    port: u16,
    certs: tempfile::TempDir,
}

impl TlsEngine {
    fn start() -> TlsEngine {
        let certs = tempfile::tempdir().unwrap();
        let dir = certs.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(dir)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
        std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=porter test CA",
        ]);
        for (who, cn) in [("server", "127.0.0.1"), ("client", "porter test client")] {
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{who}-key.pem"),
                "-out",
                &format!("{who}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                &format!("{who}-cert.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{who}.ext"),
            ]);
        }
        // Docker's names in DOCKER_CERT_PATH.
        std::fs::copy(dir.join("client-cert.pem"), dir.join("cert.pem")).unwrap();
        std::fs::copy(dir.join("client-key.pem"), dir.join("key.pem")).unwrap();

        let engine_socket = std::env::var("DOCKER_HOST")
            .ok()
            .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
            .unwrap_or_else(|| "/var/run/docker.sock".to_string());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            dir.join("stunnel.conf"),
            format!(
                "foreground = yes\npid =\n[engine]\naccept = 127.0.0.1:{port}\nconnect = {engine_socket}\n\
                 cert = server-cert.pem\nkey = server-key.pem\nCAfile = ca.pem\nverifyChain = yes\nrequireCert = yes\n"
            ),
        )
        .unwrap();
        let stunnel = Command::new("stunnel4")
            .current_dir(dir)
            .arg("stunnel.conf")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("stunnel4 is needed for the TLS engine test: run `bash .ci/docker-setup`");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "socat did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsEngine {
            stunnel,
            port,
            certs,
        }
    }
}

impl Drop for TlsEngine {
    fn drop(&mut self) {
        let _ = self.stunnel.kill();
        let _ = self.stunnel.wait();
    }
}

#[test]
fn a_remote_engine_over_tls_with_dockers_variables() {
    if !engine_available() {
        return;
    }
    let tls = TlsEngine::start();
    let bundle = Bundle::new("tls", "{}");
    let host = format!("tcp://127.0.0.1:{}", tls.port);

    let out = bundle
        .build()
        .env("DOCKER_HOST", &host)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", tls.certs.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        image_id(&bundle.reference()),
        Some(bundle.recorded_image_id())
    );

    // Plain HTTP to a TLS engine, and a client certificate the engine does
    // not trust: each is an engine that cannot be reached, said clearly.
    std::fs::write(bundle.dir.join("helpers.sh"), "#!/bin/sh\necho changed\n").unwrap();
    let out = bundle
        .build()
        .env("DOCKER_HOST", &host)
        .env_remove("DOCKER_TLS_VERIFY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("cannot reach the Docker engine at {host}"))
    );

    let strangers = TlsEngine::start();
    let out = bundle
        .build()
        .env("DOCKER_HOST", &host)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", strangers.certs.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("cannot reach the Docker engine at {host}")),
        "{stderr}"
    );
}

/// On a terminal: each step printed once, the running command's output on
/// a redrawn spinner line (erased with `ESC[2K`), and no colour codes from
/// the engine. `script` gives porter a pseudo-terminal.
#[test]
fn on_a_terminal_progress_is_a_redrawn_line_under_the_steps() {
    if !engine_available() {
        return;
    }
    let bundle = Bundle::new("tty", "{lines: [\"RUN echo tty-output-line && sleep 1\"]}");
    let command = format!(
        "{} build --dir {}",
        env!("CARGO_BIN_EXE_porter"),
        bundle.dir.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("PORTER_HOME", bundle.home.path())
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux) runs porter on a pseudo-terminal");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("\x1b[2K"),
        "the spinner line is redrawn: {text:?}"
    );
    assert_eq!(
        text.matches("Step 1/").count(),
        1,
        "each step is printed once: {text:?}"
    );
    assert!(text.contains("tty-output-line"), "{text:?}");
    assert!(
        !text.contains("\x1b[91m"),
        "no engine colour codes: {text:?}"
    );
    assert!(text.contains("Image built ("), "{text:?}");
    assert_eq!(
        image_id(&bundle.reference()),
        Some(bundle.recorded_image_id())
    );
}

/// The image of the split context (issue #13) holds what the staging stage
/// made before it, file for file: the same paths, kinds, modes, owners,
/// groups, sizes and contents, with the bundle group porter is given. The
/// "before" image is built by Docker's CLI from the context porter sent
/// until then (the bundle directory at the root, `.cnab/` beside it) with
/// the Dockerfile shape porter generated until then (the `porter-cnab`
/// stage: `COPY .`, `rm`, `COPY .cnab`, `chgrp -R`/`chmod -R g=u`, then
/// `COPY --from`), so only `/cnab/Dockerfile`'s text may differ.
#[test]
fn the_image_holds_what_the_staging_stage_made_file_for_file() {
    if !engine_available() {
        return;
    }
    // The apt mixin's line writes under /cnab before porter's copies.
    let bundle = Bundle::new(
        "listing",
        r#"{lines: ["RUN mkdir -p /cnab/app/tools && echo t > /cnab/app/tools/t && chmod 700 /cnab/app/tools/t"]}"#,
    );
    let dir = &bundle.dir;
    std::fs::write(
        dir.join(".dockerignore"),
        "secrets/\n*.log\n!keep.log\nporter.lock\n",
    )
    .unwrap();
    for (path, content) in [
        ("secrets/key", "hunter2"),
        ("debug.log", "noise"),
        ("keep.log", "kept"),
        ("data/values.txt", "v"),
        ("data/nested/deep.bin", "deep"),
        ("mixins/notes.txt", "the author's, beside porter's mixins"),
        ("run", "the author's run, replaced by porter's"),
    ] {
        std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
        std::fs::write(dir.join(path), content).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("data/nested/deep.bin"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::os::unix::fs::symlink("helpers.sh", dir.join("link")).unwrap();

    for gid in ["0", "100"] {
        let mut build = bundle.build();
        build.args(["--build-arg", &format!("BUNDLE_GID={gid}")]);
        let out = build.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = listing(&bundle.reference());

        // The image carries bundle.json as staged, before porter recorded
        // the image's ID and size in it.
        let carried = docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "cat",
            &bundle.reference(),
            "/cnab/bundle.json",
        ])
        .unwrap();
        let (_, mut recorded) = bundle.bundle_json();
        let image = &mut recorded["invocationImages"][0];
        image.as_object_mut().unwrap().remove("size");
        let labels = image["labels"].as_object_mut().unwrap();
        labels.remove("sh.porter.imageId");
        if labels.is_empty() {
            image.as_object_mut().unwrap().remove("labels");
        }
        assert_eq!(serde_json::from_str::<Value>(&carried).unwrap(), recorded);

        let generated = std::fs::read_to_string(dir.join(".cnab/Dockerfile")).unwrap();
        assert!(
            !generated.contains("porter-cnab"),
            "the split shape is generated:\n{generated}"
        );
        std::fs::write(
            dir.join(".cnab/Dockerfile"),
            staging_stage_dockerfile(&generated),
        )
        .unwrap();
        std::fs::write(dir.join(".cnab/bundle.json"), &carried).unwrap();
        let _ = std::fs::remove_dir_all(dir.join(".cnab/.spare"));
        // The context as porter sent it before: the bundle directory at the
        // root (.dockerignore applied, modes 0644/0755) with .cnab/.
        let mut context = Vec::new();
        porter::docker::context::write_context(
            dir,
            &dir.join(".cnab"),
            &ContextLayout::BundleAtRoot,
            &mut context,
        )
        .unwrap();
        let before_tag = format!("localhost:5000/{}:before", bundle.name);
        let mut build = Command::new("docker")
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "-q", "-f", ".cnab/Dockerfile"])
            .args(["--build-arg", "BUNDLE_DIR=/cnab/app"])
            .args(["--build-arg", &format!("BUNDLE_GID={gid}")])
            .args(["-t", &before_tag, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut build.stdin.take().unwrap(), &context).unwrap();
        let out = build.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let before = listing(&before_tag);

        let gid: u64 = gid.parse().unwrap();
        let cnab = |listing: &Listing, path: &str| listing.get(path).cloned();
        assert_eq!(
            cnab(&after, "cnab/app/helpers.sh").map(|e| (e.mode, e.uid, e.gid)),
            Some((0o100775, 0, gid))
        );
        assert_eq!(
            cnab(&after, "cnab/app/data/nested/deep.bin").map(|e| e.mode),
            Some(0o100664)
        );
        assert_eq!(
            cnab(&after, "cnab/app/tools/t").map(|e| (e.mode, e.gid)),
            Some((0o100770, gid)),
            "what a mixin's line put under /cnab"
        );
        // The mixin's line made /cnab; porter gave it the bundle's group.
        assert_eq!(
            cnab(&after, "cnab").map(|e| (e.mode, e.gid)),
            Some((0o40775, gid))
        );
        assert_eq!(
            cnab(&after, "cnab/app").map(|e| (e.mode, e.gid)),
            Some((0o40775, gid))
        );
        assert!(cnab(&after, "cnab/app/mixins/notes.txt").is_some());
        assert!(cnab(&after, "cnab/app/mixins/exec.wasm").is_some());
        for absent in [
            "cnab/app/.cnab",
            "cnab/app/secrets",
            "cnab/app/debug.log",
            "cnab/app/porter.lock",
        ] {
            assert!(cnab(&after, absent).is_none(), "{absent} is in the image");
        }
        assert_ne!(
            cnab(&after, "cnab/app/run").unwrap().digest,
            sha256_hex(b"the author's run, replaced by porter's")
        );

        let differences: Vec<String> = before
            .keys()
            .chain(after.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|path| {
                let (b, a) = (before.get(*path), after.get(*path));
                match (b, a) {
                    // Only the Dockerfile's text differs.
                    (Some(b), Some(a)) if path.as_str() == "cnab/Dockerfile" => {
                        (b.mode, b.uid, b.gid) != (a.mode, a.uid, a.gid)
                    }
                    _ => b != a,
                }
            })
            .map(|path| {
                format!(
                    "{path}: before {:?}, after {:?}",
                    before.get(path),
                    after.get(path)
                )
            })
            .collect();
        assert!(
            differences.is_empty(),
            "BUNDLE_GID={gid}:\n{}",
            differences.join("\n")
        );
        assert!(before.len() > 1000, "the whole file system is compared");
    }
}

/// One entry of an image's file system.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListedFile {
    /// With the kind bits (0o100000 a file, 0o40000 a directory, ...).
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    /// sha256 of a file's content; a link's target.
    digest: String,
}

type Listing = std::collections::BTreeMap<String, ListedFile>;

/// Every entry of `image`'s file system, as `docker export` gives it.
fn listing(image: &str) -> Listing {
    let container = docker(&["create", image]).expect("docker create");
    let out = Command::new("docker")
        .args(["export", &container])
        .output()
        .unwrap();
    let _ = docker(&["rm", &container]);
    assert!(out.status.success(), "docker export {image}");
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let mut listing = Listing::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let kind = match header.entry_type() {
            tar::EntryType::Directory => 0o40000,
            tar::EntryType::Symlink => 0o120000,
            tar::EntryType::Regular | tar::EntryType::Link => 0o100000,
            other => panic!("unexpected {other:?} in {image}"),
        };
        let digest = match header.entry_type() {
            // A hard link: the path it shares its file with.
            tar::EntryType::Symlink | tar::EntryType::Link => header
                .link_name()
                .unwrap()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            tar::EntryType::Regular => {
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
                sha256_hex(&content)
            }
            _ => String::new(),
        };
        let path = entry
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        listing.insert(
            path,
            ListedFile {
                mode: kind | header.mode().unwrap(),
                uid: header.uid().unwrap(),
                gid: header.gid().unwrap(),
                size: header.size().unwrap(),
                digest,
            },
        );
    }
    listing
}

/// `generated` (the split shape) rewritten into the shape porter generated
/// before issue #13: the `porter-cnab` staging stage above the FROM, and
/// after the template and mixin lines `COPY --from`, `USER`, `WORKDIR`,
/// `CMD`. Labels are left out: they are no files.
fn staging_stage_dockerfile(generated: &str) -> String {
    let lines: Vec<&str> = generated.lines().collect();
    let tail = lines
        .iter()
        .position(|l| *l == "WORKDIR ${BUNDLE_DIR}")
        .expect("the split tail");
    let from = lines
        .iter()
        .position(|l| l.starts_with("FROM "))
        .expect("a FROM");
    let base = lines[from].trim_start_matches("FROM ");
    let stage = [
        format!("FROM {base} AS porter-cnab"),
        "ARG BUNDLE_GID=0".into(),
        "USER 0".into(),
        "COPY . /porter-cnab/app".into(),
        "RUN rm -fr /porter-cnab/app/.cnab /porter-cnab/app/porter.yaml".into(),
        "COPY .cnab /porter-cnab".into(),
        "RUN chgrp -R ${BUNDLE_GID} /porter-cnab && chmod -R g=u /porter-cnab".into(),
        String::new(),
    ];
    let old_tail = [
        "COPY --from=porter-cnab /porter-cnab /cnab",
        "USER ${BUNDLE_UID}",
        "WORKDIR ${BUNDLE_DIR}",
        r#"CMD ["/cnab/app/run"]"#,
    ];
    lines[..from]
        .iter()
        .map(|l| l.to_string())
        .chain(stage)
        .chain(lines[from..tail].iter().map(|l| l.to_string()))
        .chain(old_tail.map(String::from))
        .collect::<Vec<_>>()
        .join("\n")
}
