//! Write a [Porter](https://porter.sh) mixin in Rust.
//!
//! A mixin is a WebAssembly component that Porter loads while it builds a
//! bundle. Porter asks it for the Dockerfile lines the bundle's invocation
//! image needs ([`Mixin::build`]) and for lint results on the steps that use
//! it ([`Mixin::lint`]). The mixin runs sandboxed: it gets no files, no
//! network, no environment and a bounded amount of time and memory, and
//! everything it needs arrives as typed input.
//!
//! A hook is a function of its input: its clocks read a fixed time and its
//! random numbers (and so `HashMap` order) are the same on every call. Porter
//! remembers each answer and does not call the mixin again for the same
//! input, so a hook must not count on running every build.
//!
//! You implement [`Mixin`] and call [`export_mixin!`] once. You never touch
//! wit-bindgen or the WIT contract yourself.
//!
//! The SDK re-exports the `serde` and `serde_json` it is built with: use
//! `mixin_sdk::serde` and `mixin_sdk::serde_json` rather than depending on
//! them yourself, and your types always match the SDK's traits. serde's
//! derive needs to be told where serde is: add
//! `#[serde(crate = "mixin_sdk::serde")]` beside `#[derive(Deserialize)]`.
//!
//! # Example
//!
//! A mixin that installs a Debian package named in its config, and warns
//! about steps without a description:
//!
//! ```no_run
//! use mixin_sdk::serde::Deserialize;
//! use mixin_sdk::{
//!     BuildInput, BuildOutput, LintInput, LintResult, Mixin, MixinError, MixinInfo,
//!     StepLocation,
//! };
//!
//! #[derive(Deserialize, Default)]
//! #[serde(crate = "mixin_sdk::serde", default, deny_unknown_fields)]
//! struct Config {
//!     packages: Vec<String>,
//! }
//!
//! #[derive(Deserialize)]
//! #[serde(crate = "mixin_sdk::serde", deny_unknown_fields)]
//! struct Step {
//!     description: Option<String>,
//!     command: String,
//! }
//!
//! struct Apt;
//!
//! impl Mixin for Apt {
//!     type Config = Config;
//!     type Step = Step;
//!
//!     fn info() -> MixinInfo {
//!         MixinInfo::new("apt", env!("CARGO_PKG_VERSION"))
//!             .description("Installs Debian packages into the invocation image")
//!             .author("Example Authors")
//!     }
//!
//!     fn build(input: BuildInput<Config, Step>) -> Result<BuildOutput, MixinError> {
//!         if input.config.packages.is_empty() {
//!             return Err(MixinError::invalid_config("/packages", "name at least one package"));
//!         }
//!         mixin_sdk::log::debug(&format!("installing {:?}", input.config.packages));
//!         let mut out = BuildOutput::new();
//!         out.apt_install(&input.config.packages);
//!         Ok(out)
//!     }
//!
//!     fn lint(input: LintInput<Config, Step>) -> Result<Vec<LintResult>, MixinError> {
//!         let mut results = Vec::new();
//!         for action in &input.actions {
//!             for (index, step) in action.steps.iter().enumerate() {
//!                 if step.description.is_none() {
//!                     let at = StepLocation::new(&action.name, index);
//!                     results.push(
//!                         LintResult::warning("apt-100", "Step has no description", at)
//!                             .message("Add a description: it is shown while the bundle runs."),
//!                     );
//!                 }
//!             }
//!         }
//!         Ok(results)
//!     }
//! }
//!
//! mixin_sdk::export_mixin!(Apt);
//! ```
//!
//! Build it as a component (no adapter, no extra tool):
//!
//! ```text
//! rustup target add wasm32-wasip2
//! cargo build --release --target wasm32-wasip2      # crate-type = ["cdylib"]
//! porter mixins install apt --file target/wasm32-wasip2/release/apt.wasm
//! ```
//!
//! # Running steps (the runtime)
//!
//! While the bundle runs in its invocation image, porter gives
//! [`Mixin::run`] one step of the action, templates rendered. A component
//! cannot start processes: it asks porter with [`Command::run`], which
//! returns the exit code and what the command wrote (porter streams the
//! output to the user, masked). [`steps`] is Porter's step engine
//! (arguments, flags, `ignoreError`, outputs by jsonPath, regex and path):
//!
//! ```no_run
//! # use mixin_sdk::{Mixin, MixinError, MixinInfo, NoConfig, RunInput, StepOutputs};
//! # struct Exec;
//! # impl Mixin for Exec {
//! #     type Config = NoConfig;
//! type Step = mixin_sdk::steps::ExecStep;
//! #     fn info() -> MixinInfo { MixinInfo::new("exec", "1.0.0") }
//!
//! fn run(input: RunInput<NoConfig, Self::Step>) -> Result<StepOutputs, MixinError> {
//!     let outputs = mixin_sdk::steps::run_step(&input.step, &mut |command| {
//!         command.run().map_err(|e| e.to_string())
//!     })?;
//!     Ok(outputs)
//! }
//! # }
//! ```
//!
//! Commands are refused at build and lint time. Outside WebAssembly (your
//! own `cargo test`), [`Command::run`] starts the process itself.
//!
//! # What the sandbox means for you
//!
//! - `std::fs`, `std::net` and `std::env` fail: pass what you need through
//!   porter.yaml (`config`, steps) instead.
//! - A panic becomes an error that names your mixin and shows the panic
//!   message; so does running past the deadline or the memory cap.
//! - Use [`log`] rather than `println!` to tell the user something. In a
//!   native `cargo test` of your hooks, log messages go to stderr.

