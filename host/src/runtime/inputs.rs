//! The values a run starts from, read as the CNAB runtime injected them,
//! as Porter's runtime reads them: a parameter or credential with an env
//! variable is that variable's value; one with only a file destination is
//! that file's *path* (what `${ bundle.credentials.kubeconfig }` renders
//! to), and the file must be there. File parameters arrive base64-encoded
//! and are decoded in place before any step runs. Defaults come from the
//! parameter's definition. Credentials and sensitive parameters are
//! masked: for a file, its content (Porter masks the path, which is not
//! the secret).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde_json::{Map, Value};

/// Where a run reads its environment and files. A trait so the pure part
/// of the runtime is tested without a container.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    fn write(&self, path: &str, bytes: &[u8]) -> std::io::Result<()>;
    fn remove(&self, path: &str);
}

/// The real one: the process's environment and the container's files.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(Path::new(path)).ok()
    }
    fn write(&self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::write(path, bytes)
    }
    fn remove(&self, path: &str) {
        let _ = std::fs::remove_file(path);
    }
}

/// The resolved inputs of one action.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Parameters that apply to the action (Porter's `bundle.parameters`),
    /// including porter's own (`porter-debug`, wiring parameters).
    pub parameters: BTreeMap<String, Value>,
    pub credentials: BTreeMap<String, String>,
    /// The decoded content of each file parameter, by name (`porter-state`
    /// among them).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every value that must never be printed.
    pub sensitive: Vec<String>,
}

/// A required value that is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub kind: &'static str,
    pub name: String,
    pub where_: String,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "required {} {} has no value (set {})",
            self.kind, self.name, self.where_
        )
    }
}

/// A problem with an injected value: the run stops before any step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing(Missing),
    /// A file parameter whose content is not base64.
    Undecodable {
        name: String,
        path: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing(m) => m.fmt(f),
            Problem::Undecodable { name, path } => write!(
                f,
                "file parameter {name} at {path} is not base64, as a CNAB runtime injects files"
            ),
        }
    }
}

pub fn resolve(
    bundle: &Value,
    action: &str,
    env: &dyn Environment,
) -> Result<Inputs, Vec<Problem>> {
    let mut inputs = Inputs::default();
    let mut problems = Vec::new();
    let empty = Map::new();
    let definitions = bundle["definitions"].as_object().unwrap_or(&empty);

    for (name, param) in bundle["parameters"].as_object().unwrap_or(&empty) {
        if !applies(param, action) {
            continue;
        }
        let definition = param["definition"]
            .as_str()
            .and_then(|d| definitions.get(d))
            .cloned()
            .unwrap_or(Value::Null);
        let destination = &param["destination"];
        let sensitive = definition["writeOnly"] == true;
        let missing = || {
            Problem::Missing(Missing {
                kind: "parameter",
                name: name.clone(),
                where_: describe(destination),
            })
        };
        let file_path = destination["path"]
            .as_str()
            .filter(|p| !p.is_empty() && definition["contentEncoding"] == "base64");
        if let Some(path) = file_path {
            // A file parameter: decoded in place, so scripts read the file
            // itself; in templates it is its path.
            match env.read(path) {
                Some(bytes) if bytes == b"null" => env.remove(path),
                Some(bytes) => {
                    let compact: Vec<u8> = bytes
                        .into_iter()
                        .filter(|b| !b.is_ascii_whitespace())
                        .collect();
                    match base64::engine::general_purpose::STANDARD.decode(&compact) {
                        Ok(decoded) => {
                            let _ = env.write(path, &decoded);
                            if sensitive {
                                inputs
                                    .sensitive
                                    .push(String::from_utf8_lossy(&decoded).into_owned());
                            }
                            inputs.files.insert(name.clone(), decoded);
                            inputs
                                .parameters
                                .insert(name.clone(), Value::String(path.to_string()));
                        }
                        Err(_) => problems.push(Problem::Undecodable {
                            name: name.clone(),
                            path: path.to_string(),
                        }),
                    }
                    continue;
                }
                None => {}
            }
            if param["required"] == true {
                problems.push(missing());
            }
            continue;
        }
        let value = match read_destination(destination, env) {
            Some(Injected::Env(text)) => Some(typed(&text, &definition)),
            Some(Injected::File { path, content }) => {
                if sensitive {
                    inputs.sensitive.push(content);
                }
                Some(Value::String(path))
            }
            None => definition.get("default").cloned(),
        };
        match value {
            Some(value) => {
                if sensitive {
                    inputs.sensitive.push(text_of(&value));
                }
                inputs.parameters.insert(name.clone(), value);
            }
            None if param["required"] == true => problems.push(missing()),
            // As Porter: an optional parameter without a value renders as
            // nothing.
            None => {
                inputs
                    .parameters
                    .insert(name.clone(), Value::String(String::new()));
            }
        }
    }

    for (name, cred) in bundle["credentials"].as_object().unwrap_or(&empty) {
        if !applies(cred, action) {
            continue;
        }
        match read_destination(cred, env) {
            Some(Injected::Env(value)) => {
                inputs.sensitive.push(value.clone());
                inputs.credentials.insert(name.clone(), value);
            }
            Some(Injected::File { path, content }) => {
                inputs.sensitive.push(content);
                inputs.credentials.insert(name.clone(), path);
            }
            None if cred["required"] == true => problems.push(Problem::Missing(Missing {
                kind: "credential",
                name: name.clone(),
                where_: describe(cred),
            })),
            // As Porter: an optional credential that was not given renders
            // as nothing (Porter reads its unset variable as "").
            None => {
                inputs.credentials.insert(name.clone(), String::new());
            }
        }
    }
    if problems.is_empty() {
        Ok(inputs)
    } else {
        Err(problems)
    }
}

