//! Porter's runtime: what `/cnab/app/run` starts inside the invocation
//! image (`porter run`). It reads the action and the bundle's inputs as the
//! CNAB runtime injected them (inputs.rs), renders each step's templates
//! (variables.rs), has the step's mixin carry it out in the sandbox (the
//! mixin asks this host to run commands: process.rs), keeps each step's
//! outputs for later steps, and writes the bundle's outputs that apply to
//! the action to `/cnab/app/outputs`. Sensitive values are masked in
//! everything it prints (mask.rs).
//!
//! Entry point: [`run`].

pub mod inputs;
pub mod mask;
pub mod process;
pub mod state;
pub mod variables;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde_json::Value;
use wasmtime::component::Component;

use crate::manifest::template::{self, Delimiters};
use crate::manifest::{self, LoadOptions, Manifest};
use crate::mixin::contract::{StepOutputValue, StepRequest};
use crate::mixin::sandbox::{
    LogSink, MixinLabel, MixinLogLevel, PreparedMixin, Sandbox, stderr_log_sink,
};

use inputs::Environment;
use mask::Masker;
use process::Processes;
use variables::Variables;

/// Where a run finds what it needs: in the image, the CNAB layout.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub manifest: PathBuf,
    pub bundle_json: PathBuf,
    /// The bundle directory: commands run here, relative paths resolve here.
    pub app_dir: PathBuf,
    pub outputs_dir: PathBuf,
    /// `<name>.wasm` of each mixin the bundle declares.
    pub mixins_dir: PathBuf,
    pub action: String,
    pub installation: String,
    pub namespace: String,
    /// How long one command may run.
    pub command_timeout: Duration,
    /// A mixin's own time in one step (not counting its commands).
    pub mixin_timeout: Duration,
}

/// Why a run failed; its message is already masked.
#[derive(Debug)]
pub struct RunFailed(pub String);

impl std::fmt::Display for RunFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunFailed {}

