//! `${ ... }` template variables: found in the manifest at build time so
//! wiring parameters can be added and undefined names caught before runtime.

use serde_json::Value;

use super::source::escape;

/// One use of a template variable, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUse {
    /// The variable, e.g. `bundle.parameters.port`.
    pub variable: String,
    /// JSON Pointer of the string it appears in.
    pub pointer: String,
}

/// Every `${ ... }` in every string of `value`, in document order. Mustache
/// sections and comments (`${#x}`, `${/x}`, `${!x}`...) are not variables.
pub fn scan(value: &Value) -> Vec<TemplateUse> {
    let mut uses = Vec::new();
    walk(value, &mut String::new(), &mut uses);
    uses
}

fn walk(value: &Value, pointer: &mut String, uses: &mut Vec<TemplateUse>) {
    match value {
        Value::String(text) => {
            for variable in variables_in(text) {
                uses.push(TemplateUse {
                    variable,
                    pointer: pointer.clone(),
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                walk(item, pointer, uses);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                for variable in variables_in(key) {
                    uses.push(TemplateUse {
                        variable,
                        pointer: pointer.clone(),
                    });
                }
                walk(item, pointer, uses);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// The variables of one string: `${ a.b }` gives `a.b`.
pub fn variables_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = after[..end].trim();
        let inner = inner.strip_prefix('&').map(str::trim).unwrap_or(inner);
        if !inner.is_empty() && !inner.starts_with(['#', '^', '/', '!', '>', '=', '{']) {
            found.push(inner.to_string());
        }
        rest = &after[end + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_with_their_place() {
        let doc = serde_json::json!({"install": [{"exec": {"arguments": ["${ bundle.parameters.a }-${bundle.credentials.b}", "plain", "${#x}${/x}"]}}]});
        let uses = scan(&doc);
        let found: Vec<(&str, &str)> = uses
            .iter()
            .map(|u| (u.variable.as_str(), u.pointer.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("bundle.parameters.a", "/install/0/exec/arguments/0"),
                ("bundle.credentials.b", "/install/0/exec/arguments/0"),
            ]
        );
    }

    #[test]
    fn unterminated_and_empty_tags_are_not_variables() {
        assert!(variables_in("${ ").is_empty());
        assert!(variables_in("${}").is_empty());
        assert_eq!(variables_in("${ a }${ b"), ["a"]);
    }
}
