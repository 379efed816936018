//! Reading the classic builder's output (pure): the engine sends text in
//! chunks ("Step 3/9 : RUN ...", the step's output, " ---> Using cache"),
//! then either an image ID or an error. This turns the chunks into lines,
//! keeps track of the step in progress and its last lines of output, and
//! explains a failure: which step, which mixin wrote it, what the engine
//! said, and what to do next.

use std::collections::VecDeque;

use crate::dockerfile::MixinLines;

/// Lines of a step's output kept to show when it fails.
const KEPT_LINES: usize = 20;

/// One line of the build's output, as the display shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `Step N/M : INSTRUCTION`.
    Step(String),
    /// ` ---> Using cache`, ` ---> Running in ...`, ` ---> <id>`, and the
    /// builder's own closing lines.
    Builder(String),
    /// Output of the command a step runs.
    Output(String),
}

/// The state of one build's output.
#[derive(Debug, Default)]
pub struct BuildLog {
    partial: String,
    step: Option<String>,
    step_output: VecDeque<String>,
    cached_steps: Vec<String>,
    steps: usize,
    image_id: Option<String>,
    error: Option<String>,
}

impl BuildLog {
    /// Takes a chunk of the engine's text; returns the complete lines in it.
    pub fn push_text(&mut self, chunk: &str) -> Vec<Line> {
        self.partial.push_str(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            let line = shown_text(&line);
            if !line.is_empty() {
                lines.push(self.classify(&line));
            }
        }
        lines
    }

    /// Whatever is left when the stream ends.
    pub fn finish(&mut self) -> Vec<Line> {
        let rest = shown_text(&std::mem::take(&mut self.partial));
        if rest.trim().is_empty() {
            Vec::new()
        } else {
            vec![self.classify(&rest)]
        }
    }

    fn classify(&mut self, line: &str) -> Line {
        if let Some(step) = step_instruction(line) {
            self.step = Some(step.to_string());
            self.step_output.clear();
            self.steps += 1;
            return Line::Step(line.to_string());
        }
        if let Some(id) = line.strip_prefix("Successfully built ") {
            self.image_id.get_or_insert_with(|| id.trim().to_string());
            return Line::Builder(line.to_string());
        }
        if line.starts_with(" ---> ")
            || line.starts_with("Removing intermediate container")
            || line.starts_with("Successfully tagged ")
        {
            if let Some(step) = self.step.as_ref().filter(|_| line == " ---> Using cache") {
                self.cached_steps.push(step.clone());
            }
            return Line::Builder(line.to_string());
        }
        if self.step_output.len() == KEPT_LINES {
            self.step_output.pop_front();
        }
        self.step_output.push_back(line.to_string());
        Line::Output(line.to_string())
    }

    /// The image ID the engine reported (its `aux` message).
    pub fn set_image_id(&mut self, id: String) {
        self.image_id = Some(id);
    }

    /// The error the engine reported.
    pub fn set_error(&mut self, message: String) {
        self.error.get_or_insert(message);
    }

