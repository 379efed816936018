//! `cargo xtask bench-runtime`: what porter's runtime costs an action.
//!
//! One image, built by `porter build` from a bundle whose install is one
//! exec step running `true`; `docker run` of it the way a CNAB runtime runs
//! it (`/cnab/app/run` -> porter's runtime -> the exec mixin, loaded from
//! its compiled form -> `true`), interleaved with `docker run` of the same
//! image running `true` directly, and with the runtime's start alone
//! (`porter-runtime --version`). The difference of the medians is the
//! runtime's overhead.
//!
//! Needs the engine and base image `.ci/docker-setup` provides; the task
//! builds the release binary, the static runtime the image carries
//! (target/x86_64-unknown-linux-musl/release/porter) and the components.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const SAMPLES: usize = 21;
/// Installs per container in the in-container measurement.
const LOOPS: usize = 50;

pub fn run(root: &Path) -> Result<()> {
    let porter = root.join("target/release/porter");
    let static_runtime = root.join("target/x86_64-unknown-linux-musl/release/porter");
    let runtime = if static_runtime.is_file() {
        static_runtime
    } else {
        porter.clone()
    };
    let work = std::env::temp_dir().join(format!("porter-bench-runtime-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let mut image = String::new();
    let result = (|| {
        let home = work.join("home");
        let status = Command::new(&porter)
            .env("PORTER_HOME", &home)
            .args(["mixins", "install", "exec", "--file"])
            .arg(root.join("target/mixins/exec.wasm"))
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("cannot install exec");
        }
        std::fs::create_dir_all(home.join("runtimes"))?;
        std::fs::copy(&runtime, home.join("runtimes/porter-runtime"))?;
        let bundle = work.join("bundle");
        std::fs::create_dir_all(&bundle)?;
        std::fs::write(
            bundle.join("porter.yaml"),
            format!(
                "schemaVersion: 1.0.1\nname: porter-bench-runtime-{}\nversion: 0.1.0\n\
                 registry: localhost:5000\nmixins:\n  - exec\n\
                 install:\n  - exec:\n      description: Nothing\n      command: \"true\"\n\
                 uninstall:\n  - exec:\n      description: Nothing\n      command: \"true\"\n",
                std::process::id()
            ),
        )?;
        let out = Command::new(&porter)
            .env("PORTER_HOME", &home)
            .args(["build", "--dir"])
            .arg(&bundle)
            .output()?;
        if !out.status.success() {
            bail!("porter build: {}", String::from_utf8_lossy(&out.stderr));
        }
        let bundle_json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(bundle.join(".cnab/bundle.json"))?)?;
        image = bundle_json["invocationImages"][0]["image"]
            .as_str()
            .context("bundle.json names no image")?
            .to_string();
        let through_runtime = [
            "run",
            "--rm",
            "-e",
            "CNAB_ACTION=install",
            "-e",
            "CNAB_INSTALLATION_NAME=bench",
            image.as_str(),
        ];
        let directly = ["run", "--rm", image.as_str(), "true"];
        let runtime_alone = [
            "run",
            "--rm",
            image.as_str(),
            "/cnab/app/runtimes/porter-runtime",
            "--version",
        ];
        // Warm the engine and the page cache first.
        for args in [&through_runtime[..], &directly, &runtime_alone] {
            docker_run(args)?;
        }
        let mut samples = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..SAMPLES {
            samples[0].push(docker_run(&through_runtime)?);
            samples[1].push(docker_run(&directly)?);
            samples[2].push(docker_run(&runtime_alone)?);
        }
        println!(
            "runtime: {} ({} bytes)",
            runtime.display(),
            std::fs::metadata(&runtime)?.len()
        );
        println!("| docker run of the image ... | samples | median | min |");
        println!("|---|---|---|---|");
        row("`true` directly", &samples[1]);
        row("`porter-runtime --version`", &samples[2]);
        row("install: run -> runtime -> exec -> `true`", &samples[0]);
        let overhead = median(&samples[0]).saturating_sub(median(&samples[1]));
        println!(
            "\nruntime overhead (install median - direct median): {:.1} ms",
            overhead.as_secs_f64() * 1e3
        );

        // `docker run` itself varies by tens of ms: inside one container,
        // the install LOOPS times against `true` LOOPS times.
        let loop_of = |command: &str| {
            format!(
                "i=0; while [ $i -lt {LOOPS} ]; do {command} >/dev/null 2>&1 || exit 1; i=$((i+1)); done"
            )
        };
        let runs = loop_of("/cnab/app/run");
        let trues = loop_of("true");
        let in_loop = |script: String| -> Vec<String> {
            [
                "run",
                "--rm",
                "-e",
                "CNAB_ACTION=install",
                "-e",
                "CNAB_INSTALLATION_NAME=bench",
                image.as_str(),
                "sh",
                "-c",
            ]
            .into_iter()
            .map(str::to_string)
            .chain(std::iter::once(script))
            .collect()
        };
        let runs_args = in_loop(runs);
        let trues_args = in_loop(trues);
        let runs_args: Vec<&str> = runs_args.iter().map(String::as_str).collect();
        let trues_args: Vec<&str> = trues_args.iter().map(String::as_str).collect();
        let mut looped = [Vec::new(), Vec::new()];
        for _ in 0..5 {
            looped[0].push(docker_run(&runs_args)?);
            looped[1].push(docker_run(&trues_args)?);
        }
        let per_run = median(&looped[0]).saturating_sub(median(&looped[1])) / LOOPS as u32;
        println!(
            "inside one container, {LOOPS} installs vs {LOOPS} `true`, 5 samples each: \
             {:.0} ms vs {:.0} ms (medians): **{:.2} ms per install**",
            median(&looped[0]).as_secs_f64() * 1e3,
            median(&looped[1]).as_secs_f64() * 1e3,
            per_run.as_secs_f64() * 1e3
        );
        Ok(())
    })();
    if !image.is_empty() {
        let _ = Command::new("docker")
            .args(["image", "rm", "--force", &image])
            .output();
    }
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn docker_run(args: &[&str]) -> Result<Duration> {
    let start = Instant::now();
    let out = Command::new("docker")
        .args(args)
        .output()
        .context("cannot run docker")?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        bail!(
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}

fn row(label: &str, samples: &[Duration]) {
    println!(
        "| {label} | {} | {:.1} ms | {:.1} ms |",
        samples.len(),
        median(samples).as_secs_f64() * 1e3,
        samples.iter().min().unwrap().as_secs_f64() * 1e3
    );
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}
