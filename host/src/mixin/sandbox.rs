//! The sandbox mixins run in: one wasmtime engine per process, and for every
//! hook call a fresh store that grants nothing (no preopened directories, no
//! environment, no arguments, no network, no stdin), with a memory cap and an
//! epoch deadline. Whatever goes wrong inside becomes a [`HookError`] that
//! names the mixin, never a host panic or hang.
//!
//! A hook is also deterministic (determinism.rs: virtual time, seeded
//! random, canonical NaNs): with nothing else to read, its answer is a
//! function of the component and its input, which is what lets builds
//! remember answers (memo.rs) and makes Dockerfiles reproducible.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use wasmtime::component::{Component, HasSelf, Instance, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxView, WasiView};

use super::contract::v1::{self, porter::mixin::types::LogLevel};
use super::contract::v1_1::{self, porter::mixin::run_types as run_wit};
use super::contract::{
    BuildRequest, BuildResponse, CommandOutput, CommandRefusal, CommandRequest, LintFinding,
    LintRequest, MixinInfo, NeedsNewerPorter, Refusal, StepRequest, StepResponse,
};
use super::determinism::{self, VirtualTime};

/// How much a hook call may use. The defaults are generous for a hook that
/// turns a few kilobytes of config into Dockerfile lines.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory of one hook call: every memory of every core instance
    /// of the component together.
    pub memory_bytes: usize,
    /// Wall time of one `build` or `lint` call.
    pub hook_timeout: Duration,
    /// Wall time of `metadata` calls (`info`, `schema`), which must be cheap.
    pub metadata_timeout: Duration,
    /// The mixin's own time in one runtime step: the time it waits for the
    /// commands it asked the host to run does not count (they have their
    /// own timeout, the host's).
    pub run_timeout: Duration,
    /// Bytes a hook may return (Dockerfile lines, lint results, schema).
    pub output_bytes: usize,
    /// Bytes of stderr kept (panic messages go there); writing past it traps.
    pub stderr_bytes: usize,
    /// Log messages shown per call; the rest are counted, not shown.
    pub log_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            hook_timeout: Duration::from_secs(10),
            metadata_timeout: Duration::from_secs(2),
            run_timeout: Duration::from_secs(60),
            output_bytes: 4 << 20,
            stderr_bytes: 256 << 10,
            log_messages: 200,
        }
    }
}

/// How often the epoch advances: the granularity of every deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Longest log message shown; longer ones are cut.
const LOG_MESSAGE_BYTES: usize = 4 << 10;

/// The wasmtime engine, the linker of what mixins may import, and the epoch
/// ticker. One per process; cheap to share.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<HookState>,
    limits: Limits,
    log: LogSink,
}

/// Where mixins' log messages go (after the sandbox has bounded them).
pub type LogSink = Arc<dyn Fn(&MixinLabel, MixinLogLevel, &str) + Send + Sync>;

pub use super::contract::v1::porter::mixin::types::LogLevel as MixinLogLevel;

/// The default sink: stderr, debug and trace only with `PORTER_DEBUG` set.
pub fn stderr_log_sink() -> LogSink {
    let verbose = std::env::var_os("PORTER_DEBUG").is_some_and(|v| !v.is_empty() && v != "0");
    Arc::new(move |label, level, message| {
        let level = match level {
            LogLevel::Trace | LogLevel::Debug if !verbose => return,
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warning",
            LogLevel::Error => "error",
        };
        eprintln!("[{label}] {level}: {message}");
    })
}

impl Sandbox {
    pub fn new(limits: Limits, log: LogSink) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        determinism::configure(&mut config);
        // Traps are located from wasmtime's own frame-pointer walk; no
        // native unwinder ever walks mixin code, so its unwind tables would
        // only cost each load their registration with libgcc.
        config.native_unwind_info(false);
        // Threads, GC and the other proposals mixins have no use for are not
        // compiled into this wasmtime (see the workspace's feature list).
        let engine = Engine::new(&config)?;

