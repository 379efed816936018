//! Porter's experimental feature flags (`pkg/experimental`): which ones
//! exist and which are on. Pure: where the names come from
//! (`PORTER_EXPERIMENTAL`, the config file's `experimental` list) is
//! `crate::config`'s business.

use std::collections::BTreeSet;
use std::fmt;

/// One of Porter's experimental features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    /// PEP003's advanced dependencies; here only schemaVersion 1.1.0 (and
    /// later) is let through, bundle.json still records dependencies v1.
    DependenciesV2,
    /// A custom Dockerfile template is used exactly as written.
    FullControlDockerfile,
    /// Porter's smaller images; our default layout already copies `.cnab`
    /// into the image once, so it changes nothing here.
    OptimizedBundleBuild,
    /// `persistent: true` on parameters (schemaVersion 1.2.0).
    PersistentParameters,
    /// The `files:` section (schemaVersion 1.3.0); here only the schema
    /// version is let through.
    FileSources,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::DependenciesV2,
        Flag::FullControlDockerfile,
        Flag::OptimizedBundleBuild,
        Flag::PersistentParameters,
        Flag::FileSources,
    ];

    /// The name Porter reads, in `PORTER_EXPERIMENTAL` and the config file.
    pub fn name(self) -> &'static str {
        match self {
            Flag::DependenciesV2 => "dependencies-v2",
            Flag::FullControlDockerfile => "full-control-dockerfile",
            Flag::OptimizedBundleBuild => "optimized-bundle-build",
            Flag::PersistentParameters => "persistent-parameters",
            Flag::FileSources => "file-sources",
        }
    }

    /// Exactly Porter's name; Porter neither trims nor folds case.
    pub fn from_name(name: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|flag| flag.name() == name)
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The flags that are on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Experimental {
    on: BTreeSet<Flag>,
}

impl Experimental {
    pub fn with(flags: impl IntoIterator<Item = Flag>) -> Self {
        Experimental {
            on: flags.into_iter().collect(),
        }
    }

    /// Porter's `ParseFlags`: the names it knows turn their flag on; the
    /// others (but empty ones) are returned, in order, for the caller to
    /// warn about.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> (Self, Vec<&'a str>) {
        let mut on = BTreeSet::new();
        let mut unknown = Vec::new();
        for name in names {
            match Flag::from_name(name) {
                Some(flag) => {
                    on.insert(flag);
                }
                // `a,,b` or a trailing comma: nothing was meant.
                None if name.is_empty() => {}
                None => unknown.push(name),
            }
        }
        (Experimental { on }, unknown)
    }

    pub fn is_on(&self, flag: Flag) -> bool {
        self.on.contains(&flag)
    }

    pub fn enable(&mut self, flag: Flag) {
        self.on.insert(flag);
    }

    /// The names of the flags that are on, sorted and comma-separated: the
    /// form remembered answers are keyed by.
    pub fn key(&self) -> String {
        let names: Vec<&str> = self.on.iter().map(|f| f.name()).collect();
        names.join(",")
    }
}

/// The warning for a name Porter would silently ignore.
pub fn unknown_flag_warning(name: &str, from: &str) -> String {
    let known: Vec<&str> = Flag::ALL.iter().map(|f| f.name()).collect();
    let trimmed = name.trim();
    let spaces = if trimmed != name && Flag::from_name(trimmed).is_some() {
        format!(" (did you mean \"{trimmed}\"? Porter does not trim spaces around names)")
    } else {
        String::new()
    };
    format!(
        "warning: unknown experimental flag \"{name}\" in {from}{spaces}: it is ignored; \
         the flags are {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for flag in Flag::ALL {
            assert_eq!(Flag::from_name(flag.name()), Some(flag));
        }
        assert_eq!(Flag::from_name(" file-sources"), None);
        assert_eq!(Flag::from_name("File-Sources"), None);
    }

    #[test]
    fn parse_keeps_the_unknown_names() {
        let (flags, unknown) =
            Experimental::parse(["persistent-parameters", "nope", "", "file-sources"]);
        assert!(flags.is_on(Flag::PersistentParameters));
        assert!(flags.is_on(Flag::FileSources));
        assert!(!flags.is_on(Flag::DependenciesV2));
        assert_eq!(unknown, ["nope"]);
        assert_eq!(flags.key(), "persistent-parameters,file-sources");
    }

    #[test]
    fn warning_names_the_flags_and_spots_spaces() {
        let w = unknown_flag_warning(" file-sources", "PORTER_EXPERIMENTAL");
        assert!(w.contains("did you mean \"file-sources\"?"), "{w}");
        let w = unknown_flag_warning("nope", "PORTER_EXPERIMENTAL");
        assert!(
            w.ends_with(
                "the flags are dependencies-v2, full-control-dockerfile, \
                 optimized-bundle-build, persistent-parameters, file-sources"
            ),
            "{w}"
        );
    }
}
