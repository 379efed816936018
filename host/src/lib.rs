//! Porter's buildtime: turn a `porter.yaml` into a CNAB bundle, with mixins
//! running as sandboxed WebAssembly components.
//!
//! The pipeline, one module per stage (see DESIGN.md section 2):
//! - [`manifest`]: porter.yaml -> [`manifest::Manifest`], validation, lint;
//! - [`mixin`]: the store of installed mixins in `PORTER_HOME`, and the
//!   sandboxed runtime that calls their hooks;
//! - [`cli`]: the `porter` commands, thin over the library.

pub mod build;
pub mod cli;
pub mod cnab;
pub mod docker;
pub mod dockerfile;
mod fsmeta;
mod go;
pub mod home;
pub mod layout;
pub mod manifest;
pub mod mixin;
