//! A manifest's text, where each of its YAML nodes is, and diagnostics that
//! point into it (file, line, column, the offending line, what to do).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use serde_saphyr::granit_parser::{Event, Parser};

/// 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Where every node of a YAML document starts, by JSON Pointer
/// (`/parameters/0/default`): for mapping entries both where the key is
/// written and where its value starts.
#[derive(Debug, Default, Clone)]
pub struct Locations {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
}

impl Locations {
    /// Reads positions from the YAML events. The document was already parsed
    /// for its value; this pass only records where things are, so it gives
    /// up quietly (returning what it has) on anything odd.
    pub fn index(text: &str) -> Self {
        let mut locations = Locations::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut skip_depth = 0usize;
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let at = Position {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            // Complex (non-scalar) mapping keys are not addressable by pointer.
            if skip_depth > 0 {
                match event {
                    Event::SequenceStart(..) | Event::MappingStart(..) => skip_depth += 1,
                    Event::SequenceEnd | Event::MappingEnd => {
                        skip_depth -= 1;
                        if skip_depth == 0 {
                            value_done(&mut stack, &mut path);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let is_node = matches!(
                event,
                Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
                    | Event::Alias(..)
            );
            if is_node
                && let Some(Frame::Map {
                    expecting_key: true,
                }) = stack.last()
            {
                match &event {
                    Event::Scalar(key, ..) => {
                        let key = escape(key);
                        path.push(key);
                        locations.keys.insert(pointer(&path), at);
                        if let Some(Frame::Map { expecting_key }) = stack.last_mut() {
                            *expecting_key = false;
                        }
                    }
                    Event::SequenceStart(..) | Event::MappingStart(..) => {
                        path.push("?".into());
                        if let Some(Frame::Map { expecting_key }) = stack.last_mut() {
                            *expecting_key = false;
                        }
                        skip_depth = 1;
                    }
                    _ => {
                        path.push("?".into());
                        if let Some(Frame::Map { expecting_key }) = stack.last_mut() {
                            *expecting_key = false;
                        }
                    }
                }
                continue;
            }
            match event {
                Event::Scalar(..) | Event::Alias(..) => {
                    enter_value(&mut stack, &mut path);
                    locations.values.entry(pointer(&path)).or_insert(at);
                    value_done(&mut stack, &mut path);
                }
                Event::SequenceStart(..) => {
                    enter_value(&mut stack, &mut path);
                    locations.values.entry(pointer(&path)).or_insert(at);
                    stack.push(Frame::Seq { index: 0 });
                }
                Event::MappingStart(..) => {
                    enter_value(&mut stack, &mut path);
                    locations.values.entry(pointer(&path)).or_insert(at);
                    stack.push(Frame::Map {
                        expecting_key: true,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                    value_done(&mut stack, &mut path);
                }
                Event::DocumentEnd => break, // one document per manifest
                _ => {}
            }
        }
        locations
    }

    /// Where the value at `pointer` starts, or where its nearest ancestor
    /// does (a node made by a merge key has no place of its own).
    pub fn value(&self, pointer: &str) -> Position {
        self.lookup(&self.values, pointer)
    }

    /// Where the key of the entry at `pointer` is written; the value's
    /// position when it is not a mapping entry.
    pub fn key(&self, pointer: &str) -> Position {
        match self.keys.get(pointer) {
            Some(at) => *at,
            None => self.value(pointer),
        }
    }

    fn lookup(&self, map: &HashMap<String, Position>, pointer: &str) -> Position {
        let mut current = pointer;
        loop {
            if let Some(at) = map.get(current) {
                return *at;
            }
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => return Position { line: 1, column: 1 },
            }
        }
    }
}

enum Frame {
    Seq { index: usize },
    Map { expecting_key: bool },
}

/// A sequence item gets its index pushed on the path before its value.
fn enter_value(stack: &mut [Frame], path: &mut Vec<String>) {
    if let Some(Frame::Seq { index }) = stack.last() {
        path.push(index.to_string());
    }
}

/// After a value: a sequence moves to its next index, a mapping to its next
/// key; either way the value's segment leaves the path.
fn value_done(stack: &mut [Frame], path: &mut Vec<String>) {
    match stack.last_mut() {
        Some(Frame::Seq { index }) => {
            *index += 1;
            path.pop();
        }
        Some(Frame::Map { expecting_key }) => {
            *expecting_key = true;
            path.pop();
        }
        None => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|p| format!("/{p}")).collect()
}

/// Escapes one JSON Pointer token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A manifest file: its path (as the user named it), its text and where
/// everything in it is.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    pub locations: Locations,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        let locations = Locations::index(&text);
        SourceFile {
            path: path.into(),
            text,
            locations,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn line(&self, number: usize) -> Option<&str> {
        self.text.lines().nth(number.checked_sub(1)?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a manifest, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A rule's code (`porter-101`, `exec-101`) when a lint rule found it.
    pub code: Option<String>,
    pub file: PathBuf,
    pub at: Position,
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
    /// The source line the diagnostic points at.
    pub snippet: String,
}

impl Diagnostic {
    pub fn error(source: &SourceFile, at: Position, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, source, at, message)
    }

    pub fn warning(source: &SourceFile, at: Position, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, source, at, message)
    }

    fn new(
        severity: Severity,
        source: &SourceFile,
        at: Position,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code: None,
            file: source.path.clone(),
            at,
            message: message.into(),
            hint: None,
            snippet: source.line(at.line).unwrap_or_default().to_string(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// ```text
    /// error: unknown field 'paramters' (did you mean 'parameters'?)
    ///   --> porter.yaml:12:1
    ///    |
    /// 12 | paramters:
    ///    | ^
    ///    = help: ...
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.code {
            Some(code) => writeln!(f, "{label}[{code}]: {}", self.message)?,
            None => writeln!(f, "{label}: {}", self.message)?,
        }
        let gutter = self.at.line.to_string().len();
        let pad = " ".repeat(gutter);
        if self.at.line == 0 {
            // About the file as a whole (a required field is missing).
            write!(f, "{pad}--> {}", self.file.display())?;
        } else {
            write!(
                f,
                "{pad}--> {}:{}:{}",
                self.file.display(),
                self.at.line,
                self.at.column
            )?;
        }
        if !self.snippet.is_empty() && self.at.line > 0 {
            let caret_pad: String = self
                .snippet
                .chars()
                .take(self.at.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{} | {}\n{pad} | {caret_pad}^",
                self.at.line, self.snippet
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(
                f,
                "\n{pad} = help: {}",
                hint.replace('\n', &format!("\n{pad}         "))
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_values_and_items() {
        let text = "name: x\nparameters:\n  - name: a\n    default: 1\n  - name: b\ncustom:\n  a/b: {c: [1, 2]}\n";
        let l = Locations::index(text);
        assert_eq!(l.key("/name"), Position { line: 1, column: 1 });
        assert_eq!(l.value("/name"), Position { line: 1, column: 7 });
        assert_eq!(l.value("/parameters/0"), Position { line: 3, column: 5 });
        assert_eq!(
            l.value("/parameters/0/default"),
            Position {
                line: 4,
                column: 14
            }
        );
        assert_eq!(l.key("/parameters/1/name"), Position { line: 5, column: 5 });
        assert_eq!(
            l.value("/custom/a~1b/c/1"),
            Position {
                line: 7,
                column: 16
            }
        );
        // Unknown pointers fall back to the nearest ancestor.
        assert_eq!(
            l.value("/parameters/1/missing"),
            Position { line: 5, column: 5 }
        );
    }

    #[test]
    fn renders_file_line_column_snippet_and_help() {
        let source = SourceFile::new("porter.yaml", "name: x\nparamters: []\n".into());
        let d = Diagnostic::error(
            &source,
            source.locations.key("/paramters"),
            "unknown field 'paramters'",
        )
        .hint("did you mean 'parameters'?");
        assert_eq!(
            d.to_string(),
            "error: unknown field 'paramters'\n --> porter.yaml:2:1\n  |\n2 | paramters: []\n  | ^\n  = help: did you mean 'parameters'?"
        );
    }
}
