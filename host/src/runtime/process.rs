//! The host's side of the `commands` import while a bundle runs: real
//! processes in the invocation image, their output streamed (masked) and
//! captured (bounded), and files written under the bundle directory only.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::mixin::contract::{CommandOutput, CommandRefusal, CommandRequest};
use crate::mixin::sandbox::HostCommands;

use super::mask::Masker;

/// Bytes of stdout and of stderr kept per command (what outputs are read
/// from); the rest is still streamed when shown, not kept.
pub const CAPTURE_BYTES: usize = 32 << 20;

pub struct Processes {
    pub app_dir: PathBuf,
    pub masker: Arc<Masker>,
    pub timeout: Duration,
    /// `porter-debug`: each command's argv (masked) is shown before it runs.
    pub debug: bool,
}

impl HostCommands for Processes {
    fn run(&mut self, command: CommandRequest) -> Result<CommandOutput, CommandRefusal> {
        let dir = match command.dir.as_deref() {
            None | Some("") | Some(".") => self.app_dir.clone(),
            Some(dir) => self.app_dir.join(dir),
        };
        if self.debug {
            let argv: Vec<&str> = std::iter::once(command.program.as_str())
                .chain(command.args.iter().map(String::as_str))
                .collect();
            eprintln!("{}", self.masker.mask(&format!("+ {}", argv.join(" "))));
        }
        let mut process = std::process::Command::new(&command.program);
        process
            .args(&command.args)
            .envs(command.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&dir)
            .stdin(if command.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = process.spawn().map_err(|e| {
            CommandRefusal::Failed(format!(
                "could not start {} in {}: {e}",
                command.program,
                dir.display()
            ))
        })?;
        let stdin = command
            .stdin
            .and_then(|bytes| child.stdin.take().map(|pipe| (bytes, pipe)))
            .map(|(bytes, mut pipe)| {
                std::thread::spawn(move || {
                    // A command that does not read its stdin closes it early.
                    let _ = pipe.write_all(&bytes);
                })
            });
        let out = relay(
            child.stdout.take().expect("piped"),
            command.show_output,
            self.masker.clone(),
            false,
        );
        let err = relay(
            child.stderr.take().expect("piped"),
            command.show_output,
            self.masker.clone(),
            true,
        );
        let status = wait(&mut child, self.timeout);
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if let Some(stdin) = stdin {
            let _ = stdin.join();
        }
        match status {
            Some(status) => Ok(CommandOutput {
                exit_code: status.code(),
                stdout,
                stderr,
            }),
            None => Err(CommandRefusal::TimedOut(format!(
                "{} ran longer than {}s and was stopped",
                command.program,
                self.timeout.as_secs()
            ))),
        }
    }

    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), CommandRefusal> {
        let target = inside(&self.app_dir, path).ok_or_else(|| {
            CommandRefusal::NotAllowed(format!(
                "{path}: a mixin may write files only under the bundle directory \
                 (a relative path that does not leave it)"
            ))
        })?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CommandRefusal::Failed(format!("{}: {e}", parent.display())))?;
            // A symlink on the way (a directory in the image linking out)
            // must not carry the write outside the bundle directory.
            let (Ok(real_parent), Ok(real_root)) =
                (parent.canonicalize(), self.app_dir.canonicalize())
            else {
                return Err(CommandRefusal::Failed(format!("{path}: cannot resolve it")));
            };
            let linked_file =
                std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink());
            if !real_parent.starts_with(&real_root) || linked_file {
                return Err(CommandRefusal::NotAllowed(format!(
                    "{path}: a symlink leads out of the bundle directory; \
                     a mixin may write files only under it"
                )));
            }
        }
        std::fs::write(&target, contents)
            .map_err(|e| CommandRefusal::Failed(format!("{}: {e}", target.display())))
    }
}

/// `path` under `root`, when it is relative and never leaves it.
pub fn inside(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path);
    let mut depth = 0usize;
    for part in relative.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1)?,
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (depth > 0).then(|| root.join(relative))
}

/// Waits for the child, killing it past `timeout`; `None` when killed.
fn wait(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(_) => return child.wait().ok(),
        }
    }
}

/// Reads a stream to its end on a thread: keeps up to [`CAPTURE_BYTES`]
/// and, when `show`, writes each line masked to porter's stdout/stderr.
fn relay(
    stream: impl Read + Send + 'static,
    show: bool,
    masker: Arc<Masker>,
    to_stderr: bool,
) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut kept = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if kept.len() < CAPTURE_BYTES {
                let room = CAPTURE_BYTES - kept.len();
                kept.extend_from_slice(&line[..line.len().min(room)]);
            }
            if show {
                let masked = masker.mask_bytes(&line);
                if to_stderr {
                    let _ = std::io::stderr().write_all(&masked);
                } else {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&masked);
                    let _ = out.flush();
                }
            }
        }
        kept
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_only_under_the_bundle_directory() {
        let root = Path::new("/cnab/app");
        assert_eq!(
            inside(root, "terraform/vars.json"),
            Some(PathBuf::from("/cnab/app/terraform/vars.json"))
        );
        assert_eq!(
            inside(root, "./a/../b"),
            Some(PathBuf::from("/cnab/app/./a/../b"))
        );
        assert_eq!(inside(root, "../etc/passwd"), None);
        assert_eq!(inside(root, "a/../../x"), None);
        assert_eq!(inside(root, "/etc/passwd"), None);
        assert_eq!(inside(root, "."), None);
    }

    #[test]
    fn a_write_through_a_symlink_out_of_the_bundle_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let app = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), app.path().join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("f"), app.path().join("f")).unwrap();
        let mut p = Processes {
            app_dir: app.path().to_path_buf(),
            masker: Arc::new(Masker::default()),
            timeout: Duration::from_secs(5),
            debug: false,
        };
        for path in ["out/vars.json", "f"] {
            let refused = p.write_file(path, b"x");
            assert!(
                matches!(refused, Err(CommandRefusal::NotAllowed(_))),
                "{path}: {refused:?}"
            );
        }
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
        p.write_file("tf/vars.json", b"{}").unwrap();
        assert_eq!(
            std::fs::read(app.path().join("tf/vars.json")).unwrap(),
            b"{}"
        );
    }

    #[test]
    fn runs_a_command_captures_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Processes {
            app_dir: dir.path().to_path_buf(),
            masker: Arc::new(Masker::default()),
            timeout: Duration::from_millis(300),
            debug: false,
        };
        let out = p
            .run(CommandRequest {
                program: "sh".into(),
                args: vec!["-c".into(), "cat; echo err >&2; exit 3".into()],
                env: vec![],
                dir: None,
                show_output: false,
                stdin: Some(b"in".to_vec()),
            })
            .unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, b"in");
        assert_eq!(out.stderr, b"err\n");
        let slow = p.run(CommandRequest {
            program: "sleep".into(),
            args: vec!["5".into()],
            env: vec![],
            dir: None,
            show_output: false,
            stdin: None,
        });
        assert!(matches!(slow, Err(CommandRefusal::TimedOut(_))), "{slow:?}");
        let missing = p.run(CommandRequest {
            program: "no-such-program-here".into(),
            args: vec![],
            env: vec![],
            dir: None,
            show_output: false,
            stdin: None,
        });
        assert!(
            matches!(missing, Err(CommandRefusal::Failed(_))),
            "{missing:?}"
        );
    }
}
