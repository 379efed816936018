//! JSON as Porter's jsonPath outputs see it: numbers kept as written,
//! objects printed with sorted keys and Go's escaping, and JSONPath results
//! shaped like PaesslerAG/jsonpath's.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_json_path::{JsonPath, PathElement};

/// A JSON value as Go decodes it into `interface{}` with `UseNumber`:
/// numbers keep their text, objects are maps (sorted keys, the last of
/// duplicate keys wins).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GoJson {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<GoJson>),
    Object(BTreeMap<String, GoJson>),
}

/// The first JSON value of `text`, as a `serde_json::Value` (to query) and
/// as a [`GoJson`] (to print). Like Go's `json.Decoder`, text after the
/// first value is ignored, and text with no value is the error `EOF`.
pub(crate) fn decode_first(text: &str) -> Result<(Value, GoJson), String> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = match stream.next() {
        None => return Err("EOF".to_string()),
        Some(Err(e)) => return Err(e.to_string()),
        Some(Ok(value)) => value,
    };
    let end = stream.byte_offset();
    let raw = Parser {
        text: &text[..end],
        at: 0,
    }
    .value()
    .ok_or_else(|| "unexpected end of JSON input".to_string())?;
    Ok((value, raw))
}

/// A parser for text serde_json has already accepted: it only has to keep
/// each number's text.
struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    fn value(&mut self) -> Option<GoJson> {
        match self.peek()? {
            b'{' => {
                self.at += 1;
                let mut map = BTreeMap::new();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(GoJson::Object(map));
                }
                loop {
                    self.peek()?;
                    let key = self.string()?;
                    self.peek()?; // the `:`
                    self.at += 1;
                    let value = self.value()?;
                    map.insert(key, value);
                    let sep = self.peek()?;
                    self.at += 1;
                    if sep == b'}' {
                        return Some(GoJson::Object(map));
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(GoJson::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    let sep = self.peek()?;
                    self.at += 1;
                    if sep == b']' {
                        return Some(GoJson::Array(items));
                    }
                }
            }
            b'"' => self.string().map(GoJson::String),
            b't' => {
                self.at += 4;
                Some(GoJson::Bool(true))
            }
            b'f' => {
                self.at += 5;
                Some(GoJson::Bool(false))
            }
            b'n' => {
                self.at += 4;
                Some(GoJson::Null)
            }
            _ => {
                let start = self.at;
                let bytes = self.text.as_bytes();
                while bytes
                    .get(self.at)
                    .is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    self.at += 1;
                }
                Some(GoJson::Number(self.text[start..self.at].to_string()))
            }
        }
    }

    /// The string starting at the current `"`, unescaped.
    fn string(&mut self) -> Option<String> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut i = start + 1;
        loop {
            match bytes.get(i)? {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        self.at = i + 1;
        serde_json::from_str(&self.text[start..=i]).ok()
    }
}

/// Go's `json.Marshal` of a decoded value: compact, map keys sorted, and
/// `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub(crate) fn marshal(value: &GoJson) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &GoJson, out: &mut String) {
    match value {
        GoJson::Null => out.push_str("null"),
        GoJson::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        GoJson::Number(n) => out.push_str(n),
        GoJson::String(s) => write_string(s, out),
        GoJson::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        GoJson::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// How Porter writes a jsonPath result: objects and arrays as compact
/// JSON, everything else as Go's `%v` (strings raw, numbers as written,
/// `null` as `<nil>`).
pub(crate) fn output_text(value: &GoJson) -> String {
    match value {
        GoJson::Null => "<nil>".to_string(),
        GoJson::Bool(b) => b.to_string(),
        GoJson::Number(n) => n.clone(),
        GoJson::String(s) => s.clone(),
        GoJson::Array(_) | GoJson::Object(_) => marshal(value),
    }
}

/// One step of a singular path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Name(String),
    Index(i64),
}

/// Evaluates `path` against a document the way PaesslerAG/jsonpath shapes
/// its answer: a path of only names and indexes (`$.a[0].b`) gives that
/// one value, or an error when it is missing; any other path (wildcards,
/// slices, filters, `..`, unions) gives an array of what it selects, in
/// document order, possibly empty.
pub(crate) fn query(path: &str, doc: &Value, raw: &GoJson) -> Result<GoJson, String> {
    let parsed = JsonPath::parse(path).map_err(|e| e.to_string())?;
    if let Some(steps) = singular_steps(path) {
        return walk(raw, &steps);
    }
    let located = parsed.query_located(doc);
    let mut items = Vec::new();
    for node in located.iter() {
        let mut at = raw;
        for element in node.location().iter() {
            at = match (element, at) {
                (PathElement::Name(name), GoJson::Object(map)) => map.get(*name),
                (PathElement::Index(i), GoJson::Array(list)) => list.get(*i),
                _ => None,
            }
            .ok_or_else(|| format!("internal error: {} not found", node.location()))?;
        }
        items.push(at.clone());
    }
    Ok(GoJson::Array(items))
}

