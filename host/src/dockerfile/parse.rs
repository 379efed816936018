//! Reading a Dockerfile the way Docker's parser does, as far as porter needs
//! it: physical lines, parser directives (the escape character), comments,
//! and instructions continued over several lines.
//!
//! The rules are those of BuildKit's `frontend/dockerfile/parser` (which the
//! classic builder uses too): parser directives (`# escape=`, `# syntax=`)
//! are only read above everything else; a line whose first non-blank
//! character is `#` is a comment, also in the middle of a continued
//! instruction, where blank lines are skipped as well; an instruction
//! continues while its line ends with the escape character (`\`, or the one
//! `# escape=` names), optionally followed by spaces or tabs; the joined
//! instruction is the lines without that character, concatenated.

/// The escape character Docker uses when no `# escape=` directive is given.
pub(crate) const DEFAULT_ESCAPE: char = '\\';

/// Parser directives Docker knows; another `# key=value` line at the top is
/// a comment and ends the directives.
const DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

/// The physical lines of a template, as Porter reads them (Go's
/// `bufio.Scanner`): split on `\n`, a trailing `\r` dropped, and no empty last
/// line for a final newline. A UTF-8 byte order mark is dropped, as Docker
/// does, so it cannot end up in the middle of a generated Dockerfile.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    if text.is_empty() || text.ends_with('\n') {
        lines.pop();
    }
    lines
}

/// A Dockerfile (or a piece of one) as Docker's parser sees it. Line indexes
/// are 0-based positions in the slice given to [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed<'a> {
    pub escape: char,
    pub directives: Vec<Directive<'a>>,
    pub instructions: Vec<Instruction<'a>>,
    pub comments: Vec<Comment<'a>>,
    /// The first line of an instruction still continued at the last line.
    pub unfinished: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Directive<'a> {
    pub line: usize,
    pub name: &'a str,
    pub value: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction<'a> {
    pub first_line: usize,
    pub last_line: usize,
    /// As written (`FROM`, `from`...); compare with `eq_ignore_ascii_case`.
    pub keyword: &'a str,
    /// Everything after the keyword, continuation lines joined.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comment<'a> {
    pub line: usize,
    /// Without leading whitespace.
    pub text: &'a str,
    /// The first line of the instruction this comment sits in the middle
    /// of, if any.
    pub inside_instruction: Option<usize>,
}

impl Instruction<'_> {
    pub fn is(&self, keyword: &str) -> bool {
        self.keyword.eq_ignore_ascii_case(keyword)
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.arguments.split_whitespace()
    }
}

impl Parsed<'_> {
    pub fn froms(&self) -> impl Iterator<Item = &Instruction<'_>> {
        self.instructions.iter().filter(|i| i.is("FROM"))
    }
}

/// Parses `lines` (from [`split_lines`]). `escape` is the escape character
/// in force when no directive sets one: a piece of a larger Dockerfile, such
/// as a mixin's lines, is read with the escape character of the template.
pub(crate) fn parse<'a>(lines: &[&'a str], escape: char) -> Parsed<'a> {
    let mut parsed = Parsed {
        escape,
        directives: Vec::new(),
        instructions: Vec::new(),
        comments: Vec::new(),
        unfinished: None,
    };
    let mut reading_directives = true;
    let mut open: Option<Instruction<'a>> = None;
    for (index, &line) in lines.iter().enumerate() {
        if reading_directives {
            if let Some((name, value)) = directive(line) {
                if name.eq_ignore_ascii_case("escape") && matches!(value, "\\" | "`") {
                    parsed.escape = value.chars().next().unwrap_or(DEFAULT_ESCAPE);
                }
                parsed.directives.push(Directive {
                    line: index,
                    name,
                    value,
                });
                continue;
            }
            reading_directives = false;
        }
        let text = line.trim_start();
        if text.starts_with('#') {
            parsed.comments.push(Comment {
                line: index,
                text,
                inside_instruction: open.as_ref().map(|i| i.first_line),
            });
            continue;
        }
        if text.trim_end().is_empty() {
            continue;
        }
        let (content, continues) = strip_continuation(line, parsed.escape);
        let instruction = match open.take() {
            Some(mut instruction) => {
                instruction.arguments.push_str(content);
                instruction.last_line = index;
                instruction
            }
            None => start_instruction(index, content.trim_start()),
        };
        if continues {
            open = Some(instruction);
        } else {
            parsed.instructions.push(finish(instruction));
        }
    }
    if let Some(instruction) = open {
        parsed.unfinished = Some(instruction.first_line);
        parsed.instructions.push(finish(instruction));
    }
    parsed
}

