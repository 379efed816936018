//! `.dockerignore`, matched the way Docker matches it, so the build context
//! `porter build` sends is the one `docker build` would send.
//!
//! The rules come from three places, and this module follows each one:
//!
//! - **Reading the file** — moby/patternmatcher `ignorefile.ReadAll`: a UTF-8
//!   BOM is dropped; a line is a comment only when `#` is its *first*
//!   character (`  # x` is a pattern); lines are trimmed and blank ones
//!   skipped; a leading `!` marks a re-include and the rest is trimmed again;
//!   the pattern is cleaned like Go's `filepath.Clean` (`./a`, `a/`, `a//b`,
//!   `a/../b`) and one leading `/` is dropped, since patterns are relative to
//!   the context root.
//! - **Compiling a pattern** — moby/patternmatcher `New` and
//!   `Pattern.compile`: the pattern must be valid for Go's `filepath.Match`
//!   (an unclosed `[`, `[]`, `[-x]`, a trailing `\` are errors), then it is
//!   turned into a regular expression: `*` and `?` never cross `/`, `[...]`
//!   is a character class negated by `^` (a `!` in a class is just `!`), `\`
//!   escapes the next character, `**` followed by more pattern matches any
//!   number of whole directories (including none) and a trailing `**`
//!   matches anything.
//! - **Matching a path** — `PatternMatcher.MatchesOrParentMatches`: a
//!   pattern matches a path when it matches the path or any of its parent
//!   directories (so `docs` excludes `docs/a/b`), and the *last* pattern
//!   that matches decides: a plain one excludes, a `!` one re-includes.
//!
//! Docker's translation to a regular expression has quirks, and this module
//! reproduces them rather than "fixing" them (see the tests):
//!
//! - `a**b` matches `ab` and `a/x/b` but not `axb` (`**` becomes `(.*/)?`),
//!   while a leading `**b` matches `xb` (it becomes a plain suffix test).
//! - A class can match `/`: `a[^x]b` matches `a/b`.
//! - `\d`, `\s`, `\w` (and `\D`, `\S`, `\W`) are regular-expression classes,
//!   and `\t`, `\n`, `\r`, `\f`, `\v`, `\a` are control characters; a `\`
//!   before punctuation is a plain escape.
//! - Once a pattern has a wildcard, a `^` outside a class means "start of
//!   path", so `*^x` never matches anything, while `a^b` matches `a^b`.
//! - The pattern `.` (or anything that cleans to it, like `a/..`) matches
//!   nothing, and `!/` is the same error as a lone `!`.
//!
//! Where Docker's regular expression would not mean the glob at all (`*` or
//! `?` inside `[...]`, a POSIX class like `[[:alpha:]]`, a backslash before
//! another letter or digit, a backwards range like `[z-a]`), Docker either
//! fails the build or matches something surprising; [`DockerIgnore::parse`]
//! refuses such a pattern with a [`PatternError`] that says how to write it.
//! It also checks the whole pattern, where Docker's check (Go's
//! `filepath.Match(pattern, ".")`) stops at the first part that fails to
//! match `.`, letting `a*[` or `w*\` through to fail the build later or to
//! match oddly.
//!
//! What stays with the caller: Docker always sends the Dockerfile and the
//! `.dockerignore` itself, even when a pattern excludes them (the docker CLI
//! appends `!Dockerfile` and `!.dockerignore`), and when a file beneath an
//! excluded directory is re-included its parent directories are sent too.
//! This module only answers "is this path excluded?".

use std::iter::Peekable;
use std::str::Chars;

/// A parsed `.dockerignore`. The default value excludes nothing, as if
/// there were no `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    rules: Vec<Rule>,
}

/// A `.dockerignore` line that cannot be used, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore line {line}: `{pattern}`: {problem}")]
pub struct PatternError {
    /// 1-based, counting comments and blank lines.
    pub line: usize,
    /// The line as written, without surrounding whitespace.
    pub pattern: String,
    pub problem: PatternProblem,
}

/// Why a pattern cannot be used; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternProblem {
    #[error(
        "`!` needs a pattern after it; write the path to re-include after the `!`, or remove the line"
    )]
    LoneBang,
    #[error(
        "`[` starts a character class that is never closed; add the missing `]`, or write `\\[` for a literal `[`"
    )]
    UnclosedClass,
    #[error("`{0}` cannot start an entry of a character class; write `\\{0}` for a literal `{0}`")]
    MisplacedInClass(char),
    #[error("a pattern cannot end with `\\`; write `\\\\` for a literal backslash")]
    TrailingBackslash,
    #[error(
        "the range `{0}-{1}` runs backwards and Docker fails the build on it; write `{1}-{0}`, or `\\-` for a literal `-`"
    )]
    BackwardsRange(char, char),
    #[error(
        "Docker mistranslates `{0}` inside `[...]` (it does not match a literal `{0}`); use `\\{0}` outside the brackets"
    )]
    WildcardInClass(char),
    #[error(
        "Docker reads `[:` inside `[...]` as a POSIX class like `[:alpha:]`, which porter does not support; write `\\[` for a literal `[`"
    )]
    PosixClass,
    #[error(
        "Docker reads `\\{0}` as a regular-expression escape, not as a literal `{0}`; drop the backslash (only punctuation needs one)"
    )]
    UnsupportedEscape(char),
}

