//! Porter's config file (`PORTER_HOME/config.{json,toml,yaml,yml}`, read by
//! its `pkg/config` through viper), as text: parsed, `${env.NAME}` put in,
//! the context chosen when the file has several, its keys checked, and the
//! `experimental` list read. Pure: the environment is a function given.

use serde_json::{Map, Value};

use crate::manifest::{Diagnostic, Position, SourceFile};

/// The formats Porter reads, in the order it looks for them: the first
/// file found is the only one read.
pub const FORMATS: [(&str, Format); 4] = [
    ("json", Format::Json),
    ("toml", Format::Toml),
    ("yaml", Format::Yaml),
    ("yml", Format::Yaml),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
    Yaml,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Toml => "TOML",
            Format::Yaml => "YAML",
        }
    }
}

/// Porter's `config.Data` keys. Only `experimental` and
/// `allow-file-downloads` take effect here; the others are Porter's (storage, secrets, logs, ...) and accepted as they are.
const KNOWN_KEYS: &[&str] = &[
    "allow-docker-host-access",
    "allow-file-downloads",
    "build-driver",
    "default-secrets",
    "default-secrets-plugin",
    "default-signer",
    "default-signing-plugin",
    "default-storage",
    "default-storage-plugin",
    "dependencies",
    "experimental",
    "force-overwrite",
    "logs",
    "namespace",
    "runtime-driver",
    "schema-check",
    "secrets",
    "signers",
    "storage",
    "telemetry",
    "verbosity",
];

/// The keys of a versioned (multi-context) file, Porter's
/// `MultiContextFile`; its `schemaVersion` is what marks it.
const MULTI_CONTEXT_KEYS: &[&str] = &["schemaversion", "current-context", "contexts"];

/// Porter's `ConfigSchemaVersion`, named in its error for a flat file used
/// with a context.
const CONFIG_SCHEMA_VERSION: &str = "2.0.0";

/// A problem that stops the file from being read, located in it (boxed:
/// a diagnostic is large beside what `Ok` carries).
pub type Refused = Box<Diagnostic>;

fn refuse<T>(diagnostic: Diagnostic) -> Result<T, Refused> {
    Err(Box::new(diagnostic))
}

/// What the file says that porter uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// The `experimental` list; `None` when the file does not set it.
    pub experimental: Option<Vec<String>>,
    /// `allow-file-downloads`; `None` when the file does not set it.
    pub allow_file_downloads: Option<bool>,
    /// Unknown keys, each located.
    pub warnings: Vec<Diagnostic>,
}

