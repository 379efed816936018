//! Version constraints as Porter writes them (Go's Masterminds/semver):
//! `1.2.x`, `>=1.0 <2.0`, `^1.1 || ~2.0`, `1.2.3 - 2.0.0`, a leading `v`.
//! The `semver` crate speaks Cargo's dialect; this translates.

use std::fmt;

use semver::{Version, VersionReq};

/// Alternatives (`||`), each a Cargo-style requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionConstraint {
    text: String,
    alternatives: Vec<VersionReq>,
}

impl VersionConstraint {
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("the version constraint is empty".into());
        }
        let alternatives = trimmed
            .split("||")
            .map(|alternative| {
                let cargo = to_cargo_syntax(alternative.trim());
                VersionReq::parse(&cargo).map_err(|e| {
                    format!("'{}' is not a version constraint: {e}", alternative.trim())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VersionConstraint {
            text: trimmed.to_string(),
            alternatives,
        })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|req| req.matches(version))
    }
}

impl fmt::Display for VersionConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One alternative in Masterminds syntax to Cargo syntax. Commas and
/// spaces both mean "and"; `a - b` is an inclusive range; a bare full
/// version means exactly that version (Masterminds' `=`); `v` prefixes go.
fn to_cargo_syntax(alternative: &str) -> String {
    let mut terms = Vec::new();
    for group in alternative.split(',') {
        let group = group.trim();
        if let Some((low, high)) = group.split_once(" - ") {
            terms.push(format!(">={}", without_wildcards(strip_v(low.trim()))));
            terms.push(format!("<={}", without_wildcards(strip_v(high.trim()))));
            continue;
        }
        for term in group.split_whitespace() {
            let op_len = term.len()
                - term
                    .trim_start_matches(['=', '<', '>', '~', '^', '!'])
                    .len();
            let (op, version) = term.split_at(op_len);
            let version = strip_v(version);
            // The dots of a prerelease (`1.0.0-alpha.1`) are not the core's.
            let core = version.split(['-', '+']).next().unwrap_or_default();
            let op =
                if op.is_empty() && core.split('.').count() == 3 && !core.contains(['x', 'X', '*'])
                {
                    "="
                } else {
                    op
                };
            terms.push(format!("{op}{version}"));
        }
    }
    terms.join(", ")
}

/// `1.x` as a range bound is `1` (Cargo's partial versions mean the same).
fn without_wildcards(version: &str) -> String {
    version
        .split('.')
        .take_while(|part| !matches!(*part, "x" | "X" | "*"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Versions as Masterminds reads them: a leading `v`, and missing minor or
/// patch numbers (`1.19` is 1.19.0).
pub fn parse_lenient_version(text: &str) -> Result<Version, semver::Error> {
    let text = strip_v(text.trim());
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let parts = text[..core_end].split('.').count();
    match parts {
        1 => Version::parse(&format!("{}.0.0{}", &text[..core_end], &text[core_end..])),
        2 => Version::parse(&format!("{}.0{}", &text[..core_end], &text[core_end..])),
        _ => Version::parse(text),
    }
}

fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(constraint: &str, version: &str) -> bool {
        VersionConstraint::parse(constraint)
            .unwrap()
            .matches(&Version::parse(version).unwrap())
    }

    #[test]
    fn porters_constraint_forms() {
        assert!(ok("1", "1.9.0"));
        assert!(!ok("1", "2.0.0"));
        assert!(ok("1.1.X", "1.1.7"));
        assert!(!ok("1.1.x", "1.2.0"));
        assert!(ok(">=2", "3.0.0"));
        assert!(ok(">=1.0.0 <2.0.0", "1.5.0"));
        assert!(!ok(">=1.0.0 <2.0.0", "2.0.0"));
        assert!(ok("1.2 || 2.0", "2.0.3"));
        assert!(ok("1.2.3 - 2.0.0", "2.0.0"));
        assert!(!ok("1.2.3 - 2.0.0", "1.2.2"));
        assert!(ok("v1.2.3", "1.2.3"));
        // A bare prerelease is that version only, as in Masterminds.
        assert!(ok("1.0.0-alpha.1", "1.0.0-alpha.1"));
        assert!(!ok("1.0.0-alpha.1", "1.0.0-alpha.2"));
        assert!(!ok("1.2.3", "1.2.4"));
        assert!(ok("^1.2", "1.9.0"));
        assert!(ok("~1.2", "1.2.9"));
        // Porter's own fixture (config-adapter testdata).
        assert!(ok("1.x - 2,2.1 - 3.x", "2.5.0"));
        assert!(!ok("1.x - 2,2.1 - 3.x", "2.0.0"));
        assert!(!ok("1.x - 2,2.1 - 3.x", "3.0.0"));
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(
            parse_lenient_version("1.19").unwrap(),
            Version::new(1, 19, 0)
        );
        assert_eq!(parse_lenient_version("v2").unwrap(), Version::new(2, 0, 0));
        assert_eq!(
            parse_lenient_version("1.2.3-beta.1").unwrap().to_string(),
            "1.2.3-beta.1"
        );
        assert!(parse_lenient_version("1.2.3.4").is_err());
        assert!(parse_lenient_version("latest").is_err());
    }

    #[test]
    fn bad_constraints_say_why() {
        assert!(VersionConstraint::parse("").unwrap_err().contains("empty"));
        assert!(
            VersionConstraint::parse("this")
                .unwrap_err()
                .contains("'this' is not a version constraint")
        );
    }
}
