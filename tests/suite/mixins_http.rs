//! `porter mixins install --url | --feed-url | --digest` and `porter mixins
//! search`, through the real binary against a real HTTP server on
//! 127.0.0.1 (support.rs). Every refused download leaves PORTER_HOME
//! byte-for-byte as it was.

use crate::support::*;
use predicates::prelude::*;
use serde_json::Value;

fn hostile(version: &str) -> Vec<u8> {
    if version == "0.0.1" {
        std::fs::read(guest_wasm("hostile")).unwrap()
    } else {
        with_version(&guest_wasm("hostile"), "0.0.1", version)
    }
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Runs `porter mixins install ARGS` in a home with exec installed, expects
/// it to fail saying each of `messages`, and checks that the home did not
/// change at all. Returns stderr.
fn refused(args: &[&str], messages: &[&str]) -> String {
    let home = home_with_exec();
    let before = tree_hash(home.path());
    let out = porter(home.path())
        .args(["mixins", "install"])
        .args(args)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for message in messages {
        assert!(stderr.contains(message), "{message:?} not in:\n{stderr}");
    }
    assert_eq!(
        tree_hash(home.path()),
        before,
        "PORTER_HOME changed after a refused install:\n{stderr}"
    );
    stderr
}

#[test]
fn install_from_a_url_records_the_exact_url_downloaded() {
    let server = HttpServer::start();
    let wasm = hostile("0.0.2");
    server.route(
        "/mixins/hostile/v0.0.2/hostile.wasm",
        vec![Reply::Body(wasm.clone())],
    );
    let home = tempfile::tempdir().unwrap();
    let base = format!("{}/mixins/hostile", server.url());
    porter(home.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--url",
            &base,
            "--version",
            "v0.0.2",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Installed hostile 0.0.2 ({})",
            digest_of(&wasm)
        )))
        .stderr(predicate::str::contains(format!(
            "Downloading {base}/v0.0.2/hostile.wasm"
        )));
    let listed = list_json(home.path());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["source"], format!("{base}/v0.0.2/hostile.wasm"));
    assert_eq!(listed[0]["digest"], digest_of(&wasm));
    let record: Value = serde_json::from_slice(
        &std::fs::read(home.path().join("mixins/hostile/0.0.2/mixin.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["source"], format!("{base}/v0.0.2/hostile.wasm"));
}

#[test]
fn a_url_serving_another_version_is_refused() {
    let server = HttpServer::start();
    server.route("/m/0.0.3/hostile.wasm", vec![Reply::Body(hostile("0.0.2"))]);
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base, "--version", "0.0.3"],
        &["the file is hostile 0.0.2, not the requested version 0.0.3"],
    );
}

#[test]
fn a_digest_is_required_when_given() {
    let server = HttpServer::start();
    let wasm = hostile("0.0.1");
    server.route("/m/0.0.1/hostile.wasm", vec![Reply::Body(wasm.clone())]);
    let base = format!("{}/m", server.url());
    let wrong = format!("sha256:{}", "ab".repeat(32));
    refused(
        &[
            "hostile",
            "--url",
            &base,
            "--version",
            "0.0.1",
            "--digest",
            &wrong,
        ],
        &[
            &format!(
                "its digest is {}, not the expected {wrong}",
                digest_of(&wasm)
            ),
            "check --digest",
        ],
    );
    refused(
        &[
            "hostile",
            "--url",
            &base,
            "--version",
            "0.0.1",
            "--digest",
            "sha256:abc",
        ],
        &["--digest: 'sha256:abc' is not a sha256 digest"],
    );
    // The same check for a local file.
    let file = guest_wasm("hostile");
    refused(
        &[
            "hostile",
            "--file",
            file.to_str().unwrap(),
            "--digest",
            &wrong,
        ],
        &[&format!(
            "its digest is {}, not the expected {wrong}",
            digest_of(&wasm)
        )],
    );
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--url",
            &base,
            "--version",
            "0.0.1",
        ])
        .args(["--digest", &digest_of(&wasm)])
        .assert()
        .success();
    assert_eq!(list_json(home.path())[0]["digest"], digest_of(&wasm));
}