        let mut linker = Linker::new(&engine);
        // WASI with an empty context: a Rust guest's std imports these
        // interfaces even when it never uses them; every call that would
        // reach outside (files, sockets, env) finds nothing granted.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        determinism::add_virtual_sleep(&mut linker)?;
        // The 1.1 world's imports are the 1.0 ones plus `commands`, which
        // refuses every call unless a runtime step granted it.
        v1_1::MixinWithRuntime::add_to_linker::<_, HasSelf<HookState>>(&mut linker, |state| state)?;

        spawn_epoch_ticker(&engine);
        Ok(Sandbox {
            engine,
            linker,
            limits,
            log,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Checks that `component` can be instantiated here (it imports nothing
    /// the host does not provide) and prepares it for calls. A mixin that
    /// imports a host function of a newer contract fails with
    /// [`NeedsNewerPorter`].
    pub fn prepare(
        &self,
        component: &Component,
        label: MixinLabel,
    ) -> anyhow::Result<PreparedMixin> {
        let pre = self.linker.instantiate_pre(component).map_err(|error| {
            let chain = error.chain().map(|cause| cause.to_string());
            match NeedsNewerPorter::from_link_error(chain) {
                Some(newer) => anyhow::Error::new(newer),
                None => anyhow::Error::from(error),
            }
        })?;
        let pre = v1::MixinPre::new(pre)?;
        // Present only in mixins built against 1.1 or later.
        let runtime =
            v1_1::exports::porter::mixin::runtime::GuestIndices::new(pre.instance_pre()).ok();
        Ok(PreparedMixin {
            indices: v1::MixinIndices::new(pre.instance_pre())?,
            pre,
            runtime,
            label,
            engine: self.engine.clone(),
            limits: self.limits.clone(),
            log: self.log.clone(),
        })
    }
}

/// Advances the engine's epoch every tick until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("porter-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch ticker thread");
}

/// `name version` of a mixin, as every message about it shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixinLabel {
    pub name: String,
    pub version: String,
}

impl fmt::Display for MixinLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{} {}", self.name, self.version)
        }
    }
}

/// A mixin ready to have its hooks called, each call in a fresh instance.
pub struct PreparedMixin {
    pre: v1::MixinPre<HookState>,
    indices: v1::MixinIndices,
    runtime: Option<v1_1::exports::porter::mixin::runtime::GuestIndices>,
    label: MixinLabel,
    engine: Engine,
    limits: Limits,
    log: LogSink,
}

impl PreparedMixin {
    pub fn label(&self) -> &MixinLabel {
        &self.label
    }

    pub fn info(&self) -> Result<MixinInfo, HookError> {
        let info = self
            .call(
                Hook::Info,
                |m, s| m.porter_mixin_metadata().call_info(s).map(Ok::<_, Refusal>),
                |info| {
                    info.name.len()
                        + info.version.len()
                        + info.description.len()
                        + info.author.len()
                },
            )?
            .value;
        Ok(info.into())
    }

    pub fn schema(&self) -> Result<String, HookError> {
        let schema = self
            .call(
                Hook::Schema,
                |m, s| {
                    m.porter_mixin_metadata()
                        .call_schema(s)
                        .map(Ok::<_, Refusal>)
                },
                String::len,
            )?
            .value;
        Ok(schema)
    }

    pub fn build(&self, request: &BuildRequest) -> Result<BuildResponse, HookError> {
        self.build_answer(request).map(|answer| answer.value)
    }

    /// [`build`](Self::build), with the log messages the mixin showed.
    pub fn build_answer(&self, request: &BuildRequest) -> Result<Answer<BuildResponse>, HookError> {
        let input = request.to_wit();
        let Answer {
            value: output,
            logs,
        } = self.call(
            Hook::Build,
            |m, s| m.porter_mixin_build().call_build(s, &input),
            |output| {
                output
                    .dockerfile_lines
                    .iter()
                    .chain(&output.warnings)
                    .map(String::len)
                    .sum()
            },
        )?;
        Ok(Answer {
            value: output.into(),
            logs,
        })
    }

