//! Mixins: the store of installed mixins in `PORTER_HOME`, and the sandboxed
//! runtime that loads them and calls their hooks.
//!
//! - [`MixinStore`] reads what is installed (no wasm engine needed);
//! - [`MixinHost`] installs mixins and loads them for hook calls;
//! - [`PreparedMixin`] calls one mixin's hooks, each in a fresh sandbox;
//! - the host's [`MixinHost::build_hook`] and [`MixinHost::lint_hook`]
//!   answer from earlier calls with the same input when they can (memo.rs).

mod cache;
pub mod contract;
mod determinism;
pub mod http;
pub mod install;
pub mod sandbox;
mod store;
mod store_lock;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use wasmtime::component::Component;

pub use contract::{
    ActionSteps, BuildRequest, BuildResponse, ConfigProblem, LintFinding, LintLevel, LintRequest,
    MixinInfo, NeedsNewerPorter, Refusal, StepLocation,
};
pub use determinism::HOOK_WALL_CLOCK_START;
pub use install::{CheckedMixin, InstallOutcome, InstallRequest, Installation};
pub use sandbox::{
    Answer, Hook, HookError, HookErrorKind, Limits, LogMessage, LogSink, MixinLabel, MixinLogLevel,
    PreparedMixin, Sandbox,
};
pub use store::{InstalledMixin, MixinStore, RecordedSchema, Resolution, ResolveError, check_name};

use crate::home::PorterHome;
use crate::memo::{KeyBuilder, Memo, MemoKey};
use cache::PrecompiledCache;

/// Installs mixins into `PORTER_HOME` and loads them for hook calls.
pub struct MixinHost {
    store: MixinStore,
    /// The engine and its cache, made on first use: commands that only read
    /// the store (and an up-to-date build) never start wasmtime.
    runtime: OnceLock<Runtime>,
    home: PorterHome,
    limits: Limits,
    log: LogSink,
    /// Mixins loaded so far, by name and digest.
    loaded: Mutex<HashMap<(String, String), Arc<PreparedMixin>>>,
    memo: Memo,
}

/// Set by [`leave_to_process_exit`].
static LEAVE_TO_EXIT: AtomicBool = AtomicBool::new(false);

/// For a process that exits once its command is done (the `porter` command
/// line): a host dropped from then on does not free its engine and loaded
/// mixins (thousands of allocations and mappings) one by one; the process's
/// exit releases them all at once.
pub fn leave_to_process_exit() {
    LEAVE_TO_EXIT.store(true, Ordering::Relaxed);
}

impl Drop for MixinHost {
    fn drop(&mut self) {
        if LEAVE_TO_EXIT.load(Ordering::Relaxed) {
            if let Ok(loaded) = self.loaded.get_mut() {
                std::mem::forget(std::mem::take(loaded));
            }
            std::mem::forget(self.runtime.take());
        }
    }
}

struct Runtime {
    sandbox: Sandbox,
    cache: PrecompiledCache,
}

impl MixinHost {
    /// A host with the default limits, logging mixins' messages to stderr.
    pub fn new(home: &PorterHome) -> Result<Self> {
        Self::with_options(home, Limits::default(), sandbox::stderr_log_sink())
    }

    pub fn with_options(home: &PorterHome, limits: Limits, log: LogSink) -> Result<Self> {
        Ok(MixinHost {
            store: MixinStore::new(home),
            runtime: OnceLock::new(),
            home: home.clone(),
            limits,
            log,
            loaded: Mutex::new(HashMap::new()),
            memo: Memo::new(home.answers_dir()),
        })
    }

