//! `files:` (file sources, schemaVersion 1.3.0 with `file-sources`): the
//! manifest's checks with their lines, and `porter build
//! --allow-file-downloads` through the real binary against a real HTTP
//! server on 127.0.0.1 (support.rs). Every failed build leaves the previous
//! `.cnab/` byte-for-byte as it was.

use std::path::{Path, PathBuf};

use crate::support::*;
use porter::experimental::{Experimental, Flag};
use porter::manifest::{self, LoadOptions};
use predicates::prelude::*;

/// A bundle at schemaVersion 1.3.0 with `files` (the YAML under `files:`).
fn bundle(home: &Path, files: &str) -> PathBuf {
    let dir = home.join("bundle");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("porter.yaml"), manifest_text("1.3.0", files)).unwrap();
    dir
}

/// Lines 1-7 are the header; `files:` is line 8, its entries from line 9.
fn manifest_text(schema_version: &str, files: &str) -> String {
    format!(
        "schemaVersion: {schema_version}\nname: t\nversion: 0.1.0\nregistry: example.com\n\
         mixins:\n  - exec\ninstall: [{{exec: {{command: ./install.sh}}}}]\n\
         files:\n{files}uninstall: [{{exec: {{command: ./uninstall.sh}}}}]\n"
    )
}

fn entry(url: &str, destination: &str) -> String {
    format!("  - url: {url}\n    destination: {destination}\n")
}

/// `porter build --no-image` with file-sources on and downloads allowed.
fn build(home: &Path, dir: &Path) -> assert_cmd::Command {
    let mut cmd = porter(home);
    cmd.env("PORTER_EXPERIMENTAL", "file-sources")
        .args(["build", "--no-image", "--allow-file-downloads", "--dir"])
        .arg(dir);
    cmd
}

fn flags() -> LoadOptions {
    LoadOptions::with_flags(Experimental::with([Flag::FileSources]))
}

/// The errors of a manifest: (line, message).
fn errors(text: &str, options: &LoadOptions) -> Vec<(usize, String)> {
    match manifest::load_str_with_options("porter.yaml", text.to_string(), options) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.at.line, d.message.clone()))
            .collect(),
    }
}

#[test]
fn each_invalid_entry_is_an_error_at_its_line() {
    let ok = "https://example.com/a";
    let digest = format!("sha256:{}", "a".repeat(64));
    let cases: Vec<(String, usize, &str)> = vec![
        (
            entry("ftp://example.com/a", "a"),
            9,
            "files[0].url must begin with http:// or https://, got \"ftp://example.com/a\"",
        ),
        (
            entry(ok, "/etc/passwd"),
            10,
            "files[0].destination must be a relative path, got \"/etc/passwd\"",
        ),
        (
            entry(ok, "a/../../x"),
            10,
            "files[0].destination must not escape the bundle directory, got \"a/../../x\"",
        ),
        (
            entry(ok, "'a\\b'"),
            10,
            "files[0].destination must use forward slashes, got \"a\\\\b\"",
        ),
        (
            entry(ok, "porter.yaml"),
            10,
            "files[0].destination is a path porter writes itself (/cnab/app/porter.yaml)",
        ),
        (
            format!("{}    digest: md5:abc\n", entry(ok, "a")),
            11,
            "files[0].digest must be sha256:<64 hex digits>, got \"md5:abc\"",
        ),
        (
            format!("{}    digest: {}\n", entry(ok, "a"), &digest[..70]),
            11,
            "files[0].digest must be sha256:<64 hex digits>",
        ),
        (
            format!("{}{}", entry(ok, "a/b.txt"), entry(ok, "./a//b.txt")),
            12,
            "files: destination 'a/b.txt' is also the destination of 'a/b.txt' on line 9",
        ),
        (
            format!("{}{}", entry(ok, "a"), entry(ok, "a/b")),
            12,
            "files: destination 'a/b' overlaps (a file and a directory of the same path) with 'a'",
        ),
        (
            "  - url: https://example.com/a\n".to_string(),
            9,
            "files[0].destination is required",
        ),
        (
            format!("{}    checksum: x\n", entry(ok, "a")),
            11,
            "unknown field 'checksum' in files[0]",
        ),
        (
            "  - https://example.com/a\n".to_string(),
            9,
            "files[0] must be a mapping with url and destination, found a string",
        ),
    ];
    for (files, line, message) in cases {
        let text = manifest_text("1.3.0", &files);
        let found = errors(&text, &flags());
        assert!(
            found.iter().any(|(l, m)| *l == line && m.contains(message)),
            "expected line {line}: {message}\nin {found:#?}\nfor\n{text}"
        );
        assert_eq!(found.len(), 1, "one error each: {found:#?}");
    }
    // A good entry with a digest loads into the model, normalized.
    let text = manifest_text(
        "1.3.0",
        &format!(
            "{}    digest: {}\n",
            entry(ok, "./tools//t.tgz"),
            digest.to_uppercase().replace("SHA256", "sha256")
        ),
    );
    let loaded = manifest::load_str_with_options("porter.yaml", text, &flags()).unwrap();
    let file = &loaded.manifest.files[0];
    assert_eq!(file.url, ok);
    assert_eq!(file.destination, "tools/t.tgz");
    assert_eq!(file.sha256.as_deref(), Some(&digest["sha256:".len()..]));
}