/// Runs `options.action`. Returns the names of the outputs written.
pub fn run(options: &RunOptions, env: &dyn Environment) -> Result<Vec<String>, RunFailed> {
    // Porter's `porter run`: checked at build, so no schemaVersion check and
    // persistent parameters on, whatever the image's environment says.
    let loaded = manifest::load_file_with_options(&options.manifest, &LoadOptions::runtime())
        .map_err(|e| RunFailed(format!("{e}")))?;
    let manifest = &loaded.manifest;
    let bundle_text = std::fs::read(&options.bundle_json).map_err(|e| {
        RunFailed(format!(
            "cannot read {}: {e}; the CNAB runtime mounts the bundle there",
            options.bundle_json.display()
        ))
    })?;
    let bundle: Value = serde_json::from_slice(&bundle_text).map_err(|e| {
        RunFailed(format!(
            "{} is not JSON: {e}",
            options.bundle_json.display()
        ))
    })?;

    let action = options.action.as_str();
    if action.is_empty() {
        return Err(RunFailed(
            "no action: CNAB_ACTION is not set (install, upgrade, uninstall or a custom action)"
                .into(),
        ));
    }
    let Some(steps) = manifest.actions.iter().find(|a| a.name == action) else {
        if action == "upgrade" {
            // CNAB: an image must not fail an unimplemented built-in action.
            eprintln!("The bundle defines no upgrade steps: nothing to do.");
            return Ok(Vec::new());
        }
        let names: Vec<&str> = manifest.actions.iter().map(|a| a.name.as_str()).collect();
        return Err(RunFailed(format!(
            "the bundle has no action {action:?}; its actions are: {}",
            names.join(", ")
        )));
    };

    let inputs = inputs::resolve(&bundle, action, env).map_err(|missing| {
        let lines: Vec<String> = missing.iter().map(|m| format!("  {m}")).collect();
        RunFailed(format!(
            "cannot run {action}: nothing was run\n{}",
            lines.join("\n")
        ))
    })?;
    let mut masker = Masker::default();
    for secret in &inputs.sensitive {
        masker.add(secret);
    }
    // `porter-debug` (PORTER_DEBUG): each rendered step and command line
    // is shown, masked.
    let debug = inputs
        .parameters
        .get("porter-debug")
        .is_some_and(|v| v == true || v == "true" || v == "1");
    // Porter's rule: a step's output is masked unless it is a bundle
    // output that is not sensitive.
    let shown_outputs: BTreeSet<&str> = manifest
        .outputs
        .iter()
        .filter(|o| !o.sensitive)
        .map(|o| o.name.as_str())
        .collect();

    std::fs::create_dir_all(&options.outputs_dir).map_err(|e| {
        RunFailed(format!(
            "cannot create {}: {e}",
            options.outputs_dir.display()
        ))
    })?;
    if let Some(archive) = inputs.files.get(STATE) {
        let restored = state::restore(archive, &manifest.state, &options.app_dir)
            .map_err(|e| RunFailed(format!("cannot restore the bundle's state: {e:#}")))?;
        if debug && !restored.is_empty() {
            eprintln!("Restored state: {}", restored.join(", "));
        }
    }

    let masker_shared = Arc::new(std::sync::RwLock::new(masker));
    let sink = masked_log_sink(masker_shared.clone());
    let limits = crate::mixin::sandbox::Limits {
        run_timeout: options.mixin_timeout,
        ..Default::default()
    };
    let sandbox = Sandbox::new(limits, sink)
        .map_err(|e| RunFailed(format!("cannot start the mixin sandbox: {e:#}")))?;
    let mut mixins: HashMap<String, PreparedMixin> = HashMap::new();
    let delimiters = Delimiters::for_schema_version(&manifest.schema_version);
    let env_lookup = |name: &str| env.var(name);
    let mut outputs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let total = steps.steps.len();
    let mut failure = None;

    for (index, step) in steps.steps.iter().enumerate() {
        let masker = masker_shared.read().expect("not poisoned").clone();
        let name = step_name(
            action,
            index,
            total,
            step.description.as_deref(),
            &step.mixin,
        );
        eprintln!("{name}");
        let result = (|| -> Result<BTreeMap<String, Vec<u8>>, String> {
            let vars = Variables {
                bundle: &bundle,
                images: &manifest.images,
                inputs: &inputs,
                outputs: &outputs,
                installation: &options.installation,
                namespace: &options.namespace,
                env: &env_lookup,
            };
            let lookup = |variable: &str| vars.lookup(variable);
            let rendered = template::render_value(&step.body, delimiters, &lookup)
                .map_err(|e| format!("its template cannot be rendered: {e}"))?;
            if debug {
                eprintln!("{}", masker.mask(&format!("step: {rendered}")));
            }
            let mixin = match mixins.get(&step.mixin) {
                Some(m) => m,
                None => {
                    let loaded = load_mixin(&sandbox, &options.mixins_dir, &step.mixin, &bundle)
                        .map_err(|e| format!("{e:#}"))?;
                    mixins.entry(step.mixin.clone()).or_insert(loaded)
                }
            };
            let config = config_of(manifest, &step.mixin);
            let request = StepRequest {
                action: action.to_string(),
                config,
                step: rendered.clone(),
            };
            let processes = Processes {
                app_dir: options.app_dir.clone(),
                masker: Arc::new(masker.clone()),
                timeout: options.command_timeout,
                debug,
            };
            let answer = mixin
                .run_step(&request, Box::new(processes))
                .map_err(|e| e.to_string())?;
            let named = named_paths(&rendered);
            let mut produced = BTreeMap::new();
            for (output, value) in answer.value.outputs {
                let bytes = match value {
                    StepOutputValue::Bytes(bytes) => bytes,
                    StepOutputValue::File(path) => {
                        read_named_file(&options.app_dir, &path, &named)?
                    }
                };
                produced.insert(output, bytes);
            }
            Ok(produced)
        })();
        match result {
            Ok(produced) => {
                let mut masker = masker_shared.write().expect("not poisoned");
                for (output, bytes) in &produced {
                    if !shown_outputs.contains(output.as_str()) {
                        masker.add(&String::from_utf8_lossy(bytes));
                    }
                }
                outputs.extend(produced);
            }
            Err(message) => {
                failure = Some(format!("{name} failed: {}", masker.mask(&message)));
                break;
            }
        }
    }

    // The outputs of the steps that ran, and the state, are written even
    // when a later step failed: they describe what the action did.
    let mut written = write_outputs(manifest, action, &outputs, options)
        .map_err(|e| RunFailed(format!("{e:#}")))?;
    let archive = state::save(&manifest.state, &options.app_dir)
        .map_err(|e| RunFailed(format!("cannot save the bundle's state: {e:#}")))?;
    std::fs::write(options.outputs_dir.join(STATE), archive)
        .map_err(|e| RunFailed(format!("cannot save the bundle's state: {e}")))?;
    written.push(STATE.to_string());
    match failure {
        Some(message) => Err(RunFailed(message)),
        None => Ok(written),
    }
}

/// The parameter that brings the previous run's state, and the output
/// that takes this run's.
const STATE: &str = "porter-state";

