//! A step's `flags`: a mapping from flag name to null, a scalar or a list of
//! strings, expanded into arguments the way Porter's mixins do.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde_json::Value;

use super::go;
use super::split::split_words;

/// The dashes put before flag names: `short` before one-character names,
/// `long` before the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dashes {
    pub long: &'static str,
    pub short: &'static str,
}

impl Dashes {
    /// `-x` and `--name`: most command-line tools, and Porter's default.
    pub const DEFAULT: Dashes = Dashes {
        long: "--",
        short: "-",
    };
    /// `-x` and `-name`: terraform (and Go's `flag` package).
    pub const SINGLE: Dashes = Dashes {
        long: "-",
        short: "-",
    };

    /// The dash for `name`: `short` when the name is one byte long (Porter
    /// counts bytes), else `long`.
    pub fn for_name(&self, name: &str) -> &'static str {
        if name.len() == 1 {
            self.short
        } else {
            self.long
        }
    }
}

impl Default for Dashes {
    fn default() -> Self {
        Dashes::DEFAULT
    }
}

/// One flag: its name and values. No value is a bare flag (`--wait`);
/// several values repeat the flag (`--set a=1 --set b=2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub values: Vec<String>,
}

impl Flag {
    /// `--name value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Flag {
            name: name.into(),
            values: vec![value.into()],
        }
    }

    /// `--name`, with no value.
    pub fn bare(name: impl Into<String>) -> Self {
        Flag {
            name: name.into(),
            values: Vec::new(),
        }
    }

    /// `--name v1 --name v2 ...`; no values is a bare flag.
    pub fn repeated<I, S>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Flag {
            name: name.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// The tokens of this flag, before splitting: `[--name]` when it has no
    /// value, else `--name value` for each value.
    pub fn tokens(&self, dashes: Dashes) -> Vec<String> {
        let name = format!("{}{}", dashes.for_name(&self.name), self.name);
        if self.values.is_empty() {
            return vec![name];
        }
        let mut tokens = Vec::with_capacity(self.values.len() * 2);
        for value in &self.values {
            tokens.push(name.clone());
            tokens.push(value.clone());
        }
        tokens
    }
}

/// A step's flags, and the dashes they are spelled with.
///
/// Read from a mapping of flag name to:
///
/// | value | arguments |
/// |---|---|
/// | null (`wait:`) | `--wait` |
/// | string, number, bool | `--name value`; numbers and bools as Go prints them (`25`, `1.5`, `true`) |
/// | list of strings | `--name v1 --name v2` |
///
/// A list item that is not a string is refused with Porter's message
/// `invalid yaml type for flag <name>: <Go type>` (`int`, `float64`,
/// `bool`, `<nil>`, ...). A mapping as a value is refused the same way
/// (Porter would pass Go's text of the map, `map[a:1]`). A null `flags:`
/// is no flags.
///
/// [`Flags::to_args`] sorts the flags by name, spells them with the dashes
/// (`-x` for one-character names, `--name` for longer ones unless
/// [`Flags::single_dash`]), and splits every token into words (see
/// [`split_words`](super::split_words)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Flags {
    flags: Vec<Flag>,
    dashes: Dashes,
}

impl Flags {
    /// No flags, default dashes.
    pub fn new() -> Self {
        Flags::default()
    }

    /// Adds a flag (keeps any flag of the same name: both are passed).
    pub fn push(&mut self, flag: Flag) {
        self.flags.push(flag);
    }

    /// Adds a flag, builder style.
    pub fn with(mut self, flag: Flag) -> Self {
        self.push(flag);
        self
    }

    /// Removes every flag named `name`, returning the removed ones.
    pub fn remove(&mut self, name: &str) -> Vec<Flag> {
        let (removed, kept) = std::mem::take(&mut self.flags)
            .into_iter()
            .partition(|f| f.name == name);
        self.flags = kept;
        removed
    }

