//! The Docker engine side of `porter build`: the connection ([`Engine`]),
//! the build context (a deterministic tar stream honouring
//! `.dockerignore`), and the image build through the classic builder, with
//! its output shown as it comes.

mod build_log;
pub mod context;
pub mod dockerignore;
mod engine;
mod image_build;
mod progress;

pub use engine::Engine;
pub use image_build::Interrupted;
