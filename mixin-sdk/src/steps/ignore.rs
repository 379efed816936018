//! `ignoreError`: when a failed command counts as a success.

use serde::Deserialize;

use super::{go, null_as_default, re2};

/// A step's `ignoreError` block: which failures of its command to forgive.
///
/// ```yaml
/// ignoreError:
///   all: false
///   exitCodes: [2, 3]
///   output:
///     contains: ["already exists"]
///     regex: ["not (found|loaded)"]
/// ```
///
/// Checked in Porter's order, the first that applies forgiving the
/// failure: `all`; the exit code in `exitCodes`; stderr containing one of
/// `output.contains`; stderr matching one of `output.regex` (Go's RE2
/// syntax, searched anywhere in stderr).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct IgnoreError {
    /// Forgive every failure.
    #[serde(deserialize_with = "null_as_default")]
    pub all: bool,
    /// Forgive these exit codes. A command killed by a signal has the exit
    /// code -1 here, as in Go.
    #[serde(rename = "exitCodes", deserialize_with = "null_as_default")]
    pub exit_codes: Vec<i32>,
    /// Forgive on what the command wrote to stderr.
    #[serde(deserialize_with = "null_as_default")]
    pub output: IgnoreErrorOutput,
}

/// `ignoreError.output`: conditions on the command's stderr.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct IgnoreErrorOutput {
    /// Forgive when stderr contains one of these substrings.
    #[serde(deserialize_with = "null_as_default")]
    pub contains: Vec<String>,
    /// Forgive when one of these regular expressions (RE2) matches stderr.
    #[serde(deserialize_with = "null_as_default")]
    pub regex: Vec<String>,
}

/// A regex of `ignoreError.output.regex` that does not compile. Porter
/// reports it and does not forgive the failure (regexes after it are not
/// tried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIgnoreRegex {
    pub regex: String,
    /// The regex library's description of the problem.
    pub error: String,
}

impl std::fmt::Display for InvalidIgnoreRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Could not ignore failed command because the Regex specified by the mixin step definition ({}) is invalid:{}",
            go::quote(&self.regex),
            self.error
        )
    }
}

impl std::error::Error for InvalidIgnoreRegex {}

impl IgnoreError {
    /// Forgives every failure.
    pub fn all() -> Self {
        IgnoreError {
            all: true,
            ..IgnoreError::default()
        }
    }

    /// True when nothing is forgiven.
    pub fn is_empty(&self) -> bool {
        *self == IgnoreError::default()
    }

    /// Whether a command that ended with `exit_code` (None: killed by a
    /// signal) and wrote `stderr` is forgiven. Exit code 0 is no failure
    /// and always "forgiven".
    pub fn forgives(
        &self,
        exit_code: Option<i32>,
        stderr: &str,
    ) -> Result<bool, InvalidIgnoreRegex> {
        // Go reports -1 as the exit code of a command killed by a signal.
        let code = exit_code.unwrap_or(-1);
        if code == 0 || self.all || self.exit_codes.contains(&code) {
            return Ok(true);
        }
        if self
            .output
            .contains
            .iter()
            .any(|s| stderr.contains(s.as_str()))
        {
            return Ok(true);
        }
        for pattern in &self.output.regex {
            let regex = re2::compile(pattern).map_err(|e| InvalidIgnoreRegex {
                regex: pattern.clone(),
                error: e.to_string(),
            })?;
            if regex.is_match(stderr) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ignore(v: serde_json::Value) -> IgnoreError {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn reads_porters_field_names() {
        let h = ignore(json!({
            "all": true,
            "exitCodes": [1, 2],
            "output": {"contains": ["a"], "regex": ["b"]},
        }));
        assert_eq!(
            h,
            IgnoreError {
                all: true,
                exit_codes: vec![1, 2],
                output: IgnoreErrorOutput {
                    contains: vec!["a".into()],
                    regex: vec!["b".into()],
                },
            }
        );
        assert!(ignore(json!({})).is_empty());
        assert!(ignore(json!({"all": null, "exitCodes": null, "output": null})).is_empty());
        assert!(ignore(json!({"output": {"contains": null}})).is_empty());
        assert!(serde_json::from_value::<IgnoreError>(json!({"exitCodes": ["1"]})).is_err());
    }

    #[test]
    fn nothing_forgives_nothing() {
        assert_eq!(IgnoreError::default().forgives(Some(1), "boom"), Ok(false));
        assert_eq!(IgnoreError::default().forgives(Some(0), ""), Ok(true));
    }

    #[test]
    fn all() {
        assert_eq!(IgnoreError::all().forgives(Some(1), ""), Ok(true));
        assert_eq!(IgnoreError::all().forgives(None, ""), Ok(true));
    }

    #[test]
    fn exit_codes() {
        let h = ignore(json!({"exitCodes": [2, 1, 4]}));
        assert_eq!(h.forgives(Some(1), ""), Ok(true));
        assert_eq!(h.forgives(Some(10), ""), Ok(false));
        assert_eq!(h.forgives(None, ""), Ok(false));
        let h = ignore(json!({"exitCodes": [-1]}));
        assert_eq!(h.forgives(None, ""), Ok(true), "a signal is -1, as in Go");
    }

    #[test]
    fn stderr_contains() {
        let h = ignore(json!({"output": {"contains": ["already exists"]}}));
        assert_eq!(
            h.forgives(Some(10), "The specified thing already exists"),
            Ok(true)
        );
        assert_eq!(h.forgives(Some(10), "Something went wrong"), Ok(false));
    }

    #[test]
    fn stderr_regex() {
        let h = ignore(json!({"output": {"regex": ["(exists|EXISTS)"]}}));
        assert_eq!(h.forgives(Some(10), "something EXISTS"), Ok(true));
        assert_eq!(h.forgives(Some(10), "something mumble mumble"), Ok(false));
        let h = ignore(json!({"output": {"regex": [r"^code \d+$"]}}));
        assert_eq!(h.forgives(Some(1), "code 42"), Ok(true));
    }

    #[test]
    fn an_invalid_regex_is_reported_after_the_checks_before_it() {
        let h = ignore(json!({"output": {"contains": ["gone"], "regex": ["ok", "(", "never"]}}));
        assert_eq!(
            h.forgives(Some(1), "it is gone"),
            Ok(true),
            "contains comes first"
        );
        assert_eq!(
            h.forgives(Some(1), "ok then"),
            Ok(true),
            "an earlier regex matched"
        );
        let err = h.forgives(Some(1), "never").unwrap_err();
        assert_eq!(err.regex, "(");
        assert!(
            err.to_string().starts_with(
                "Could not ignore failed command because the Regex specified by the mixin step definition (\"(\") is invalid:"
            ),
            "{err}"
        );
    }
}