    /// The first flag named `name`.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The flags, in the order they were read or added.
    pub fn iter(&self) -> std::slice::Iter<'_, Flag> {
        self.flags.iter()
    }

    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The dashes the flags are spelled with.
    pub fn dashes(&self) -> Dashes {
        self.dashes
    }

    /// Spells the flags with these dashes.
    pub fn with_dashes(mut self, dashes: Dashes) -> Self {
        self.dashes = dashes;
        self
    }

    /// Spells every flag with a single dash, as terraform wants.
    pub fn single_dash(self) -> Self {
        self.with_dashes(Dashes::SINGLE)
    }

    /// The flags as arguments: sorted by name (a stable sort: flags of the
    /// same name keep their order, which Porter's unstable sort does not
    /// promise), each expanded to its tokens, each token split into words.
    pub fn to_args(&self) -> Vec<String> {
        let mut sorted: Vec<&Flag> = self.flags.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        sorted
            .into_iter()
            .flat_map(|flag| flag.tokens(self.dashes))
            .flat_map(|token| split_words(&token))
            .collect()
    }

    /// Reads flags from a JSON value: a mapping as described on [`Flags`],
    /// or null.
    pub fn from_value(value: &Value) -> Result<Flags, FlagError> {
        let map = match value {
            Value::Null => return Ok(Flags::new()),
            Value::Object(map) => map,
            other => {
                return Err(FlagError(format!(
                    "flags must be a mapping of flag names to values, not {}",
                    go::type_name(other)
                )));
            }
        };
        let mut flags = Flags::new();
        for (name, value) in map {
            flags.push(flag_from_value(name, value)?);
        }
        Ok(flags)
    }
}

fn flag_from_value(name: &str, value: &Value) -> Result<Flag, FlagError> {
    let invalid = |v: &Value| {
        FlagError(format!(
            "invalid yaml type for flag {name}: {}",
            go::type_name(v)
        ))
    };
    match value {
        Value::Null => Ok(Flag::bare(name)),
        Value::Array(items) => {
            let values = items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(invalid(other)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Flag::repeated(name, values))
        }
        Value::Object(_) => Err(invalid(value)),
        scalar => Ok(Flag::new(
            name,
            go::scalar_v(scalar).ok_or_else(|| invalid(scalar))?,
        )),
    }
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        Flags {
            flags: iter.into_iter().collect(),
            dashes: Dashes::DEFAULT,
        }
    }
}

impl Extend<Flag> for Flags {
    fn extend<I: IntoIterator<Item = Flag>>(&mut self, iter: I) {
        self.flags.extend(iter);
    }
}

impl<'a> IntoIterator for &'a Flags {
    type Item = &'a Flag;
    type IntoIter = std::slice::Iter<'a, Flag>;
    fn into_iter(self) -> Self::IntoIter {
        self.flags.iter()
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Flags::from_value(&value).map_err(de::Error::custom)
    }
}

