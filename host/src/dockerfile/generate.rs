//! Template + mixin lines -> Dockerfile lines: where each section goes
//! (Porter's `replaceTokens`), the checks that keep the result buildable,
//! and the assembly.

use super::error::DockerfileError;
use super::parse::{self, DEFAULT_ESCAPE, Instruction, Parsed};
use super::sections;
use super::{ContextLayout, Generated, INIT_MARKER, MIXINS_MARKER, MixinLines, Options};
use crate::layout::RUN_PATH;

/// Where the sections go in the template's lines (0-based indexes).
struct Plan {
    last_from: LastFrom,
    /// The `# PORTER_INIT` line, or `None` to insert after the last FROM.
    init_marker: Option<usize>,
    /// The `# PORTER_MIXINS` line, or `None` to append at the end.
    mixins_marker: Option<usize>,
}

struct LastFrom {
    first_line: usize,
    last_line: usize,
    /// Its flags and image, without `AS name`: the base of porter's stage.
    base: String,
}

/// The mixins' lines, ready to insert.
struct MixinSection {
    lines: Vec<String>,
    instructions: Vec<MixinInstruction>,
}

/// One instruction of a mixin's lines.
struct MixinInstruction {
    /// Upper case.
    keyword: String,
    arguments: String,
    mixin: String,
}

pub(super) fn from_template(
    text: &str,
    custom: bool,
    mixins: &[MixinLines],
    options: &Options,
) -> Result<Generated, DockerfileError> {
    let lines = parse::split_lines(text);
    let parsed = parse::parse(&lines, DEFAULT_ESCAPE);
    let plan = plan(&parsed)?;
    let mixin_section = mixin_section(mixins, parsed.escape)?;
    let user_manifest = checked_manifest_path(options)?;
    // Nothing but porter's own lines reads the context: it can be laid out
    // for the image (see ContextLayout), and the staging stage is not needed.
    let split = !reads_build_context(&parsed, &mixin_section);

    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 32);
    for (index, line) in lines.iter().enumerate() {
        if index == plan.last_from.first_line && !split {
            out.extend(sections::staging_stage(&plan.last_from.base, user_manifest));
        }
        if plan.init_marker == Some(index) {
            out.extend(sections::INIT.map(String::from));
            continue;
        }
        if plan.mixins_marker == Some(index) {
            out.extend(mixin_section.lines.iter().cloned());
            continue;
        }
        out.push(line.to_string());
        if plan.init_marker.is_none() && index == plan.last_from.last_line {
            out.extend(sections::INIT.map(String::from));
        }
    }
    if plan.mixins_marker.is_none() {
        out.extend(mixin_section.lines);
    }
    // Only a custom template or a mixin's instructions can have put files
    // under /cnab before porter's COPY; the default template does not.
    let fix_existing_cnab = custom || !mixin_section.instructions.is_empty();
    let label = sections::label_line(&options.labels, parsed.escape);
    let (tail, layout) = if split {
        let manifest = user_manifest.map(str::to_string);
        (
            sections::split_tail(fix_existing_cnab, label),
            ContextLayout::Split { manifest },
        )
    } else {
        (
            sections::tail(fix_existing_cnab, label),
            ContextLayout::BundleAtRoot,
        )
    };
    out.extend(tail);
    Ok(Generated {
        // Porter joins with `\n` and ends without a newline.
        text: out.join("\n"),
        layout,
        labels_written: true,
    })
}

/// Whether an instruction of the template (any stage) or of the mixins'
/// lines copies from the build context: a `COPY` or `ADD` without `--from`
/// (an `ADD` of a URL fetches instead). Such a Dockerfile needs the bundle
/// directory at the context's root, as Docker's CLI would send it.
fn reads_build_context(template: &Parsed<'_>, mixins: &MixinSection) -> bool {
    let template = template
        .instructions
        .iter()
        .map(|i| (i.keyword.to_ascii_uppercase(), i.arguments.as_str()));
    let mixins = mixins
        .instructions
        .iter()
        .map(|i| (i.keyword.clone(), i.arguments.as_str()));
    template
        .chain(mixins)
        .any(|(keyword, arguments)| copies_from_context(&keyword, arguments))
}

