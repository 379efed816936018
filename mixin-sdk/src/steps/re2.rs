//! Go's regular expressions (RE2 syntax) on the `regex` crate.
//!
//! The two syntaxes are nearly the same; where a pattern means something
//! else to Go, it is rewritten before it is compiled:
//!
//! - `\d`, `\w`, `\s` (and `\D`, `\W`, `\S`) are ASCII in Go
//!   (`[0-9]`, `[0-9A-Za-z_]`, `[\t\n\f\r ]`) and Unicode in Rust;
//!   `\b` and `\B` are ASCII word boundaries in Go.
//! - `\Q...\E` quotes literal text in Go; Rust has no such syntax.
//! - Inside a class, `[` (other than `[:alpha:]`), `&&` and `~~` are
//!   literal in Go and nested classes or set operations in Rust.
//! - A `{` that does not start a repetition (`{2}`, `{2,}`, `{2,5}`) is a
//!   literal in Go and an error in Rust.
//! - Octal escapes (`\123`) are accepted, as in Go.
//!
//! Rust accepts some patterns Go refuses (`\<`-style escapes of any
//! punctuation, `\b{start}`); those are not turned into errors.

use regex::{Regex, RegexBuilder};

/// Compiles a Go regular expression.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&translate(pattern)).octal(true).build()
}

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\f\r ";

/// The Rust spelling of a Go pattern (see the module doc).
pub(crate) fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i = escape(&chars, i, &mut out, false),
            '[' => i = class(&chars, i, &mut out),
            '{' => match repetition_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// If `{` at `start` begins `{n}`, `{n,}` or `{n,m}`, the index of its `}`.
fn repetition_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return None;
    }
    if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (chars.get(i) == Some(&'}')).then_some(i)
}

/// Translates the escape at `chars[start]` (a backslash); returns the
/// index after it.
fn escape(chars: &[char], start: usize, out: &mut String, in_class: bool) -> usize {
    let Some(&c) = chars.get(start + 1) else {
        // A trailing backslash: let the regex crate report it.
        out.push('\\');
        return start + 1;
    };
    let class = |set: &str, negated: bool| {
        if in_class && !negated {
            set.to_string()
        } else {
            format!("[{}{set}]", if negated { "^" } else { "" })
        }
    };
    match c {
        'd' => out.push_str(&class(DIGIT, false)),
        'D' => out.push_str(&class(DIGIT, true)),
        'w' => out.push_str(&class(WORD, false)),
        'W' => out.push_str(&class(WORD, true)),
        's' => out.push_str(&class(SPACE, false)),
        'S' => out.push_str(&class(SPACE, true)),
        'b' if !in_class => out.push_str(r"(?-u:\b)"),
        'B' if !in_class => out.push_str(r"(?-u:\B)"),
        'Q' => {
            let mut i = start + 2;
            let mut literal = String::new();
            while i < chars.len() && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E')) {
                literal.push(chars[i]);
                i += 1;
            }
            for c in literal.chars() {
                if in_class {
                    out.push_str(&escape_in_class(c));
                } else {
                    out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
                }
            }
            // Skip the `\E` when there is one (Go allows it to be missing).
            return if i < chars.len() { i + 2 } else { i };
        }
        'p' | 'P' | 'x' if chars.get(start + 2) == Some(&'{') => {
            // `\p{Greek}`, `\x{263a}`: copied whole, braces included.
            let mut i = start;
            while i < chars.len() {
                out.push(chars[i]);
                i += 1;
                if chars[i - 1] == '}' {
                    break;
                }
            }
            return i;
        }
        c => {
            out.push('\\');
            out.push(c);
        }
    }
    start + 2
}

