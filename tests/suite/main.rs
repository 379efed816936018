//! porter's end-to-end tests, one test binary (so wasmtime and the porter
//! library are linked once, not once per area), one module per area. Most
//! drive the real `porter` binary with the real components `cargo xtask
//! test` builds; `image_build` needs a Docker engine.

mod build_cli;
mod cnab_bundle;
mod dependencies_v2;
mod dockerfile_generation;
mod exec_mixin;
mod experimental;
mod file_sources;
mod image_build;
mod lint_cli;
mod lock;
mod manifest_conformance;
mod manifest_errors;
mod mixin_sandbox;
mod mixins_cli;
mod mixins_http;
mod oci;
mod runtime;
mod runtime_image;
mod support;
