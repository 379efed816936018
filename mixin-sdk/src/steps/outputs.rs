//! A step's `outputs`: values taken from the command's stdout or from a
//! file it wrote.

use serde::Deserialize;

use super::{StepError, go, json, re2};
use crate::command::{OutputValue, StepOutputs};

/// One entry of a step's `outputs`: a name and where its value comes from.
///
/// Read from `{name, jsonPath}`, `{name, regex}` or `{name, path}`: exactly
/// one source. Other fields (such as `sensitive`) are ignored here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawOutputSpec")]
pub struct OutputSpec {
    pub name: String,
    pub source: OutputSource,
}

/// Where an output's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSource {
    /// A JSONPath query on stdout parsed as JSON (`jsonPath:`).
    JsonPath(String),
    /// The capture groups of a regular expression (RE2) on stdout
    /// (`regex:`).
    Regex(String),
    /// A file the command wrote, relative to `/cnab/app` (`path:`).
    Path(String),
}

impl OutputSpec {
    pub fn json_path(name: impl Into<String>, query: impl Into<String>) -> Self {
        OutputSpec {
            name: name.into(),
            source: OutputSource::JsonPath(query.into()),
        }
    }

    pub fn regex(name: impl Into<String>, regex: impl Into<String>) -> Self {
        OutputSpec {
            name: name.into(),
            source: OutputSource::Regex(regex.into()),
        }
    }

    pub fn path(name: impl Into<String>, path: impl Into<String>) -> Self {
        OutputSpec {
            name: name.into(),
            source: OutputSource::Path(path.into()),
        }
    }
}

#[derive(Deserialize)]
struct RawOutputSpec {
    name: String,
    #[serde(rename = "jsonPath")]
    json_path: Option<String>,
    regex: Option<String>,
    path: Option<String>,
}

impl TryFrom<RawOutputSpec> for OutputSpec {
    type Error = String;

    fn try_from(raw: RawOutputSpec) -> Result<Self, String> {
        let source = match (raw.json_path, raw.regex, raw.path) {
            (Some(q), None, None) => OutputSource::JsonPath(q),
            (None, Some(r), None) => OutputSource::Regex(r),
            (None, None, Some(p)) => OutputSource::Path(p),
            _ => {
                return Err(format!(
                    "output {} must have exactly one of jsonPath, regex or path",
                    raw.name
                ));
            }
        };
        Ok(OutputSpec {
            name: raw.name,
            source,
        })
    }
}