#[test]
fn the_section_needs_the_flag_and_schema_version_1_3_0() {
    let files = entry("https://example.com/a", "a.txt");
    let off = errors(&manifest_text("1.0.1", &files), &LoadOptions::default());
    assert_eq!(
        off,
        [(
            8,
            "the files section requires the file-sources experimental feature".to_string()
        )]
    );
    let old = errors(&manifest_text("1.0.1", &files), &flags());
    assert_eq!(
        old,
        [(
            8,
            "the files section requires schemaVersion >= 1.3.0".to_string()
        )]
    );
    assert_eq!(errors(&manifest_text("1.3.0", &files), &flags()), []);
    // At run time the bundle was checked when it was built.
    assert_eq!(
        errors(&manifest_text("1.3.0", &files), &LoadOptions::runtime()),
        []
    );
}

#[test]
fn lint_reports_the_flag_with_the_line_and_how_to_turn_it_on() {
    let home = home_with_exec();
    let dir = home.path().join("b");
    std::fs::create_dir_all(&dir).unwrap();
    let text = manifest_text("1.0.1", &entry("https://example.com/a", "a.txt"));
    std::fs::write(dir.join("porter.yaml"), text).unwrap();
    porter(home.path())
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "error: the files section requires the file-sources experimental feature",
        ))
        .stderr(predicate::str::contains("porter.yaml:8:1"))
        .stderr(predicate::str::contains("PORTER_EXPERIMENTAL=file-sources"));
    porter(home.path())
        .env("PORTER_EXPERIMENTAL", "file-sources")
        .args(["lint", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the files section requires schemaVersion >= 1.3.0",
        ));
}

#[test]
fn schema_describes_files() {
    let home = tempfile::tempdir().unwrap();
    let out = porter(home.path()).arg("schema").assert().success();
    let schema: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let items = &schema["properties"]["files"]["items"];
    assert_eq!(items["required"], serde_json::json!(["url", "destination"]));
    for field in ["url", "destination", "digest"] {
        assert!(items["properties"][field].is_object(), "{field}");
    }
}