/// Reads a config file's text. `env` answers `${env.NAME}` and
/// `PORTER_CONTEXT` (which context of a versioned file applies). An error
/// is located in the file and says what to do.
pub fn parse(
    source: &SourceFile,
    format: Format,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, Refused> {
    if source.text.trim().is_empty() {
        return Ok(Settings::default());
    }
    let mut root = match read(source, format)? {
        Value::Null => return Ok(Settings::default()),
        Value::Object(map) => map,
        other => {
            let message = format!(
                "{} must be a mapping of settings, found {}",
                file_name(source),
                kind(&other)
            );
            return refuse(Diagnostic::error(
                source,
                Position { line: 1, column: 1 },
                message,
            ));
        }
    };
    substitute_env(&mut root, env);
    let at = |pointer: &str| locate(source, format, pointer);
    let mut warnings = Vec::new();
    let context = env("PORTER_CONTEXT").filter(|c| !c.is_empty());
    let (data, data_pointer) = if get(&root, "schemaversion").is_some() {
        warnings.extend(unknown_keys(source, &root, "", MULTI_CONTEXT_KEYS, &at));
        select_context(source, &root, context.as_deref(), &at)?
    } else {
        if context.is_some() {
            let message = format!(
                "PORTER_CONTEXT requires a versioned config file; add schemaVersion: \
                 \"{CONFIG_SCHEMA_VERSION}\" and wrap settings under contexts"
            );
            let hint = "unset PORTER_CONTEXT, or make the file a versioned one \
                        (schemaVersion, current-context, contexts: [{name, config}])";
            return refuse(Diagnostic::error(source, Position::default(), message).hint(hint));
        }
        (root.clone(), String::new())
    };
    warnings.extend(unknown_keys(source, &data, &data_pointer, KNOWN_KEYS, &at));
    let experimental = match get(&data, "experimental") {
        None | Some((_, Value::Null)) => None,
        Some((key, value)) => {
            let pointer = format!("{data_pointer}/{key}");
            Some(flag_names(value).ok_or_else(|| {
                let message = format!(
                    "`experimental` in {} must be a list of flag names, found {}",
                    file_name(source),
                    kind(value)
                );
                Diagnostic::error(source, at(&pointer), message)
                    .hint("write e.g. experimental: [\"persistent-parameters\"]")
            })?)
        }
    };
    let allow_file_downloads = match get(&data, "allow-file-downloads") {
        None | Some((_, Value::Null)) => None,
        Some((key, value)) => {
            let pointer = format!("{data_pointer}/{key}");
            Some(weak_bool(value).ok_or_else(|| {
                let message = format!(
                    "`allow-file-downloads` in {} must be true or false, found {}",
                    file_name(source),
                    kind(value)
                );
                Diagnostic::error(source, at(&pointer), message)
                    .hint("write allow-file-downloads: true")
            })?)
        }
    };
    Ok(Settings {
        experimental,
        allow_file_downloads,
        warnings,
    })
}

/// The file as JSON values; a syntax error at its line.
fn read(source: &SourceFile, format: Format) -> Result<Value, Refused> {
    let (at, message) = match format {
        Format::Json => match serde_json::from_str::<Value>(&source.text) {
            Ok(value) => return Ok(value),
            Err(e) => {
                let at = Position {
                    line: e.line(),
                    column: e.column().max(1),
                };
                let message = e.to_string();
                // serde_json appends " at line L column C": the position says it.
                let message = match message.rfind(" at line ") {
                    Some(end) => message[..end].to_string(),
                    None => message,
                };
                (at, message)
            }
        },
        Format::Toml => match toml::from_str::<Value>(&source.text) {
            Ok(value) => return Ok(value),
            Err(e) => {
                let offset = e.span().map_or(0, |span| span.start);
                (
                    position_of(&source.text, offset),
                    e.message().trim().to_string(),
                )
            }
        },
        Format::Yaml => match serde_saphyr::from_str::<Value>(&source.text) {
            Ok(value) => return Ok(value),
            Err(e) => {
                let at = e
                    .location()
                    .map_or(Position { line: 1, column: 1 }, |l| Position {
                        line: l.line() as usize,
                        column: l.column().max(1) as usize,
                    });
                let text = e.without_snippet().to_string();
                let first = text.lines().next().unwrap_or_default();
                // The position is shown once, by the diagnostic.
                let first = first.rfind(" at line ").map_or(first, |end| &first[..end]);
                (at, first.to_string())
            }
        },
    };
    let message = format!(
        "{} is not valid {}: {message}",
        file_name(source),
        format.name()
    );
    let hint = "fix the file (Porter reads it too), or move it out of PORTER_HOME";
    refuse(Diagnostic::error(source, at, message).hint(hint))
}

/// Porter renders the file as a template with `${` `}` delimiters and the
/// environment as `env`: `${env.NAME}` is the variable's value, empty when
/// it is not set. Here it is done in string values only, so a value cannot
/// change the file's structure. `${secret.NAME}` needs Porter's secret
/// plugins and is left as written (it never names an experimental flag).
fn substitute_env(map: &mut Map<String, Value>, env: &dyn Fn(&str) -> Option<String>) {
    for value in map.values_mut() {
        substitute_in(value, env);
    }
}

fn substitute_in(value: &mut Value, env: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(text) => *text = render_env(text, env),
        Value::Array(items) => items.iter_mut().for_each(|item| substitute_in(item, env)),
        Value::Object(map) => substitute_env(map, env),
        _ => {}
    }
}

