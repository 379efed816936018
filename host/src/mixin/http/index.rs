//! Porter's mixin search index (`<mirror>/mixins/index.json`): a JSON list
//! of `{name, author, description, URL}`, where URL is a feed (`.xml`) or a
//! download base for `--url`. Searching keeps the names that contain the
//! query (lowercased), sorted by name, as Porter does.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub name: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "URL", default)]
    pub url: String,
}

impl Listing {
    /// Porter's "URL Type" column: a feed or a download base.
    pub fn url_type(&self) -> &'static str {
        if self.url.ends_with(".xml") {
            "Atom Feed"
        } else {
            "Download"
        }
    }

    /// The command that installs this mixin from the listed URL.
    pub fn install_command(&self) -> String {
        if self.url_type() == "Atom Feed" {
            format!(
                "porter mixins install {} --feed-url {}",
                self.name, self.url
            )
        } else {
            format!("porter mixins install {} --url {}", self.name, self.url)
        }
    }
}

pub fn parse(text: &[u8]) -> Result<Vec<Listing>> {
    serde_json::from_slice(text).map_err(|e| {
        anyhow::anyhow!(
            "it is not a mixin index (a JSON list of name, author, description, URL): {e}"
        )
    })
}

/// The listings whose name contains `query` (all without one), by name.
pub fn search(mut listings: Vec<Listing>, query: Option<&str>) -> Result<Vec<Listing>> {
    if let Some(query) = query {
        let query = query.to_lowercase();
        listings.retain(|l| l.name.contains(&query));
        if listings.is_empty() {
            bail!("no mixins found for {query}: `porter mixins search` lists them all");
        }
    }
    listings.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(listings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_containing_the_query() {
        let all = parse(
            br#"[{"name":"cowsay","author":"a","description":"d","URL":"https://x/releases/download"},
                 {"name":"az","author":"a","description":"d","URL":"https://x/mixins/atom.xml"}]"#,
        )
        .unwrap();
        let found = search(all.clone(), Some("AZ")).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].url_type(), "Atom Feed");
        let names: Vec<String> = search(all.clone(), None)
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["az", "cowsay"]);
        let err = search(all, Some("ottersay")).unwrap_err().to_string();
        assert!(err.starts_with("no mixins found for ottersay"), "{err}");
    }
}