#[derive(Debug, Clone)]
struct Rule {
    /// A `!` line: it re-includes what it matches. (moby calls these
    /// "exclusions", as in exclusions from the exclude list.)
    reinclude: bool,
    matcher: Matcher,
}

/// The four kinds of pattern moby's `Pattern.compile` distinguishes; the
/// first three compare text and never go through a regular expression,
/// which is why `^` and `\` behave differently in them.
#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard at all: the path must be exactly the pattern.
    Exact(String),
    /// Wildcard-free text then a trailing `**`: the path must start with it.
    Prefix(String),
    /// A leading `**` then wildcard-free text: the path must end with it
    /// (and `**/name` also matches `name` itself).
    Suffix(String),
    /// Everything else.
    Glob(Vec<Token>),
}

/// One piece of a [`Matcher::Glob`], named after the regular expression
/// moby builds for it.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    /// `?`, i.e. `[^/]`.
    AnyCharButSlash,
    /// `*`, i.e. `[^/]*`.
    Star,
    /// `**` with more pattern after it, i.e. `(.*/)?`: nothing, or
    /// anything that ends with `/`.
    AnyDirs,
    /// A trailing `**`, i.e. `.*`.
    AnyRest,
    Class(CharClass),
    /// A `^` outside a class, i.e. the regular-expression anchor.
    StartAnchor,
}

#[derive(Debug, Clone, PartialEq)]
struct CharClass {
    negated: bool,
    members: Vec<ClassMember>,
}

#[derive(Debug, Clone, PartialEq)]
enum ClassMember {
    Range(char, char),
    Perl(PerlClass),
}

/// `\d`, `\s`, `\w` and their negations, ASCII-only as in Go's regexp.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PerlClass {
    letter: char,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let Some(entry) = read_line(line) else {
                continue;
            };
            let rule = compile_rule(&entry).map_err(|problem| PatternError {
                line: index + 1,
                pattern: line.trim().to_owned(),
                problem,
            })?;
            rules.extend(rule);
        }
        Ok(Self { rules })
    }

    /// Whether Docker leaves `path` out of the build context. `path` is
    /// relative to the context root and `/`-separated; it is cleaned first,
    /// and the root itself (`.` or empty) is never excluded.
    pub fn matches(&self, path: &str) -> bool {
        let Some(path) = context_path(path) else {
            return false;
        };
        self.last_rule_matching(&path)
            .is_some_and(|index| !self.rules[index].reinclude)
    }

    /// Whether a walk of the context can skip the directory `dir` without
    /// looking inside: it is excluded and no `!` pattern can re-include
    /// anything beneath it. Only an optimisation: walking in and calling
    /// [`matches`](Self::matches) on every entry gives the same result.
    /// (Docker's own walker, BuildKit's fsutil, skips in fewer cases; the
    /// files sent are the same.)
    pub fn can_skip_dir(&self, dir: &str) -> bool {
        let Some(dir) = context_path(dir) else {
            return false;
        };
        let Some(last) = self.last_rule_matching(&dir) else {
            return false;
        };
        // The rule that excludes `dir` also matches everything beneath it,
        // so only a later `!` rule can bring something back.
        !self.rules[last].reinclude
            && !self.rules[last + 1..]
                .iter()
                .any(|rule| rule.reinclude && rule.matcher.could_match_beneath(&dir))
    }

    /// Whether `dir` itself, or anything beneath it, could be excluded: use
    /// it to refuse a `.dockerignore` that would drop `.cnab/`. Errs on the
    /// side of `true` — it may report a pattern that a later `!` line
    /// happens to cancel — but when it says `false`, nothing under `dir` is
    /// excluded, whatever files are there. `.` asks about the whole context.
    pub fn may_exclude_under(&self, dir: &str) -> bool {
        let dir = context_path(dir).unwrap_or_default();
        let last = if dir.is_empty() {
            None
        } else {
            self.last_rule_matching(&dir)
        };
        if let Some(index) = last
            && !self.rules[index].reinclude
        {
            return true;
        }
        // Rules before `last` are overridden beneath `dir` by `last`, which
        // matches everything there too; a later plain rule may exclude.
        let later = last.map_or(0, |index| index + 1);
        self.rules[later..]
            .iter()
            .any(|rule| !rule.reinclude && rule.matcher.could_match_beneath(&dir))
    }

    /// The last rule that matches `path` or one of its parent directories
    /// (so `docs` matches `docs/a/b`): Docker's "last match wins".
    fn last_rule_matching(&self, path: &str) -> Option<usize> {
        let parents = parent_dirs(path);
        self.rules.iter().rposition(|rule| {
            rule.matcher.matches(path) || parents.iter().any(|parent| rule.matcher.matches(parent))
        })
    }
}