/// Whether a parameter, credential or output applies to `action` (no
/// `applyTo`: every action).
pub fn applies(item: &Value, action: &str) -> bool {
    match item["applyTo"].as_array() {
        Some(actions) if !actions.is_empty() => actions.iter().any(|a| a == action),
        _ => true,
    }
}

/// What the CNAB runtime injected at a destination.
enum Injected {
    Env(String),
    File { path: String, content: String },
}

/// The value at a destination: its env variable first, then its file. An
/// env variable that is set, even empty, is a value; cnab-go writes `null`
/// for a null value, which is no value.
fn read_destination(destination: &Value, env: &dyn Environment) -> Option<Injected> {
    if let Some(value) = destination["env"]
        .as_str()
        .filter(|e| !e.is_empty())
        .and_then(|e| env.var(e))
    {
        return (value != "null").then_some(Injected::Env(value));
    }
    let path = destination["path"].as_str().filter(|p| !p.is_empty())?;
    let content = String::from_utf8_lossy(&env.read(path)?).into_owned();
    (content != "null").then(|| Injected::File {
        path: path.to_string(),
        content,
    })
}

fn describe(destination: &Value) -> String {
    let env = destination["env"].as_str().filter(|e| !e.is_empty());
    let path = destination["path"].as_str().filter(|p| !p.is_empty());
    match (env, path) {
        (Some(env), Some(path)) => format!("the env variable {env} or the file {path}"),
        (Some(env), None) => format!("the env variable {env}"),
        (None, Some(path)) => format!("the file {path}"),
        (None, None) => "it where the bundle's runtime injects it".into(),
    }
}