#[test]
fn downloads_are_staged_and_the_bytes_decide_up_to_date() {
    let server = HttpServer::start();
    server.route("/tool.sh", vec![Reply::Body(b"echo one\n".to_vec())]);
    let home = home_with_exec();
    let url = format!("{}/tool.sh", server.url());
    let dir = bundle(home.path(), &entry(&url, "bin/tool.sh"));
    // A bundle file at the same path: the download replaces it.
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::write(dir.join("bin/tool.sh"), "mine\n").unwrap();
    build(home.path(), &dir)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("Downloading {url}")));
    assert_eq!(
        std::fs::read(dir.join(".cnab/app/bin/tool.sh")).unwrap(),
        b"echo one\n"
    );
    // The bundle directory itself is never written.
    assert_eq!(std::fs::read(dir.join("bin/tool.sh")).unwrap(), b"mine\n");
    let cached = home
        .path()
        .join("cache/downloads")
        .join(format!("sha256-{}", sha256_hex(b"echo one\n")));
    assert!(cached.is_file(), "{}", cached.display());

    // The same bytes: up to date (downloaded again to know).
    build(home.path(), &dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Bundle is up-to-date!"));
    assert_eq!(server.hits().len(), 2);

    // Other bytes at the same URL: rebuilt, the new bytes staged.
    server.route("/tool.sh", vec![Reply::Body(b"echo two\n".to_vec())]);
    build(home.path(), &dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Wrote"));
    assert_eq!(
        std::fs::read(dir.join(".cnab/app/bin/tool.sh")).unwrap(),
        b"echo two\n"
    );
}

#[test]
fn a_digest_is_verified_and_a_cached_file_is_not_downloaded_again() {
    let server = HttpServer::start();
    let body = b"payload".to_vec();
    server.route("/p", vec![Reply::Chunked(body.clone())]);
    let home = home_with_exec();
    let url = format!("{}/p", server.url());
    let files = format!(
        "{}    digest: sha256:{}\n",
        entry(&url, "p.bin"),
        sha256_hex(&body)
    );
    let dir = bundle(home.path(), &files);
    build(home.path(), &dir).assert().success();
    assert_eq!(std::fs::read(dir.join(".cnab/app/p.bin")).unwrap(), body);
    build(home.path(), &dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("Bundle is up-to-date!"));
    assert_eq!(server.hits(), ["/p"], "the cache answered the second build");
}

/// Builds `files` once with `first` served (success), then serves `then`
/// and expects the next build to fail saying each of `messages`, leaving
/// `.cnab/` exactly as the first build wrote it. Returns the server.
fn fails_keeping_the_previous_build(
    files: impl Fn(&str) -> String,
    then: Vec<Reply>,
    messages: &[&str],
) -> HttpServer {
    let server = HttpServer::start();
    server.route("/f", vec![Reply::Body(b"first\n".to_vec())]);
    let home = home_with_exec();
    let url = format!("{}/f", server.url());
    let dir = bundle(home.path(), &entry(&url, "f.txt"));
    build(home.path(), &dir).assert().success();
    let before = tree_hash(&dir.join(".cnab"));
    assert!(before.iter().any(|(path, _)| path == "app/f.txt"));
    std::fs::write(
        dir.join("porter.yaml"),
        manifest_text("1.3.0", &files(&url)),
    )
    .unwrap();
    server.route("/f", then);
    let out = build(home.path(), &dir)
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for message in messages {
        assert!(stderr.contains(message), "{message:?} not in:\n{stderr}");
    }
    assert!(stderr.contains(".cnab/ is left as it was"), "{stderr}");
    assert_eq!(tree_hash(&dir.join(".cnab")), before, "{stderr}");
    let leftovers: Vec<String> = tree(&home.path().join("cache/downloads"))
        .into_iter()
        .filter(|name| !name.starts_with("sha256-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "half-written downloads: {leftovers:?}"
    );
    server
}

#[test]
fn not_found_fails_at_once() {
    let server = fails_keeping_the_previous_build(
        |url| entry(url, "f.txt"),
        vec![Reply::Status(404)],
        &[
            "answered HTTP 404",
            "the server refused the file (HTTP 404)",
        ],
    );
    assert_eq!(server.hits().len(), 2, "a 404 is not retried");
}

#[test]
fn a_dropped_connection_is_retried_then_fails() {
    let server = fails_keeping_the_previous_build(
        |url| entry(url, "f.txt"),
        vec![Reply::DropMidBody(b"half".to_vec())],
        &[
            "the connection was closed before the end",
            "after 4 attempts",
        ],
    );
    assert_eq!(server.hits().len(), 1 + 4);
}

#[test]
fn a_wrong_digest_fails_showing_both() {
    let wrong = "0".repeat(64);
    let actual = sha256_hex(b"changed\n");
    fails_keeping_the_previous_build(
        |url| format!("{}    digest: sha256:{wrong}\n", entry(url, "f.txt")),
        vec![Reply::Body(b"changed\n".to_vec())],
        &[
            "does not have the digest porter.yaml gives for f.txt",
            &format!("expected sha256:{wrong}"),
            &format!("actual   sha256:{actual}"),
        ],
    );
}

#[test]
fn a_file_over_the_limit_fails() {
    let server = HttpServer::start();
    server.route("/big", vec![Reply::Chunked(vec![7; 4096])]);
    let home = home_with_exec();
    let url = format!("{}/big", server.url());
    let dir = bundle(home.path(), &entry(&url, "big.bin"));
    build(home.path(), &dir)
        .env("PORTER_MAX_FILE_DOWNLOAD_BYTES", "1000")
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "{url} is larger than the files: download limit (PORTER_MAX_FILE_DOWNLOAD_BYTES) \
             (1000 bytes at most"
        )));
    assert!(!dir.join(".cnab").exists());
    assert_eq!(server.hits().len(), 1, "too large is not retried");
    build(home.path(), &dir)
        .env("PORTER_MAX_FILE_DOWNLOAD_BYTES", "4096")
        .assert()
        .success();
}