pub mod command;
mod error;
mod glue;
mod input;
mod lint;
pub mod log;
mod output;
pub mod runtime;
pub mod steps;

pub use command::{Command, CommandOutput, OutputValue, StepOutputs};
pub use error::{ConfigProblem, MixinError};
pub use input::{Action, BuildInput, LintInput, NoConfig};
pub use lint::{LintLevel, LintResult, StepLocation};
pub use output::BuildOutput;
pub use runtime::RunInput;

/// The serde the SDK's traits use: derive with
/// `#[serde(crate = "mixin_sdk::serde")]`.
pub use serde;
/// The serde_json the SDK is built with (for `Value` steps and configs).
pub use serde_json;

/// The generated bindings of the `porter:mixin` contract. Not part of the
/// SDK's API: [`export_mixin!`] uses them.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "mixin-with-runtime",
        pub_export_macro: true,
        export_macro_name: "export_world",
        default_bindings_module: "mixin_sdk::bindings",
    });
}

#[doc(hidden)]
pub mod __private {
    pub use crate::glue::{build, info, lint, run, schema};
}

/// The version of the `porter:mixin` contract this SDK builds against: the
/// `package` line of the WIT it is generated from.
pub const CONTRACT_VERSION: &str = package_version(include_str!("../../wit/mixin.wit"));

/// `X.Y.Z` of the line `package porter:mixin@X.Y.Z;` (at compile time).
const fn package_version(wit: &str) -> &str {
    const PREFIX: &[u8] = b"\npackage porter:mixin@";
    let bytes = wit.as_bytes();
    let mut start = 0;
    while start + PREFIX.len() <= bytes.len() {
        let mut matched = 0;
        while matched < PREFIX.len() && bytes[start + matched] == PREFIX[matched] {
            matched += 1;
        }
        if matched == PREFIX.len() {
            let (_, rest) = bytes.split_at(start + PREFIX.len());
            let mut end = 0;
            while end < rest.len() && rest[end] != b';' {
                end += 1;
            }
            let (version, _) = rest.split_at(end);
            match core::str::from_utf8(version) {
                Ok(version) => return version,
                Err(_) => panic!("wit/mixin.wit's package line is not UTF-8"),
            }
        }
        start += 1;
    }
    panic!("wit/mixin.wit has no `package porter:mixin@X.Y.Z;` line")
}

/// Who a mixin is: returned by [`Mixin::info`], recorded by Porter at install
/// time and in every bundle built with the mixin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixinInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub homepage: Option<String>,
    pub license: Option<String>,
}

impl MixinInfo {
    /// `name` is what bundle authors write under `mixins:`; `version` is the
    /// mixin's semver release, usually `env!("CARGO_PKG_VERSION")`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        MixinInfo {
            name: name.into(),
            version: version.into(),
            description: String::new(),
            author: String::new(),
            homepage: None,
            license: None,
        }
    }

    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.author = author.into();
        self
    }

    pub fn homepage(mut self, homepage: impl Into<String>) -> Self {
        self.homepage = Some(homepage.into());
        self
    }

    pub fn license(mut self, license: impl Into<String>) -> Self {
        self.license = Some(license.into());
        self
    }
}

/// A Porter mixin. Implement it on a unit struct and pass that struct to
/// [`export_mixin!`].
///
/// Every hook is a plain function of its input: the host may call hooks in
/// any order, each in a fresh instance, so keep no state between calls.
pub trait Mixin {
    /// The mixin's `config` block in porter.yaml. Use [`NoConfig`] when the
    /// mixin takes none; a mixin declared by name only gets `null`, which is
    /// read as an empty mapping when `Config` cannot be read from `null`.
    type Config: serde::de::DeserializeOwned;

