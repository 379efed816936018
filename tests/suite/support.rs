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
    cmd.env("PORTER_HOME", home)
        .env_remove("PORTER_DEBUG")
        .env_remove("PORTER_MIRROR")
        // Porter's configuration comes from PORTER_HOME's file in tests.
        .env_remove("PORTER_EXPERIMENTAL")
        .env_remove("PORTER_ALLOW_FILE_DOWNLOADS")
        .env_remove("PORTER_MAX_FILE_DOWNLOAD_BYTES")
        .env_remove("PORTER_CONTEXT");
    // Downloads in tests go to the test's server on 127.0.0.1, never a proxy.
    for proxy in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        cmd.env_remove(proxy);
    }
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

/// `porter mixins list -o json` of `home`.
pub fn list_json(home: &Path) -> Vec<serde_json::Value> {
    let out = porter(home)
        .args(["mixins", "list", "-o", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
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

/// What the test HTTP server answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this body and its Content-Length.
    Body(Vec<u8>),
    /// This status, with a short text body.
    Status(u16),
    /// 200 claiming `claimed` bytes of Content-Length, sending `body`, then
    /// closing the connection.
    Truncated { body: Vec<u8>, claimed: usize },
    /// 200 in chunked encoding: `body` sent, then the connection closed
    /// without the last chunk.
    DropMidBody(Vec<u8>),
    /// 200 in chunked encoding (no Content-Length), whole.
    Chunked(Vec<u8>),
}

/// A real HTTP/1.1 server on 127.0.0.1, for the tests that download. Each
/// path answers its replies in order, the last one from then on; other
/// paths are 404. Stopped when dropped.
pub struct HttpServer {
    addr: std::net::SocketAddr,
    routes: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<Reply>>>>,
    hits: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    pub fn start() -> HttpServer {
        use std::sync::atomic::Ordering;
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<std::collections::HashMap<String, Vec<Reply>>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (routes, hits, stop) = (routes.clone(), hits.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, hits) = (routes.clone(), hits.clone());
                    std::thread::spawn(move || serve(stream, &routes, &hits));
                }
            })
        };
        HttpServer {
            addr,
            routes,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn route(&self, path: &str, replies: Vec<Reply>) -> &Self {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), replies);
        self
    }

    /// The paths requested so far, in order.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    mut stream: std::net::TcpStream,
    routes: &std::sync::Mutex<std::collections::HashMap<String, Vec<Reply>>>,
    hits: &std::sync::Mutex<Vec<String>>,
) {
    use std::io::{Read, Write};
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split(' ').nth(1).unwrap_or("/").to_string();
    hits.lock().unwrap().push(path.clone());
    let reply = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(replies) if replies.len() > 1 => Some(replies.remove(0)),
            Some(replies) => replies.first().cloned(),
            None => None,
        }
    };
    let head = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n")
    };
    let _ = match reply.unwrap_or(Reply::Status(404)) {
        Reply::Body(body) => stream
            .write_all(head("200 OK", &format!("Content-Length: {}\r\n", body.len())).as_bytes())
            .and_then(|_| stream.write_all(&body)),
        Reply::Status(code) => {
            let body = format!("status {code}\n");
            stream
                .write_all(
                    head(
                        &format!("{code} Status"),
                        &format!("Content-Length: {}\r\n", body.len()),
                    )
                    .as_bytes(),
                )
                .and_then(|_| stream.write_all(body.as_bytes()))
        }
        Reply::Truncated { body, claimed } => stream
            .write_all(head("200 OK", &format!("Content-Length: {claimed}\r\n")).as_bytes())
            .and_then(|_| stream.write_all(&body)),
        Reply::DropMidBody(body) => stream
            .write_all(head("200 OK", "Transfer-Encoding: chunked\r\n").as_bytes())
            .and_then(|_| stream.write_all(format!("{:x}\r\n", body.len()).as_bytes()))
            .and_then(|_| stream.write_all(&body))
            .and_then(|_| stream.write_all(b"\r\n")),
        Reply::Chunked(body) => stream
            .write_all(head("200 OK", "Transfer-Encoding: chunked\r\n").as_bytes())
            .and_then(|_| stream.write_all(format!("{:x}\r\n", body.len()).as_bytes()))
            .and_then(|_| stream.write_all(&body))
            .and_then(|_| stream.write_all(b"\r\n0\r\n\r\n")),
    };
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Every file under `dir` with its contents' hash, and every directory:
/// equal before and after means the tree is byte-for-byte unchanged.
pub fn tree_hash(dir: &Path) -> Vec<(String, String)> {
    tree(dir)
        .into_iter()
        .map(|relative| {
            let path = dir.join(&relative);
            let hash = if path.is_file() {
                sha256_hex(&std::fs::read(&path).unwrap())
            } else {
                "dir".to_string()
            };
            (relative, hash)
        })
        .collect()
}