/// `keyword` upper case.
fn copies_from_context(keyword: &str, arguments: &str) -> bool {
    if keyword != "COPY" && keyword != "ADD" {
        return false;
    }
    let mut words = arguments.split_whitespace().peekable();
    let mut from_stage = false;
    while let Some(flag) = words.next_if(|w| w.starts_with("--")) {
        from_stage |= flag.to_ascii_lowercase().starts_with("--from");
    }
    let first_source = words
        .next()
        .unwrap_or_default()
        .trim_start_matches(['[', '"']);
    let fetched = keyword == "ADD" && {
        let lower = first_source.to_ascii_lowercase();
        lower.starts_with("http://") || lower.starts_with("https://")
    };
    !from_stage && !fetched
}

/// The warnings for a template [`from_template`] accepts; none when it
/// refuses it (the error says what matters).
pub(super) fn warnings(text: &str, mixins: &[MixinLines]) -> Vec<String> {
    let lines = parse::split_lines(text);
    let parsed = parse::parse(&lines, DEFAULT_ESCAPE);
    match (plan(&parsed), mixin_section(mixins, parsed.escape)) {
        (Ok(plan), Ok(section)) => final_stage_warnings(&parsed, &plan, &section),
        _ => Vec::new(),
    }
}

fn plan(parsed: &Parsed<'_>) -> Result<Plan, DockerfileError> {
    if let Some(first_line) = parsed.unfinished {
        return Err(DockerfileError::TemplateEndsMidInstruction {
            line: first_line + 1,
            escape: parsed.escape,
        });
    }
    check_stage_names(parsed)?;
    let last_from = last_from(parsed)?;
    let init_marker = find_marker(parsed, INIT_MARKER)?;
    let mixins_marker = find_marker(parsed, MIXINS_MARKER)?;
    for (marker, line) in [(INIT_MARKER, init_marker), (MIXINS_MARKER, mixins_marker)] {
        if let Some(line) = line.filter(|&line| line < last_from.first_line) {
            return Err(DockerfileError::MarkerBeforeLastFrom {
                marker,
                line: line + 1,
                last_from: last_from.first_line + 1,
            });
        }
    }
    if let (Some(init), Some(mixins)) = (init_marker, mixins_marker)
        && mixins < init
    {
        return Err(DockerfileError::MixinsBeforeInit {
            mixins: mixins + 1,
            init: init + 1,
        });
    }
    Ok(Plan {
        last_from,
        init_marker,
        mixins_marker,
    })
}

fn check_stage_names(parsed: &Parsed<'_>) -> Result<(), DockerfileError> {
    for from in parsed.froms() {
        if let Some(name) = stage_name(from).filter(|n| n.eq_ignore_ascii_case(sections::STAGE)) {
            return Err(DockerfileError::ReservedStageName {
                line: from.first_line + 1,
                name: name.to_string(),
            });
        }
    }
    Ok(())
}

/// `FROM [--flag...] image [AS name]`: the name.
fn stage_name<'a>(from: &'a Instruction<'_>) -> Option<&'a str> {
    let words: Vec<&str> = from.words().collect();
    match words.as_slice() {
        [.., as_word, name] if as_word.eq_ignore_ascii_case("AS") => Some(name),
        _ => None,
    }
}