    pub fn lint(&self, request: &LintRequest) -> Result<Vec<LintFinding>, HookError> {
        self.lint_answer(request).map(|answer| answer.value)
    }

    /// [`lint`](Self::lint), with the log messages the mixin showed.
    pub fn lint_answer(
        &self,
        request: &LintRequest,
    ) -> Result<Answer<Vec<LintFinding>>, HookError> {
        let input = request.to_wit();
        let Answer {
            value: results,
            logs,
        } = self.call(
            Hook::Lint,
            |m, s| m.porter_mixin_lint().call_lint(s, &input),
            |results| {
                results
                    .iter()
                    .map(|r| r.code.len() + r.title.len() + r.message.len() + 64)
                    .sum()
            },
        )?;
        Ok(Answer {
            value: results.into_iter().map(Into::into).collect(),
            logs,
        })
    }

    /// One hook call in a fresh store. `f` returns the hook's own
    /// `Result` (a refusal) inside wasmtime's (a crash); `size` measures an
    /// answer against the output limit (an answer too large is refused with
    /// what the mixin wrote to stderr, like any other failure).
    fn call<T, E: Into<Refusal>>(
        &self,
        hook: Hook,
        f: impl FnOnce(&v1::Mixin, &mut Store<HookState>) -> wasmtime::Result<Result<T, E>>,
        size: impl FnOnce(&T) -> usize,
    ) -> Result<Answer<T>, HookError> {
        self.call_instance(
            hook,
            None,
            |instance, store| {
                let mixin = self.indices.load(&mut *store, instance)?;
                f(&mixin, store)
            },
            size,
        )
    }

    /// Carries out one step of an action while the bundle runs: the only
    /// call in which the mixin may ask `commands` to run something.
    pub fn run_step(
        &self,
        request: &StepRequest,
        commands: Box<dyn HostCommands>,
    ) -> Result<Answer<StepResponse>, HookError> {
        let Some(runtime) = &self.runtime else {
            return Err(HookError {
                mixin: self.label.clone(),
                hook: Hook::Run,
                kind: HookErrorKind::NoRuntime,
                stderr: String::new(),
            });
        };
        let input = request.to_wit();
        let Answer { value, logs } = self.call_instance(
            Hook::Run,
            Some(commands),
            |instance, store| {
                runtime
                    .load(&mut *store, instance)?
                    .call_run_step(store, &input)
            },
            |result: &run_wit::StepResult| {
                result
                    .outputs
                    .iter()
                    .map(|o| {
                        o.name.len()
                            + match &o.value {
                                run_wit::OutputValue::Bytes(b) => b.len(),
                                run_wit::OutputValue::File(p) => p.len(),
                            }
                    })
                    .sum()
            },
        )?;
        Ok(Answer {
            value: value.into(),
            logs,
        })
    }

