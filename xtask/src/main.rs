//! `cargo xtask <task>`: the project's build steps that cargo alone does not
//! do. Run `cargo xtask help` for the list.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

mod bench_build;
mod bench_image;
mod bench_runtime;

const WASM_TARGET: &str = "wasm32-wasip2";
/// Cargo profile for shipped components (size-optimised; see Cargo.toml).
const MIXIN_PROFILE: &str = "mixin";
/// The runtime the invocation image (linux/amd64, as Porter's) carries is
/// porter built for musl: one static binary that runs on any Linux base
/// image, glibc or not.
const RUNTIME_TARGET: &str = "x86_64-unknown-linux-musl";
/// Where `cargo xtask test` tells the tests the static runtime is.
const STATIC_RUNTIME_VAR: &str = "PORTER_TEST_STATIC_RUNTIME";
/// Set, the tests that need the static runtime are skipped and it is not built.
const WITHOUT_STATIC_RUNTIME_VAR: &str = "PORTER_TEST_WITHOUT_STATIC_RUNTIME";

const HELP: &str = "\
cargo xtask <task>

  mixins        build every crate under mixins/ to target/mixins/<name>.wasm
  test-mixins   build the test guests under tests/guests/ to target/test-mixins/
  install       install `porter` (cargo install), its static runtime (porter built for musl,
                release) and every mixin into PORTER_HOME
  runtime       build the static runtime (debug) to target/x86_64-unknown-linux-musl/debug/porter
  test          build all wasm components and the static runtime (debug), then run the test
                suite (nextest) with PORTER_TEST_STATIC_RUNTIME set to it
  bench         build the components, then run the benchmarks (numbers for BENCHMARKS.md):
                a hook call (cargo bench), and porter build --no-image with 1/4/16 mixins
  bench-build   only the porter build --no-image benchmark, on the release binary as built
  bench-image   porter build with the Docker engine: the edit loop (build after editing one
                file) against one COPY of the same context, for a few KiB and for 1 GiB,
                interleaved; porter's peak memory; image size by layer and its waste
  bench-runtime the runtime's overhead: docker run of an install with one exec step
                running `true`, against the same image running `true` directly
";

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = workspace_root();
    match task.as_str() {
        "mixins" => build_components(&root, "mixins", "mixins").map(drop),
        "test-mixins" => build_components(&root, "tests/guests", "test-mixins").map(drop),
        "install" => install(&root),
        "runtime" => build_static_runtime(&root, Profile::Debug).map(drop),
        "test" => {
            build_components(&root, "mixins", "mixins")?;
            build_components(&root, "tests/guests", "test-mixins")?;
            // Every crate natively, but the test guests: they are cdylibs
            // for wasm only (their native export names do not link).
            let mut nextest = Command::new(cargo());
            nextest
                .current_dir(&root)
                .args(["nextest", "run", "--workspace", "--no-fail-fast"]);
            // The image tests run the runtime porter ships on a base without
            // glibc: they are given the static build (debug: quicker to build,
            // and the tests need no speed from it).
            if std::env::var_os(WITHOUT_STATIC_RUNTIME_VAR).is_some() {
                eprintln!(
                    "{WITHOUT_STATIC_RUNTIME_VAR} is set: not building the static runtime; \
                     the tests that need it are skipped"
                );
            } else {
                let runtime = build_static_runtime(&root, Profile::Debug)?;
                nextest.env(STATIC_RUNTIME_VAR, runtime);
            }
            // nextest does not run doctests (the SDK's examples must
            // compile): the same packages, so cargo resolves the same
            // features and rebuilds no dependency for them.
            let mut doctests = Command::new(cargo());
            doctests
                .current_dir(&root)
                .args(["test", "--doc", "--workspace"]);
            for guest in crate_names(&root.join("tests/guests"))? {
                nextest.args(["--exclude", &guest]);
                doctests.args(["--exclude", &guest]);
            }
            run(&mut nextest)?;
            run(&mut doctests)
        }
        "bench" => {
            build_for_benches(&root)?;
            run(Command::new(cargo()).current_dir(&root).args([
                "bench",
                "-p",
                "porter",
                "--bench",
                "hook_call",
            ]))?;
            bench_build::run(&root)
        }
        "bench-build" => bench_build::run(&root),
        "bench-image" => {
            build_for_benches(&root)?;
            bench_image::run(&root)
        }
        "bench-runtime" => {
            build_for_benches(&root)?;
            build_static_runtime(&root, Profile::Release)?;
            bench_runtime::run(&root)
        }
        "" | "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task '{other}'\n\n{HELP}"),
    }
}

