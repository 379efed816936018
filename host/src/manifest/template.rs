//! Template variables (`${ bundle.parameters.x }`): found in the manifest
//! at build time, so wiring parameters can be added and undefined names
//! caught before runtime, and rendered in each step at runtime.
//!
//! Porter's templates are Mustache with its delimiters switched to `${ }`
//! for every `schemaVersion` after `1.0.0-alpha.1`; manifests at
//! `1.0.0-alpha.1` (or with none) keep Mustache's `{{ }}`, and many
//! published bundles still do. Only variables are templates in steps:
//! sections, partials and comments are not rendered.

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

/// How a manifest writes its templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiters {
    /// `${ bundle.x }`: every schemaVersion after `1.0.0-alpha.1`.
    Dollar,
    /// `{{ bundle.x }}`: `1.0.0-alpha.1` and manifests without a version.
    Mustache,
}

impl Delimiters {
    /// The delimiters Porter uses for a manifest's `schemaVersion`.
    pub fn for_schema_version(version: &str) -> Self {
        match version.trim() {
            "" | "1.0.0-alpha.1" => Delimiters::Mustache,
            _ => Delimiters::Dollar,
        }
    }

    fn open(self) -> &'static str {
        match self {
            Delimiters::Dollar => "${",
            Delimiters::Mustache => "{{",
        }
    }

    fn close(self) -> &'static str {
        match self {
            Delimiters::Dollar => "}",
            Delimiters::Mustache => "}}",
        }
    }
}

/// Every variable in every string of `value`, in document order. Mustache
/// sections and comments (`${#x}`, `${/x}`, `${!x}`...) are not variables.
pub fn scan(value: &Value, delimiters: Delimiters) -> Vec<TemplateUse> {
    let mut uses = Vec::new();
    walk(value, delimiters, &mut String::new(), &mut uses);
    uses
}