fn walk(raw: &GoJson, steps: &[Step]) -> Result<GoJson, String> {
    let mut at = raw;
    for step in steps {
        at = match (step, at) {
            (Step::Name(name), GoJson::Object(map)) => {
                map.get(name).ok_or_else(|| format!("unknown key {name}"))?
            }
            (Step::Index(i), GoJson::Array(list)) => {
                let index = if *i < 0 {
                    i64::try_from(list.len()).unwrap_or(i64::MAX) + i
                } else {
                    *i
                };
                usize::try_from(index)
                    .ok()
                    .and_then(|index| list.get(index))
                    .ok_or_else(|| format!("index {i} out of range"))?
            }
            (Step::Name(name), other) => {
                return Err(format!("cannot get key {name} of {}", kind(other)));
            }
            (Step::Index(i), other) => {
                return Err(format!("cannot get index {i} of {}", kind(other)));
            }
        };
    }
    Ok(at.clone())
}

fn kind(value: &GoJson) -> &'static str {
    match value {
        GoJson::Null => "null",
        GoJson::Bool(_) => "a boolean",
        GoJson::Number(_) => "a number",
        GoJson::String(_) => "a string",
        GoJson::Array(_) => "an array",
        GoJson::Object(_) => "an object",
    }
}

/// The names and indexes of an RFC 9535 singular query (`$`, `.name`,
/// `['name']`, `["name"]`, `[3]`, `[-1]`), or None for any other query.
/// Only called on paths `JsonPath::parse` accepted.
fn singular_steps(path: &str) -> Option<Vec<Step>> {
    let chars: Vec<char> = path.chars().collect();
    let blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut i = 0;
    let skip = |i: &mut usize| {
        while chars.get(*i).copied().is_some_and(blank) {
            *i += 1;
        }
    };
    if chars.first() != Some(&'$') {
        return None;
    }
    i += 1;
    let mut steps = Vec::new();
    loop {
        skip(&mut i);
        match chars.get(i) {
            None => return Some(steps),
            Some('.') => {
                i += 1;
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || !c.is_ascii())
                {
                    i += 1;
                }
                if i == start {
                    return None; // `.*` or `..`
                }
                steps.push(Step::Name(chars[start..i].iter().collect()));
            }
            Some('[') => {
                i += 1;
                skip(&mut i);
                match chars.get(i)? {
                    quote @ ('\'' | '"') => {
                        let quote = *quote;
                        i += 1;
                        let mut name = String::new();
                        loop {
                            match chars.get(i)? {
                                '\\' => {
                                    let (c, used) = unescape(&chars[i + 1..])?;
                                    name.push(c);
                                    i += 1 + used;
                                }
                                c if *c == quote => {
                                    i += 1;
                                    break;
                                }
                                c => {
                                    name.push(*c);
                                    i += 1;
                                }
                            }
                        }
                        steps.push(Step::Name(name));
                    }
                    c if *c == '-' || c.is_ascii_digit() => {
                        let start = i;
                        i += 1;
                        while chars.get(i).is_some_and(char::is_ascii_digit) {
                            i += 1;
                        }
                        let text: String = chars[start..i].iter().collect();
                        steps.push(Step::Index(text.parse().ok()?));
                    }
                    _ => return None,
                }
                skip(&mut i);
                if chars.get(i) != Some(&']') {
                    return None; // a union, a slice
                }
                i += 1;
            }
            Some(_) => return None,
        }
    }
}

