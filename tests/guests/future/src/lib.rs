//! A mixin built against porter:mixin@1.2.0, a future minor of the
//! contract whose `host` interface gains `progress` (wit/ beside this
//! crate). Its build hook calls it, so the component imports it, and a
//! porter that provides 1.1.0 must refuse it at install as needing a newer
//! porter (wit/VERSIONING.md, rule 2).

wit_bindgen::generate!({
    path: "wit",
    world: "mixin",
});

use exports::porter::mixin::{build, lint, metadata};
use porter::mixin::host;
use porter::mixin::types::{BuildInput, BuildOutput, LintInput, LintResult, MixinError, MixinInfo};

struct Future;

impl metadata::Guest for Future {
    fn info() -> MixinInfo {
        MixinInfo {
            name: "future".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Needs a host function from porter:mixin@1.2.0".into(),
            author: "porter-rs tests".into(),
            homepage: None,
            license: None,
        }
    }

    fn schema() -> String {
        "{}".into()
    }
}

impl build::Guest for Future {
    fn build(input: BuildInput) -> Result<BuildOutput, MixinError> {
        host::progress(0, input.actions.len() as u32);
        Ok(BuildOutput {
            dockerfile_lines: vec!["# built with porter:mixin@1.2.0".into()],
            warnings: vec![],
        })
    }
}

impl lint::Guest for Future {
    fn lint(_input: LintInput) -> Result<Vec<LintResult>, MixinError> {
        Ok(vec![])
    }
}

export!(Future);
