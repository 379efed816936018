//! Hostile mixins are contained: each attack ends in a clear error naming
//! the mixin, and the host keeps working afterwards.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use porter::home::PorterHome;
use porter::mixin::{
    BuildRequest, HookError, HookErrorKind, InstallRequest, Limits, LintRequest, LogSink,
    MixinHost, MixinLabel, PreparedMixin, Refusal,
};
use serde_json::json;

struct Fixture {
    _home: tempfile::TempDir,
    host: MixinHost,
    hostile: std::sync::Arc<PreparedMixin>,
    exec: std::sync::Arc<PreparedMixin>,
    logs: Arc<Mutex<Vec<String>>>,
    limits: Limits,
}

fn fixture() -> Fixture {
    let home = tempfile::tempdir().unwrap();
    let limits = Limits {
        hook_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink: LogSink = {
        let logs = logs.clone();
        Arc::new(move |label, _level, message| {
            logs.lock().unwrap().push(format!("[{label}] {message}"))
        })
    };
    let host = MixinHost::with_options(&PorterHome::at(home.path()), limits.clone(), sink).unwrap();
    let install = |name: &str, file: std::path::PathBuf| {
        host.install_file(
            &InstallRequest {
                name,
                version: None,
                force: false,
                expected_digest: None,
            },
            &file,
        )
        .unwrap()
        .mixin
    };
    let hostile = install("hostile", guest_wasm("hostile"));
    let exec = install("exec", mixin_wasm("exec"));
    let hostile = host.load(&hostile).unwrap();
    let exec = host.load(&exec).unwrap();
    Fixture {
        _home: home,
        host,
        hostile,
        exec,
        logs,
        limits,
    }
}

fn attack(mixin: &PreparedMixin, config: serde_json::Value) -> Result<Vec<String>, HookError> {
    let request = BuildRequest {
        config,
        actions: vec![],
        platform: "linux/amd64".into(),
    };
    mixin.build(&request).map(|out| out.dockerfile_lines)
}

/// After any attack, both the attacker and another mixin still answer.
fn assert_host_still_works(f: &Fixture) {
    assert_eq!(
        attack(&f.hostile, json!({})).unwrap(),
        ["# hostile mixin behaved"]
    );
    assert_eq!(
        attack(&f.exec, json!(null)).unwrap(),
        ["# exec mixin has no buildtime dependencies"]
    );
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() {
    let f = fixture();
    let started = Instant::now();
    let err = attack(&f.hostile, json!({"attack": "loop"})).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err.kind, HookErrorKind::TimedOut { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("mixin hostile 0.0.1 (build) did not finish within 1.0s and was stopped"),
        "{err}"
    );
    // Stopped by the deadline, not left to run: well before a second deadline.
    assert!(
        elapsed < f.limits.hook_timeout * 2 + Duration::from_secs(1),
        "took {elapsed:?}"
    );
    assert_host_still_works(&f);
}

#[test]
fn a_memory_bomb_is_stopped_at_the_cap() {
    let f = fixture();
    let err = attack(&f.hostile, json!({"attack": "memory"})).unwrap_err();
    assert!(
        matches!(err.kind, HookErrorKind::OutOfMemory { limit } if limit == 64 << 20),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("tried to use more than 64 MiB of memory and was stopped"),
        "{err}"
    );
    assert_host_still_works(&f);
}

#[test]
fn a_panic_shows_its_message() {
    let f = fixture();
    let err = attack(&f.hostile, json!({"attack": "panic"})).unwrap_err();
    assert!(matches!(err.kind, HookErrorKind::Crashed { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("mixin hostile 0.0.1 (build) crashed: it panicked"),
        "{text}"
    );
    assert!(text.contains("hostile mixin panicked on purpose"), "{text}");
    assert_host_still_works(&f);
}

#[test]
fn a_stack_overflow_and_an_exit_are_crashes_not_host_failures() {
    let f = fixture();
    let err = attack(&f.hostile, json!({"attack": "stack"})).unwrap_err();
    assert!(err.to_string().contains("crashed: stack overflow"), "{err}");
    let err = attack(&f.hostile, json!({"attack": "exit"})).unwrap_err();
    // WASI 0.2's exit carries only success or failure, so 3 arrives as 1.
    assert!(
        matches!(err.kind, HookErrorKind::Exited { status: 1 }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("exited with status 1 instead of returning"),
        "{err}"
    );
    assert_host_still_works(&f);
}

#[test]
fn a_gigantic_output_is_refused_with_what_the_mixin_wrote_to_stderr() {
    let f = fixture();
    let err = attack(&f.hostile, json!({"attack": "huge-output"})).unwrap_err();
    let HookErrorKind::OutputTooLarge { bytes, limit } = err.kind else {
        panic!("{err}")
    };
    assert_eq!(limit, f.limits.output_bytes);
    assert_eq!(bytes, 200_000 * 99);
    assert_eq!(err.stderr, "hostile mixin returns too much on purpose\n");
    assert!(
        err.to_string()
            .ends_with("\nmixin stderr:\n  hostile mixin returns too much on purpose"),
        "{err}"
    );
    assert_host_still_works(&f);
}

/// The hoarder (tests/guests/hoarder.wat), installed beside the others.
fn install_hoarder(f: &Fixture, wasm: &[u8]) -> std::sync::Arc<PreparedMixin> {
    let request = InstallRequest {
        name: "hoarder",
        version: None,
        force: false,
        expected_digest: None,
    };
    let installed = f
        .host
        .install_bytes(&request, wasm, "file:///hoarder.wat")
        .unwrap()
        .mixin;
    f.host.load(&installed).unwrap()
}

#[test]
fn memory_spread_over_several_core_instances_is_capped_in_total() {
    let f = fixture();
    let hoarder = install_hoarder(&f, &wat_guest("hoarder"));
    // Two memories of 40 MiB: each under the cap, together over it.
    let err = attack(&hoarder, json!(null)).unwrap_err();
    assert!(
        matches!(err.kind, HookErrorKind::OutOfMemory { limit } if limit == 64 << 20),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "mixin hoarder 0.0.1 (build) tried to use more than 64 MiB of memory and was stopped"
    );
    // Every call starts from nothing: the hoarder's other hooks answer.
    let lint = LintRequest {
        config: json!(null),
        actions: vec![],
    };
    assert!(hoarder.lint(&lint).unwrap().is_empty());
    assert_host_still_works(&f);
}

#[test]
fn a_mixin_with_more_memories_than_any_mixin_needs_is_stopped() {
    let f = fixture();
    // Two more hogs: five memories, a few pages each.
    let five_memories = wat_guest_with("hoarder", |text| {
        let hog = "(core instance $hog2 (instantiate $Hog))";
        let more = "\n  (core instance (instantiate $Hog))".repeat(2);
        text.replace(hog, &format!("{hog}{more}"))
    });
    let hoarder = f
        .host
        .prepare_uninstalled(
            &five_memories,
            MixinLabel {
                name: "hoarder".into(),
                version: "0.0.1".into(),
            },
        )
        .unwrap();
    let err = hoarder.info().unwrap_err();
    assert!(matches!(err.kind, HookErrorKind::Crashed { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "mixin hoarder 0.0.1 (metadata.info) crashed: resource limit exceeded: memory count \
         too high at 5: a mixin may have at most 12 core instances, 4 memories and 8 tables"
    );
    assert_host_still_works(&f);
}

#[test]
fn reading_host_files_is_denied() {
    let f = fixture();
    for path in ["/etc/passwd", "/proc/self/environ", "./Cargo.toml"] {
        let err = attack(&f.hostile, json!({"attack": "read-file", "path": path})).unwrap_err();
        let HookErrorKind::Refused(Refusal::Failed(message)) = &err.kind else {
            panic!("{err}")
        };
        assert!(
            message.starts_with(&format!("cannot read {path}:")),
            "{message}"
        );
        assert!(!message.contains("root:"), "leaked: {message}");
    }
    let err = attack(&f.hostile, json!({"attack": "list-root"})).unwrap_err();
    assert!(err.to_string().contains("cannot list /"), "{err}");
    assert_host_still_works(&f);
}

#[test]
fn opening_a_socket_is_denied() {
    let f = fixture();
    // A real listener on loopback: had the mixin connected, it would show.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let err = attack(&f.hostile, json!({"attack": "socket", "addr": addr})).unwrap_err();
    let HookErrorKind::Refused(Refusal::Failed(message)) = &err.kind else {
        panic!("{err}")
    };
    assert!(
        message.starts_with(&format!("cannot connect to {addr}")),
        "{message}"
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the mixin reached the listener: {other:?}"),
    }
    assert_host_still_works(&f);
}

#[test]
fn the_environment_and_arguments_are_empty() {
    let f = fixture();
    // SAFETY: set before any hook runs; tests in this binary do not read it.
    unsafe { std::env::set_var("PORTER_TEST_SECRET", "hunter2") };
    assert_eq!(
        attack(&f.hostile, json!({"attack": "env"})).unwrap(),
        ["# env: [] args: []"]
    );
}

#[test]
fn log_floods_and_stderr_floods_are_bounded() {
    let f = fixture();
    assert_eq!(
        attack(&f.hostile, json!({"attack": "log-flood"})).unwrap(),
        ["# flooded the log"]
    );
    {
        let logs = f.logs.lock().unwrap();
        assert_eq!(
            logs.len(),
            f.limits.log_messages + 1,
            "shown messages plus one note"
        );
        assert!(
            logs[0].len() < 4200,
            "a message is cut to 4 KiB: {}",
            logs[0].len()
        );
        assert_eq!(
            logs.last().unwrap(),
            "[hostile 0.0.1] 99800 more log messages were not shown"
        );
    }
    let err = attack(&f.hostile, json!({"attack": "stderr-flood"})).unwrap_err();
    assert!(matches!(err.kind, HookErrorKind::Crashed { .. }), "{err}");
    assert!(
        err.stderr.len() <= f.limits.stderr_bytes,
        "kept {} bytes of stderr",
        err.stderr.len()
    );
    assert_host_still_works(&f);
}

#[test]
fn a_refusal_is_reported_as_the_mixins_own_error() {
    let f = fixture();
    let err = attack(&f.hostile, json!({"attack": "nonsense"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mixin hostile 0.0.1 (build): unsupported: unknown attack nonsense"
    );
}

#[test]
fn a_mixin_whose_wasm_changed_after_install_is_not_loaded() {
    let f = fixture();
    let installed = f.host.store().versions("exec").unwrap().remove(0);
    // Drop the compiled form, then tamper with the .wasm.
    std::fs::remove_dir_all(f._home.path().join("cache")).unwrap();
    let mut bytes = std::fs::read(installed.wasm_path()).unwrap();
    bytes.push(0);
    overwrite_read_only(&installed.wasm_path(), &bytes);
    // A new process (host): the fixture's host has exec loaded already.
    let host = MixinHost::new(&PorterHome::at(f._home.path())).unwrap();
    let err = host
        .load(&installed)
        .err()
        .expect("a tampered mixin must not load")
        .to_string();
    assert!(err.contains("has changed since it was installed"), "{err}");
}

#[test]
fn hooks_read_fixed_clocks_and_random_so_answers_repeat() {
    let f = fixture();
    let first = attack(&f.hostile, json!({"attack": "entropy"})).unwrap();
    // A fresh store each call, possibly on another thread: still the same.
    let hostile = f.hostile.clone();
    let second = std::thread::spawn(move || attack(&hostile, json!({"attack": "entropy"})))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(first, second);
    let start = porter::mixin::HOOK_WALL_CLOCK_START.as_nanos();
    let wall: u128 = first[0]
        .strip_prefix("# wall clock (ns since 1970): ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (start..start + 1_000_000).contains(&wall),
        "the wall clock starts at 1980-01-01: {first:?}"
    );
    let elapsed: u128 = first[1]
        .strip_prefix("# elapsed (ns): ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(elapsed > 0, "the monotonic clock moves: {first:?}");
}

fn hostile_request(config: serde_json::Value) -> BuildRequest {
    BuildRequest {
        config,
        actions: vec![],
        platform: "linux/amd64".into(),
    }
}

#[test]
fn the_host_remembers_answers_and_shows_their_logs_again() {
    let f = fixture();
    let installed = f.host.store().versions("hostile").unwrap().remove(0);
    let request = hostile_request(json!({"attack": "log-flood"}));
    let first = f.host.build_hook(&installed, &request).unwrap();
    let logs_first = std::mem::take(&mut *f.logs.lock().unwrap());

    // A new host (as a new process) that cannot load the mixin: its
    // compiled form is gone and its wasm no longer matches its digest.
    std::fs::remove_dir_all(f._home.path().join("cache/precompiled")).unwrap();
    overwrite_read_only(&installed.wasm_path(), b"not the mixin");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink: LogSink = {
        let logs = logs.clone();
        Arc::new(move |label, _level, message| {
            logs.lock().unwrap().push(format!("[{label}] {message}"))
        })
    };
    let host =
        MixinHost::with_options(&PorterHome::at(f._home.path()), f.limits.clone(), sink).unwrap();

    let again = host.build_hook(&installed, &request).unwrap();
    assert_eq!(again, first);
    assert_eq!(
        *logs.lock().unwrap(),
        logs_first,
        "the same messages, shown again"
    );

    // Another input is not remembered: the mixin has to run, and cannot.
    let err = host
        .build_hook(&installed, &hostile_request(json!({"attack": "none"})))
        .unwrap_err()
        .to_string();
    assert!(err.contains("has changed since it was installed"), "{err}");
}

#[test]
fn failures_are_not_remembered() {
    let f = fixture();
    let installed = f.host.store().versions("hostile").unwrap().remove(0);
    let answers = f._home.path().join("cache/answers");
    for attack in ["panic", "nonsense", "exit"] {
        let request = hostile_request(json!({ "attack": attack }));
        for _ in 0..2 {
            let err = f.host.build_hook(&installed, &request).unwrap_err();
            assert!(err.downcast_ref::<HookError>().is_some(), "{err:#}");
        }
    }
    let kept = walk(&answers);
    assert!(kept.is_empty(), "nothing kept for failures: {kept:?}");
    f.host
        .build_hook(&installed, &hostile_request(json!({})))
        .unwrap();
    assert_eq!(walk(&answers).len(), 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

#[test]
fn a_sleeping_mixin_does_not_hold_up_the_host() {
    let f = fixture();
    // An hour's sleep is virtual: it ends at once, and the hook's clock
    // says an hour went by. (Were it real, the epoch deadline could not
    // stop it: the mixin would be blocked in a host call, not running.)
    let hostile = f.hostile.clone();
    let (done, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(attack(&hostile, json!({"attack": "sleep"})));
    });
    let answer = answer
        .recv_timeout(Duration::from_secs(60))
        .expect("the mixin's sleep held up the host");
    assert_eq!(answer.unwrap(), ["# slept 3600 s"]);
}
