//! Porter's buildtime: turn a `porter.yaml` into a CNAB bundle, with mixins
//! running as sandboxed WebAssembly components.
//!
//! The pipeline, one module per stage (ARCHITECTURE.md at the workspace
//! root is the map):
//! - [`experimental`]: Porter's experimental flags, and [`config`], which
//!   reads them from `PORTER_EXPERIMENTAL` and `PORTER_HOME`'s config file;
//! - [`manifest`]: porter.yaml -> [`manifest::LoadedManifest`], validation;
//! - [`mixin`]: the store of installed mixins in `PORTER_HOME`, and the
//!   sandboxed runtime that calls their hooks;
//! - [`dockerfile`] and [`cnab`]: the Dockerfile and bundle.json (pure);
//! - [`build`]: the stages of `porter build` in order, and `.cnab/`;
//! - [`docker`]: the Docker engine;
//! - [`oci`]: OCI registries, where mixins are published and pulled from;
//! - [`cli`]: the `porter` commands, thin over the library.

pub mod build;
pub mod cli;
pub mod cnab;
pub mod config;
pub mod docker;
pub mod dockerfile;
pub mod download;
mod error_text;
pub mod experimental;
mod fsmeta;
mod go;
pub mod home;
pub mod layout;
pub mod lint;
pub mod lock;
pub mod manifest;
pub mod memo;
pub mod mixin;
pub mod oci;
pub mod runtime;