/// The parent directories `MatchesOrParentMatches` tries, outermost first:
/// `a` and `a/b` for `a/b/c`. Built the way moby builds them (Go's
/// `filepath.Dir`, split on `/`, joined back up), which only matters for
/// a path starting with `/`: `/x` gets `""` and `/`.
fn parent_dirs(path: &str) -> Vec<String> {
    let parent = match path.rfind('/') {
        Some(slash) => clean_path(&path[..=slash]),
        None => return Vec::new(),
    };
    if parent == "." {
        return Vec::new();
    }
    let parts: Vec<&str> = parent.split('/').collect();
    (1..=parts.len()).map(|n| parts[..n].join("/")).collect()
}

/// `path` cleaned like Docker cleans it, or `None` for the context root.
fn context_path(path: &str) -> Option<String> {
    Some(clean_path(path)).filter(|path| path != ".")
}

/// One line as `ignorefile.ReadAll` hands it on: `None` for comments and
/// blank lines, otherwise the cleaned pattern, still with its `!`.
fn read_line(line: &str) -> Option<String> {
    // Only column 1 starts a comment, so this is checked before trimming.
    if line.starts_with('#') {
        return None;
    }
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let (bang, rest) = match line.strip_prefix('!') {
        Some(rest) => ("!", rest.trim()),
        None => ("", line),
    };
    if rest.is_empty() {
        return Some(bang.to_owned());
    }
    let pattern = clean_path(rest);
    // "/" alone stays "/", as in ReadAll (and `!/` then becomes an error).
    let pattern = match pattern.strip_prefix('/') {
        Some(relative) if !relative.is_empty() => relative,
        _ => &pattern,
    };
    Some(format!("{bang}{pattern}"))
}

/// One pattern as `patternmatcher.New` takes it: trimmed and cleaned again
/// (with the `!` still on, which is how `!/` turns into a lone `!`),
/// checked with Go's `filepath.Match` rules, then compiled.
fn compile_rule(entry: &str) -> Result<Option<Rule>, PatternProblem> {
    let entry = entry.trim();
    if entry.is_empty() {
        return Ok(None);
    }
    let entry = clean_path(entry);
    let (reinclude, pattern) = match entry.strip_prefix('!') {
        Some("") => return Err(PatternProblem::LoneBang),
        Some(rest) => (true, rest),
        None => (false, entry.as_str()),
    };
    check_glob_syntax(pattern)?;
    let matcher = Matcher::compile(pattern)?;
    Ok(Some(Rule { reinclude, matcher }))
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            // `..` above the root is the root; above a relative path it stays.
            ".." if rooted => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// The syntax check moby gets from `filepath.Match(pattern, ".")`: Go's
/// rules for `[...]` classes and `\` escapes, nothing more, but applied to
/// the whole pattern (Go stops at the first part that fails to match `.`).
fn check_glob_syntax(pattern: &str) -> Result<(), PatternProblem> {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return Err(PatternProblem::TrailingBackslash),
            '[' => check_class_syntax(&mut chars)?,
            _ => {}
        }
    }
    Ok(())
}

/// Go's class grammar after the `[`: an optional `^`, then one or more
/// characters or `lo-hi` ranges, then `]`. `-` and `]` must be escaped
/// where they would start an entry.
fn check_class_syntax(chars: &mut Peekable<Chars>) -> Result<(), PatternProblem> {
    chars.next_if_eq(&'^');
    let mut entries = 0;
    loop {
        if entries > 0 && chars.next_if_eq(&']').is_some() {
            return Ok(());
        }
        check_class_char(chars)?;
        if chars.next_if_eq(&'-').is_some() {
            check_class_char(chars)?;
        }
        entries += 1;
    }
}

/// Go's `getEsc`: one class character, possibly escaped, which must be
/// followed by more of the class.
fn check_class_char(chars: &mut Peekable<Chars>) -> Result<(), PatternProblem> {
    match chars.next() {
        None => return Err(PatternProblem::UnclosedClass),
        Some(c @ ('-' | ']')) => return Err(PatternProblem::MisplacedInClass(c)),
        Some('\\') if chars.next().is_none() => return Err(PatternProblem::UnclosedClass),
        Some(_) => {}
    }
    if chars.peek().is_none() {
        return Err(PatternProblem::UnclosedClass);
    }
    Ok(())
}

/// What moby's pattern type comes out as, while it is being worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exact,
    Prefix,
    Suffix,
    Glob,
}