    /// One step's body: the mapping under the mixin's name in an action.
    /// Use [`serde_json::Value`] to take steps untyped.
    type Step: serde::de::DeserializeOwned;

    /// Name, version, description and author of the mixin.
    fn info() -> MixinInfo;

    /// The JSON Schema (draft-07) of the mixin's steps and config, in the
    /// shape of Porter's mixin `schema` command. The default accepts any
    /// mapping under the mixin's name; editors and `porter schema` show
    /// better help with a real one, usually `include_str!("schema.json")`.
    fn schema() -> String {
        glue::permissive_schema(&Self::info().name)
    }

    /// The Dockerfile lines the invocation image needs for this mixin. The
    /// default adds nothing.
    fn build(input: BuildInput<Self::Config, Self::Step>) -> Result<BuildOutput, MixinError> {
        let _ = input;
        Ok(BuildOutput::new())
    }

    /// Checks on the steps that use this mixin. The default finds nothing.
    fn lint(input: LintInput<Self::Config, Self::Step>) -> Result<Vec<LintResult>, MixinError> {
        let _ = input;
        Ok(Vec::new())
    }

    /// Carries out one step while the bundle runs in its invocation image
    /// (templates already rendered), by asking the host to run commands
    /// ([`command::Command::run`]); returns the step's outputs. [`steps`]
    /// is Porter's step engine (command, arguments, flags, outputs,
    /// `ignoreError`) for mixins that wrap a command-line tool. The default
    /// says the mixin has no runtime.
    fn run(input: RunInput<Self::Config, Self::Step>) -> Result<command::StepOutputs, MixinError> {
        let _ = input;
        Err(MixinError::Unsupported(format!(
            "the {} mixin has no runtime: it cannot run steps",
            Self::info().name
        )))
    }
}

/// Exports a [`Mixin`] implementation as the component's `porter:mixin`
/// world. Call it once per crate, at the top level:
///
/// ```text
/// mixin_sdk::export_mixin!(MyMixin);
/// ```
///
/// The crate's example shows it in a complete mixin.
#[macro_export]
macro_rules! export_mixin {
    ($mixin:ty) => {
        const _: () = {
            struct PorterMixinExport;

            impl $crate::bindings::exports::porter::mixin::metadata::Guest for PorterMixinExport {
                fn info() -> $crate::bindings::porter::mixin::types::MixinInfo {
                    $crate::__private::info::<$mixin>()
                }
                fn schema() -> ::std::string::String {
                    $crate::__private::schema::<$mixin>()
                }
            }

            impl $crate::bindings::exports::porter::mixin::build::Guest for PorterMixinExport {
                fn build(
                    input: $crate::bindings::porter::mixin::types::BuildInput,
                ) -> ::std::result::Result<
                    $crate::bindings::porter::mixin::types::BuildOutput,
                    $crate::bindings::porter::mixin::types::MixinError,
                > {
                    $crate::__private::build::<$mixin>(input)
                }
            }

            impl $crate::bindings::exports::porter::mixin::lint::Guest for PorterMixinExport {
                fn lint(
                    input: $crate::bindings::porter::mixin::types::LintInput,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::porter::mixin::types::LintResult>,
                    $crate::bindings::porter::mixin::types::MixinError,
                > {
                    $crate::__private::lint::<$mixin>(input)
                }
            }

            impl $crate::bindings::exports::porter::mixin::runtime::Guest for PorterMixinExport {
                fn run_step(
                    input: $crate::bindings::porter::mixin::run_types::StepInput,
                ) -> ::std::result::Result<
                    $crate::bindings::porter::mixin::run_types::StepResult,
                    $crate::bindings::porter::mixin::types::MixinError,
                > {
                    $crate::__private::run::<$mixin>(input)
                }
            }

            // Only a wasm build exports the world: a native build of the
            // crate (for its unit tests) cannot carry the contract's export
            // names (`porter:mixin/build@1.0.0#build`) as symbols.
            #[cfg(target_family = "wasm")]
    $crate::bindings::export_world!(PorterMixinExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod contract_version_tests {
    #[test]
    fn the_contract_version_is_read_from_the_wit_package_line() {
        let parts: Vec<&str> = super::CONTRACT_VERSION.split('.').collect();
        assert_eq!(parts.len(), 3, "{}", super::CONTRACT_VERSION);
        assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()));
        assert!(include_str!("../../wit/mixin.wit").contains(&format!(
            "\npackage porter:mixin@{};",
            super::CONTRACT_VERSION
        )));
    }
}
