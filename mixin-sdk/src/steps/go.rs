//! How Go's `fmt` prints values, where Porter's messages and flag values
//! depend on it.

use serde_json::Value;

/// Go's `%v` of a float64: the shortest digits that read back as the same
/// number, in `%e` form (`1.23123123e+08`, at least two exponent digits)
/// when the exponent is below -4 or at least 6, else plain (`0.0001`,
/// `123456`, `1.5`).
pub(crate) fn float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` is the shortest round-trip form too: `1.23123123e8`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Go's `%v` of a scalar decoded from YAML or JSON into `interface{}`:
/// integers in decimal, floats as [`float_v`], booleans as `true`/`false`.
pub(crate) fn scalar_v(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(if n.is_f64() {
            float_v(n.as_f64().unwrap_or(f64::NAN))
        } else {
            n.to_string()
        }),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Go's `%T` of a value decoded from YAML into `interface{}`.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%q` of a string: double-quoted, with Go's escapes.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || c == '\u{fffe}' || c == '\u{feff}' => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_v_matches_go() {
        for (f, want) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (123123123.0, "1.23123123e+08"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(float_v(f), want, "{f}");
        }
    }

    #[test]
    fn scalar_v_and_type_names() {
        assert_eq!(scalar_v(&json!(25)).as_deref(), Some("25"));
        assert_eq!(scalar_v(&json!(-3)).as_deref(), Some("-3"));
        assert_eq!(scalar_v(&json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(scalar_v(&json!(true)).as_deref(), Some("true"));
        assert_eq!(scalar_v(&json!("x y")).as_deref(), Some("x y"));
        assert_eq!(scalar_v(&json!(null)), None);
        assert_eq!(type_name(&json!(1)), "int");
        assert_eq!(type_name(&json!(1.5)), "float64");
        assert_eq!(type_name(&json!(false)), "bool");
        assert_eq!(type_name(&json!(null)), "<nil>");
        assert_eq!(type_name(&json!([1])), "[]interface {}");
        assert_eq!(type_name(&json!({"a": 1})), "map[string]interface {}");
    }

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("tab\there\n"), r#""tab\there\n""#);
        assert_eq!(quote("\u{1}\u{7f}"), r#""\x01\x7f""#);
        assert_eq!(quote("é ✓"), "\"é ✓\"");
    }
}