fn escape_in_class(c: char) -> String {
    if c.is_ascii_punctuation() {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// Translates the class opening at `chars[start]`; returns the index after
/// its `]` (or the end of the pattern, for the regex crate to report).
fn class(chars: &[char], start: usize, out: &mut String) -> usize {
    out.push('[');
    let mut i = start + 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // A `]` first in the class is a literal in both syntaxes.
    if chars.get(i) == Some(&']') {
        out.push_str(r"\]");
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            ']' => {
                out.push(']');
                return i + 1;
            }
            '\\' => i = escape(chars, i, out, true),
            '[' if chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]`: copied to its `:]`.
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                match end {
                    Some(end) => {
                        out.extend(&chars[i..end + 2]);
                        i = end + 2;
                    }
                    None => {
                        out.push_str(r"\[");
                        i += 1;
                    }
                }
            }
            c @ ('[' | '&' | '~') => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(matches(r"^\d+$", "123"));
        assert!(!matches(r"^\d$", "٣"), "Arabic-Indic digit");
        assert!(matches(r"^\D$", "٣"));
        assert!(!matches(r"^\w$", "é"));
        assert!(matches(r"^\W$", "é"));
        assert!(matches(r"^\s$", "\t"));
        assert!(!matches(r"^\s$", "\u{b}"), "Go's \\s has no vertical tab");
        assert!(!matches(r"^\s$", "\u{a0}"));
        assert!(matches(r"^[\d\s]+$", "1 2"));
        assert!(matches(r"^[^\d]+$", "abc"));
        assert!(matches(r"^[a\D]+$", "ax"));
        assert!(!matches(r"^[\W]$", "a"));
        assert!(matches(r"\bé", "aé"), "é is no ASCII word character");
        assert!(matches(r"a\Bb", "ab"));
    }

    #[test]
    fn unicode_classes_and_folding_still_work() {
        assert!(matches(r"^\p{Greek}+$", "αβ"));
        assert!(matches(r"^\pL$", "é"));
        assert!(matches(r"^\x{263a}$", "☺"));
        assert!(matches(r"(?i)^straße$", "STRAßE"));
        assert!(matches(r"^[[:alpha:]]+$", "abc"));
        assert!(matches(r"^\101$", "A"), "octal");
    }

    #[test]
    fn quoted_literals() {
        assert!(matches(r"^\Qa.b*c\E$", "a.b*c"));
        assert!(!matches(r"^\Qa.b\E$", "axb"));
        assert!(matches(r"^\Q(x)", "(x) and more"), "no \\E");
        assert!(matches(r"^[\Q]-\E]+$", "]-]"));
    }

    #[test]
    fn brackets_in_classes_and_set_operators_are_literal() {
        assert!(matches(r"^[[]$", "["));
        assert!(matches(r"^[]a]+$", "]a"));
        assert!(matches(r"^[^]a]$", "b"));
        assert!(matches(r"^[a&&b]+$", "&a&b"));
        assert!(matches(r"^[a~~b]+$", "~"));
    }

    #[test]
    fn braces_that_are_no_repetition_are_literal() {
        assert!(matches(r#"^\{"id": (\d+)\}$"#, r#"{"id": 12}"#));
        assert!(matches(r#"^{"id": (\d+)}$"#, r#"{"id": 12}"#));
        assert!(matches(r"^a{2}$", "aa"));
        assert!(matches(r"^a{2,}$", "aaa"));
        assert!(matches(r"^a{1,2}$", "a"));
        assert!(matches(r"^a{x}$", "a{x}"));
        assert!(matches(r"^a{,2}$", "a{,2}"));
    }

    #[test]
    fn invalid_patterns_are_errors() {
        assert!(compile("(unclosed").is_err());
        assert!(compile("[a-").is_err());
        assert!(compile(r"a\").is_err());
    }

    #[test]
    fn translation_keeps_ordinary_patterns() {
        for p in [
            r"Hello (.*)",
            r"(?m)^id=(\S+)$",
            r"(exists|EXISTS)",
            r"a\.b",
        ] {
            let t = translate(p);
            assert!(compile(p).is_ok(), "{p} -> {t}");
        }
        assert_eq!(translate(r"Hello (.*)"), r"Hello (.*)");
        assert_eq!(translate(r"a\.b\+"), r"a\.b\+");
    }
}