/// The FROM of the last build stage: Porter's appended lines end up in that
/// stage, so the init lines go there too.
fn last_from(parsed: &Parsed<'_>) -> Result<LastFrom, DockerfileError> {
    let from = parsed.froms().last().ok_or(DockerfileError::NoFrom)?;
    let flags: Vec<&str> = from.words().take_while(|w| w.starts_with("--")).collect();
    let image = from
        .words()
        .nth(flags.len())
        .ok_or(DockerfileError::FromWithoutImage {
            line: from.first_line + 1,
        })?;
    Ok(LastFrom {
        first_line: from.first_line,
        last_line: from.last_line,
        base: flags
            .into_iter()
            .chain([image])
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// The line of `marker`, matched as Porter does (a line whose trimmed text
/// starts with it), refusing a second one or one inside an instruction.
fn find_marker(
    parsed: &Parsed<'_>,
    marker: &'static str,
) -> Result<Option<usize>, DockerfileError> {
    let mut found = parsed
        .comments
        .iter()
        .filter(|c| c.text.starts_with(marker));
    let Some(first) = found.next() else {
        return Ok(None);
    };
    if let Some(second) = found.next() {
        return Err(DockerfileError::DuplicateMarker {
            marker,
            first: first.line + 1,
            second: second.line + 1,
        });
    }
    if let Some(instruction) = first.inside_instruction {
        return Err(DockerfileError::MarkerInsideInstruction {
            marker,
            line: first.line + 1,
            instruction: instruction + 1,
            escape: parsed.escape,
        });
    }
    Ok(Some(first.line))
}

/// Each mixin's lines in declaration order, each mixin followed by one
/// blank line (as Porter's goldens show: a mixin's stdout ends with a
/// newline). Empty lines are kept. Lines are read with the template's
/// escape character. A line with a line break in it is refused: it would
/// be several Dockerfile lines, and a `FROM` or a stray `\` hidden in it
/// would change what the lines around it mean.
fn mixin_section(mixins: &[MixinLines], escape: char) -> Result<MixinSection, DockerfileError> {
    let mut section = MixinSection {
        lines: Vec::new(),
        instructions: Vec::new(),
    };
    for mixin in mixins {
        if let Some((index, line)) = mixin
            .lines
            .iter()
            .enumerate()
            .find(|(_, line)| line.contains(['\n', '\r']))
        {
            return Err(DockerfileError::MixinLineWithLineBreak {
                mixin: mixin.mixin.clone(),
                number: index + 1,
                line: shown_with_breaks(line),
            });
        }
        let lines: Vec<&str> = mixin.lines.iter().map(String::as_str).collect();
        let parsed = parse::parse(&lines, escape);
        if parsed.unfinished.is_some() {
            let last_line = lines
                .iter()
                .rev()
                .find(|line| parse::continues(line, escape))
                .copied()
                .unwrap_or_default();
            return Err(DockerfileError::MixinLinesEndMidInstruction {
                mixin: mixin.mixin.clone(),
                last_line: last_line.to_string(),
                escape,
            });
        }
        section
            .instructions
            .extend(parsed.instructions.iter().map(|i| MixinInstruction {
                keyword: i.keyword.to_ascii_uppercase(),
                arguments: i.arguments.clone(),
                mixin: mixin.mixin.clone(),
            }));
        section.lines.extend(lines.into_iter().map(String::from));
        section.lines.push(String::new());
    }
    Ok(section)
}

/// `line` on one line: breaks written `\n` / `\r`, cut after 80 characters.
fn shown_with_breaks(line: &str) -> String {
    let escaped = line.replace('\n', "\\n").replace('\r', "\\r");
    match escaped.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped,
    }
}

/// The manifest's path inside the build context, refused if it could point
/// elsewhere (the `rm` line must not remove anything else).
fn checked_manifest_path(options: &Options) -> Result<Option<&str>, DockerfileError> {
    let Some(path) = options.manifest_in_context.as_deref() else {
        return Ok(None);
    };
    let inside = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(['\n', '\r', '\\'])
        && path.split('/').all(|part| part != "..");
    if inside {
        Ok(Some(path))
    } else {
        Err(DockerfileError::ManifestPathOutsideContext {
            path: path.to_string(),
        })
    }
}

/// CMD and ENTRYPOINT in the last stage: porter's `CMD ["/cnab/app/run"]`
/// replaces the first and would be handed to the second as arguments. And a
/// mixin's FROM, which moves porter's lines to another stage.
fn final_stage_warnings(parsed: &Parsed<'_>, plan: &Plan, mixins: &MixinSection) -> Vec<String> {
    let template = parsed
        .instructions
        .iter()
        .filter(|i| i.first_line > plan.last_from.last_line)
        .map(|i| {
            let place = format!("line {} of the Dockerfile template", i.first_line + 1);
            (i.keyword.to_ascii_uppercase(), place)
        });
    let from_mixins = mixins.instructions.iter().map(|i| {
        let place = format!("the Dockerfile lines of mixin `{}`", i.mixin);
        (i.keyword.clone(), place)
    });
    let new_stage = mixins
        .instructions
        .iter()
        .filter(|i| i.keyword == "FROM")
        .map(|i| {
            format!(
                "the Dockerfile lines of mixin `{}`: FROM starts a new build stage, and the \
                 lines porter adds after it land there without the build arguments of \
                 `# PORTER_INIT`; ask the mixin's author whether that is intended",
                i.mixin
            )
        });
    let downloads = mixins.instructions.iter().filter_map(|i| {
        let url = downloaded_url(i)?;
        Some(format!(
            "the Dockerfile lines of mixin `{}`: ADD {url} downloads while the image is \
             built, so what lands in the image is not pinned by the mixin's digest (the \
             server can change it); ask the mixin's author to install from a package \
             manager with a pinned version, or to verify a checksum in a RUN",
            i.mixin
        ))
    });
    template
        .chain(from_mixins)
        .filter_map(|(keyword, place)| final_stage_warning(&keyword, &place))
        .chain(new_stage)
        .chain(downloads)
        .collect()
}

/// The URL an `ADD` fetches (Docker's classic builder fetches `http://` and
/// `https://` sources; BuildKit also git repositories), if it fetches one.
fn downloaded_url(instruction: &MixinInstruction) -> Option<&str> {
    if instruction.keyword != "ADD" {
        return None;
    }
    instruction
        .arguments
        .split_whitespace()
        .filter(|word| !word.starts_with("--"))
        // The JSON form: `["https://...", "/dest"]`.
        .map(|word| word.trim_matches(|c| matches!(c, '[' | ']' | '"' | ',')))
        .find(|word| {
            let lower = word.to_ascii_lowercase();
            ["http://", "https://", "git@", "git://"]
                .iter()
                .any(|scheme| lower.starts_with(scheme))
        })
}

fn final_stage_warning(keyword: &str, place: &str) -> Option<String> {
    match keyword {
        "CMD" => Some(format!(
            "{place}: CMD is replaced by porter's CMD [\"{RUN_PATH}\"]; remove it"
        )),
        "ENTRYPOINT" => Some(format!(
            "{place}: ENTRYPOINT would receive porter's CMD [\"{RUN_PATH}\"] as its \
             arguments, so the bundle may not run; remove the ENTRYPOINT"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::copies_from_context;

    #[test]
    fn copies_from_the_context_unless_from_a_stage_or_a_url() {
        for (keyword, arguments, reads) in [
            ("COPY", ". ${BUNDLE_DIR}", true),
            ("COPY", "--chown=1:1 mybin /cnab/app/", true),
            ("COPY", r#"["a b", "/x/"]"#, true),
            ("ADD", "archive.tgz /opt/", true),
            ("COPY", "--from=build /out/app /usr/local/bin/app", false),
            ("COPY", "--FROM=build /a /b", false),
            ("ADD", "https://example.com/x.tgz /opt/", false),
            ("ADD", r#"["http://example.com/x", "/x"]"#, false),
            ("RUN", "cp a b", false),
        ] {
            assert_eq!(
                copies_from_context(keyword, arguments),
                reads,
                "{keyword} {arguments}"
            );
        }
    }
}
