//! `cargo xtask bench-image`: `porter build` with a real Docker engine.
//!
//! - The edit loop against the engine's floor (issue #13): `porter build`
//!   after editing one bundle file, interleaved with the floor, which is
//!   one `COPY . /cnab/app` of the same directory onto the same base image
//!   by Docker's CLI with the classic builder, after the same kind of edit.
//!   For a bundle of a few KiB and for one with a 1 GiB payload; porter's
//!   peak memory alongside. The same context holds `.cnab/` (runtime and
//!   mixins), which the floor copies again at every edit; a stricter floor,
//!   the same `COPY` of the bundle's own files only (hard links to them in a
//!   directory without `.cnab/`), is measured in the same loop.
//! - The image: its size over the base layer by layer, and the waste: bytes
//!   the layers porter writes under `/cnab` carry beyond what `/cnab` holds
//!   in the final image (0 when no file is stored twice).
//!
//! Needs the engine and base image `.ci/docker-setup` provides, the release
//! binary and the components (the task builds them).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const BASE_IMAGE: &str = "debian:stable-slim";
const GIB: u64 = 1024 * 1024 * 1024;
/// The floor's Dockerfile, in the bundle directory (so porter's context
/// carries it too: both send the same files).
const FLOOR_DOCKERFILE: &str = "floor.Dockerfile";

