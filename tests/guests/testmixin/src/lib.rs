//! The `testmixin` Porter's own tests declare (tests/testdata/mybuns): its
//! schema is the one in Porter's golden `porter schema` output
//! (pkg/porter/testdata/schema.json, `mixin.testmixin`, references made
//! local again). It lets the end-to-end tests build Porter's mybuns bundle.

use mixin_sdk::serde::Deserialize;
use mixin_sdk::{BuildInput, BuildOutput, Mixin, MixinError, MixinInfo};

#[derive(Deserialize, Default)]
#[serde(
    crate = "mixin_sdk::serde",
    default,
    deny_unknown_fields,
    rename_all = "camelCase"
)]
struct Config {
    client_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(crate = "mixin_sdk::serde", deny_unknown_fields)]
struct Step {
    #[allow(dead_code)]
    description: String,
}

struct TestMixin;

impl Mixin for TestMixin {
    type Config = Config;
    type Step = Step;

    fn info() -> MixinInfo {
        MixinInfo::new("testmixin", env!("CARGO_PKG_VERSION"))
            .description("Porter's test mixin")
            .author("Porter Authors")
    }

    fn schema() -> String {
        include_str!("../schema.json").to_string()
    }

    fn build(input: BuildInput<Config, Step>) -> Result<BuildOutput, MixinError> {
        let mut out = BuildOutput::new();
        out.comment(&format!(
            "testmixin client {}",
            input.config.client_version.as_deref().unwrap_or("latest")
        ));
        Ok(out)
    }
}

mixin_sdk::export_mixin!(TestMixin);