/// The character of an escape in a JSONPath string (after the backslash),
/// and how many characters it used.
fn unescape(rest: &[char]) -> Option<(char, usize)> {
    let c = match rest.first()? {
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let hex = |from: usize| -> Option<u32> {
                let digits: String = rest.get(from..from + 4)?.iter().collect();
                u32::from_str_radix(&digits, 16).ok()
            };
            let high = hex(1)?;
            if (0xD800..0xDC00).contains(&high) && rest.get(5) == Some(&'\\') {
                let low = hex(7)?;
                let code = 0x10000 + ((high - 0xD800) << 10) + (low.checked_sub(0xDC00)?);
                return Some((char::from_u32(code)?, 11));
            }
            return Some((char::from_u32(high)?, 5));
        }
        other => *other,
    };
    Some((c, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> (Value, GoJson) {
        decode_first(text).unwrap()
    }

    fn eval(path: &str, text: &str) -> Result<String, String> {
        let (doc, raw) = decode(text);
        query(path, &doc, &raw).map(|v| output_text(&v))
    }

    #[test]
    fn numbers_keep_their_text() {
        let (_, raw) = decode(
            r#"{"a": 1.50, "b": 1.23123123e+08, "c": 123456789012345678901234567890, "d": -0}"#,
        );
        assert_eq!(
            marshal(&raw),
            r#"{"a":1.50,"b":1.23123123e+08,"c":123456789012345678901234567890,"d":-0}"#
        );
    }

    #[test]
    fn marshal_sorts_keys_and_escapes_like_go() {
        let (_, raw) = decode(
            r#"{"b": "<a&b>", "a": ["\u2028", "\b\f\u0001", "tab\t\"q\"\\", "é"], "a": [true, null]}"#,
        );
        assert_eq!(
            marshal(&raw),
            r#"{"a":[true,null],"b":"\u003ca\u0026b\u003e"}"#
        );
        let (_, raw) = decode(r#"["\u2028", "\b\f\u0001", "tab\t\"q\"\\", "é", {}, []]"#);
        assert_eq!(
            marshal(&raw),
            r#"["\u2028","\b\f\u0001","tab\t\"q\"\\","é",{},[]]"#
        );
    }

    #[test]
    fn only_the_first_value_is_read() {
        let (doc, raw) = decode("{\"a\": 1}\n{\"b\": 2}\n");
        assert_eq!(doc, serde_json::json!({"a": 1}));
        assert_eq!(marshal(&raw), r#"{"a":1}"#);
        assert_eq!(decode_first("  \n").unwrap_err(), "EOF");
        assert!(decode_first("{\"a\":").is_err());
        assert!(decode_first("not json").is_err());
    }

    #[test]
    fn singular_paths_give_one_value_or_an_error() {
        let doc = r#"{"Instances": [{"InstanceId": "i-1", "n": 2.0, "ok": false, "none": null, "o": {"y": 1, "x": [1]}}], "a b": {"c'd": 1}}"#;
        assert_eq!(eval("$.Instances[0].InstanceId", doc).unwrap(), "i-1");
        assert_eq!(eval("$.Instances[-1].n", doc).unwrap(), "2.0");
        assert_eq!(eval("$.Instances[0].ok", doc).unwrap(), "false");
        assert_eq!(eval("$.Instances[0].none", doc).unwrap(), "<nil>");
        assert_eq!(eval("$.Instances[0].o", doc).unwrap(), r#"{"x":[1],"y":1}"#);
        assert_eq!(eval("$['a b'][\"c'd\"]", doc).unwrap(), "1");
        assert_eq!(eval("$[ 'a b' ]['c\\'d']", doc).unwrap(), "1");
        assert_eq!(eval("$", "[1, 2]").unwrap(), "[1,2]");
        assert_eq!(eval("$.missing", doc).unwrap_err(), "unknown key missing");
        assert_eq!(
            eval("$.Instances[3]", doc).unwrap_err(),
            "index 3 out of range"
        );
        assert_eq!(
            eval("$.Instances[-2]", doc).unwrap_err(),
            "index -2 out of range"
        );
        assert_eq!(
            eval("$.Instances[0].InstanceId.x", doc).unwrap_err(),
            "cannot get key x of a string"
        );
        assert_eq!(
            eval("$.Instances.x", doc).unwrap_err(),
            "cannot get key x of an array"
        );
        assert_eq!(
            eval("$.a[0]", r#"{"a": {}}"#).unwrap_err(),
            "cannot get index 0 of an object"
        );
    }

    #[test]
    fn other_paths_give_an_array() {
        let doc = r#"[{"id": "a", "n": 1e2}, {"n": 2}, {"id": "c"}]"#;
        assert_eq!(eval("$[*].id", doc).unwrap(), r#"["a","c"]"#);
        assert_eq!(eval("$[*].n", doc).unwrap(), "[1e2,2]");
        assert_eq!(eval("$..id", doc).unwrap(), r#"["a","c"]"#);
        assert_eq!(eval("$[0:2].n", doc).unwrap(), "[1e2,2]");
        assert_eq!(eval("$[?@.id == 'c']", doc).unwrap(), r#"[{"id":"c"}]"#);
        assert_eq!(eval("$[?(@.n > 1)].n", doc).unwrap(), "[1e2,2]");
        assert_eq!(eval("$[0,2].id", doc).unwrap(), r#"["a","c"]"#);
        assert_eq!(eval("$[*].missing", doc).unwrap(), "[]");
        assert_eq!(eval("$.*", r#"{"b": 1, "a": 2}"#).unwrap(), "[1,2]");
    }

    #[test]
    fn invalid_paths_are_errors() {
        assert!(eval("$.", "{}").is_err());
        assert!(eval("no dollar", "{}").is_err());
        assert!(eval("$.machine-type", "{}").is_err());
    }

    #[test]
    fn singular_detection() {
        assert_eq!(
            singular_steps("$.a['b'][1][-2].ünï_1"),
            Some(vec![
                Step::Name("a".into()),
                Step::Name("b".into()),
                Step::Index(1),
                Step::Index(-2),
                Step::Name("ünï_1".into()),
            ])
        );
        assert_eq!(
            singular_steps("$['\\u263a\\ud83d\\ude00\\n']"),
            Some(vec![Step::Name("☺😀\n".into())])
        );
        for p in [
            "$.*",
            "$..a",
            "$[*]",
            "$[0:1]",
            "$[0,1]",
            "$[?@.a]",
            "$['a','b']",
        ] {
            assert_eq!(singular_steps(p), None, "{p}");
        }
    }
}
