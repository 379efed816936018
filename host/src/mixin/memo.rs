//! Answers of build and lint hooks, remembered in `PORTER_HOME` so that a
//! build whose mixin inputs did not change loads no mixin at all (editing a
//! script, or one mixin's steps, reruns only what that edit reaches); and,
//! under [`PORTER_NAMESPACE`], porter's own checks that are as pure (the
//! checks of porter.yaml after parsing, which compile JSON schemas).
//!
//! This is sound because a hook is a function of the component and its
//! input: the sandbox grants no files, environment or network, and gives
//! virtual time and seeded random streams (determinism.rs). An entry is
//! keyed by the mixin's wasm digest, the hook, the input exactly as the
//! mixin receives it and this porter's version and sources. Only answers
//! are kept: a refusal, crash or timeout runs again next time.
//!
//! Entries are written in place, without a temporary file or fsync: a torn
//! entry (a crash mid-write, or a reader racing a writer) does not parse and
//! is computed again, and two writers of one key write the same bytes.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::contract::{ActionSteps, BuildRequest, LintRequest};
use super::sandbox::Answer;

/// Entries kept per mixin digest; past it, the oldest quarter goes.
const MAX_ENTRIES_PER_MIXIN: usize = 1024;
/// One new entry in this many checks the bound: listing a directory of a
/// thousand entries on every write would cost more than the hook call.
const PRUNE_EVERY: u8 = 64;
/// Bumped when what is hashed or stored changes.
const FORMAT: &str = "porter hook answers 1";
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
        compute: impl FnOnce() -> Result<Answer<T>, E>,
    ) -> Result<(Answer<T>, bool), E> {
        if let Some(answer) = self.recall(key) {
            return Ok((answer, true));
        }
        let answer = compute()?;
        self.remember(key, &answer);
        Ok((answer, false))
    }

    pub fn build_key(mixin_sha256: &str, request: &BuildRequest) -> MemoKey {
        MemoKey::builder(mixin_sha256, "build")
            .field(&request.config.to_string())
            .actions(&request.actions)
            .field(&request.platform)
            .finish()
    }

    pub fn lint_key(mixin_sha256: &str, request: &LintRequest) -> MemoKey {
        MemoKey::builder(mixin_sha256, "lint")
            .field(&request.config.to_string())
            .actions(&request.actions)
            .finish()
    }

    /// The remembered answer, or `None` (never an error: a missing or
    /// unreadable entry only means the hook runs).
    fn recall<T: DeserializeOwned>(&self, key: &MemoKey) -> Option<Answer<T>> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `answer` for `key`. A failure to write only costs a later
    /// build the hook call, so it is not reported.
    fn remember<T: Serialize>(&self, key: &MemoKey, answer: &Answer<T>) {
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

/// Forgets every answer of the mixin with this wasm digest (on uninstall).
pub fn forget_mixin(dir: &Path, mixin_sha256: &str) {
    let _ = std::fs::remove_dir_all(dir.join(mixin_sha256));
}

/// Keeps a mixin's entries under the bound, dropping the oldest first.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let entries: Vec<_> = entries.flatten().collect();
    if entries.len() <= MAX_ENTRIES_PER_MIXIN {
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
    let excess = aged.len() - MAX_ENTRIES_PER_MIXIN * 3 / 4;
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

    /// The actions as the mixin receives them (each step as JSON text).
    pub fn actions(mut self, actions: &[ActionSteps]) -> Self {
        self = self.field(&actions.len().to_string());
        for action in actions {
            self = self
                .field(&action.action)
                .field(&action.steps.len().to_string());
            for step in &action.steps {
                self = self.field(&step.to_string());
            }
        }
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
    use serde_json::json;

    use super::*;
    use crate::mixin::contract::BuildResponse;
    use crate::mixin::sandbox::{LogMessage, MixinLogLevel};

    const MIXIN: &str = "ab12";

    fn request(config: serde_json::Value, step: serde_json::Value) -> BuildRequest {
        BuildRequest {
            config,
            actions: vec![ActionSteps {
                action: "install".into(),
                steps: vec![step],
            }],
            platform: "linux/amd64".into(),
        }
    }

    #[test]
    fn a_key_changes_with_every_part_of_the_input() {
        let base = request(json!({"a": 1}), json!({"command": "x"}));
        let key = Memo::build_key(MIXIN, &base);
        assert_eq!(key, Memo::build_key(MIXIN, &base.clone()));

        let mut others = vec![
            Memo::build_key("cd34", &base),
            Memo::build_key(MIXIN, &request(json!({"a": 2}), json!({"command": "x"}))),
            Memo::build_key(MIXIN, &request(json!({"a": 1}), json!({"command": "y"}))),
            Memo::lint_key(
                MIXIN,
                &LintRequest {
                    config: base.config.clone(),
                    actions: base.actions.clone(),
                },
            ),
        ];
        let mut renamed = base.clone();
        renamed.actions[0].action = "upgrade".into();
        others.push(Memo::build_key(MIXIN, &renamed));
        let mut platform = base.clone();
        platform.platform = "linux/arm64".into();
        others.push(Memo::build_key(MIXIN, &platform));
        // Moving a step to the next action is a different input.
        let mut moved = base.clone();
        moved.actions.push(ActionSteps {
            action: "uninstall".into(),
            steps: vec![],
        });
        others.push(Memo::build_key(MIXIN, &moved));

        for (i, other) in others.iter().enumerate() {
            assert_ne!(&key, other, "input {i} shares the base key");
        }
    }

    #[test]
    fn answers_are_recalled_with_their_logs_and_torn_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let memo = Memo::new(dir.path().to_path_buf());
        let key = Memo::build_key(MIXIN, &request(json!(null), json!({})));
        assert!(memo.recall::<BuildResponse>(&key).is_none());

        let answer = Answer {
            value: BuildResponse {
                dockerfile_lines: vec!["RUN true".into()],
                warnings: vec!["careful".into()],
            },
            logs: vec![LogMessage {
                level: MixinLogLevel::Warn,
                message: "from the mixin".into(),
            }],
        };
        memo.remember(&key, &answer);
        assert_eq!(memo.recall::<BuildResponse>(&key), Some(answer));

        std::fs::write(memo.path(&key), b"{\"value\": {\"dockerfile_li").unwrap();
        assert!(memo.recall::<BuildResponse>(&key).is_none());

        forget_mixin(dir.path(), MIXIN);
        assert!(!dir.path().join(MIXIN).exists());
    }

    #[test]
    fn a_mixin_keeps_a_bounded_number_of_entries() {
        let dir = tempfile::tempdir().unwrap();
        let memo = Memo::new(dir.path().to_path_buf());
        let answer = Answer {
            value: BuildResponse::default(),
            logs: vec![],
        };
        let written = 2 * MAX_ENTRIES_PER_MIXIN;
        for i in 0..written {
            let key = Memo::build_key(MIXIN, &request(json!(i), json!({})));
            memo.remember(&key, &answer);
        }
        let kept = std::fs::read_dir(dir.path().join(MIXIN)).unwrap().count();
        // Pruned now and then (one write in PRUNE_EVERY checks), never
        // below three quarters of the bound.
        assert!(
            (MAX_ENTRIES_PER_MIXIN * 3 / 4..written / 2 + 8 * PRUNE_EVERY as usize).contains(&kept),
            "{kept} entries kept"
        );
        // The newest is among them.
        let newest = Memo::build_key(MIXIN, &request(json!(written - 1), json!({})));
        assert!(memo.recall::<BuildResponse>(&newest).is_some());
    }
}
