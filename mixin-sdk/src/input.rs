use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ConfigProblem, MixinError};

/// What [`crate::Mixin::build`] is given.
#[derive(Debug, Clone)]
pub struct BuildInput<C, S> {
    /// The mixin's `config` block from porter.yaml.
    pub config: C,
    /// The actions that contain steps for this mixin, in porter.yaml order.
    pub actions: Vec<Action<S>>,
    /// The invocation image's platform, e.g. `linux/amd64`.
    pub platform: String,
}

/// What [`crate::Mixin::lint`] is given.
#[derive(Debug, Clone)]
pub struct LintInput<C, S> {
    pub config: C,
    pub actions: Vec<Action<S>>,
}

/// The steps of one action (`install`, `upgrade`, `uninstall` or a custom
/// action) that use this mixin. Templates such as `${ bundle.parameters.x }`
/// are left as written.
#[derive(Debug, Clone)]
pub struct Action<S> {
    pub name: String,
    pub steps: Vec<S>,
}

/// `Mixin::Config` for a mixin that takes no configuration: accepts only
/// `null` (declared by name) or an empty mapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoConfig;

impl<'de> Deserialize<'de> for NoConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Empty {}
        match Option::<Empty>::deserialize(deserializer)? {
            Some(Empty {}) | None => Ok(NoConfig),
        }
    }
}

/// Reads the config JSON; `null` falls back to `{}` so a `Config` struct with
/// `#[serde(default)]` works for a mixin declared by name only.
pub(crate) fn decode_config<C: DeserializeOwned>(json: &str) -> Result<C, MixinError> {
    let problem = match decode::<C>(json, "") {
        Ok(config) => return Ok(config),
        Err(problem) => problem,
    };
    if json.trim() == "null"
        && let Ok(config) = decode::<C>("{}", "")
    {
        return Ok(config);
    }
    Err(MixinError::InvalidConfig(vec![problem]))
}

/// Reads every step of every action, collecting all problems.
pub(crate) fn decode_actions<S: DeserializeOwned>(
    actions: Vec<crate::bindings::porter::mixin::types::ActionSteps>,
) -> Result<Vec<Action<S>>, MixinError> {
    let mut decoded = Vec::with_capacity(actions.len());
    let mut problems = Vec::new();
    for action in actions {
        let mut steps = Vec::with_capacity(action.steps.len());
        for (index, step) in action.steps.iter().enumerate() {
            let prefix = format!("/{}/{index}", escape_pointer(&action.action));
            match decode::<S>(step, &prefix) {
                Ok(step) => steps.push(step),
                Err(problem) => problems.push(problem),
            }
        }
        decoded.push(Action {
            name: action.action,
            steps,
        });
    }
    if problems.is_empty() {
        Ok(decoded)
    } else {
        Err(MixinError::InvalidConfig(problems))
    }
}

/// Reads one step's body (runtime): problems point into the step.
pub(crate) fn decode_step<S: DeserializeOwned>(json: &str) -> Result<S, MixinError> {
    decode::<S>(json, "").map_err(|problem| MixinError::InvalidConfig(vec![problem]))
}

fn decode<T: DeserializeOwned>(json: &str, prefix: &str) -> Result<T, ConfigProblem> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let mut pointer = prefix.to_string();
        for segment in error.path().iter() {
            use serde_path_to_error::Segment;
            let text = match segment {
                Segment::Seq { index } => index.to_string(),
                Segment::Map { key } => escape_pointer(key),
                Segment::Enum { variant } => escape_pointer(variant),
                Segment::Unknown => continue,
            };
            pointer.push('/');
            pointer.push_str(&text);
        }
        ConfigProblem {
            pointer,
            message: without_json_position(&error.into_inner().to_string()),
        }
    })
}

/// serde_json ends its messages with a position in the JSON text the host
/// made, which means nothing to the user (the pointer says where).
fn without_json_position(message: &str) -> String {
    if let Some(at) = message.rfind(" at line ") {
        let tail = &message[at + " at line ".len()..];
        let mut parts = tail.split(" column ");
        if let (Some(line), Some(column), None) = (parts.next(), parts.next(), parts.next())
            && line.chars().all(|c| c.is_ascii_digit())
            && column.chars().all(|c| c.is_ascii_digit())
        {
            return message[..at].to_string();
        }
    }
    message.to_string()
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Step {
        #[allow(dead_code)]
        command: String,
    }

    #[test]
    fn no_config_accepts_null_and_empty_mapping_only() {
        assert_eq!(decode_config::<NoConfig>("null").unwrap(), NoConfig);
        assert_eq!(decode_config::<NoConfig>("{}").unwrap(), NoConfig);
        let err = decode_config::<NoConfig>(r#"{"x":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
    }

    #[test]
    fn null_config_falls_back_to_empty_mapping() {
        #[derive(Deserialize, Default, Debug, PartialEq)]
        #[serde(default)]
        struct Config {
            version: String,
        }
        assert_eq!(decode_config::<Config>("null").unwrap(), Config::default());
    }

    #[test]
    fn step_problems_are_located_by_action_index_and_field() {
        let actions = vec![crate::bindings::porter::mixin::types::ActionSteps {
            action: "install".into(),
            steps: vec![
                r#"{"command":"ok"}"#.into(),
                r#"{"command":3}"#.into(),
                "{}".into(),
            ],
        }];
        let Err(MixinError::InvalidConfig(problems)) = decode_actions::<Step>(actions) else {
            panic!("expected problems");
        };
        let pointers: Vec<_> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/install/1/command", "/install/2"]);
        assert!(
            problems[0].message.contains("invalid type"),
            "{:?}",
            problems[0]
        );
        assert_eq!(problems[1].message, "missing field `command`");
    }
}