/// An injected value (always text) as its definition's type says.
fn typed(text: &str, definition: &Value) -> Value {
    let parsed = match definition["type"].as_str() {
        Some("boolean") => text.trim().parse::<bool>().ok().map(Value::Bool),
        Some("integer") => text.trim().parse::<i64>().ok().map(Value::from),
        Some("number") => serde_json::from_str::<serde_json::Number>(text.trim())
            .ok()
            .map(Value::Number),
        Some("object") | Some("array") => serde_json::from_str(text).ok(),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

/// A value as templates render it: strings as they are, the rest as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    struct Fake {
        vars: BTreeMap<String, String>,
        files: RefCell<BTreeMap<String, Vec<u8>>>,
    }

    impl Environment for Fake {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn read(&self, path: &str) -> Option<Vec<u8>> {
            self.files.borrow().get(path).cloned()
        }
        fn write(&self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
            self.files.borrow_mut().insert(path.into(), bytes.to_vec());
            Ok(())
        }
        fn remove(&self, path: &str) {
            self.files.borrow_mut().remove(path);
        }
    }

    fn bundle() -> Value {
        serde_json::json!({
            "definitions": {
                "greeting-parameter": {"type": "string", "default": "Hello"},
                "count-parameter": {"type": "integer"},
                "secret-parameter": {"type": "string", "writeOnly": true},
                "cfg-parameter": {"type": "string", "contentEncoding": "base64"},
            },
            "parameters": {
                "greeting": {"definition": "greeting-parameter", "destination": {"env": "GREETING"}},
                "count": {"definition": "count-parameter", "destination": {"env": "COUNT"}, "required": true},
                "secret": {"definition": "secret-parameter", "destination": {"env": "SECRET"}, "applyTo": ["install"]},
                "cfg": {"definition": "cfg-parameter", "destination": {"path": "/cnab/app/cfg"}},
            },
            "credentials": {
                "token": {"env": "TOKEN", "required": true},
                "kube": {"path": "/root/.kube/config", "applyTo": ["upgrade"]},
            }
        })
    }

    #[test]
    fn reads_values_where_the_bundle_puts_them() {
        let mut env = Fake::default();
        env.vars.insert("COUNT".into(), "3".into());
        env.vars.insert("SECRET".into(), "s3cret".into());
        env.vars.insert("TOKEN".into(), "tok".into());
        env.files
            .borrow_mut()
            .insert("/cnab/app/cfg".into(), b"aGVsbG8gZmlsZQ==".to_vec());
        env.files
            .borrow_mut()
            .insert("/root/.kube/config".into(), b"kube-secret".to_vec());
        let inputs = resolve(&bundle(), "install", &env).unwrap();
        assert_eq!(inputs.parameters["greeting"], "Hello");
        assert_eq!(inputs.parameters["count"], 3);
        assert_eq!(inputs.parameters["secret"], "s3cret");
        // A file renders as its path, and is decoded in place.
        assert_eq!(inputs.parameters["cfg"], "/cnab/app/cfg");
        assert_eq!(inputs.files["cfg"], b"hello file");
        assert_eq!(env.files.borrow()["/cnab/app/cfg"], b"hello file");
        assert_eq!(inputs.credentials["token"], "tok");
        // kube does not apply to install.
        assert!(!inputs.credentials.contains_key("kube"));
        assert_eq!(inputs.sensitive, ["s3cret", "tok"]);

        // The next run gets the file as injected again.
        env.files
            .borrow_mut()
            .insert("/cnab/app/cfg".into(), b"aGVsbG8gZmlsZQ==".to_vec());
        let upgrade = resolve(&bundle(), "upgrade", &env).unwrap();
        assert!(!upgrade.parameters.contains_key("secret"));
        assert_eq!(upgrade.credentials["kube"], "/root/.kube/config");
        assert!(upgrade.sensitive.contains(&"kube-secret".to_string()));

        env.files
            .borrow_mut()
            .insert("/cnab/app/cfg".into(), b"not base64!".to_vec());
        let problems = resolve(&bundle(), "install", &env).unwrap_err();
        assert_eq!(
            problems[0].to_string(),
            "file parameter cfg at /cnab/app/cfg is not base64, as a CNAB runtime injects files"
        );
    }

    #[test]
    fn every_missing_required_value_is_named_before_anything_runs() {
        let env = Fake::default();
        let missing = resolve(&bundle(), "install", &env).unwrap_err();
        let shown: Vec<String> = missing.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "required parameter count has no value (set the env variable COUNT)",
                "required credential token has no value (set the env variable TOKEN)",
            ]
        );
    }
}
