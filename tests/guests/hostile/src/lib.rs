//! A mixin that misbehaves on request, to prove the host contains it.
//!
//! The build hook reads `{"attack": "<name>", ...}` from its config and does
//! that attack; with no attack it behaves (one Dockerfile line).

use mixin_sdk::command::{Command, OutputValue, StepOutputs};
use mixin_sdk::serde_json::Value;
use mixin_sdk::{BuildInput, BuildOutput, Mixin, MixinError, MixinInfo, RunInput};

struct Hostile;

impl Mixin for Hostile {
    type Config = Value;
    type Step = Value;

    fn info() -> MixinInfo {
        MixinInfo::new("hostile", env!("CARGO_PKG_VERSION"))
            .description("Misbehaves on request (host sandbox tests)")
            .author("porter-rs tests")
    }

    fn build(input: BuildInput<Value, Value>) -> Result<BuildOutput, MixinError> {
        let attack = input
            .config
            .get("attack")
            .and_then(Value::as_str)
            .unwrap_or("none");
        let mut out = BuildOutput::new();
        match attack {
            "none" => {
                out.line("# hostile mixin behaved");
            }
            "loop" => spin(),
            "memory" => hoard(),
            "panic" => panic!("hostile mixin panicked on purpose"),
            "stack" => {
                #[allow(unconditional_recursion)]
                fn recurse(n: u64) -> u64 {
                    std::hint::black_box(recurse(std::hint::black_box(n + 1))) + 1
                }
                out.line(recurse(0).to_string());
            }
            "exit" => std::process::exit(3),
            "huge-output" => {
                eprintln!("hostile mixin returns too much on purpose");
                let line = "#".repeat(99);
                for _ in 0..200_000 {
                    out.line(line.clone());
                }
            }
            "log-flood" => {
                let message = "x".repeat(10_000);
                for _ in 0..100_000 {
                    mixin_sdk::log::info(&message);
                }
                out.line("# flooded the log");
            }
            "stderr-flood" => {
                let chunk = "y".repeat(64 * 1024);
                for _ in 0..1_000 {
                    eprintln!("{chunk}");
                }
                out.line("# flooded stderr");
            }
            "read-file" => {
                let path = input
                    .config
                    .get("path")
                    .and_then(Value::as_str)
                    .unwrap_or("/etc/passwd");
                match std::fs::read_to_string(path) {
                    Ok(text) => {
                        out.line(format!("# read {path}: {text}"));
                    }
                    Err(e) => return Err(MixinError::failed(format!("cannot read {path}: {e}"))),
                }
            }
            "list-root" => match std::fs::read_dir("/") {
                Ok(entries) => {
                    for entry in entries.flatten() {
                        out.line(format!("# saw {}", entry.path().display()));
                    }
                }
                Err(e) => return Err(MixinError::failed(format!("cannot list /: {e}"))),
            },
            "socket" => {
                let Some(addr) = input.config.get("addr").and_then(Value::as_str) else {
                    return Err(MixinError::invalid_config(
                        "/addr",
                        "name the address to connect to",
                    ));
                };
                match std::net::TcpStream::connect(addr) {
                    Ok(_) => {
                        out.line(format!("# connected to {addr}"));
                    }
                    Err(e) => {
                        return Err(MixinError::failed(format!("cannot connect to {addr}: {e}")));
                    }
                }
            }
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
                let args: Vec<String> = std::env::args().collect();
                out.line(format!("# env: {vars:?} args: {args:?}"));
            }
            "sleep" => {
                let start = std::time::Instant::now();
                std::thread::sleep(std::time::Duration::from_secs(3600));
                out.line(format!("# slept {} s", start.elapsed().as_secs()));
            }
            "entropy" => {
                // Everything a hook could read that differs between runs on
                // a machine that is not sandboxed: the host makes it fixed.
                use std::hash::{BuildHasher, RandomState};
                let since_epoch = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let start = std::time::Instant::now();
                let elapsed = start.elapsed().as_nanos();
                let hashed = RandomState::new().hash_one("porter");
                let order: Vec<u32> = (0..16u32)
                    .collect::<std::collections::HashSet<_>>()
                    .into_iter()
                    .collect();
                out.line(format!("# wall clock (ns since 1970): {since_epoch}"));
                out.line(format!("# elapsed (ns): {elapsed}"));
                out.line(format!("# random hash: {hashed}"));
                out.line(format!("# hash set order: {order:?}"));
            }
            "command" => {
                // Running anything at build time is refused by the host.
                let run = mixin_sdk::command::Command::new("sh")
                    .args(["-c", "echo ran > /tmp/hostile-ran"])
                    .run();
                match run {
                    Ok(_) => out.line("# ran a command at build time"),
                    Err(e) => return Err(MixinError::failed(format!("cannot run sh: {e}"))),
                };
            }
            other => return Err(MixinError::unsupported(format!("unknown attack {other}"))),
        }
        Ok(out)
    }

    /// At runtime the attack is named in the step: `hostile: {attack: ...}`.
    fn run(input: RunInput<Value, Value>) -> Result<StepOutputs, MixinError> {
        let attack = input
            .step
            .get("attack")
            .and_then(Value::as_str)
            .unwrap_or("none");
        let mut outputs = StepOutputs::default();
        match attack {
            "none" => {
                let out = Command::new("sh")
                    .args(["-c", "echo hostile behaved"])
                    .run()
                    .map_err(|e| MixinError::failed(e.to_string()))?;
                outputs
                    .outputs
                    .push(("said".into(), OutputValue::Bytes(out.stdout)));
            }
            "loop" => spin(),
            "memory" => hoard(),
            "huge-output" => {
                outputs
                    .outputs
                    .push(("huge".into(), OutputValue::Bytes(vec![b'x'; 8 << 20])));
            }
            "read-file" => {
                // A file the step does not name.
                outputs
                    .outputs
                    .push(("stolen".into(), OutputValue::File("/etc/passwd".into())));
            }
            "write-outside" => {
                mixin_sdk::runtime::write_file("../../etc/hostile", b"x")
                    .map_err(|e| MixinError::failed(e.to_string()))?;
            }
            "slow-command" => {
                // Waiting for a command is not the mixin's own time.
                let out = Command::new("sleep")
                    .arg("2")
                    .run()
                    .map_err(|e| MixinError::failed(e.to_string()))?;
                outputs.outputs.push((
                    "slept".into(),
                    OutputValue::Bytes(format!("{:?}", out.exit_code).into_bytes()),
                ));
            }
            other => return Err(MixinError::unsupported(format!("unknown attack {other}"))),
        }
        Ok(outputs)
    }
}

/// Never returns: only the deadline stops it.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Allocates until the memory cap stops it.
fn hoard() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![0xAB; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

mixin_sdk::export_mixin!(Hostile);