#[test]
fn not_found_names_the_url_and_what_to_check() {
    let server = HttpServer::start();
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base, "--version", "0.0.9"],
        &[
            &format!("{base}/0.0.9/hostile.wasm was not found (HTTP 404)"),
            "check the URL, the mixin's name and its version",
        ],
    );
    // A 4xx is not retried.
    assert_eq!(server.hits().len(), 1, "{:?}", server.hits());
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let server = HttpServer::start();
    let wasm = hostile("0.0.1");
    let path = "/m/0.0.1/hostile.wasm";
    server.route(
        path,
        vec![Reply::Status(500), Reply::Status(503), Reply::Body(wasm)],
    );
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--version",
            "0.0.1",
            "--url",
        ])
        .arg(format!("{}/m", server.url()))
        .assert()
        .success()
        .stderr(predicate::str::contains("answered HTTP 500; retrying in"));
    assert_eq!(server.hits(), vec![path; 3]);
}

#[test]
fn a_server_that_keeps_failing_is_given_up_on() {
    let server = HttpServer::start();
    server.route("/m/0.0.1/hostile.wasm", vec![Reply::Status(502)]);
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base, "--version", "0.0.1"],
        &["after 4 attempts", "answered HTTP 502"],
    );
    assert_eq!(server.hits().len(), 4);
}

#[test]
fn a_connection_refused_is_retried_then_reported() {
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/m");
    refused(
        &["hostile", "--url", &base, "--version", "0.0.1"],
        &[
            &format!("cannot download {base}/0.0.1/hostile.wasm"),
            "after 4 attempts",
        ],
    );
}

#[test]
fn a_connection_dropped_mid_body_is_refused() {
    let server = HttpServer::start();
    let wasm = hostile("0.0.1");
    server.route(
        "/m/0.0.1/hostile.wasm",
        vec![Reply::DropMidBody(wasm[..wasm.len() / 2].to_vec())],
    );
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base, "--version", "0.0.1"],
        &[&format!(
            "the download of {base}/0.0.1/hostile.wasm stopped after {} bytes",
            wasm.len() / 2
        )],
    );
}

#[test]
fn a_dropped_connection_is_retried() {
    let server = HttpServer::start();
    let wasm = hostile("0.0.1");
    server.route(
        "/m/0.0.1/hostile.wasm",
        vec![Reply::DropMidBody(wasm[..100].to_vec()), Reply::Body(wasm)],
    );
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--version",
            "0.0.1",
            "--url",
        ])
        .arg(format!("{}/m", server.url()))
        .assert()
        .success();
    assert_eq!(server.hits().len(), 2);
}

#[test]
fn a_truncated_body_is_refused() {
    let server = HttpServer::start();
    let wasm = hostile("0.0.1");
    server.route(
        "/m/0.0.1/hostile.wasm",
        vec![Reply::Truncated {
            body: wasm[..1000].to_vec(),
            claimed: wasm.len(),
        }],
    );
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base, "--version", "0.0.1"],
        &[&format!(
            "the download of {base}/0.0.1/hostile.wasm stopped after 1000 of {} bytes",
            wasm.len()
        )],
    );
}

#[test]
fn an_oversized_body_is_refused_before_it_is_read() {
    let server = HttpServer::start();
    server.route(
        "/m/0.0.1/hostile.wasm",
        vec![Reply::Body(vec![0; (64 << 20) + 1])],
    );
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base, "--version", "0.0.1"],
        &["hostile.wasm is larger than any mixin (64 MiB at most"],
    );
    assert_eq!(server.hits().len(), 1, "too large is not retried");
    // Without a Content-Length, the download stops at the limit.
    server.route(
        "/m/0.0.2/hostile.wasm",
        vec![Reply::Chunked(vec![0; (64 << 20) + 1])],
    );
    refused(
        &["hostile", "--url", &base, "--version", "0.0.2"],
        &["hostile.wasm is larger than any mixin (64 MiB at most"],
    );
    assert_eq!(server.hits().len(), 2);
}

#[test]
fn a_body_that_is_not_a_mixin_is_refused() {
    let server = HttpServer::start();
    server.route(
        "/m/1.0.0/exec.wasm",
        vec![Reply::Body(b"<html>hi</html>".to_vec())],
    );
    server.route(
        "/m/1.0.0/not-a-mixin.wasm",
        vec![Reply::Body(
            std::fs::read(guest_wasm("not-a-mixin")).unwrap(),
        )],
    );
    let base = format!("{}/m", server.url());
    refused(
        &["exec", "--url", &base, "--version", "1.0.0", "--force"],
        &[
            &format!("cannot install {base}/1.0.0/exec.wasm as mixin exec"),
            "not a WebAssembly file",
        ],
    );
    refused(
        &["not-a-mixin", "--url", &base, "--version", "1.0.0"],
        &["does not implement the Porter mixin contract"],
    );
}