    pub fn image_id(&self) -> Option<&str> {
        self.image_id.as_deref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The instructions whose step the engine took from its cache.
    #[cfg(test)]
    pub fn cached_steps(&self) -> &[String] {
        &self.cached_steps
    }

    /// How many steps came from the engine's cache, for the closing line.
    pub fn cache_summary(&self) -> String {
        format!(
            "{} of {} steps from the cache",
            self.cached_steps.len(),
            self.steps
        )
    }

    /// The last lines the failing step printed.
    pub fn step_output(&self) -> impl Iterator<Item = &str> {
        self.step_output.iter().map(String::as_str)
    }

    /// The failure, explained: where, whose line, what the engine said.
    /// `dockerfile` names the Dockerfile for the user; `dockerfile_text` is
    /// what was sent.
    pub fn explain_failure(
        &self,
        mixins: &[MixinLines],
        dockerfile: &str,
        dockerfile_text: &str,
    ) -> String {
        let error = self
            .error
            .as_deref()
            .unwrap_or("the engine reported an error");
        let Some(step) = &self.step else {
            // A Dockerfile the builder cannot parse: it names the line.
            let mut text = format!("the image build failed before its first step: {error}");
            let culprit = error_line(error)
                .and_then(|n| dockerfile_text.lines().nth(n.checked_sub(1)?))
                .and_then(|line| mixin_of(line, mixins));
            if let Some(mixin) = culprit {
                text.push_str(&format!(
                    "\n  the line comes from the {mixin} mixin (check its config and steps in porter.yaml)"
                ));
            }
            return text;
        };
        let mut text = format!("the image build failed at `{step}`");
        if let Some(mixin) = mixin_of(step, mixins) {
            text.push_str(&format!(
                ", a line from the {mixin} mixin (check its config and steps in porter.yaml)"
            ));
        }
        text.push_str(&format!("\n{error}"));
        let keyword = step.split_whitespace().next().unwrap_or("");
        if keyword.eq_ignore_ascii_case("FROM") {
            let image = step.split_whitespace().nth(1).unwrap_or("");
            text.push_str(&format!(
                "\n  hint: the base image {image} is not on the engine and could not be pulled: \
                 load it first (`docker pull`, `docker load` or `docker import`), \
                 or change the FROM line of the Dockerfile template ({dockerfile} is generated from it)"
            ));
        }
        text
    }
}

/// What a terminal would show of one line of output: the text after its
/// last carriage return (progress counters redraw the line), without the
/// colour codes the engine wraps a command's stderr in.
fn shown_text(line: &str) -> String {
    let line = line.trim_end_matches(['\n', '\r']);
    let shown = line
        .rsplit('\r')
        .find(|part| !part.is_empty())
        .unwrap_or("");
    let mut text = String::with_capacity(shown.len());
    let mut chars = shown.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            // CSI: parameters and intermediates, then one final byte.
            chars.next();
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        } else {
            text.push(c);
        }
    }
    text.trim_end().to_string()
}

/// N of "line N" in a builder's parse error.
fn error_line(error: &str) -> Option<usize> {
    let (_, rest) = error.split_once("line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `INSTRUCTION` of a `Step N/M : INSTRUCTION` line.
fn step_instruction(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Step ")?;
    let (counter, instruction) = rest.split_once(" : ")?;
    counter
        .split_once('/')
        .filter(|(n, m)| {
            !n.is_empty()
                && !m.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && m.bytes().all(|b| b.is_ascii_digit())
        })
        .map(|_| instruction)
}

/// The mixin whose Dockerfile lines hold `instruction` (the builder shows
/// an instruction with its continuation lines joined).
fn mixin_of<'a>(instruction: &str, mixins: &'a [MixinLines]) -> Option<&'a str> {
    let wanted = normalize(instruction);
    mixins
        .iter()
        .find(|m| {
            let text = m.lines.join("\n");
            joined_instructions(&text).any(|i| normalize(&i) == wanted)
        })
        .map(|m| m.mixin.as_str())
}