/// The values of `outputs` from a command's stdout, in Porter's order:
/// every jsonPath output, then every regex output, then every path output
/// (each group in the order listed). An output whose query, regex or path
/// is the empty string is skipped, as Porter skips it.
///
/// - **jsonPath**: stdout is read as JSON once (only its first value, as
///   Go's decoder does). The result is written as Porter writes it: an
///   object or array as compact JSON with sorted keys, a string without
///   quotes, a number exactly as stdout wrote it, a boolean as
///   `true`/`false`, `null` as `<nil>`. Empty stdout, or stdout that is
///   JSON `null`, gives an empty output. See [`crate::steps`] for the
///   JSONPath syntax.
/// - **regex**: the capture groups of every match, joined with `\n`
///   (the whole match is never included, a group that did not take part
///   is empty); no match or no group gives an empty output.
/// - **path**: [`OutputValue::File`]; the host reads the file after the
///   step.
///
/// The errors are Porter's: `error unmarshaling stdout as json <stdout>:
/// ...`, `error evaluating jsonpath "<query>" for output "<name>" against
/// <stdout>: ...`, `invalid regular expression "<regex>" for output
/// "<name>": ...`.
pub fn extract_outputs(outputs: &[OutputSpec], stdout: &[u8]) -> Result<StepOutputs, StepError> {
    let stdout = String::from_utf8_lossy(stdout);
    let mut values = StepOutputs::new();
    let mut document: Option<(serde_json::Value, json::GoJson)> = None;
    for output in outputs {
        let OutputSource::JsonPath(query) = &output.source else {
            continue;
        };
        if query.is_empty() {
            continue;
        }
        if document.is_none() && !stdout.is_empty() {
            let decoded = json::decode_first(&stdout).map_err(|e| StepError::Output {
                name: output.name.clone(),
                message: format!("error unmarshaling stdout as json {stdout}: {e}"),
            })?;
            document = Some(decoded);
        }
        let value = match &document {
            // Porter keeps the decoded document in a nil interface: JSON
            // `null` looks like no document at all.
            Some((doc, raw)) if !doc.is_null() => {
                let result = json::query(query, doc, raw).map_err(|e| StepError::Output {
                    name: output.name.clone(),
                    message: format!(
                        "error evaluating jsonpath {} for output {} against {stdout}: {e}",
                        go::quote(query),
                        go::quote(&output.name)
                    ),
                })?;
                json::output_text(&result).into_bytes()
            }
            _ => Vec::new(),
        };
        values.set(output.name.clone(), OutputValue::Bytes(value));
    }
    for output in outputs {
        let OutputSource::Regex(pattern) = &output.source else {
            continue;
        };
        if pattern.is_empty() {
            continue;
        }
        let regex = re2::compile(pattern).map_err(|e| StepError::Output {
            name: output.name.clone(),
            message: format!(
                "invalid regular expression {} for output {}: {e}",
                go::quote(pattern),
                go::quote(&output.name)
            ),
        })?;
        let mut groups = Vec::new();
        for captures in regex.captures_iter(&stdout) {
            groups.extend(
                captures
                    .iter()
                    .skip(1)
                    .map(|group| group.map_or("", |m| m.as_str())),
            );
        }
        values.set(
            output.name.clone(),
            OutputValue::Bytes(groups.join("\n").into_bytes()),
        );
    }
    for output in outputs {
        let OutputSource::Path(path) = &output.source else {
            continue;
        };
        if path.is_empty() {
            continue;
        }
        values.set(output.name.clone(), OutputValue::File(path.clone()));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(outputs: &StepOutputs, name: &str) -> String {
        match outputs.get(name) {
            Some(OutputValue::Bytes(b)) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn one(spec: OutputSpec, stdout: &str) -> Result<String, StepError> {
        let name = spec.name.clone();
        extract_outputs(&[spec], stdout.as_bytes()).map(|o| bytes(&o, &name))
    }

    #[test]
    fn reads_exactly_one_source() {
        let specs: Vec<OutputSpec> = serde_json::from_value(json!([
            {"name": "a", "jsonPath": "$.a"},
            {"name": "b", "regex": "(b)", "sensitive": true},
            {"name": "c", "path": "c.txt", "description": "ignored"},
        ]))
        .unwrap();
        assert_eq!(
            specs,
            [
                OutputSpec::json_path("a", "$.a"),
                OutputSpec::regex("b", "(b)"),
                OutputSpec::path("c", "c.txt"),
            ]
        );
        for bad in [
            json!({"name": "x"}),
            json!({"name": "x", "regex": "a", "path": "b"}),
        ] {
            let err = serde_json::from_value::<OutputSpec>(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                "output x must have exactly one of jsonPath, regex or path"
            );
        }
        assert!(serde_json::from_value::<OutputSpec>(json!({"jsonPath": "$"})).is_err());
    }

    #[test]
    fn json_path_results_by_type() {
        let doc = r#"{"o": {"b": 1, "a": [true]}, "s": "text", "n": 1.0e3, "i": 7, "t": true, "z": null}"#;
        for (query, want) in [
            ("$.o", r#"{"a":[true],"b":1}"#),
            ("$.o.a", "[true]"),
            ("$.s", "text"),
            ("$.n", "1.0e3"),
            ("$.i", "7"),
            ("$.t", "true"),
            ("$.z", "<nil>"),
        ] {
            assert_eq!(
                one(OutputSpec::json_path("x", query), doc).unwrap(),
                want,
                "{query}"
            );
        }
    }

    #[test]
    fn json_path_on_empty_or_null_stdout_is_empty() {
        assert_eq!(one(OutputSpec::json_path("x", "$[*].id"), "").unwrap(), "");
        assert_eq!(one(OutputSpec::json_path("x", "$.a"), "null").unwrap(), "");
    }

    #[test]
    fn json_path_errors_are_porters() {
        let err = one(OutputSpec::json_path("x", "$.a"), "oops").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("error unmarshaling stdout as json oops: "),
            "{err}"
        );
        let err = one(OutputSpec::json_path("x", "$.a"), "\n").unwrap_err();
        assert_eq!(err.to_string(), "error unmarshaling stdout as json \n: EOF");
        let err = one(OutputSpec::json_path("out", "$.missing"), "{}").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"error evaluating jsonpath "$.missing" for output "out" against {}: unknown key missing"#
        );
        let err = one(OutputSpec::json_path("out", "$["), "{}").unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"error evaluating jsonpath "$[" for output "out" against {}: "#),
            "{err}"
        );
        assert!(matches!(err, StepError::Output { ref name, .. } if name == "out"));
    }

    #[test]
    fn regex_joins_every_capture_group() {
        let out = "Hello World\nHello Porter\n";
        assert_eq!(
            one(OutputSpec::regex("x", "Hello (.*)"), out).unwrap(),
            "World\nPorter"
        );
        assert_eq!(
            one(OutputSpec::regex("x", r"(\w+) (\w+)"), out).unwrap(),
            "Hello\nWorld\nHello\nPorter"
        );
        assert_eq!(
            one(OutputSpec::regex("x", "Hello"), out).unwrap(),
            "",
            "no groups"
        );
        assert_eq!(
            one(OutputSpec::regex("x", "Bye (.*)"), out).unwrap(),
            "",
            "no match"
        );
        assert_eq!(
            one(OutputSpec::regex("x", "Hello (P)?(\\w+)"), out).unwrap(),
            "\nWorld\nP\norter",
            "a group that took no part is empty"
        );
        let err = one(OutputSpec::regex("x", "("), out).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"invalid regular expression "(" for output "x": "#),
            "{err}"
        );
    }

    #[test]
    fn path_is_read_by_the_host() {
        let o = extract_outputs(&[OutputSpec::path("kube", "config/kube.yaml")], b"").unwrap();
        assert_eq!(
            o.get("kube"),
            Some(&OutputValue::File("config/kube.yaml".into()))
        );
    }

    #[test]
    fn empty_sources_are_skipped() {
        let o = extract_outputs(
            &[
                OutputSpec::json_path("a", ""),
                OutputSpec::regex("b", ""),
                OutputSpec::path("c", ""),
            ],
            b"not json",
        )
        .unwrap();
        assert!(o.is_empty());
    }

    #[test]
    fn kinds_are_processed_in_porters_order() {
        let specs = [
            OutputSpec::path("file", "config.txt"),
            OutputSpec::regex("regex", "(.*)"),
            OutputSpec::json_path("jsonpath", "$.*"),
            OutputSpec::json_path("same", "$.a"),
            OutputSpec::regex("same", "\"(a)\""),
        ];
        let o = extract_outputs(&specs, br#"{"a": 1}"#).unwrap();
        let names: Vec<&str> = o.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["jsonpath", "regex", "same", "file"]);
        assert_eq!(
            bytes(&o, "same"),
            "a",
            "the regex output comes later and wins"
        );
        assert_eq!(bytes(&o, "jsonpath"), "[1]");
        assert_eq!(bytes(&o, "regex"), r#"{"a": 1}"#);
        let o = extract_outputs(&[OutputSpec::regex("r", "(.*)")], b"x\n").unwrap();
        assert_eq!(bytes(&o, "r"), "x\n", "and an empty match at the very end");
    }

    #[test]
    fn a_bad_json_output_stops_before_the_others() {
        let specs = [
            OutputSpec::regex("r", "(.*)"),
            OutputSpec::json_path("j", "$.a"),
        ];
        assert!(extract_outputs(&specs, b"plain text").is_err());
    }
}