    /// One call in a fresh store and instance; `commands` is what the
    /// mixin's `commands` import reaches (nothing outside a runtime step).
    fn call_instance<T, E: Into<Refusal>>(
        &self,
        hook: Hook,
        commands: Option<Box<dyn HostCommands>>,
        f: impl FnOnce(&Instance, &mut Store<HookState>) -> wasmtime::Result<Result<T, E>>,
        size: impl FnOnce(&T) -> usize,
    ) -> Result<Answer<T>, HookError> {
        let timeout = match hook {
            Hook::Info | Hook::Schema => self.limits.metadata_timeout,
            Hook::Build | Hook::Lint => self.limits.hook_timeout,
            Hook::Run => self.limits.run_timeout,
        };
        let stderr = MemoryOutputPipe::new(self.limits.stderr_bytes);
        let time = VirtualTime::default();
        let state = HookState {
            wasi: determinism::wasi_context(&time)
                .stderr(stderr.clone())
                .build(),
            time,
            table: ResourceTable::new(),
            memory: MemoryCap::new(self.limits.memory_bytes),
            commands,
            waited: Duration::ZERO,
            log: LogRelay {
                label: self.label.clone(),
                sink: self.log.clone(),
                shown: Vec::new(),
                dropped: 0,
                max: self.limits.log_messages,
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        store.set_epoch_deadline(ticks(timeout));
        // The deadline counts the mixin's own time: what it waited for the
        // host's commands is given back.
        let started = Instant::now();
        store.epoch_deadline_callback(move |store| {
            let used = started.elapsed().saturating_sub(store.data().waited);
            match timeout.checked_sub(used) {
                Some(left) if !left.is_zero() => Ok(UpdateDeadline::Continue(ticks(left))),
                _ => Err(Trap::Interrupt.into()),
            }
        });

        let outcome = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .and_then(|instance| f(&instance, &mut store));
        let logs = store.data_mut().log.finish();
        let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
        let fail = |kind| HookError {
            mixin: self.label.clone(),
            hook,
            kind,
            stderr: stderr.clone(),
        };
        match outcome {
            Ok(Ok(value)) => match size(&value) {
                bytes if bytes > self.limits.output_bytes => {
                    Err(fail(HookErrorKind::OutputTooLarge {
                        bytes,
                        limit: self.limits.output_bytes,
                    }))
                }
                _ => Ok(Answer { value, logs }),
            },
            Ok(Err(refusal)) => Err(fail(HookErrorKind::Refused(refusal.into()))),
            Err(error) => Err(fail(classify(&error, timeout, &store.data().memory))),
        }
    }
}

/// A hook's answer and the log messages the mixin showed computing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer<T> {
    pub value: T,
    pub logs: Vec<LogMessage>,
}

/// One log message a mixin showed (after the sandbox bounded it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMessage {
    #[serde(with = "log_level_name")]
    pub level: LogLevel,
    pub message: String,
}

/// The level as a word, for answers kept on disk.
mod log_level_name {
    use super::LogLevel;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    const NAMES: [(LogLevel, &str); 5] = [
        (LogLevel::Trace, "trace"),
        (LogLevel::Debug, "debug"),
        (LogLevel::Info, "info"),
        (LogLevel::Warn, "warn"),
        (LogLevel::Error, "error"),
    ];

    pub fn serialize<S: Serializer>(level: &LogLevel, s: S) -> Result<S::Ok, S::Error> {
        let (_, name) = NAMES
            .iter()
            .find(|(l, _)| l == level)
            .expect("every level is named");
        s.serialize_str(name)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LogLevel, D::Error> {
        let name = String::deserialize(d)?;
        NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(l, _)| *l)
            .ok_or_else(|| D::Error::custom(format!("unknown log level {name}")))
    }
}

fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}

/// Turns a wasmtime error (a trap, an exit, a denied memory grow...) into
/// what the user is told.
fn classify(error: &wasmtime::Error, timeout: Duration, memory: &MemoryCap) -> HookErrorKind {
    if memory.hit {
        return HookErrorKind::OutOfMemory {
            limit: memory.limit,
        };
    }
    if let Some(limit) = error
        .chain()
        .map(|cause| cause.to_string())
        .find(|m| m.starts_with("resource limit exceeded"))
    {
        return HookErrorKind::Crashed {
            reason: format!(
                "{limit}: a mixin may have at most {MAX_INSTANCES} core instances, \
                 {MAX_MEMORIES} memories and {MAX_TABLES} tables"
            ),
        };
    }
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return HookErrorKind::Exited { status: exit.0 };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => HookErrorKind::TimedOut { limit: timeout },
        Some(Trap::StackOverflow) => HookErrorKind::Crashed {
            reason: "stack overflow".into(),
        },
        Some(Trap::UnreachableCodeReached) => HookErrorKind::Crashed {
            reason: "it panicked or aborted (wasm `unreachable` executed)".into(),
        },
        Some(trap) => HookErrorKind::Crashed {
            reason: trap.to_string(),
        },
        None => HookErrorKind::Crashed {
            reason: format!("{error:#}"),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Info,
    Schema,
    Build,
    Lint,
    Run,
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hook::Info => "metadata.info",
            Hook::Schema => "metadata.schema",
            Hook::Build => "build",
            Hook::Lint => "lint",
            Hook::Run => "runtime",
        })
    }
}

