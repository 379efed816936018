//! `porter schema`: the porter.yaml JSON Schema with every installed
//! mixin's schema merged in, for editors; Porter's dependencies v2 schema
//! with that flag on.

use anyhow::Result;

use crate::experimental::Flag;
use crate::home::PorterHome;
use crate::manifest::schema;
use crate::mixin::MixinStore;

pub fn run() -> Result<()> {
    let home = PorterHome::from_env()?;
    let config = super::shared::porter_config(&home)?;
    let dependencies_v2 = config.experimental.is_on(Flag::DependenciesV2);
    let store = MixinStore::new(&home);
    let mut mixins: Vec<(String, serde_json::Value)> = Vec::new();
    // The newest installed version of each mixin describes it.
    for installed in store.list()?.into_iter().rev() {
        if mixins.iter().any(|(name, _)| name == &installed.name) {
            continue;
        }
        let schema = installed.schema()?;
        mixins.push((installed.name, schema.json));
    }
    mixins.sort_by(|a, b| a.0.cmp(&b.0));
    println!(
        "{}",
        serde_json::to_string_pretty(&schema::merged_with(dependencies_v2, &mixins))?
    );
    Ok(())
}
