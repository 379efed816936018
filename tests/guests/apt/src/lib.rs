//! A test mixin for image builds through a real engine: its build hook
//! installs the Debian packages its config lists, the way a real mixin
//! installs its tool, and appends any raw Dockerfile `lines` it is given
//! (so tests can make a mixin write a broken or slow line).
//!
//! ```yaml
//! mixins:
//!   - apt:
//!       packages: [tree]
//!       lines: ["RUN tree --version"]
//! ```

use mixin_sdk::serde::Deserialize;
use mixin_sdk::{BuildInput, BuildOutput, Mixin, MixinError, MixinInfo};

#[derive(Deserialize, Default)]
#[serde(crate = "mixin_sdk::serde", default, deny_unknown_fields)]
struct Config {
    packages: Vec<String>,
    lines: Vec<String>,
}

#[derive(Deserialize)]
#[serde(crate = "mixin_sdk::serde")]
struct Step {
    #[allow(dead_code)]
    description: Option<String>,
}

struct Apt;

impl Mixin for Apt {
    type Config = Config;
    type Step = Step;

    fn info() -> MixinInfo {
        MixinInfo::new("apt", env!("CARGO_PKG_VERSION"))
            .description("Installs Debian packages into the invocation image (test mixin)")
            .author("porter-rs tests")
    }

    fn build(input: BuildInput<Config, Step>) -> Result<BuildOutput, MixinError> {
        let mut out = BuildOutput::new();
        if !input.config.packages.is_empty() {
            out.run(&format!(
                "apt-get update && apt-get install -y --no-install-recommends {} && apt-get clean && rm -rf /var/lib/apt/lists/*",
                input.config.packages.join(" ")
            ));
        }
        for line in input.config.lines {
            out.line(line);
        }
        Ok(out)
    }
}

mixin_sdk::export_mixin!(Apt);