impl Matcher {
    /// Follows moby's `Pattern.compile` character by character. Tokens are
    /// collected for every pattern but only used when it ends up a glob.
    fn compile(pattern: &str) -> Result<Self, PatternProblem> {
        let mut kind = Kind::Exact;
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.next_if_eq(&'*').is_some() => {
                    // `**/` is read as `**`.
                    chars.next_if_eq(&'/');
                    if chars.peek().is_none() {
                        tokens.push(Token::AnyRest);
                        kind = if kind == Kind::Exact {
                            Kind::Prefix
                        } else {
                            Kind::Glob
                        };
                    } else {
                        tokens.push(Token::AnyDirs);
                        kind = Kind::Glob;
                    }
                    if first {
                        kind = Kind::Suffix;
                    }
                }
                '*' => {
                    tokens.push(Token::Star);
                    kind = Kind::Glob;
                }
                '?' => {
                    tokens.push(Token::AnyCharButSlash);
                    kind = Kind::Glob;
                }
                '\\' => {
                    // check_glob_syntax has ruled out a trailing `\`.
                    let escaped = chars.next().unwrap_or('\\');
                    tokens.push(match regex_escape(escaped)? {
                        Escaped::Char(c) => Token::Literal(c),
                        Escaped::Perl(class) => Token::Class(CharClass {
                            negated: false,
                            members: vec![ClassMember::Perl(class)],
                        }),
                    });
                    kind = Kind::Glob;
                }
                '[' => {
                    tokens.push(Token::Class(CharClass::compile(&mut chars)?));
                    kind = Kind::Glob;
                }
                ']' => {
                    tokens.push(Token::Literal(']'));
                    kind = Kind::Glob;
                }
                // Unescaped by moby, so an anchor in the regular expression
                // (and plain text in the other kinds).
                '^' => tokens.push(Token::StartAnchor),
                other => tokens.push(Token::Literal(other)),
            }
            first = false;
        }
        Ok(match kind {
            Kind::Exact => Matcher::Exact(pattern.to_owned()),
            Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_owned()),
            Kind::Suffix => Matcher::Suffix(pattern[2..].to_owned()),
            Kind::Glob => Matcher::Glob(tokens),
        })
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Exact(exact) => path == exact,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|name| path == name)
            }
            Matcher::Glob(tokens) => GlobProgress::after(tokens, path).is_complete(),
        }
    }

    /// Whether some path strictly beneath `dir` (`""` for the context root)
    /// could match this pattern itself. May say `true` when no such path
    /// exists; never says `false` when one does.
    fn could_match_beneath(&self, dir: &str) -> bool {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        match self {
            Matcher::Exact(exact) => exact.len() > prefix.len() && exact.starts_with(&prefix),
            Matcher::Prefix(start) => {
                start.starts_with(&prefix) || prefix.starts_with(start.as_str())
            }
            Matcher::Suffix(_) => true,
            Matcher::Glob(tokens) => {
                GlobProgress::after(tokens, &prefix).can_go_on(tokens, prefix.is_empty())
            }
        }
    }
}

/// A character after `\`, as Go's regular expressions read it once moby
/// has copied the `\` through.
enum Escaped {
    Char(char),
    Perl(PerlClass),
}

fn regex_escape(c: char) -> Result<Escaped, PatternProblem> {
    Ok(match c {
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Escaped::Char(c),
        'a' => Escaped::Char('\x07'),
        'f' => Escaped::Char('\x0c'),
        'n' => Escaped::Char('\n'),
        'r' => Escaped::Char('\r'),
        't' => Escaped::Char('\t'),
        'v' => Escaped::Char('\x0b'),
        'd' | 'D' | 's' | 'S' | 'w' | 'W' => Escaped::Perl(PerlClass { letter: c }),
        other => return Err(PatternProblem::UnsupportedEscape(other)),
    })
}

impl PerlClass {
    fn contains(self, c: char) -> bool {
        let positive = match self.letter.to_ascii_lowercase() {
            'd' => c.is_ascii_digit(),
            's' => matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' '),
            _ => c.is_ascii_alphanumeric() || c == '_',
        };
        positive != self.letter.is_ascii_uppercase()
    }
}

impl CharClass {
    /// Reads a class after its `[`, as Go's regular expressions read the
    /// text moby copies through, refusing what that text would garble.
    fn compile(chars: &mut Peekable<Chars>) -> Result<Self, PatternProblem> {
        let negated = chars.next_if_eq(&'^').is_some();
        let mut members = Vec::new();
        loop {
            let c = chars.next().ok_or(PatternProblem::UnclosedClass)?;
            if c == ']' && !members.is_empty() {
                return Ok(CharClass { negated, members });
            }
            let lo = Self::member(c, chars)?;
            if chars.next_if_eq(&'-').is_some() {
                let c = chars.next().ok_or(PatternProblem::UnclosedClass)?;
                let hi = Self::member(c, chars)?;
                members.push(Self::range(lo, hi)?);
            } else {
                members.push(match lo {
                    Escaped::Char(c) => ClassMember::Range(c, c),
                    Escaped::Perl(class) => ClassMember::Perl(class),
                });
            }
        }
    }

    fn member(c: char, chars: &mut Peekable<Chars>) -> Result<Escaped, PatternProblem> {
        match c {
            // moby turns these into `[^/]`-style text inside the class.
            '*' | '?' => Err(PatternProblem::WildcardInClass(c)),
            '[' if chars.peek() == Some(&':') => Err(PatternProblem::PosixClass),
            '\\' => regex_escape(chars.next().ok_or(PatternProblem::UnclosedClass)?),
            other => Ok(Escaped::Char(other)),
        }
    }

