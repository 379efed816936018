//! `files:` (file sources): each entry's `url`, `destination` and our
//! optional `digest`, checked as Porter's `validateFiles` checks them (its
//! texts, `files[i].field ...`), each error at its field's line, plus what
//! Porter lets through and then gets wrong: two entries writing the same
//! path, one file inside another, a path porter writes itself.
//! Whether the section is allowed at all (the flag, the schemaVersion) is
//! `validate`'s: it depends on the load options.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ManifestParser;
use super::helpers::describe;
use crate::manifest::model::FileSource;
use crate::manifest::source::Diagnostic;

const FILE_FIELDS: &[&str] = &["url", "destination", "digest"];

/// Paths under `/cnab/app` that porter writes itself: a download there
/// would replace the manifest, the entrypoint or a mixin.
const RESERVED: &[&str] = &["porter.yaml", "run", "mixins", "runtimes"];

impl ManifestParser<'_> {
    pub(super) fn files(&mut self, at: &str, value: &Value) -> Vec<FileSource> {
        let files = self.list(at, value, "files", |p, at, v| p.file_source(at, v));
        self.overlapping_destinations(&files);
        files
    }

    fn file_source(&mut self, at: &str, value: &Value) -> Option<FileSource> {
        let index = at.rsplit('/').next().unwrap_or_default();
        let name = format!("files[{index}]");
        let Value::Object(map) = value else {
            let found = describe(value);
            self.push(
                Diagnostic::error(
                    self.source,
                    self.source.locations.value(at),
                    format!("{name} must be a mapping with url and destination, found {found}"),
                )
                .hint("write e.g.\n  - url: https://example.com/tool.tgz\n    destination: tools/tool.tgz"),
            );
            return None;
        };
        self.unknown_fields(at, map, FILE_FIELDS, &[], &name);
        let url = self.file_field(at, map, &name, "url", |text| {
            url_problem(text).map(|m| (m, "give an http:// or https:// URL".to_string()))
        });
        let destination = self.file_field(at, map, &name, "destination", destination_problem);
        let sha256 = match map.get("digest") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let digest_at = format!("{at}/digest");
                let text = self.string(&digest_at, value)?;
                match parse_digest(&text) {
                    Some(hex) => Some(hex),
                    None => {
                        self.push(
                            Diagnostic::error(
                                self.source,
                                self.source.locations.value(&digest_at),
                                format!(
                                    "{name}.digest must be sha256:<64 hex digits>, got {text:?}"
                                ),
                            )
                            .hint("`sha256sum FILE` prints the hex; write digest: sha256:<hex>"),
                        );
                        return None;
                    }
                }
            }
        };
        Some(FileSource {
            url: url?,
            destination: normalize(&destination?),
            sha256,
            pointer: at.to_string(),
        })
    }

    /// A required string field, checked by `problem` (a message and what to
    /// do), with Porter's "is required" when it is missing.
    fn file_field(
        &mut self,
        at: &str,
        map: &serde_json::Map<String, Value>,
        name: &str,
        field: &str,
        problem: impl Fn(&str) -> Option<(String, String)>,
    ) -> Option<String> {
        let field_at = format!("{at}/{field}");
        let text = match map.get(field) {
            Some(value) => self.string(&field_at, value).unwrap_or_default(),
            None => String::new(),
        };
        if text.is_empty() {
            let position = if map.contains_key(field) {
                self.source.locations.value(&field_at)
            } else {
                self.source.locations.value(at)
            };
            let message = format!("{name}.{field} is required");
            let hint = format!("add `{field}: ...` to this entry");
            self.push(Diagnostic::error(self.source, position, message).hint(hint));
            return None;
        }
        if let Some((message, hint)) = problem(&text) {
            self.push(
                Diagnostic::error(
                    self.source,
                    self.source.locations.value(&field_at),
                    format!("{name}.{field} {message}"),
                )
                .hint(hint),
            );
            return None;
        }
        Some(text)
    }

    /// Two entries writing the same file, or one file where another entry
    /// needs a directory: the second one is the error.
    fn overlapping_destinations(&mut self, files: &[FileSource]) {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for file in files {
            let clash = seen.iter().find_map(|(earlier, pointer)| {
                let inside = |outer: &str, inner: &str| {
                    inner
                        .strip_prefix(outer)
                        .is_some_and(|rest| rest.starts_with('/'))
                };
                let how = if *earlier == file.destination {
                    "is also the destination of"
                } else if inside(earlier, &file.destination) || inside(&file.destination, earlier) {
                    "overlaps (a file and a directory of the same path) with"
                } else {
                    return None;
                };
                Some((how, *earlier, *pointer))
            });
            if let Some((how, earlier, pointer)) = clash {
                let line = self.source.locations.value(pointer).line;
                let message = format!(
                    "files: destination '{}' {how} '{earlier}' on line {line}",
                    file.destination
                );
                self.push(
                    Diagnostic::error(
                        self.source,
                        self.source
                            .locations
                            .value(&format!("{}/destination", file.pointer)),
                        message,
                    )
                    .hint("give each downloaded file its own path"),
                );
            } else {
                seen.insert(&file.destination, &file.pointer);
            }
        }
    }
}