/// Whether `line` leaves its instruction open, read with `escape`.
pub(crate) fn continues(line: &str, escape: char) -> bool {
    !line.trim_start().starts_with('#') && strip_continuation(line, escape).1
}

/// `# name=value` for a directive Docker knows.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    DIRECTIVES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
        .then_some((name, value.trim()))
}

/// The line without a trailing escape character (and the spaces or tabs
/// after it), and whether there was one.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(content) => (content, true),
        None => (line, false),
    }
}

fn start_instruction(index: usize, text: &str) -> Instruction<'_> {
    let (keyword, arguments) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    Instruction {
        first_line: index,
        last_line: index,
        keyword,
        arguments: arguments.to_string(),
    }
}

fn finish(mut instruction: Instruction<'_>) -> Instruction<'_> {
    instruction.arguments = instruction.arguments.trim().to_string();
    instruction
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Parsed<'_> {
        parse(&split_lines(text), DEFAULT_ESCAPE)
    }

    #[test]
    fn dockerfile_lines_split_like_porters_scanner() {
        assert_eq!(split_lines(""), Vec::<&str>::new());
        assert_eq!(split_lines("a"), ["a"]);
        assert_eq!(split_lines("a\n"), ["a"]);
        assert_eq!(split_lines("a\n\n"), ["a", ""]);
        assert_eq!(split_lines("a\r\nb\r\n"), ["a", "b"]);
        assert_eq!(split_lines("\u{feff}FROM x"), ["FROM x"]);
    }

    #[test]
    fn dockerfile_continuations_join_and_skip_comments_and_blank_lines() {
        let parsed = parse_text("from \\\n  # note\n\n  debian AS base\nRUN a \\  \n b");
        assert_eq!(parsed.instructions.len(), 2);
        let from = &parsed.instructions[0];
        assert!(from.is("FROM"));
        assert_eq!((from.first_line, from.last_line), (0, 3));
        assert_eq!(from.words().collect::<Vec<_>>(), ["debian", "AS", "base"]);
        assert_eq!(parsed.comments[0].inside_instruction, Some(0));
        assert_eq!(parsed.instructions[1].arguments, "a  b");
        assert_eq!(parsed.unfinished, None);
    }

    #[test]
    fn dockerfile_escape_directive_changes_the_continuation_character() {
        let parsed = parse_text("# escape=`\nFROM x\nRUN a `\n b\nRUN c \\");
        assert_eq!(parsed.escape, '`');
        assert_eq!(parsed.instructions[1].arguments, "a  b");
        assert_eq!(parsed.instructions[2].arguments, "c \\");
        assert_eq!(parsed.unfinished, None);
    }

    #[test]
    fn dockerfile_directives_stop_at_the_first_other_line() {
        let parsed = parse_text("# syntax=docker/dockerfile:1\n\n# escape=`\nFROM x");
        assert_eq!(parsed.directives.len(), 1);
        assert_eq!(parsed.escape, DEFAULT_ESCAPE);
        assert_eq!(parsed.comments[0].text, "# escape=`");
    }

    #[test]
    fn dockerfile_unfinished_instruction_is_reported() {
        let parsed = parse_text("FROM x\nRUN a \\\n# trailing comment\n");
        assert_eq!(parsed.unfinished, Some(1));
    }
}
