//! The Docker engine side of `porter build`: the build context (a
//! deterministic tar stream honouring `.dockerignore`); the image build
//! through bollard comes next.

pub mod context;
pub mod dockerignore;
