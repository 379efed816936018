//! Answers remembered in `PORTER_HOME/cache/answers`, so that work whose
//! input did not change is not done again: mixins' build and lint hooks (a
//! build whose mixin inputs did not change loads no mixin at all: editing a
//! script, or one mixin's steps, reruns only what that edit reaches), and,
//! under [`PORTER_NAMESPACE`], porter's own checks that are as pure (the
//! checks of porter.yaml after parsing, a step against its mixin's schema).
//!
//! This is sound for what is a function of its key alone. A hook is one: the
//! sandbox grants no files, environment or network, and gives virtual time
//! and seeded random streams (mixin/determinism.rs); its key is the mixin's
//! wasm digest, the hook and the input exactly as the mixin receives it.
//! Every key also holds this porter's version and sources. Only answers are
//! kept: a refusal, crash or timeout is computed again next time.
//!
//! Entries are written in place, without a temporary file or fsync: a torn
//! entry (a crash mid-write, or a reader racing a writer) does not parse and
//! is computed again, and two writers of one key write the same bytes.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// Entries kept per namespace; past it, the oldest quarter goes.
const MAX_ENTRIES: usize = 1024;
/// One new entry in this many checks the bound: listing a directory of a
/// thousand entries on every write would cost more than the hook call.
const PRUNE_EVERY: u8 = 64;
/// Bumped when what is hashed or stored changes.
const FORMAT: &str = "porter answers 2";
/// The namespace of porter's own checks (a mixin's is its wasm sha256).
pub const PORTER_NAMESPACE: &str = "porter";

pub struct Memo {
    dir: PathBuf,
}

/// Where one answer is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoKey {
    /// The directory: a mixin's wasm sha256, or [`PORTER_NAMESPACE`].
    namespace: String,
    name: String,
    /// A byte of the hash, to pick a uniform sample of writes.
    hash_byte: u8,
}

impl Memo {
    pub fn new(dir: PathBuf) -> Self {
        Memo { dir }
    }

    /// `key`'s remembered answer (`true`: it was), or `compute`'s, which is
    /// then remembered unless it failed.
    pub fn recall_or<T: Serialize + DeserializeOwned, E>(
        &self,
        key: &MemoKey,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<(T, bool), E> {
        if let Some(answer) = self.recall(key) {
            return Ok((answer, true));
        }
        let answer = compute()?;
        self.remember(key, &answer);
        Ok((answer, false))
    }

    /// [`recall_or`](Self::recall_or) for a computation that cannot fail.
    pub fn remembered<T: Serialize + DeserializeOwned>(
        &self,
        key: &MemoKey,
        compute: impl FnOnce() -> T,
    ) -> T {
        let Ok((answer, _)) = self.recall_or(key, || Ok::<_, std::convert::Infallible>(compute()));
        answer
    }

    /// The remembered answer, or `None` (never an error: a missing or
    /// unreadable entry only means the work is done again).
    fn recall<T: DeserializeOwned>(&self, key: &MemoKey) -> Option<T> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `answer` for `key`. A failure to write only costs a later
    /// run the work, so it is not reported.
    fn remember<T: Serialize>(&self, key: &MemoKey, answer: &T) {
        let Ok(bytes) = serde_json::to_vec(answer) else {
            return;
        };
        let dir = self.dir.join(&key.namespace);
        let path = self.path(key);
        let written = std::fs::write(&path, &bytes).or_else(|_| {
            std::fs::create_dir_all(&dir)?;
            std::fs::write(&path, &bytes)
        });
        // Which writes check is decided by the key, a uniform hash.
        if written.is_ok() && key.hash_byte.is_multiple_of(PRUNE_EVERY) {
            prune(&dir);
        }
    }

    fn path(&self, key: &MemoKey) -> PathBuf {
        self.dir.join(&key.namespace).join(&key.name)
    }
}

/// Forgets every answer of a namespace (a mixin's, on uninstall).
pub fn forget(dir: &Path, namespace: &str) {
    let _ = std::fs::remove_dir_all(dir.join(namespace));
}

/// Keeps a namespace's entries under the bound, dropping the oldest first.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let entries: Vec<_> = entries.flatten().collect();
    if entries.len() <= MAX_ENTRIES {
        return;
    }
    let mut aged: Vec<_> = entries
        .iter()
        .map(|e| {
            let modified = e.metadata().and_then(|m| m.modified()).ok();
            (modified, e.path())
        })
        .collect();
    aged.sort();
    let excess = aged.len() - MAX_ENTRIES * 3 / 4;
    for (_, path) in aged.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

impl MemoKey {
    /// A key for what `kind` (a hook, or a check porter makes itself) says
    /// about the input of the mixin with this wasm digest (or, under
    /// [`PORTER_NAMESPACE`], about porter's own input); the fields that make
    /// up the input follow.
    pub fn builder(namespace: &str, kind: &'static str) -> KeyBuilder {
        KeyBuilder {
            hasher: Sha256::new(),
            namespace: namespace.to_string(),
            kind,
        }
        .field(FORMAT)
        .field(env!("CARGO_PKG_VERSION"))
        // This build's sources (host/build.rs): another build of the same
        // version may compute answers differently.
        .field(env!("PORTER_SOURCE_ID"))
        .field(namespace)
        .field(kind)
    }
}

/// sha256 over length-prefixed fields, so no two inputs hash the same bytes.
pub struct KeyBuilder {
    hasher: Sha256,
    namespace: String,
    kind: &'static str,
}

impl KeyBuilder {
    pub fn field(mut self, value: &str) -> Self {
        self.hasher.update((value.len() as u64).to_le_bytes());
        self.hasher.update(value.as_bytes());
        self
    }