#[test]
fn latest_from_a_url_needs_the_server_to_publish_it() {
    let server = HttpServer::start();
    let base = format!("{}/m", server.url());
    refused(
        &["hostile", "--url", &base],
        &[
            "cannot resolve latest",
            "publishes no latest/ directory",
            "--version",
        ],
    );
    let wasm = hostile("0.0.2");
    server.route("/m/latest/hostile.wasm", vec![Reply::Body(wasm)]);
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["mixins", "install", "hostile", "--url", &base])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.2"));
    assert_eq!(
        list_json(home.path())[0]["source"],
        format!("{base}/latest/hostile.wasm")
    );
}

/// A feed in Porter's format whose entries link a `.wasm` (relative links
/// resolve against the feed): released 0.0.1 and 0.0.2, a prerelease, a
/// canary, and a newer entry with only native binaries, as Porter's.
const FEED: &str = r#"<feed xmlns="http://www.w3.org/2005/Atom">
    <id>https://example.com/mixins</id>
    <title>Mixins</title>
    <updated>2026-02-10T00:00:00Z</updated>
    <category term="hostile"/>
    <entry>
        <id>hostile-v0.0.1</id><title>hostile @ v0.0.1</title>
        <updated>2026-02-01T00:00:00Z</updated><category term="hostile"/><content>v0.0.1</content>
        <link rel="download" href="hostile/v0.0.1/hostile.wasm" />
    </entry>
    <entry>
        <id>hostile-v0.0.2</id><title>hostile @ v0.0.2</title>
        <updated>2026-02-02T00:00:00Z</updated><category term="hostile"/><content>v0.0.2</content>
        <link rel="download" href="hostile/v0.0.2/hostile.wasm" />
    </entry>
    <entry>
        <id>hostile-v0.0.4-rc.1</id><title>hostile @ v0.0.4-rc.1</title>
        <updated>2026-02-03T00:00:00Z</updated><category term="hostile"/><content>v0.0.4-rc.1</content>
        <link rel="download" href="hostile/v0.0.4-rc.1/hostile.wasm" />
    </entry>
    <entry>
        <id>hostile-canary</id><title>hostile @ canary</title>
        <updated>2026-02-04T00:00:00Z</updated><category term="hostile"/><content>canary</content>
        <link rel="download" href="hostile/canary/hostile.wasm" />
    </entry>
    <entry>
        <id>hostile-v0.0.9</id><title>hostile @ v0.0.9</title>
        <updated>2026-02-05T00:00:00Z</updated><category term="hostile"/><content>v0.0.9</content>
        <link rel="download" href="hostile/v0.0.9/hostile-linux-amd64" />
    </entry>
</feed>"#;

fn feed_server() -> HttpServer {
    let server = HttpServer::start();
    server.route(
        "/mixins/atom.xml",
        vec![Reply::Body(FEED.as_bytes().to_vec())],
    );
    for version in ["0.0.1", "0.0.2"] {
        server.route(
            &format!("/mixins/hostile/v{version}/hostile.wasm"),
            vec![Reply::Body(hostile(version))],
        );
    }
    server.route(
        "/mixins/hostile/canary/hostile.wasm",
        vec![Reply::Body(hostile("0.0.3"))],
    );
    server
}

