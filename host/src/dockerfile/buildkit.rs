//! Finding what in a Dockerfile needs BuildKit, so the build can say so
//! before the classic builder fails on it (the default template must build
//! with the classic builder and offline; a custom one may need BuildKit, and
//! the user should learn why from porter).

use std::fmt;

use super::parse::{self, DEFAULT_ESCAPE, Instruction};

/// One use of BuildKit-only syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildKitOnly {
    /// 1-based line of the Dockerfile.
    pub line: usize,
    /// What it is, as written in a Dockerfile: `RUN --mount`, `COPY --link`,
    /// `RUN <<` (a here-document), `# syntax=`.
    pub syntax: String,
}

impl fmt::Display for BuildKitOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: `{}`", self.line, self.syntax)?;
        if self.syntax == "# syntax=" {
            f.write_str(" (BuildKit pulls the frontend image it names)")?;
        }
        Ok(())
    }
}

/// Instruction flags the classic builder refuses ("the --mount option
/// requires BuildKit").
const BUILDKIT_FLAGS: [(&str, &[&str]); 3] = [
    ("RUN", &["mount", "network", "security", "device"]),
    ("COPY", &["link", "chmod", "parents", "exclude", "checksum"]),
    (
        "ADD",
        &[
            "link",
            "chmod",
            "parents",
            "exclude",
            "checksum",
            "keep-git-dir",
            "unpack",
        ],
    ),
];

/// Every use of BuildKit-only syntax in `dockerfile`, in line order: a
/// `# syntax=` directive (it makes BuildKit pull a frontend image, which
/// fails offline), the flags the classic builder refuses (`RUN --mount`,
/// `COPY --link`, `COPY --chmod`...) and here-documents (`RUN <<EOF`).
/// Empty means the classic builder can build it.
pub fn buildkit_only_syntax(dockerfile: &str) -> Vec<BuildKitOnly> {
    let lines = parse::split_lines(dockerfile);
    let parsed = parse::parse(&lines, DEFAULT_ESCAPE);
    let directives = parsed
        .directives
        .iter()
        .filter(|d| d.name.eq_ignore_ascii_case("syntax"))
        .map(|d| BuildKitOnly {
            line: d.line + 1,
            syntax: "# syntax=".to_string(),
        });
    let instructions = parsed.instructions.iter().flat_map(instruction_uses);
    let mut uses: Vec<BuildKitOnly> = directives.chain(instructions).collect();
    uses.sort_by_key(|u| u.line);
    uses
}

fn instruction_uses(instruction: &Instruction<'_>) -> Vec<BuildKitOnly> {
    let Some((keyword, flags)) = BUILDKIT_FLAGS
        .iter()
        .find(|(keyword, _)| instruction.is(keyword))
    else {
        return Vec::new();
    };
    let line = instruction.first_line + 1;
    let mut names: Vec<&str> = Vec::new();
    for word in instruction
        .words()
        .take_while(|word| word.starts_with("--"))
    {
        let name = word[2..].split('=').next().unwrap_or_default();
        // `RUN --mount=... --mount=...` is one use.
        if flags.contains(&name) && !names.contains(&name) {
            names.push(name);
        }
    }
    let flag_uses = names.into_iter().map(|name| BuildKitOnly {
        line,
        syntax: format!("{keyword} --{name}"),
    });
    let heredoc = instruction.words().any(is_heredoc).then(|| BuildKitOnly {
        line,
        syntax: format!("{keyword} <<"),
    });
    flag_uses.chain(heredoc).collect()
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`; not bash's `<<<` here-string.
fn is_heredoc(word: &str) -> bool {
    word.strip_prefix("<<").is_some_and(|rest| {
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '"' || c == '\'')
    })
}