/// `install step 1/2 (Greet the world, exec)`: how messages name a step.
fn step_name(
    action: &str,
    index: usize,
    total: usize,
    description: Option<&str>,
    mixin: &str,
) -> String {
    match description.filter(|d| !d.is_empty()) {
        Some(d) => format!("{action} step {}/{total} ({d:?}, {mixin})", index + 1),
        None => format!("{action} step {}/{total} ({mixin})", index + 1),
    }
}

fn masked_log_sink(masker: Arc<std::sync::RwLock<Masker>>) -> LogSink {
    let inner = stderr_log_sink();
    Arc::new(
        move |label: &MixinLabel, level: MixinLogLevel, message: &str| {
            let masked = masker.read().map(|m| m.mask(message)).unwrap_or_default();
            inner(label, level, &masked)
        },
    )
}

/// The mixin's config block, `null` when declared by name only.
fn config_of(manifest: &Manifest, mixin: &str) -> Value {
    manifest
        .mixins
        .iter()
        .find(|m| m.name == mixin)
        .and_then(|m| m.config.clone())
        .unwrap_or(Value::Null)
}

/// Loads a mixin the image carries: its compiled form `<name>.cwasm`,
/// which the build staged from porter's cache, or, when there is none or
/// this runtime cannot load it (another platform, another porter), its
/// `<name>.wasm`, compiled now, saying so. Labelled with the version
/// bundle.json records.
fn load_mixin(sandbox: &Sandbox, dir: &Path, name: &str, bundle: &Value) -> Result<PreparedMixin> {
    let compiled = dir.join(format!("{name}.cwasm"));
    // SAFETY: the compiled form is part of the image this runtime runs in,
    // written by the porter that built it from the wasm beside it; wasmtime
    // checks it was made by a compatible engine for this platform.
    let loaded = compiled
        .is_file()
        .then(|| unsafe { Component::deserialize_file(sandbox.engine(), &compiled) });
    let component = match loaded {
        Some(Ok(component)) => component,
        other => {
            let path = dir.join(format!("{name}.wasm"));
            let started = std::time::Instant::now();
            let component = Component::from_file(sandbox.engine(), &path).map_err(|e| {
                anyhow!(
                    "cannot load the {name} mixin from {}: {e:#}",
                    path.display()
                )
            })?;
            let why = match other {
                Some(Err(e)) => format!(
                    "the compiled form in the image is for another platform or porter ({})",
                    crate::error_text::one_line(e.as_ref())
                ),
                _ => "the image carries no compiled form of it".to_string(),
            };
            eprintln!(
                "note: compiled the {name} mixin for this platform in {} ms: {why}. \
                 Build the bundle with a porter runtime for the image's platform to skip this.",
                started.elapsed().as_millis()
            );
            component
        }
    };
    let version = bundle["custom"]["sh.porter"]["mixins"][name]["version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    sandbox
        .prepare(
            &component,
            MixinLabel {
                name: name.to_string(),
                version,
            },
        )
        .map_err(|e| anyhow!("cannot load the {name} mixin: {e:#}"))
}

/// Every string in a rendered step: the paths a step names.
fn named_paths(step: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::String(s) => {
                found.insert(s.clone());
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, found)),
            Value::Object(map) => map.values().for_each(|i| walk(i, found)),
            _ => {}
        }
    }
    walk(step, &mut found);
    found
}

/// A `file` output: read only when the step names that path.
fn read_named_file(
    app_dir: &Path,
    path: &str,
    named: &BTreeSet<String>,
) -> Result<Vec<u8>, String> {
    if !named.contains(path) {
        return Err(format!(
            "its mixin asked porter to read {path}, which the step does not name; \
             a mixin may read only the files a step names as outputs"
        ));
    }
    let full = app_dir.join(path);
    std::fs::read(&full).map_err(|e| format!("output file {}: {e}", full.display()))
}

/// Writes each bundle output that applies to `action` and has a value: a
/// step's output of the same name, or the file at the output's `path`.
fn write_outputs(
    manifest: &Manifest,
    action: &str,
    outputs: &BTreeMap<String, Vec<u8>>,
    options: &RunOptions,
) -> Result<Vec<String>> {
    let mut written = Vec::new();
    for output in &manifest.outputs {
        if !output.apply_to.is_empty() && !output.apply_to.iter().any(|a| a == action) {
            continue;
        }
        let value = match (outputs.get(&output.name), &output.path) {
            (Some(bytes), _) => Some(bytes.clone()),
            (None, Some(path)) => std::fs::read(options.app_dir.join(path)).ok(),
            (None, None) => None,
        };
        if let Some(bytes) = value {
            let target = options.outputs_dir.join(&output.name);
            std::fs::write(&target, bytes)
                .with_context(|| format!("cannot write {}", target.display()))?;
            written.push(output.name.clone());
        }
    }
    Ok(written)
}