    pub fn finish(self) -> MemoKey {
        let hash = self.hasher.finalize();
        MemoKey {
            name: format!("{}-{}.json", self.kind, hex::encode(hash)),
            namespace: self.namespace,
            hash_byte: hash[0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMESPACE: &str = "ab12";

    fn key(input: &str) -> MemoKey {
        MemoKey::builder(NAMESPACE, "check").field(input).finish()
    }

    #[test]
    fn a_key_changes_with_each_field_and_its_boundaries() {
        let base = MemoKey::builder(NAMESPACE, "check")
            .field("ab")
            .field("c")
            .finish();
        let others = [
            MemoKey::builder(NAMESPACE, "check")
                .field("a")
                .field("bc")
                .finish(),
            MemoKey::builder(NAMESPACE, "check").field("abc").finish(),
            MemoKey::builder("cd34", "check")
                .field("ab")
                .field("c")
                .finish(),
            MemoKey::builder(NAMESPACE, "other")
                .field("ab")
                .field("c")
                .finish(),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(&base, other, "key {i} equals the base key");
        }
    }

    #[test]
    fn answers_are_recalled_and_torn_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let memo = Memo::new(dir.path().to_path_buf());
        let key = key("input");
        assert!(memo.recall::<Vec<String>>(&key).is_none());

        let answer = vec!["RUN true".to_string(), "careful".to_string()];
        memo.remember(&key, &answer);
        assert_eq!(memo.recall::<Vec<String>>(&key), Some(answer.clone()));
        let (recalled, was) = memo.recall_or(&key, || Err::<Vec<String>, ()>(())).unwrap();
        assert!(was);
        assert_eq!(recalled, answer);

        std::fs::write(memo.path(&key), b"[\"RUN tr").unwrap();
        assert!(memo.recall::<Vec<String>>(&key).is_none());

        forget(dir.path(), NAMESPACE);
        assert!(!dir.path().join(NAMESPACE).exists());
    }

    #[test]
    fn a_failure_is_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let memo = Memo::new(dir.path().to_path_buf());
        let key = key("input");
        assert!(memo.recall_or(&key, || Err::<u32, _>("no")).is_err());
        assert!(memo.recall::<u32>(&key).is_none());
        assert_eq!(memo.remembered(&key, || 7), 7);
        assert_eq!(memo.remembered(&key, || 8), 7, "the first answer is kept");
    }

    #[test]
    fn a_namespace_keeps_a_bounded_number_of_entries() {
        let dir = tempfile::tempdir().unwrap();
        let memo = Memo::new(dir.path().to_path_buf());
        let written = 2 * MAX_ENTRIES;
        for i in 0..written {
            memo.remember(&key(&i.to_string()), &i);
        }
        let kept = std::fs::read_dir(dir.path().join(NAMESPACE))
            .unwrap()
            .count();
        // Pruned now and then (one write in PRUNE_EVERY checks), never
        // below three quarters of the bound.
        assert!(
            (MAX_ENTRIES * 3 / 4..written / 2 + 8 * PRUNE_EVERY as usize).contains(&kept),
            "{kept} entries kept"
        );
        // The newest is among them.
        assert!(
            memo.recall::<usize>(&key(&(written - 1).to_string()))
                .is_some()
        );
    }
}