/// A hook call that did not produce an answer.
#[derive(Debug, Clone)]
pub struct HookError {
    pub mixin: MixinLabel,
    pub hook: Hook,
    pub kind: HookErrorKind,
    /// What the mixin wrote to stderr (a panic's message goes there).
    pub stderr: String,
}

#[derive(Debug, Clone)]
pub enum HookErrorKind {
    /// The mixin answered with an error of its own.
    Refused(Refusal),
    TimedOut {
        limit: Duration,
    },
    OutOfMemory {
        limit: usize,
    },
    OutputTooLarge {
        bytes: usize,
        limit: usize,
    },
    Exited {
        status: i32,
    },
    Crashed {
        reason: String,
    },
    /// Asked to run a step, a mixin built before the runtime existed.
    NoRuntime,
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mixin, hook) = (&self.mixin, self.hook);
        match &self.kind {
            HookErrorKind::Refused(refusal) => write!(f, "mixin {mixin} ({hook}): {refusal}")?,
            HookErrorKind::TimedOut { limit } => write!(
                f,
                "mixin {mixin} ({hook}) did not finish within {:.1}s and was stopped",
                limit.as_secs_f64()
            )?,
            HookErrorKind::OutOfMemory { limit } => write!(
                f,
                "mixin {mixin} ({hook}) tried to use more than {} MiB of memory and was stopped",
                limit >> 20
            )?,
            HookErrorKind::OutputTooLarge { bytes, limit } => write!(
                f,
                "mixin {mixin} ({hook}) returned {bytes} bytes, more than the {limit} bytes a hook may return"
            )?,
            HookErrorKind::Exited { status } => write!(
                f,
                "mixin {mixin} ({hook}) exited with status {status} instead of returning"
            )?,
            HookErrorKind::Crashed { reason } => {
                write!(f, "mixin {mixin} ({hook}) crashed: {reason}")?
            }
            HookErrorKind::NoRuntime => write!(
                f,
                "mixin {mixin} has no runtime: it implements porter:mixin@1.0, from before \
                 mixins could run steps (1.1). It still builds bundles; to run this step, \
                 install a release of the mixin built for porter:mixin@1.1 or later"
            )?,
        }
        let stderr = self.stderr.trim_end();
        if !stderr.is_empty() {
            write!(f, "\nmixin stderr:\n{}", indent(stderr))?;
        }
        Ok(())
    }
}

impl std::error::Error for HookError {}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Per-call state: the (empty) WASI context, the memory cap and the log.
pub(crate) struct HookState {
    wasi: WasiCtx,
    time: VirtualTime,
    table: ResourceTable,
    memory: MemoryCap,
    log: LogRelay,
    /// What `commands` reaches: `None` except in a runtime step.
    commands: Option<Box<dyn HostCommands>>,
    /// Time spent in the host's commands, not counted against the deadline.
    waited: Duration,
}

/// The host's side of the `commands` import while a step runs: porter's
/// runtime implements it with real processes (runtime/process.rs).
pub trait HostCommands: Send {
    fn run(&mut self, command: CommandRequest) -> Result<CommandOutput, CommandRefusal>;
    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), CommandRefusal>;
}

/// Why `commands` refuses outside a runtime step.
const NOT_AT_BUILD_TIME: &str = "mixins may run commands and write files only while the bundle runs \
     (porter's runtime in the invocation image), never while it is built or linted";

impl determinism::HasVirtualTime for HookState {
    fn time_and_table(&mut self) -> (&VirtualTime, &mut ResourceTable) {
        (&self.time, &mut self.table)
    }
}

