//! `porter lint`: validate porter.yaml, run Porter's lint rules and each
//! declared mixin's.

use anyhow::Result;
use clap::Args;

use super::shared::{BundleLocation, OutputFormat};
use crate::home::PorterHome;
use crate::lint;
use crate::manifest::{self, Diagnostic, Severity};
use crate::mixin::MixinHost;

#[derive(Debug, Args)]
pub struct LintCommand {
    #[command(flatten)]
    pub bundle: BundleLocation,
    /// Output format
    #[arg(short, long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Don't require TLS for the registries dependencies are pulled from
    /// (loopback registries never need it)
    #[arg(long)]
    pub insecure_registry: bool,
}

pub fn run(command: LintCommand) -> Result<()> {
    let path = command.bundle.manifest_path();
    let home = PorterHome::from_env()?;
    let config = super::shared::porter_config(&home)?;
    let options = super::shared::load_options(&config);
    let findings = match manifest::load_file_with_options(&path, &options) {
        Ok(loaded) => {
            let host = MixinHost::new(&home)?;
            let resolution = host.store().resolve_declared(&loaded);
            let registry = crate::oci::RegistryOptions::from_env(command.insecure_registry);
            let lint_options = lint::LintOptions::for_flags(&options.experimental, &registry);
            let mut findings = lint::lint(&loaded, &host, &resolution.mixins, &lint_options)?;
            findings.extend(resolution.problems);
            findings.sort_by_key(|d| (d.at.line == 0, d.at));
            findings
        }
        Err(error) => match error.downcast::<manifest::ManifestErrors>() {
            Ok(errors) => errors.diagnostics,
            Err(other) => return Err(other),
        },
    };
    print_findings(command.output, &findings)?;
    let errors = findings.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        anyhow::bail!(
            "{} has {errors} error{}",
            path.display(),
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

pub fn print_findings(format: OutputFormat, findings: &[Diagnostic]) -> Result<()> {
    match format {
        OutputFormat::Plaintext => {
            for finding in findings {
                eprintln!("{finding}\n");
            }
            if findings.is_empty() {
                println!("No problems found");
            }
            Ok(())
        }
        other => super::shared::print_structured(
            other,
            &findings.iter().map(Finding::from).collect::<Vec<_>>(),
        ),
    }
}

/// One row of `porter lint -o json|yaml`.
#[derive(serde::Serialize)]
struct Finding<'a> {
    level: &'static str,
    code: Option<&'a str>,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    hint: Option<&'a str>,
}

impl<'a> From<&'a Diagnostic> for Finding<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        Finding {
            level: match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            code: d.code.as_deref(),
            message: &d.message,
            file: d.file.display().to_string(),
            line: d.at.line,
            column: d.at.column,
            hint: d.hint.as_deref(),
        }
    }
}
