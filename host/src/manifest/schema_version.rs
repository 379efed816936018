//! Which `schemaVersion` a porter.yaml may declare: Porter's constraint,
//! widened by experimental flags exactly as its `validateMetadata` widens
//! it, with Porter's message, plus (ours) the flag that would let a refused
//! version through.

use super::constraint::{VersionConstraint, parse_lenient_version};
use crate::experimental::{Experimental, Flag};

/// Porter's `SupportedSchemaVersions` (`1.0.0-alpha.1 || 1.0.0 - 1.0.1`),
/// written as Masterminds' `Constraints.String()` writes it back: the form
/// Porter's message shows, and the start of the widened constraint.
const BASE_CONSTRAINT: &str = "1.0.0-alpha.1 || >=1.0.0 <=1.0.1";

/// What each flag appends to the constraint, in Porter's order, and the
/// schemaVersion that introduced the flag's feature.
const WIDENED_BY: [(Flag, &str, &str); 3] = [
    (Flag::DependenciesV2, ">=1.1.0", "1.1.0"),
    (Flag::PersistentParameters, ">=1.2.0", "1.2.0"),
    (Flag::FileSources, "1.3.0", "1.3.0"),
];

/// Why a schemaVersion is refused, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

/// The constraint the flags that are on make, as Porter's message shows it.
pub fn supported_constraint(flags: &Experimental) -> String {
    let mut constraint = BASE_CONSTRAINT.to_string();
    for (flag, widening, _) in WIDENED_BY {
        if flags.is_on(flag) {
            constraint.push_str(" || ");
            constraint.push_str(widening);
        }
    }
    constraint
}

/// Porter's `ValidateSchemaVersion` with the `exact` strategy (its
/// default): `Ok` when `specified` satisfies the constraint.
pub fn check(specified: &str, flags: &Experimental) -> Result<(), Refusal> {
    let shown = if specified.is_empty() {
        "(none)"
    } else {
        specified
    };
    let Ok(version) = parse_lenient_version(shown) else {
        return Err(Refusal {
            message: format!("{shown} is not a valid semantic version: invalid schema version"),
            hint: "set `schemaVersion: 1.0.1`".into(),
        });
    };
    let constraint = supported_constraint(flags);
    let supported = VersionConstraint::parse(&constraint).expect("porter's constraint parses");
    if supported.matches(&version) {
        return Ok(());
    }
    Err(Refusal {
        message: format!(
            "the schema version is {shown} but the supported schema version is {constraint}. \
             See https://porter.sh/reference/file-formats/#supported-versions \
             for more details: invalid schema version"
        ),
        hint: hint_for(&version, flags),
    })
}

/// The flag whose feature arrived with this version, else any flag that
/// would admit it, else the version to use.
fn hint_for(version: &semver::Version, flags: &Experimental) -> String {
    let admits = |widening: &str| {
        VersionConstraint::parse(widening)
            .expect("porter's constraint parses")
            .matches(version)
    };
    let introduced = WIDENED_BY
        .iter()
        .find(|(_, _, introduced)| version.to_string() == *introduced);
    let off: Vec<Flag> = match introduced {
        Some((flag, _, _)) if !flags.is_on(*flag) => vec![*flag],
        _ => WIDENED_BY
            .iter()
            .filter(|(flag, widening, _)| !flags.is_on(*flag) && admits(widening))
            .map(|(flag, _, _)| *flag)
            .collect(),
    };
    match off.as_slice() {
        [] => "set `schemaVersion: 1.0.1`".into(),
        [flag] => format!(
            "schemaVersion {version} needs Porter's experimental flag {flag}: run with \
             PORTER_EXPERIMENTAL={flag}, or add \"{flag}\" to `experimental` in \
             PORTER_HOME's config file; or set `schemaVersion: 1.0.1`"
        ),
        several => {
            let names: Vec<&str> = several.iter().map(|f| f.name()).collect();
            format!(
                "one of Porter's experimental flags {} would allow schemaVersion {version} \
                 (PORTER_EXPERIMENTAL, or `experimental` in PORTER_HOME's config file); \
                 or set `schemaVersion: 1.0.1`",
                names.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(on: &[Flag]) -> Experimental {
        Experimental::with(on.iter().copied())
    }

    #[test]
    fn porters_versions_pass_without_flags() {
        for version in ["1.0.0-alpha.1", "1.0.0", "1.0.1", "v1.0.1", "1.0"] {
            assert_eq!(check(version, &flags(&[])), Ok(()), "{version}");
        }
    }

    #[test]
    fn each_flag_widens_the_constraint_as_porter_does() {
        let none = flags(&[]);
        for version in ["1.1.0", "1.2.0", "1.3.0", "1.0.2", "1.0.0-alpha.2"] {
            assert!(check(version, &none).is_err(), "{version}");
        }
        // dependencies-v2 adds `>=1.1.0`: every later version too.
        let deps = flags(&[Flag::DependenciesV2]);
        for version in ["1.1.0", "1.2.0", "1.3.0", "2.0.0"] {
            assert_eq!(check(version, &deps), Ok(()), "{version}");
        }
        let persistent = flags(&[Flag::PersistentParameters]);
        assert!(check("1.1.0", &persistent).is_err());
        assert_eq!(check("1.2.0", &persistent), Ok(()));
        assert_eq!(check("1.3.0", &persistent), Ok(()));
        // file-sources adds exactly 1.3.0.
        let files = flags(&[Flag::FileSources]);
        assert_eq!(check("1.3.0", &files), Ok(()));
        assert!(check("1.3.1", &files).is_err());
        assert!(check("1.2.0", &files).is_err());
        assert_eq!(
            supported_constraint(&flags(&Flag::ALL)),
            "1.0.0-alpha.1 || >=1.0.0 <=1.0.1 || >=1.1.0 || >=1.2.0 || 1.3.0"
        );
    }

    #[test]
    fn refusals_say_porters_message_and_the_flag() {
        let refused = check("1.2.0", &flags(&[])).unwrap_err();
        assert_eq!(
            refused.message,
            "the schema version is 1.2.0 but the supported schema version is \
             1.0.0-alpha.1 || >=1.0.0 <=1.0.1. See \
             https://porter.sh/reference/file-formats/#supported-versions for more details: \
             invalid schema version"
        );
        assert!(
            refused
                .hint
                .contains("PORTER_EXPERIMENTAL=persistent-parameters")
        );
        let refused = check("1.1.0", &flags(&[])).unwrap_err();
        assert!(refused.hint.contains("PORTER_EXPERIMENTAL=dependencies-v2"));
        let refused = check("1.3.0", &flags(&[])).unwrap_err();
        assert!(refused.hint.contains("PORTER_EXPERIMENTAL=file-sources"));
        // With a flag on, the message shows the widened constraint.
        let refused = check("1.1.0", &flags(&[Flag::FileSources])).unwrap_err();
        assert!(
            refused
                .message
                .contains("is 1.0.0-alpha.1 || >=1.0.0 <=1.0.1 || 1.3.0. See"),
            "{}",
            refused.message
        );
        let refused = check("1.4.0", &flags(&[])).unwrap_err();
        assert!(
            refused
                .hint
                .contains("flags dependencies-v2, persistent-parameters would allow"),
            "{}",
            refused.hint
        );
        assert_eq!(
            check("", &flags(&[])).unwrap_err().message,
            "(none) is not a valid semantic version: invalid schema version"
        );
        // No flag admits an older version.
        assert_eq!(
            check("0.9.0", &flags(&[])).unwrap_err().hint,
            "set `schemaVersion: 1.0.1`"
        );
    }
}
