//! The Docker engine side of `porter build`: the build context (honouring
//! `.dockerignore`), and later the image build through bollard.

pub mod dockerignore;