pub fn run(root: &Path) -> Result<()> {
    if !Command::new("docker")
        .args(["info"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        bail!("no Docker engine answers: run `bash .ci/docker-setup` first");
    }
    let porter = root.join("target/release/porter");
    let work = std::env::temp_dir().join(format!("porter-bench-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let home = work.join("home");
    let result = (|| {
        install(
            &porter,
            &home,
            "exec",
            &root.join("target/mixins/exec.wasm"),
        )?;
        let runtimes = home.join("runtimes");
        std::fs::create_dir_all(&runtimes)?;
        std::fs::copy(&porter, runtimes.join("porter-runtime"))?;
        let bench = Bench {
            porter: porter.clone(),
            home: home.clone(),
            work: work.clone(),
        };
        println!("\n## The edit loop against the floor\n");
        println!(
            "| bundle | samples | `porter build` after an edit, median (min) | floor: one `COPY . /cnab/app` of the same context, median (min) | ratio | strict floor: the bundle's files only, median (min) | ratio | porter peak RSS |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let small = bench.edit_loop(&work.join("small"), "a few KiB", 0, 7)?;
        let big = bench.edit_loop(&work.join("big"), "1 GiB payload", GIB, 3)?;
        println!("\nratios: small **{small:.2}x**, 1 GiB **{big:.2}x** (target: <= 1.5x)");
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

struct Bench {
    porter: PathBuf,
    home: PathBuf,
    work: PathBuf,
}

impl Bench {
    fn porter_build(&self, dir: &Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(&self.porter);
        cmd.env("PORTER_HOME", &self.home)
            .args(["build", "--dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }

    /// `docker build` of the floor's Dockerfile in `dir` (classic builder).
    /// `.cnab/.spare` (porter's previous build, which porter never sends)
    /// is moved aside meanwhile, so both send the same files.
    fn floor_build(&self, dir: &Path, tag: &str) -> Result<Duration> {
        let spare = dir.join(".cnab/.spare");
        let aside = self.work.join("spare-aside");
        let moved = spare.exists();
        if moved {
            std::fs::rename(&spare, &aside)?;
        }
        let mut cmd = Command::new("docker");
        cmd.env("DOCKER_BUILDKIT", "0")
            .current_dir(dir)
            .args(["build", "-q", "-f", FLOOR_DOCKERFILE, "-t", tag, "."])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let timed = timed(cmd);
        if moved {
            std::fs::rename(&aside, &spare)?;
        }
        Ok(timed?.0)
    }

    /// Builds the bundle once, then edits one file before each `porter
    /// build` and before each floor build, alternating; prints a row and
    /// returns the ratio of the medians.
    fn edit_loop(&self, dir: &Path, label: &str, payload: u64, samples: usize) -> Result<f64> {
        std::fs::create_dir_all(dir)?;
        let name = format!("porter-bench-edit-{}-{}", payload, std::process::id());
        std::fs::write(
            dir.join("porter.yaml"),
            format!(
                "schemaVersion: 1.0.1\nname: {name}\nversion: 0.1.0\nregistry: localhost:5000\n\
                 mixins:\n  - exec\n\
                 install:\n  - exec:\n      description: hi\n      command: ./helpers.sh\n\
                 uninstall:\n  - exec:\n      description: bye\n      command: ./helpers.sh\n"
            ),
        )?;
        std::fs::write(
            dir.join(FLOOR_DOCKERFILE),
            format!("FROM {BASE_IMAGE}\nCOPY . /cnab/app\n"),
        )?;
        write_helpers(dir, 0)?;
        if payload > 0 {
            write_random(&dir.join("payload.bin"), payload)?;
        }
        // The bundle's own files, hard-linked: an edit shows in both.
        let strict = dir.with_extension("strict");
        std::fs::create_dir_all(&strict)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() && entry.file_name() != "porter.lock" {
                std::fs::hard_link(entry.path(), strict.join(entry.file_name()))?;
            }
        }
        let floor_tag = format!("{name}:floor");
        // Warm all three: the base layers, the runtime's layer, the
        // engine's cache of the floor's FROM.
        timed(self.porter_build(dir, &[]))?;
        self.floor_build(dir, &floor_tag)?;
        self.floor_build(&strict, &floor_tag)?;

        let mut porter = Vec::new();
        let mut floor = Vec::new();
        let mut strict_floor = Vec::new();
        let mut peak = 0;
        let mut revision = 1;
        for _ in 0..samples {
            write_helpers(dir, revision)?;
            revision += 1;
            let (time, rss) = timed(self.porter_build(dir, &[]))?;
            porter.push(time);
            peak = peak.max(rss);
            write_helpers(dir, revision)?;
            revision += 1;
            floor.push(self.floor_build(dir, &floor_tag)?);
            write_helpers(dir, revision)?;
            revision += 1;
            strict_floor.push(self.floor_build(&strict, &floor_tag)?);
        }
        let ratio = median(&porter).as_secs_f64() / median(&floor).as_secs_f64();
        let strict_ratio = median(&porter).as_secs_f64() / median(&strict_floor).as_secs_f64();
        let shown = |samples: &[Duration]| {
            format!(
                "{:.2} s ({:.2} s)",
                median(samples).as_secs_f64(),
                samples.iter().min().unwrap().as_secs_f64()
            )
        };
        println!(
            "| {label} | {samples} | {} | {} | {ratio:.2}x | {} | {strict_ratio:.2}x | {:.1} MiB |",
            shown(&porter),
            shown(&floor),
            shown(&strict_floor),
            peak as f64 / 1024.0
        );

        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(".cnab/bundle.json"))?)?;
        let image = bundle["invocationImages"][0]["image"]
            .as_str()
            .context("bundle.json has no invocation image")?
            .to_string();
        if payload == 0 {
            let unchanged = (0..5)
                .map(|_| timed(self.porter_build(dir, &[])).map(|t| t.0))
                .collect::<Result<Vec<_>>>()?;
            println!(
                "\nnothing changed (up to date), {} samples: median {:.3} s",
                unchanged.len(),
                median(&unchanged).as_secs_f64()
            );
            size_report(&image)?;
            println!();
        }
        let _ = docker(&["image", "rm", "--force", &image]);
        let _ = docker(&["image", "rm", "--force", &floor_tag]);
        Ok(ratio)
    }
}

/// The image's size over its base, layer by layer, and its waste.
fn size_report(image: &str) -> Result<()> {
    let size: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", image])?.parse()?;
    let base: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", BASE_IMAGE])?.parse()?;
    let base_layers = docker(&["history", "-q", BASE_IMAGE])?.lines().count();
    let history = docker(&[
        "history",
        "--no-trunc",
        "--human=false",
        "--format",
        "{{.Size}}\t{{.CreatedBy}}",
        image,
    ])?;
    let layers: Vec<(u64, String)> = history
        .lines()
        .filter_map(|l| {
            let (size, by) = l.split_once('\t')?;
            Some((size.parse().ok()?, by.to_string()))
        })
        .collect();
    let own = &layers[..layers.len().saturating_sub(base_layers)];
    println!("\n## The invocation image (small bundle)\n");
    println!(
        "image {size} bytes, base {BASE_IMAGE} {base} bytes: overhead **{} bytes ({:.1} MiB)**\n",
        size - base,
        (size - base) as f64 / (1024.0 * 1024.0)
    );
    println!("| layer above the base | bytes |");
    println!("|---|---|");
    for (bytes, by) in own.iter().rev().filter(|(b, _)| *b > 0) {
        let by = by
            .trim_start_matches("/bin/sh -c ")
            .trim_start_matches("#(nop) ");
        let by: String = by.chars().take(90).collect();
        println!("| `{}` | {bytes} |", by.replace('|', "\\|"));
    }
    // What /cnab holds in the final image, file by file, against what the
    // layers that copy into it carry.
    let held: u64 = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "find",
        image,
        "/cnab",
        "-type",
        "f",
        "-printf",
        "%s\\n",
    ])?
    .lines()
    .map(|l| l.trim().parse::<u64>().unwrap_or(0))
    .sum();
    let copied: u64 = own
        .iter()
        .filter(|(_, by)| by.contains("COPY ") && by.contains(" in /cnab"))
        .map(|(b, _)| *b)
        .sum();
    let waste = copied.saturating_sub(held) as f64 / held as f64;
    println!(
        "\n/cnab holds {held} bytes; the layers copying into /cnab carry {copied} bytes: \
         waste **{waste:.3}** (target: <= 0.05)"
    );
    Ok(())
}

/// Runs `cmd` to completion: wall time and peak resident memory (KiB, read
/// from /proc while it runs).
fn timed(mut cmd: Command) -> Result<(Duration, u64)> {
    let start = Instant::now();
    let mut child = cmd.spawn().context("cannot run the command")?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        let hwm = std::fs::read_to_string(&status_path).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        });
        peak = peak.max(hwm.unwrap_or(0));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            std::io::Read::read_to_string(&mut stderr, &mut err)?;
        }
        bail!("{cmd:?} failed: {err}");
    }
    Ok((elapsed, peak))
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn install(porter: &Path, home: &Path, name: &str, wasm: &Path) -> Result<()> {
    let status = Command::new(porter)
        .env("PORTER_HOME", home)
        .args(["mixins", "install", name, "--file"])
        .arg(wasm)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("cannot install {name} from {}", wasm.display());
    }
    Ok(())
}

fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker").args(args).output()?;
    if !out.status.success() {
        bail!("docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn write_helpers(dir: &Path, revision: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("helpers.sh");
    std::fs::write(
        &path,
        format!("#!/bin/sh\n# revision {revision}\necho hello\n"),
    )?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// `len` bytes that do not compress (xorshift), written in 1 MiB blocks.
fn write_random(path: &Path, len: u64) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1024 * 1024];
    let mut written = 0;
    while written < len {
        for chunk in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        let n = (len - written).min(block.len() as u64) as usize;
        out.write_all(&block[..n])?;
        written += n as u64;
    }
    out.flush()?;
    Ok(())
}
