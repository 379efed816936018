use std::fmt;

/// One problem in a mixin's config or steps, located by a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// RFC 6901 pointer: `/clientVersion` into the config, or
    /// `/install/0/flags/c` into a step (action, 0-based step index, field).
    pub pointer: String,
    pub message: String,
}

/// Why a hook refused to answer. Porter shows it with the mixin's name and
/// version and fails the build or lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MixinError {
    /// The config or steps do not make sense to this mixin.
    InvalidConfig(Vec<ConfigProblem>),
    /// The input asks for something the mixin does not support.
    Unsupported(String),
    /// Anything else.
    Failed(String),
}

impl MixinError {
    /// One problem at `pointer` (see [`ConfigProblem::pointer`]).
    pub fn invalid_config(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        MixinError::InvalidConfig(vec![ConfigProblem {
            pointer: pointer.into(),
            message: message.into(),
        }])
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        MixinError::Unsupported(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Self {
        MixinError::Failed(message.into())
    }
}

impl fmt::Display for MixinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MixinError::InvalidConfig(problems) => {
                write!(f, "invalid configuration:")?;
                for p in problems {
                    write!(
                        f,
                        " {}: {};",
                        if p.pointer.is_empty() {
                            "/"
                        } else {
                            &p.pointer
                        },
                        p.message
                    )?;
                }
                Ok(())
            }
            MixinError::Unsupported(m) => write!(f, "unsupported: {m}"),
            MixinError::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for MixinError {}
