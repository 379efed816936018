//! Gives the porter library an identity of its own sources,
//! `PORTER_SOURCE_ID`: answers remembered by one build of porter
//! (src/mixin/memo.rs) are never served to another build that could compute
//! them differently, even at the same version (a developer's builds, say).

use std::hash::{DefaultHasher, Hasher};
use std::path::Path;

/// What decides how porter computes and stores an answer: its code, the
/// contract with mixins and the exact dependencies.
const INPUTS: [&str; 3] = ["src", "../wit", "../Cargo.lock"];

fn main() {
    let mut hasher = DefaultHasher::new();
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
        hash_tree(Path::new(input), &mut hasher);
    }
    println!("cargo:rustc-env=PORTER_SOURCE_ID={:016x}", hasher.finish());
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