/// Flags that cannot be read; the message is Porter's where Porter has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagError(pub String);

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FlagError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flags(v: Value) -> Flags {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn one_character_names_get_one_dash_longer_two() {
        assert_eq!(Flag::new("f", "abc").tokens(Dashes::DEFAULT), ["-f", "abc"]);
        assert_eq!(
            Flag::new("full", "abc").tokens(Dashes::DEFAULT),
            ["--full", "abc"]
        );
        assert_eq!(Flag::bare("l").tokens(Dashes::DEFAULT), ["-l"]);
        let odd = Dashes {
            long: "---",
            short: "-",
        };
        assert_eq!(Flag::new("full", "abc").tokens(odd), ["---full", "abc"]);
        // Porter counts bytes: a two-byte character is a long name.
        assert_eq!(Flag::bare("é").tokens(Dashes::DEFAULT), ["--é"]);
    }

    #[test]
    fn single_dash_spells_every_flag_with_one_dash() {
        let f = flags(json!({"var": "a=1", "x": null, "input": false})).single_dash();
        assert_eq!(f.to_args(), ["-input", "false", "-var", "a=1", "-x"]);
        assert_eq!(f.dashes(), Dashes::SINGLE);
    }

    #[test]
    fn flags_are_sorted_by_name() {
        let f = Flags::from_iter([Flag::new("bull", "2"), Flag::new("a", "1")]);
        assert_eq!(f.to_args(), ["-a", "1", "--bull", "2"]);
        let f = Flags::from_iter([
            Flag::new("b", "1"),
            Flag::new("a", "2"),
            Flag::new("c", "3"),
        ]);
        assert_eq!(f.to_args(), ["-a", "2", "-b", "1", "-c", "3"]);
        // Byte order, like Go's string comparison.
        let f = flags(json!({"b": null, "B": null, "a-b": null, "a": null}));
        assert_eq!(f.to_args(), ["-B", "-a", "--a-b", "-b"]);
    }

    #[test]
    fn values_by_type() {
        let f = flags(json!({
            "null": null,
            "string": "abc",
            "int": 25,
            "negative": -1,
            "float": 1.5,
            "whole-float": 2.0,
            "bool": true,
            "list": ["FOO=BAR", "STUFF=THINGS"],
            "empty-list": [],
        }));
        assert_eq!(
            f.to_args(),
            [
                "--bool",
                "true",
                "--empty-list",
                "--float",
                "1.5",
                "--int",
                "25",
                "--list",
                "FOO=BAR",
                "--list",
                "STUFF=THINGS",
                "--negative",
                "-1",
                "--null",
                "--string",
                "abc",
                "--whole-float",
                "2",
            ]
        );
    }

    #[test]
    fn a_list_item_that_is_not_a_string_is_refused() {
        for (item, ty) in [
            (json!(1), "int"),
            (json!(1.5), "float64"),
            (json!(true), "bool"),
            (json!(null), "<nil>"),
            (json!(["x"]), "[]interface {}"),
            (json!({"a": "b"}), "map[string]interface {}"),
        ] {
            let err = serde_json::from_value::<Flags>(json!({"set": ["ok", item]})).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid yaml type for flag set: {ty}")
            );
        }
        let err = serde_json::from_value::<Flags>(json!({"m": {"a": 1}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid yaml type for flag m: map[string]interface {}"
        );
    }

    #[test]
    fn null_flags_are_none_and_other_shapes_are_refused() {
        assert!(flags(json!(null)).is_empty());
        assert!(flags(json!({})).is_empty());
        let err = serde_json::from_value::<Flags>(json!(["a"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "flags must be a mapping of flag names to values, not []interface {}"
        );
    }

    #[test]
    fn every_token_is_split_on_unquoted_whitespace() {
        let f = flags(json!({
            "c": "echo Hello World",
            "quoted": "'k=a b' \"c d\"",
            "empty": "",
            "service-principal": "",
            "unmatched": "it's",
        }));
        assert_eq!(
            f.to_args(),
            [
                "-c",
                "echo",
                "Hello",
                "World",
                "--empty",
                "--quoted",
                "k=a b",
                "c d",
                "--service-principal",
                "--unmatched",
                "it's",
            ]
        );
        // Flag names are split too.
        let f = Flags::new().with(Flag::new("a b", "v"));
        assert_eq!(f.to_args(), ["--a", "b", "v"]);
    }

    #[test]
    fn building_and_editing() {
        let mut f = Flags::new()
            .with(Flag::new("set", "a=1"))
            .with(Flag::bare("wait"))
            .with(Flag::new("set", "b=2"));
        assert_eq!(f.len(), 3);
        assert_eq!(f.get("wait"), Some(&Flag::bare("wait")));
        assert_eq!(
            f.to_args(),
            ["--set", "a=1", "--set", "b=2", "--wait"],
            "same-name flags keep their order"
        );
        assert_eq!(f.remove("set").len(), 2);
        f.extend([Flag::repeated("values", ["a.yaml", "b.yaml"])]);
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["wait", "values"]);
        assert_eq!(
            f.to_args(),
            ["--values", "a.yaml", "--values", "b.yaml", "--wait"]
        );
    }
}
