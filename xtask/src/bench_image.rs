//! `cargo xtask bench-image`: `porter build` with a real Docker engine.
//!
//! - a clean build (no cache) against a rebuild after editing one bundle
//!   file, of a bundle using exec and a mixin that apt-installs a package;
//! - the image's size over its base image, layer by layer, against the bytes
//!   it must carry, to show no layer carries the same files twice;
//! - streaming a 1 GiB build context: porter's wall time and peak memory,
//!   next to a context of a few bytes and to `docker build` (classic
//!   builder) sending the same directory.
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
        install(
            &porter,
            &home,
            "apt",
            &root.join("target/test-mixins/apt.wasm"),
        )?;
        let runtimes = home.join("runtimes");
        std::fs::create_dir_all(&runtimes)?;
        std::fs::copy(&porter, runtimes.join("porter-runtime"))?;
        let bench = Bench {
            porter: porter.clone(),
            home: home.clone(),
        };
        bench.clean_and_rebuild(&work.join("sized"))?;
        bench.context_streaming(&work.join("context"))
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

struct Bench {
    porter: PathBuf,
    home: PathBuf,
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

    fn clean_and_rebuild(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let name = format!("porter-bench-sized-{}", std::process::id());
        std::fs::write(
            dir.join("porter.yaml"),
            format!(
                "schemaVersion: 1.0.1\nname: {name}\nversion: 0.1.0\nregistry: localhost:5000\n\
                 mixins:\n  - exec\n  - apt: {{packages: [tree]}}\n\
                 install:\n  - exec:\n      description: hi\n      command: ./helpers.sh\n\
                 uninstall:\n  - exec:\n      description: bye\n      command: ./helpers.sh\n"
            ),
        )?;
        write_helpers(dir, 0)?;
        write_random(&dir.join("data.bin"), 1024 * 1024)?;

        println!("\n## porter build through the engine: clean build and rebuild\n");
        println!("| build | samples | median | min |");
        println!("|---|---|---|---|");
        let mut clean = Vec::new();
        for _ in 0..3 {
            clean.push(timed(self.porter_build(dir, &["--force"]))?.0);
        }
        let mut rebuild = Vec::new();
        for i in 1..=5 {
            write_helpers(dir, i)?;
            rebuild.push(timed(self.porter_build(dir, &[]))?.0);
        }
        let mut unchanged = Vec::new();
        for _ in 0..5 {
            unchanged.push(timed(self.porter_build(dir, &[]))?.0);
        }
        row("clean (--force: no cache)", &clean);
        row("rebuild after editing one bundle file", &rebuild);
        row("nothing changed (up to date)", &unchanged);
        println!(
            "\nrebuild / clean, median: **{:.1}%**",
            100.0 * median(&rebuild).as_secs_f64() / median(&clean).as_secs_f64()
        );

        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(".cnab/bundle.json"))?)?;
        let image = bundle["invocationImages"][0]["image"]
            .as_str()
            .context("bundle.json has no invocation image")?;
        self.size_report(dir, image)?;
        let _ = docker(&["image", "rm", "--force", image]);
        Ok(())
    }

    fn size_report(&self, dir: &Path, image: &str) -> Result<()> {
        let size: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", image])?.parse()?;
        let base: u64 =
            docker(&["image", "inspect", "--format", "{{.Size}}", BASE_IMAGE])?.parse()?;
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
        let carried_cnab = dir_bytes(&dir.join(".cnab"), &|_| false)?;
        let carried_bundle = dir_bytes(dir, &|name| name.starts_with(".cnab"))?;
        println!("\n## Invocation image size\n");
        println!(
            "image {} bytes, base {BASE_IMAGE} {} bytes: overhead **{} bytes ({:.1} MiB)**\n",
            size,
            base,
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
        println!(
            "\nwhat /cnab must carry: .cnab/ (runtime, mixins, bundle.json, Dockerfile) {carried_cnab} bytes + \
             the bundle's files {carried_bundle} bytes = {} bytes",
            carried_cnab + carried_bundle
        );
        let cnab_layers: Vec<u64> = own
            .iter()
            .filter(|(_, by)| by.contains("COPY ") && by.contains(" in /cnab"))
            .map(|(b, _)| *b)
            .filter(|b| *b > 0)
            .collect();
        println!(
            "layers of the final image holding /cnab: {} ({:?} bytes)",
            cnab_layers.len(),
            cnab_layers
        );
        Ok(())
    }

    fn context_streaming(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let name = format!("porter-bench-context-{}", std::process::id());
        // The template is used verbatim: the engine receives the whole
        // context but copies none of it, so the time is the streaming.
        std::fs::write(
            dir.join("porter.yaml"),
            format!(
                "schemaVersion: 1.0.1\nname: {name}\nversion: 0.1.0\nregistry: localhost:5000\n\
                 dockerfile: template.Dockerfile\nmixins:\n  - exec\n\
                 install:\n  - exec:\n      description: hi\n      command: ./helpers.sh\n\
                 uninstall:\n  - exec:\n      description: bye\n      command: ./helpers.sh\n"
            ),
        )?;
        std::fs::write(
            dir.join("template.Dockerfile"),
            format!("FROM {BASE_IMAGE}\nCMD [\"/cnab/app/run\"]\n"),
        )?;
        write_helpers(dir, 0)?;

        println!("\n## Build context streaming (1 GiB)\n");
        println!("| context | samples | median wall | porter peak RSS (max) |");
        println!("|---|---|---|---|");
        let small = self.context_samples(dir, &["--force"])?;
        write_random(&dir.join("big.bin"), GIB)?;
        let big = self.context_samples(dir, &["--force"])?;
        // The stamp hashes every bundle file: the part that is not streaming.
        let hashing = self.context_samples(dir, &["--force", "--no-image"])?;
        let docker_cli = (0..3)
            .map(|_| {
                let mut cmd = Command::new("docker");
                cmd.env("DOCKER_BUILDKIT", "0")
                    .current_dir(dir)
                    .args([
                        "build",
                        "-q",
                        "-f",
                        ".cnab/Dockerfile",
                        "-t",
                        &format!("{name}:cli"),
                        ".",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped());
                timed(cmd).map(|(t, _)| t)
            })
            .collect::<Result<Vec<_>>>()?;
        let print = |label: &str, samples: &[(Duration, u64)]| {
            let times: Vec<Duration> = samples.iter().map(|s| s.0).collect();
            let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
            println!(
                "| {label} | {} | {:.2} s | {:.1} MiB |",
                samples.len(),
                median(&times).as_secs_f64(),
                peak as f64 / 1024.0
            );
        };
        print("a few KiB", &small);
        print("1 GiB file", &big);
        print(
            "1 GiB file, --no-image (the stamp's hashing, no engine)",
            &hashing,
        );
        println!(
            "| 1 GiB, `DOCKER_BUILDKIT=0 docker build` (reference) | {} | {:.2} s | - |",
            docker_cli.len(),
            median(&docker_cli).as_secs_f64()
        );
        let extra = median(&big.iter().map(|s| s.0).collect::<Vec<_>>())
            .saturating_sub(median(&small.iter().map(|s| s.0).collect::<Vec<_>>()));
        println!(
            "\nthroughput, 1 GiB over the difference of medians: **{:.0} MiB/s**",
            1024.0 / extra.as_secs_f64()
        );
        let image = format!("localhost:5000/{name}");
        for tag in docker(&[
            "image",
            "ls",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            &image,
        ])
        .unwrap_or_default()
        .lines()
        .chain(std::iter::once(format!("{name}:cli").as_str()))
        {
            let _ = docker(&["image", "rm", "--force", tag]);
        }
        Ok(())
    }

    /// `porter build ARGS` three times: wall time and peak RSS (KiB).
    fn context_samples(&self, dir: &Path, args: &[&str]) -> Result<Vec<(Duration, u64)>> {
        (0..3)
            .map(|_| {
                let mut cmd = self.porter_build(dir, args);
                cmd.env("PORTER_EXPERIMENTAL", "full-control-dockerfile");
                timed(cmd)
            })
            .collect()
    }
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

fn row(label: &str, samples: &[Duration]) {
    println!(
        "| {label} | {} | {:.2} s | {:.2} s |",
        samples.len(),
        median(samples).as_secs_f64(),
        samples.iter().min().unwrap().as_secs_f64()
    );
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

/// Bytes of the files under `dir`, but top-level entries `skip` names.
fn dir_bytes(dir: &Path, skip: &dyn Fn(&str) -> bool) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if skip(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path(), &|_| false)?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