fn render_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        match inner.strip_prefix("env.").filter(|name| is_env_name(name)) {
            Some(name) => out.push_str(&env(name).unwrap_or_default()),
            None => out.push_str(&rest[start..=start + len]),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Porter's context choice: `PORTER_CONTEXT`, else `current-context`, else
/// `default`; the chosen context's `config` (none: no settings).
fn select_context(
    source: &SourceFile,
    root: &Map<String, Value>,
    context: Option<&str>,
    at: &dyn Fn(&str) -> Position,
) -> Result<(Map<String, Value>, String), Refused> {
    let current = get(root, "current-context")
        .and_then(|(_, v)| v.as_str())
        .filter(|c| !c.is_empty());
    let selected = context.or(current).unwrap_or("default");
    let Some((key, contexts)) = get(root, "contexts") else {
        let message = "versioned config file is missing required 'contexts' key";
        let hint = "add `contexts:`, a list of {name, config}, or remove schemaVersion \
                    to make it a flat config file";
        return refuse(Diagnostic::error(source, Position::default(), message).hint(hint));
    };
    let Some(contexts) = contexts.as_array() else {
        let place = at(&format!("/{key}"));
        let message = "invalid 'contexts' field in config file";
        return refuse(
            Diagnostic::error(source, place, message).hint("make it a list of {name, config}"),
        );
    };
    let mut available = Vec::new();
    for (index, item) in contexts.iter().enumerate() {
        let Some(item) = item.as_object() else {
            continue;
        };
        let Some(name) = item
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        available.push(name);
        if name == selected {
            return Ok(match item.get("config") {
                Some(Value::Object(config)) => (config.clone(), format!("/{key}/{index}/config")),
                _ => (Map::new(), String::new()),
            });
        }
    }
    let message = format!(
        "context \"{selected}\" not found in config file; available: {}",
        available.join(", ")
    );
    let hint = "set PORTER_CONTEXT (or current-context) to one of the contexts";
    refuse(Diagnostic::error(source, at(&format!("/{key}")), message).hint(hint))
}

/// Warnings for keys Porter does not know (viper's keys are
/// case-insensitive). Porter ignores them silently; a typo then does nothing.
fn unknown_keys(
    source: &SourceFile,
    map: &Map<String, Value>,
    pointer: &str,
    known: &[&str],
    at: &dyn Fn(&str) -> Position,
) -> Vec<Diagnostic> {
    map.keys()
        .filter(|key| !known.contains(&key.to_lowercase().as_str()))
        .map(|key| {
            let message = format!(
                "unknown key '{key}' in {}: it is ignored",
                file_name(source)
            );
            let suggestion = strsim_closest(&key.to_lowercase(), known)
                .map(|k| format!("did you mean '{k}'? "))
                .unwrap_or_default();
            let hint = format!("{suggestion}Porter's keys: {}", known.join(", "));
            let place = at(&format!(
                "{pointer}/{}",
                crate::manifest::source::escape(key)
            ));
            Diagnostic::warning(source, place, message).hint(hint)
        })
        .collect()
}

fn strsim_closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(key, k), *k))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, k)| k)
}

/// A key, case-insensitively as viper reads it, with the spelling used.
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<(&'a str, &'a Value)> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(k, v)| (k.as_str(), v))
}

/// viper's weak decoding into a boolean: a boolean, Go's `ParseBool`
/// texts, or a number (non-zero is true).
pub fn weak_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|n| n != 0.0),
        Value::String(text) => match text.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// viper's weak decoding into a list of strings: a list's scalars as text,