/// The instructions of some Dockerfile text, each with its continuation
/// lines joined.
fn joined_instructions(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            if !current.trim().is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out.into_iter()
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_lines_and_steps_are_tracked() {
        let mut log = BuildLog::default();
        let mut lines = log.push_text(
            "Step 1/3 : FROM debian:stable-slim\n ---> fcd6c5e850ff\nStep 2/3 : RUN apt-get up",
        );
        lines.extend(log.push_text(
            "date\n ---> Using cache\n ---> 1a2b\nStep 3/3 : RUN echo hi\n ---> Running in 9f\nhi\r\n",
        ));
        lines.extend(log.push_text(
            "Removing intermediate container 9f\n ---> 77aa\nSuccessfully built 77aa\nSuccessfully tagged x:y\n",
        ));
        assert_eq!(
            lines,
            [
                Line::Step("Step 1/3 : FROM debian:stable-slim".into()),
                Line::Builder(" ---> fcd6c5e850ff".into()),
                Line::Step("Step 2/3 : RUN apt-get update".into()),
                Line::Builder(" ---> Using cache".into()),
                Line::Builder(" ---> 1a2b".into()),
                Line::Step("Step 3/3 : RUN echo hi".into()),
                Line::Builder(" ---> Running in 9f".into()),
                Line::Output("hi".into()),
                Line::Builder("Removing intermediate container 9f".into()),
                Line::Builder(" ---> 77aa".into()),
                Line::Builder("Successfully built 77aa".into()),
                Line::Builder("Successfully tagged x:y".into()),
            ]
        );
        assert_eq!(log.cached_steps(), ["RUN apt-get update"]);
        assert_eq!(log.cache_summary(), "1 of 3 steps from the cache");
        assert_eq!(log.image_id(), Some("77aa"));
        log.set_image_id("sha256:77aa00".into());
        assert_eq!(log.image_id(), Some("sha256:77aa00"));
        assert!(log.finish().is_empty());
    }

    #[test]
    fn a_failing_mixin_line_is_attributed_to_its_mixin() {
        let mixins = [
            MixinLines::new("exec", Vec::<String>::new()),
            MixinLines::new(
                "apt",
                ["RUN apt-get update && \\\n    apt-get install -y nosuch"],
            ),
        ];
        let mut log = BuildLog::default();
        log.push_text("Step 4/9 : RUN apt-get update &&     apt-get install -y nosuch\n ---> Running in 1\nE: Unable to locate package nosuch\n");
        log.set_error("The command '/bin/sh -c apt-get update &&     apt-get install -y nosuch' returned a non-zero code: 100".into());
        let text = log.explain_failure(&mixins, ".cnab/Dockerfile", "");
        assert!(
            text.starts_with("the image build failed at `RUN apt-get update &&     apt-get install -y nosuch`, a line from the apt mixin"),
            "{text}"
        );
        assert!(text.contains("returned a non-zero code: 100"), "{text}");
        assert_eq!(
            log.step_output().collect::<Vec<_>>(),
            ["E: Unable to locate package nosuch"]
        );
    }

    #[test]
    fn a_missing_base_image_gets_a_hint() {
        let mut log = BuildLog::default();
        log.push_text("Step 1/5 : FROM example.invalid/base:1\n");
        log.set_error("pull access denied for example.invalid/base".into());
        let text = log.explain_failure(&[], ".cnab/Dockerfile", "");
        assert!(text.contains("`FROM example.invalid/base:1`"), "{text}");
        assert!(
            text.contains("hint: the base image example.invalid/base:1 is not on the engine"),
            "{text}"
        );
        assert!(!text.contains("mixin"), "{text}");
    }

    #[test]
    fn an_error_before_any_step_is_traced_to_the_mixin_line_it_names() {
        let mut log = BuildLog::default();
        log.set_error("dockerfile parse error line 3: unknown instruction: FOO".into());
        let mixins = [MixinLines::new("broken", ["FOO bar"])];
        assert_eq!(
            log.explain_failure(
                &mixins,
                ".cnab/Dockerfile",
                "FROM x\nARG BUNDLE_DIR\nFOO bar\n"
            ),
            "the image build failed before its first step: dockerfile parse error line 3: unknown instruction: FOO\n  \
             the line comes from the broken mixin (check its config and steps in porter.yaml)"
        );
        assert_eq!(
            log.explain_failure(&mixins, ".cnab/Dockerfile", "FROM x\n"),
            "the image build failed before its first step: dockerfile parse error line 3: unknown instruction: FOO"
        );
    }

    #[test]
    fn redrawn_lines_and_colour_codes_are_shown_as_a_terminal_shows_them() {
        let mut log = BuildLog::default();
        let lines = log.push_text(
            "(Reading database ... \r(Reading database ... 5%\r(Reading database ... 6096 files)\n\x1b[91mdebconf: delaying\n\x1b[0mdone\r\n",
        );
        assert_eq!(
            lines,
            [
                Line::Output("(Reading database ... 6096 files)".into()),
                Line::Output("debconf: delaying".into()),
                Line::Output("done".into()),
            ]
        );
    }

    #[test]
    fn step_lines_are_recognized_strictly() {
        assert_eq!(step_instruction("Step 2/10 : COPY . /x"), Some("COPY . /x"));
        assert_eq!(step_instruction("Step two : x"), None);
        assert_eq!(step_instruction("Step 1/ : x"), None);
        assert_eq!(step_instruction("Stepping 1/2 : x"), None);
    }
}
