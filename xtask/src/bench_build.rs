//! `cargo xtask bench`'s build benchmark: `porter build --no-image` of a
//! bundle declaring 1, 4 and 16 mixins (installed and precompiled), next to
//! `porter --version`, each a fresh process, as a user runs them.
//!
//! Two kinds of build: with every hook running (no remembered answers, as
//! the first build after installing a mixin), and the edit loop, where
//! porter answers the hooks whose input did not change from memory
//! (host/src/mixin/memo.rs): after editing a bundle file, and after editing
//! one mixin's step.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Runs the benchmark and prints a markdown table.
pub fn run(root: &Path) -> Result<()> {
    // The binary is where cargo put it (CARGO_TARGET_DIR if set); the
    // components are copied by `cargo xtask mixins` to the workspace's
    // target/, or found next to the binary's target dir.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let porter = target.join("release/porter");
    let component = |relative: &str| {
        let local = root.join("target").join(relative);
        if local.is_file() {
            local
        } else {
            target.join(relative)
        }
    };
    let exec = component("mixins/exec.wasm");
    let hostile = component("test-mixins/hostile.wasm");
    let work = std::env::temp_dir().join(format!("porter-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let home = work.join("home");

    // Mixins besides exec: the test guest under other names (its name is
    // patched in its data; same length, so the component stays valid).
    let mut names = vec!["exec".to_string()];
    install(&porter, &home, "exec", &exec)?;
    let hostile_bytes = std::fs::read(&hostile).with_context(|| {
        format!(
            "{} is missing: run cargo xtask test-mixins",
            hostile.display()
        )
    })?;
    for i in 1..16 {
        let name = format!("bench{i:02}");
        let file = work.join(format!("{name}.wasm"));
        std::fs::write(
            &file,
            replace_all(&hostile_bytes, b"hostile", name.as_bytes()),
        )?;
        install(&porter, &home, &name, &file)?;
        names.push(name);
    }

    let build_forced = ["build", "--no-image", "--force", "--dir"];
    let build = ["build", "--no-image", "--dir"];
    let bench = Bench {
        porter: &porter,
        home: &home,
    };

    println!(
        "| command (fresh process, release build) | samples | median | min | `--version` beside it | ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for count in [1usize, 4, 16] {
        let dir = work.join(format!("bundle-{count}"));
        // Every step new each time, as in a first build: no answer is
        // remembered, every hook runs. (Not by deleting the answers: on this
        // disk, deleting makes the next files slower to create.)
        let all_new = |n: usize| {
            let step = format!("cold-{n}");
            write_bundle(&dir, &names[..count], &format!("./run.sh {step}"), &step)
        };
        bench.row(
            &format!("build, {count} mixin(s), every hook runs"),
            &build,
            &dir,
            all_new,
        )?;
    }

    let dir = work.join("bundle-4");
    let four = &names[..4];
    write_bundle(&dir, four, "./run.sh", "step")?;
    let edit_script = |n: usize| -> Result<()> {
        std::fs::write(dir.join("run.sh"), format!("#!/bin/sh\necho {n}\n"))?;
        Ok(())
    };
    bench.row(
        "build, 4 mixins, after editing a bundle file",
        &build,
        &dir,
        edit_script,
    )?;
    let edit_step = |n: usize| write_bundle(&dir, four, &format!("./run.sh edit-{n}"), "step");
    bench.row(
        "build, 4 mixins, after editing one exec step",
        &build,
        &dir,
        edit_step,
    )?;
    bench.row(
        "build --force, 4 mixins, nothing changed",
        &build_forced,
        &dir,
        |_| Ok(()),
    )?;
    bench.row("build, 4 mixins, up to date", &build, &dir, |_| Ok(()))?;

    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn install(porter: &Path, home: &Path, name: &str, file: &Path) -> Result<()> {
    let status = Command::new(porter)
        .env("PORTER_HOME", home)
        .args(["mixins", "install", name, "--file"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("installing {name} failed");
    }
    Ok(())
}

/// A bundle declaring `mixins`: exec's steps run `exec_command`, the
/// others' are described as `description`.
fn write_bundle(
    dir: &Path,
    mixins: &[String],
    exec_command: &str,
    description: &str,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    // Parameters, a credential and an output as a real bundle has them
    // (their schemas are compiled by the checks after parsing).
    let mut text = String::from(
        "schemaVersion: 1.0.1\nname: bench\nversion: 0.1.0\nregistry: localhost:5000\n\
         parameters:\n  - name: greeting\n    type: string\n    default: Hello\n    enum: [Hello, Howdy]\n\
         \x20 - name: replicas\n    type: integer\n    default: 2\n    minimum: 1\n\
         credentials:\n  - name: token\n    env: TOKEN\n\
         outputs:\n  - name: greeted\n    type: string\n    applyTo: [install]\n\
         mixins:\n",
    );
    for name in mixins {
        text.push_str(&format!("  - {name}\n"));
    }
    for action in ["install", "uninstall"] {
        text.push_str(&format!("{action}:\n"));
        for name in mixins {
            let body = if name == "exec" {
                format!("command: {exec_command}")
            } else {
                format!("description: {description}")
            };
            text.push_str(&format!("  - {name}:\n      {body}\n"));
        }
    }
    std::fs::write(dir.join("porter.yaml"), text)?;
    if !dir.join("run.sh").exists() {
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho hi\n")?;
    }
    Ok(())
}

/// Samples per row.
const SAMPLES: usize = 20;

struct Bench<'a> {
    porter: &'a Path,
    home: &'a Path,
}

impl Bench<'_> {
    /// Times `porter args dir` SAMPLES times (after one unmeasured run),
    /// calling `before(i)` ahead of each, outside the measured time, and
    /// times `porter --version` right after each: the ratio compares
    /// samples taken under the same conditions (this disk's speed drifts
    /// with what was recently deleted), and prints the row.
    fn row(
        &self,
        name: &str,
        args: &[&str],
        dir: &Path,
        mut before: impl FnMut(usize) -> Result<()>,
    ) -> Result<()> {
        let mut builds = Vec::new();
        let mut versions = Vec::new();
        for i in 0..=SAMPLES {
            before(i)?;
            let build = self.run(args, Some(dir))?;
            let version = self.run(&["--version"], None)?;
            if i > 0 {
                builds.push(build);
                versions.push(version);
            }
        }
        builds.sort();
        versions.sort();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {name} | {SAMPLES} | {} | {} | {} | {:.2}x |",
            ms(median(&builds)),
            ms(builds[0]),
            ms(median(&versions)),
            median(&builds).as_secs_f64() / median(&versions).as_secs_f64()
        );
        Ok(())
    }

    fn run(&self, args: &[&str], dir: Option<&Path>) -> Result<Duration> {
        let mut command = Command::new(self.porter);
        command
            .env("PORTER_HOME", self.home)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(dir) = dir {
            command.arg(dir);
        }
        let start = Instant::now();
        let status = command.status()?;
        let elapsed = start.elapsed();
        if !status.success() {
            bail!("porter {} failed", args.join(" "));
        }
        Ok(elapsed)
    }
}

fn median(times: &[Duration]) -> Duration {
    times[times.len() / 2]
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = haystack.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    out
}