#[test]
fn without_allow_file_downloads_nothing_is_downloaded_or_written() {
    let server = HttpServer::start();
    let home = home_with_exec();
    let url = format!("{}/f", server.url());
    let dir = bundle(
        home.path(),
        &format!("{}{}", entry(&url, "a.txt"), entry(&url, "b/c.txt")),
    );
    porter(home.path())
        .env("PORTER_EXPERIMENTAL", "file-sources")
        .args(["build", "--no-image", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "porter build --allow-file-downloads is required to download files declared in the manifest:",
        ))
        .stderr(predicate::str::contains(format!("  - {url} => a.txt\n")))
        .stderr(predicate::str::contains(format!("  - {url} => b/c.txt\n")));
    assert!(server.hits().is_empty());
    assert_eq!(tree(&dir), ["porter.yaml"]);
    // Porter's config key allows them too.
    server.route("/f", vec![Reply::Body(b"x".to_vec())]);
    std::fs::write(
        home.path().join("config.yaml"),
        "allow-file-downloads: true\n",
    )
    .unwrap();
    porter(home.path())
        .env("PORTER_EXPERIMENTAL", "file-sources")
        .args(["build", "--no-image", "--dir"])
        .arg(&dir)
        .assert()
        .success();
    assert_eq!(std::fs::read(dir.join(".cnab/app/b/c.txt")).unwrap(), b"x");
}

#[test]
fn without_the_flag_the_build_is_refused_at_the_files_line() {
    let server = HttpServer::start();
    let home = home_with_exec();
    let url = format!("{}/f", server.url());
    let dir = home.path().join("b");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("porter.yaml"),
        manifest_text("1.0.1", &entry(&url, "a.txt")),
    )
    .unwrap();
    porter(home.path())
        .args(["build", "--no-image", "--allow-file-downloads", "--dir"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the files section requires the file-sources experimental feature",
        ))
        .stderr(predicate::str::contains("porter.yaml:8:1"));
    assert!(server.hits().is_empty());
    assert!(!dir.join(".cnab").exists());
}

#[test]
fn build_help_lists_the_flag() {
    let home = tempfile::tempdir().unwrap();
    porter(home.path())
        .args(["build", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--allow-file-downloads"));
}

/// With an engine: the image carries the download at
/// /cnab/app/<destination>, over the bundle's file of that path.
#[test]
fn image_carries_the_download_over_the_bundle_file() {
    if !engine_available() {
        return;
    }
    let server = HttpServer::start();
    server.route("/tool.sh", vec![Reply::Body(b"downloaded\n".to_vec())]);
    let home = home_with_exec();
    let url = format!("{}/tool.sh", server.url());
    let name = format!("porter-test-files-{}", std::process::id());
    let dir = home.path().join("bundle");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::write(dir.join("bin/tool.sh"), "mine\n").unwrap();
    std::fs::write(dir.join("bin/other.sh"), "other\n").unwrap();
    let text = manifest_text("1.3.0", &entry(&url, "bin/tool.sh"))
        .replace("name: t\n", &format!("name: {name}\n"))
        .replace("registry: example.com", "registry: localhost:5000");
    std::fs::write(dir.join("porter.yaml"), text).unwrap();
    let out = porter(home.path())
        .env("PORTER_EXPERIMENTAL", "file-sources")
        .args(["build", "--allow-file-downloads", "--dir"])
        .arg(&dir)
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let image = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Built the invocation image "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no image in:\n{stdout}"))
        .to_string();
    let read = |path: &str| {
        docker(&["run", "--rm", "--entrypoint", "cat", &image, path])
            .unwrap_or_else(|| panic!("cannot read {path} in {image}"))
    };
    let tool = read("/cnab/app/bin/tool.sh");
    let other = read("/cnab/app/bin/other.sh");
    docker(&["image", "rm", "-f", &image]);
    assert_eq!(tool, "downloaded");
    assert_eq!(other, "other");
}
