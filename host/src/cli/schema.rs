//! `porter schema`: the porter.yaml JSON Schema with every installed
//! mixin's schema merged in, for editors.

use anyhow::{Context, Result};

use crate::home::PorterHome;
use crate::manifest::schema;
use crate::mixin::MixinStore;

pub fn run() -> Result<()> {
    let store = MixinStore::new(&PorterHome::from_env()?);
    let mut mixins: Vec<(String, serde_json::Value)> = Vec::new();
    // The newest installed version of each mixin describes it.
    for installed in store.list()?.into_iter().rev() {
        if mixins.iter().any(|(name, _)| name == &installed.name) {
            continue;
        }
        let path = installed.schema_path();
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: reinstall mixin {}",
                path.display(),
                installed.name
            )
        })?;
        let value = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not JSON: reinstall mixin {}",
                path.display(),
                installed.name
            )
        })?;
        mixins.push((installed.name, value));
    }
    mixins.sort_by(|a, b| a.0.cmp(&b.0));
    println!(
        "{}",
        serde_json::to_string_pretty(&schema::merged(&mixins))?
    );
    Ok(())
}