/// What the benchmarks run: the components and the release binary.
fn build_for_benches(root: &Path) -> Result<()> {
    build_components(root, "mixins", "mixins")?;
    build_components(root, "tests/guests", "test-mixins")?;
    run(Command::new(cargo())
        .current_dir(root)
        .args(["build", "--release", "-p", "porter"]))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds every crate under `crates_dir` as a wasm32-wasip2 component and
/// copies each to `target/<out_dir>/<crate>.wasm`.
fn build_components(root: &Path, crates_dir: &str, out_dir: &str) -> Result<Vec<PathBuf>> {
    ensure_target(WASM_TARGET)?;
    let crates = crate_names(&root.join(crates_dir))?;
    if crates.is_empty() {
        bail!("no crates under {crates_dir}/");
    }
    let mut build = Command::new(cargo());
    build
        .current_dir(root)
        .args(["build", "--target", WASM_TARGET, "--profile", MIXIN_PROFILE]);
    for name in &crates {
        build.args(["-p", name]);
    }
    // RUSTFLAGS meant for the host (coverage, sanitizers) would change or
    // break the components; they are built with the target's defaults.
    build
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    run(&mut build)?;

    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let built = target_dir.join(WASM_TARGET).join(MIXIN_PROFILE);
    let out = root.join("target").join(out_dir);
    std::fs::create_dir_all(&out)?;
    let mut written = Vec::new();
    for name in &crates {
        // A cdylib's file name uses `_`; a binary's keeps the crate name.
        let candidates = [
            built.join(format!("{}.wasm", name.replace('-', "_"))),
            built.join(format!("{name}.wasm")),
        ];
        let Some(wasm) = candidates.iter().find(|p| p.is_file()) else {
            bail!(
                "cargo built {name} but no {name}.wasm is in {}",
                built.display()
            );
        };
        check_component(wasm)?;
        let dest = out.join(format!("{name}.wasm"));
        std::fs::copy(wasm, &dest)
            .with_context(|| format!("cannot copy {} to {}", wasm.display(), dest.display()))?;
        eprintln!(
            "  {} ({} KiB)",
            dest.strip_prefix(root).unwrap_or(&dest).display(),
            std::fs::metadata(&dest)?.len() / 1024
        );
        written.push(dest);
    }
    Ok(written)
}

/// Crates are the directories that hold a Cargo.toml; the directory name is
/// the package name (a convention every crate here follows).
fn crate_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.join("Cargo.toml").is_file() {
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// A component starts with the wasm magic and layer 1; a core module (what
/// a misconfigured build produces) has layer 0.
fn check_component(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path)?;
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" || bytes[6..8] != [1, 0] {
        bail!(
            "{} is not a WebAssembly component (check RUSTFLAGS and the crate-type)",
            path.display()
        );
    }
    Ok(())
}

/// Adds `target` with rustup when it is missing.
fn ensure_target(target: &str) -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == target) =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("adding the {target} target (rustup target add {target})");
            run(Command::new("rustup").args(["target", "add", target]))
        }
        // Without rustup the toolchain must already have the target.
        Err(_) => Ok(()),
    }
}

fn install(root: &Path) -> Result<()> {
    let mixins = build_components(root, "mixins", "mixins")?;
    run(Command::new(cargo())
        .current_dir(root)
        .args(["install", "--locked", "--path", "host", "--target-dir"])
        .arg(root.join("target")))?;
    let porter = which_porter();
    // Porter's layout: the runtime the invocation image carries is porter
    // itself, in PORTER_HOME/runtimes; ours is the static (musl) build, so
    // it runs on any Linux base image a custom template starts FROM.
    let runtime = build_static_runtime(root, Profile::Release)?;
    let home = std::env::var_os("PORTER_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".porter")))
        .context("cannot find PORTER_HOME or a home directory")?;
    let runtimes = home.join("runtimes");
    std::fs::create_dir_all(&runtimes)?;
    // A new file renamed into place: builds hard-link the runtime into
    // their .cnab/, so it must never be rewritten in place.
    let staged = runtimes.join(".porter-runtime.new");
    std::fs::copy(&runtime, &staged)
        .and_then(|_| std::fs::rename(&staged, runtimes.join("porter-runtime")))
        .with_context(|| {
            format!(
                "cannot copy {} into {}",
                runtime.display(),
                runtimes.display()
            )
        })?;
    // The mixins just built replace any earlier build of the same version.
    for wasm in mixins {
        let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
        run(Command::new(&porter)
            .args(["mixins", "install", &name, "--force", "--file"])
            .arg(&wasm))?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Profile {
    Debug,
    Release,
}

/// Builds porter for [`RUNTIME_TARGET`] (static: musl links it in) and
/// returns the binary's path. Crates with C in them (ring) need a musl C
/// compiler: Debian's musl-tools (`.ci/setup` installs it).
fn build_static_runtime(root: &Path, profile: Profile) -> Result<PathBuf> {
    ensure_target(RUNTIME_TARGET)?;
    if Command::new("musl-gcc").arg("--version").output().is_err() {
        bail!(
            "musl-gcc is missing: the static runtime ({RUNTIME_TARGET}) compiles C (ring) with it; \
             install Debian's musl-tools (`bash .ci/setup` does)"
        );
    }
    let mut build = Command::new(cargo());
    build.current_dir(root).args([
        "build",
        "--locked",
        "-p",
        "porter",
        "--bin",
        "porter",
        "--target",
        RUNTIME_TARGET,
    ]);
    match profile {
        Profile::Release => {
            build.arg("--release");
        }
        // The tests' runtime: dependencies unoptimized, unlike the dev
        // profile's (built in a third of the time; the image carries the
        // mixins compiled, so the runtime's own speed barely shows).
        Profile::Debug => {
            build.args(["--config", r#"profile.dev.package."*".opt-level=0"#]);
        }
    }
    // What ships in images is built with the target's defaults, as the
    // components are (host RUSTFLAGS such as coverage would change it).
    build
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    run(&mut build)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = match profile {
        Profile::Debug => "debug",
        Profile::Release => "release",
    };
    let binary = target_dir.join(RUNTIME_TARGET).join(dir).join("porter");
    if !binary.is_file() {
        bail!(
            "cargo built porter for {RUNTIME_TARGET} but {} is missing",
            binary.display()
        );
    }
    eprintln!(
        "  {} ({} MiB)",
        binary.strip_prefix(root).unwrap_or(&binary).display(),
        std::fs::metadata(&binary)?.len() / (1024 * 1024)
    );
    Ok(binary)
}

/// The `porter` that `cargo install` just wrote.
fn which_porter() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".cargo")))
        .unwrap_or_default();
    cargo_home.join("bin").join("porter")
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}
