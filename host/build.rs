//! Build facts the porter library embeds:
//! - `PORTER_SOURCE_ID`, an identity of porter's own sources: answers
//!   remembered by one build of porter (src/mixin/memo.rs) are never served
//!   to another build that could compute them differently, even at the same
//!   version (a developer's builds, say);
//! - `PORTER_COMMIT`, the git commit porter was built from, recorded in
//!   every bundle.json, or `unknown` outside a git checkout;
//! - `PORTER_MIXIN_CONTRACT`, the version of the mixin contract, read from
//!   the `package` line of wit/mixin.wit so it is written in one place.

use std::hash::{DefaultHasher, Hasher};
use std::path::Path;
use std::process::Command;

/// What decides how porter computes and stores an answer: its code, the
/// contract with mixins and the exact dependencies.
const INPUTS: [&str; 3] = ["src", "../wit", "../Cargo.lock"];
const CONTRACT_WIT: &str = "../wit/mixin.wit";

fn main() {
    let mut hasher = DefaultHasher::new();
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
        hash_tree(Path::new(input), &mut hasher);
    }
    println!("cargo:rustc-env=PORTER_SOURCE_ID={:016x}", hasher.finish());
    println!("cargo:rustc-env=PORTER_COMMIT={}", git_commit());
    let contract = contract_version();
    let major = contract.split('.').next().unwrap_or_default();
    println!("cargo:rustc-env=PORTER_MIXIN_CONTRACT={contract}");
    println!("cargo:rustc-env=PORTER_MIXIN_CONTRACT_MAJOR={major}");
}

/// Feeds every file under `path` (sorted, with its relative path) to `hasher`.
fn hash_tree(path: &Path, hasher: &mut DefaultHasher) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("reading porter's sources")
            .map(|entry| entry.expect("reading porter's sources").path())
            .collect();
        entries.sort();
        for entry in entries {
            hash_tree(&entry, hasher);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        // (A missing input, as outside this workspace, adds nothing.)
        hasher.write(path.to_string_lossy().as_bytes());
        hasher.write(&bytes);
    }
}

/// `git rev-parse HEAD`, or `unknown` (no git, not a checkout: a source
/// tarball, a crate). Reruns when HEAD moves: HEAD itself for a checkout
/// of another branch, the branch's ref and packed-refs for a commit.
fn git_commit() -> String {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return "unknown".into();
    };
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        // Only files that exist: a missing one would rerun every build.
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && Path::new(&path).is_file()
        {
            let path = std::path::absolute(&path).unwrap_or(path.into());
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    commit
}

/// `X.Y.Z` of `package porter:mixin@X.Y.Z;` in the contract.
fn contract_version() -> String {
    let text = std::fs::read_to_string(CONTRACT_WIT).expect("reading wit/mixin.wit");
    text.lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("package porter:mixin@")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .expect("wit/mixin.wit has a `package porter:mixin@X.Y.Z;` line")
}