    fn range(lo: Escaped, hi: Escaped) -> Result<ClassMember, PatternProblem> {
        match (lo, hi) {
            (Escaped::Char(lo), Escaped::Char(hi)) if lo <= hi => Ok(ClassMember::Range(lo, hi)),
            (Escaped::Char(lo), Escaped::Char(hi)) => Err(PatternProblem::BackwardsRange(lo, hi)),
            // `[\d-z]`: a range to Go's glob check, a class, `-` and `z` to
            // its regular expressions.
            (Escaped::Perl(class), _) | (_, Escaped::Perl(class)) => {
                Err(PatternProblem::UnsupportedEscape(class.letter))
            }
        }
    }

    fn contains(&self, c: char) -> bool {
        let listed = self.members.iter().any(|member| match *member {
            ClassMember::Range(lo, hi) => (lo..=hi).contains(&c),
            ClassMember::Perl(class) => class.contains(c),
        });
        listed != self.negated
    }
}

/// Where a glob can be after reading some text, tracked for all
/// possibilities at once (so no backtracking blow-up on many `*`).
struct GlobProgress {
    /// `at[i]`: about to match token `i`; `at[len]` means matched in full.
    at: Vec<bool>,
    /// `in_dirs[i]`: token `i` is `**` (`(.*/)?`) and has read part of a
    /// directory name, so it must still reach a `/`.
    in_dirs: Vec<bool>,
}

impl GlobProgress {
    fn after(tokens: &[Token], text: &str) -> Self {
        let mut progress = GlobProgress {
            at: vec![false; tokens.len() + 1],
            in_dirs: vec![false; tokens.len()],
        };
        progress.at[0] = true;
        progress.skip_empty_matches(tokens, true);
        for c in text.chars() {
            progress = progress.read(tokens, c);
        }
        progress
    }

    fn is_complete(&self) -> bool {
        self.at[self.at.len() - 1]
    }

    /// Tokens that can match nothing pass straight on; `^` only at the start.
    fn skip_empty_matches(&mut self, tokens: &[Token], at_start: bool) {
        for (i, token) in tokens.iter().enumerate() {
            let can_be_empty = match token {
                Token::Star | Token::AnyDirs | Token::AnyRest => true,
                Token::StartAnchor => at_start,
                _ => false,
            };
            if self.at[i] && can_be_empty {
                self.at[i + 1] = true;
            }
        }
    }

    fn read(&self, tokens: &[Token], c: char) -> Self {
        let mut next = GlobProgress {
            at: vec![false; self.at.len()],
            in_dirs: vec![false; self.in_dirs.len()],
        };
        for (i, token) in tokens.iter().enumerate() {
            if self.in_dirs[i] || (self.at[i] && *token == Token::AnyDirs) {
                // Go's `.` does not match a newline.
                next.in_dirs[i] |= c != '\n';
                next.at[i + 1] |= c == '/';
            }
            if !self.at[i] {
                continue;
            }
            match token {
                Token::Literal(literal) => next.at[i + 1] |= c == *literal,
                Token::AnyCharButSlash => next.at[i + 1] |= c != '/',
                Token::Class(class) => next.at[i + 1] |= class.contains(c),
                Token::Star => next.at[i] |= c != '/',
                Token::AnyRest => next.at[i] |= c != '\n',
                Token::AnyDirs | Token::StartAnchor => {}
            }
        }
        next.skip_empty_matches(tokens, false);
        next
    }