/// A `docker-registry serve` of this test's own, killed when dropped.
pub struct Registry {
    child: std::process::Child,
    /// `127.0.0.1:<port>`
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// A registry without auth, or `None` when told to skip.
    pub fn start() -> Option<Registry> {
        Registry::start_with(None)
    }

    pub fn start_with(htpasswd: Option<&str>) -> Option<Registry> {
        if std::env::var_os("PORTER_TEST_WITHOUT_REGISTRY").is_some() {
            eprintln!(
                "PORTER_TEST_WITHOUT_REGISTRY is set: skipping a test that needs docker-registry"
            );
            return None;
        }
        let found = std::process::Command::new("docker-registry")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "docker-registry is not installed: run `bash .ci/setup` (Debian's docker-registry \
             package), or set PORTER_TEST_WITHOUT_REGISTRY=1 to skip these tests"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let mut config = std::fs::read_to_string(workspace_root().join(".ci/registry-config.yml"))
            .unwrap()
            .replace("127.0.0.1:5000", &addr)
            .replace("/tmp/porter-registry", storage.to_str().unwrap());
        assert!(config.contains(&addr), "{config}");
        if let Some(htpasswd) = htpasswd {
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, htpasswd).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: porter-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config_file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::from(
                std::fs::File::create(dir.path().join("registry.log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let mut registry = Registry {
            child,
            addr,
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(&registry.addr).is_err() {
            if let Some(status) = registry.child.try_wait().unwrap() {
                panic!("docker-registry exited ({status}): {}", registry.log());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "docker-registry did not listen on {} within 20 s: {}",
                registry.addr,
                registry.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(registry)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default()
    }

    /// `<addr>/<repository>`
    pub fn at(&self, repository: &str) -> String {
        format!("{}/{repository}", self.addr)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub const BASE_IMAGE: &str = "debian:stable-slim";

/// The engine is there (or the tests were told to skip).
pub fn engine_available() -> bool {
    if std::env::var_os("PORTER_TEST_WITHOUT_ENGINE").is_some() {
        eprintln!("PORTER_TEST_WITHOUT_ENGINE is set: skipping a test that needs a Docker engine");
        return false;
    }
    let info = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    assert!(
        info.as_ref().is_ok_and(|o| o.status.success()),
        "no Docker engine answers (`docker info` failed: {info:?}); run `bash .ci/docker-setup`, \
         or set PORTER_TEST_WITHOUT_ENGINE=1 to skip these tests"
    );
    assert!(
        docker(&["image", "inspect", BASE_IMAGE]).is_some(),
        "the engine has no {BASE_IMAGE}: run `bash .ci/docker-setup`"
    );
    true
}

/// The static (musl) build of porter, the runtime `cargo xtask install`
/// stages: `cargo xtask test` builds it and says where in
/// `PORTER_TEST_STATIC_RUNTIME`. `None` only when
/// `PORTER_TEST_WITHOUT_STATIC_RUNTIME` is set; missing is a failure.
pub fn static_runtime() -> Option<PathBuf> {
    if std::env::var_os("PORTER_TEST_WITHOUT_STATIC_RUNTIME").is_some() {
        eprintln!(
            "PORTER_TEST_WITHOUT_STATIC_RUNTIME is set: skipping a test that needs the static runtime"
        );
        return None;
    }
    // Relative to the workspace, the tests' directory being the package's.
    let path = std::env::var_os("PORTER_TEST_STATIC_RUNTIME").map(|p| workspace_root().join(p));
    let Some(path) = path else {
        panic!(
            "PORTER_TEST_STATIC_RUNTIME is not set: run the tests with `cargo xtask test`, which \
             builds porter for x86_64-unknown-linux-musl and sets it (or build it with `cargo \
             xtask runtime` and set PORTER_TEST_STATIC_RUNTIME=target/x86_64-unknown-linux-musl/\
             debug/porter), or set PORTER_TEST_WITHOUT_STATIC_RUNTIME=1 to skip these tests"
        )
    };
    assert!(
        path.is_file(),
        "PORTER_TEST_STATIC_RUNTIME names {}, which does not exist: run `cargo xtask runtime`",
        path.display()
    );
    Some(path)
}

/// `docker ARGS`, its stdout when it succeeds.
pub fn docker(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The ID of the image `reference` names, if any.
pub fn image_id(reference: &str) -> Option<String> {
    docker(&["image", "inspect", "--format", "{{.Id}}", reference])
}
