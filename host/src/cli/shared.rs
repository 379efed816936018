//! What several commands share: where the bundle is (`--file`, `--dir`),
//! and `-o plaintext|json|yaml` for commands that list things.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::config::{self, Config};
use crate::home::PorterHome;
use crate::manifest::LoadOptions;

/// Porter's configuration (the experimental flags), its warnings shown on
/// stderr before the command's own output.
pub fn porter_config(home: &PorterHome) -> Result<Config> {
    let config = config::load(home)?;
    for warning in &config.warnings {
        eprintln!("{warning}\n");
    }
    Ok(config)
}

/// How commands that read porter.yaml load it: with the flags `config` has on.
pub fn load_options(config: &Config) -> LoadOptions {
    LoadOptions::with_flags(config.experimental.clone())
}

/// Where the bundle is: Porter's `--file` and `--dir`.
#[derive(Debug, Clone, clap::Args)]
pub struct BundleLocation {
    /// Path to the porter manifest, relative to --dir (default: porter.yaml in --dir)
    #[arg(short, long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The bundle's directory (default: the current directory)
    #[arg(short, long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl BundleLocation {
    /// As Porter resolves it: `--file` relative to `--dir` when both are
    /// given, else relative to the current directory.
    pub fn manifest_path(&self) -> PathBuf {
        match (&self.file, &self.dir) {
            (Some(file), Some(dir)) if file.is_relative() => dir.join(file),
            (Some(file), _) => file.clone(),
            (None, Some(dir)) => dir.join("porter.yaml"),
            (None, None) => PathBuf::from("porter.yaml"),
        }
    }

    /// The bundle's directory: `--dir`, else the current directory.
    pub fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| ".".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Plaintext,
    Json,
    Yaml,
}

/// Prints `value` as JSON or YAML; plaintext is each command's own table.
pub fn print_structured<T: Serialize>(format: OutputFormat, value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(value)?)?,
        OutputFormat::Yaml => write!(out, "{}", serde_saphyr::to_string(value)?)?,
        OutputFormat::Plaintext => unreachable!("plaintext is printed by each command"),
    }
    Ok(())
}

/// Prints rows as left-aligned columns under a header.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let mut line = |cells: Vec<&str>| -> std::io::Result<()> {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                writeln!(out, "{cell}")?;
            } else {
                write!(out, "{cell:<width$}   ", width = widths[i])?;
            }
        }
        Ok(())
    };
    line(header.to_vec())?;
    for row in rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}
