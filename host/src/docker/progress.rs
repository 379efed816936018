//! Showing an image build as it happens: on a terminal, each step on its
//! own line and the running command's latest output on a spinner line
//! below (its last lines are printed if the step fails); elsewhere (CI,
//! pipes), every line as the engine sends it. All of it on stderr, as
//! Porter prints build progress.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::build_log::{BuildLog, Line};

pub struct Progress {
    spinner: Option<ProgressBar>,
}

impl Progress {
    pub fn new(tag: &str, engine: &str) -> Progress {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let progress = Progress { spinner };
        progress.println(&format!("Building the invocation image {tag} ({engine})"));
        progress
    }

    fn println(&self, text: &str) {
        match &self.spinner {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn line(&mut self, line: &Line) {
        let Some(bar) = &self.spinner else {
            match line {
                Line::Step(text) | Line::Builder(text) | Line::Output(text) => eprintln!("{text}"),
            }
            return;
        };
        match line {
            Line::Step(text) => {
                bar.println(text);
                bar.set_message("");
            }
            Line::Builder(text) if text == " ---> Using cache" => bar.println(text),
            Line::Builder(_) => {}
            Line::Output(text) => bar.set_message(text.clone()),
        }
    }

    /// Pull progress and other status messages.
    pub fn status(&mut self, status: &str) {
        match &self.spinner {
            Some(bar) => bar.set_message(status.to_string()),
            None => eprintln!("{status}"),
        }
    }

    /// The build failed: on a terminal, what the failing step printed last
    /// (elsewhere it has been printed already).
    pub fn failed(&mut self, log: &BuildLog) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
            let output: Vec<&str> = log.step_output().collect();
            if !output.is_empty() {
                eprintln!("last output of the failing step:");
                for line in output {
                    eprintln!("  {line}");
                }
            }
        }
    }

    pub fn finished(&mut self, log: &BuildLog) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
        eprintln!("Image built ({})", log.cache_summary());
    }
}