impl WasiView for HookState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Core instances, memories and tables one hook call may create. A Rust
/// wasm32-wasip2 mixin has 3 core instances (its code and two of
/// wit-component's shims), 1 memory and 2 tables; the margin leaves room for
/// other toolchains (a WASI adapter, a runtime split in several modules).
pub const MAX_INSTANCES: usize = 12;
pub const MAX_MEMORIES: usize = 4;
pub const MAX_TABLES: usize = 8;
/// Table elements across every table of a call (a pointer or two each).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Caps the linear memory of a whole hook call, every memory of every core
/// instance together, and remembers that it did, so the error can say
/// "memory" rather than whatever the guest did after a failed allocation.
///
/// wasmtime asks before each memory is created (growing from 0) and before
/// each grows; the cap counts what it allowed. A growth allowed here that
/// the system then refuses still counts: the call is failing anyway.
#[derive(Debug, Clone)]
struct MemoryCap {
    limit: usize,
    /// Bytes of linear memory allowed so far, across every memory.
    used: usize,
    /// Table elements allowed so far, across every table.
    table_elements: usize,
    hit: bool,
}

impl MemoryCap {
    fn new(limit: usize) -> Self {
        MemoryCap {
            limit,
            used: 0,
            table_elements: 0,
            hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_add(desired.saturating_sub(current));
        if total > self.limit {
            self.hit = true;
            wasmtime::bail!(
                "memory cap of {} bytes reached (all memories together)",
                self.limit
            );
        }
        self.used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .table_elements
            .saturating_add(desired.saturating_sub(current));
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_elements = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Passes a mixin's log messages to the sink, bounded in count and length,
/// and keeps what it showed (a remembered answer shows it again).
struct LogRelay {
    label: MixinLabel,
    sink: LogSink,
    shown: Vec<LogMessage>,
    dropped: usize,
    max: usize,
}

impl LogRelay {
    fn show(&mut self, level: LogLevel, message: String) {
        (self.sink)(&self.label, level, &message);
        self.shown.push(LogMessage { level, message });
    }

    /// Everything shown during the call, ending with how many were not.
    fn finish(&mut self) -> Vec<LogMessage> {
        if self.dropped > 0 {
            let note = format!("{} more log messages were not shown", self.dropped);
            self.show(LogLevel::Warn, note);
            self.dropped = 0;
        }
        std::mem::take(&mut self.shown)
    }
}

impl v1::porter::mixin::types::Host for HookState {}

impl v1_1::porter::mixin::run_types::Host for HookState {}

impl v1_1::porter::mixin::commands::Host for HookState {
    fn run(
        &mut self,
        command: run_wit::Command,
    ) -> Result<run_wit::CommandOutput, run_wit::CommandError> {
        let Some(commands) = self.commands.as_mut() else {
            return Err(CommandRefusal::NotAllowed(NOT_AT_BUILD_TIME.into()).into());
        };
        let started = Instant::now();
        let result = commands.run(command.into());
        self.waited += started.elapsed();
        result.map(Into::into).map_err(Into::into)
    }

    fn write_file(&mut self, path: String, contents: Vec<u8>) -> Result<(), run_wit::CommandError> {
        let Some(commands) = self.commands.as_mut() else {
            return Err(CommandRefusal::NotAllowed(NOT_AT_BUILD_TIME.into()).into());
        };
        let started = Instant::now();
        let result = commands.write_file(&path, &contents);
        self.waited += started.elapsed();
        result.map_err(Into::into)
    }
}

impl v1::porter::mixin::host::Host for HookState {
    fn log(&mut self, level: LogLevel, mut message: String) {
        let relay = &mut self.log;
        if relay.shown.len() >= relay.max {
            relay.dropped += 1;
            return;
        }
        if message.len() > LOG_MESSAGE_BYTES {
            let cut = (0..=LOG_MESSAGE_BYTES)
                .rev()
                .find(|&i| message.is_char_boundary(i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push_str("… (cut)");
        }
        relay.show(level, message);
    }
}