/// and a string split at commas (`""` is no flag).
fn flag_names(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) if text.is_empty() => Some(Vec::new()),
        Value::String(text) => Some(text.split(',').map(str::to_string).collect()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Some(s.clone()),
                Value::Bool(_) | Value::Number(_) => Some(item.to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Where the key at `pointer` is written. YAML and JSON (a YAML subset)
/// have the manifest's locations; TOML has no such index here, so its key
/// is found as the first line that assigns or opens it.
fn locate(source: &SourceFile, format: Format, pointer: &str) -> Position {
    if format != Format::Toml {
        return source.locations.key(pointer);
    }
    let Some(key) = pointer.rsplit('/').next().filter(|k| !k.is_empty()) else {
        return Position::default();
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    for (index, line) in source.text.lines().enumerate() {
        let trimmed = line.trim_start();
        let unquoted = trimmed.trim_start_matches(['[', '"', '\'']);
        if let Some(after) = unquoted.strip_prefix(key.as_str()) {
            let after = after.trim_start_matches(['"', '\'']).trim_start();
            if after.starts_with(['=', '.', ']']) {
                let column = line.len() - trimmed.len() + 1;
                return Position {
                    line: index + 1,
                    column,
                };
            }
        }
    }
    Position::default()
}

/// The 1-based line and column of a byte offset.
fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

fn file_name(source: &SourceFile) -> String {
    source.path.file_name().map_or_else(
        || source.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "FLAGS" => Some("persistent-parameters".into()),
            "PORTER_CONTEXT" => None,
            _ => None,
        }
    }

    fn settings(name: &str, text: &str, format: Format) -> Result<Settings, Refused> {
        parse(&SourceFile::new(name, text.to_string()), format, &env)
    }

    #[test]
    fn the_list_in_each_format() {
        let cases = [
            (
                "config.toml",
                "experimental = [\"file-sources\"]\n",
                Format::Toml,
            ),
            (
                "config.yaml",
                "experimental:\n  - file-sources\n",
                Format::Yaml,
            ),
            (
                "config.json",
                "{\"experimental\": [\"file-sources\"]}",
                Format::Json,
            ),
            // viper's weak decoding: a string is split at commas.
            ("config.yaml", "experimental: file-sources\n", Format::Yaml),
            (
                "config.toml",
                "Experimental = [\"file-sources\"]\n",
                Format::Toml,
            ),
        ];
        for (name, text, format) in cases {
            let got = settings(name, text, format).unwrap();
            assert_eq!(
                got.experimental,
                Some(vec!["file-sources".to_string()]),
                "{text}"
            );
            assert!(got.warnings.is_empty(), "{text}");
        }
        let none = settings("config.toml", "verbosity = \"warn\"\n", Format::Toml).unwrap();
        assert_eq!(none.experimental, None);
        assert_eq!(
            settings("config.yaml", "", Format::Yaml).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn env_variables_are_put_in_values() {
        let got = settings(
            "config.yaml",
            "experimental: [\"${env.FLAGS}\", \"${ env.FLAGS }x\", \"${env.UNSET}\"]\nstorage: [{name: a, config: {url: \"${secret.cs}\"}}]\n",
            Format::Yaml,
        )
        .unwrap();
        assert_eq!(
            got.experimental.unwrap(),
            ["persistent-parameters", "persistent-parametersx", ""]
        );
        assert_eq!(
            render_env("${secret.cs} ${env.FLAGS", &env),
            "${secret.cs} ${env.FLAGS"
        );
    }

    #[test]
    fn unknown_keys_are_located_warnings() {
        let got = settings(
            "config.toml",
            "verbosity = \"warn\"\nexperimentl = [\"file-sources\"]\n\n[logs]\nlevel = \"info\"\n",
            Format::Toml,
        )
        .unwrap();
        assert_eq!(got.warnings.len(), 1);
        let w = &got.warnings[0];
        assert_eq!(w.at.line, 2);
        assert_eq!(
            w.message,
            "unknown key 'experimentl' in config.toml: it is ignored"
        );
        assert!(
            w.hint
                .as_deref()
                .unwrap()
                .starts_with("did you mean 'experimental'?")
        );
        let got = settings("config.yaml", "a: 1\nfoo: 2\n", Format::Yaml).unwrap();
        let lines: Vec<usize> = got.warnings.iter().map(|w| w.at.line).collect();
        assert_eq!(lines, [1, 2]);
    }

    #[test]
    fn malformed_files_are_errors_at_their_line() {
        let e = settings(
            "config.toml",
            "verbosity = \"warn\"\nexperimental = [\n",
            Format::Toml,
        )
        .unwrap_err();
        assert_eq!(e.at.line, 2, "{e}");
        assert!(
            e.message.starts_with("config.toml is not valid TOML: "),
            "{e}"
        );
        let e = settings("config.json", "{\n  \"experimental\": [,]\n}", Format::Json).unwrap_err();
        assert_eq!(e.at.line, 2, "{e}");
        assert!(
            e.message.starts_with("config.json is not valid JSON: "),
            "{e}"
        );
        let e = settings(
            "config.yaml",
            "experimental: [a\nverbosity: x\n",
            Format::Yaml,
        )
        .unwrap_err();
        assert!(
            e.message.starts_with("config.yaml is not valid YAML: "),
            "{e}"
        );
        assert!(e.at.line >= 1, "{e}");
        let e = settings("config.yaml", "experimental: {a: 1}\n", Format::Yaml).unwrap_err();
        assert_eq!(e.at.line, 1);
        assert!(
            e.message
                .contains("must be a list of flag names, found a mapping")
        );
    }

    #[test]
    fn versioned_files_use_the_chosen_context() {
        let text = "schemaVersion: \"2.0.0\"\ncurrent-context: dev\ncontexts:\n  - name: default\n    config:\n      experimental: [file-sources]\n  - name: dev\n    config:\n      experimental: [persistent-parameters]\n      verbosty: debug\n";
        let got = settings("config.yaml", text, Format::Yaml).unwrap();
        assert_eq!(got.experimental.unwrap(), ["persistent-parameters"]);
        assert_eq!(got.warnings.len(), 1);
        assert_eq!(got.warnings[0].at.line, 10);
        let prod = |name: &str| {
            if name == "PORTER_CONTEXT" {
                Some("prod".into())
            } else {
                None
            }
        };
        let e = parse(
            &SourceFile::new("config.yaml", text.into()),
            Format::Yaml,
            &prod,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "context \"prod\" not found in config file; available: default, dev"
        );
        let flat = |name: &str| {
            if name == "PORTER_CONTEXT" {
                Some("dev".into())
            } else {
                None
            }
        };
        let e = parse(
            &SourceFile::new("config.yaml", "verbosity: x\n".into()),
            Format::Yaml,
            &flat,
        )
        .unwrap_err();
        assert!(
            e.message
                .starts_with("PORTER_CONTEXT requires a versioned config file")
        );
    }

    #[test]
    fn byte_offsets_to_positions() {
        assert_eq!(position_of("ab\ncd", 4), Position { line: 2, column: 2 });
        assert_eq!(position_of("ab", 0), Position { line: 1, column: 1 });
    }
}
