//! What calling a hook of an installed mixin costs a fresh process, from the
//! precompiled cache versus compiling the .wasm; plus a warm call for scale.
//!
//! Run with `cargo xtask bench` (builds the mixins first). Each sample
//! builds a new `MixinHost` (engine, linker, epoch ticker), so it counts
//! everything a `porter` process pays before its first answer from a mixin.

use std::path::Path;
use std::time::{Duration, Instant};

use porter::home::PorterHome;
use porter::mixin::{BuildRequest, InstallRequest, MixinHost, MixinLabel};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let wasm_path = root.join("target/mixins/exec.wasm");
    assert!(
        wasm_path.is_file(),
        "{} is missing: run `cargo xtask mixins`",
        wasm_path.display()
    );
    let wasm = std::fs::read(&wasm_path).unwrap();
    let home_dir = tempfile::tempdir().unwrap();
    let home = PorterHome::at(home_dir.path());
    let installed = MixinHost::new(&home)
        .unwrap()
        .install_file(
            &InstallRequest {
                name: "exec",
                version: None,
                force: false,
                expected_digest: None,
            },
            &wasm_path,
        )
        .unwrap()
        .mixin;
    let request = BuildRequest {
        config: serde_json::Value::Null,
        actions: vec![],
        platform: "linux/amd64".into(),
    };

    let precompiled = sample(200, || {
        let host = MixinHost::new(&home).unwrap();
        let record = host.store().versions("exec").unwrap().remove(0);
        host.load(&record).unwrap().build(&request).unwrap();
    });
    let compiled = sample(15, || {
        let host = MixinHost::new(&home).unwrap();
        let label = MixinLabel {
            name: "exec".into(),
            version: installed.version.to_string(),
        };
        host.prepare_uninstalled(&wasm, label)
            .unwrap()
            .build(&request)
            .unwrap();
    });
    let host = MixinHost::new(&home).unwrap();
    let loaded = host.load(&installed).unwrap();
    let warm = sample(2000, || {
        loaded.build(&request).unwrap();
    });

    println!(
        "exec.wasm: {} KiB; {} cores",
        wasm.len() / 1024,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| first `build` call of an installed mixin, fresh host | samples | median | p90 | min |"
    );
    println!("|---|---|---|---|---|");
    row("precompiled (cache hit)", &precompiled);
    row("compiled from the .wasm", &compiled);
    row("warm call (host and mixin loaded)", &warm);
    println!();
    println!(
        "compile / precompiled, median: {:.0}x",
        median(&compiled).as_secs_f64() / median(&precompiled).as_secs_f64()
    );
}

fn sample(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    f(); // warm the page cache and the allocator
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn median(times: &[Duration]) -> Duration {
    times[times.len() / 2]
}

fn row(name: &str, times: &[Duration]) {
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
    println!(
        "| {name} | {} | {} | {} | {} |",
        times.len(),
        ms(median(times)),
        ms(p90),
        ms(times[0])
    );
}