fn walk(value: &Value, delimiters: Delimiters, pointer: &mut String, uses: &mut Vec<TemplateUse>) {
    match value {
        Value::String(text) => {
            for variable in variables_in(text, delimiters) {
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
                walk(item, delimiters, pointer, uses);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                for variable in variables_in(key, delimiters) {
                    uses.push(TemplateUse {
                        variable,
                        pointer: pointer.clone(),
                    });
                }
                walk(item, delimiters, pointer, uses);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// The variables of one string: `${ a.b }` gives `a.b`.
pub fn variables_in(text: &str, delimiters: Delimiters) -> Vec<String> {
    tags(text, delimiters)
        .filter_map(|tag| match tag {
            Piece::Variable(name) => Some(name.to_string()),
            Piece::Text(_) | Piece::Other(_) => None,
        })
        .collect()
}

/// A template variable with no value, or a tag a step cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{variable} has no value")]
    Missing { variable: String },
    #[error("{tag} is not a variable: only variables are rendered in steps")]
    Unsupported { tag: String },
}

/// Renders every variable in `text`, `lookup` giving each one's value.
pub fn render(
    text: &str,
    delimiters: Delimiters,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len());
    for piece in tags(text, delimiters) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(name) => match lookup(name) {
                Some(value) => out.push_str(&value),
                None => {
                    return Err(RenderError::Missing {
                        variable: name.to_string(),
                    });
                }
            },
            Piece::Other(tag) => {
                // A comment renders as nothing, as in Mustache.
                if !tag.trim_start().starts_with('!') {
                    return Err(RenderError::Unsupported {
                        tag: format!("{}{tag}{}", delimiters.open(), delimiters.close()),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Renders every string (and key) of `value`.
pub fn render_value(
    value: &Value,
    delimiters: Delimiters,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, RenderError> {
    Ok(match value {
        Value::String(text) => Value::String(render(text, delimiters, lookup)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, delimiters, lookup))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    Ok((
                        render(key, delimiters, lookup)?,
                        render_value(item, delimiters, lookup)?,
                    ))
                })
                .collect::<Result<_, RenderError>>()?,
        ),
        other => other.clone(),
    })
}

/// A piece of a template string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    /// A variable's name, trimmed (`{{{ x }}}` and `{{& x }}` too: Porter
    /// turns HTML escaping off, so they are plain variables).
    Variable(&'a str),
    /// Any other tag (section, comment, partial), as written inside the
    /// delimiters.
    Other(&'a str),
}

/// Splits `text` into text and tags. An unterminated tag is text.
fn tags(text: &str, delimiters: Delimiters) -> impl Iterator<Item = Piece<'_>> {
    let (open, close) = (delimiters.open(), delimiters.close());
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(start) = rest.find(open) else {
            return Some(Piece::Text(std::mem::take(&mut rest)));
        };
        if start > 0 {
            let (before, after) = rest.split_at(start);
            rest = after;
            return Some(Piece::Text(before));
        }
        let after = &rest[open.len()..];
        // `{{{ x }}}`: the tag ends at `}}}`.
        let triple = delimiters == Delimiters::Mustache && after.starts_with('{');
        let end_marker = if triple { "}}}" } else { close };
        let Some(end) = after.find(end_marker) else {
            return Some(Piece::Text(std::mem::take(&mut rest)));
        };
        let raw = &after[..end];
        rest = &after[end + end_marker.len()..];
        let inner = raw.strip_prefix('{').unwrap_or(raw).trim();
        let inner = inner.strip_prefix('&').map(str::trim).unwrap_or(inner);
        Some(
            if inner.is_empty() || inner.starts_with(['#', '^', '/', '!', '>', '=', '{']) {
                Piece::Other(raw)
            } else {
                Piece::Variable(inner)
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_with_their_place() {
        let doc = serde_json::json!({"install": [{"exec": {"arguments": ["${ bundle.parameters.a }-${bundle.credentials.b}", "plain", "${#x}${/x}"]}}]});
        let uses = scan(&doc, Delimiters::Dollar);
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
        let d = Delimiters::Dollar;
        assert!(variables_in("${ ", d).is_empty());
        assert!(variables_in("${}", d).is_empty());
        assert_eq!(variables_in("${ a }${ b", d), ["a"]);
    }

    #[test]
    fn alpha_manifests_write_mustache_delimiters() {
        assert_eq!(
            Delimiters::for_schema_version("1.0.0-alpha.1"),
            Delimiters::Mustache
        );
        assert_eq!(Delimiters::for_schema_version(""), Delimiters::Mustache);
        assert_eq!(Delimiters::for_schema_version("1.0.1"), Delimiters::Dollar);
        let m = Delimiters::Mustache;
        assert_eq!(
            variables_in(
                "{{ bundle.outputs.a }} {{{bundle.b}}} {{& c }} ${ d } {{#s}}{{/s}}",
                m
            ),
            ["bundle.outputs.a", "bundle.b", "c"]
        );
        assert!(variables_in("{{ bundle.outputs.a }}", Delimiters::Dollar).is_empty());
    }

    #[test]
    fn renders_variables_and_refuses_what_it_cannot() {
        let lookup = |name: &str| match name {
            "bundle.parameters.greeting" => Some("Howdy".to_string()),
            "installation.name" => Some("mine".to_string()),
            _ => None,
        };
        let d = Delimiters::Dollar;
        assert_eq!(
            render(
                "${ bundle.parameters.greeting }, ${installation.name}! $ {x} ${",
                d,
                &lookup
            )
            .unwrap(),
            "Howdy, mine! $ {x} ${"
        );
        assert_eq!(
            render(
                "{{ bundle.parameters.greeting }}{{! a comment }}",
                Delimiters::Mustache,
                &lookup
            )
            .unwrap(),
            "Howdy"
        );
        assert_eq!(
            render("${ bundle.parameters.nope }", d, &lookup),
            Err(RenderError::Missing {
                variable: "bundle.parameters.nope".into()
            })
        );
        assert!(matches!(
            render(
                "${#bundle.parameters.greeting}x${/bundle.parameters.greeting}",
                d,
                &lookup
            ),
            Err(RenderError::Unsupported { .. })
        ));
        let step = serde_json::json!({"arguments": ["${ installation.name }", 3, true], "${ installation.name }": null});
        assert_eq!(
            render_value(&step, d, &lookup).unwrap(),
            serde_json::json!({"arguments": ["mine", 3, true], "mine": null})
        );
    }
}