#[test]
fn a_feed_gives_latest_canary_and_exact_versions() {
    let server = feed_server();
    let feed = format!("{}/mixins/atom.xml", server.url());
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["mixins", "install", "hostile", "--feed-url", &feed])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.2"));
    porter(home.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--feed-url",
            &feed,
            "--version",
            "canary",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.3"));
    porter(home.path())
        .args([
            "mixins",
            "install",
            "hostile",
            "--feed-url",
            &feed,
            "-v",
            "0.0.1",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.1"));
    let sources: Vec<String> = list_json(home.path())
        .iter()
        .map(|m| m["source"].as_str().unwrap().to_string())
        .collect();
    let base = server.url();
    assert_eq!(
        sources,
        [
            format!("{base}/mixins/hostile/v0.0.1/hostile.wasm"),
            format!("{base}/mixins/hostile/v0.0.2/hostile.wasm"),
            format!("{base}/mixins/hostile/canary/hostile.wasm"),
        ],
        "the exact file downloaded is the source, not the feed"
    );
}

#[test]
fn the_mirror_holds_the_default_feed() {
    let server = feed_server();
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["mixins", "install", "hostile", "--mirror", &server.url()])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.2"));
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .env("PORTER_MIRROR", server.url())
        .args(["mixins", "install", "hostile", "-v", "v0.0.1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Installed hostile 0.0.1"));
    assert!(server.hits().iter().all(|h| h.starts_with("/mixins/")));
}

#[test]
fn what_a_feed_cannot_give_is_said() {
    let server = feed_server();
    let feed = format!("{}/mixins/atom.xml", server.url());
    refused(
        &["hostile", "--feed-url", &feed, "--version", "0.0.9"],
        &["the feed's entry for hostile v0.0.9 links no hostile.wasm, only hostile-linux-amd64"],
    );
    refused(
        &["hostile", "--feed-url", &feed, "--version", "0.0.5"],
        &["the feed has no hostile 0.0.5 (it offers: canary, v0.0.1, v0.0.2, v0.0.4-rc.1, v0.0.9)"],
    );
    refused(
        &["helm", "--feed-url", &feed],
        &["the feed has no mixin helm (it offers: hostile)"],
    );
    let missing = format!("{}/nowhere/atom.xml", server.url());
    refused(
        &["hostile", "--feed-url", &missing],
        &[&format!(
            "the mixin feed {missing} was not found (HTTP 404)"
        )],
    );
    server.route(
        "/bad.xml",
        vec![Reply::Body(b"{\"not\": \"xml\"}".to_vec())],
    );
    refused(
        &[
            "hostile",
            "--feed-url",
            &format!("{}/bad.xml", server.url()),
        ],
        &["is not an Atom feed"],
    );
}

#[test]
fn porters_own_feed_is_read_and_its_native_binaries_refused() {
    let server = HttpServer::start();
    server.route(
        "/mixins/atom.xml",
        vec![Reply::Body(
            std::fs::read(fixture("porter/pkgmgmt/atom.xml")).unwrap(),
        )],
    );
    let feed = format!("{}/mixins/atom.xml", server.url());
    refused(
        &["exec", "--feed-url", &feed, "--force"],
        &[
            "cannot resolve latest",
            "no released version of exec in the feed has a exec.wasm (it offers canary, v1.2.3",
        ],
    );
    refused(
        &["helm", "--feed-url", &feed, "--version", "v1.2.3"],
        &["links no helm.wasm, only helm-darwin-amd64, helm-darwin-arm64, helm-linux-amd64"],
    );
    refused(
        &["exec", "--feed-url", &feed, "--version", "canary"],
        &["links no exec.wasm, only exec-darwin-amd64"],
    );
    // Nothing but the feed was downloaded.
    assert!(server.hits().iter().all(|h| h == "/mixins/atom.xml"));
}

#[test]
fn version_words_need_a_source_that_has_them() {
    let file = guest_wasm("hostile");
    refused(
        &[
            "hostile",
            "--file",
            file.to_str().unwrap(),
            "--version",
            "latest",
        ],
        &["--version latest needs a feed or a server"],
    );
    refused(
        &[
            "hostile",
            "--url",
            "http://127.0.0.1:1/m",
            "--version",
            "newest",
        ],
        &["--version newest is not a version"],
    );
    refused(
        &["hostile", "--url", "ftp://127.0.0.1/m"],
        &["--url ftp://127.0.0.1/m is not an http(s) URL"],
    );
}

/// Two real porters install at once into one PORTER_HOME: the same
/// version, then two others. The test holds the store's lock while both
/// download and check their mixin, so both reach the store at the same
/// moment: neither writes while the lock is held, and once it is released
/// both succeed and every version is whole.
#[test]
fn concurrent_installs_wait_for_the_lock_and_leave_a_whole_store() {
    let server = feed_server();
    server.route(
        "/mixins/hostile/v0.0.3/hostile.wasm",
        vec![Reply::Body(hostile("0.0.3"))],
    );
    let base = format!("{}/mixins/hostile", server.url());
    let home = tempfile::tempdir().unwrap();
    let install = |version: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_porter"))
            .env("PORTER_HOME", home.path())
            .env_remove("PORTER_MIRROR")
            .args(["mixins", "install", "hostile", "--url", &base, "--version"])
            .arg(format!("v{version}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for pair in [["0.0.2", "0.0.2"], ["0.0.1", "0.0.3"]] {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(home.path().join(".lock"))
            .unwrap();
        lock.lock().unwrap();
        let before = tree_hash(home.path());
        let hits = server.hits().len();
        let mut children: Vec<_> = pair.iter().map(|v| install(v)).collect();
        // Both have downloaded; give them time to check their mixin.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while server.hits().len() < hits + 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(1500));
        for child in &mut children {
            assert!(
                child.try_wait().unwrap().is_none(),
                "an install finished while another process held the store's lock"
            );
        }
        assert_eq!(
            tree_hash(home.path()),
            before,
            "written under another's lock"
        );
        drop(lock);
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let listed = list_json(home.path());
    let versions: Vec<&str> = listed
        .iter()
        .map(|m| m["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.0.1", "0.0.2", "0.0.3"]);
    for m in &listed {
        let version = m["version"].as_str().unwrap();
        let dir = home.path().join("mixins/hostile").join(version);
        let wasm = std::fs::read(dir.join("hostile.wasm")).unwrap();
        assert_eq!(m["digest"], digest_of(&wasm));
        assert_eq!(wasm, hostile(version));
        assert!(dir.join("schema.json").is_file());
    }
    // Nothing left over: no staging or replaced directories.
    let leftovers: Vec<String> = tree(home.path())
        .into_iter()
        .filter(|p| p.contains("/.staging-") || p.contains("/.replaced-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn index_server() -> HttpServer {
    let server = HttpServer::start();
    server.route(
        "/mixins/index.json",
        vec![Reply::Body(
            std::fs::read(fixture("porter/pkgmgmt/index.json")).unwrap(),
        )],
    );
    server
}

#[test]
fn search_lists_porters_index() {
    let server = index_server();
    let home = tempfile::tempdir().unwrap();
    let out = porter(home.path())
        .args(["mixins", "search", "-o", "json", "--mirror", &server.url()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let listed: Value = serde_json::from_slice(&out).unwrap();
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(fixture("porter/pkgmgmt/index.json")).unwrap())
            .unwrap();
    assert_eq!(listed, fixture, "the index, sorted by name (it already is)");

    porter(home.path())
        .env("PORTER_MIRROR", server.url())
        .args(["mixins", "search", "COW"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("NAME        DESCRIPTION")
                .and(predicate::str::contains(
                    "cowsay      A mixin for using the cowsay cli      Porter Authors   https://github.com/carolynvs/porter-cowsay/releases/download   Download",
                ))
                .and(predicate::str::contains(
                    "https://cdn.uddergenius.es/mixins/atom.xml                     Atom Feed",
                ))
                .and(predicate::str::contains("az ").not()),
        );
    let yaml = porter(home.path())
        .args([
            "mixins",
            "search",
            "az",
            "-o",
            "yaml",
            "--mirror",
            &server.url(),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let yaml: Value = serde_saphyr::from_str(std::str::from_utf8(&yaml).unwrap()).unwrap();
    assert_eq!(yaml, serde_json::json!([fixture[0]]));
    porter(home.path())
        .args(["mixins", "search", "ottersay", "--mirror", &server.url()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no mixins found for ottersay"));
    assert!(tree(home.path()).is_empty(), "search writes nothing");
}

#[test]
fn search_says_where_the_index_is_missing() {
    let server = HttpServer::start();
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["mixins", "search", "--mirror", &server.url()])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains(format!(
                "cannot read the mixin index {}/mixins/index.json: check --mirror or PORTER_MIRROR",
                server.url()
            ))
            .and(predicate::str::contains("answered HTTP 404")),
        );
}

#[test]
fn uninstall_waits_for_the_lock() {
    let home = home_with_exec();
    let lock = std::fs::File::open(home.path().join(".lock")).unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_porter"))
        .env("PORTER_HOME", home.path())
        .args(["mixins", "uninstall", "exec"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "uninstall did not wait"
    );
    assert!(home.path().join("mixins/exec/1.0.0/exec.wasm").is_file());
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!home.path().join("mixins/exec").exists());
}