    /// Whether reading more, non-empty text could still complete the glob.
    fn can_go_on(&self, tokens: &[Token], at_start: bool) -> bool {
        (0..tokens.len()).any(|i| {
            let rest = &tokens[i..];
            (self.at[i] || self.in_dirs[i])
                && rest.iter().any(|token| *token != Token::StartAnchor)
                && (at_start || !rest.contains(&Token::StartAnchor))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(dockerignore text, path, excluded)`.
    type Case = (&'static str, &'static str, bool);

    /// The examples in Docker's documentation of `.dockerignore`
    /// (docs.docker.com, "Build context" → ".dockerignore files").
    const DOCKER_DOCS: &[Case] = &[
        ("# comment\n*/temp*", "somedir/temporary.txt", true),
        ("*/temp*", "somedir/temp", true),
        ("*/temp*", "somedir/temp/inside.txt", true),
        ("*/temp*", "temporary.txt", false),
        ("*/temp*", "a/b/temporary.txt", false),
        ("*/*/temp*", "somedir/subdir/temporary.txt", true),
        ("*/*/temp*", "somedir/temporary.txt", false),
        ("temp?", "tempa", true),
        ("temp?", "tempb", true),
        ("temp?", "temp", false),
        ("temp?", "tempab", false),
        ("temp?", "dir/tempa", false),
        ("**/*.go", "main.go", true),
        ("**/*.go", "a/b/c.go", true),
        ("**/*.go", "a/b/c.golang", false),
        ("*.md\n!README.md", "CHANGES.md", true),
        ("*.md\n!README.md", "README.md", false),
        ("*.md\n!README.md", "docs/guide.md", false),
        (
            "*.md\n!README*.md\nREADME-secret.md",
            "README-secret.md",
            true,
        ),
        (
            "*.md\n!README*.md\nREADME-secret.md",
            "README-public.md",
            false,
        ),
        ("*.md\n!README*.md\nREADME-secret.md", "notes.md", true),
        (
            "*.md\nREADME-secret.md\n!README*.md",
            "README-secret.md",
            false,
        ),
        ("*.md\nREADME-secret.md\n!README*.md", "notes.md", true),
        ("/foo/bar", "foo/bar", true),
        ("foo/bar", "foo/bar", true),
        ("/foo/bar", "bar", false),
        ("/foo/bar", "x/foo/bar", false),
        ("/foo/bar", "foo/bar/baz", true),
        ("*\n!src", "src/main.rs", false),
        ("*\n!src", "target/debug/porter", true),
    ];

    /// `tests` and `multiPatternTests` of `TestMatches` in
    /// moby/patternmatcher `patternmatcher_test.go` (run there through
    /// `MatchesOrParentMatches`), plus its Unix-only `a\*b` case.
    const MOBY_MATCHES: &[Case] = &[
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**/", "file/", true),
        ("**", "/", true),
        ("**/", "/", true),
        ("**", "dir/file", true),
        ("**/", "dir/file", true),
        ("**", "dir/file/", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("**/**", "dir/file/", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true),
        ("dir/**", "dir/dir2/file", true),
        ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        (r"a\\", r"a\", true),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        (
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        (
            "dist/*.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        ("**\n!util/docker/web", "util/docker/web/foo", false),
        (
            "**\n!util/docker/web\nutil/docker/web/foo",
            "util/docker/web/foo",
            true,
        ),
        (
            "**\n!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            false,
        ),
        (
            "**\n!dist/*.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            false,
        ),
        (r"a\*b", "a*b", true),
    ];

    /// The valid entries of `matchTests` (Go's own `filepath.Match` tests)
    /// and the single-test functions (`TestWildcardMatches`,
    /// `TestExclusionPatternMatchesPatternBefore`, ...) in moby/patternmatcher
    /// `patternmatcher_test.go`.
    const MOBY_FILEPATH_MATCH: &[Case] = &[
        ("*", "fileutils.go", true),
        ("*.go", "fileutils.go", true),
        ("!fileutils.go\n*.go", "fileutils.go", true),
        ("docs\n!docs/README.md", "docs/README.md", false),
        ("docs/\n!docs/README.md", "docs/README.md", false),
        ("docs/*\n!docs/README.md", "docs/README.md", false),
        ("*.go\n!fileutils.go", "fileutils.go", false),
        ("*.go", ".", false),
        ("", "any/path/there", false),
        ("abc", "abc", true),
        ("*", "abc", true),
        ("*c", "abc", true),
        ("a*", "a", true),
        ("a*", "abc", true),
        ("a*", "ab/c", true),
        ("a*/b", "abc/b", true),
        ("a*/b", "a/c/b", false),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
        ("a*b?c*x", "abxbbxdbxebxczzx", true),
        ("a*b?c*x", "abxbbxdbxebxczzy", false),
        ("ab[c]", "abc", true),
        ("ab[b-d]", "abc", true),
        ("ab[e-g]", "abc", false),
        ("ab[^c]", "abc", false),
        ("ab[^b-d]", "abc", false),
        ("ab[^e-g]", "abc", true),
        (r"a\*b", "a*b", true),
        (r"a\*b", "ab", false),
        ("a?b", "a☺b", true),
        ("a[^a]b", "a☺b", true),
        ("a???b", "a☺b", false),
        ("a[^a][^a][^a]b", "a☺b", false),
        ("[a-ζ]*", "α", true),
        ("*[a-ζ]", "A", false),
        ("a?b", "a/b", false),
        ("a*b", "a/b", false),
        (r"[\]a]", "]", true),
        (r"[\-]", "-", true),
        (r"[x\-]", "x", true),
        (r"[x\-]", "-", true),
        (r"[x\-]", "z", false),
        (r"[\-x]", "x", true),
        (r"[\-x]", "-", true),
        (r"[\-x]", "a", false),
        ("*x", "xxx", true),
    ];

    /// Reading the file (moby `ignorefile.ReadAll` and its test) and the
    /// quirks of moby's regular-expression translation, worked out from
    /// `patternmatcher.go`.
    const READING_AND_QUIRKS: &[Case] = &[
        ("\u{feff}secret", "secret", true),
        ("#secret", "#secret", false),
        ("  # spaced", "# spaced", true),
        ("\tsecret \r\n", "secret", true),
        ("**\n! /inverted/abs/path", "inverted/abs/path", false),
        ("**\n! /inverted/abs/path", "inverted/other", true),
        ("./a", "a", true),
        ("a/", "a", true),
        ("a//b", "a/b", true),
        ("a/../b", "b", true),
        ("a/../b", "a", false),
        ("a /", "a", true),
        ("!./keep\n*", "keep", true),
        ("*\n!./keep", "keep", false),
        ("a/..", "a", false),
        (".", "a", false),
        ("*", ".", false),
        ("*", "./x/../y", true),
        ("a**b", "ab", true),
        ("a**b", "a/x/b", true),
        ("a**b", "axb", false),
        ("**b", "xb", true),
        ("**b", "dir/xb", true),
        ("a[^x]b", "a/b", true),
        ("a[!x]b", "a!b", true),
        ("a[!x]b", "ayb", false),
        (r"file\d", "file7", true),
        (r"file\d", "filed", false),
        (r"\w*", "_x1", true),
        (r"\!important", "!important", true),
        ("*^x", "^x", false),
        ("*^x", "a^x", false),
        ("a^b", "a^b", true),
        ("**^b", "a^b", true),
        ("[[]x", "[x", true),
        ("a]", "a]", true),
        ("dir/**", "dir", false),
        ("dir/**\n!dir/keep", "dir/keep/file", false),
        ("**\n!.git/HEAD", ".git/config", true),
        ("**\n!.git/HEAD", ".git/HEAD", false),
        ("*", "α", true),
        ("a/*\n!a/b\na/b/c", "a/b/c/d", true),
        ("a/*\n!a/b\na/b/c", "a/b/x", false),
        // moby's parent list for a rooted path includes `/` itself.
        ("/", "/x", true),
    ];

    fn excluded(dockerignore: &str, path: &str) -> bool {
        DockerIgnore::parse(dockerignore)
            .unwrap_or_else(|err| panic!("{dockerignore:?} should parse: {err}"))
            .matches(path)
    }

    fn check_cases(source: &str, cases: &[Case]) {
        let failures: Vec<String> = cases
            .iter()
            .filter(|(text, path, expected)| excluded(text, path) != *expected)
            .map(|(text, path, expected)| {
                format!("{text:?} on {path:?}: expected excluded = {expected}")
            })
            .collect();
        assert!(failures.is_empty(), "{source}:\n{}", failures.join("\n"));
    }

    #[test]
    fn dockerignore_docs_examples() {
        check_cases("Docker docs", DOCKER_DOCS);
    }

    #[test]
    fn dockerignore_moby_matches_cases() {
        check_cases("moby TestMatches", MOBY_MATCHES);
    }

    #[test]
    fn dockerignore_moby_filepath_match_cases() {
        check_cases("moby matchTests", MOBY_FILEPATH_MATCH);
    }

    #[test]
    fn dockerignore_reading_and_quirks() {
        check_cases("reading and quirks", READING_AND_QUIRKS);
    }

    /// `(dockerignore text, line, problem)`: the invalid entries of moby's
    /// `matchTests`, `TestSingleExclamationError`,
    /// `TestMatchesWithMalformedPatterns`, the `[Local-Only]/` regression
    /// test, and the patterns this module refuses.
    const PARSE_ERRORS: &[(&str, usize, PatternProblem)] = &[
        ("!", 1, PatternProblem::LoneBang),
        ("ok\n  !  ", 2, PatternProblem::LoneBang),
        ("!/", 1, PatternProblem::LoneBang),
        ("[", 1, PatternProblem::UnclosedClass),
        ("[^", 1, PatternProblem::UnclosedClass),
        ("[^bc", 1, PatternProblem::UnclosedClass),
        ("a[", 1, PatternProblem::UnclosedClass),
        ("[x-", 1, PatternProblem::UnclosedClass),
        ("[]a]", 1, PatternProblem::MisplacedInClass(']')),
        ("[-]", 1, PatternProblem::MisplacedInClass('-')),
        ("[x-]", 1, PatternProblem::MisplacedInClass(']')),
        ("[-x]", 1, PatternProblem::MisplacedInClass('-')),
        ("[a-b-c]", 1, PatternProblem::MisplacedInClass('-')),
        ("\\", 1, PatternProblem::TrailingBackslash),
        (
            "# c\n\nfine\n[Local-Only]/",
            4,
            PatternProblem::BackwardsRange('l', 'O'),
        ),
        ("[z-a]", 1, PatternProblem::BackwardsRange('z', 'a')),
        ("[*]", 1, PatternProblem::WildcardInClass('*')),
        ("a[?b]", 1, PatternProblem::WildcardInClass('?')),
        ("[[:alpha:]]", 1, PatternProblem::PosixClass),
        (r"\q", 1, PatternProblem::UnsupportedEscape('q')),
        (r"x\b", 1, PatternProblem::UnsupportedEscape('b')),
        (r"[\d-z]", 1, PatternProblem::UnsupportedEscape('d')),
        ("ok\n!ok/[", 2, PatternProblem::UnclosedClass),
        // Docker's own check is lazy and misses these two.
        ("a*[", 1, PatternProblem::UnclosedClass),
        (r"w*\", 1, PatternProblem::TrailingBackslash),
    ];

    #[test]
    fn dockerignore_parse_errors_name_the_line() {
        for (text, line, problem) in PARSE_ERRORS {
            let err = DockerIgnore::parse(text).expect_err(text);
            assert_eq!((err.line, &err.problem), (*line, problem), "{text:?}");
        }
    }

    #[test]
    fn dockerignore_error_message_says_where_and_what_to_do() {
        let err = DockerIgnore::parse("*.md\n\n  build/[abc  \n").unwrap_err();
        assert_eq!(
            err.to_string(),
            ".dockerignore line 3: `build/[abc`: `[` starts a character class that is never \
             closed; add the missing `]`, or write `\\[` for a literal `[`"
        );
    }

    /// `(dockerignore text, directory, can skip)`.
    const SKIP_DIR: &[Case] = &[
        ("vendor", "vendor", true),
        ("vendor", "src", false),
        ("vendor\n!vendor/keep", "vendor", false),
        ("vendor\n!**/keep", "vendor", false),
        ("vendor\n!*/keep", "vendor", false),
        ("!vendor/keep\nvendor", "vendor", true),
        ("*.md", "docs", false),
        ("node_modules\n!src", "node_modules", true),
        ("*\n!src/**", "target", true),
        ("*\n!src/**", "src", false),
        ("*\n!*/keep", "target", false),
        ("*\n!target", "target", false),
        ("a\n!a/b", "a/c", true),
        ("a\n!a/b", "a/b", false),
        ("**\n!**/*.json", "deep/dir", false),
        ("**\n!*.json", "deep/dir", true),
        ("**\n!deep/^x*", "deep", true),
        ("dir/**", "dir", false),
        ("dir/**", "dir/sub", true),
        ("anything", ".", false),
    ];

    #[test]
    fn dockerignore_can_skip_dir() {
        for (text, dir, expected) in SKIP_DIR {
            let ignore = DockerIgnore::parse(text).unwrap();
            assert_eq!(ignore.can_skip_dir(dir), *expected, "{text:?} on {dir:?}");
        }
    }

    /// `(dockerignore text, directory, may exclude under it)`, asked about
    /// `.cnab` the way `porter build` does.
    const MAY_EXCLUDE_UNDER: &[Case] = &[
        ("", ".cnab", false),
        ("*.md\nnode_modules", ".cnab", false),
        ("*\n!.cnab", ".cnab", false),
        ("*\n!.cnab\n!Dockerfile", ".cnab", false),
        ("*\n!.cnab/bundle.json", ".cnab", true),
        (".cnab", ".cnab", true),
        ("/.cnab/", ".cnab", true),
        (".cnab/bundle.json", ".cnab", true),
        ("!.cnab\n.cnab/app/run", ".cnab", true),
        ("**/*.json", ".cnab", true),
        ("*.json", ".cnab", false),
        (".*", ".cnab", true),
        ("**", ".cnab", true),
        ("*/bundle.json", ".cnab", true),
        ("*/bundle.json", "other", true),
        ("cnab/**", ".cnab", false),
        (".cnab/**\n!.cnab/**", ".cnab", true),
        ("*.md", ".", true),
        ("!*.md", ".", false),
    ];

    #[test]
    fn dockerignore_may_exclude_under() {
        for (text, dir, expected) in MAY_EXCLUDE_UNDER {
            let ignore = DockerIgnore::parse(text).unwrap();
            assert_eq!(
                ignore.may_exclude_under(dir),
                *expected,
                "{text:?} on {dir:?}"
            );
        }
    }

    /// When `can_skip_dir` says yes, nothing beneath that directory may be
    /// re-included; when `may_exclude_under` says no, nothing beneath it
    /// may be excluded. Checked on every file of a small tree.
    #[test]
    fn dockerignore_dir_answers_agree_with_matches() {
        let files = [
            "a/b/c",
            "a/keep",
            "a/b/keep",
            "a/x.json",
            "vendor/lib/keep",
            "vendor/x.go",
            ".cnab/bundle.json",
            ".cnab/app/run",
            "src/main.rs",
            "deep/dir/x.json",
        ];
        let texts = SKIP_DIR.iter().chain(MAY_EXCLUDE_UNDER).map(|case| case.0);
        for text in texts {
            let ignore = DockerIgnore::parse(text).unwrap();
            for file in files {
                let dirs = file.match_indices('/').map(|(slash, _)| &file[..slash]);
                for dir in dirs {
                    if ignore.can_skip_dir(dir) {
                        assert!(ignore.matches(file), "{text:?}: skipped {dir} hides {file}");
                    }
                    if !ignore.may_exclude_under(dir) {
                        assert!(
                            !ignore.matches(file),
                            "{text:?}: {file} excluded under {dir}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn dockerignore_clean_path_is_go_filepath_clean() {
        let cases = [
            ("", "."),
            (".", "."),
            ("./a", "a"),
            ("a/", "a"),
            ("a//b", "a/b"),
            ("a/./b/", "a/b"),
            ("a/../b", "b"),
            ("a/..", "."),
            ("../a", "../a"),
            ("../../a/..", "../.."),
            ("/../a", "/a"),
            ("/", "/"),
            ("//a//", "/a"),
        ];
        for (path, cleaned) in cases {
            assert_eq!(clean_path(path), cleaned, "{path:?}");
        }
    }

    #[test]
    fn dockerignore_default_excludes_nothing() {
        let ignore = DockerIgnore::default();
        assert!(!ignore.matches("anything"));
        assert!(!ignore.can_skip_dir("dir"));
        assert!(!ignore.may_exclude_under("."));
    }
}