    fn runtime(&self) -> Result<&Runtime> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let sandbox = Sandbox::new(self.limits.clone(), self.log.clone())
            .context("cannot start the WebAssembly runtime")?;
        let cache = PrecompiledCache::new(self.home.precompiled_dir(), sandbox.engine());
        Ok(self.runtime.get_or_init(|| Runtime { sandbox, cache }))
    }

    pub fn store(&self) -> &MixinStore {
        &self.store
    }

    pub fn home(&self) -> &PorterHome {
        &self.home
    }

    /// The compiled form of an installed mixin, for the image to carry
    /// (the newest in the cache, made at install or by a later load).
    pub fn precompiled_file(&self, mixin: &InstalledMixin) -> Option<std::path::PathBuf> {
        cache::newest_compiled(&self.home.precompiled_dir(), mixin.sha256_hex())
    }

    /// Loads an installed mixin from its precompiled form. The mixin is only
    /// compiled when that form is missing or was made by another porter (and
    /// is then cached again), after checking the wasm against the digest
    /// recorded at install.
    ///
    /// A mixin is loaded once per host: lint and build share it (each hook
    /// call still gets a fresh instance and store).
    pub fn load(&self, mixin: &InstalledMixin) -> Result<Arc<PreparedMixin>> {
        let key = (mixin.name.clone(), mixin.digest.clone());
        if let Some(loaded) = self
            .loaded
            .lock()
            .expect("the loaded-mixins lock is never poisoned")
            .get(&key)
        {
            return Ok(loaded.clone());
        }
        let prepared = Arc::new(self.load_uncached(mixin)?);
        self.loaded
            .lock()
            .expect("the loaded-mixins lock is never poisoned")
            .insert(key, prepared.clone());
        Ok(prepared)
    }

    /// The answer of `mixin`'s build hook to `request`: remembered from an
    /// earlier call with the same input, or computed (loading the mixin only
    /// then) and remembered. The mixin's log messages are shown either way.
    /// A hook's failure is a [`HookError`] inside the error.
    pub fn build_hook(
        &self,
        mixin: &InstalledMixin,
        request: &BuildRequest,
    ) -> Result<BuildResponse> {
        let key = build_key(mixin.sha256_hex(), request);
        self.answer(mixin, &key, |prepared| prepared.build_answer(request))
    }

    /// The answer of `mixin`'s lint hook to `request`, as [`build_hook`](Self::build_hook).
    pub fn lint_hook(
        &self,
        mixin: &InstalledMixin,
        request: &LintRequest,
    ) -> Result<Vec<LintFinding>> {
        let key = lint_key(mixin.sha256_hex(), request);
        self.answer(mixin, &key, |prepared| prepared.lint_answer(request))
    }

    /// The answers remembered in this `PORTER_HOME`, for porter's own
    /// checks that are as pure as a hook (the manifest's, a step against its
    /// mixin's schema).
    pub fn memo(&self) -> &Memo {
        &self.memo
    }

    fn answer<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        mixin: &InstalledMixin,
        key: &MemoKey,
        call: impl FnOnce(&PreparedMixin) -> Result<Answer<T>, HookError>,
    ) -> Result<T> {
        let (answer, recalled) = self
            .memo
            .recall_or(key, || anyhow::Ok(call(&*self.load(mixin)?)?))?;
        // A call shows its messages as they come; a recalled one, now.
        if recalled {
            let label = label_of(mixin);
            for shown in &answer.logs {
                (self.log)(&label, shown.level, &shown.message);
            }
        }
        Ok(answer.value)
    }

    fn load_uncached(&self, mixin: &InstalledMixin) -> Result<PreparedMixin> {
        let label = label_of(mixin);
        let runtime = self.runtime()?;
        let component = match runtime
            .cache
            .load(runtime.sandbox.engine(), mixin.sha256_hex())
        {
            Some(component) => component,
            None => self.compile_installed(mixin)?,
        };
        runtime
            .sandbox
            .prepare(&component, label)
            .with_context(|| format!("cannot load mixin {} {}", mixin.name, mixin.version))
    }

    fn compile_installed(&self, mixin: &InstalledMixin) -> Result<Component> {
        let bytes = read_installed(mixin)?;
        check_unchanged(mixin, &install::sha256_digest(&bytes))?;
        let runtime = self.runtime()?;
        let component = Component::new(runtime.sandbox.engine(), &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot compile mixin {} {}", mixin.name, mixin.version))?;
        // A failed cache write only costs the next build a compile.
        let _ = runtime.cache.store(mixin.sha256_hex(), &component);
        Ok(component)
    }

    /// Compiles a `.wasm` without installing it: for tools and benchmarks
    /// that measure or inspect a mixin outside the store.
    pub fn prepare_uninstalled(&self, wasm: &[u8], label: MixinLabel) -> Result<PreparedMixin> {
        let runtime = self.runtime()?;
        let component =
            Component::new(runtime.sandbox.engine(), wasm).map_err(anyhow::Error::from)?;
        runtime.sandbox.prepare(&component, label)
    }
}

impl MixinHost {
    /// Fails unless `mixin`'s `.wasm` in the store is still the one
    /// installed (its digest is what bundle.json and porter.lock record, and
    /// the file is what a build stages into `.cnab/` and the image). The
    /// bytes are hashed once per state of the file: a verified file whose
    /// inode, size, modification and change times are the same is not read
    /// again (writing or re-permitting the file changes its change time,
    /// which no one but the kernel sets).
    pub fn verify_installed(&self, mixin: &InstalledMixin) -> Result<()> {
        let path = mixin.wasm_path();
        let meta = std::fs::metadata(&path).with_context(|| not_readable(mixin))?;
        let key = file_state_key(mixin, &meta);
        self.memo.recall_or(&key, || {
            let bytes = read_installed(mixin)?;
            check_unchanged(mixin, &install::sha256_digest(&bytes))
        })?;
        Ok(())
    }
}