/// Porter's check (the scheme), and ours: the rest must be a URL.
fn url_problem(text: &str) -> Option<String> {
    if !text.starts_with("http://") && !text.starts_with("https://") {
        return Some(format!("must begin with http:// or https://, got {text:?}"));
    }
    match reqwest::Url::parse(text) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => None,
        Ok(_) => Some(format!("has no host, got {text:?}")),
        Err(e) => Some(format!("is not a URL ({e}), got {text:?}")),
    }
}

/// Porter's checks of a destination (forward slashes, relative, inside the
/// bundle directory), in its order, then ours (a file's path, not one porter
/// writes). A message and what to do.
pub(crate) fn destination_problem(text: &str) -> Option<(String, String)> {
    let problem = |message: String, hint: &str| Some((message, hint.to_string()));
    if text.contains('\\') {
        return problem(
            format!("must use forward slashes, got {text:?}"),
            "write the path with /, e.g. tools/tool.tgz",
        );
    }
    let drive = text.as_bytes().get(1) == Some(&b':') && text.as_bytes()[0].is_ascii_alphabetic();
    if text.starts_with('/') || drive {
        return problem(
            format!("must be a relative path, got {text:?}"),
            "give the path relative to the bundle directory; it lands under /cnab/app in the image",
        );
    }
    if text.split('/').any(|segment| segment == "..") {
        return problem(
            format!("must not escape the bundle directory, got {text:?}"),
            "remove the .. segments",
        );
    }
    let normalized = normalize(text);
    if normalized.is_empty() || text.ends_with('/') {
        return problem(
            format!("must name a file, got {text:?}"),
            "give the file's path, e.g. tools/tool.tgz",
        );
    }
    let first = normalized.split('/').next().unwrap_or_default();
    if RESERVED.contains(&first) {
        return problem(
            format!("is a path porter writes itself (/cnab/app/{first}), got {text:?}"),
            "choose another path; porter.yaml, run, mixins/ and runtimes/ are porter's",
        );
    }
    None
}

/// `./a//b` is `a/b`.
fn normalize(text: &str) -> String {
    text.split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// `sha256:<64 hex>` (either case): the hex, lowercase.
fn parse_digest(text: &str) -> Option<String> {
    let hex = text.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_as_porter_checks_them_and_ours() {
        let cases: [(&str, Option<&str>); 12] = [
            ("file.txt", None),
            ("./tools//tool.tgz", None),
            ("a\\b", Some("must use forward slashes")),
            ("/etc/passwd", Some("must be a relative path")),
            ("C:/x", Some("must be a relative path")),
            ("../x", Some("must not escape the bundle directory")),
            ("a/../../x", Some("must not escape the bundle directory")),
            ("dir/", Some("must name a file")),
            (".", Some("must name a file")),
            ("porter.yaml", Some("porter writes itself")),
            ("mixins/exec.wasm", Some("porter writes itself")),
            ("runtimes/porter-runtime", Some("porter writes itself")),
        ];
        for (text, expected) in cases {
            let got = destination_problem(text).map(|(message, _)| message);
            match expected {
                None => assert_eq!(got, None, "{text}"),
                Some(part) => assert!(
                    got.as_deref().is_some_and(|m| m.contains(part)),
                    "{text}: {got:?}"
                ),
            }
        }
        assert_eq!(normalize("./tools//tool.tgz"), "tools/tool.tgz");
    }

    #[test]
    fn urls_and_digests() {
        assert_eq!(url_problem("https://example.com/a.tgz"), None);
        assert_eq!(url_problem("http://127.0.0.1:8080/a"), None);
        assert!(
            url_problem("ftp://example.com/a")
                .unwrap()
                .contains("must begin with")
        );
        assert!(
            url_problem("HTTPS://example.com/a")
                .unwrap()
                .contains("must begin with")
        );
        assert!(url_problem("http://").is_some());
        let hex = "ab".repeat(32);
        assert_eq!(parse_digest(&format!("sha256:{hex}")), Some(hex.clone()));
        assert_eq!(
            parse_digest(&format!("sha256:{}", hex.to_uppercase())),
            Some(hex.clone())
        );
        assert_eq!(parse_digest(&format!("sha512:{hex}")), None);
        assert_eq!(parse_digest(&hex), None);
        assert_eq!(parse_digest("sha256:abc"), None);
        assert_eq!(parse_digest(&format!("sha256:{}", "zz".repeat(32))), None);
    }
}
