/// What [`crate::Mixin::build`] returns: Dockerfile lines and warnings.
///
/// The lines are pasted at `# PORTER_MIXINS` in the order given, after the
/// `ARG BUNDLE_DIR` / `BUNDLE_UID` / `BUNDLE_USER` / `BUNDLE_GID` lines and
/// before the bundle's files are copied in; they run as root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOutput {
    pub dockerfile_lines: Vec<String>,
    pub warnings: Vec<String>,
}

impl BuildOutput {
    pub fn new() -> Self {
        Self::default()
    }

    /// Any Dockerfile line, as written.
    pub fn line(&mut self, line: impl Into<String>) -> &mut Self {
        self.dockerfile_lines.push(line.into());
        self
    }

    /// `# text`
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.line(format!("# {text}"))
    }

    /// `RUN command`
    pub fn run(&mut self, command: &str) -> &mut Self {
        self.line(format!("RUN {command}"))
    }

    /// `ENV name="value"`, the value quoted for Docker.
    pub fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.line(format!("ENV {name}={}", docker_quote(value)))
    }

    /// `ARG name` or `ARG name=default`.
    pub fn arg(&mut self, name: &str, default: Option<&str>) -> &mut Self {
        match default {
            Some(value) => self.line(format!("ARG {name}={}", docker_quote(value))),
            None => self.line(format!("ARG {name}")),
        }
    }

    /// One `RUN` that installs Debian packages without recommends and
    /// cleans apt's lists, so the layer carries only the packages.
    pub fn apt_install<S: AsRef<str>>(&mut self, packages: &[S]) -> &mut Self {
        let names: Vec<String> = packages.iter().map(|p| shell_word(p.as_ref())).collect();
        self.run(&format!(
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*",
            names.join(" ")
        ))
    }

    /// A warning shown to the user; it does not fail the build.
    pub fn warn(&mut self, warning: impl Into<String>) -> &mut Self {
        self.warnings.push(warning.into());
        self
    }
}

/// A shell word: left bare when it is plainly safe, single-quoted otherwise.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.:=_/@%,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn docker_quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_write_the_expected_lines() {
        let mut out = BuildOutput::new();
        out.comment("tools")
            .arg("VERSION", Some("1.2"))
            .env("PATH", "/opt/bin:$PATH")
            .apt_install(&["curl", "ca-certificates", "it's"])
            .warn("careful");
        assert_eq!(
            out.dockerfile_lines,
            [
                "# tools",
                "ARG VERSION=\"1.2\"",
                "ENV PATH=\"/opt/bin:$PATH\"",
                "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates 'it'\\''s' && rm -rf /var/lib/apt/lists/*",
            ]
        );
        assert_eq!(out.warnings, ["careful"]);
    }
}