/// The key of "this file, in this state, held the installed bytes".
fn file_state_key(mixin: &InstalledMixin, meta: &std::fs::Metadata) -> MemoKey {
    let key = MemoKey::builder(mixin.sha256_hex(), "verified-file")
        .field(&mixin.wasm_path().to_string_lossy())
        .field(&meta.len().to_string());
    #[cfg(unix)]
    let key = {
        use std::os::unix::fs::MetadataExt;
        [
            meta.dev(),
            meta.ino(),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.ctime() as u64,
            meta.ctime_nsec() as u64,
        ]
        .iter()
        .fold(key, |key, n| key.field(&n.to_string()))
    };
    key.finish()
}

fn not_readable(mixin: &InstalledMixin) -> String {
    format!(
        "cannot read {}: reinstall mixin {} {}",
        mixin.wasm_path().display(),
        mixin.name,
        mixin.version
    )
}

fn read_installed(mixin: &InstalledMixin) -> Result<Vec<u8>> {
    std::fs::read(mixin.wasm_path()).with_context(|| not_readable(mixin))
}

/// `digest` (of the installed file's bytes now) is the installed one.
fn check_unchanged(mixin: &InstalledMixin, digest: &str) -> Result<()> {
    if digest != mixin.digest {
        bail!(
            "mixin {name} {version} has changed since it was installed: {path} now has digest \
             {digest}, and was installed as {installed} (what bundle.json and porter.lock record). \
             Reinstall it: porter mixins install {name} --force with its source, or \
             `porter mixins install` to restore what porter.lock records",
            name = mixin.name,
            version = mixin.version,
            path = mixin.wasm_path().display(),
            installed = mixin.digest,
        );
    }
    Ok(())
}

/// Where a build hook's answer to `request` is remembered: the mixin's
/// digest and the input exactly as the mixin receives it.
fn build_key(mixin_sha256: &str, request: &BuildRequest) -> MemoKey {
    let key = MemoKey::builder(mixin_sha256, "build").field(&request.config.to_string());
    with_actions(key, &request.actions)
        .field(&request.platform)
        .finish()
}

/// Where a lint hook's answer is remembered, as [`build_key`].
fn lint_key(mixin_sha256: &str, request: &LintRequest) -> MemoKey {
    let key = MemoKey::builder(mixin_sha256, "lint").field(&request.config.to_string());
    with_actions(key, &request.actions).finish()
}

/// `key` with the actions as the mixin receives them (each step as JSON
/// text): for keys of what a mixin's input decides.
pub fn with_actions(mut key: KeyBuilder, actions: &[ActionSteps]) -> KeyBuilder {
    key = key.field(&actions.len().to_string());
    for action in actions {
        key = key
            .field(&action.action)
            .field(&action.steps.len().to_string());
        for step in &action.steps {
            key = key.field(&step.to_string());
        }
    }
    key
}

fn label_of(mixin: &InstalledMixin) -> MixinLabel {
    MixinLabel {
        name: mixin.name.clone(),
        version: mixin.version.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
    fn a_hook_key_changes_with_every_part_of_the_input() {
        let base = request(json!({"a": 1}), json!({"command": "x"}));
        let key = build_key(MIXIN, &base);
        assert_eq!(key, build_key(MIXIN, &base.clone()));

        let mut others = vec![
            build_key("cd34", &base),
            build_key(MIXIN, &request(json!({"a": 2}), json!({"command": "x"}))),
            build_key(MIXIN, &request(json!({"a": 1}), json!({"command": "y"}))),
            lint_key(
                MIXIN,
                &LintRequest {
                    config: base.config.clone(),
                    actions: base.actions.clone(),
                },
            ),
        ];
        let mut renamed = base.clone();
        renamed.actions[0].action = "upgrade".into();
        others.push(build_key(MIXIN, &renamed));
        let mut platform = base.clone();
        platform.platform = "linux/arm64".into();
        others.push(build_key(MIXIN, &platform));
        // Moving a step to the next action is a different input.
        let mut moved = base.clone();
        moved.actions.push(ActionSteps {
            action: "uninstall".into(),
            steps: vec![],
        });
        others.push(build_key(MIXIN, &moved));

        for (i, other) in others.iter().enumerate() {
            assert_ne!(&key, other, "input {i} shares the base key");
        }
    }
}
