//! A mixin built against porter:mixin@1.0.0, before the contract had a
//! runtime (wit/ beside this crate is that contract, frozen). Every 1.x
//! porter must install it, build with it, and say it has no runtime when a
//! bundle's step asks it to run (wit/VERSIONING.md).

wit_bindgen::generate!({
    path: "wit",
    world: "mixin",
});

use exports::porter::mixin::{build, lint, metadata};
use porter::mixin::host;
use porter::mixin::types::{
    BuildInput, BuildOutput, LintInput, LintResult, LogLevel, MixinError, MixinInfo,
};

struct Classic;

impl metadata::Guest for Classic {
    fn info() -> MixinInfo {
        MixinInfo {
            name: "classic".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Built against porter:mixin@1.0.0".into(),
            author: "porter-rs tests".into(),
            homepage: None,
            license: None,
        }
    }

    fn schema() -> String {
        "{}".into()
    }
}

impl build::Guest for Classic {
    fn build(input: BuildInput) -> Result<BuildOutput, MixinError> {
        host::log(LogLevel::Info, "classic builds with porter:mixin@1.0.0");
        Ok(BuildOutput {
            dockerfile_lines: vec![format!("# classic: {} action(s)", input.actions.len())],
            warnings: vec![],
        })
    }
}

impl lint::Guest for Classic {
    fn lint(_input: LintInput) -> Result<Vec<LintResult>, MixinError> {
        Ok(vec![])
    }
}

export!(Classic);
